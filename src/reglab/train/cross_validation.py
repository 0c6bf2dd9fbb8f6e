"""K-fold and repeated K-fold cross-validation, all folds trained as one population."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from reglab.errors import ReglabError, ReglabTypeError
from reglab.nn import ModuleModel, PopulationModel
from reglab.train.early_stopping import infer_mode
from reglab.train.engine import fit
from reglab.train.history import History
from reglab.train.refit import kept_epoch, refit_epochs
from reglab.validate import Fold, kfold, mean_ci, mean_curve

__all__ = ["CrossValidation", "cross_validate"]


@dataclass
class CrossValidation:
    """The outcome of :func:`cross_validate`: one History per fold, and their summary.

    Attributes
    ----------
    histories : list of History
        In the order of ``folds``.
    folds : list of Fold
        Training and validation rows of each fold.
    model : PopulationModel
        The trained population (member ``i`` trained on fold ``i``).
    refit : History or None
        With ``refit=True``: the model trained on all rows for ``refit_epochs``; its
        ``final["test_*"]`` values are the test set's score.
    refit_epochs : int
        The epoch count the refit trained for (0 without refit).

    Examples
    --------
    >>> import numpy as np
    >>> from reglab import cross_validate, mlp
    >>> x = np.random.default_rng(0).normal(size=(30, 2)).astype("float32")
    >>> cv = cross_validate(mlp([4]), x, x.sum(1), folds=3, epochs=2)
    >>> len(cv.curve("val_mae").mean)
    2
    """

    histories: list[History]
    folds: list[Fold]
    model: PopulationModel
    refit: History | None = None
    refit_epochs: int = 0

    def curve(self, key: str = "val_loss"):
        """Per-epoch mean over folds with a 95% band (:func:`reglab.validate.mean_curve`)."""
        return mean_curve([h.history[key] for h in self.histories])

    def score(self, key: str = "val_loss"):
        """Mean and 95% confidence interval of the final ``key`` over folds."""
        return mean_ci([h.final[key] for h in self.histories])


def cross_validate(
    model,
    x,
    y,
    *,
    folds: int = 4,
    repeats: int = 1,
    seed: int = 0,
    stratify: bool = False,
    standardize: bool = True,
    refit: bool = False,
    refit_monitor: str | None = None,
    test_data: tuple | None = None,
    **fit_options,
) -> CrossValidation:
    """Train one member per fold (and per repeat) of ``model``, as a single population.

    Standardization statistics are fitted on each fold's training part only, so nothing
    of a fold's validation rows leaks into its inputs.

    Parameters
    ----------
    model : Sequential, MLP or torch.nn.Module
        An untrained one-member reglab model (its settings are replicated for every
        fold), or a ``torch.nn.Module`` (one member per fold, each initialised from its
        seed).
    x, y : arrays
    folds : int, default 4
    repeats : int, default 1
        Repeated K-fold: every repeat reshuffles the samples before splitting.
    seed : int, default 0
        Seeds the splits; fold ``i`` trains with seed ``seed + i``.
    stratify : bool, default False
        Keep class proportions in every fold (classification).
    standardize : bool, default True
    refit : bool, default False
        The book's final step: after the folds, train ``model`` itself on all rows of
        ``x`` for the epoch count the folds chose (:func:`reglab.train.refit.refit_epochs`:
        the best epoch of the mean ``refit_monitor`` curve, or with early stopping the
        mean epoch whose weights the folds kept), without validation or early stopping,
        and score ``test_data`` once. ``model`` then holds the refit model.
    refit_monitor : str, optional
        The validation column the refit's epoch count is chosen on; the validation metric
        (``val_accuracy`` / ``val_mae``) by default.
    test_data : tuple (x_test, y_test), optional
        Scored once after training, by every fold member and the refit
        (``History.final["test_*"]``); never used for a choice.
    **fit_options
        Passed to :func:`reglab.fit` (epochs, batch_size, optimizer, early_stopping...).

    Returns
    -------
    CrossValidation

    Examples
    --------
    >>> import numpy as np
    >>> from reglab import mlp
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(40, 3)).astype("float32"); y = x.sum(1)
    >>> cv = cross_validate(mlp([8]), x, y, folds=4, epochs=2, batch_size=8)
    >>> len(cv.histories), cv.score("val_mae").n
    (4, 4)
    """
    reglab_model = isinstance(model, PopulationModel)
    if not isinstance(model, torch.nn.Module) or (
        reglab_model and (model.built or model.members != 1)
    ):
        raise ReglabTypeError(
            "Invalid value for `model` of cross_validate: expected an untrained one-member "
            f"reglab model (reglab.Sequential, reglab.mlp) or a torch.nn.Module. "
            f"Received: {model!r}."
        )
    for name in ("train_index", "validation_index", "validation_data", "validation_split", "seed"):
        if name in fit_options:
            raise ReglabError(
                f"Invalid argument `{name}` of cross_validate: the folds decide each member's "
                "rows and seeds; remove it."
            )
    if refit and not isinstance(refit, bool):
        raise ReglabTypeError(
            f"Invalid value for `refit` of cross_validate: expected True or False. "
            f"Received: refit={refit!r}."
        )
    if refit_monitor is not None and not refit:
        raise ReglabError(
            "Invalid arguments of cross_validate: `refit_monitor` has no effect without "
            f"refit=True. Received: refit_monitor={refit_monitor!r}."
        )
    y = np.asarray(y)
    splits = kfold(len(y), folds=folds, repeats=repeats, seed=seed, y=y if stratify else None,
                   stratify=stratify)  # fmt: skip
    if reglab_model:
        population = model.replicate(len(splits))
    else:
        population = ModuleModel(model, members=len(splits))
    histories = fit(
        population,
        x,
        y,
        seed=[seed + i for i in range(len(splits))],
        train_index=[f.train for f in splits],
        validation_index=[f.validation for f in splits],
        test_data=test_data,
        standardize=standardize,
        **fit_options,
    )
    histories = histories if isinstance(histories, list) else [histories]
    result = CrossValidation(histories, splits, population)
    if refit:
        result.refit_epochs = _chosen_epochs(
            histories, population.head.metric_name, refit_monitor, fit_options
        )
        options = {**fit_options, "epochs": result.refit_epochs, "early_stopping": None}
        result.refit = fit(
            model, x, y, seed=seed, test_data=test_data, standardize=standardize, **options
        )
    return result


def _chosen_epochs(histories, metric: str, monitor: str | None, fit_options: dict) -> int:
    early_stopping = fit_options.get("early_stopping")
    if early_stopping is not None:
        chosen = early_stopping if isinstance(early_stopping, list) else [early_stopping]
        restores = any(getattr(es, "restore_best", False) for es in chosen if es is not None)
        kept = [kept_epoch(h.best_epoch, h.epochs_run, restores)
                for h in histories if not h.diverged]  # fmt: skip
        return refit_epochs([], higher_is_better=True, kept_epochs=kept or [1])
    monitor = monitor or f"val_{metric}"
    missing = [h for h in histories if h.rows and monitor not in h.rows[0]]
    if missing:
        columns = ", ".join(k for k in missing[0].rows[0] if k.startswith("val_"))
        raise ReglabError(
            f"Invalid value for `refit_monitor` of cross_validate: the folds' Histories "
            f"have no column {monitor!r}; the validation columns are {columns}."
        )
    curves = [[row[monitor] for row in h.rows] for h in histories]
    return refit_epochs(curves, higher_is_better=infer_mode(monitor) == "max")
