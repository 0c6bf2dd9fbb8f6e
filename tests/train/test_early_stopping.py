"""EarlyStopping driven by scripted monitor sequences; expected epochs worked out by hand.

Keras counts epochs from 0 and we from 1, so Keras' ``stopped_epoch == 2`` is our 3.
"""

import copy
import math

import pytest

from reglab.errors import ReglabError, ReglabTypeError
from reglab.train.callback import Callback
from reglab.train.early_stopping import EarlyStopping, infer_mode

NAN = float("nan")


def replay(es: EarlyStopping, values, monitor="val_loss"):
    """Drive ``es`` as the engine does; return the epochs run and those it snapshotted."""
    es.on_train_begin()
    snapshots = []
    epoch = 0
    for epoch, value in enumerate(values, start=1):
        es.on_epoch_end(epoch, {"loss": 0.0, monitor: value})
        if es.improved_:
            snapshots.append(epoch)
        if es.stop_training:
            break
    es.on_train_end()
    return epoch, snapshots


def test_keras_patience_case_stops_after_two_epochs_without_improvement():
    # Keras' test_EarlyStopping_patience: best at 1, then 2 worse epochs;
    # Keras' stopped_epoch 2 (0-based) is our 3.
    es = EarlyStopping(monitor="val_loss", patience=2)
    run, _ = replay(es, [0.0860, 0.1096, 0.1040, 0.1019])
    assert (run, es.stopped_epoch_, es.best_epoch_, es.best_) == (3, 3, 1, 0.0860)


@pytest.mark.parametrize("patience, stop", [(2, 5), (3, 6), (4, 0)])
def test_patience_counts_epochs_since_the_best(patience, stop):
    # Best 8 at epoch 3; epochs 4, 5, 6 (9, 8.9, 8.8) do not beat it: wait = 1, 2, 3.
    es = EarlyStopping(patience=patience)
    run, _ = replay(es, [10, 9, 8, 9, 8.9, 8.8])
    assert es.stopped_epoch_ == stop
    assert run == (stop or 6)
    assert es.best_epoch_ == 3


def test_patience_zero_stops_at_the_first_epoch_without_improvement():
    es = EarlyStopping(patience=0)
    replay(es, [3.0, 2.0, 2.0, 1.0])  # epoch 3 only equals the best: not an improvement
    assert es.stopped_epoch_ == 3


def test_the_first_epoch_never_stops_training():
    # Keras' `epoch > 0`: a first epoch that is not an improvement (NaN) does not stop.
    es = EarlyStopping(patience=0)
    run, _ = replay(es, [NAN, 1.0, 2.0])
    assert es.stopped_epoch_ == 3 and run == 3 and es.best_epoch_ == 2


def test_min_delta_ignores_smaller_improvements():
    # 0.95 beats 1.0 by 0.05 < 0.1: no improvement, wait 1 >= patience 1 -> stop at 2.
    es = EarlyStopping(patience=1, min_delta=0.1)
    replay(es, [1.0, 0.95, 0.85, 0.84])
    assert (es.stopped_epoch_, es.best_epoch_, es.best_) == (2, 1, 1.0)


def test_without_min_delta_small_improvements_count():
    es = EarlyStopping(patience=1)
    run, _ = replay(es, [1.0, 0.95, 0.85, 0.84])
    assert (run, es.stopped_epoch_, es.best_epoch_) == (4, 0, 4)


def test_an_improvement_of_exactly_min_delta_does_not_count():
    # Keras: monitor_op(current - min_delta, best) is strict.
    es = EarlyStopping(patience=1, min_delta=0.5)
    replay(es, [1.0, 0.5])
    assert es.stopped_epoch_ == 2


def test_min_delta_in_max_mode_requires_a_larger_value():
    # 0.55 - 0.1 = 0.45 is not above 0.5 -> stop at 2; 0.65 would have counted.
    es = EarlyStopping(monitor="val_accuracy", mode="max", patience=1, min_delta=0.1)
    replay(es, [0.5, 0.55, 0.65], monitor="val_accuracy")
    assert (es.stopped_epoch_, es.best_epoch_) == (2, 1)


def test_max_mode_keeps_training_while_the_metric_rises():
    es = EarlyStopping(monitor="val_accuracy", mode="max", patience=0)
    run, _ = replay(es, [0.5, 0.6, 0.7, 0.65], monitor="val_accuracy")
    assert (run, es.stopped_epoch_, es.best_epoch_, es.best_) == (4, 4, 3, 0.7)


def test_min_mode_on_a_rising_metric_stops_at_once():
    es = EarlyStopping(monitor="val_accuracy", mode="min", patience=0)
    replay(es, [0.5, 0.6, 0.7], monitor="val_accuracy")
    assert es.stopped_epoch_ == 2


@pytest.mark.parametrize(
    "monitor, expected",
    [
        ("val_loss", "min"),
        ("loss", "min"),
        ("val_data_loss", "min"),
        ("val_mae", "min"),
        ("val_accuracy", "max"),
        ("accuracy", "max"),
        ("val_acc", "max"),
        ("val_auc", "max"),
    ],
)
def test_auto_mode_infers_the_direction_from_the_name(monitor, expected):
    assert infer_mode(monitor) == expected
    assert EarlyStopping(monitor=monitor).direction == expected


def test_auto_mode_on_accuracy_behaves_as_max_mode():
    values = [0.5, 0.6, 0.55, 0.58, 0.7]
    auto = EarlyStopping(monitor="val_accuracy", patience=1)
    explicit = EarlyStopping(monitor="val_accuracy", mode="max", patience=1)
    replay(auto, values, monitor="val_accuracy")
    replay(explicit, values, monitor="val_accuracy")
    assert (auto.stopped_epoch_, auto.best_epoch_) == (
        explicit.stopped_epoch_,
        explicit.best_epoch_,
    )
    assert auto.stopped_epoch_ == 3


def test_baseline_not_reached_never_resets_the_wait():
    # Every epoch below 0.6: wait goes 1, 2 (improvements), 3 at the worse epoch 3 -> stop.
    es = EarlyStopping(monitor="val_accuracy", mode="max", patience=2, baseline=0.6)
    replay(es, [0.5, 0.55, 0.54, 0.53], monitor="val_accuracy")
    assert (es.stopped_epoch_, es.best_epoch_) == (3, 2)


def test_same_sequence_without_baseline_waits_longer():
    # wait resets at epochs 1 and 2, then 1, 2 at epochs 3 and 4 -> stop at 4.
    es = EarlyStopping(monitor="val_accuracy", mode="max", patience=2)
    replay(es, [0.5, 0.55, 0.54, 0.53], monitor="val_accuracy")
    assert es.stopped_epoch_ == 4


def test_baseline_reached_resets_the_wait():
    # Epoch 3 beats 0.6: wait 0; epochs 4, 5 are worse: wait 1, 2 -> stop at 5.
    es = EarlyStopping(monitor="val_accuracy", mode="max", patience=2, baseline=0.6)
    replay(es, [0.5, 0.55, 0.65, 0.64, 0.63], monitor="val_accuracy")
    assert (es.stopped_epoch_, es.best_epoch_) == (5, 3)


def test_improving_below_baseline_does_not_stop():
    # Keras returns on every improvement before checking patience.
    es = EarlyStopping(patience=1, baseline=0.1)
    run, _ = replay(es, [1.0, 0.9, 0.8, 0.7])
    assert (run, es.stopped_epoch_, es.wait_) == (4, 0, 4)


def test_start_from_epoch_ignores_the_warm_up_epochs():
    # Epochs 1, 2 unmonitored; epoch 3 is the first best; epoch 4 is worse -> stop at 4.
    es = EarlyStopping(patience=0, start_from_epoch=2)
    replay(es, [1.0, 2.0, 3.0, 4.0, 5.0])
    assert (es.stopped_epoch_, es.best_epoch_, es.best_) == (4, 3, 3.0)


def test_without_start_from_epoch_the_same_sequence_stops_at_two():
    es = EarlyStopping(patience=0)
    replay(es, [1.0, 2.0, 3.0, 4.0, 5.0])
    assert (es.stopped_epoch_, es.best_epoch_) == (2, 1)


def test_restore_best_after_the_stop_keeps_the_best_epoch():
    # Keras' restoring test: best 0.1 at epoch 3 (2 in Keras), stop at 5 with patience 2.
    es = EarlyStopping(monitor="loss", patience=2, restore_best=True)
    run, snapshots = replay(es, [0.2, 0.15, 0.1, 0.11, 0.12], monitor="loss")
    assert (run, es.stopped_epoch_, es.best_epoch_) == (5, 5, 3)
    assert snapshots == [1, 2, 3]
    assert es.should_restore_


def test_restore_best_without_the_stop_triggering_still_restores():
    es = EarlyStopping(patience=10, restore_best=True)
    run, snapshots = replay(es, [0.5, 0.4, 0.45, 0.3, 0.35])
    assert (run, es.stopped_epoch_, es.best_epoch_) == (5, 0, 4)
    assert snapshots == [1, 2, 4]
    assert es.should_restore_


def test_no_restore_without_restore_best():
    es = EarlyStopping(patience=10)
    replay(es, [0.5, 0.4, 0.45])
    assert es.best_epoch_ == 2 and not es.should_restore_


def test_a_run_that_never_improves_keeps_the_first_epoch_as_fallback():
    # Keras: with restore_best the first monitored epoch's weights are kept even if no
    # epoch improves (here all NaN); patience 1 stops at 2 (not at 1: first epoch).
    es = EarlyStopping(patience=1, restore_best=True)
    run, snapshots = replay(es, [NAN, NAN, NAN])
    assert (run, es.stopped_epoch_, es.best_epoch_, es.best_) == (2, 2, 1, math.inf)
    assert snapshots == [1] and es.should_restore_


def test_a_run_that_never_improves_without_restore_has_no_best_epoch():
    es = EarlyStopping(patience=1)
    replay(es, [NAN, NAN, NAN])
    assert (es.stopped_epoch_, es.best_epoch_) == (2, 0)
    assert not es.should_restore_


def test_a_flat_run_stops_after_patience_and_keeps_epoch_one():
    es = EarlyStopping(patience=2, restore_best=True)
    replay(es, [1.0, 1.0, 1.0, 1.0])
    assert (es.stopped_epoch_, es.best_epoch_) == (3, 1)


def test_nan_is_never_an_improvement():
    es = EarlyStopping(patience=2)
    replay(es, [1.0, NAN, NAN, 0.5])
    assert (es.stopped_epoch_, es.best_epoch_, es.best_) == (3, 1, 1.0)


def test_state_is_reset_between_two_trainings():
    es = EarlyStopping(patience=1, restore_best=True)
    replay(es, [0.1, 0.2, 0.3])
    first = (es.stopped_epoch_, es.best_epoch_, es.best_)
    replay(es, [0.5, 0.4, 0.6, 0.7])
    fresh = EarlyStopping(patience=1, restore_best=True)
    replay(fresh, [0.5, 0.4, 0.6, 0.7])
    assert first == (2, 1, 0.1)
    # Keras 3 would keep best 0.1 from the first training and stop at epoch 2 here.
    state = (es.stopped_epoch_, es.best_epoch_, es.best_, es.wait_, es.stop_training)
    assert state == (fresh.stopped_epoch_, fresh.best_epoch_, fresh.best_, fresh.wait_, True)
    assert es.stopped_epoch_ == 3 and es.best_epoch_ == 2


def test_on_train_begin_clears_the_stop_flag():
    es = EarlyStopping(patience=0)
    replay(es, [1.0, 2.0])
    assert es.stop_training
    es.on_train_begin()
    assert not es.stop_training and es.wait_ == 0 and es.best_ == math.inf


def test_clone_has_the_same_settings_and_fresh_state():
    es = EarlyStopping(
        monitor="val_accuracy", mode="max", patience=3, min_delta=0.01, baseline=0.5,
        start_from_epoch=2, restore_best=True,
    )  # fmt: skip
    replay(es, [0.6, 0.5, 0.4, 0.3, 0.2, 0.1], monitor="val_accuracy")
    twin = es.clone()
    assert repr(twin) == repr(es)
    assert (twin.best_epoch_, twin.stopped_epoch_, twin.stop_training) == (0, 0, False)


def test_deep_copies_are_independent():
    # The engine deep-copies one EarlyStopping per population member.
    es = EarlyStopping(patience=0)
    es.on_train_begin()
    twin = copy.deepcopy(es)
    es.on_epoch_end(1, {"val_loss": 1.0})
    assert twin.best_epoch_ == 0 and twin.best_ == math.inf


def test_early_stopping_is_a_callback():
    assert isinstance(EarlyStopping(), Callback)


def test_missing_monitor_lists_the_columns_and_suggests_the_closest():
    # With mode="auto" this typo is caught earlier, at construction (see below).
    es = EarlyStopping(monitor="val_los", mode="min")
    es.on_train_begin()
    message = (
        r"EarlyStopping monitors 'val_los', which the History does not have; "
        r"it has: 'loss', 'val_loss', 'val_accuracy'; did you mean 'val_loss'\?"
    )
    with pytest.raises(ReglabError, match=message):
        es.on_epoch_end(1, {"loss": 1.0, "val_loss": 1.0, "val_accuracy": 0.5})


def test_missing_monitor_without_a_close_column():
    es = EarlyStopping(monitor="val_loss")
    with pytest.raises(ReglabError, match=r"does not have; it has: 'epoch', 'accuracy'\.$"):
        es.on_epoch_end(1, {"epoch": 1.0, "accuracy": 1.0})


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"mode": "maximum"}, ReglabError, r"`mode` of EarlyStopping: expected one of 'auto'"),
        ({"mode": "mx"}, ReglabError, r"Received: mode='mx'; did you mean 'max'\?"),
        ({"patience": -1}, ReglabError, r"`patience` of EarlyStopping: expected an int >= 0"),
        ({"patience": 1.5}, ReglabTypeError, r"Received: patience=1.5"),
        (
            {"min_delta": -0.1},
            ReglabError,
            r"`min_delta` of EarlyStopping: expected a float in \[0",
        ),
        ({"start_from_epoch": -1}, ReglabError, r"`start_from_epoch` of EarlyStopping"),
        ({"baseline": NAN}, ReglabError, r"`baseline` of EarlyStopping: expected a float"),
        ({"monitor": ""}, ReglabTypeError, r"`monitor` of EarlyStopping: expected a History col"),
        (
            {"restore_best": "yes"},
            ReglabTypeError,
            r"`restore_best` of EarlyStopping: expected True",
        ),
        (
            {"monitor": "epoch_time"},
            ReglabError,
            r"mode='auto' cannot tell whether monitor='epoch_time' should be maximised or "
            r"minimised. Pass mode='max' or mode='min'",
        ),
        (
            {"monitor": "val_los"},
            ReglabError,
            r"monitor='val_los' should be maximised or minimised; did you mean 'val_loss'\? "
            r"Otherwise pass mode='max' or mode='min'\.",
        ),
    ],
)
def test_invalid_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        EarlyStopping(**kwargs)


def test_explicit_mode_accepts_any_monitor_name():
    assert EarlyStopping(monitor="epoch_time", mode="min").direction == "min"
