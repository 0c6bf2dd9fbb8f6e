"""``Dense``: ``activation(h @ kernel + bias)`` for every member at once (Keras' Dense).

Kernels are Glorot-uniform and biases zero, Keras' defaults, drawn from each member's
own seed. The model's last Dense gives the logits; for classification it is stored
padded to 16 columns (see :class:`reglab.nn.layout.Slot`): its products run about 3x
faster, for one member or many alike. A multi-hot input is never materialised: the
first Dense sums the kernel rows of the words present, which equals the dense product.
"""

from __future__ import annotations

import math

import torch

from reglab.errors import ReglabError, check_int
from reglab.nn.activations import activate
from reglab.nn.batched import affine
from reglab.nn.layers.base import Pass
from reglab.nn.layers.weighted import WeightedLayer
from reglab.nn.sparse import SparseRows, sparse_dense

__all__ = ["Dense", "dense_product", "glorot_uniform"]

OUTPUT_COLUMNS_MULTIPLE = 16


def glorot_uniform(shape, fan_in: int, fan_out: int, generator) -> torch.Tensor:
    """Keras' default kernel initializer: uniform in ``±sqrt(6 / (fan_in + fan_out))``."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return torch.rand(shape, generator=generator) * (2 * limit) - limit


def dense_product(h, kernel: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``h @ kernel + bias`` member by member; ``h`` may be multi-hot rows or shared data.

    ``h`` is ``(K, B, F)``, or ``(1, B, F)`` for evaluation data that every member reads,
    or :class:`reglab.nn.sparse.SparseRows`; ``kernel`` is ``(K, F, U)``.
    """
    if isinstance(h, SparseRows):
        out = sparse_dense(h, kernel)
        return out if bias is None else out + bias
    if h.shape[0] == 1 and kernel.shape[0] > 1:  # shared evaluation data
        out = torch.matmul(h, kernel)
        return out if bias is None else out.add_(bias)  # a fresh product: safe in place
    return affine(bias, h, kernel)


class Dense(WeightedLayer):
    """A fully connected layer for a population (Keras' ``Dense``).

    Parameters
    ----------
    units : int or None
        Output width; None on the last layer means the task's number of outputs.
    activation : str, optional
        One of :data:`reglab.nn.activations.ACTIVATIONS`; None is linear (Keras'
        default). The last layer gives logits: the task's activation is the head's.
    kernel_regularizer : Penalty or list of Penalty, optional
        Per member (None for members without), Keras' definitions.
    bias_regularizer : Penalty or list of Penalty, optional
    use_bias : bool, default True
    kernel_constraint : Constraint or list of Constraint, optional
        Per member, applied after every step (:mod:`reglab.nn.constraints`); the norm is
        over each unit's incoming weights (a kernel column).
    name : str, optional

    Examples
    --------
    >>> from reglab.nn import L2
    >>> layer = Dense(64, activation="relu", kernel_regularizer=[None, L2(1e-3)])
    >>> layer.member_count(), layer.structure()["units"]
    (2, 64)
    """

    type_name = "dense"
    arguments = (
        "units", "activation", "kernel_regularizer", "bias_regularizer", "use_bias",
        "kernel_constraint",
    )  # fmt: skip

    def __init__(
        self,
        units: int | None,
        activation: str | None = None,
        kernel_regularizer=None,
        bias_regularizer=None,
        use_bias: bool = True,
        kernel_constraint=None,
        *,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        owner = type(self).__name__
        self.units = None if units is None else check_int("units", units, owner=owner, low=1)
        self._set_weight_options(
            activation, kernel_regularizer, bias_regularizer, use_bias, kernel_constraint
        )

    def build(self, input_shape, layout, *, logits):
        if len(input_shape) != 1:
            raise ReglabError(
                f"Invalid model: {self.describe_name()} takes flat inputs (samples, features) "
                f"but receives samples of shape {tuple(input_shape)}; put reglab.Flatten() "
                "before it."
            )
        units = self.units
        if units is None:
            if logits is None:
                raise ReglabError(
                    f"Invalid value for `units` of {self.describe_name()}: None (the task's "
                    "outputs) is allowed on the last layer only. Received: units=None."
                )
            units = logits
        if logits is not None and self.activation != "linear":
            raise ReglabError(
                f"Invalid model: the last layer gives the logits and the task chooses the "
                f"output activation; remove activation={self.activation!r} from "
                f"{self.describe_name()}."
            )
        self.fan_in, self.fan_out = int(input_shape[0]), units
        pad = OUTPUT_COLUMNS_MULTIPLE if logits is not None and units > 1 else 1
        self.kernel = layout.add(f"{self.name}/kernel", (self.fan_in, units), "kernel", pad_to=pad)
        self.bias = (
            layout.add(f"{self.name}/bias", (1, units), "bias", pad_to=pad)
            if self.use_bias
            else None
        )
        self.logits = logits is not None
        return (units,)

    def initialize(self, row, generator):
        values = glorot_uniform(self.kernel.shape, self.fan_in, self.fan_out, generator)
        self.kernel.view(row)[0].copy_(values)

    def effective_kernel(self, kernel: torch.Tensor, run: Pass) -> torch.Tensor:
        """The kernel the product uses (DropConnect masks it)."""
        return kernel

    def forward(self, h, run: Pass | None = None):
        if run is None:
            return super().forward(h)
        padded = self.kernel.stored_columns is not None
        if run.in_place and padded and not isinstance(h, SparseRows) and self._plain_kernel:
            # Without autograd the product can use the padded columns (see Slot).
            bank = run.model.bank
            bias = None if self.bias is None else self.bias.stored_view(bank)
            out = dense_product(h, self.kernel.stored_view(bank), bias)
            return out[..., : self.fan_out]
        kernel = self.effective_kernel(run.params[self.kernel.name], run)
        bias = None if self.bias is None else run.params[self.bias.name]
        return activate(self.activation, dense_product(h, kernel, bias), in_place=run.in_place)

    _plain_kernel = True  # the stored kernel is the one the product uses
