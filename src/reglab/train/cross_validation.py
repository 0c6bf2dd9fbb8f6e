"""K-fold and repeated K-fold cross-validation, all folds trained as one population."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from reglab.errors import ReglabError, ReglabTypeError
from reglab.nn import ModuleModel, PopulationModel
from reglab.train.engine import fit
from reglab.train.history import History
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
        standardize=standardize,
        **fit_options,
    )
    histories = histories if isinstance(histories, list) else [histories]
    return CrossValidation(histories, splits, population)
