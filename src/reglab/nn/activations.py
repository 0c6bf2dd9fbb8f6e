"""Hidden-layer activations by Keras name, and their in-place forms for evaluation."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from reglab.errors import check_choice
from reglab.nn.heads import sigmoid, sigmoid_

__all__ = ["ACTIVATIONS", "activate", "check_activation"]

ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": sigmoid,  # rounds the same in any shape (see reglab.nn.heads.sigmoid)
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "silu": F.silu,
    "swish": F.silu,
    "softplus": F.softplus,
    "leaky_relu": F.leaky_relu,
    "softmax": lambda x: torch.softmax(x, dim=-1),
    "linear": lambda x: x,
}
# Evaluation runs without autograd and may overwrite its activations: on a population's
# shared validation data they are (K, N, H), and each fresh copy is megabytes.
_IN_PLACE = {
    "relu": torch.relu_,
    "tanh": torch.tanh_,
    "sigmoid": sigmoid_,
    "linear": lambda x: x,
}


def check_activation(value, *, owner: str) -> str:
    """``None`` is ``"linear"`` (Keras' default for Dense and Conv2D); else a known name."""
    if value is None:
        return "linear"
    return check_choice("activation", value, list(ACTIVATIONS), owner=owner)


def activate(name: str, x: torch.Tensor, *, in_place: bool = False) -> torch.Tensor:
    """Apply activation ``name``; ``in_place`` may overwrite ``x`` (no autograd).

    Examples
    --------
    >>> import torch
    >>> activate("relu", torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    if in_place and name in _IN_PLACE:
        return _IN_PLACE[name](x)
    return ACTIVATIONS[name](x)
