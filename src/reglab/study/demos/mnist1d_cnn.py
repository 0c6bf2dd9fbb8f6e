"""The 1-D CNN of the MNIST-1D benchmark, as a user module for the shipped study.

reglab's own layers have no ``Conv1D``, so the shipped MNIST-1D study names this
module (``module = "reglab.study.demos.mnist1d_cnn:conv_base"``), which any spec may
do with a module of its own (docs/models.md). The architecture is the benchmark's
``ConvBase`` (mnist1d's ``notebooks/models.py``): three ``Conv1d`` layers of 25
channels (kernels 5, 3, 3, stride 2, padding 1) with ReLU, then a linear classifier on
the 25 x 5 flattened features; 40 -> 19 -> 10 -> 5 positions.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ConvBase", "conv_base", "conv_base_dropout"]

CHANNELS = 25  # the benchmark's width: 5,210 parameters in all


class ConvBase(nn.Module):
    """MNIST-1D's 1-D CNN: ``(B, 40)`` signals in, 10 logits out.

    Parameters
    ----------
    dropout : float, default 0.0
        Drop probability (``torch.nn.Dropout``) before the classifier; 0 adds none.
    length : int, default 40
        The signals' length.

    Examples
    --------
    >>> ConvBase()(torch.zeros(8, 40)).shape
    torch.Size([8, 10])
    >>> sum(p.numel() for p in ConvBase().parameters())
    5210
    """

    def __init__(self, dropout: float = 0.0, length: int = 40):
        super().__init__()
        self.conv1 = nn.Conv1d(1, CHANNELS, 5, stride=2, padding=1)
        self.conv2 = nn.Conv1d(CHANNELS, CHANNELS, 3, stride=2, padding=1)
        self.conv3 = nn.Conv1d(CHANNELS, CHANNELS, 3, stride=2, padding=1)
        positions = length
        for kernel in (5, 3, 3):
            positions = (positions + 2 - kernel) // 2 + 1
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.linear = nn.Linear(CHANNELS * positions, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.view(x.shape[0], 1, x.shape[-1])  # (B, L) signals as one channel
        h = self.conv1(h).relu()
        h = self.conv2(h).relu()
        h = self.conv3(h).relu()
        return self.linear(self.dropout(h.flatten(1)))


def conv_base() -> ConvBase:
    """The benchmark's CNN, unregularized (the study's ``cnn`` variants).

    Examples
    --------
    >>> isinstance(conv_base().dropout, nn.Identity)
    True
    """
    return ConvBase()


def conv_base_dropout() -> ConvBase:
    """The same CNN with dropout 0.5 on the flattened features.

    Examples
    --------
    >>> conv_base_dropout().dropout.p
    0.5
    """
    return ConvBase(dropout=0.5)
