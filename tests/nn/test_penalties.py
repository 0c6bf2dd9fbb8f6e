"""Penalties against NumPy formulas (Keras' definitions), values and gradients."""

import numpy as np
import pytest
import torch

from reglab.errors import ReglabError, ReglabTypeError
from reglab.nn import L1, L2, ElasticNet, mlp

W = np.array([[0.5, -1.5, 0.0], [2.0, -0.25, 1.0]], dtype=np.float32)


@pytest.mark.parametrize(
    ("penalty", "expected"),
    [
        (L1(0.1), 0.1 * np.abs(W).sum()),
        (L2(0.1), 0.1 * np.square(W).sum()),
        (ElasticNet(0.1, 0.2), 0.1 * np.abs(W).sum() + 0.2 * np.square(W).sum()),
    ],
)
def test_penalty_value_matches_numpy_formula(penalty, expected):
    assert float(penalty(torch.tensor(W))) == pytest.approx(expected, rel=1e-6)


def test_penalty_gradient_matches_numpy_formula():
    w = torch.tensor(W, requires_grad=True)
    ElasticNet(0.1, 0.2)(w).backward()
    expected = 0.1 * np.sign(W) + 2 * 0.2 * W
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-6)


def test_negative_strength_is_refused_with_its_name():
    with pytest.raises(
        ReglabError, match=r"`l2` of L2: expected a float in \[0, inf\)\. Received: l2=-0\.1"
    ):
        L2(-0.1)


def test_string_penalty_is_refused_in_python():
    with pytest.raises(ReglabTypeError, match="expected None or a penalty object"):
        mlp([4], kernel_regularizer="l2")


def _built(model, n_inputs=3):
    from reglab.data import infer_task

    model.build(n_inputs, infer_task(np.array([0, 1, 2])), list(range(model.members)))
    return model


def test_population_penalty_equals_sum_over_hidden_kernels_per_member():
    model = _built(mlp([4, 5], kernel_regularizer=[None, L2(0.1), ElasticNet(0.01, 0.02)]))
    values = model.penalty().numpy()
    for member, (l1, l2) in enumerate([(0, 0), (0, 0.1), (0.01, 0.02)]):
        kernels = [k for name, k in model.kernels(member).items() if not name.startswith("output")]
        expected = sum(l1 * np.abs(k).sum() + l2 * np.square(k).sum() for k in kernels)
        assert values[member] == pytest.approx(expected, rel=1e-5)


def test_biases_are_untouched_unless_asked():
    model = _built(mlp([4], kernel_regularizer=L2(0.1)))
    grad = torch.zeros_like(model.bank)
    model.add_penalty_grad_(grad)
    bias = model.layout["dense_0/bias"]
    assert grad[0, bias.offset : bias.offset + bias.size].abs().sum() == 0
    with_bias = _built(mlp([4], kernel_regularizer=L2(0.1), bias_regularizer=L1(0.5)))
    with torch.no_grad():
        with_bias.bank.fill_(1.0)
    grad = torch.zeros_like(with_bias.bank)
    with_bias.add_penalty_grad_(grad)
    assert torch.all(grad[0, bias.offset : bias.offset + bias.size] == 0.5)


def test_analytic_penalty_gradient_equals_autograd():
    model = _built(mlp([4, 4], kernel_regularizer=ElasticNet(0.03, 0.07)))
    grad = torch.zeros_like(model.bank)
    model.add_penalty_grad_(grad)
    bank = model.bank.detach().clone().requires_grad_(True)
    total = 0
    for slot in model.layout.of_kind("kernel"):
        if slot.name.startswith("output"):
            continue
        w = slot.view(bank)
        total = total + 0.03 * w.abs().sum() + 0.07 * w.square().sum()
    total.backward()
    torch.testing.assert_close(grad, bank.grad)


def test_proximal_l1_soft_thresholds_to_exact_zeros():
    model = _built(mlp([4], kernel_regularizer=L1(1.0, proximal=True)))
    kernel = model.layout["dense_0/kernel"]
    before = kernel.view(model.bank)[0].detach().clone()
    model.proximal_(torch.tensor([[0.3]]), None)
    after = kernel.view(model.bank)[0].detach()
    expected = np.sign(before.numpy()) * np.maximum(np.abs(before.numpy()) - 0.3, 0.0)
    np.testing.assert_allclose(after.numpy(), expected, atol=1e-7)
    assert model.sparsity()[0]["dense_0/kernel"] == pytest.approx((expected == 0).mean())


def test_penalty_blocks_cover_exactly_the_penalised_members_and_kernels():
    # Members with a penalty are not contiguous here, and the hidden kernels are split by
    # a bias: the blocks must still give every member exactly its own formula.
    penalties = [L1(0.1), None, L1(0.2), L2(0.3), ElasticNet(0.01, 0.02), None]
    model = _built(mlp([4, 5], kernel_regularizer=penalties))
    with torch.no_grad():
        model.bank.copy_(torch.randn_like(model.bank))
    grad = torch.zeros_like(model.bank)
    model.add_penalty_grad_(grad)
    values = model.penalty().numpy()
    bank = model.bank.numpy()
    for member, penalty in enumerate(penalties):
        l1, l2 = (0.0, 0.0) if penalty is None else (penalty.l1, penalty.l2)
        expected_value, expected_grad = 0.0, np.zeros(bank.shape[1], dtype=np.float32)
        for slot in model.layout.of_kind("kernel"):
            if slot.name.startswith("output"):
                continue
            cols = slice(slot.offset, slot.offset + slot.size)
            w = bank[member, cols]
            expected_value += l1 * np.abs(w).sum() + l2 * np.square(w).sum()
            expected_grad[cols] = l1 * np.sign(w) + 2 * l2 * w
        assert values[member] == pytest.approx(expected_value, rel=1e-5, abs=1e-12)
        np.testing.assert_allclose(grad[member].numpy(), expected_grad, rtol=1e-6, atol=1e-7)
