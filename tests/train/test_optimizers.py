"""Population optimizers against Keras' update formulas (a NumPy reference written here),
reglab's first-release rules against torch.optim, frozen members, and bad settings."""

import math

import numpy as np
import pytest
import torch

from reglab.errors import ReglabError
from reglab.nn.layout import Layout
from reglab.train.optimizers import make_optimizer, optimizer_defaults

# --- Keras 3's update_step, transcribed from keras/src/optimizers/*.py in float64 ---------


def keras_sgd(w, grads, lr, momentum=0.0, nesterov=False):
    m = np.zeros_like(w)
    for g in grads:
        if momentum:
            m = momentum * m - lr * g
            w = w + (momentum * m - lr * g if nesterov else m)
        else:
            w = w - lr * g
        yield w


def keras_rmsprop(w, grads, lr, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    velocity, mom, average = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        velocity = rho * velocity + (1 - rho) * g**2
        if centered:
            average = rho * average + (1 - rho) * g
            denominator = velocity - average**2 + epsilon
        else:
            denominator = velocity + epsilon
        increment = lr * g / np.sqrt(denominator)
        if momentum:
            mom = momentum * mom + increment
            w = w - mom
        else:
            w = w - increment
        yield w


def keras_adam(w, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None, mask=1.0):
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        if weight_decay is not None:  # base_optimizer._apply_weight_decay, before the step
            w = w - w * weight_decay * lr * mask
        alpha = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m = m + (g - m) * (1 - beta_1)
        v = v + (g**2 - v) * (1 - beta_2)
        w = w - m * alpha / (np.sqrt(v) + epsilon)
        yield w


KERAS_CASES = {
    "sgd": (dict(), keras_sgd, {}),
    "sgd_momentum": (dict(momentum=0.8), keras_sgd, dict(momentum=0.8)),
    "sgd_nesterov": (dict(momentum=0.7, nesterov=True), keras_sgd,
                     dict(momentum=0.7, nesterov=True)),
    "rmsprop": (dict(rho=0.8, epsilon=1e-3), keras_rmsprop, dict(rho=0.8, epsilon=1e-3)),
    "rmsprop_momentum": (dict(rho=0.7, momentum=0.5, epsilon=1e-4), keras_rmsprop,
                         dict(rho=0.7, momentum=0.5, epsilon=1e-4)),
    "rmsprop_centered": (dict(centered=True, epsilon=1e-3), keras_rmsprop,
                         dict(centered=True, epsilon=1e-3)),
    "adam": (dict(beta_1=0.8, beta_2=0.95, epsilon=1e-3), keras_adam,
             dict(beta_1=0.8, beta_2=0.95, epsilon=1e-3)),
    "adamw": (dict(beta_1=0.85, beta_2=0.99, epsilon=1e-4, weight_decay=0.3), keras_adam,
              dict(beta_1=0.85, beta_2=0.99, epsilon=1e-4, weight_decay=0.3)),
}  # fmt: skip


@pytest.mark.parametrize("lrs", [[0.05, 0.05, 0.05], [0.05, 0.01, 0.2]], ids=["shared", "mixed"])
@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_each_step_follows_keras_update_formula(case, lrs):
    # Shared rates take the whole-bank kernels, mixed rates the per-member ones.
    options, reference, constants = KERAS_CASES[case]
    rng = np.random.default_rng(3)
    start = rng.normal(size=(3, 7))
    grads = [rng.normal(size=(3, 7)) for _ in range(5)]
    bank = torch.tensor(start, dtype=torch.float32)
    grad = torch.zeros_like(bank)
    ours = make_optimizer(case.split("_")[0], bank, grad, lrs, **options)
    expected = [list(reference(start[m], [g[m] for g in grads], lrs[m], **constants))
                for m in range(3)]  # fmt: skip
    for step, g in enumerate(grads):
        grad.copy_(torch.tensor(g))
        ours.step()
        for m in range(3):
            np.testing.assert_allclose(bank[m].numpy(), expected[m][step], rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize(
    "name, reference, defaults",
    [
        ("sgd", keras_sgd, {}),
        ("rmsprop", keras_rmsprop, dict(rho=0.9, epsilon=1e-7)),
        ("adam", keras_adam, dict(beta_1=0.9, beta_2=0.999, epsilon=1e-7)),
        ("adamw", keras_adam, dict(beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.004)),
    ],
)
def test_unset_constants_are_keras_defaults(name, reference, defaults):
    # The numbers Keras 3 documents, typed here (not read from reglab's table).
    rng = np.random.default_rng(5)
    start, grads = rng.normal(size=(1, 9)), [rng.normal(size=(1, 9)) * 1e-3 for _ in range(3)]
    bank = torch.tensor(start, dtype=torch.float32)
    grad = torch.zeros_like(bank)
    ours = make_optimizer(name, bank, grad, [0.01])
    *_, expected = reference(start[0], [g[0] for g in grads], 0.01, **defaults)
    for g in grads:
        grad.copy_(torch.tensor(g))
        ours.step()
    np.testing.assert_allclose(bank[0].numpy(), expected, rtol=1e-5, atol=1e-7)


def test_adam_with_a_tiny_gradient_shows_keras_epsilon_placement():
    # Keras adds epsilon to sqrt(v), PyTorch to sqrt(v_hat): with |g| near epsilon the
    # first step differs by a factor of about 1.3 between the two.
    bank, grad = torch.zeros(1, 1), torch.full((1, 1), 1e-7)
    make_optimizer("adam", bank, grad, [1.0]).step()
    # Step 1: lr_t = sqrt(1 - 0.999) / (1 - 0.9); m = 0.1 g; sqrt(v) = sqrt(0.001) g.
    g = 1e-7
    expected = -math.sqrt(0.001) / 0.1 * (0.1 * g) / (math.sqrt(0.001) * g + 1e-7)
    assert bank.item() == pytest.approx(expected, rel=1e-5)


def test_masked_weight_decay_leaves_excluded_variables_undecayed():
    layout = Layout()
    layout.add("dense/kernel", (2, 2), "kernel")
    layout.add("dense/bias", (1, 2), "bias")
    layout.add("bn/gamma", (2,), "gamma")
    layout.add("bn/beta", (2,), "beta")
    start = torch.arange(1.0, 11.0).view(1, 10)
    for exclude, kept in [(["bias"], [4, 5]), (["bias", "batchnorm"], [4, 5, 6, 7, 8, 9])]:
        bank, grad = start.clone(), torch.zeros(1, 10)  # zero gradients: only the decay acts
        opt = make_optimizer("adamw", bank, grad, [0.5], weight_decay=0.1,
                             weight_decay_exclude=exclude, layout=layout)  # fmt: skip
        opt.step()
        expected = start * (1 - 0.5 * 0.1)  # Keras: w -= w * wd * lr
        expected[0, kept] = start[0, kept]
        torch.testing.assert_close(bank, expected)


def test_masked_decay_follows_keras_over_several_steps():
    layout = Layout()
    layout.add("k", (3,), "kernel")
    layout.add("b", (2,), "bias")
    rng = np.random.default_rng(7)
    start, grads = rng.normal(size=(2, 5)), [rng.normal(size=(2, 5)) for _ in range(4)]
    bank, grad = torch.tensor(start, dtype=torch.float32), torch.zeros(2, 5)
    lrs = [0.1, 0.02]
    opt = make_optimizer("adamw", bank, grad, lrs, weight_decay=0.2,
                         weight_decay_exclude=["bias"], layout=layout)  # fmt: skip
    mask = np.array([1.0, 1.0, 1.0, 0.0, 0.0])
    for g in grads:
        grad.copy_(torch.tensor(g))
        opt.step()
    for m in range(2):
        *_, expected = keras_adam(start[m], [g[m] for g in grads], lrs[m], weight_decay=0.2,
                                  mask=mask)  # fmt: skip
        np.testing.assert_allclose(bank[m].numpy(), expected, rtol=1e-5, atol=1e-6)


def test_each_release_has_its_constants():
    assert optimizer_defaults("adam", 1) == dict(
        formula="torch", learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8
    )
    assert optimizer_defaults("rmsprop", 2) == dict(
        formula="keras", learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
        centered=False,
    )  # fmt: skip
    assert optimizer_defaults("adamw", 2)["weight_decay"] == 0.004
    assert optimizer_defaults("adamw", 1)["weight_decay"] == 0.0
    assert (
        make_optimizer("adamw", torch.zeros(1, 2), torch.zeros(1, 2), [0.1]).weight_decay == 0.004
    )


# --- formula="torch": reglab's first release, step for step as torch.optim ----------

TORCH_REFERENCES = {
    "sgd": (dict(momentum=0.9), lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9)),
    "rmsprop": (dict(), lambda p, lr: torch.optim.RMSprop(p, lr=lr)),
    "rmsprop_momentum": (
        dict(momentum=0.5),
        lambda p, lr: torch.optim.RMSprop(p, lr=lr, momentum=0.5),
    ),
    "adam": (dict(), lambda p, lr: torch.optim.Adam(p, lr=lr)),
    "adamw": (dict(weight_decay=0.1), lambda p, lr: torch.optim.AdamW(p, lr=lr, weight_decay=0.1)),
}


@pytest.mark.parametrize("case", sorted(TORCH_REFERENCES))
def test_torch_formula_follows_torch_optim(case):
    options, reference = TORCH_REFERENCES[case]
    name = case.split("_")[0]
    lrs = [0.01, 0.003, 0.01]
    bank = torch.randn(3, 7)
    grad = torch.zeros(3, 7)
    ours = make_optimizer(name, bank, grad, lrs, formula="torch", **options)
    singles = [bank[m].clone().requires_grad_(True) for m in range(3)]
    theirs = [reference([p], lr) for p, lr in zip(singles, lrs)]
    for _ in range(6):
        grad.copy_(torch.randn(3, 7))
        ours.step()
        for m in range(3):
            singles[m].grad = grad[m].clone()
            theirs[m].step()
    for m in range(3):
        torch.testing.assert_close(bank[m], singles[m].detach(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("formula", ["keras", "torch"])
@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam"])
def test_frozen_members_keep_weights_moments_and_step_counts(name, formula):
    bank = torch.randn(2, 5)
    grad = torch.randn(2, 5)
    momentum = 0.5 if name == "sgd" else None
    opt = make_optimizer(name, bank, grad, [0.1, 0.1], momentum=momentum, formula=formula)
    opt.step()
    before = bank[1].clone()
    opt.step(members=[0])
    assert torch.equal(bank[1], before)
    assert opt.step_counts == [2, 1]


@pytest.mark.parametrize("formula", ["keras", "torch"])
@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_whole_bank_adam_step_equals_row_by_row_bit_for_bit(name, formula):
    # Members that move together take one fused call over the bank; a member trained
    # alone (or with frozen peers) is updated row by row. Both must give the same bits,
    # or a population would drift from its members trained alone.
    bank = torch.randn(5, 1037)  # a row length that is not a multiple of the SIMD width
    rows = bank.clone()
    grad, row_grad = torch.zeros_like(bank), torch.zeros_like(bank)
    together = make_optimizer(name, bank, grad, [0.01] * 5, formula=formula)
    apart = make_optimizer(name, rows, row_grad, [0.01] * 5, formula=formula)
    for _ in range(5):
        grad.copy_(torch.randn(5, 1037) * 1e-3)
        row_grad.copy_(grad)
        together.step()
        apart.step(members=[0, 1, 2, 3, 4])  # an explicit list takes the row-by-row path
    assert torch.equal(bank, rows)
    assert together.step_counts == apart.step_counts == [5] * 5


# --- bad settings: one line each ------------------------------------------------------

BAD = [
    ("adam", dict(momentum=0.9), r"optimizer 'adam' has no momentum setting \(use 'sgd' or "
     r"'rmsprop'\)\. Received: momentum=0\.9\."),
    ("adam", dict(rho=0.9), r"optimizer 'adam' has no rho setting \(use 'rmsprop'\)"),
    ("sgd", dict(beta_1=0.5), r"optimizer 'sgd' has no beta_1 setting \(use 'adam' or 'adamw'\)"),
    ("sgd", dict(epsilon=1e-3), r"optimizer 'sgd' has no epsilon setting"),
    ("rmsprop", dict(nesterov=True), r"optimizer 'rmsprop' has no nesterov setting \(use 'sgd'\)"),
    ("adam", dict(weight_decay=0.1), r"decoupled weight decay applies to optimizer 'adamw' only"),
    ("adam", dict(weight_decay_exclude=["bias"]), r"optimizer 'adam' has no "
     r"weight_decay_exclude setting \(use 'adamw'\)"),
    ("sgd", dict(nesterov=True), r"`nesterov`: Nesterov momentum has no effect with momentum 0"),
    ("sgd", dict(nesterov="yes", momentum=0.5), r"`nesterov`: expected True or False"),
    ("rmsprop", dict(rho=1.0), r"`rho`: expected a float in \[0, 1\)\. Received: rho=1\.0\."),
    ("adam", dict(beta_2=-0.1), r"`beta_2`: expected a float in \[0, 1\)"),
    ("adam", dict(epsilon=0.0), r"`epsilon`: expected a float in \(0, inf\)"),
    ("adamw", dict(weight_decay=0.0, weight_decay_exclude=["bias"]),
     r"there is no weight decay to exclude from \(weight_decay=0\)"),
    ("adamw", dict(weight_decay_exclude=["biases"]), r"`weight_decay_exclude`: expected one of "
     r"'bias', 'batchnorm'\. Received: weight_decay_exclude='biases'; did you mean 'bias'\?"),
    ("adamw", dict(weight_decay_exclude="bias"), r"expected a list of names"),
    ("adam", dict(epsilom=0.1),
     r"Invalid argument `epsilom` of the optimizer: .*did you mean 'epsilon'"),
]  # fmt: skip


@pytest.mark.parametrize("name, options, message", BAD)
def test_bad_settings_are_refused_in_one_line(name, options, message):
    with pytest.raises(ReglabError, match=message):
        make_optimizer(name, torch.zeros(1, 2), torch.zeros(1, 2), [0.1], **options)


def test_options_the_first_release_lacked_are_refused_with_the_torch_formula():
    with pytest.raises(ReglabError, match=r"reglab's first release \(formula 'torch'\) had no "
                       r"centered option"):  # fmt: skip
        make_optimizer("rmsprop", torch.zeros(1, 2), torch.zeros(1, 2), [0.1], centered=True,
                       formula="torch")  # fmt: skip


def test_excluding_weights_the_model_does_not_have_is_refused():
    layout = Layout()
    layout.add("dense/kernel", (2, 1), "kernel")
    with pytest.raises(ReglabError, match=r"'batchnorm' matches no weights of this model"):
        make_optimizer("adamw", torch.zeros(1, 2), torch.zeros(1, 2), [0.1],
                       weight_decay_exclude=["batchnorm"], layout=layout)  # fmt: skip


def test_the_exclusion_mask_of_a_built_model_covers_its_biases_and_batch_norm():
    from reglab import mlp
    from reglab.data import Task
    from reglab.train.optimizer_settings import decay_mask

    model = mlp([4], batchnorm=True)
    model.build(3, Task("binary", 1, "sigmoid", "binary_crossentropy", "accuracy"), [0])
    mask = decay_mask(("bias", "batchnorm"), model.layout, model.bank.shape[1], "cpu")
    for slot in model.layout.slots.values():
        columns = mask[slot.offset : slot.offset + slot.stored_size]
        assert bool((columns == 0).all()) == (slot.kind in ("bias", "gamma", "beta")), slot.name
    assert {s.kind for s in model.layout.slots.values()} == {"kernel", "bias", "gamma", "beta"}
