"""Applies an :class:`reglab.data.Augment` to a population's training batches."""

from __future__ import annotations

import math

import torch

from reglab.data.augmentation import Augment
from reglab.errors import ReglabError, ReglabTypeError
from reglab.nn.masks import derive_seed

__all__ = ["BatchAugmenter"]


class BatchAugmenter:
    """Augments ``(K, B, C, H, W)`` batches of images (or ``(K, B, F)`` flattened ones),
    each member from its own seed, on the batch's device."""

    def __init__(self, augment, image_shape, sample_shape, seeds, device) -> None:
        if not isinstance(augment, Augment):
            raise ReglabTypeError(
                "Invalid value for `augment` of fit: expected reglab.data.Augment(...). "
                f"Received: augment={augment!r}."
            )
        n_features = math.prod(sample_shape)
        if image_shape is None and len(sample_shape) == 3:
            image_shape = tuple(sample_shape)
        if image_shape is None:
            side = math.isqrt(n_features)
            if side * side != n_features:
                raise ReglabError(
                    "Invalid value for `image_shape` of fit: augmentation needs the shape "
                    f"(C, H, W) of the flattened images; {n_features} features are not a "
                    "square image. Received: image_shape=None."
                )
            image_shape = (1, side, side)
        if math.prod(image_shape) != n_features:
            raise ReglabError(
                f"Invalid value for `image_shape` of fit: {tuple(image_shape)} holds "
                f"{math.prod(image_shape)} values but each input row has {n_features}."
            )
        self.augment = augment
        self.image_shape = tuple(image_shape)
        self.generators = [torch.Generator().manual_seed(derive_seed(s, "augment")) for s in seeds]

    def __call__(self, xb: torch.Tensor, batch) -> torch.Tensor:
        k, b = xb.shape[:2]
        angles, scales, shifts = torch.zeros(k, b), torch.ones(k, b), torch.zeros(k, b, 2)
        for m, generator in enumerate(self.generators):
            # Draw only for the member's real rows, as it would when trained alone.
            n = b if batch.counts is None else batch.counts[m]
            angles[m, :n], scales[m, :n], shifts[m, :n] = self.augment.sample(n, generator)
        angles, scales, shifts = angles.flatten(), scales.flatten(), shifts.flatten(0, 1)
        images = xb.reshape(k * b, *self.image_shape)
        return self.augment.apply(images, angles, scales, shifts).reshape(xb.shape)
