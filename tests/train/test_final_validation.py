"""The final validation scores: the last epoch's when nothing changed the weights since,
measured again when something did (a restore, a callback writing through its view)."""

import numpy as np
import pytest

import reglab
import reglab.train.engine as engine
from reglab.train.callback import Callback


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 6)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    xv = rng.normal(size=(96, 6)).astype(np.float32)
    yv = (xv[:, 0] + 0.5 * xv[:, 1] > 0).astype(np.int64)
    return x, y, xv, yv


@pytest.fixture
def validations(monkeypatch):
    """How many times the engine evaluates the validation rows."""
    calls = []
    original = engine._validate

    def counting(setup):
        calls.append(1)
        return original(setup)

    monkeypatch.setattr(engine, "_validate", counting)
    return calls


def test_unchanged_weights_reuse_the_last_epochs_validation(data, validations):
    x, y, xv, yv = data
    model = reglab.mlp([8])
    history = reglab.fit(model, x, y, epochs=3, batch_size=32, seed=1, validation_data=(xv, yv))
    assert len(validations) == 3  # once per epoch, not a fourth time at the end
    assert history.final["val_loss"] == history.rows[-1]["val_loss"]
    assert history.final["val_accuracy"] == history.rows[-1]["val_accuracy"]
    # The reused numbers are what evaluating the trained weights gives.
    fresh = reglab.evaluate(model, xv, yv)
    assert history.final["val_loss"] == pytest.approx(fresh["loss"], rel=1e-6)
    assert history.final["val_accuracy"] == fresh["accuracy"]


class RestoreFirstEpoch(Callback):
    """Puts the first epoch's weights back at the end, through its view."""

    def on_epoch_end(self, epoch, logs):
        if epoch == 1:
            self.first = self.view.snapshot()

    def on_train_end(self):
        self.view.restore(self.first)


def test_weights_changed_after_the_last_validation_are_measured_again(data, validations):
    x, y, xv, yv = data
    model = reglab.mlp([8])
    history = reglab.fit(model, x, y, epochs=3, batch_size=32, seed=1,
                         validation_data=(xv, yv), callbacks=[RestoreFirstEpoch()])  # fmt: skip
    assert len(validations) == 4
    # The first epoch's weights give the first epoch's validation numbers.
    assert history.final["val_loss"] == pytest.approx(history.rows[0]["val_loss"], rel=1e-6)
    assert history.final["val_loss"] == pytest.approx(reglab.evaluate(model, xv, yv)["loss"])
    assert history.final["val_loss"] != history.rows[-1]["val_loss"]
