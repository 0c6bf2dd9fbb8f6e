"""Image augmentation: random rotation, scaling and translation, per sample, batched.

The random parameters are drawn by the caller (the training engine draws them from each
population member's own generator, so a member's augmentations do not depend on its
peers); the warp itself is kornia's batched affine transform, on the images' device.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from reglab.errors import ReglabError, check_number

__all__ = ["Augment"]


@dataclass(frozen=True)
class Augment:
    """Random affine augmentation of training images (never of validation or test data).

    Parameters
    ----------
    rotation : float, default 0.0
        Maximum rotation in degrees; each image turns by a uniform angle in
        ``[-rotation, rotation]``.
    scale : tuple of float, default (1.0, 1.0)
        Range of the uniform zoom factor.
    translate : float, default 0.0
        Maximum shift as a fraction of the width (horizontally) and height (vertically).

    Examples
    --------
    >>> import torch
    >>> aug = Augment(rotation=10, scale=(0.9, 1.1), translate=0.1)
    >>> aug.apply(torch.ones(2, 1, 8, 8), torch.zeros(2), torch.ones(2), torch.zeros(2, 2)).shape
    torch.Size([2, 1, 8, 8])
    """

    rotation: float = 0.0
    scale: tuple[float, float] = (1.0, 1.0)
    translate: float = 0.0

    def __post_init__(self) -> None:
        check_number("rotation", self.rotation, owner="Augment", low=0.0, high=180.0)
        check_number("translate", self.translate, owner="Augment", low=0.0, high=1.0)
        scale = tuple(self.scale)
        if len(scale) != 2:
            raise ReglabError(
                "Invalid value for `scale` of Augment: expected a pair (low, high) of zoom "
                f"factors. Received: scale={self.scale!r}."
            )
        low = check_number("scale", scale[0], owner="Augment", low=0.0, low_open=True)
        high = check_number("scale", scale[1], owner="Augment", low=0.0, low_open=True)
        if low > high:
            raise ReglabError(
                "Invalid value for `scale` of Augment: expected low <= high. "
                f"Received: scale={self.scale!r}."
            )
        object.__setattr__(self, "scale", (float(low), float(high)))

    @property
    def is_identity(self) -> bool:
        return self.rotation == 0 and self.scale == (1.0, 1.0) and self.translate == 0

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
        """Draw ``n`` angles (degrees), zoom factors and shifts (fractions), on the CPU."""
        u = torch.rand(n, 4, generator=generator)
        angles = (u[:, 0] * 2 - 1) * self.rotation
        low, high = self.scale
        scales = low + u[:, 1] * (high - low)
        shifts = (u[:, 2:] * 2 - 1) * self.translate
        return angles, scales, shifts

    def apply(
        self, images: torch.Tensor, angles: torch.Tensor, scales: torch.Tensor, shifts: torch.Tensor
    ) -> torch.Tensor:
        """Warp ``images`` ``(B, C, H, W)`` by the given per-image parameters (kornia)."""
        from kornia.geometry.transform import get_affine_matrix2d, warp_affine

        b, _, h, w = images.shape
        device = images.device
        center = torch.tensor([(w - 1) / 2, (h - 1) / 2], device=device).expand(b, 2)
        pixels = shifts.to(device) * torch.tensor([w, h], device=device, dtype=images.dtype)
        zoom = scales.to(device).unsqueeze(1).expand(b, 2)
        matrix = get_affine_matrix2d(pixels, center, zoom, angles.to(device))
        return warp_affine(images, matrix[:, :2], dsize=(h, w), align_corners=True)
