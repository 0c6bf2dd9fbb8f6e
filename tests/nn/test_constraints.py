"""Kernel constraints against Keras' formulas (NumPy), after a step, per member; and
GaussianDropout's multiplicative noise."""

import numpy as np
import pytest
import torch

from reglab import fit
from reglab.errors import ReglabError
from reglab.nn import (
    Conv2D,
    Dense,
    Flatten,
    GaussianDropout,
    MaxNorm,
    MinMaxNorm,
    NonNeg,
    Sequential,
    UnitNorm,
)
from reglab.nn.layers import Pass

EPS = 1e-7  # Keras' backend.epsilon()


def keras_norms(w, axis):
    return np.sqrt((w**2).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize(
    ("constraint", "reference"),
    [(MaxNorm(0.7), lambda w, n: w * np.clip(n, 0, 0.7) / (EPS + n)),
     (UnitNorm(), lambda w, n: w / (EPS + n)),
     (MinMaxNorm(0.5, 0.8, rate=0.5),
      lambda w, n: w * (0.5 * np.clip(n, 0.5, 0.8) + 0.5 * n) / (EPS + n)),
     (NonNeg(), lambda w, n: w * (w >= 0))],
)  # fmt: skip
def test_constraints_follow_keras_formulas(constraint, reference):
    w = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    ours = constraint(torch.as_tensor(w), (0,)).numpy()
    np.testing.assert_allclose(ours, reference(w, keras_norms(w, 0)), rtol=1e-5, atol=1e-7)


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype(np.float32) * 3
    return x, (x[:, 0] > 0).astype(int)


def test_max_norm_is_applied_after_the_step():
    x, y = data()
    options = dict(epochs=1, batch_size=64, optimizer="sgd", learning_rate=0.5, shuffle=False)
    free = Sequential([Dense(8, "relu"), Dense(None)])
    fit(free, x, y, **options)
    capped = Sequential([Dense(8, "relu", kernel_constraint=MaxNorm(0.3)), Dense(None)])
    fit(capped, x, y, **options)
    stepped = free.get_weights()[0]  # the same initial weights and one identical step
    expected = stepped * np.clip(keras_norms(stepped, 0), 0, 0.3) / (EPS + keras_norms(stepped, 0))
    np.testing.assert_allclose(capped.get_weights()[0], expected, rtol=1e-5, atol=1e-7)
    assert np.all(keras_norms(capped.get_weights()[0], 0) <= 0.3 + 1e-6)


def test_members_with_different_constraints_equal_their_single_fits():
    x, y = data()
    options = dict(epochs=3, batch_size=16, optimizer="sgd", learning_rate=0.2)
    constraints = [None, MaxNorm(0.5), NonNeg()]
    population = Sequential([Dense(8, "relu", kernel_constraint=constraints), Dense(None)])
    fit(population, x, y, seed=[0, 1, 2], **options)
    for k, constraint in enumerate(constraints):
        alone = Sequential([Dense(8, "relu", kernel_constraint=constraint), Dense(None)])
        fit(alone, x, y, seed=k, **options)
        for a, b in zip(population.get_weights(member=k), alone.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert population.get_weights(member=2)[0].min() >= 0.0


def test_a_conv2d_constraint_bounds_each_filter():
    rng = np.random.default_rng(0)
    x = rng.random((32, 1, 6, 6), dtype=np.float32)
    y = (x.mean((1, 2, 3)) > 0.5).astype(int)
    model = Sequential([Conv2D(3, 3, activation="relu", kernel_constraint=MaxNorm(0.2)),
                        Flatten(), Dense(None)])  # fmt: skip
    fit(model, x, y, epochs=2, learning_rate=0.1)
    kernel = model.get_weights()[0]  # (filters, channels, 3, 3)
    assert np.all(keras_norms(kernel, (1, 2, 3)) <= 0.2 + 1e-6)


def test_gaussian_dropout_multiplies_by_noise_of_mean_one():
    from reglab.data import infer_task

    layer_model = Sequential([GaussianDropout([0.0, 0.2, 0.5]), Dense(None)])
    layer_model.build((400,), infer_task(np.arange(3)), [0, 1, 2])
    layer_model.reset_generators([0, 1, 2], "cpu")
    layer = layer_model.layers[0]
    x = torch.full((3, 50, 400), 2.0)
    out = layer.forward(x, Pass(layer_model, training=True))
    assert torch.equal(out[0], x[0])
    for k, rate in [(1, 0.2), (2, 0.5)]:
        factor = (out[k] / 2.0).flatten()
        assert abs(factor.mean().item() - 1.0) < 0.02
        assert abs(factor.std().item() - np.sqrt(rate / (1 - rate))) < 0.03
    assert torch.equal(layer.forward(x, Pass(layer_model, training=False)), x)


def test_bad_constraints_are_refused_with_what_is_allowed():
    with pytest.raises(ReglabError, match=r"expected None or a constraint object such as "):
        Dense(3, kernel_constraint="max_norm")
    with pytest.raises(ReglabError, match=r"min_value must not exceed max_value"):
        MinMaxNorm(2.0, 1.0)
    with pytest.raises(ReglabError, match=r"`rate` of GaussianDropout"):
        GaussianDropout(1.0)
