"""A loaded dataset: train and test arrays with the facts a model needs about them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reglab.data.tasks import Task

__all__ = ["INPUT_KINDS", "Dataset"]

INPUT_KINDS = ("images", "tabular", "sequences", "signals")


@dataclass(frozen=True, eq=False)  # arrays make == ambiguous; compare fields explicitly
class Dataset:
    """Train and test data as :func:`reglab.data.load_dataset` returns them.

    Parameters
    ----------
    name : str
        The dataset's name in :data:`reglab.data.KNOWN_DATASETS`.
    x_train, y_train, x_test, y_test : numpy.ndarray
        Inputs and targets. Images are uint8 ``(N, H, W)``; tabular data ``(N, F)``;
        sequences (imdb, reuters) 1-D object arrays of lists of word ids, as in Keras;
        signals (mnist1d) float32 ``(N, L)``, already standardized by their generator.
    task : Task
        The problem type inferred from the labels.
    description : str
        One line about the data.
    source : str
        Where the files were found (a path), or the package that made an embedded set
        ("scikit-learn", "mnist1d").
    input_kind : {"images", "tabular", "sequences", "signals"}
        How the inputs are laid out.
    num_words : int or None, default None
        For sequences, the vocabulary size to multi-hot encode to (every id is below it).

    Examples
    --------
    >>> from reglab.data import load_dataset
    >>> data = load_dataset("iris")
    >>> data.input_kind, data.task.kind, data.x_train.shape
    ('tabular', 'multiclass', (112, 4))
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    task: Task
    description: str
    source: str
    input_kind: str
    num_words: int | None = None

    @property
    def input_shape(self) -> tuple[int, ...] | None:
        """Shape of one sample, or None for variable-length sequences."""
        return None if self.input_kind == "sequences" else tuple(self.x_train.shape[1:])

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, train={len(self.x_train)}, "
            f"test={len(self.x_test)}, input_kind={self.input_kind!r}, "
            f"task={self.task.kind!r}, source={self.source!r})"
        )
