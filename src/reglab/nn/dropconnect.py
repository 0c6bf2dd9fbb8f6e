"""DropConnect (Wan et al., 2013): zero *weights* at random instead of activations.

In training each weight of a dense layer is kept with probability ``1 - rate``; at
evaluation the layer uses the expected weights ``(1 - rate) * W`` (the "mean inference"
of the paper, not its Gaussian moment matching). One mask is drawn per batch and shared by
the batch's samples: per-sample masks would need a ``batch x in x out`` tensor and a
batched matmul per sample, which costs far more than the layer itself; Wan et al.'s fast
implementation makes the same trade. In a population every member draws its own mask.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["dropconnect_linear"]


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
