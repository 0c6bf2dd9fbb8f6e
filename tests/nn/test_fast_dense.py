"""The MLP's hand-written gradients against autograd, and head gradients against autograd."""

import numpy as np
import pytest
import torch

from reglab.data import infer_task
from reglab.nn import L2, mlp
from reglab.nn.heads import Head
from reglab.train.inputs import Batch

TARGETS = {
    "sparse": np.array([0, 1, 2, 1]),
    "onehot": np.eye(3)[[0, 1, 2, 1]],
    "binary": np.array([0, 1, 1, 0]),
    "multilabel": np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]]),
    "regression": np.array([0.5, -2.0, 3.0, 1.5]),
    "unit_interval": np.array([0.1, 0.9, 0.5, 0.3]),
}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_head_loss_gradient_equals_autograd(name):
    y_np = TARGETS[name]
    head = Head(infer_task(y_np))
    logits = torch.randn(2, 4, head.task.n_outputs, requires_grad=True)
    y = head.targets(y_np, torch.device("cpu"))
    y = y.unsqueeze(0).expand(2, *y.shape)
    head.loss(logits, y).sum().backward()
    torch.testing.assert_close(head.loss_gradient(logits.detach(), y), logits.grad)


def _pair(**options):
    """Two identical built models: one takes the hand-written path, one autograd."""
    models = []
    for force in (False, True):
        model = mlp(**options)
        model.build(5, infer_task(np.array([0, 1, 2])), list(range(model.members)))
        model.reset_generators(list(range(model.members)), "cpu")
        model.force_autograd = force
        models.append(model)
    assert models[0].fast_path and not models[1].fast_path
    return models


@pytest.mark.parametrize(
    "options",
    [
        dict(hidden=[7, 6]),
        dict(
            hidden=[7], activation="tanh", dropout=[0.0, 0.5], dropout_mode=["inverted", "classic"]
        ),
        dict(hidden=[7, 4], activation="sigmoid", dropconnect=[0.3, 0.0]),
        dict(
            hidden=[6],
            activation="linear",
            dropout=0.2,
            dropconnect=0.2,
            kernel_regularizer=L2(0.1),
        ),
    ],
)
def test_hand_written_gradients_equal_autograd(options):
    manual, auto = _pair(**options)
    x = torch.randn(manual.members, 8, 5)
    y = torch.randint(0, 3, (manual.members, 8))
    loss_m, metric_m = manual.train_step(x, y, None)
    loss_a, metric_a = auto.train_step(x, y, None)
    torch.testing.assert_close(loss_m, loss_a)
    torch.testing.assert_close(metric_m, metric_a)
    torch.testing.assert_close(manual.grad, auto.grad, rtol=1e-5, atol=1e-6)


def test_hand_written_gradients_equal_autograd_with_padded_rows():
    manual, auto = _pair(hidden=[6], dropout=[0.3, 0.3], members=2)
    x = torch.randn(2, 5, 5)
    y = torch.randint(0, 3, (2, 5))
    weight = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], dtype=torch.float32).unsqueeze(-1)
    batch = Batch(torch.zeros(2, 5, dtype=torch.long), [5, 2], weight, [0, 1])
    manual.train_step(x, y, batch)
    auto.train_step(x, y, batch)
    torch.testing.assert_close(manual.grad, auto.grad, rtol=1e-5, atol=1e-6)


def test_sparse_first_layer_hand_written_gradients_equal_autograd():
    from reglab.data import multi_hot
    from reglab.train.inputs import Inputs

    rng = np.random.default_rng(0)
    rows = multi_hot(
        [rng.integers(0, 30, rng.integers(1, 9)).tolist() for _ in range(6)], 30, sparse=True
    )
    models = []
    for force in (False, True):
        model = mlp([5], dropout=[0.0, 0.4], members=2)
        model.build(30, infer_task(np.array([0, 1, 2])), [0, 1], sparse_input=True)
        model.reset_generators([0, 1], "cpu")
        model.force_autograd = force
        models.append(model)
    index = torch.tensor([[0, 1, 2, 3], [5, 4, 3, 2]])
    x = Inputs(rows, torch.device("cpu")).gather(index)
    y = torch.randint(0, 3, (2, 4))
    for model in models:
        model.train_step(x, y, None)
    torch.testing.assert_close(models[0].grad, models[1].grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_batch_terms_equal_the_separate_loss_metric_and_gradient(name):
    y_np = TARGETS[name]
    head = Head(infer_task(y_np))
    logits = torch.randn(2, 4, head.task.n_outputs)
    y = head.targets(y_np, torch.device("cpu"))
    y = y.unsqueeze(0).expand(2, *y.shape)
    loss, metric, grad = head.batch_terms(logits, y, 0.25)
    torch.testing.assert_close(loss, head.loss(logits, y))
    torch.testing.assert_close(metric, head.metric(logits, y))
    torch.testing.assert_close(grad, head.loss_gradient(logits, y) * 0.25)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_batch_terms_round_each_row_the_same_whatever_the_batch_shape(name):
    # A member trained in a population (K rows of padded batches) must get the very
    # bits it gets when trained alone, or Adam turns the difference into drift.
    y_np = TARGETS[name]
    head = Head(infer_task(y_np))
    y = head.targets(np.concatenate([y_np] * 10), torch.device("cpu"))  # beyond SIMD width
    rows = len(y)
    population_y = torch.stack([y[torch.randperm(rows)] for _ in range(5)])
    logits = torch.randn(5, rows, head.task.n_outputs) * 3
    loss, metric, grad = head.batch_terms(logits, population_y, 0.125)
    for member in range(5):
        for length in (1, rows // 2, rows):
            alone = head.batch_terms(
                logits[member : member + 1, :length].clone(),
                population_y[member : member + 1, :length].clone(),
                0.125,
            )
            assert torch.equal(alone[0], loss[member : member + 1, :length])
            assert torch.equal(alone[1], metric[member : member + 1, :length])
            assert torch.equal(alone[2], grad[member : member + 1, :length])


@pytest.mark.parametrize("force_autograd", [False, True])
def test_padded_output_columns_stay_zero_and_stay_hidden(force_autograd):
    from reglab import fit

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    model = mlp([8], dropout=0.2)
    model.force_autograd = force_autograd
    fit(model, x, y, epochs=2, batch_size=16)
    kernel, bias = model.layout["output/kernel"], model.layout["output/bias"]
    assert kernel.stored_shape == (8, 16) and bias.stored_shape == (1, 16)
    assert model.kernels(0)["output/kernel"].shape == (8, 10)
    assert torch.count_nonzero(kernel.stored_view(model.bank)[..., 10:]) == 0
    assert torch.count_nonzero(bias.stored_view(model.bank)[..., 10:]) == 0
    assert model.member_state_dict(0)["output/kernel"].shape == (8, 10)


def test_sigmoid_rounds_each_element_the_same_in_any_shape():
    # torch.sigmoid's SIMD body and scalar tail round differently, so a value's bits
    # would depend on its position in the tensor; the MLP's and the heads' sigmoid
    # must not, and must still be the sigmoid.
    from reglab.nn.heads import sigmoid, sigmoid_

    z = torch.randn(4099) * 4
    whole = sigmoid(z)
    pieces = torch.cat([sigmoid(z[i : i + 13]) for i in range(0, len(z), 13)])
    assert torch.equal(whole, pieces)
    assert torch.equal(sigmoid_(z.clone()), whole)
    torch.testing.assert_close(whole, torch.sigmoid(z), rtol=2e-7, atol=0.0)
