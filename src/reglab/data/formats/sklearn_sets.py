"""scikit-learn's bundled datasets, the embedded default that needs no file and no network.

They come without a test split, so one is made here: fixed and seeded (the same rows on
every machine), stratified for classification so that small classes appear in both parts.
"""

from __future__ import annotations

import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split

__all__ = ["SKLEARN_LOADERS", "load_sklearn"]

SKLEARN_LOADERS = {
    "digits": datasets.load_digits,
    "breast_cancer": datasets.load_breast_cancer,
    "diabetes": datasets.load_diabetes,
    "wine": datasets.load_wine,
    "iris": datasets.load_iris,
}
_REGRESSION = {"diabetes"}


def load_sklearn(
    name: str, test_split: float = 0.25, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """Load a bundled scikit-learn dataset split into train and test parts.

    Parameters
    ----------
    name : {"digits", "breast_cancer", "diabetes", "wine", "iris"}
        The dataset.
    test_split : float, default 0.25
        Share of the rows held out for testing.
    seed : int, default 0
        ``random_state`` of the split.

    Returns
    -------
    x_train, y_train, x_test, y_test : numpy.ndarray
        Features as float32; labels as int64, regression targets as float32.
    description : str
        scikit-learn's description of the dataset (``DESCR``).

    Examples
    --------
    >>> x_train, y_train, x_test, y_test, _ = load_sklearn("iris")
    >>> x_train.shape, x_test.shape
    ((112, 4), (38, 4))
    """
    bunch = SKLEARN_LOADERS[name]()
    x = bunch.data.astype(np.float32)
    regression = name in _REGRESSION
    y = bunch.target.astype(np.float32 if regression else np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_split, random_state=seed, stratify=None if regression else y
    )
    return x_train, y_train, x_test, y_test, bunch.DESCR
