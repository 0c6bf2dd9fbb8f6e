"""Sequential populations: per-layer penalties (Keras' formulas), penalties with their own
definition, the fast step against the general path, weights and members."""

import numpy as np
import pytest
import torch

from reglab import fit
from reglab.errors import ReglabError
from reglab.nn import (
    L1,
    L2,
    BatchNorm,
    Dense,
    DropConnect,
    Dropout,
    ElasticNet,
    GaussianNoise,
    Penalty,
    Sequential,
    member,
)


def data(n=96, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    return x, rng.integers(0, classes, n)


def tutorial_model(first, second):
    """The tutorial's two Dense layers, each with its own kernel_regularizer."""
    return Sequential([Dense(16, "relu", kernel_regularizer=first),
                       Dense(None, kernel_regularizer=second)])  # fmt: skip


@pytest.mark.parametrize(
    ("first", "second"),
    [(L2(0.1), L2(0.1)), (L2(0.001), None), (None, L1(0.01)), (ElasticNet(0.01, 0.02), L2(0.5))],
)
def test_per_layer_penalties_follow_keras_formulas(first, second):
    x, y = data()
    model = tutorial_model(first, second)
    fit(model, x, y, epochs=1)
    w1, _, w2, _ = model.get_weights()

    def keras(penalty, w):  # Keras: l1 * sum|w| + l2 * sum(w^2), per layer
        return 0.0 if penalty is None else penalty.l1 * np.abs(w).sum() + penalty.l2 * (w**2).sum()

    expected = keras(first, w1) + keras(second, w2)
    np.testing.assert_allclose(model.penalty().item(), expected, rtol=1e-5)


def test_history_penalty_is_the_sum_of_the_layers_penalties():
    x, y = data()
    model = tutorial_model(L2(0.1), L2(0.1))
    history = fit(model, x, y, epochs=2, batch_size=96, shuffle=False)
    # With one batch per epoch the epoch's penalty is the penalty before its single step.
    before = Sequential([Dense(16, "relu"), Dense(None)])
    fit(before, x, y, epochs=1, batch_size=96, optimizer="sgd", learning_rate=1e-30)
    w1, _, w2, _ = before.get_weights()
    np.testing.assert_allclose(history.rows[0]["penalty"], 0.1 * ((w1**2).sum() + (w2**2).sum()),
                               rtol=1e-5)  # fmt: skip


class QuarticPenalty(Penalty):
    """A penalty with its own definition: l * sum(w^4)."""

    def __init__(self, strength):
        super().__init__()
        self.strength = strength

    def __call__(self, weight):
        return self.strength * weight.pow(4).sum()


class SquaredPenalty(Penalty):
    """L2's formula written as a user would, to check the general penalty path."""

    def __init__(self, strength):
        super().__init__()
        self.strength = strength

    def __call__(self, weight):
        return self.strength * (weight * weight).sum()


def test_a_penalty_subclass_trains_with_its_own_value():
    x, y = data()
    model = tutorial_model(QuarticPenalty(0.5), None)
    history = fit(model, x, y, epochs=2)
    w1 = model.get_weights()[0]
    np.testing.assert_allclose(model.penalty().item(), 0.5 * (w1**4).sum(), rtol=1e-5)
    assert history.rows[-1]["penalty"] > 0


def test_a_penalty_subclass_trains_like_the_builtin_with_the_same_formula():
    x, y = data()
    builtin, custom = tutorial_model(L2(0.05), None), tutorial_model(SquaredPenalty(0.05), None)
    h1 = fit(builtin, x, y, epochs=3, seed=4)
    h2 = fit(custom, x, y, epochs=3, seed=4)
    for a, b in zip(builtin.get_weights(), custom.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(h1.history["penalty"], h2.history["penalty"], rtol=1e-4)


def test_builtin_penalty_blocks_equal_penalty_call():
    x, y = data()
    penalty = ElasticNet(0.01, 0.03)
    model = tutorial_model(penalty, penalty)
    fit(model, x, y, epochs=1)
    total = sum(penalty(torch.as_tensor(w)) for w in model.get_weights()[::2])
    np.testing.assert_allclose(model.penalty().item(), total.item(), rtol=1e-5)


def test_a_penalty_whose_call_returns_no_tensor_is_refused_with_its_name():
    class Broken(Penalty):
        def __call__(self, weight):
            return 1.0

    x, y = data()
    with pytest.raises(ReglabError, match=r"its __call__ must return a scalar tensor"):
        fit(tutorial_model(Broken(), None), x, y)


def fast_and_general(layers, x, y, **options):
    models = [Sequential(layers), Sequential(layers)]
    models[1].force_autograd = True
    histories = []
    for model in models:
        histories.append(fit(model, x, y, **options))
    assert models[0].fast_path and not models[1].fast_path
    return models, histories


@pytest.mark.parametrize(
    "layers",
    [[Dense(12, "tanh", kernel_regularizer=[L2(1e-2), None]), Dropout([0.2, 0.0]),
      DropConnect(8, rate=[0.0, 0.3], activation="relu", kernel_regularizer=L1(1e-3)),
      Dense(None, kernel_regularizer=[None, L2(0.1)])],
     [Dense(10, "sigmoid"), Dropout([0.5, 0.25], mode=["classic", "inverted"]), Dense(None)]],
)  # fmt: skip
def test_the_fast_step_equals_the_general_path(layers):
    x, y = data()
    (fast, general), (h_fast, h_general) = fast_and_general(
        layers, x, y, epochs=3, seed=[3, 4], batch_size=20
    )
    for a, b in zip(fast.get_weights(), general.get_weights()):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-6)
    for hf, hg in zip(h_fast, h_general):
        np.testing.assert_allclose(hf.history["loss"], hg.history["loss"], rtol=1e-5)


@pytest.mark.parametrize(
    "layers",
    [[Dense(8, "relu"), BatchNorm(), Dense(None)], [Dense(8, "elu"), Dense(None)],
     [GaussianNoise(0.1), Dense(8, "relu"), Dense(None)], [Dropout(0.2), Dense(None)]],
)  # fmt: skip
def test_stacks_the_fast_step_does_not_cover_train_through_autograd(layers):
    x, y = data()
    model = Sequential(layers)
    fit(model, x, y, epochs=1)
    assert not model.fast_path


def test_get_weights_has_keras_shapes_with_a_member_axis():
    x, y = data()
    model = Sequential([Dense(5, "relu"), Dense(None)], members=2)
    fit(model, x, y, seed=[0, 1])
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(2, 6, 5), (2, 1, 5), (2, 5, 3), (2, 1, 3)]
    assert [w.shape for w in model.get_weights(member=1)] == [(6, 5), (1, 5), (5, 3), (1, 3)]
    kernel, bias = model.get_weights(member=0, layer="dense_1")
    assert kernel.shape == (5, 3) and bias.shape == (1, 3)
    with pytest.raises(ReglabError, match=r"no layer 'dense_2' has weights; .*did you mean"):
        model.get_weights(layer="dense_2")


def test_a_member_alone_predicts_as_it_did_in_its_population():
    x, y = data()
    model = Sequential([Dense(5, "relu"), Dropout([0.1, 0.4]), Dense(None)])
    fit(model, x, y, seed=[0, 1], epochs=2)
    from reglab import predict

    alone = member(model, 1)
    assert alone.members == 1
    np.testing.assert_allclose(predict(alone, x), predict(model, x)[1], rtol=1e-6)


def test_per_member_lists_of_different_lengths_are_refused():
    with pytest.raises(ReglabError, match=r"lists of \[2, 3\] values"):
        Sequential([Dense(4, kernel_regularizer=[None, L2(0.1)]), Dropout([0.1, 0.2, 0.3]),
                    Dense(None)])  # fmt: skip
    with pytest.raises(ReglabError, match=r"layer names must be distinct"):
        Sequential([Dense(4, name="a"), Dense(None, name="a")])


def test_layers_are_copied_so_one_list_builds_several_models():
    layers = [Dense(4, "relu"), Dropout([0.1, 0.2]), Dense(None)]
    Sequential(layers)
    assert Sequential(layers).members == 2
    assert layers[1].rate == [0.1, 0.2] and layers[1].members is None
