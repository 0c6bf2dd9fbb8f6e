"""Population optimizers against torch.optim, step for step, and frozen members."""

import pytest
import torch

from reglab.errors import ReglabError
from reglab.train.optimizers import make_optimizer

REFERENCES = {
    "sgd": (dict(momentum=0.9), lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9)),
    "rmsprop": (dict(), lambda p, lr: torch.optim.RMSprop(p, lr=lr)),
    "rmsprop_momentum": (
        dict(momentum=0.5),
        lambda p, lr: torch.optim.RMSprop(p, lr=lr, momentum=0.5),
    ),
    "adam": (dict(), lambda p, lr: torch.optim.Adam(p, lr=lr)),
    "adamw": (dict(weight_decay=0.1), lambda p, lr: torch.optim.AdamW(p, lr=lr, weight_decay=0.1)),
}


@pytest.mark.parametrize("case", sorted(REFERENCES))
def test_each_member_follows_torch_optim(case):
    options, reference = REFERENCES[case]
    name = case.split("_")[0]
    lrs = [0.01, 0.003, 0.01]
    bank = torch.randn(3, 7)
    grad = torch.zeros(3, 7)
    ours = make_optimizer(name, bank, grad, lrs, **options)
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


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam"])
def test_frozen_members_keep_weights_moments_and_step_counts(name):
    bank = torch.randn(2, 5)
    grad = torch.randn(2, 5)
    opt = make_optimizer(name, bank, grad, [0.1, 0.1], momentum=0.5 if name == "sgd" else 0.0)
    opt.step()
    before = bank[1].clone()
    opt.step(members=[0])
    assert torch.equal(bank[1], before)
    assert opt.step_counts == [2, 1]


def test_momentum_with_adam_is_refused():
    with pytest.raises(ReglabError, match="optimizer 'adam' has no momentum setting"):
        make_optimizer("adam", torch.zeros(1, 2), torch.zeros(1, 2), [0.1], momentum=0.9)


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_whole_bank_adam_step_equals_row_by_row_bit_for_bit(name):
    # Members that move together take one fused call over the bank; a member trained
    # alone (or with frozen peers) is updated row by row. Both must give the same bits,
    # or a population would drift from its members trained alone.
    bank = torch.randn(5, 1037)  # a row length that is not a multiple of the SIMD width
    rows = bank.clone()
    grad, row_grad = torch.zeros_like(bank), torch.zeros_like(bank)
    together = make_optimizer(name, bank, grad, [0.01] * 5)
    apart = make_optimizer(name, rows, row_grad, [0.01] * 5)
    for _ in range(5):
        grad.copy_(torch.randn(5, 1037) * 1e-3)
        row_grad.copy_(grad)
        together.step()
        apart.step(members=[0, 1, 2, 3, 4])  # an explicit list takes the row-by-row path
    assert torch.equal(bank, rows)
    assert together.step_counts == apart.step_counts == [5] * 5
