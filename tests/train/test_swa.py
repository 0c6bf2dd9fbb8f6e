"""SWA: torch.optim.swa_utils' equal average, its constant rate and update_bn."""

import copy

import numpy as np
import pytest
import torch
from torch.optim.swa_utils import update_bn

from reglab import (
    SWA,
    BatchNorm,
    Callback,
    Dense,
    EarlyStopping,
    ReglabError,
    Sequential,
    fit,
    member,
    mlp,
)

RECORDED: dict[int, list[np.ndarray]] = {}


class _Recorder(Callback):
    """Keeps the member's weights at the end of every epoch."""

    def bind(self, model, member):
        self.model, self.member = model, member

    def on_epoch_end(self, epoch, logs):
        RECORDED.setdefault(self.member, []).append(
            self.model.bank[self.member].double().numpy().copy()
        )


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    return x, x[:, :3].argmax(1)


def test_average_is_the_mean_of_the_epoch_end_weights_from_start_epoch():
    RECORDED.clear()
    x, y = _data()
    model = mlp([6], members=2)
    fit(model, x, y, epochs=6, batch_size=8, seed=[0, 1], swa=[SWA(start_epoch=3), None],
        callbacks=[_Recorder()])  # fmt: skip
    expected = np.mean(RECORDED[0][2:], axis=0)  # epochs 3, 4, 5, 6
    np.testing.assert_allclose(model.bank[0].double().numpy(), expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(model.bank[1].double().numpy(), RECORDED[1][-1])


def test_constant_swa_rate_from_start_epoch():
    """SGD at 0.1 for two epochs, then SWA's 0.02: the same weights as two fits in turn."""
    RECORDED.clear()
    x, y = _data()
    settings = dict(batch_size=8, optimizer="sgd", shuffle=False, seed=4)
    averaged = mlp([6])
    fit(averaged, x, y, epochs=4, learning_rate=0.1, swa=SWA(3, lr=0.02), **settings)
    reference = mlp([6])
    fit(reference, x, y, epochs=2, learning_rate=0.1, **settings)
    fit(reference, x, y, epochs=2, learning_rate=0.02, callbacks=[_Recorder()], **settings)
    expected = np.mean(RECORDED[0], axis=0)
    np.testing.assert_allclose(averaged.bank[0].double().numpy(), expected, rtol=1e-5,
                               atol=1e-7)  # fmt: skip


def _torch_twin(model, m):
    """Member m of Dense(8) -> BatchNorm -> Dense(None) as torch layers with its weights."""
    kernel, bias, gamma, beta, out_kernel, _ = model.get_weights(member=m)
    first = torch.nn.Linear(*kernel.shape)
    first.weight.data = torch.tensor(kernel.T.copy())
    first.bias.data = torch.tensor(bias.reshape(-1))
    norm = torch.nn.BatchNorm1d(kernel.shape[1])
    norm.weight.data = torch.tensor(gamma.reshape(-1))
    norm.bias.data = torch.tensor(beta.reshape(-1))
    last = torch.nn.Linear(*out_kernel.shape)
    return torch.nn.Sequential(first, norm, last)


def test_batch_norm_statistics_are_recomputed_as_update_bn_does():
    x, y = _data(n=45)
    rows = [np.arange(45), np.arange(30)]  # unequal rows: padded steps, a short last batch
    model = Sequential([Dense(8), BatchNorm(), Dense(None)], members=2)
    fit(model, x, y, epochs=4, batch_size=16, seed=[0, 1], train_index=rows,
        swa=[SWA(2), SWA(3, lr=0.01)])  # fmt: skip
    buffers = model.member_buffers()
    for m in range(2):
        twin = _torch_twin(model, m)
        loader = torch.utils.data.DataLoader(torch.tensor(x[rows[m]]), batch_size=16)
        update_bn(loader, twin)
        norm = twin[1]
        np.testing.assert_allclose(
            buffers["batch_norm_0/running_mean"][m].flatten().numpy(),
            norm.running_mean.numpy(),
            rtol=1e-5,
            atol=1e-6,
        )
        np.testing.assert_allclose(buffers["batch_norm_0/running_var"][m].flatten().numpy(),
                                   norm.running_var.numpy(), rtol=1e-5, atol=1e-6)  # fmt: skip


def test_user_module_batch_norm_statistics_are_recomputed_as_update_bn_does():
    x, y = _data()
    net = torch.nn.Sequential(
        torch.nn.Linear(5, 6), torch.nn.BatchNorm1d(6), torch.nn.ReLU(), torch.nn.Linear(6, 3)
    )
    fit(net, x, y, epochs=3, batch_size=16, seed=[0, 1], swa=[SWA(2), None])
    averaged = member(net, 0)
    reference = copy.deepcopy(averaged)
    reference[1].momentum = 0.5  # update_bn must ignore and restore it
    update_bn(torch.utils.data.DataLoader(torch.tensor(x), batch_size=16), reference)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(
            getattr(averaged[1], name).numpy(),
            getattr(reference[1], name).numpy(),
            rtol=1e-5,
            atol=1e-6,
        )
    assert averaged[1].momentum == 0.1 and int(averaged[1].num_batches_tracked) == 3


def test_population_members_with_different_swa_equal_their_single_fits():
    x, y = _data(n=70)
    swas = [None, SWA(2), SWA(3, lr=0.003)]
    settings = dict(epochs=4, batch_size=16, validation_data=(x, y))
    layers = [Dense(8, "relu"), BatchNorm(), Dense(None)]
    population = fit(Sequential(layers, members=3), x, y, seed=[0, 1, 2], swa=swas, **settings)
    for m, swa in enumerate(swas):
        single = fit(Sequential(layers), x, y, seed=m, swa=swa, **settings)
        for ours, theirs in zip(population[m].rows, single.rows):
            assert ours["val_loss"] == pytest.approx(theirs["val_loss"], rel=1e-5)
        assert population[m].final == pytest.approx(single.final, rel=1e-5)


def test_swa_errors():
    x, y = _data()
    with pytest.raises(ReglabError, match=r"start_epoch=5 is after the last epoch \(3\)"):
        fit(mlp([4]), x, y, epochs=3, swa=SWA(5))
    with pytest.raises(ReglabError, match=r"`swa` of fit: expected reglab\.SWA"):
        fit(mlp([4]), x, y, swa={"start_epoch": 1})
    with pytest.raises(ReglabError, match="a member ends with one average; member 0"):
        fit(mlp([4]), x, y, swa=SWA(1), ema=0.9)
    with pytest.raises(ReglabError, match=r"restore_best .* would do nothing; member 0"):
        fit(mlp([4]), x, y, swa=SWA(1), validation_data=(x, y),
            early_stopping=EarlyStopping(restore_best=True))  # fmt: skip
    with pytest.raises(ReglabError, match=r"`lr` of SWA: expected a float in \(0, inf\)"):
        SWA(2, lr=0.0)
