"""Learning-rate schedules against Keras' formulas, epoch by epoch, and per member.

The references are ``keras.optimizers.schedules``' documented formulas written out here
in NumPy, with Keras' step = epochs already trained (our epoch 1 is Keras' step 0), and
the warmup of Keras' ``CosineDecay`` with ``initial_learning_rate = 0``.
"""

import math

import numpy as np
import pytest

from reglab import CosineDecay, ExponentialDecay, StepDecay, fit, mlp
from reglab.errors import ReglabError, ReglabTypeError
from reglab.train import ReduceLROnPlateau


class RateOnly:
    """A stand-in view: just a member's learning rate, to drive a schedule without training."""

    member, members = 0, 1

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate


def replay(schedule, epochs, peak):
    """The rates a schedule sets, driven as the engine drives it."""
    schedule.view = RateOnly(peak)
    schedule.on_train_begin()
    rates = []
    for epoch in range(1, epochs + 1):
        schedule.on_epoch_begin(epoch)
        rates.append(schedule.view.learning_rate)
    return rates


def keras_cosine(step, peak, decay_steps, alpha=0.0, warmup_steps=0):
    # keras.optimizers.schedules.CosineDecay(0.0, decay_steps, alpha,
    #     warmup_target=peak, warmup_steps=warmup_steps), as its docstring writes it.
    if step < warmup_steps:
        return (peak - 0.0) * step / warmup_steps + 0.0
    step = min(step - warmup_steps, decay_steps)
    return peak * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * step / decay_steps)) + alpha)


def test_exponential_decay_is_keras_formula():
    # Keras: initial * decay_rate ** (step / decay_steps).
    rates = replay(ExponentialDecay(decay_epochs=3, decay_rate=0.5), 7, peak=0.2)
    expected = [0.2 * 0.5 ** (step / 3) for step in range(7)]
    assert rates == pytest.approx(expected, rel=1e-12)


def test_exponential_decay_with_staircase_floors_the_exponent():
    rates = replay(ExponentialDecay(decay_epochs=3, decay_rate=0.5, staircase=True), 7, peak=0.2)
    assert rates == pytest.approx([0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.05], rel=1e-12)


def test_step_decay_drops_by_the_rate_every_decay_epochs():
    rates = replay(StepDecay(decay_epochs=2, decay_rate=0.1), 6, peak=1.0)
    assert rates == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01, 0.01], rel=1e-12)


def test_cosine_decay_is_keras_formula_and_holds_alpha_after_decay_epochs():
    rates = replay(CosineDecay(decay_epochs=5, alpha=0.2), 8, peak=0.1)
    expected = [keras_cosine(step, 0.1, 5, alpha=0.2) for step in range(8)]
    assert rates == pytest.approx(expected, rel=1e-12)
    assert rates[5:] == pytest.approx([0.02] * 3)  # alpha * peak from epoch 6 on
    assert rates[2] == pytest.approx(0.1 * (0.8 * 0.5 * (1 + math.cos(math.pi * 0.4)) + 0.2))


def test_cosine_warmup_is_keras_warmup_from_zero():
    rates = replay(CosineDecay(decay_epochs=4, warmup_epochs=3), 9, peak=0.3)
    expected = [keras_cosine(step, 0.3, 4, warmup_steps=3) for step in range(9)]
    assert rates == pytest.approx(expected, rel=1e-12)
    assert rates[:4] == pytest.approx([0.0, 0.1, 0.2, 0.3])


@pytest.mark.parametrize(
    "schedule, expected",
    [
        (StepDecay(decay_epochs=1, decay_rate=0.5, warmup_epochs=2), [0.0, 0.5, 1.0, 0.5, 0.25]),
        (ExponentialDecay(decay_epochs=1, decay_rate=0.5, warmup_epochs=1),
         [0.0, 1.0, 0.5, 0.25, 0.125]),
    ],
)  # fmt: skip
def test_warmup_then_the_decay_counts_from_the_end_of_the_warmup(schedule, expected):
    assert replay(schedule, 5, peak=1.0) == pytest.approx(expected)


def test_the_peak_is_the_members_rate_when_training_begins():
    schedule = StepDecay(decay_epochs=1, decay_rate=0.5)
    assert replay(schedule, 2, peak=0.4) == pytest.approx([0.4, 0.2])
    assert replay(schedule, 2, peak=0.1) == pytest.approx([0.1, 0.05])  # reused: new peak


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, 0] - x[:, 2] > 0).astype(int)
    return x, y


def test_members_with_different_schedules_each_equal_their_single_fit():
    x, y = data()
    val = data(32, seed=1)
    seeds, rates = [0, 1, 2, 3], [0.01, 0.02, 0.01, 0.03]

    def controls():  # fresh objects per fit
        return (
            [StepDecay(2, 0.5), CosineDecay(4, alpha=0.1, warmup_epochs=2), None, None],
            [None, None, ReduceLROnPlateau(monitor="loss", patience=1, min_delta=1.0), None],
        )

    schedules, plateaus = controls()
    together = fit(mlp([8], members=4), x, y, epochs=6, batch_size=16, seed=seeds,
                   learning_rate=rates, validation_data=val, lr_schedule=schedules,
                   reduce_lr_on_plateau=plateaus)  # fmt: skip
    schedules, plateaus = controls()
    for m in range(4):
        alone = fit(mlp([8]), x, y, epochs=6, batch_size=16, seed=seeds[m],
                    learning_rate=rates[m], validation_data=val, lr_schedule=schedules[m],
                    reduce_lr_on_plateau=plateaus[m])  # fmt: skip
        assert together[m].history["lr"] == alone.history["lr"]
        for column in ("loss", "val_loss", "accuracy"):
            assert together[m].history[column] == pytest.approx(alone.history[column], abs=1e-5), (
                m,
                column,
            )
    assert together[0].history["lr"] == pytest.approx([0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025])
    assert together[1].history["lr"][:3] == pytest.approx([0.0, 0.01, 0.02])
    # Never improving by min_delta = 1: reduced after every epoch from the second on.
    assert together[2].history["lr"][:4] == pytest.approx([0.01, 0.01, 0.001, 0.0001])
    assert together[3].history["lr"] == [0.03] * 6


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: StepDecay(0, 0.5), ReglabError,
         r"`decay_epochs` of StepDecay: expected an int >= 1\. Received: decay_epochs=0\."),
        (lambda: StepDecay(2.0, 0.5), ReglabTypeError, r"`decay_epochs` of StepDecay"),
        (lambda: ExponentialDecay(2, 0.0), ReglabError,
         r"`decay_rate` of ExponentialDecay: expected a float in \(0, inf\)\. "
         r"Received: decay_rate=0\.0\."),
        (lambda: ExponentialDecay(2, 1.0), ReglabError,
         r"a rate of 1 leaves the learning rate unchanged"),
        (lambda: ExponentialDecay(2, 0.5, staircase="yes"), ReglabTypeError,
         r"`staircase` of ExponentialDecay: expected True or False"),
        (lambda: CosineDecay(5, alpha=1.0), ReglabError,
         r"`alpha` of CosineDecay: expected a float in \[0, 1\)\. Received: alpha=1\.0\."),
        (lambda: CosineDecay(5, warmup_epochs=-1), ReglabError,
         r"`warmup_epochs` of CosineDecay: expected an int >= 0"),
    ],
)  # fmt: skip
def test_bad_schedule_arguments_are_one_clear_line(make, error, message):
    with pytest.raises(error, match=message):
        make()
