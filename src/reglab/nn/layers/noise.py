"""``GaussianNoise``: add zero-mean normal noise to activations in training (Keras' layer).

``stddev`` is the noise's standard deviation, one value per member where a list is
given; evaluation is the identity. Each member draws from a noise stream of its own, for
its real rows only, so a member trains as it would alone and adding noise to a model
leaves its dropout masks unchanged.
"""

from __future__ import annotations

import torch

from reglab.errors import check_number
from reglab.nn.layers.base import Layer, Pass
from reglab.nn.layers.dropout import checked_per_member
from reglab.nn.members import current_member, member_value

__all__ = ["GaussianNoise"]


class GaussianNoise(Layer):
    """Additive Gaussian noise, training only (a regularizer: Keras' ``GaussianNoise``).

    Parameters
    ----------
    stddev : float or list of float
        Standard deviation of the noise, >= 0; per member.
    name : str, optional

    Examples
    --------
    >>> import torch
    >>> layer = GaussianNoise(0.1).eval()
    >>> layer(torch.ones(3))
    tensor([1., 1., 1.])
    """

    type_name = "gaussian_noise"
    arguments = ("stddev",)
    per_member = ("stddev",)

    def __init__(self, stddev, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.stddev = checked_per_member(
            stddev, lambda s: check_number("stddev", s, owner="GaussianNoise", low=0.0)
        )

    def build(self, input_shape, layout, *, logits):
        self.ndim = len(input_shape) + 2
        return tuple(input_shape)

    def configure(self, device):
        self.scale = self.column(self.stddev, self.ndim, device)
        self.noisy = [k for k, s in enumerate(self.stddev) if s > 0]

    def forward(self, h, run: Pass | None = None):
        if run is None:
            return self._member_forward(h)
        if not run.training or not self.noisy:
            return h
        noise = run.normal(tuple(h.shape), self.noisy)
        return h + noise * run.rows(self.scale)

    def _member_forward(self, x: torch.Tensor) -> torch.Tensor:
        context = current_member()
        stddev = member_value(self.stddev, context, name="stddev", owner="GaussianNoise")
        if not self.training or stddev == 0:
            return x
        if context is None:  # a single layer: torch's global generator
            return x + torch.randn_like(x) * stddev
        return x + context.model.masks.normal_member(context.member, x.shape) * stddev
