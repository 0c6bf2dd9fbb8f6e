"""``Activation``: an activation function as a layer of its own (Keras' ``Activation``).

Dense and Conv2D take an ``activation`` argument; the separate layer is for the order
``Dense -> BatchNorm -> activation`` that batch normalization calls for.
"""

from __future__ import annotations

from reglab.errors import ReglabError
from reglab.nn.activations import activate, check_activation
from reglab.nn.layers.base import Layer, Pass

__all__ = ["Activation"]


class Activation(Layer):
    """Apply ``activation`` elementwise.

    Parameters
    ----------
    activation : str
        One of :data:`reglab.nn.activations.ACTIVATIONS`.
    name : str, optional

    Examples
    --------
    >>> import torch
    >>> from reglab.nn.layout import Layout
    >>> Activation("relu").build((3, 4, 4), Layout(), logits=None)
    (3, 4, 4)
    """

    type_name = "activation"
    arguments = ("activation",)

    def __init__(self, activation: str, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.activation = check_activation(activation, owner="Activation")

    def build(self, input_shape, layout, *, logits):
        if logits is not None:
            raise ReglabError(
                f"Invalid model: {self.describe_name()} is the last layer, but the last "
                "layer gives the logits and the task chooses the output activation."
            )
        return tuple(input_shape)

    def forward(self, h, run: Pass | None = None):
        if run is None:
            return activate(self.activation, h)
        return activate(self.activation, h, in_place=run.in_place)
