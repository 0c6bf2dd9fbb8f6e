"""An exponential moving average of each member's weights (Keras' ``use_ema``).

Keras 3's optimizer (``keras/src/optimizers/base_optimizer.py``), with
``ema_overwrite_frequency=None``, which this follows:

- after every optimizer update, and before the kernel constraints are applied,
  ``average = momentum * average + (1 - momentum) * weights``, where ``momentum`` is 0 on
  a member's first step (the average starts as the weights after that step);
- the weights are not touched while training: every epoch's ``val_*`` in the History is
  measured with the trained weights;
- when training ends (before the callbacks' ``on_train_end``, as Keras'
  ``finalize_variable_values``) the weights are replaced by the average, so
  ``History.final``, ``evaluate`` and ``predict`` use the averaged weights.

Only the bank (the trainable weights) is averaged; batch norm's running statistics are
not trainable and stay as trained, as in Keras. A member whose training stops (early
stopping, divergence) stops updating its average.
"""

from __future__ import annotations

import torch

from reglab.errors import ReglabError, check_number, per_member

__all__ = ["WeightEMA", "ema_for"]


class WeightEMA:
    """The moving average of the members that have a momentum.

    Parameters
    ----------
    bank : torch.Tensor
        The population's ``(K, P)`` weights.
    momenta : list of float or None
        Per member (None: no average, the member keeps its trained weights).
    """

    def __init__(self, bank: torch.Tensor, momenta: list[float | None]) -> None:
        self.bank = bank
        self.members = [m for m, value in enumerate(momenta) if value is not None]
        self.momentum = torch.tensor(
            [0.0 if value is None else value for value in momenta], device=bank.device
        ).view(-1, 1)
        self.average = torch.zeros_like(bank)
        # The momentum in force (0 until a member's first step) and its complement: (K, 1)
        # columns, so that one member's update rounds as it does in a fit of its own.
        self._now = torch.zeros_like(self.momentum)
        self._rest = torch.ones_like(self.momentum)
        self._waiting = set(self.members)  # averaged members yet to take their first step
        self._all = len(self.members) == bank.shape[0]

    @torch.no_grad()
    def update(self, movers: list[int] | None) -> None:
        """Fold the weights of the members that just moved (None: all) into the average."""
        if movers is None and self._all:
            self.average.mul_(self._now).add_(self.bank * self._rest)
        else:
            chosen = self.members if movers is None else [m for m in movers if m in self.members]
            for m in chosen:
                row = self.average[m]
                row.mul_(self._now[m]).add_(self.bank[m] * self._rest[m])
            movers = chosen
        if self._waiting:
            for m in self.members if movers is None else movers:
                if m in self._waiting:
                    self._waiting.discard(m)
                    self._now[m] = self.momentum[m]
                    self._rest[m] = 1.0 - self.momentum[m]

    @torch.no_grad()
    def finish(self) -> None:
        """Replace each averaged member's weights by its average (Keras' finalize)."""
        for m in self.members:
            if m not in self._waiting:  # a member that never stepped has no average
                self.bank[m].copy_(self.average[m])


def ema_for(ema, k: int, bank: torch.Tensor, restores: list[bool]) -> WeightEMA | None:
    """Check ``fit``'s ``ema`` (a momentum per member, None for none); None when unused."""
    momenta = [
        None if value is None
        else check_number("ema", value, owner="fit", low=0.0, high=1.0, low_open=True,
                          high_open=True)
        for value in per_member("ema", ema, k, owner="fit")
    ]  # fmt: skip
    if all(value is None for value in momenta):
        return None
    for m, value in enumerate(momenta):
        if value is not None and restores[m]:
            raise ReglabError(
                "Invalid value for `ema` of fit: early stopping's restore_best puts the best "
                "epoch's trained weights back after the average replaced them (Keras' order), "
                f"so the average would do nothing; member {m} has both. Received: ema={value!r}."
            )
    return WeightEMA(bank, momenta)
