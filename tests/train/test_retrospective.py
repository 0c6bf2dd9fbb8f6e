"""The early-stopping retrospective, against a hand-computed long run."""

import pytest

from reglab.errors import ReglabError
from reglab.train.early_stopping import EarlyStopping
from reglab.train.retrospective import RetrospectiveRow, early_stopping_retrospective

# A 10-epoch run that overfits: val_loss bottoms out at epoch 4, with a false dip at 7.
VAL_LOSS = [1.00, 0.80, 0.70, 0.60, 0.65, 0.62, 0.61, 0.70, 0.75, 0.80]
VAL_ACC = [0.50, 0.60, 0.65, 0.72, 0.71, 0.73, 0.74, 0.70, 0.69, 0.68]
ROWS = [
    {"epoch": float(e), "loss": 1.0 / e, "val_loss": v, "val_accuracy": a}
    for e, (v, a) in enumerate(zip(VAL_LOSS, VAL_ACC, strict=True), start=1)
]


def test_retrospective_matches_the_hand_computed_table():
    # Best val_loss 0.60 at epoch 4; epochs 5.. never beat it, so wait = epoch - 4:
    #   patience 1 stops at 5, 2 at 6, 5 at 9, 10 would need epoch 14 -> runs to the end.
    table = early_stopping_retrospective(ROWS, patiences=(1, 2, 5, 10))
    assert table == [
        RetrospectiveRow(1, 0.0, 5, 4, 0.72, 0.68, 5, 5),
        RetrospectiveRow(2, 0.0, 6, 4, 0.72, 0.68, 6, 4),
        RetrospectiveRow(5, 0.0, 9, 4, 0.72, 0.68, 9, 1),
        RetrospectiveRow(10, 0.0, 0, 4, 0.72, 0.68, 10, 0),
    ]


def test_min_delta_makes_small_gains_not_count():
    # min_delta 0.15: epoch 2 counts (0.80 + 0.15 < 1.00), epoch 3 does not (0.85 >= 0.80),
    # epoch 4 does (0.75 < 0.80). Patience 1 stops at 3 keeping epoch 2 (accuracy 0.60);
    # patience 2 sees epoch 4 reset the wait, then epochs 5, 6 -> stop at 6, keeping 4.
    table = early_stopping_retrospective(ROWS, patiences=(1, 2), min_deltas=(0.0, 0.15))
    coarse = [(r.patience, r.stopped_epoch, r.best_epoch, r.score) for r in table[2:]]
    assert [r.min_delta for r in table] == [0.0, 0.0, 0.15, 0.15]
    assert coarse == [(1, 3, 2, 0.60), (2, 6, 4, 0.72)]


def test_rows_agree_with_the_callback_on_the_same_sequence():
    es = EarlyStopping(patience=2, restore_best=True)
    es.on_train_begin()
    for epoch, row in enumerate(ROWS, start=1):
        es.on_epoch_end(epoch, row)
        if es.stop_training:
            break
    (row,) = early_stopping_retrospective(ROWS, patiences=(2,))
    assert (row.stopped_epoch, row.best_epoch) == (es.stopped_epoch_, es.best_epoch_)


def test_monitoring_accuracy_in_auto_mode_maximises_it():
    # Best accuracy 0.74 at epoch 7; epochs 8, 9 are worse: patience 2 stops at 9.
    (row,) = early_stopping_retrospective(ROWS, patiences=(2,), monitor="val_accuracy")
    assert (row.stopped_epoch, row.best_epoch, row.score, row.epochs_saved) == (9, 7, 0.74, 1)


def test_regression_histories_score_on_val_mae_by_default():
    rows = [{"val_loss": v, "val_mae": v / 2} for v in [3.0, 2.0, 2.5, 2.6]]
    (row,) = early_stopping_retrospective(rows, patiences=(1,))
    assert (row.best_epoch, row.score, row.score_at_end) == (2, 1.0, 1.3)


def test_score_falls_back_to_the_monitor():
    rows = [{"val_loss": v} for v in [3.0, 2.0, 2.5]]
    (row,) = early_stopping_retrospective(rows, patiences=(1,))
    assert (row.stopped_epoch, row.score, row.score_at_end) == (3, 2.0, 2.5)


def test_an_explicit_score_column_is_reported():
    (row,) = early_stopping_retrospective(ROWS, patiences=(1,), score="loss")
    assert row.score == pytest.approx(1.0 / 4) and row.score_at_end == pytest.approx(0.1)


def test_missing_score_column_is_refused_with_a_suggestion():
    message = (
        r"`score` of early_stopping_retrospective: the History has no column 'val_acc'; "
        r"it has: 'epoch', 'loss', 'val_loss', 'val_accuracy'; did you mean 'val_accuracy'\?"
    )
    with pytest.raises(ReglabError, match=message):
        early_stopping_retrospective(ROWS, score="val_acc")


def test_missing_monitor_is_refused():
    with pytest.raises(ReglabError, match=r"EarlyStopping monitors 'val_mae'"):
        early_stopping_retrospective(ROWS, monitor="val_mae")


def test_no_rows_are_refused():
    with pytest.raises(ReglabError, match=r"`history_rows` of early_stopping_retrospective"):
        early_stopping_retrospective([])


def test_an_invalid_patience_is_refused():
    with pytest.raises(ReglabError, match=r"`patience` of EarlyStopping: expected an int >= 0"):
        early_stopping_retrospective(ROWS, patiences=(-1,))
