"""Training, validation and test kept apart: the test set is scored once and chooses nothing."""

import numpy as np
import pytest

from reglab import EarlyStopping, cross_validate, evaluate, fit, mlp
from reglab.errors import ReglabError, ReglabTypeError
from reglab.train.callback import Callback
from reglab.train.refit import kept_epoch, refit_epochs


def _data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype("float32")
    return x, (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)


X, Y = _data(240, 0)
X_VAL, Y_VAL = _data(80, 1)
# A planted test set: the validation inputs with every label flipped. The better the model
# gets, the worse its loss here, so early stopping monitoring it would stop at once.
X_TEST, Y_TEST = X_VAL, 1 - Y_VAL


class Recorder(Callback):
    def on_train_begin(self):
        super().on_train_begin()
        self.keys = set()

    def on_epoch_end(self, epoch, logs):
        self.keys |= set(logs)


def _fit(**options):
    model = mlp([16])
    es = EarlyStopping(monitor="val_loss", patience=1, restore_best=True)
    history = fit(model, X, Y, epochs=30, batch_size=16, seed=3, early_stopping=es, **options)
    return model, history


def test_the_planted_test_set_would_have_stopped_training_elsewhere():
    _, on_validation = _fit(validation_data=(X_VAL, Y_VAL))
    _, on_planted = _fit(validation_data=(X_TEST, Y_TEST))
    assert on_planted.stopped_epoch != on_validation.stopped_epoch
    assert on_planted.best_epoch != on_validation.best_epoch


def test_test_data_moves_neither_the_stop_nor_the_best_epoch_nor_the_weights():
    model, without = _fit(validation_data=(X_VAL, Y_VAL))
    twin, with_test = _fit(validation_data=(X_VAL, Y_VAL), test_data=(X_TEST, Y_TEST))
    assert (with_test.stopped_epoch, with_test.best_epoch) == (
        without.stopped_epoch, without.best_epoch
    )  # fmt: skip
    assert with_test.rows == [dict(row, epoch_time=r["epoch_time"])
                              for row, r in zip(without.rows, with_test.rows)]  # fmt: skip
    assert np.array_equal(model.bank.numpy(), twin.bank.numpy())


def test_the_test_score_is_the_restored_models_score_on_the_test_set():
    model, history = _fit(validation_data=(X_VAL, Y_VAL), test_data=(X_TEST, Y_TEST))
    expected = evaluate(model, X_TEST, Y_TEST)
    assert history.final["test_loss"] == pytest.approx(expected["loss"], rel=1e-6)
    assert history.final["test_accuracy"] == pytest.approx(expected["accuracy"], rel=1e-6)
    # The validation score is a different set's: the planted labels are its complement.
    assert history.final["test_accuracy"] == pytest.approx(
        1 - history.final["val_accuracy"], abs=1e-6
    )


def test_no_history_row_callback_or_progress_sees_the_test_set():
    seen = []
    recorder = Recorder()
    history = fit(
        mlp([8]), X, Y, epochs=3, validation_split=0.25, test_data=(X_TEST, Y_TEST),
        callbacks=[recorder], progress=lambda epoch, rows: seen.append(rows[0]),
    )  # fmt: skip
    columns = set().union(*history.rows, *seen)
    assert not any(c.startswith("test_") for c in columns)
    assert {"val_loss", "val_accuracy"} <= columns
    assert set(history.final) == {
        "loss", "accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy"
    }  # fmt: skip


def test_each_member_of_a_population_gets_its_own_test_score():
    histories = fit(mlp([8], dropout=[0.0, 0.5]), X, Y, epochs=2, seed=[0, 1],
                    test_data=(X_TEST, Y_TEST))  # fmt: skip
    for member, history in enumerate(histories):
        single = fit(mlp([8], dropout=[0.0, 0.5][member]), X, Y, epochs=2, seed=member,
                     test_data=(X_TEST, Y_TEST))  # fmt: skip
        assert history.final["test_loss"] == pytest.approx(single.final["test_loss"], abs=1e-5)


def test_bad_test_data_is_one_line_naming_the_argument():
    with pytest.raises(ReglabTypeError, match=r"`test_data` of fit: expected a tuple \(x, y\)"):
        fit(mlp([4]), X, Y, test_data=X_TEST)
    with pytest.raises(ReglabError, match="Invalid test_data: x and y must have one row"):
        fit(mlp([4]), X, Y, test_data=(X_TEST, Y_TEST[:5]))
    with pytest.raises(ReglabError, match=r"Invalid test_data: its samples have shape \(3,\)"):
        fit(mlp([4]), X, Y, test_data=(X_TEST[:, :3], Y_TEST))


def test_refit_epochs_is_the_best_epoch_of_the_mean_validation_curve():
    curves = [[0.50, 0.61, 0.70, 0.66], [0.52, 0.70, 0.64, 0.69], [0.40, 0.65, 0.71, 0.50]]
    # Means: 0.473, 0.653, 0.683, 0.617: epoch 3 for a score, epoch 1 for a loss.
    assert refit_epochs(curves, higher_is_better=True) == 3
    assert refit_epochs(curves, higher_is_better=False) == 1
    # A diverged fold counts up to its last finite epoch; the mean uses common epochs only.
    assert refit_epochs([[3.0, 1.0, 0.5], [2.0, 1.5, float("nan")]], higher_is_better=False) == 2
    assert refit_epochs([], higher_is_better=True, kept_epochs=[3, 4, 4]) == 4
    assert kept_epoch(5, 9, restores_best=True) == 5
    assert kept_epoch(0, 9, restores_best=True) == 9
    with pytest.raises(ReglabError, match="no fold run has a finite validation score"):
        refit_epochs([[float("nan")]], higher_is_better=False)


def test_cross_validate_refits_on_all_rows_for_the_chosen_epochs_and_scores_the_test_set():
    model = mlp([8])
    cv = cross_validate(model, X, Y, folds=3, epochs=8, batch_size=16,
                        refit=True, test_data=(X_TEST, Y_TEST))  # fmt: skip
    mean = np.mean([h.history["val_accuracy"] for h in cv.histories], axis=0)
    assert cv.refit_epochs == int(np.argmax(mean)) + 1
    assert cv.refit.epochs_run == cv.refit_epochs
    assert "val_loss" not in cv.refit.rows[0]  # no validation rows: all rows train
    alone = fit(mlp([8]), X, Y, epochs=cv.refit_epochs, batch_size=16, seed=0,
                standardize=True, test_data=(X_TEST, Y_TEST))  # fmt: skip
    assert cv.refit.final["test_loss"] == pytest.approx(alone.final["test_loss"], abs=1e-6)
    assert evaluate(model, X_TEST, Y_TEST)["loss"] == pytest.approx(
        cv.refit.final["test_loss"], rel=1e-5
    )  # `model` holds the refit
    assert all("test_loss" in h.final for h in cv.histories)


def test_cross_validate_refit_with_early_stopping_trains_the_mean_kept_epoch():
    es = EarlyStopping(patience=1, restore_best=True)
    cv = cross_validate(mlp([8]), X, Y, folds=3, epochs=40, batch_size=16,
                        early_stopping=es, refit=True)  # fmt: skip
    kept = [h.best_epoch for h in cv.histories]
    assert cv.refit_epochs == max(1, round(float(np.mean(kept))))
    assert cv.refit.stopped_epoch == 0 and cv.refit.epochs_run == cv.refit_epochs


def test_refit_options_are_checked():
    with pytest.raises(ReglabError, match="`refit_monitor` has no effect without refit=True"):
        cross_validate(mlp([4]), X, Y, folds=3, refit_monitor="val_loss")
    with pytest.raises(ReglabError, match="have no column 'val_auc'; the validation columns"):
        cross_validate(mlp([4]), X, Y, folds=3, refit=True, refit_monitor="val_auc")
