"""The training targets as probabilities: label smoothing, then mixup or CutMix.

Decided once, before the loop (:func:`soft_targets_for`): without label smoothing, mixup
or CutMix the engine trains on the hard labels and nothing here runs. Otherwise every
training step's labels become per-class probabilities (integer labels one-hot), are
smoothed with each member's ``label_smoothing`` (Keras' formula,
:meth:`reglab.nn.heads.Head.smooth`), and mixed with each member's partners
(:mod:`reglab.train.mixing`), in that order, as timm's ``mixup_target`` does; the head
trains on them through its one soft-target cross-entropy.

Only the training loss sees soft targets: the training metric compares with the hard
labels, and every evaluation (``val_loss``, ``History.final``, ``evaluate``) scores the
unsmoothed, unmixed labels.
"""

from __future__ import annotations

import torch

from reglab.errors import ReglabError, check_number, per_member
from reglab.train.mixing import BatchMixer, mixer_for

__all__ = ["SoftTargets", "soft_targets_for"]


class SoftTargets:
    """Turns a step's inputs and labels into the inputs and soft targets it trains on.

    Parameters
    ----------
    head : reglab.nn.heads.Head
    smoothing : torch.Tensor or None
        ``(K, 1, 1)`` label smoothing per member (None: no member smooths).
    mixer : BatchMixer or None
    """

    def __init__(self, head, smoothing: torch.Tensor | None, mixer: BatchMixer | None) -> None:
        self.head, self.smoothing, self.mixer = head, smoothing, mixer

    def __call__(self, xb: torch.Tensor, yb: torch.Tensor, batch):
        soft = self.head.probabilities(yb)
        if self.smoothing is not None:
            soft = self.head.smooth(soft, self.smoothing)
        if self.mixer is not None:
            xb, soft = self.mixer(xb, soft, batch)
        return xb, soft


def soft_targets_for(
    label_smoothing, mixup, cutmix, *, head, inputs, seeds, device
) -> SoftTargets | None:
    """Check ``fit``'s ``label_smoothing``, ``mixup`` and ``cutmix``; None when all are off.

    Raises
    ------
    ReglabError
        A smoothing outside [0, 1], smoothing or mixing on a regression task, an alpha
        that is not positive, mixup and CutMix on one member, CutMix on flat samples,
        mixing multi-hot inputs.
    """
    k = len(seeds)
    values = [
        0.0 if ls is None else check_number("label_smoothing", ls, owner="fit", low=0.0, high=1.0)
        for ls in per_member("label_smoothing", label_smoothing, k, owner="fit")
    ]
    smoothing = None
    if any(values):
        if head.task.kind == "regression":
            raise ReglabError(
                "Invalid value for `label_smoothing` of fit: it smooths class labels and this "
                f"task is regression. Received: label_smoothing={label_smoothing!r}."
            )
        smoothing = torch.tensor(values, device=device).view(k, 1, 1)
    mixer = mixer_for(
        mixup, cutmix, k, seeds, inputs.sample_shape, sparse=inputs.sparse, task=head.task
    )
    if smoothing is None and mixer is None:
        return None
    return SoftTargets(head, smoothing, mixer)
