"""SGD, RMSprop, Adam and AdamW over a population's ``(K, P)`` parameter bank.

Each member's row of the bank is one "parameter" for PyTorch's functional optimizers
(``torch.optim.adam.adam`` and friends, fused kernels where PyTorch has them), with its own
moment buffers and its own step count. That gives, with PyTorch's exact update rules:

- a learning rate per member (members are grouped by learning rate, one call a group);
- members that must not move at all (stopped by early stopping, diverged, or without
  samples in this step of a shorter fold): they are simply left out of the call, so
  their weights, moments and step counts stay as they were.

RMSprop uses PyTorch's ``alpha=0.99`` (Keras' ``rho`` default is 0.9).
"""

from __future__ import annotations

from collections import defaultdict

import torch
from torch.optim.adam import adam
from torch.optim.rmsprop import rmsprop
from torch.optim.sgd import sgd

from reglab.errors import ReglabError, check_choice, check_number

__all__ = ["DEFAULT_LEARNING_RATES", "OPTIMIZERS", "PopulationOptimizer", "make_optimizer"]

OPTIMIZERS = ("sgd", "rmsprop", "adam", "adamw")
# Keras' defaults, which the seed tutorials assume.
DEFAULT_LEARNING_RATES = {"sgd": 0.01, "rmsprop": 0.001, "adam": 0.001, "adamw": 0.001}


class PopulationOptimizer:
    """One optimizer for all members; ``step(grad, members)`` updates the bank in place.

    Parameters
    ----------
    bank : torch.Tensor
        The ``(K, P)`` parameters.
    name : {"sgd", "rmsprop", "adam", "adamw"}
    learning_rates : list of float
        One per member.
    momentum : float, default 0.0
        SGD's or RMSprop's momentum.
    weight_decay : float, default 0.0
        AdamW's decoupled weight decay (``w -= lr * wd * w``), not an L2 penalty.
    """

    def __init__(
        self,
        bank: torch.Tensor,
        name: str,
        learning_rates: list[float],
        *,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        self.bank = bank
        self.name = name
        self.learning_rates = [float(lr) for lr in learning_rates]
        self.momentum = momentum
        self.weight_decay = weight_decay
        k = bank.shape[0]
        # Fused kernels exist for these on CPU and CUDA; they do the update in one pass.
        self._fused = name != "rmsprop"
        self.steps = [torch.zeros((), device=bank.device) for _ in range(k)]
        if not self._fused:
            self.steps = [torch.zeros(()) for _ in range(k)]  # foreach RMSprop wants CPU steps
        zeros = lambda: [torch.zeros_like(bank[i]) for i in range(k)]  # noqa: E731
        if name in ("adam", "adamw"):
            self.m, self.v = zeros(), zeros()
        elif name == "rmsprop":
            self.v = zeros()
            self.buf = zeros() if momentum else []
        else:
            # Zeros then ``buf = m*buf + g`` equals PyTorch's first-step ``buf = g``.
            self.buf = zeros() if momentum else [None] * k
        self._groups = defaultdict(list)
        for member, lr in enumerate(self.learning_rates):
            self._groups[lr].append(member)

    @torch.no_grad()
    def step(self, grad: torch.Tensor, members: list[int] | None = None) -> None:
        """Update the given members (all when None) with their rows of ``grad``."""
        for lr, group in self._groups.items():
            chosen = group if members is None else [m for m in group if m in members]
            if chosen:
                self._update(chosen, grad, lr)

    def _update(self, chosen: list[int], grad: torch.Tensor, lr: float) -> None:
        params = [self.bank[m] for m in chosen]
        grads = [grad[m] for m in chosen]
        steps = [self.steps[m] for m in chosen]
        if self.name in ("adam", "adamw"):
            adam(
                params, grads, [self.m[m] for m in chosen], [self.v[m] for m in chosen], [],
                steps, fused=True, amsgrad=False, beta1=0.9, beta2=0.999, lr=lr, eps=1e-8,
                weight_decay=self.weight_decay, maximize=False,
                decoupled_weight_decay=self.name == "adamw",
            )  # fmt: skip
        elif self.name == "rmsprop":
            rmsprop(
                params, grads, [self.v[m] for m in chosen], [],
                [self.buf[m] for m in chosen] if self.momentum else [], steps,
                foreach=True, lr=lr, alpha=0.99, eps=1e-8, weight_decay=0.0,
                momentum=self.momentum, centered=False,
            )  # fmt: skip
        else:
            sgd(
                params, grads, [self.buf[m] for m in chosen], fused=True,
                weight_decay=0.0, momentum=self.momentum, lr=lr, dampening=0.0,
                nesterov=False, maximize=False,
            )  # fmt: skip


def make_optimizer(
    name: str,
    bank: torch.Tensor,
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
    >>> make_optimizer("adam", torch.zeros(2, 3), [1e-3, 1e-2]).name
    'adam'
    >>> make_optimizer("adma", torch.zeros(2, 3), [1e-3, 1e-2])
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: Invalid value for `optimizer`: expected one of 'sgd', 'rmsprop', 'adam', 'adamw'. Received: optimizer='adma'; did you mean 'adam'?
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
        bank, name, learning_rates, momentum=momentum, weight_decay=weight_decay
    )
