"""Stochastic weight averaging (Izmailov et al., 2018), as ``torch.optim.swa_utils`` does it.

For a member with ``swa=SWA(start_epoch, lr)``:

- from epoch ``start_epoch`` on (1-based) the member trains with the constant rate
  ``lr`` (``SWALR(swa_lr=lr, anneal_epochs=0)``: no annealing; without ``lr`` its own
  rate stands), set at the start of every such epoch;
- at the end of every such epoch its weights join an equal average
  (``AveragedModel.update_parameters``: the first copies, the n-th adds ``(w - avg) / n``);
- when training ends (before the callbacks' ``on_train_end``) its weights become the
  average and its batch norm running statistics are recomputed as
  ``swa_utils.update_bn`` does: reset (mean 0, variance 1), then one pass over the
  member's training rows, in their order, in batches of the fit's ``batch_size``, in
  training mode (dropout active, as update_bn's ``model.train()``), without gradients,
  with each batch weighted equally (PyTorch's ``momentum=None`` cumulative average).
  The pass sees the rows as stored (standardised when the fit standardises), without
  augmentation or mixing.

Every epoch's ``val_*`` in the History is measured with the trained weights (the torch
recipe evaluates the averaged model after training); ``History.final``, ``evaluate`` and
``predict`` use the averaged weights. A member that stops before ``start_epoch`` keeps
its trained weights.
"""

from __future__ import annotations

import torch

from reglab.errors import ReglabError, ReglabTypeError, check_int, check_number, per_member
from reglab.train.inputs import epoch_batches

__all__ = ["SWA", "WeightSWA", "swa_for", "update_batch_norm"]


class SWA:
    """Stochastic weight averaging from ``start_epoch`` on, for ``fit(swa=...)``.

    Parameters
    ----------
    start_epoch : int
        The first epoch (1-based) whose final weights join the average.
    lr : float, optional
        The constant learning rate from ``start_epoch`` on (torch's ``SWALR`` without
        annealing); by default the member's rate is left as it is.

    Examples
    --------
    >>> SWA(start_epoch=10, lr=0.05)
    SWA(start_epoch=10, lr=0.05)
    >>> SWA(start_epoch=0)
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: Invalid value for `start_epoch` of SWA: expected an int >= 1...
    """

    def __init__(self, start_epoch: int, lr: float | None = None) -> None:
        self.start_epoch = check_int("start_epoch", start_epoch, owner="SWA", low=1)
        self.lr = None if lr is None else check_number("lr", lr, owner="SWA", low=0.0,
                                                       low_open=True)  # fmt: skip

    def __repr__(self) -> str:
        return f"SWA(start_epoch={self.start_epoch}, lr={self.lr})"


class WeightSWA:
    """The equal averages of the members that have an :class:`SWA`."""

    def __init__(self, model, settings: list[SWA | None]) -> None:
        self.model = model
        self.settings = settings
        self.members = [m for m, s in enumerate(settings) if s is not None]
        self.average = torch.zeros_like(model.bank)
        self.counts = [0] * len(settings)

    def epoch_begin(self, epoch: int, optimizer) -> None:
        """The constant SWA rate for the members that average from this epoch."""
        for m in self.members:
            swa = self.settings[m]
            if swa.lr is not None and epoch >= swa.start_epoch:
                optimizer.set_learning_rate(m, swa.lr)

    @torch.no_grad()
    def epoch_end(self, epoch: int, trained: list[bool]) -> None:
        """Add the weights of the members that trained this epoch to their averages."""
        bank = self.model.bank
        for m in self.members:
            if not trained[m] or epoch < self.settings[m].start_epoch:
                continue
            self.counts[m] += 1
            if self.counts[m] == 1:
                self.average[m].copy_(bank[m])
            else:
                self.average[m].add_((bank[m] - self.average[m]) / self.counts[m])

    @torch.no_grad()
    def finish(self, setup) -> None:
        """The averages replace the weights; batch norm statistics are recomputed."""
        averaged = [m for m in self.members if self.counts[m]]
        for m in averaged:
            self.model.bank[m].copy_(self.average[m])
        if averaged:
            update_batch_norm(
                self.model, setup.inputs, setup.train_rows, setup.batch_size, averaged
            )


@torch.no_grad()
def update_batch_norm(model, inputs, train_rows, batch_size: int, members: list[int]) -> None:
    """``torch.optim.swa_utils.update_bn`` for ``members``: their running statistics reset
    and recomputed over one pass of their training rows (see the module's docstring)."""
    k = model.members
    chosen = set(members)
    with model.cumulative_batch_norm(members) as before_batch:
        if before_batch is None:  # no batch norm: nothing to recompute
            return
        model.train()
        try:
            alive = [m in chosen for m in range(k)]
            for number, batch in enumerate(
                epoch_batches(train_rows, batch_size, alive, model.bank.device), start=1
            ):
                before_batch(number)
                x = model.prepare_inputs(inputs.gather(batch.index))
                model.forward_logits(x, training=True, step=batch)
        finally:
            model.eval()


def swa_for(swa, k: int, model, epochs: int, restores: list[bool], ema) -> WeightSWA | None:
    """Check ``fit``'s ``swa`` (an :class:`SWA` per member, None for none); None when unused."""
    settings = per_member("swa", swa, k, owner="fit")
    if all(s is None for s in settings):
        return None
    emas = per_member("ema", ema, k, owner="fit")
    for m, s in enumerate(settings):
        if s is None:
            continue
        if not isinstance(s, SWA):
            raise ReglabTypeError(
                "Invalid value for `swa` of fit: expected reglab.SWA(start_epoch, lr), a list "
                f"of them (None for members without), or None. Received: swa={s!r}."
            )
        if s.start_epoch > epochs:
            raise ReglabError(
                f"Invalid value for `swa` of fit: start_epoch={s.start_epoch} is after the "
                f"last epoch ({epochs}), so nothing would be averaged. Received: swa={s!r}."
            )
        if restores[m]:
            raise ReglabError(
                "Invalid value for `swa` of fit: early stopping's restore_best puts the best "
                "epoch's trained weights back after the average replaced them, so the "
                f"average would do nothing; member {m} has both. Received: swa={s!r}."
            )
        if emas[m] is not None:
            raise ReglabError(
                "Invalid values for `swa` and `ema` of fit: a member ends with one average; "
                f"member {m} has swa={s!r} and ema={emas[m]!r}."
            )
    return WeightSWA(model, settings)
