"""ReduceLROnPlateau driven by scripted monitor sequences: Keras 3's rules and test cases.

Keras' own tests (keras/src/callbacks/reduce_lr_on_plateau_test.py) train with
``min_delta`` larger than any change, so that only the first epoch is an improvement;
the same sequences are scripted here, with Keras' expected final rates. Rates are set
at an epoch's end and used from the next epoch on.
"""

import numpy as np
import pytest

from reglab import ReduceLROnPlateau, fit, mlp
from reglab.errors import ReglabError, ReglabTypeError
from reglab.train.early_stopping import EarlyStopping
from reglab.train.monitor import MonitorCallback


class RateOnly:
    member, members = 0, 1

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate


def replay(plateau, values, lr=0.1, monitor="val_loss"):
    """Drive ``plateau`` as the engine does; return the rate after each epoch."""
    plateau.view = RateOnly(lr)
    plateau.on_train_begin()
    rates = []
    for epoch, value in enumerate(values, start=1):
        plateau.on_epoch_end(epoch, {"loss": 0.0, monitor: value})
        rates.append(plateau.view.learning_rate)
    return rates


def test_keras_reduces_lr_case():
    # Keras' test_reduces_lr_with_model_fit: patience 1, factor 0.1, min_delta 100,
    # Adam(0.1), 2 epochs -> 0.01.
    plateau = ReduceLROnPlateau(patience=1, factor=0.1, min_delta=100)
    assert replay(plateau, [0.5, 0.4]) == pytest.approx([0.1, 0.01])


def test_keras_min_lr_case():
    # Keras' test_honors_min_lr: min_delta 10, min_lr 0.005, 4 epochs -> 0.005.
    plateau = ReduceLROnPlateau(patience=1, factor=0.1, min_delta=10, min_lr=0.005)
    rates = replay(plateau, [0.5, 0.4, 0.3, 0.2])
    assert rates == pytest.approx([0.1, 0.01, 0.005, 0.005])
    assert plateau.reductions_ == [2, 3]  # at min_lr, no reduction (and no cooldown reset)


def test_keras_cooldown_case():
    # Keras' test_cooldown: cooldown 2 -> reduced every other epoch, 0.001 after 4 epochs.
    plateau = ReduceLROnPlateau(patience=1, factor=0.1, min_delta=100, cooldown=2)
    rates = replay(plateau, [0.5, 0.4, 0.3, 0.2])
    assert rates == pytest.approx([0.1, 0.01, 0.01, 0.001])
    assert plateau.reductions_ == [2, 4]


def test_patience_counts_epochs_since_the_best():
    # Best 8 at epoch 3; epochs 4, 5, 6 do not beat it by 1e-4: wait 1, 2, 3 -> reduce at 6.
    plateau = ReduceLROnPlateau(patience=3)
    rates = replay(plateau, [10, 9, 8, 9, 8.9, 8.99995, 7, 7.5])
    assert plateau.reductions_ == [6]
    assert rates == pytest.approx([0.1] * 5 + [0.01] * 3)
    assert plateau.best_ == 7 and plateau.wait_ == 1


def test_an_improvement_during_cooldown_resets_the_best_and_wait():
    plateau = ReduceLROnPlateau(patience=1, cooldown=2)
    replay(plateau, [1.0, 1.0, 0.5, 0.6, 0.7, 0.8])
    # 2: reduce, cooldown 2. 3: cooldown 1, new best. 4: cooldown 0, wait 1 -> reduce.
    assert plateau.reductions_ == [2, 4, 6]


def test_max_mode_for_accuracy():
    plateau = ReduceLROnPlateau(monitor="val_accuracy", patience=1)
    assert plateau.direction == "max"
    replay(plateau, [0.5, 0.6, 0.55, 0.7], monitor="val_accuracy")
    assert plateau.reductions_ == [3] and plateau.best_ == 0.7


def test_nan_is_never_an_improvement():
    plateau = ReduceLROnPlateau(patience=1)
    replay(plateau, [1.0, float("nan")])
    assert plateau.reductions_ == [2]


def test_on_train_begin_forgets_the_previous_training():
    # Keras' test_state_reset_across_fit_calls.
    plateau = ReduceLROnPlateau(patience=1, cooldown=2)
    replay(plateau, [1.0, 2.0, 3.0])
    plateau.on_train_begin()
    assert (plateau.best_, plateau.wait_, plateau.cooldown_counter_, plateau.reductions_) == (
        float("inf"), 0, 0, []
    )  # fmt: skip


def test_it_shares_the_improvement_rule_with_early_stopping():
    assert isinstance(ReduceLROnPlateau(), MonitorCallback)
    assert isinstance(EarlyStopping(), MonitorCallback)
    plateau, stopping = ReduceLROnPlateau(min_delta=0.5), EarlyStopping(min_delta=0.5)
    for value, reference in [(0.4, 1.0), (0.5, 1.0), (0.6, 1.0)]:
        assert plateau.is_improvement(value, reference) == stopping.is_improvement(value, reference)


def test_through_fit_the_lr_column_shows_the_reduction():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    plateau = ReduceLROnPlateau(patience=1, factor=0.1, min_delta=100)
    history = fit(mlp([5]), x, y, epochs=3, learning_rate=0.1, validation_data=(x, y),
                  reduce_lr_on_plateau=plateau)  # fmt: skip
    assert history.history["lr"] == pytest.approx([0.1, 0.1, 0.01])
    assert plateau.reductions_ == [2, 3]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"factor": 1.0}, ReglabError,
         r"`factor` of ReduceLROnPlateau: expected a float in \(0, 1\)\. Received: factor=1\.0\."),
        ({"factor": 0}, ReglabError, r"`factor` of ReduceLROnPlateau"),
        ({"patience": -1}, ReglabError, r"`patience` of ReduceLROnPlateau: expected an int >= 0"),
        ({"cooldown": 1.5}, ReglabTypeError, r"`cooldown` of ReduceLROnPlateau"),
        ({"min_lr": -0.1}, ReglabError, r"`min_lr` of ReduceLROnPlateau: expected a float in "
                                        r"\[0, inf\)"),
        ({"min_delta": -1e-4}, ReglabError, r"`min_delta` of ReduceLROnPlateau"),
        ({"mode": "maxx"}, ReglabError, r"`mode` of ReduceLROnPlateau.*did you mean 'max'"),
        ({"monitor": "epoch_time"}, ReglabError,
         r"`mode` of ReduceLROnPlateau: mode='auto' cannot tell whether monitor='epoch_time'"),
        ({"monitor": ""}, ReglabTypeError, r"`monitor` of ReduceLROnPlateau"),
    ],
)  # fmt: skip
def test_bad_arguments_are_one_clear_line(kwargs, error, message):
    with pytest.raises(error, match=message):
        ReduceLROnPlateau(**kwargs)


def test_a_missing_monitor_lists_the_columns():
    plateau = ReduceLROnPlateau(monitor="val_los", mode="min")
    with pytest.raises(ReglabError, match=r"ReduceLROnPlateau monitors 'val_los', which the "
                                          r"History does not have; it has: 'loss', 'val_loss'; "
                                          r"did you mean 'val_loss'\?"):  # fmt: skip
        plateau.on_epoch_end(1, {"loss": 1.0, "val_loss": 1.0})
