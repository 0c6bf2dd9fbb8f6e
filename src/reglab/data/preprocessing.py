"""Preprocessing with Keras' semantics: one-hot labels, image scaling, standardization.

Standardization statistics are learned from training data only (``fit``) and then applied
to every split (``transform``): fitting on validation or test rows would leak them into
training, the very overfitting the toolkit exists to measure.
"""

from __future__ import annotations

import numpy as np

from reglab.errors import ReglabError, ReglabTypeError, check_int, invalid

__all__ = ["Standardizer", "scale_images", "to_categorical"]


def to_categorical(y, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """Convert integer class labels to a one-hot matrix (Keras' ``to_categorical``).

    Parameters
    ----------
    y : array-like of int
        Class labels in ``[0, num_classes)``; a trailing axis of length 1 is dropped, as
        in Keras.
    num_classes : int, optional
        Number of classes; ``max(y) + 1`` when not given.
    dtype : str, default "float32"
        Type of the result.

    Returns
    -------
    numpy.ndarray
        Shape ``y.shape + (num_classes,)`` with a single 1 in each row.

    Raises
    ------
    ReglabError
        If a label is negative, not an integer, or not below ``num_classes``.

    Examples
    --------
    >>> to_categorical([0, 2, 1])
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]], dtype=float32)
    """
    labels = np.asarray(y)
    integral = np.issubdtype(labels.dtype, np.integer) or (
        np.issubdtype(labels.dtype, np.floating) and np.all(labels == np.round(labels))
    )  # Keras accepts float labels such as 2.0
    if labels.size and not integral:
        raise ReglabError(
            invalid(
                "y",
                "integer class labels",
                f"values of dtype {labels.dtype}",
                owner="to_categorical",
            )
        )
    labels = labels.astype(np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1)
    if flat.size and flat.min() < 0:
        raise ReglabError(
            invalid("y", "class labels >= 0", f"a label {flat.min()}", owner="to_categorical")
        )
    if num_classes is None:
        num_classes = int(flat.max()) + 1 if flat.size else 0
    num_classes = check_int("num_classes", num_classes, owner="to_categorical", low=1)
    if flat.size and flat.max() >= num_classes:
        raise ReglabError(
            invalid(
                "num_classes",
                f"more than the largest label {flat.max()}",
                num_classes,
                owner="to_categorical",
            )
        )
    onehot = np.zeros((flat.size, num_classes), dtype=dtype)
    onehot[np.arange(flat.size), flat] = 1
    return onehot.reshape(*shape, num_classes)


def scale_images(x) -> np.ndarray:
    """Scale 8-bit images to float32 values in [0, 1] (``x / 255``).

    Parameters
    ----------
    x : numpy.ndarray of uint8
        Pixel values 0-255, any shape.

    Returns
    -------
    numpy.ndarray of float32

    Raises
    ------
    ReglabTypeError
        If ``x`` is not uint8: other values have no known range to scale from.

    Examples
    --------
    >>> import numpy as np
    >>> scale_images(np.array([0, 51, 255], dtype=np.uint8))
    array([0. , 0.2, 1. ], dtype=float32)
    """
    array = np.asarray(x)
    if array.dtype != np.uint8:
        raise ReglabTypeError(
            invalid(
                "x",
                "uint8 pixel values 0-255 (already-scaled floats need no scaling)",
                f"an array of dtype {array.dtype}",
                owner="scale_images",
            )
        )
    return array.astype(np.float32) / np.float32(255.0)


class Standardizer:
    """Standardize features with statistics learned from the training data only.

    ``transform(x) = (x - mean_) / std_`` per feature (statistics over axis 0), in
    float32, the precision the models train in.

    Attributes
    ----------
    mean_ : numpy.ndarray
        Per-feature mean of the data given to :meth:`fit`.
    std_ : numpy.ndarray
        Per-feature standard deviation (population, ``ddof=0``), with 0 replaced by 1.

    Examples
    --------
    >>> import numpy as np
    >>> scaler = Standardizer().fit(np.array([[0.0, 5.0], [2.0, 5.0]]))
    >>> scaler.transform(np.array([[1.0, 5.0], [3.0, 6.0]]))
    array([[0., 0.],
           [1., 1.]], dtype=float32)
    """

    def fit(self, x) -> Standardizer:
        """Learn ``mean_`` and ``std_`` from ``x`` (training rows only); returns ``self``.

        Raises
        ------
        ReglabError
            If ``x`` is not a non-empty numeric array of at least 2 dimensions.
        """
        array = self._checked(x, "fit")
        self.mean_ = array.mean(axis=0)
        std = array.std(axis=0)
        # A constant feature has std 0; dividing by 1 instead maps it to 0 rather than
        # NaN/inf, and it carries no information to scale anyway (scikit-learn does this).
        self.std_ = np.where(std == 0, 1.0, std)
        return self

    def transform(self, x) -> np.ndarray:
        """Standardize ``x`` with the statistics learned by :meth:`fit`.

        Raises
        ------
        ReglabError
            If called before :meth:`fit`, or if the features do not match.
        """
        if not hasattr(self, "mean_"):
            raise ReglabError(
                "Standardizer is not fitted yet: call fit(x_train) before transform, "
                "so the statistics come from training data only."
            )
        array = self._checked(x, "transform")
        if array.shape[1:] != self.mean_.shape:
            raise ReglabError(
                invalid(
                    "x",
                    f"samples of shape {self.mean_.shape} as in fit",
                    f"samples of shape {array.shape[1:]}",
                    owner="Standardizer.transform",
                )
            )
        return ((array - self.mean_) / self.std_).astype(np.float32)

    def fit_transform(self, x) -> np.ndarray:
        """Fit on ``x`` and return it standardized."""
        return self.fit(x).transform(x)

    @staticmethod
    def _checked(x, method: str) -> np.ndarray:
        array = np.asarray(x)
        if not np.issubdtype(array.dtype, np.number) or array.ndim < 2 or len(array) == 0:
            raise ReglabError(
                invalid(
                    "x",
                    "a non-empty numeric array (samples, features...)",
                    f"an array of shape {array.shape} and dtype {array.dtype}",
                    owner=f"Standardizer.{method}",
                )
            )
        return array.astype(np.float64)
