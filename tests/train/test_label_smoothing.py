"""Label smoothing: Keras' formula, the loss and its gradient in both training paths."""

import numpy as np
import pytest
import torch

from reglab import ReglabError, fit, mlp
from reglab.data import infer_task


def _data(n=24, features=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    return x, x[:, :classes].argmax(1).astype(np.int64)


def _softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _one_step(y, ls, *, autograd, lr=0.5):
    """A linear model, one SGD step over the whole batch: its weights before and after."""
    x, _ = _data()
    model = mlp([])
    model.build(x.shape[1], infer_task(y), [3])
    model.force_autograd = autograd
    w0, b0 = (a.astype(np.float64) for a in model.get_weights())
    h = fit(model, x, y, epochs=1, batch_size=len(x), optimizer="sgd", learning_rate=lr,
            seed=3, label_smoothing=ls, validation_data=(x, y))  # fmt: skip
    w1, b1 = (a.astype(np.float64) for a in model.get_weights())
    return x.astype(np.float64), (w0, b0.reshape(-1)), (w1, b1.reshape(-1)), h, model


@pytest.mark.parametrize("autograd", [False, True])
@pytest.mark.parametrize("labels", ["sparse", "one_hot"])
def test_categorical_loss_and_gradient_match_keras_formula(autograd, labels):
    _, y = _data()
    target = y if labels == "sparse" else np.eye(3, dtype=np.float32)[y]
    ls, lr = 0.2, 0.5
    x, (w0, b0), (w1, b1), h, model = _one_step(target, ls, autograd=autograd, lr=lr)
    assert model.fast_path is not autograd
    smooth = np.eye(3)[y] * (1 - ls) + ls / 3  # Keras: y * (1 - ls) + ls / num_classes
    p = _softmax(x @ w0 + b0)
    loss = -(smooth * np.log(p)).sum(1).mean()
    assert h.rows[0]["data_loss"] == pytest.approx(loss, rel=1e-5)
    grad = (p - smooth) / len(x)  # d loss / d logits of the mean soft cross-entropy
    np.testing.assert_allclose(w1, w0 - lr * x.T @ grad, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b1, b0 - lr * grad.sum(0), rtol=1e-5, atol=1e-6)
    # Evaluation scores the hard labels: the unsmoothed loss of the weights after the step.
    p1 = _softmax(x @ w1 + b1)
    hard = -np.log(p1[np.arange(len(y)), y]).mean()
    assert h.final["loss"] == pytest.approx(hard, rel=1e-5)
    assert h.rows[0]["val_loss"] == pytest.approx(hard, rel=1e-5)


@pytest.mark.parametrize("autograd", [False, True])
@pytest.mark.parametrize("outputs", [1, 2])
def test_binary_loss_and_gradient_match_keras_formula(autograd, outputs):
    x, _ = _data()
    y = (x[:, :outputs] > 0).astype(np.float32)
    if outputs == 1:
        y = y[:, 0]
    ls, lr = 0.3, 0.5
    x, (w0, b0), (w1, b1), h, _ = _one_step(y, ls, autograd=autograd, lr=lr)
    yy = y.reshape(len(x), -1).astype(np.float64)
    smooth = yy * (1 - ls) + 0.5 * ls  # Keras' BinaryCrossentropy smoothing
    p = _sigmoid(x @ w0 + b0)
    loss = -(smooth * np.log(p) + (1 - smooth) * np.log(1 - p)).mean(1).mean()
    assert h.rows[0]["data_loss"] == pytest.approx(loss, rel=1e-5)
    grad = (p - smooth) / (len(x) * outputs)
    np.testing.assert_allclose(w1, w0 - lr * x.T @ grad, rtol=1e-5, atol=1e-6)
    p1 = _sigmoid(x @ w1 + b1)
    hard = -(yy * np.log(p1) + (1 - yy) * np.log(1 - p1)).mean(1).mean()
    assert h.final["loss"] == pytest.approx(hard, rel=1e-5)
    # The training accuracy compares with the hard labels (a smoothed 0.85 is never "equal").
    assert h.rows[0]["accuracy"] == pytest.approx(
        ((x @ w0 + b0 > 0) == (yy > 0.5)).mean(), abs=1e-6
    )


def test_population_members_with_different_smoothing_equal_their_single_fits():
    x, y = _data(n=70)
    values = [0.0, 0.1, 0.3]
    settings = dict(epochs=3, batch_size=16, validation_data=(x, y))
    population = fit(mlp([8], members=3), x, y, seed=[0, 1, 2], label_smoothing=values,
                     **settings)  # fmt: skip
    for m, value in enumerate(values):
        single = fit(mlp([8]), x, y, seed=m, label_smoothing=value, **settings)
        for ours, theirs in zip(population[m].rows, single.rows):
            for key in ("loss", "accuracy", "val_loss"):
                assert ours[key] == pytest.approx(theirs[key], rel=1e-5), key
        assert population[m].final == pytest.approx(single.final, rel=1e-5)
    assert population[0].rows[-1]["loss"] != pytest.approx(population[2].rows[-1]["loss"])


def test_regression_refuses_label_smoothing():
    x, _ = _data()
    with pytest.raises(ReglabError, match=r"`label_smoothing` of fit: .*regression.*"
                                          r"Received: label_smoothing=0\.1"):  # fmt: skip
        fit(mlp([4]), x, x.sum(1), label_smoothing=0.1)


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_label_smoothing_outside_zero_one_is_refused(value):
    x, y = _data()
    expected = r"`label_smoothing` of fit: expected a float in \[0, 1\]"
    with pytest.raises(ReglabError, match=expected):
        fit(mlp([4]), x, y, label_smoothing=value)


def test_one_smoothing_per_member():
    x, y = _data()
    with pytest.raises(ReglabError, match="`label_smoothing` of fit: expected one value per"):
        fit(mlp([4], members=2), x, y, seed=[0, 1], label_smoothing=[0.1, 0.2, 0.3])


def test_smoothed_targets_sum_to_one():
    from reglab.nn.heads import Head

    _, y = _data()
    head = Head(infer_task(y))
    soft = head.smooth(head.probabilities(torch.as_tensor(y)[None]), torch.tensor(0.25))
    np.testing.assert_allclose(soft.sum(-1).numpy(), 1.0, rtol=1e-6)
    assert soft.min().item() == pytest.approx(0.25 / 3)
