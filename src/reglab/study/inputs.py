"""Loading a study's dataset once and shaping it the way the engine takes it.

Images are scaled to [0, 1] and keep their shape, channels first ``(N, C, H, W)``: a
convolutional model takes them as they are, and the MLP shorthand flattens them;
sequences become sparse multi-hot rows (the dense samples x vocabulary matrix is never
built); tabular features stay raw float32 and are standardized inside ``fit`` with each
member's own training rows, so no statistic ever sees validation or test data; 1-D
signals (MNIST-1D) stay ``(N, L)`` as their generator standardized them, as the
published benchmark trains on them (a 1-D CNN module reshapes them to ``(N, 1, L)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reglab.data import Task, load_dataset, multi_hot, scale_images
from reglab.errors import ReglabError
from reglab.study.spec import Spec

__all__ = ["StudyData", "prepare_data"]


@dataclass(frozen=True, eq=False)
class StudyData:
    """A study's data, ready for ``fit``.

    Attributes
    ----------
    x_train, y_train, x_test, y_test
        Inputs as float32 ``(N, F)`` or ``(N, C, H, W)`` arrays or ``MultiHot`` rows,
        and the targets.
    task : reglab.data.Task
        Inferred from the training targets.
    standardize : bool
        Whether ``fit`` standardizes the inputs (tabular data).
    image_shape : tuple (C, H, W) or None
        The shape of an image (None for other data).
    """

    x_train: object
    y_train: np.ndarray
    x_test: object
    y_test: np.ndarray
    task: Task
    standardize: bool
    image_shape: tuple[int, int, int] | None

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.x_train.shape[1:])

    @property
    def n_features(self) -> int:
        return int(np.prod(self.sample_shape))


def prepare_data(spec: Spec, *, trusted: bool | list = False) -> StudyData:
    """Load the spec's dataset and prepare its inputs.

    Parameters
    ----------
    spec : Spec
        The study; its ``dataset`` and ``train_size`` are used.
    trusted : bool or list of paths, default False
        The data files whose checksum is skipped (:func:`reglab.data.load_dataset`).

    Returns
    -------
    StudyData

    Raises
    ------
    DataError
        If the dataset's files cannot be found or read.

    Examples
    --------
    >>> from reglab.study.spec import parse_spec
    >>> spec = parse_spec({"name": "s", "dataset": "iris", "train_size": 30,
    ...                    "variants": {"base": {}}})
    >>> data = prepare_data(spec)
    >>> data.x_train.shape, data.x_train.dtype, data.standardize
    ((30, 4), dtype('float32'), True)
    """
    data = load_dataset(spec.dataset.name, trusted=trusted, **spec.dataset.options)
    rows = slice(None) if spec.train_size is None else slice(0, spec.train_size)
    image_shape = None
    if data.input_kind == "images":
        x_train, x_test = _images(data.x_train[rows]), _images(data.x_test)
        image_shape = x_train.shape[1:]
    elif data.input_kind == "sequences":
        x_train = multi_hot(data.x_train[rows], data.num_words, sparse=True)
        x_test = multi_hot(data.x_test, data.num_words, sparse=True)
    else:
        x_train = np.asarray(data.x_train[rows], dtype=np.float32)
        x_test = np.asarray(data.x_test, dtype=np.float32)
    y_train = np.asarray(data.y_train[rows])
    if spec.label_noise:
        y_train = _noisy_labels(y_train, spec.label_noise, data.task, spec.dataset.name)
    return StudyData(
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=np.asarray(data.y_test),
        task=data.task,
        standardize=data.input_kind == "tabular",
        image_shape=image_shape,
    )


# Fixed, not the study's seeds: every run of a study sees the same corrupted labels, so
# the seeds measure training randomness only.
LABEL_NOISE_SEED = 20170101


def _noisy_labels(y: np.ndarray, fraction: float, task, dataset: str) -> np.ndarray:
    """A copy of ``y``; each label, with probability ``fraction``, is a uniform random class."""
    if task.kind not in ("binary", "multiclass") or y.ndim != 1:
        raise ReglabError(
            f"Invalid value for `label_noise`: it applies to datasets with integer class "
            f"labels, and '{dataset}' is a {task.kind} dataset. Received: label_noise={fraction}."
        )
    rng = np.random.default_rng(LABEL_NOISE_SEED)
    noisy = y.copy()
    replaced = rng.random(len(y)) < fraction
    classes = task.num_classes or 2
    noisy[replaced] = rng.integers(0, classes, int(replaced.sum()))
    return noisy


def _images(x: np.ndarray) -> np.ndarray:
    """(N, H, W) or channels-last (N, H, W, C) uint8 -> float32 (N, C, H, W) in [0, 1]."""
    images = scale_images(x)
    if images.ndim == 3:
        return images[:, None]
    # Keras stores colour images channels-last; PyTorch's convolutions and kornia's warps
    # take channels first.
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2))
