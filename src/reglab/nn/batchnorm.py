"""Batch normalization for a population: PyTorch's ``BatchNorm1d`` semantics per member.

Training uses the batch's statistics (biased variance to normalise) and updates the
running statistics with the *unbiased* variance:
``running = (1 - momentum) * running + momentum * batch``. Evaluation uses the running
statistics. With ``track_running_stats=False`` batch statistics are used in both modes.

Momentum convention: PyTorch's ``momentum=0.1`` weighs the *new* batch by 0.1; Keras'
``BatchNormalization(momentum=0.9)`` weighs the *old* running value by 0.9. They are the
same rule: ``momentum_here = 1 - momentum_keras``. Note Keras' default ``epsilon`` is 1e-3
and PyTorch's 1e-5; reglab follows PyTorch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from reglab.errors import ReglabTypeError, check_number

__all__ = ["BatchNormConfig", "stacked_batch_norm"]


@dataclass(frozen=True)
class BatchNormConfig:
    """Settings of the batch normalization after each hidden dense layer.

    Parameters
    ----------
    momentum : float, default 0.1
        Weight of the new batch in the running statistics (PyTorch's convention;
        Keras' 0.9 is 0.1 here).
    eps : float, default 1e-5
        Added to the variance before the square root.
    affine : bool, default True
        Learn a per-feature scale (gamma) and shift (beta).
    track_running_stats : bool, default True
        Keep running statistics for evaluation; without them evaluation normalises with
        the evaluated batch's own statistics.

    Examples
    --------
    >>> BatchNormConfig(momentum=0.01).momentum
    0.01
    """

    momentum: float = 0.1
    eps: float = 1e-5
    affine: bool = True
    track_running_stats: bool = True

    def __post_init__(self) -> None:
        check_number("momentum", self.momentum, owner="BatchNormConfig", low=0.0, high=1.0)
        check_number("eps", self.eps, owner="BatchNormConfig", low=0.0, low_open=True)
        for name in ("affine", "track_running_stats"):
            if not isinstance(getattr(self, name), bool):
                raise ReglabTypeError(
                    f"Invalid value for `{name}` of BatchNormConfig: expected True or False. "
                    f"Received: {name}={getattr(self, name)!r}."
                )


def stacked_batch_norm(
    x: torch.Tensor,
    running_mean: torch.Tensor | None,
    running_var: torch.Tensor | None,
    gamma: torch.Tensor | None,
    beta: torch.Tensor | None,
    *,
    training: bool,
    config: BatchNormConfig,
    sample_weight: torch.Tensor | None = None,
    update: torch.Tensor | None = None,
) -> torch.Tensor:
    """Normalise ``x`` over its batch (and spatial) axes, member by member.

    Parameters
    ----------
    x : torch.Tensor
        Activations, ``(K, B, H)``, or ``(K, B, C, H, W)`` feature maps (statistics per
        channel over the batch and every position, as ``BatchNorm2d``).
    running_mean, running_var : torch.Tensor or None
        Running statistics ``(K, 1, H)`` (``(K, 1, C, 1, 1)``), updated in place.
    gamma, beta : torch.Tensor or None
        Affine parameters of the same shape (None when ``affine=False``).
    training : bool
    config : BatchNormConfig
    sample_weight : torch.Tensor, optional
        ``(K, B, 1)`` 0/1 weights: padded rows (members whose batch is shorter) are left
        out of the statistics.
    update : torch.Tensor, optional
        ``(K, 1, 1)`` 0/1: which members update their running statistics (stopped members
        must not change).

    Returns
    -------
    torch.Tensor
        ``(K, B, H)``.

    Examples
    --------
    >>> import torch
    >>> out = stacked_batch_norm(torch.tensor([[[1.0], [3.0]]]), None, None, None, None,
    ...                          training=True, config=BatchNormConfig(eps=1e-12))
    >>> out.flatten()
    tensor([-1.,  1.])
    """
    use_batch = training or not config.track_running_stats or running_mean is None
    if x.ndim == 5 and sample_weight is None and update is None and x.shape[1] > 1:
        return _grouped_batch_norm(x, running_mean, running_var, gamma, beta, use_batch, config)
    if use_batch:
        # Statistics over the batch and, for images, every position: (K, 1, C, 1, 1).
        dims = (1, *range(3, x.ndim))
        spatial = math.prod(x.shape[3:])
        if sample_weight is None:
            mean = x.mean(dim=dims, keepdim=True)
            var = (x - mean).square().mean(dim=dims, keepdim=True)
            n = torch.full_like(mean[:, :, :1], float(x.shape[1] * spatial))
        else:
            w = sample_weight.view(*sample_weight.shape, *[1] * (x.ndim - 3))
            n = w.sum(dim=dims, keepdim=True).mul_(spatial).clamp_min(1.0)
            mean = (x * w).sum(dim=dims, keepdim=True) / n
            var = ((x - mean).square() * w).sum(dim=dims, keepdim=True) / n
        if training and config.track_running_stats and running_mean is not None:
            with torch.no_grad():
                unbiased = var * n / (n - 1).clamp_min(1.0)
                step = config.momentum
                if update is not None:
                    step = config.momentum * update.view(-1, *[1] * (x.ndim - 1))
                running_mean.add_((mean.detach() - running_mean) * step)
                running_var.add_((unbiased.detach() - running_var) * step)
    else:
        mean, var = running_mean, running_var
    out = (x - mean) * torch.rsqrt(var + config.eps)
    if gamma is not None:
        out = torch.addcmul(beta, out, gamma)
    return out


def _grouped_batch_norm(x, running_mean, running_var, gamma, beta, use_batch, config):
    """Feature maps ``(K, B, C, H, W)`` through PyTorch's own batch norm, all members at once.

    Seen as ``(B, K*C, H, W)`` (the layout the grouped convolution writes, so a view), the
    members' channels are ``K*C`` channels of one ``BatchNorm2d``: its fused kernels do in
    a few passes what the general path does in about ten elementwise operations and their
    backwards (P5's 8-member step, forward and backward: 185 ms instead of 386 ms with
    channels-first maps, 156 instead of 399 with channels-last ones), and it updates the running
    statistics in place by the same rule (unbiased variance, the new batch weighted by
    ``momentum``), equal to float rounding.
    The statistics are per channel, so a member's numbers do not depend on its peers.
    Only whole batches come here: padded rows and frozen members need the general path.
    """
    k, b, c = x.shape[:3]
    grouped = x.transpose(0, 1).reshape(b, k * c, *x.shape[3:])
    track = use_batch and running_mean is not None and config.track_running_stats
    out = torch.nn.functional.batch_norm(
        grouped,
        running_mean.view(-1) if track or not use_batch else None,
        running_var.view(-1) if track or not use_batch else None,
        None if gamma is None else gamma.reshape(-1),
        None if beta is None else beta.reshape(-1),
        training=use_batch,
        momentum=config.momentum,
        eps=config.eps,
    )
    return out.view(b, k, c, *x.shape[3:]).transpose(0, 1)
