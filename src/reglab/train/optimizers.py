"""SGD, RMSprop, Adam and AdamW over a population's ``(K, P)`` parameter bank, Keras' rules.

A population needs what ``torch.optim`` does not offer: a learning rate per member, and
members that must not move at all (stopped by early stopping, diverged, or without
samples in this step of a shorter fold), including their step counts and moments. So
the update rules are applied to the bank here, with Keras 3's names, defaults and
formulas (``formula="keras"``):

- SGD: ``m = momentum*m - lr*g``; ``w += m`` (Nesterov: ``w += momentum*m - lr*g``).
- RMSprop: ``v = rho*v + (1-rho)*g²``; ``w -= lr*g / sqrt(v + epsilon)`` (epsilon inside
  the root; centered: ``sqrt(v - a² + epsilon)`` with ``a`` the mean gradient; momentum
  accumulates those increments).
- Adam: ``lr_t = lr*sqrt(1-beta_2^t)/(1-beta_1^t)``; ``w -= lr_t*m / (sqrt(v) + epsilon)``.
  That is PyTorch's fused kernel (``torch._fused_adam_``, one pass over the bank) with
  ``eps = epsilon / sqrt(1-beta_2^t)``, which is how it runs: once over the whole bank
  while all members share a learning rate and a step count, else per group of rows.
- AdamW: Adam after Keras' decoupled decay ``w -= w*weight_decay*lr``, optionally masked
  (``weight_decay_exclude``).

``formula="torch"`` keeps reglab's first release (PyTorch's rules: Adam's eps added to
``sqrt(v_hat)``, RMSprop's eps outside the root) so that stored studies resume with the
numbers they were trained with; :func:`optimizer_defaults` gives each release's constants
(:mod:`reglab.train.optimizer_settings` holds them and checks every setting).

Tiny models take thousands of steps per second, so the per-step Python work is kept to
a handful of calls: every view is made once, here, not per step.
"""

from __future__ import annotations

import math

import torch

from reglab.errors import check_choice
from reglab.nn.layout import Layout
from reglab.train.clipping import CLIP_OPTIONS, make_clipping
from reglab.train.optimizer_settings import (
    DEFAULT_LEARNING_RATES,
    FORMULAS,
    OPTIMIZERS,
    OPTIONS,
    decay_mask,
    optimizer_defaults,
    optimizers_with,
    resolve_constants,
)

__all__ = [
    "DEFAULT_LEARNING_RATES",
    "FORMULAS",
    "OPTIMIZERS",
    "OPTIONS",
    "PopulationOptimizer",
    "make_optimizer",
    "optimizer_defaults",
    "optimizers_with",
]


class PopulationOptimizer:
    """One optimizer for all members; ``step(members)`` applies ``grad`` to the bank in place.

    Build it with :func:`make_optimizer`, which checks and resolves the settings.

    Parameters
    ----------
    bank, grad : torch.Tensor
        The ``(K, P)`` parameters and the buffer their gradients are written to.
    name : {"sgd", "rmsprop", "adam", "adamw"}
    learning_rates : list of float
        One per member.
    formula : {"keras", "torch"}
    constants : dict
        Every setting of the optimizer (:data:`OPTIONS`), resolved.
    decay_mask : torch.Tensor, optional
        ``(P,)``: 1 where AdamW decays, 0 where ``weight_decay_exclude`` keeps it off.
    clipping : reglab.train.clipping.GradientClipping, optional
        Applied to the gradient buffer before every update.
    """

    def __init__(
        self, bank, grad, name, learning_rates, *, formula, constants, decay_mask=None,
        clipping=None,
    ):  # fmt: skip
        self.bank, self.grad, self.name, self.formula = bank, grad, name, formula
        self.learning_rates = [float(lr) for lr in learning_rates]
        self.momentum = constants.get("momentum", 0.0)
        self.nesterov = constants.get("nesterov", False)
        self.rho = constants.get("rho", 0.0)
        self.centered = constants.get("centered", False)
        self.epsilon = constants.get("epsilon", 0.0)
        self.weight_decay = constants.get("weight_decay", 0.0)
        self.clipping = clipping
        k = bank.shape[0]
        self._lr_column = torch.tensor(self.learning_rates, device=bank.device).view(k, 1)
        # One shared rate is a Python float, so whole-bank updates use the scalar kernels.
        same = len(set(self.learning_rates)) == 1
        self._lr_all = self.learning_rates[0] if same else self._lr_column
        adam = name in ("adam", "adamw")
        self.square_avg = torch.zeros_like(bank) if name != "sgd" else None
        if name == "rmsprop" and formula == "keras":
            # Keras' RMSprop divides by sqrt(v + epsilon): this buffer holds v + epsilon
            # (v starts at 0), kept so by adding (1-rho)*epsilon each step in place, which
            # measured 5-8% faster than adding epsilon into the scratch buffer per step.
            self.square_avg.fill_(self.epsilon)
        self.exp_avg = torch.zeros_like(bank) if adam else None
        self.mean_grad = torch.zeros_like(bank) if self.centered else None
        self._scratch = torch.empty_like(bank) if name == "rmsprop" else None
        # Zeros, then ``buf = momentum * buf + g``, equals PyTorch's first-step ``buf = g``.
        self.buf = torch.zeros_like(bank) if self.momentum and not adam else None
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
            "m": list(self.exp_avg.unbind(0)) if adam else [],
            "v": list(self.square_avg.unbind(0)) if adam else [],
        }
        self._decay_mask = decay_mask
        self._fused = None
        if adam:
            # A masked decay is applied here (Keras' order: decay, then the Adam step),
            # so the kernel then runs without its own, whole-tensor, decay.
            fused_decay = self.weight_decay if decay_mask is None else 0.0
            self._fused = torch._fused_adamw_ if fused_decay else torch._fused_adam_
            self._adam_options = dict(
                beta1=constants["beta_1"], beta2=constants["beta_2"], weight_decay=fused_decay,
                amsgrad=False, maximize=False,
            )  # fmt: skip
        self._plain = self._keras_plain if formula == "keras" else self._torch_plain

    @torch.no_grad()
    def step(self, members: list[int] | None = None) -> None:
        """Update the given members (all when None) with their rows of the gradient buffer."""
        chosen = range(self._members) if members is None else members
        for m in chosen:
            self._counts[m] += 1
        if self.clipping is not None:
            self.clipping()
        if self._fused is not None:
            self._adam(members)
        elif members is None:
            self._plain(
                self.bank, self.grad, self.square_avg, self.buf, self.mean_grad, self._lr_all
            )
        else:
            for m in members:
                self._plain(
                    self.bank[m], self.grad[m], _row(self.square_avg, m), _row(self.buf, m),
                    _row(self.mean_grad, m), self.learning_rates[m],
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
        coordinate moves by ``lr / denominator`` per unit of (averaged) gradient, not by
        ``lr``, and thresholding by ``lr * l1`` alone would be far too weak to reach zero
        (a diagonal-metric proximal step).
        """
        lr = self._lr_column
        if self.name == "sgd":
            return lr
        v = self.square_avg
        if self._fused is not None:
            t = torch.tensor(self._counts, device=v.device).view(-1, 1).clamp_min(1.0)
            correction = 1 - self._adam_options["beta2"] ** t
            eps = self.epsilon / correction.sqrt() if self.formula == "keras" else self.epsilon
            return lr / ((v / correction).sqrt() + eps)
        if self.formula == "torch":
            return lr / (v.sqrt() + self.epsilon)
        if self.mean_grad is not None:  # v holds Keras' v + epsilon here
            v = v - self.mean_grad.square()
        return lr / v.sqrt()

    def _adam(self, members: list[int] | None) -> None:
        counts = self._counts
        if members is None and isinstance(self._lr_all, float) and len(set(counts)) == 1:
            # The common case: one call over the whole bank (3x faster than row by row
            # for 16 small members; the update is elementwise, so the numbers are the
            # same as row by row, which the tests check).
            self._decay(self.bank, self._lr_all)
            self._bank_step.fill_(counts[0])
            self._fused(
                [self.bank], [self.grad], [self.exp_avg], [self.square_avg], [],
                [self._bank_step], lr=self._lr_all, eps=self._eps(counts[0]),
                **self._adam_options,
            )  # fmt: skip
            return
        rows = self._rows
        groups: dict[tuple[float, int], list[int]] = {}
        for m in range(self._members) if members is None else members:
            groups.setdefault((self.learning_rates[m], counts[m]), []).append(m)
        for (lr, count), chosen in groups.items():
            for m in chosen:
                self._decay(rows["p"][m], lr)
            steps = [self._row_steps[m].fill_(count) for m in chosen]
            self._fused(
                [rows["p"][m] for m in chosen], [rows["g"][m] for m in chosen],
                [rows["m"][m] for m in chosen], [rows["v"][m] for m in chosen], [], steps,
                lr=lr, eps=self._eps(count), **self._adam_options,
            )  # fmt: skip

    def _eps(self, count: int) -> float:
        """The kernel's eps: PyTorch adds it to ``sqrt(v_hat)``, Keras to ``sqrt(v)``."""
        if self.formula == "torch":
            return self.epsilon
        return self.epsilon / math.sqrt(1 - self._adam_options["beta2"] ** count)

    def _decay(self, p: torch.Tensor, lr: float) -> None:
        """Keras' masked decoupled decay ``w -= w * weight_decay * lr`` where the mask is 1."""
        if self._decay_mask is not None:
            p.addcmul_(p, self._decay_mask, value=-lr * self.weight_decay)

    def _keras_plain(self, p, g, square_avg, buf, mean_grad, lr) -> None:
        if self.name == "rmsprop":
            rho = self.rho
            # square_avg is v + epsilon (see __init__).
            square_avg.mul_(rho).addcmul_(g, g, value=1 - rho).add_((1 - rho) * self.epsilon)
            # Into a buffer kept between steps: a fresh bank-sized tensor per step cost
            # more than the square root itself on a 160,000-weight text model.
            scratch = self._scratch if p is self.bank else None
            if mean_grad is None:
                denominator = torch.sqrt(square_avg, out=scratch)
            else:
                mean_grad.mul_(rho).add_(g, alpha=1 - rho)
                denominator = torch.addcmul(square_avg, mean_grad, mean_grad, value=-1, out=scratch)
                denominator.sqrt_()
            if buf is None and isinstance(lr, float):  # the common case, in one pass
                p.addcdiv_(g, denominator, value=-lr)
                return
            increment = g / denominator * lr  # Keras keeps lr inside the momentum
            if buf is None:
                p.sub_(increment)
            else:
                p.sub_(buf.mul_(self.momentum).add_(increment))
            return
        if buf is None:
            if isinstance(lr, float):
                p.add_(g, alpha=-lr)
            else:
                p.sub_(g * lr)
            return
        step = g * lr
        if self.nesterov:
            buf.mul_(self.momentum).sub_(step)
            p.add_(buf, alpha=self.momentum).sub_(step)
        else:
            p.add_(buf.mul_(self.momentum).sub_(step))

    def _torch_plain(self, p, g, square_avg, buf, mean_grad, lr) -> None:
        """reglab's first release: ``torch.optim``'s SGD and RMSprop (eps outside the root)."""
        if self.name == "rmsprop":
            square_avg.mul_(self.rho).addcmul_(g, g, value=1 - self.rho)
            scratch = self._scratch if p is self.bank else None
            denominator = torch.sqrt(square_avg, out=scratch).add_(self.epsilon)
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


def _row(tensor: torch.Tensor | None, m: int) -> torch.Tensor | None:
    return None if tensor is None else tensor[m]


def make_optimizer(
    name: str,
    bank: torch.Tensor,
    grad: torch.Tensor,
    learning_rates: list[float],
    *,
    formula: str = "keras",
    layout: Layout | None = None,
    **options,
) -> PopulationOptimizer:
    """Check the optimizer's name and settings, fill in the unset ones, then build it.

    Parameters
    ----------
    name : {"sgd", "rmsprop", "adam", "adamw"}
    bank, grad : torch.Tensor
        The ``(K, P)`` parameters and their gradient buffer.
    learning_rates : list of float
        One per member.
    formula : {"keras", "torch"}, default "keras"
        Keras' update rules and defaults, or reglab's first release (PyTorch's).
    layout : reglab.nn.Layout, optional
        Which columns are which weight variable: for ``clipnorm`` (per variable; without
        a layout a member's whole row is one variable) and ``weight_decay_exclude``.
    **options
        The optimizer's settings (:data:`OPTIONS`; None or absent: the default) and
        ``clipnorm``, ``clipvalue``, ``global_clipnorm`` (a float > 0 or one per member).

    Raises
    ------
    ReglabError
        Unknown optimizer or setting (the known ones are listed), a value out of range,
        or a setting that would do nothing (one the optimizer does not have, Nesterov
        without momentum, exclusions without decay or matching no weights).

    Examples
    --------
    >>> import torch
    >>> make_optimizer("adam", torch.zeros(2, 3), torch.zeros(2, 3), [1e-3, 1e-2]).epsilon
    1e-07
    >>> make_optimizer("adma", torch.zeros(2, 3), torch.zeros(2, 3), [1e-3, 1e-2])
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: Invalid value for `optimizer`: ...; did you mean 'adam'?
    """
    name = check_choice("optimizer", name, OPTIMIZERS)
    formula = check_choice("formula", formula, FORMULAS)
    clip = {key: options.pop(key) for key in CLIP_OPTIONS if key in options}
    constants = resolve_constants(name, formula, options)
    exclude = constants.get("weight_decay_exclude")
    mask = decay_mask(exclude, layout, bank.shape[1], bank.device) if exclude else None
    return PopulationOptimizer(
        bank, grad, name, learning_rates, formula=formula, constants=constants,
        decay_mask=mask, clipping=make_clipping(layout, grad, **clip),
    )  # fmt: skip
