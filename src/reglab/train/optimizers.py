"""SGD, RMSprop, Adam and AdamW over a population's ``(K, P)`` parameter bank.

A population needs what ``torch.optim`` does not offer: a learning rate per member, and
members that must not move at all (stopped by early stopping, diverged, or without
samples in this step of a shorter fold), including their step counts and moments. So
the update rules are PyTorch's, applied to the bank here:

- Adam and AdamW call PyTorch's fused kernels (``torch._fused_adam_`` /
  ``_fused_adamw_``, one pass over the parameters): once over the whole bank while all
  members share a learning rate and a step count, else with each member's row as one
  tensor with its own step count, frozen members left out of the call.
- SGD (momentum, no dampening) and RMSprop (PyTorch's ``alpha=0.99``; Keras' ``rho`` is
  0.9) are a few whole-bank tensor operations, or row by row when some members are frozen.

Tiny models take thousands of steps per second, so the per-step Python work is kept to
a handful of calls: every view is made once, here, not per step. The tests check each
rule against ``torch.optim`` step for step.
"""

from __future__ import annotations

import torch

from reglab.errors import ReglabError, check_choice, check_number

__all__ = ["DEFAULT_LEARNING_RATES", "OPTIMIZERS", "PopulationOptimizer", "make_optimizer"]

OPTIMIZERS = ("sgd", "rmsprop", "adam", "adamw")
# Keras' defaults, which the seed tutorials assume.
DEFAULT_LEARNING_RATES = {"sgd": 0.01, "rmsprop": 0.001, "adam": 0.001, "adamw": 0.001}
BETAS = (0.9, 0.999)
EPS = 1e-8
RMSPROP_ALPHA = 0.99


class PopulationOptimizer:
    """One optimizer for all members; ``step(members)`` applies ``grad`` to the bank in place.

    Parameters
    ----------
    bank, grad : torch.Tensor
        The ``(K, P)`` parameters and the buffer their gradients are written to.
    name : {"sgd", "rmsprop", "adam", "adamw"}
    learning_rates : list of float
        One per member.
    momentum : float, default 0.0
        SGD's or RMSprop's momentum.
    weight_decay : float, default 0.0
        AdamW's decoupled weight decay (``w -= lr * wd * w``), not an L2 penalty.
    """

    def __init__(self, bank, grad, name, learning_rates, *, momentum=0.0, weight_decay=0.0):
        self.bank, self.grad, self.name = bank, grad, name
        self.learning_rates = [float(lr) for lr in learning_rates]
        self.momentum = momentum
        self.weight_decay = weight_decay
        k = bank.shape[0]
        self._lr_column = torch.tensor(self.learning_rates, device=bank.device).view(k, 1)
        # One shared rate is a Python float, so whole-bank updates use the scalar kernels.
        same = len(set(self.learning_rates)) == 1
        self._lr_all = self.learning_rates[0] if same else self._lr_column
        self.square_avg = torch.zeros_like(bank) if name in ("rmsprop", "adam", "adamw") else None
        self.exp_avg = torch.zeros_like(bank) if name in ("adam", "adamw") else None
        self._scratch = torch.empty_like(bank) if name == "rmsprop" else None
        # Zeros, then ``buf = momentum * buf + g``, equals PyTorch's first-step ``buf = g``.
        self.buf = torch.zeros_like(bank) if momentum and name in ("sgd", "rmsprop") else None
        self._members = k
        # Step counts are Python ints (a tensor increment per step cost ~10 us, as much
        # as a tiny model's whole update); fused Adam reads them from tensors, filled
        # from these counts only when it runs.
        self._counts = [0] * k
        self._bank_step = torch.zeros((), device=bank.device)
        self._row_steps = [torch.zeros((), device=bank.device) for _ in range(k)]
        self._rows = {
            "p": list(bank.unbind(0)),
            "g": list(grad.unbind(0)),
            "m": list(self.exp_avg.unbind(0)) if self.exp_avg is not None else [],
            "v": list(self.square_avg.unbind(0)) if self.square_avg is not None else [],
        }
        self._fused = None
        if name in ("adam", "adamw"):
            self._fused = torch._fused_adamw_ if name == "adamw" else torch._fused_adam_

    @torch.no_grad()
    def step(self, members: list[int] | None = None) -> None:
        """Update the given members (all when None) with their rows of the gradient buffer."""
        chosen = range(self._members) if members is None else members
        for m in chosen:
            self._counts[m] += 1
        if self._fused is not None:
            self._adam(members)
        elif members is None:
            self._plain(self.bank, self.grad, self.square_avg, self.buf, self._lr_all)
        else:
            for m in members:
                self._plain(
                    self.bank[m], self.grad[m],
                    None if self.square_avg is None else self.square_avg[m],
                    None if self.buf is None else self.buf[m], self.learning_rates[m],
                )  # fmt: skip

    def set_learning_rate(self, member: int, value: float) -> None:
        """Give ``member`` the rate ``value`` from its next step on (a schedule, a callback).

        The rate lives in three forms the update rules read: the per-member list, the
        ``(K, 1)`` column, and the whole-bank rate (a float while all members share it,
        so the scalar kernels keep serving the common case); all three change together.
        """
        self.learning_rates[member] = float(value)
        self._lr_column[member] = float(value)
        same = len(set(self.learning_rates)) == 1
        self._lr_all = self.learning_rates[0] if same else self._lr_column

    @property
    def step_counts(self) -> list[int]:
        """How many updates each member has taken."""
        return list(self._counts)

    @torch.no_grad()
    def step_sizes(self) -> torch.Tensor:
        """Each coordinate's effective step size: ``(K, 1)`` for SGD, ``(K, P)`` otherwise.

        The proximal L1 step soft-thresholds by ``l1`` times this: with Adam or RMSprop a
        coordinate moves by ``lr / (sqrt(v) + eps)`` per unit of gradient, not by ``lr``,
        and thresholding by ``lr * l1`` alone would be far too weak to reach zero (a
        diagonal-metric proximal step).
        """
        lr = self._lr_column
        if self.name == "sgd":
            return lr
        v = self.square_avg
        if self.name in ("adam", "adamw"):
            t = torch.tensor(self._counts, device=v.device).view(-1, 1).clamp_min(1.0)
            v = v / (1 - BETAS[1] ** t)
        return lr / (v.sqrt() + EPS)

    def _adam(self, members: list[int] | None) -> None:
        counts = self._counts
        kwargs = dict(
            beta1=BETAS[0], beta2=BETAS[1], weight_decay=self.weight_decay, eps=EPS,
            amsgrad=False, maximize=False,
        )  # fmt: skip
        if members is None and isinstance(self._lr_all, float) and len(set(counts)) == 1:
            # The common case: one call over the whole bank (3x faster than row by row
            # for 16 small members; the update is elementwise, so the numbers are the
            # same as row by row, which the tests check).
            self._bank_step.fill_(counts[0])
            self._fused(
                [self.bank], [self.grad], [self.exp_avg], [self.square_avg], [],
                [self._bank_step], lr=self._lr_all, **kwargs,
            )  # fmt: skip
            return
        rows = self._rows
        by_lr: dict[float, list[int]] = {}
        for m in range(self._members) if members is None else members:
            by_lr.setdefault(self.learning_rates[m], []).append(m)
        for lr, chosen in by_lr.items():
            steps = [self._row_steps[m].fill_(counts[m]) for m in chosen]
            self._fused(
                [rows["p"][m] for m in chosen], [rows["g"][m] for m in chosen],
                [rows["m"][m] for m in chosen], [rows["v"][m] for m in chosen], [], steps,
                lr=lr, **kwargs,
            )  # fmt: skip

    def _plain(self, p, g, square_avg, buf, lr) -> None:
        if self.name == "rmsprop":
            square_avg.mul_(RMSPROP_ALPHA).addcmul_(g, g, value=1 - RMSPROP_ALPHA)
            # Into a buffer kept between steps: a fresh bank-sized tensor per step cost
            # more than the square root itself on a 160,000-weight text model.
            scratch = self._scratch if p is self.bank else None
            denominator = torch.sqrt(square_avg, out=scratch).add_(EPS)
            if buf is None and isinstance(lr, float):  # the common case, in one pass
                p.addcdiv_(g, denominator, value=-lr)
                return
            update = g / denominator
        else:
            update = g
        if buf is not None:
            update = buf.mul_(self.momentum).add_(update)
        if isinstance(lr, float):
            p.add_(update, alpha=-lr)
        else:
            p.sub_(update * lr)


def make_optimizer(
    name: str,
    bank: torch.Tensor,
    grad: torch.Tensor,
    learning_rates: list[float],
    *,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
) -> PopulationOptimizer:
    """Check the optimizer's name and settings, then build it.

    Raises
    ------
    ReglabError
        Unknown optimizer (the known ones are listed), a momentum outside [0, 1), a
        negative weight decay, or a setting the optimizer would ignore.

    Examples
    --------
    >>> import torch
    >>> make_optimizer("adam", torch.zeros(2, 3), torch.zeros(2, 3), [1e-3, 1e-2]).name
    'adam'
    >>> make_optimizer("adma", torch.zeros(2, 3), torch.zeros(2, 3), [1e-3, 1e-2])
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: Invalid value for `optimizer`: ...; did you mean 'adam'?
    """
    name = check_choice("optimizer", name, OPTIMIZERS)
    momentum = check_number("momentum", momentum, low=0.0, high=1.0, high_open=True)
    weight_decay = check_number("weight_decay", weight_decay, low=0.0)
    if weight_decay and name != "adamw":
        raise ReglabError(
            f"Invalid value for `weight_decay`: decoupled weight decay applies to optimizer "
            f"'adamw' only; for an L2 penalty with {name!r} use kernel_regularizer=L2(...). "
            f"Received: weight_decay={weight_decay!r}."
        )
    if momentum and name in ("adam", "adamw"):
        raise ReglabError(
            f"Invalid value for `momentum`: optimizer {name!r} has no momentum setting "
            f"(use 'sgd' or 'rmsprop'). Received: momentum={momentum!r}."
        )
    return PopulationOptimizer(
        bank, grad, name, learning_rates, momentum=momentum, weight_decay=weight_decay
    )
