"""Mixup and CutMix of a population's training batches, each member from its own generator.

Per training step, each member that mixes draws, for its real rows ``n`` of the step and
in this order, from its own ``numpy.random.default_rng(derive_seed(seed, "mixup"))``:

1. ``lam = rng.beta(alpha, alpha)``;
2. CutMix only: the box centre ``cy = rng.integers(H)``, ``cx = rng.integers(W)``;
3. the partners ``perm = rng.permutation(n)``: row ``i`` mixes with row ``perm[i]``.

Mixup (Zhang et al., 2018) blends the inputs and the target probabilities:
``x = lam * x + (1 - lam) * x[perm]``, ``y = lam * y + (1 - lam) * y[perm]``.
CutMix (Yun et al., 2019; timm's ``rand_bbox``) pastes a box of the partner's image:
the box is ``int(H * r)`` by ``int(W * r)`` with ``r = sqrt(1 - lam)``, its rows
``clip(cy -+ int(H * r) // 2, 0, H)`` and columns likewise, and the targets are mixed by
the box's real area: ``lam = 1 - box_area / (H * W)``.

A member draws only for its own rows, so it mixes exactly as it does when trained alone;
the mixing itself runs on the batch's device, for all members at once.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from reglab.errors import ReglabError, check_number, per_member
from reglab.nn.masks import derive_seed

__all__ = ["BatchMixer", "box", "mixer_for"]


def box(lam: float, height: int, width: int, cy: int, cx: int) -> tuple[int, int, int, int]:
    """CutMix's box ``(top, bottom, left, right)`` for ``lam`` and centre ``(cy, cx)``.

    Examples
    --------
    >>> box(0.75, 8, 8, 4, 4)  # half the side: a 4 x 4 box, a quarter of the image
    (2, 6, 2, 6)
    >>> box(0.75, 8, 8, 0, 7)  # clipped at the border
    (0, 2, 5, 8)
    """
    ratio = math.sqrt(1.0 - lam)
    cut_h, cut_w = int(height * ratio), int(width * ratio)
    top = int(np.clip(cy - cut_h // 2, 0, height))
    bottom = int(np.clip(cy + cut_h // 2, 0, height))
    left = int(np.clip(cx - cut_w // 2, 0, width))
    right = int(np.clip(cx + cut_w // 2, 0, width))
    return top, bottom, left, right


class BatchMixer:
    """Mixes ``(K, B, ...)`` training batches and their ``(K, B, O)`` target probabilities.

    Parameters
    ----------
    mixup, cutmix : list of float or None
        Per member, the Beta distribution's ``alpha`` (None: the member does not mix).
    seeds : list of int
        Each member's seed (its generator, see the module's docstring).
    sample_shape : tuple of int
        One sample's shape; ``(C, H, W)`` for CutMix.
    """

    def __init__(self, mixup, cutmix, seeds, sample_shape) -> None:
        self.alphas = [a if a is not None else c for a, c in zip(mixup, cutmix)]
        self.cut = [c is not None for c in cutmix]
        self.any_blend = any(a is not None for a in mixup)
        self.any_cut = any(self.cut)
        self.generators = [np.random.default_rng(derive_seed(s, "mixup")) for s in seeds]
        self.sample_shape = tuple(sample_shape)

    def draw(self, k: int, b: int, counts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each member's ``lam``, partners ``(K, B)`` and box ``(K, 4)`` for one step."""
        partners = np.tile(np.arange(b), (k, 1))
        lams = np.ones(k)
        boxes = np.zeros((k, 4), dtype=np.int64)  # an empty box pastes nothing
        for m, alpha in enumerate(self.alphas):
            n = b if counts is None else counts[m]
            if alpha is None or n == 0:
                continue
            rng = self.generators[m]
            lam = rng.beta(alpha, alpha)
            if self.cut[m]:
                height, width = self.sample_shape[-2:]
                cy, cx = rng.integers(height), rng.integers(width)
                boxes[m] = top, bottom, left, right = box(lam, height, width, cy, cx)
                lam = 1.0 - (bottom - top) * (right - left) / (height * width)
            partners[m, :n] = rng.permutation(n)
            lams[m] = lam
        return lams, partners, boxes

    def __call__(self, xb: torch.Tensor, probabilities: torch.Tensor, batch):
        """The mixed inputs and targets of one step (``batch`` gives the real rows)."""
        k, b = xb.shape[:2]
        lams, partners, boxes = self.draw(k, b, batch.counts)
        device = xb.device
        members = torch.arange(k, device=device).unsqueeze(1)
        index = torch.as_tensor(partners, device=device)
        lam = torch.as_tensor(lams, dtype=torch.float32, device=device)
        other = xb[members, index]
        if self.any_blend:
            # CutMix members blend nothing (their lam is the box's, applied below).
            blend = torch.where(torch.as_tensor(self.cut, device=device), 1.0, lam)
            blend = blend.view(k, *[1] * (xb.ndim - 1))
            xb = xb * blend + other * (1.0 - blend)
        if self.any_cut:
            height, width = xb.shape[-2:]
            edges = torch.as_tensor(boxes, device=device).view(k, 4, 1, 1, 1)
            rows = torch.arange(height, device=device).view(1, 1, height, 1)
            cols = torch.arange(width, device=device).view(1, 1, 1, width)
            inside = (
                (rows >= edges[:, 0]) & (rows < edges[:, 1])
                & (cols >= edges[:, 2]) & (cols < edges[:, 3])
            )  # fmt: skip
            # (K, 1, 1, H, W): one box per member, over its rows and channels.
            xb = torch.where(inside.unsqueeze(1), other, xb)
        lam = lam.view(k, 1, 1)
        mixed = probabilities * lam + probabilities[members, index] * (1.0 - lam)
        return xb, mixed


def mixer_for(mixup, cutmix, k: int, seeds, sample_shape, *, sparse: bool, task):
    """Check ``fit``'s ``mixup`` and ``cutmix`` and make their mixer (None when unused)."""
    mixup = [_alpha("mixup", a) for a in per_member("mixup", mixup, k, owner="fit")]
    cutmix = [_alpha("cutmix", a) for a in per_member("cutmix", cutmix, k, owner="fit")]
    if all(a is None for a in mixup + cutmix):
        return None
    both = [m for m in range(k) if mixup[m] is not None and cutmix[m] is not None]
    if both:
        raise ReglabError(
            f"Invalid values for `mixup` and `cutmix` of fit: a member mixes one way; member "
            f"{both[0]} has mixup={mixup[both[0]]!r} and cutmix={cutmix[both[0]]!r}."
        )
    name, values = ("mixup", mixup) if any(a is not None for a in mixup) else ("cutmix", cutmix)
    value = next(a for a in values if a is not None)
    if task.kind == "regression":
        raise ReglabError(
            f"Invalid value for `{name}` of fit: it mixes class labels and this task is "
            f"regression (no classes to mix). Received: {name}={value!r}."
        )
    if sparse:
        raise ReglabError(
            f"Invalid value for `{name}` of fit: multi-hot inputs cannot be mixed (it would "
            f"make them dense). Received: {name}={value!r} with x a MultiHot."
        )
    if any(c is not None for c in cutmix) and len(sample_shape) != 3:
        raise ReglabError(
            "Invalid value for `cutmix` of fit: it pastes boxes of images and needs samples "
            f"of shape (channels, height, width). Received: samples of shape "
            f"{tuple(sample_shape)}."
        )
    return BatchMixer(mixup, cutmix, seeds, sample_shape)


def _alpha(name: str, value):
    if value is None:
        return None
    return check_number(name, value, owner="fit", low=0.0, low_open=True)
