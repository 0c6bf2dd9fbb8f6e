"""DropConnect (Wan et al., 2013): zero *weights* at random instead of activations.

In training each weight of a dense layer is kept with probability ``1 - rate``; at
evaluation the layer uses the expected weights ``(1 - rate) * W`` (the "mean inference"
of the paper, not its Gaussian moment matching). One mask is drawn per batch and shared by
the batch's samples: per-sample masks would need a ``batch x in x out`` tensor and a
batched matmul per sample, which costs far more than the layer itself; Wan et al.'s fast
implementation makes the same trade. In a population every member draws its own mask.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from reglab.errors import check_rate

__all__ = ["DropConnect", "dropconnect_linear"]


def dropconnect_linear(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    rate: float,
    *,
    training: bool,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``F.linear`` with a DropConnect mask on ``weight`` (shape ``(out, in)``).

    Examples
    --------
    >>> import torch
    >>> w = torch.ones(1, 2)
    >>> dropconnect_linear(torch.ones(1, 2), w, None, 0.5, training=False)
    tensor([[1.]])
    """
    if rate == 0.0:
        return F.linear(x, weight, bias)
    if not training:
        return F.linear(x, weight * (1.0 - rate), bias)
    keep = torch.rand(weight.shape, generator=generator, device=weight.device) >= rate
    return F.linear(x, weight * keep, bias)


class DropConnect(torch.nn.Module):
    """A dense layer whose weights are dropped with probability ``rate`` in training.

    Parameters
    ----------
    in_features : int
    out_features : int
    rate : float
        Probability of zeroing each weight, in [0, 1).
    bias : bool, default True

    Examples
    --------
    >>> import torch
    >>> layer = DropConnect(4, 2, rate=0.5).eval()
    >>> layer(torch.ones(3, 4)).shape
    torch.Size([3, 2])
    """

    def __init__(self, in_features: int, out_features: int, rate: float, bias: bool = True):
        super().__init__()
        self.rate = check_rate("rate", rate, owner="DropConnect")
        self.weight = torch.nn.Parameter(torch.empty(out_features, in_features))
        self.bias = torch.nn.Parameter(torch.zeros(out_features)) if bias else None
        bound = math.sqrt(6.0 / (in_features + out_features))  # Glorot uniform, as Keras' Dense
        torch.nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropconnect_linear(x, self.weight, self.bias, self.rate, training=self.training)

    def extra_repr(self) -> str:
        out_features, in_features = self.weight.shape
        return f"in_features={in_features}, out_features={out_features}, rate={self.rate:g}"
