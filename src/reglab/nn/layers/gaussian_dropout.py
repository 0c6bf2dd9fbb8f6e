"""``GaussianDropout``: multiply activations by ``N(1, rate / (1 - rate))`` noise in training.

Keras' layer: the multiplicative Gaussian noise of Srivastava et al. (2014, section 10),
whose variance equals that of inverted dropout's factor at the same ``rate``, so the
expected activation is unchanged and evaluation is the identity. Each member draws from
its own noise stream, for its real rows only.
"""

from __future__ import annotations

import math

import torch

from reglab.errors import check_rate
from reglab.nn.layers.base import Layer, Pass
from reglab.nn.layers.dropout import checked_per_member
from reglab.nn.members import current_member, member_value

__all__ = ["GaussianDropout"]


class GaussianDropout(Layer):
    """Multiplicative Gaussian noise with stddev ``sqrt(rate / (1 - rate))``, training only.

    Parameters
    ----------
    rate : float or list of float
        As dropout's drop probability, in [0, 1); per member.
    name : str, optional

    Examples
    --------
    >>> import torch
    >>> GaussianDropout(0.5).eval()(torch.ones(2))
    tensor([1., 1.])
    """

    type_name = "gaussian_dropout"
    arguments = ("rate",)
    per_member = ("rate",)

    def __init__(self, rate, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.rate = checked_per_member(
            rate, lambda r: check_rate("rate", r, owner="GaussianDropout")
        )

    def build(self, input_shape, layout, *, logits):
        self.ndim = len(input_shape) + 2
        return tuple(input_shape)

    def configure(self, device):
        self.scale = self.column([math.sqrt(r / (1.0 - r)) for r in self.rate], self.ndim, device)
        self.noisy = [k for k, r in enumerate(self.rate) if r > 0]

    def forward(self, h, run: Pass | None = None):
        if run is None:
            return self._member_forward(h)
        if not run.training or not self.noisy:
            return h
        noise = run.normal(tuple(h.shape), self.noisy)
        return h * (noise * run.rows(self.scale) + 1.0)

    def _member_forward(self, x: torch.Tensor) -> torch.Tensor:
        context = current_member()
        rate = member_value(self.rate, context, name="rate", owner="GaussianDropout")
        if not self.training or rate == 0:
            return x
        stddev = math.sqrt(rate / (1.0 - rate))
        if context is None:  # a single layer: torch's global generator
            return x * (torch.randn_like(x) * stddev + 1.0)
        return x * (context.model.masks.normal_member(context.member, x.shape) * stddev + 1.0)
