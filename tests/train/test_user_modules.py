"""Your own torch.nn.Module as K members: independent, reproducible, equal to single fits,
buffers per member, and the trained weights back in the module."""

import numpy as np
import pytest
import torch

import reglab
from reglab import EarlyStopping, ModelCheckpoint, evaluate, fit, member, predict
from reglab.errors import ReglabError


def images(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, 8, 8), dtype=np.float32)
    y = (x[:, 0, :4].mean((1, 2)) > x[:, 0, 4:].mean((1, 2))).astype(int) + 2 * (
        x[:, 0, :, :4].mean((1, 2)) > 0.5
    )
    return x, y


class SmallCNN(torch.nn.Module):
    """The tutorials' PyTorch example: Conv2d + BatchNorm2d + Dropout."""

    def __init__(self, dropout=None):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3)
        self.bn = torch.nn.BatchNorm2d(4)
        self.drop = dropout if dropout is not None else torch.nn.Dropout(0.3)
        self.out = torch.nn.Linear(4 * 6 * 6, 4)

    def forward(self, x):
        h = torch.relu(self.bn(self.conv(x)))
        return self.out(self.drop(h.flatten(1)))


def test_after_fit_the_users_module_holds_the_trained_weights():
    x, y = images()
    net = SmallCNN()
    before = net.out.weight.detach().clone()
    fit(net, x, y, epochs=10, learning_rate=0.01)
    assert not torch.equal(before, net.out.weight)
    net.eval()
    with torch.no_grad():
        accuracy = (net(torch.as_tensor(x)).argmax(1).numpy() == y).mean()
    assert accuracy == pytest.approx(evaluate(net, x, y)["accuracy"])
    assert accuracy > 0.5  # trained, not the 25% of random weights


def test_the_same_seeds_give_identical_numbers_with_torch_dropout():
    x, y = images()
    first = fit(SmallCNN(), x, y, epochs=2, seed=5)
    second = fit(SmallCNN(), x, y, epochs=2, seed=5)
    assert first.history["loss"] == second.history["loss"]
    other = fit(SmallCNN(), x, y, epochs=2, seed=6)
    assert other.history["loss"] != first.history["loss"]


def test_three_members_equal_their_single_fits():
    x, y = images()
    net = SmallCNN()
    population = fit(net, x, y, epochs=2, seed=[0, 1, 2], batch_size=20,
                     validation_data=(x[:32], y[:32]))  # fmt: skip
    assert len(population) == 3
    for k, seed in enumerate([0, 1, 2]):
        alone = SmallCNN()
        single = fit(alone, x, y, epochs=2, seed=seed, batch_size=20,
                     validation_data=(x[:32], y[:32]))  # fmt: skip
        np.testing.assert_allclose(population[k].history["loss"], single.history["loss"],
                                   rtol=1e-5)  # fmt: skip
        state = member(net, k).state_dict()
        for name, value in alone.state_dict().items():  # BN running statistics included
            torch.testing.assert_close(state[name], value, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(predict(net, x[:5])[1], predict(member(net, 1), x[:5]), rtol=1e-5)


def test_members_start_from_independent_initialisations():
    x, y = images()
    net = SmallCNN()
    fit(net, x, y, epochs=1, seed=[0, 1], optimizer="sgd", learning_rate=1e-12)
    assert not torch.equal(member(net, 0).conv.weight, member(net, 1).conv.weight)


def test_reglab_dropout_inside_a_module_takes_per_member_rates():
    x, y = images()
    net = SmallCNN(dropout=reglab.Dropout([0.0, 0.6]))
    population = fit(net, x, y, epochs=2, seed=[0, 1])
    plain = SmallCNN(dropout=torch.nn.Identity())
    single = fit(plain, x, y, epochs=2, seed=0)  # rate 0 is no dropout at all
    np.testing.assert_allclose(population[0].history["loss"], single.history["loss"], rtol=1e-5)
    assert population[1].history["loss"] != population[0].history["loss"]


def test_per_member_rates_must_match_the_seeds():
    x, y = images()
    with pytest.raises(ReglabError, match=r"Dropout inside the module: it has 2 values but the "
                                          r"population has 3 members"):  # fmt: skip
        fit(SmallCNN(dropout=reglab.Dropout([0.1, 0.2])), x, y, seed=[0, 1, 2])


def test_a_module_with_the_wrong_number_of_outputs_is_named():
    x, y = images()
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 7))
    with pytest.raises(ReglabError, match=r"returns outputs of shape \(7,\) per sample, but the "
                                          r"task \(multiclass\) needs 4 logits"):  # fmt: skip
        fit(net, x, y)


def test_restoring_the_best_weights_restores_the_batch_norm_statistics():
    x, y = images(seed=1)
    net = SmallCNN()
    stopping = EarlyStopping(monitor="val_loss", patience=50, restore_best=True)
    history = fit(net, x, y, epochs=6, validation_data=(x[:40], y[:40]), learning_rate=0.05,
                  early_stopping=stopping)  # fmt: skip
    assert history.best_epoch < 6, "this data was chosen so that the best epoch is not the last"
    population = reglab.nn.module.population_of(net)
    # The engine clones callbacks per member; read the population's restored buffers.
    best = {n: b[0] for n, b in population.member_buffers().items()}
    assert set(best) >= {"bn.running_mean", "bn.running_var", "bn.num_batches_tracked"}
    assert torch.equal(net.bn.running_mean, best["bn.running_mean"])
    assert int(best["bn.num_batches_tracked"]) < 6 * 3  # fewer steps than all six epochs


def test_the_checkpoint_carries_the_batch_norm_statistics(tmp_path):
    x, y = images()
    path = tmp_path / "best.pt"
    net = SmallCNN()
    fit(net, x, y, epochs=2, validation_data=(x, y), callbacks=[ModelCheckpoint(path)])
    state = torch.load(path, weights_only=True)
    assert {"conv.weight", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"} <= set(
        state
    )


def test_cross_validate_takes_a_module():
    x, y = images()
    cv = reglab.cross_validate(SmallCNN(), x, y, folds=3, epochs=1, standardize=False)
    assert len(cv.histories) == 3 and cv.model.members == 3
    assert 0.0 <= cv.score("val_accuracy").mean <= 1.0


def test_predict_of_a_module_never_trained_says_so():
    with pytest.raises(ReglabError, match=r"has not been trained yet; call reglab.fit"):
        predict(SmallCNN(), np.zeros((2, 1, 8, 8), np.float32))
