"""``Flatten``: each sample's features as one axis (Keras' ``Flatten``), e.g. after convolutions."""

from __future__ import annotations

import math

from reglab.nn.layers.base import Layer, Pass
from reglab.nn.sparse import SparseRows

__all__ = ["Flatten"]


class Flatten(Layer):
    """Reshape ``(K, B, *shape)`` to ``(K, B, prod(shape))``; flat inputs pass unchanged.

    Examples
    --------
    >>> from reglab.nn.layout import Layout
    >>> Flatten().build((8, 5, 5), Layout(), logits=None)
    (200,)
    """

    type_name = "flatten"

    def build(self, input_shape, layout, *, logits):
        self.flat = len(input_shape) == 1
        return (math.prod(input_shape),)

    def forward(self, h, run: Pass | None = None):
        if run is None:
            return h.flatten(1)
        if self.flat or isinstance(h, SparseRows):
            return h
        return h.reshape(*h.shape[:2], -1)
