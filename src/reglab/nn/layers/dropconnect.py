"""``DropConnect`` (Wan et al., 2013): a Dense layer whose *weights* are dropped at random.

In training each weight is kept with probability ``1 - rate``; at evaluation the layer
uses the expected weights ``(1 - rate) * W`` (the paper's "mean inference"). One mask
is drawn per batch and member, shared by the batch's samples: per-sample masks would
need a ``batch x in x out`` tensor, far more than the layer itself, and Wan et al.'s
fast implementation makes the same trade. Inside your own ``torch.nn.Module`` give
``in_features``: the layer then owns its kernel and bias as parameters.
"""

from __future__ import annotations

import torch

from reglab.errors import check_int, check_rate
from reglab.nn.activations import activate
from reglab.nn.layers.base import Pass
from reglab.nn.layers.dense import Dense, glorot_uniform
from reglab.nn.layers.dropout import checked_per_member
from reglab.nn.members import current_member, member_value

__all__ = ["DropConnect"]


class DropConnect(Dense):
    """A fully connected layer with DropConnect on its kernel.

    Parameters
    ----------
    units : int
        Output width.
    rate : float or list of float, default 0.5
        Probability of zeroing each weight, in [0, 1); per member.
    activation, kernel_regularizer, bias_regularizer, use_bias, kernel_constraint
        As :class:`Dense`.
    in_features : int, optional
        Input width, for use inside your own ``torch.nn.Module`` (the kernel and bias are
        then the module's parameters, ``kernel`` of shape ``(in_features, units)``).
    name : str, optional

    Examples
    --------
    >>> import torch
    >>> layer = DropConnect(2, rate=0.5, in_features=4).eval()
    >>> layer(torch.ones(3, 4)).shape
    torch.Size([3, 2])
    """

    type_name = "dropconnect"
    arguments = (*Dense.arguments, "rate", "in_features")
    per_member = (*Dense.per_member, "rate")
    _plain_kernel = False

    def __init__(
        self,
        units: int,
        rate=0.5,
        activation: str | None = None,
        kernel_regularizer=None,
        bias_regularizer=None,
        use_bias: bool = True,
        in_features: int | None = None,
        kernel_constraint=None,
        *,
        name: str | None = None,
    ) -> None:
        super().__init__(
            units, activation, kernel_regularizer, bias_regularizer, use_bias,
            kernel_constraint, name=name,
        )  # fmt: skip
        self.rate = checked_per_member(rate, lambda r: check_rate("rate", r, owner="DropConnect"))
        self.in_features = in_features
        if in_features is not None:
            fan_in = check_int("in_features", in_features, owner="DropConnect", low=1)
            self.kernel_weight = torch.nn.Parameter(
                glorot_uniform((fan_in, units), fan_in, units, None)
            )
            self.bias_weight = torch.nn.Parameter(torch.zeros(units)) if use_bias else None

    def configure(self, device):
        self.keep = self.column([1.0 - r for r in self.rate], 3, device)

    def effective_kernel(self, kernel: torch.Tensor, run: Pass) -> torch.Tensor:
        if not run.training:
            return kernel * run.rows(self.keep)
        keep = run.draw_keep(self.rate, kernel.shape, layer=self.name, padded=False)
        return kernel * keep

    def forward(self, h, run: Pass | None = None):
        if run is not None or self.in_features is None:
            return super().forward(h, run)
        context = current_member()
        rate = member_value(self.rate, context, name="rate", owner="DropConnect")
        kernel = self.kernel_weight
        if not self.training:
            kernel = kernel * (1.0 - rate)
        elif rate:
            if context is None:  # a single layer: torch's global generator
                keep = (torch.rand(kernel.shape, device=kernel.device) >= rate).to(kernel.dtype)
            else:
                keep = context.model.masks.keep_member(
                    context.member, rate, tuple(kernel.shape), layer=f"module/{id(self)}"
                )
            kernel = kernel * keep
        out = h @ kernel
        if self.bias_weight is not None:
            out = out + self.bias_weight
        return activate(self.activation, out)
