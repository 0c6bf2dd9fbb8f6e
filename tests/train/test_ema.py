"""EMA of the weights: Keras' use_ema, against a running mean computed by hand."""

import numpy as np
import pytest
import torch

from reglab import Callback, EarlyStopping, ReglabError, evaluate, fit, mlp

# The weights each member had at the end of each epoch, by member (see _Recorder).
RECORDED: dict[int, list[np.ndarray]] = {}


class _Recorder(Callback):
    """Keeps the member's weights after every epoch (one step per epoch in these tests)."""

    def bind(self, model, member):
        self.model, self.member = model, member

    def on_epoch_end(self, epoch, logs):
        RECORDED.setdefault(self.member, []).append(
            self.model.bank[self.member].double().numpy().copy()
        )


def _data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    return x, x[:, :3].argmax(1)


def _fit(momenta, epochs=6, **kwargs):
    RECORDED.clear()
    x, y = _data()
    k = len(momenta)
    model = mlp([6], members=k)
    histories = fit(model, x, y, epochs=epochs, batch_size=len(x), seed=list(range(k)),
                    ema=momenta, callbacks=[_Recorder()], validation_data=(x, y),
                    learning_rate=0.05, **kwargs)  # fmt: skip
    return model, histories, x, y


def _keras_ema(weights, momentum):
    """Keras: the first step copies (momentum 0 at iteration 0), then m * avg + (1 - m) * w."""
    average = weights[0]
    for w in weights[1:]:
        average = momentum * average + (1 - momentum) * w
    return average


def test_final_weights_are_the_running_mean_of_the_weights_after_each_step():
    model, _, _, _ = _fit([0.8, None])
    expected = _keras_ema(RECORDED[0], 0.8)
    np.testing.assert_allclose(model.bank[0].double().numpy(), expected, rtol=1e-5, atol=1e-7)
    # The member without EMA keeps its trained weights.
    np.testing.assert_array_equal(model.bank[1].double().numpy(), RECORDED[1][-1])


def test_epochs_report_the_trained_weights_and_final_the_averaged_ones():
    model, histories, x, y = _fit([0.8])
    # final is measured after the average replaced the weights (Keras' finalize) ...
    assert histories.final["val_loss"] == pytest.approx(evaluate(model, x, y)["loss"], rel=1e-6)
    # ... and the last epoch's val_loss with the trained weights of that epoch.
    with torch.no_grad():
        model.bank[0].copy_(torch.as_tensor(RECORDED[0][-1]))
    assert histories.rows[-1]["val_loss"] == pytest.approx(evaluate(model, x, y)["loss"], rel=1e-6)
    assert histories.final["val_loss"] != pytest.approx(histories.rows[-1]["val_loss"], rel=1e-4)


def test_population_members_with_different_momenta_equal_their_single_fits():
    x, y = _data(n=70)
    momenta = [None, 0.9, 0.5]
    settings = dict(epochs=3, batch_size=16, validation_data=(x, y))
    population = fit(mlp([8], members=3), x, y, seed=[0, 1, 2], ema=momenta, **settings)
    for m, momentum in enumerate(momenta):
        single = fit(mlp([8]), x, y, seed=m, ema=momentum, **settings)
        for ours, theirs in zip(population[m].rows, single.rows):
            assert ours["val_loss"] == pytest.approx(theirs["val_loss"], rel=1e-5)
        assert population[m].final == pytest.approx(single.final, rel=1e-5)


def test_a_stopped_member_stops_averaging():
    stop = EarlyStopping(monitor="loss", patience=0, min_delta=10.0)  # stops after epoch 2
    model, _, _, _ = _fit([0.7, 0.7], early_stopping=[stop, None])
    assert len(RECORDED[0]) == 2 and len(RECORDED[1]) == 6
    for m in (0, 1):
        np.testing.assert_allclose(
            model.bank[m].double().numpy(), _keras_ema(RECORDED[m], 0.7), rtol=1e-5, atol=1e-7
        )


def test_user_modules_average_their_weights():
    RECORDED.clear()
    x, y = _data()
    net = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3))
    fit(net, x, y, epochs=4, batch_size=len(x), ema=0.6, callbacks=[_Recorder()])
    expected = _keras_ema(RECORDED[0], 0.6)
    flat = torch.cat([p.detach().flatten() for p in net.parameters()]).double().numpy()
    np.testing.assert_allclose(flat, expected[: flat.size], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("momentum", [0.0, 1.0, 1.5])
def test_momentum_outside_the_open_unit_interval_is_refused(momentum):
    x, y = _data()
    with pytest.raises(ReglabError, match=r"`ema` of fit: expected a float in \(0, 1\)"):
        fit(mlp([4]), x, y, ema=momentum)


def test_ema_with_restore_best_is_refused():
    x, y = _data()
    stop = EarlyStopping(patience=2, restore_best=True)
    with pytest.raises(ReglabError, match=r"restore_best .* would do nothing; member 0"):
        fit(mlp([4]), x, y, ema=0.9, early_stopping=stop, validation_data=(x, y))
