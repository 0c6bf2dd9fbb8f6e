"""``MaxPool2D`` and ``AveragePooling2D`` over ``(C, H, W)`` samples (Keras' layers).

All members are pooled in one call, over a view of the batch as ``(B, K*C, H, W)``
(see :func:`reglab.nn.layers.conv.as_groups`): pooling works channel by channel, so
the members' channels side by side are pooled exactly as each member's alone.
Padding is ``"valid"`` (Keras' default): windows that do not fit are dropped.
"""

from __future__ import annotations

import torch.nn.functional as F

from reglab.errors import ReglabError, check_choice
from reglab.nn.layers.base import Layer, Pass
from reglab.nn.layers.conv import as_groups, check_pair, from_groups

__all__ = ["AveragePooling2D", "MaxPool2D"]


class _Pooling2D(Layer):
    arguments = ("pool_size", "strides", "padding")

    def __init__(self, pool_size=2, strides=None, padding="valid", *, name=None) -> None:
        super().__init__(name=name)
        owner = type(self).__name__
        self.pool_size = check_pair("pool_size", pool_size, owner=owner)
        self.strides = (
            self.pool_size if strides is None else check_pair("strides", strides, owner=owner)
        )
        self.padding = check_choice("padding", padding, ["valid"], owner=owner)

    def build(self, input_shape, layout, *, logits):
        if len(input_shape) != 3:
            raise ReglabError(
                f"Invalid model: {self.describe_name()} takes images (channels, height, "
                f"width) but receives samples of shape {tuple(input_shape)}; it belongs "
                "after a Conv2D."
            )
        c, h, w = input_shape
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        if h < ph or w < pw:
            raise ReglabError(
                f"Invalid model: {self.describe_name()} pools {ph}x{pw} windows but its "
                f"inputs are only {h}x{w}."
            )
        return (c, (h - ph) // sh + 1, (w - pw) // sw + 1)

    def forward(self, h, run: Pass | None = None):
        if run is None:
            return self._pool(h)
        return from_groups(self._pool(as_groups(h)), h.shape[0])


class MaxPool2D(_Pooling2D):
    """The largest value of each ``pool_size`` window (Keras' ``MaxPooling2D``).

    Parameters
    ----------
    pool_size : int or (int, int), default 2
    strides : int or (int, int), optional
        Defaults to ``pool_size``.
    padding : {"valid"}, default "valid"
    name : str, optional

    Examples
    --------
    >>> MaxPool2D(2).build((8, 28, 28), None, logits=None)
    (8, 14, 14)
    """

    type_name = "max_pool2d"

    def _pool(self, x):
        return F.max_pool2d(x, self.pool_size, self.strides)


class AveragePooling2D(_Pooling2D):
    """The mean of each ``pool_size`` window (Keras' ``AveragePooling2D``).

    Parameters
    ----------
    pool_size : int or (int, int), default 2
    strides : int or (int, int), optional
    padding : {"valid"}, default "valid"
    name : str, optional

    Examples
    --------
    >>> AveragePooling2D(3, strides=1).build((4, 5, 5), None, logits=None)
    (4, 3, 3)
    """

    type_name = "average_pooling2d"

    def _pool(self, x):
        return F.avg_pool2d(x, self.pool_size, self.strides)
