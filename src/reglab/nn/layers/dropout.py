"""``Dropout`` and ``SpatialDropout2D`` for populations and inside your own modules.

``rate`` is the probability of dropping a unit (Keras' meaning), one value per member
where a list is given; the two forms are those of :mod:`reglab.nn.dropout` (inverted:
scale kept units by ``1/(1-rate)`` in training; classic: multiply by ``1-rate`` at
evaluation). ``SpatialDropout2D`` drops whole feature maps (Keras' layer: one draw per
sample and channel, inverted). Each member draws its masks from its own generator, for
its real rows only, as it would trained alone.
"""

from __future__ import annotations

import torch

from reglab.errors import ReglabError, check_choice, check_rate
from reglab.nn.dropout import DROPOUT_MODES, dropout_scales
from reglab.nn.layers.base import Layer, Pass
from reglab.nn.members import current_member, member_value

__all__ = ["Dropout", "SpatialDropout2D", "checked_per_member"]


def checked_per_member(value, check):
    """``check`` applied to a scalar, or to each value of a per-member list."""
    if isinstance(value, (list, tuple)):
        return [check(v) for v in value]
    return check(value)


class Dropout(Layer):
    """Dropout for a population, or for one model inside a ``torch.nn.Module``.

    Parameters
    ----------
    rate : float or list of float
        Probability of dropping a unit, in [0, 1) (not a keep probability); per member.
    mode : {"inverted", "classic"} or list, default "inverted"
        See :mod:`reglab.nn.dropout`; per member.
    name : str, optional

    Raises
    ------
    ReglabError
        If a rate is outside [0, 1) or a mode is unknown.

    Examples
    --------
    >>> import torch
    >>> layer = Dropout(0.5, mode="classic").eval()
    >>> layer(torch.ones(2))
    tensor([0.5000, 0.5000])
    """

    type_name = "dropout"
    arguments = ("rate", "mode")
    per_member = ("rate", "mode")

    def __init__(self, rate, mode="inverted", *, name: str | None = None) -> None:
        super().__init__(name=name)
        owner = type(self).__name__
        self.rate = checked_per_member(rate, lambda r: check_rate("rate", r, owner=owner))
        self.mode = checked_per_member(
            mode, lambda m: check_choice("mode", m, DROPOUT_MODES, owner=owner)
        )

    def build(self, input_shape, layout, *, logits):
        if logits is not None:
            raise ReglabError(
                f"Invalid model: {self.describe_name()} is the last layer, but the last "
                "layer gives the logits; end the model with a Dense layer."
            )
        self.ndim = len(input_shape) + 2
        return tuple(input_shape)

    def configure(self, device):
        scales = [dropout_scales(r, m) for r, m in zip(self.rate, self._modes())]
        self.train_scale = self.column([s[0] for s in scales], self.ndim, device)
        self.eval_scale = self.column([s[1] for s in scales], self.ndim, device)
        self.eval_scaled = any(s[1] != 1.0 for s in scales)

    def _modes(self) -> list[str]:
        return self.mode

    def mask_shape(self, shape) -> tuple[int, ...]:
        """The mask's shape for activations of ``shape``: one draw per unit."""
        return tuple(shape)

    def forward(self, h, run: Pass | None = None):
        if run is None:
            return self._member_forward(h)
        if not run.training:
            if not self.eval_scaled:  # inverted dropout: evaluation is the identity
                return h
            scale = run.rows(self.eval_scale)
            return h.mul_(scale) if run.in_place else h * scale
        keep = run.draw_keep(
            self.rate, self.mask_shape(h.shape), layer=self.name, scale=self.train_scale
        )
        return h * keep

    def _member_forward(self, x: torch.Tensor) -> torch.Tensor:
        """Inside a user module: one member's batch ``(B, ...)``, that member's rate."""
        context = current_member()
        owner = type(self).__name__
        rate = member_value(self.rate, context, name="rate", owner=owner)
        mode = member_value(self.mode, context, name="mode", owner=owner)
        train_scale, eval_scale = dropout_scales(rate, mode)
        if not self.training:
            return x * eval_scale if eval_scale != 1.0 else x
        if rate == 0.0:
            return x
        shape = self.mask_shape((1, *x.shape))[1:]
        if context is None:  # a single layer: torch's global generator, as nn.Dropout
            keep = (torch.rand(shape, device=x.device) >= rate).to(x.dtype) * train_scale
        else:
            keep = context.model.masks.keep_member(
                context.member, rate, shape, layer=f"module/{id(self)}", scale=train_scale
            )
        return x * keep


class SpatialDropout2D(Dropout):
    """Drop whole feature maps of ``(C, H, W)`` inputs (Keras' ``SpatialDropout2D``).

    One draw per sample and channel; kept maps are scaled by ``1/(1-rate)`` in training,
    evaluation is the identity. Neighbouring pixels of a map are strongly correlated, so
    dropping single pixels (``Dropout``) barely regularises a convolution.

    Parameters
    ----------
    rate : float or list of float
        Probability of dropping a channel, per member.
    name : str, optional

    Examples
    --------
    >>> import torch
    >>> layer = SpatialDropout2D(0.5).eval()
    >>> layer(torch.ones(1, 2, 3, 3)).sum().item()
    18.0
    """

    type_name = "spatial_dropout2d"
    arguments = ("rate",)
    per_member = ("rate",)

    def __init__(self, rate, *, name: str | None = None) -> None:
        super().__init__(rate, "inverted", name=name)

    def build(self, input_shape, layout, *, logits):
        if len(input_shape) != 3:
            raise ReglabError(
                f"Invalid model: {self.describe_name()} takes images (channels, height, "
                f"width) but receives samples of shape {tuple(input_shape)}."
            )
        return super().build(input_shape, layout, logits=logits)

    def _modes(self) -> list[str]:
        return ["inverted"] * len(self.rate)

    def mask_shape(self, shape) -> tuple[int, ...]:
        return (*shape[:3], *[1] * (len(shape) - 3))
