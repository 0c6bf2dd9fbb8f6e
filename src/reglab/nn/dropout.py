"""Dropout with ``rate`` = the probability of dropping a unit, in its two published forms.

- ``inverted`` (PyTorch, Keras): kept units are scaled by ``1/(1-rate)`` in training and
  evaluation is the identity.
- ``classic`` (Srivastava et al., 2014): no scaling in training; at evaluation every
  activation is multiplied by ``1-rate``.

Both give the same expected activation: ``E[train output] == eval output``. The stacked
form takes one rate per population member, as ``(K, 1, 1)`` scale tensors. The layer is
:class:`reglab.nn.layers.Dropout`.
"""

from __future__ import annotations

import torch

__all__ = ["DROPOUT_MODES", "dropout", "dropout_scales"]

DROPOUT_MODES = ("inverted", "classic")


def dropout_scales(rate: float, mode: str) -> tuple[float, float]:
    """Return ``(train_scale, eval_scale)`` that implement ``mode`` for ``rate``.

    Examples
    --------
    >>> dropout_scales(0.75, "inverted")
    (4.0, 1.0)
    >>> dropout_scales(0.75, "classic")
    (1.0, 0.25)
    """
    if mode == "inverted":
        return 1.0 / (1.0 - rate), 1.0
    return 1.0, 1.0 - rate


def dropout(
    x: torch.Tensor,
    rate: float,
    *,
    training: bool,
    mode: str = "inverted",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Apply dropout to ``x`` (the plain-function core of :class:`Dropout`).

    Parameters
    ----------
    x : torch.Tensor
        Activations.
    rate : float
        Probability of dropping each unit, in [0, 1).
    training : bool
        Draw a mask (True) or apply the evaluation scale (False).
    mode : {"inverted", "classic"}, default "inverted"
    generator : torch.Generator, optional
        Source of the mask's randomness (the global one when omitted).

    Returns
    -------
    torch.Tensor
        Same shape as ``x``.

    Examples
    --------
    >>> import torch
    >>> dropout(torch.ones(3), 0.5, training=False, mode="classic")
    tensor([0.5000, 0.5000, 0.5000])
    """
    train_scale, eval_scale = dropout_scales(rate, mode)
    if not training:
        return x * eval_scale if eval_scale != 1.0 else x
    if rate == 0.0:
        return x
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= rate
    return x * keep * train_scale
