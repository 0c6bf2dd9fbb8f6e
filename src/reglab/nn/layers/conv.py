"""``Conv2D`` for a population: every member's convolution in one grouped convolution.

Samples are ``(C, H, W)`` (PyTorch's channels-first order); a population's batch is
``(K, B, C, H, W)``. Seen as ``(B, K*C, H, W)`` (:func:`as_groups`), the members'
channels lie side by side, and a convolution with ``groups=K`` and the members' kernels
stacked as ``(K*F, C, kh, kw)`` convolves each member's channels with its own kernels
only: one call for the population, and for one member exactly ``torch.nn.Conv2d``.
Kernels are Glorot-uniform and biases zero (Keras' defaults), each member's from its
own seed. ``padding="same"`` pads as Keras does (the extra row or column, when the
total is odd, goes at the bottom and right), also with strides.

The grouped input is laid out channels last (``(B, H, W, K*C)`` in memory, still indexed
``(B, K*C, H, W)``): oneDNN then runs the grouped convolution without reordering its input
and output to a blocked layout and back, and batch norm, relu and pooling keep the layout,
so :func:`as_groups` and :func:`from_groups` stay views between them. In P5's CNN
(``bench/p5_cnn_population.py``, 2 CPU cores) an 8-member training step's forward and
backward took 156 ms channels last against 185 ms channels first (medians of 5
interleaved rounds; see docs/performance.md).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from reglab.errors import ReglabError, ReglabTypeError, check_choice, check_int
from reglab.nn.activations import activate
from reglab.nn.layers.base import Pass
from reglab.nn.layers.dense import glorot_uniform
from reglab.nn.layers.weighted import WeightedLayer

__all__ = ["Conv2D", "as_groups", "check_pair", "from_groups", "same_padding"]


def check_pair(name: str, value, *, owner: str) -> tuple[int, int]:
    """An int or a pair of ints >= 1, as a pair (Keras' ``kernel_size``, ``strides``)."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ReglabTypeError(
                f"Invalid value for `{name}` of {owner}: expected an int or a pair of ints. "
                f"Received: {name}={value!r}."
            )
        return tuple(check_int(name, v, owner=owner, low=1) for v in value)
    n = check_int(name, value, owner=owner, low=1)
    return (n, n)


def as_groups(h: torch.Tensor) -> torch.Tensor:
    """``(K, B, C, H, W)`` as ``(B, K*C, H, W)`` (a view if ``h`` came from :func:`from_groups`)."""
    k, b, c = h.shape[:3]
    return h.transpose(0, 1).reshape(b, k * c, *h.shape[3:])


def from_groups(x: torch.Tensor, members: int) -> torch.Tensor:
    """``(B, K*C, H, W)`` back as ``(K, B, C, H, W)`` (a view)."""
    b, kc = x.shape[:2]
    return x.view(b, members, kc // members, *x.shape[2:]).transpose(0, 1)


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """Keras' ``"same"`` padding of one axis: ``(before, after)``, the odd one after.

    Examples
    --------
    >>> same_padding(28, 3, 1), same_padding(28, 3, 2), same_padding(5, 2, 1)
    ((1, 1), (0, 1), (0, 1))
    """
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Conv2D(WeightedLayer):
    """A 2-D convolution for a population (Keras' ``Conv2D``, channels first).

    Parameters
    ----------
    filters : int
        Output channels.
    kernel_size : int or (int, int)
    strides : int or (int, int), default 1
    padding : {"valid", "same"}, default "valid"
    activation : str, optional
        None is linear (Keras' default).
    kernel_regularizer, bias_regularizer : Penalty or list of Penalty, optional
        Per member.
    use_bias : bool, default True
    kernel_constraint : Constraint or list of Constraint, optional
        Per member, applied after every step; the norm is over each filter.
    name : str, optional

    Examples
    --------
    >>> from reglab.nn.layout import Layout
    >>> Conv2D(32, 3, activation="relu").build((1, 28, 28), Layout(), logits=None)
    (32, 26, 26)
    """

    type_name = "conv2d"
    arguments = (
        "filters", "kernel_size", "strides", "padding", "activation",
        "kernel_regularizer", "bias_regularizer", "use_bias", "kernel_constraint",
    )  # fmt: skip
    unit_dims = (1, 2, 3)  # a filter's weights: (channels, height, width)

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=1,
        padding: str = "valid",
        activation: str | None = None,
        kernel_regularizer=None,
        bias_regularizer=None,
        use_bias: bool = True,
        kernel_constraint=None,
        *,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        owner = "Conv2D"
        self.filters = check_int("filters", filters, owner=owner, low=1)
        self.kernel_size = check_pair("kernel_size", kernel_size, owner=owner)
        self.strides = check_pair("strides", strides, owner=owner)
        self.padding = check_choice("padding", padding, ["valid", "same"], owner=owner)
        self._set_weight_options(
            activation, kernel_regularizer, bias_regularizer, use_bias, kernel_constraint
        )

    def build(self, input_shape, layout, *, logits):
        if len(input_shape) != 3:
            raise ReglabError(
                f"Invalid model: {self.describe_name()} takes images (channels, height, "
                f"width) but receives samples of shape {tuple(input_shape)}; give images "
                "as (N, C, H, W) (a grey image has C = 1)."
            )
        if logits is not None:
            raise ReglabError(
                f"Invalid model: {self.describe_name()} is the last layer, but the last "
                "layer gives the logits; end the model with Flatten() and Dense(...)."
            )
        c, h, w = input_shape
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        if self.padding == "same":
            self.pad = (*same_padding(w, kw, sw), *same_padding(h, kh, sh))
            out_h, out_w = math.ceil(h / sh), math.ceil(w / sw)
        else:
            if h < kh or w < kw:
                raise ReglabError(
                    f"Invalid model: {self.describe_name()} has a {kh}x{kw} kernel but its "
                    f"inputs are only {h}x{w}; use padding='same' or a smaller kernel."
                )
            self.pad = None
            out_h, out_w = (h - kh) // sh + 1, (w - kw) // sw + 1
        self.in_channels = c
        shape = (self.filters, c, kh, kw)
        self.kernel = layout.add(f"{self.name}/kernel", shape, "kernel")
        self.bias = (
            layout.add(f"{self.name}/bias", (self.filters,), "bias") if self.use_bias else None
        )
        return (self.filters, out_h, out_w)

    def initialize(self, row, generator):
        kh, kw = self.kernel_size
        fan_in, fan_out = self.in_channels * kh * kw, self.filters * kh * kw
        self.kernel.view(row)[0].copy_(
            glorot_uniform(self.kernel.shape, fan_in, fan_out, generator)
        )

    def forward(self, h, run: Pass | None = None, activation: str | None = None):
        """The convolution and its activation (``activation`` replaces it: ``Sequential``
        computes a relu after the max pooling that follows, see its
        ``_order_of_computation``)."""
        if run is None:
            return super().forward(h)
        kernel = run.params[self.kernel.name]
        k = kernel.shape[0]
        if h.shape[0] != k:  # shared evaluation data: every member reads the same images
            h = h.expand(k, *h.shape[1:])
        x = as_groups(h)
        if self.pad is not None:
            x = F.pad(x, self.pad)
        # Channels last (the members' channels innermost): oneDNN convolves that layout
        # without reordering the input and the output, and batch norm, relu and pooling
        # keep it, so the maps stay in it until Flatten (see the module's docstring).
        x = x.contiguous(memory_format=torch.channels_last)
        bias = None if self.bias is None else run.params[self.bias.name].reshape(-1)
        y = F.conv2d(x, kernel.reshape(-1, *kernel.shape[2:]), bias, self.strides, groups=k)
        activation = self.activation if activation is None else activation
        return from_groups(activate(activation, y, in_place=run.in_place), k)
