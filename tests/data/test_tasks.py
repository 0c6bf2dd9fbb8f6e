"""infer_task: each row of the rule table, each override, each refusal."""

import numpy as np
import pytest

from reglab.data import Task, infer_task, to_categorical
from reglab.errors import ReglabError, ReglabTypeError


def _summary(task: Task):
    return task.kind, task.n_outputs, task.activation, task.loss, task.metric, task.num_classes


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        (np.array([0, 1, 1, 0]), ("binary", 1, "sigmoid", "binary_crossentropy", "accuracy", 2)),
        (np.array([[0], [1]]), ("binary", 1, "sigmoid", "binary_crossentropy", "accuracy", 2)),
        (
            np.array([1.0, 0.0, 1.0], np.float32),
            ("binary", 1, "sigmoid", "binary_crossentropy", "accuracy", 2),
        ),
        (np.array([True, False]), ("binary", 1, "sigmoid", "binary_crossentropy", "accuracy", 2)),
        (
            np.array([0, 3, 1, 2], np.uint8),
            ("multiclass", 4, "softmax", "sparse_categorical_crossentropy", "accuracy", 4),
        ),
        (
            np.array([1, 2, 5]),  # classes are 0..max: Keras' sparse labels
            ("multiclass", 6, "softmax", "sparse_categorical_crossentropy", "accuracy", 6),
        ),
        (
            to_categorical([0, 2, 1, 2]),
            ("multiclass", 3, "softmax", "categorical_crossentropy", "accuracy", 3),
        ),
        (
            np.array([[1, 0, 1], [0, 0, 1], [0, 0, 0]]),
            ("multilabel", 3, "sigmoid", "binary_crossentropy", "accuracy", 3),
        ),
        (np.array([151.0, 75.0, 3.5]), ("regression", 1, "linear", "mse", "mae", None)),
        (np.array([[1.5, -2.0], [0.1, 4.0]]), ("regression", 2, "linear", "mse", "mae", None)),
        (np.array([0.25, 0.5, 1.0, 0.0]), ("regression", 1, "sigmoid", "mse", "mae", None)),
    ],
    ids=[
        "binary",
        "binary-column",
        "binary-float",
        "binary-bool",
        "multiclass",
        "multiclass-max+1",
        "one-hot",
        "multilabel",
        "regression",
        "regression-2d",
        "regression-unit",
    ],
)
def test_rule_table(y, expected):
    assert _summary(infer_task(y)) == expected


def test_kind_regression_overrides_integer_labels():
    task = infer_task(np.array([3, 7, 12]), kind="regression")
    assert _summary(task) == ("regression", 1, "linear", "mse", "mae", None)


def test_kind_multiclass_on_binary_labels_gives_two_softmax_units():
    task = infer_task(np.array([0, 1]), kind="multiclass")
    assert (task.n_outputs, task.activation) == (2, "softmax")


def test_kind_multilabel_on_one_hot_rows():
    assert infer_task(to_categorical([0, 1]), kind="multilabel").activation == "sigmoid"


def test_kind_binary_accepts_probabilities():
    assert infer_task(np.array([0.2, 0.9]), kind="binary").loss == "binary_crossentropy"


def test_loss_bce_for_regression_in_the_unit_interval():
    task = infer_task(np.array([0.2, 0.7]), loss="binary_crossentropy")
    assert (task.kind, task.activation, task.loss, task.metric) == (
        "regression",
        "sigmoid",
        "binary_crossentropy",
        "mae",
    )


def test_loss_mse_for_binary_keeps_the_sigmoid():
    task = infer_task(np.array([0, 1]), loss="mse")
    assert (task.kind, task.activation, task.loss) == ("binary", "sigmoid", "mse")


def test_loss_the_kind_does_not_allow_is_refused():
    with pytest.raises(
        ReglabError,
        match=r"`loss` of infer_task: expected one of 'mse' for "
        r"regression targets of this layout. Received: loss='binary_crossentropy'",
    ):
        infer_task(np.array([2.5, 7.0]), loss="binary_crossentropy")


def test_categorical_loss_on_integer_labels_is_refused():
    with pytest.raises(ReglabError, match=r"expected one of 'sparse_categorical_crossentropy'"):
        infer_task(np.array([0, 1, 2]), loss="categorical_crossentropy")


def test_unknown_kind_suggests_the_closest():
    with pytest.raises(ReglabError, match=r"Received: kind='regresion'; did you mean 'regression'"):
        infer_task(np.array([1.0]), kind="regresion")


def test_kind_binary_on_many_classes_is_refused():
    with pytest.raises(
        ReglabError,
        match=r"expected a vector of 0/1 labels \(or probabilities in "
        r"\[0, 1\]\) for kind='binary'. Received: y='1-D int64 targets with values "
        r"in \[0, 4\]'",
    ):
        infer_task(np.array([0, 4]), kind="binary")


def test_kind_multilabel_on_a_vector_is_refused():
    with pytest.raises(
        ReglabError,
        match=r"a 2-D 0/1 matrix \(samples, labels\) for "
        r"kind='multilabel'",
    ):
        infer_task(np.array([0, 1]), kind="multilabel")


def test_string_targets_are_refused():
    with pytest.raises(
        ReglabTypeError,
        match=r"expected numeric targets. Received: y='an array "
        r"of dtype <U3'",
    ):
        infer_task(np.array(["cat", "dog"]))


def test_nan_targets_are_refused():
    with pytest.raises(
        ReglabError,
        match=r"expected finite targets. Received: y='targets "
        r"containing NaN or inf'",
    ):
        infer_task(np.array([1.0, np.nan]))


def test_negative_class_labels_are_refused():
    with pytest.raises(
        ReglabError,
        match=r"expected class labels >= 0 \(or kind='regression'\). "
        r"Received: y='labels with minimum -1'",
    ):
        infer_task(np.array([-1, 0, 1]))


@pytest.mark.parametrize(
    "y", [np.zeros((2, 2, 2)), np.array(3.0), np.array([])], ids=["3-D", "scalar", "empty"]
)
def test_wrong_shapes_are_refused(y):
    with pytest.raises(
        ReglabError,
        match=r"expected a non-empty 1-D or 2-D array. Received: "
        r"y='an array of shape",
    ):
        infer_task(y)


def test_2d_integer_values_that_are_not_labels_are_refused():
    with pytest.raises(ReglabError, match=r"a 2-D integer array with values in \[0, 5\]"):
        infer_task(np.array([[0, 5], [1, 2]]))
