"""The problem type of a dataset, read from its targets: output units, activation, loss, metric.

The rules, in order (``y`` as given to :func:`infer_task`; an ``(N, 1)`` column counts as 1-D):

==========================================  ===========  =====  ========  ===============  ========
targets                                     kind         units  activ.    loss             metric
==========================================  ===========  =====  ========  ===============  ========
integer labels within {0, 1}                binary       1      sigmoid   binary_ce        accuracy
float labels, all exactly 0.0 or 1.0        binary       1      sigmoid   binary_ce        accuracy
integer labels 0..C-1, C > 2                multiclass   C      softmax   sparse_cat_ce    accuracy
2-D 0/1 matrix, every row sums to 1         multiclass   C      softmax   categorical_ce   accuracy
2-D 0/1 matrix, some row does not           multilabel   C      sigmoid   binary_ce        accuracy
float values, all within [0, 1]             regression   F      sigmoid   mse              mae
any other float values                      regression   F      linear    mse              mae
==========================================  ===========  =====  ========  ===============  ========

(``C`` = ``max(y) + 1`` classes or the matrix width, ``F`` = 1 or the number of target
columns.) ``kind=`` overrides the rule (``kind="regression"`` on integer counts) and
``loss=`` picks another loss that the kind allows (``"binary_crossentropy"`` for
regression to values in [0, 1], ``"mse"`` for binary). Strings, NaN, negative labels,
empty or 3-D targets fit no task and are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reglab.errors import ReglabError, ReglabTypeError, check_choice, invalid

__all__ = ["KINDS", "LOSSES", "Task", "infer_task"]

KINDS = ("binary", "multiclass", "multilabel", "regression")
LOSSES = (
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "mse",
)


@dataclass(frozen=True)
class Task:
    """What the output layer, the loss and the reported metric must be for some targets.

    Parameters
    ----------
    kind : {"binary", "multiclass", "multilabel", "regression"}
        The problem type.
    n_outputs : int
        Units of the output layer.
    activation : {"sigmoid", "softmax", "linear"}
        Output activation.
    loss : {"binary_crossentropy", "categorical_crossentropy", \
"sparse_categorical_crossentropy", "mse"}
        Training loss (Keras' names).
    metric : {"accuracy", "mae"}
        The metric reported next to the loss.
    num_classes : int or None, default None
        Number of classes for classification, None for regression.

    Examples
    --------
    >>> Task("binary", 1, "sigmoid", "binary_crossentropy", "accuracy", 2).n_outputs
    1
    """

    kind: str
    n_outputs: int
    activation: str
    loss: str
    metric: str
    num_classes: int | None = None


def infer_task(y, kind: str | None = None, loss: str | None = None) -> Task:
    """Infer the task from training targets, following the table in this module's docstring.

    Parameters
    ----------
    y : array-like
        Targets: integer labels ``(N,)``, a 0/1 matrix ``(N, C)``, or real values
        ``(N,)`` / ``(N, F)``.
    kind : {"binary", "multiclass", "multilabel", "regression"}, optional
        Force the problem type instead of inferring it.
    loss : str, optional
        Use this loss instead of the kind's default; it must suit the kind and targets.

    Returns
    -------
    Task

    Raises
    ------
    ReglabError
        If the targets fit no task (NaN, negative labels, wrong shape), or if ``kind`` /
        ``loss`` do not suit them.
    ReglabTypeError
        If the targets are not numbers.

    Examples
    --------
    >>> import numpy as np
    >>> infer_task(np.array([0, 1, 1])).loss
    'binary_crossentropy'
    >>> infer_task(np.array([0, 2, 1])).n_outputs
    3
    >>> infer_task(np.array([0.5, 2.5])).activation
    'linear'
    >>> infer_task(np.array([3, 7, 9]), kind="regression").metric
    'mae'
    """
    if kind is not None:
        kind = check_choice("kind", kind, KINDS, owner="infer_task")
    if loss is not None:
        loss = check_choice("loss", loss, LOSSES, owner="infer_task")
    y = _checked_targets(y)
    labels = _label_layout(y)
    if kind is None:
        kind = _default_kind(y, labels)
    task = _task_for(kind, y, labels)
    return task if loss is None else _with_loss(task, loss)


def _checked_targets(y) -> np.ndarray:
    y = np.asarray(y)
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_):
        raise ReglabTypeError(
            invalid("y", "numeric targets", f"an array of dtype {y.dtype}", owner="infer_task")
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]  # a column of targets is the same problem as a vector (Keras agrees)
    if y.ndim not in (1, 2) or y.size == 0:
        raise ReglabError(
            invalid(
                "y",
                "a non-empty 1-D or 2-D array",
                f"an array of shape {y.shape}",
                owner="infer_task",
            )
        )
    if y.dtype == np.bool_:
        y = y.astype(np.int64)
    if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y)):
        raise ReglabError(
            invalid("y", "finite targets", "targets containing NaN or inf", owner="infer_task")
        )
    return y


def _label_layout(y: np.ndarray) -> str | None:
    """How ``y`` holds class labels: "integer", "onehot", "multihot", or None (not labels)."""
    is_int = np.issubdtype(y.dtype, np.integer)
    zero_one = bool(np.all((y == 0) | (y == 1)))
    if y.ndim == 2:
        if not zero_one:
            return None
        return "onehot" if np.all(y.sum(axis=1) == 1) else "multihot"
    if is_int:
        return "integer"
    # Float 0.0/1.0 vectors are labels saved as floats (Keras' text examples do this).
    return "integer" if zero_one else None


def _default_kind(y: np.ndarray, labels: str | None) -> str:
    if labels == "integer":
        if y.min() < 0:
            raise ReglabError(
                invalid(
                    "y",
                    "class labels >= 0 (or kind='regression')",
                    f"labels with minimum {y.min()}",
                    owner="infer_task",
                )
            )
        return "binary" if y.max() <= 1 else "multiclass"
    if labels == "onehot":
        return "multiclass"
    if labels == "multihot":
        return "multilabel"
    if np.issubdtype(y.dtype, np.integer):
        raise ReglabError(
            invalid(
                "y",
                "labels (a 0/1 matrix) or kind='regression' for integer values",
                f"a 2-D integer array with values in [{y.min()}, {y.max()}]",
                owner="infer_task",
            )
        )
    return "regression"


def _task_for(kind: str, y: np.ndarray, labels: str | None) -> Task:
    width = 1 if y.ndim == 1 else y.shape[1]
    if kind == "regression":
        unit = bool(np.all((y >= 0) & (y <= 1)))
        activation = "sigmoid" if unit else "linear"  # outputs squashed into the targets' range
        return Task("regression", width, activation, "mse", "mae", None)
    if kind == "binary":
        if y.ndim != 1 or not np.all((y >= 0) & (y <= 1)):
            _refuse(kind, "a vector of 0/1 labels (or probabilities in [0, 1])", y)
        return Task("binary", 1, "sigmoid", "binary_crossentropy", "accuracy", 2)
    if kind == "multiclass":
        if labels == "onehot":
            return Task(
                "multiclass", width, "softmax", "categorical_crossentropy", "accuracy", width
            )
        if labels != "integer" or y.min() < 0 or not np.all(y == np.round(y)):
            _refuse(kind, "integer labels >= 0 or a one-hot matrix", y)
        classes = int(y.max()) + 1
        return Task(
            "multiclass", classes, "softmax", "sparse_categorical_crossentropy", "accuracy", classes
        )
    if labels not in ("onehot", "multihot"):
        _refuse(kind, "a 2-D 0/1 matrix (samples, labels)", y)
    return Task("multilabel", width, "sigmoid", "binary_crossentropy", "accuracy", width)


def _with_loss(task: Task, loss: str) -> Task:
    if loss == task.loss:
        return task
    allowed = {
        "binary": ("binary_crossentropy", "mse"),
        "multiclass": (task.loss,),  # the label layout fixes it: integers or one-hot rows
        "multilabel": ("binary_crossentropy",),
        "regression": ("mse", "binary_crossentropy") if task.activation == "sigmoid" else ("mse",),
    }[task.kind]
    if loss not in allowed:
        listed = ", ".join(repr(a) for a in allowed)
        raise ReglabError(
            invalid(
                "loss",
                f"one of {listed} for {task.kind} targets of this layout",
                loss,
                owner="infer_task",
            )
        )
    # Every allowed alternative keeps a sigmoid output: BCE needs probabilities.
    return Task(task.kind, task.n_outputs, "sigmoid", loss, task.metric, task.num_classes)


def _refuse(kind: str, expected: str, y: np.ndarray) -> None:
    found = f"{y.ndim}-D {y.dtype} targets with values in [{y.min()}, {y.max()}]"
    raise ReglabError(invalid("y", f"{expected} for kind='{kind}'", found, owner="infer_task"))
