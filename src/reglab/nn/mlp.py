"""The MLP builder: a population of K multilayer perceptrons that train as one.

Each hidden block is ``Dense -> [BatchNorm] -> activation -> [Dropout]`` (Keras' usual
order), Dense layers optionally with DropConnect; the output layer's units and activation
come from the task. Every member has its own initial weights (Glorot uniform kernels and
zero biases, Keras' defaults, drawn from its own seed), dropout and DropConnect rates,
dropout mode and penalties; the architecture is shared, so the forward pass of all
members is one batched matmul per layer.

A multi-hot text input is never materialised: the first layer sums the kernel rows of the
words present (``embedding_bag``), which equals the dense product with the 0/1 matrix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import torch
import torch.nn.functional as F

from reglab.errors import (
    ReglabError,
    ReglabTypeError,
    check_choice,
    check_int,
    check_rate,
    per_member,
)
from reglab.nn.batched import affine
from reglab.nn.batchnorm import BatchNormConfig, stacked_batch_norm
from reglab.nn.dropout import DROPOUT_MODES, dropout_scales
from reglab.nn.heads import sigmoid, sigmoid_
from reglab.nn.layout import Layout
from reglab.nn.mlp_gradients import MANUAL_ACTIVATIONS, manual_train_step
from reglab.nn.penalties import Penalty, as_penalty
from reglab.nn.population import PopulationModel
from reglab.nn.sparse import SparseRows, sparse_dense

__all__ = ["ACTIVATIONS", "MLP", "mlp"]

OUTPUT_COLUMNS_MULTIPLE = 16

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
    "linear": lambda x: x,
}
# Evaluation runs without autograd and may overwrite its activations: on a population's
# shared validation data they are (K, N, H), and each fresh copy is megabytes.
_IN_PLACE_ACTIVATIONS = {
    "relu": torch.relu_,
    "tanh": torch.tanh_,
    "sigmoid": sigmoid_,
    "linear": lambda x: x,
}


def _count_members(**values) -> int | None:
    lengths = {name: len(v) for name, v in values.items() if isinstance(v, (list, tuple))}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ReglabError(
            "Invalid per-member values of mlp: every list must have one value per member; "
            f"{listed}."
        )
    return next(iter(lengths.values()), None)


class MLP(PopulationModel):
    """A population of multilayer perceptrons with per-member regularization.

    Parameters
    ----------
    hidden : sequence of int, default (64,)
        Widths of the hidden layers.
    activation : str, default "relu"
        Hidden activation: one of :data:`ACTIVATIONS`.
    dropout : float or list of float, default 0.0
        Drop rate after each hidden activation, per member.
    dropout_mode : {"inverted", "classic"} or list, default "inverted"
        See :mod:`reglab.nn.dropout`.
    dropconnect : float or list of float, default 0.0
        Weight-drop rate of the hidden Dense layers, per member.
    batchnorm : bool or BatchNormConfig, default False
        Batch normalization after each hidden Dense layer (shared by all members).
    kernel_regularizer : Penalty or list of Penalty, optional
        Penalty on the kernels of the hidden Dense layers (the output layer stays
        unpenalised, as in the Keras book's examples).
    bias_regularizer : Penalty or list of Penalty, optional
        Penalty on the hidden biases (untouched unless given).
    members : int, optional
        Population size; inferred from the lists above (1 when all are scalars).

    Examples
    --------
    >>> from reglab.nn import L2
    >>> model = MLP([32], dropout=[0.0, 0.5], kernel_regularizer=[None, L2(1e-3)])
    >>> model.members
    2
    """

    def __init__(
        self,
        hidden: Sequence[int] = (64,),
        activation: str = "relu",
        *,
        dropout: float | Sequence[float] = 0.0,
        dropout_mode: str | Sequence[str] = "inverted",
        dropconnect: float | Sequence[float] = 0.0,
        batchnorm: bool | BatchNormConfig = False,
        kernel_regularizer: Penalty | Sequence[Penalty | None] | None = None,
        bias_regularizer: Penalty | Sequence[Penalty | None] | None = None,
        members: int | None = None,
    ) -> None:
        super().__init__()
        if isinstance(hidden, int) or not isinstance(hidden, Sequence):
            raise ReglabTypeError(
                f"Invalid value for `hidden` of mlp: expected a list of layer widths such as "
                f"[64, 64]. Received: hidden={hidden!r}."
            )
        self.hidden = [check_int("hidden", h, owner="mlp", low=1) for h in hidden]
        self.activation = check_choice("activation", activation, list(ACTIVATIONS), owner="mlp")
        if isinstance(batchnorm, bool):
            batchnorm = BatchNormConfig() if batchnorm else None
        elif not isinstance(batchnorm, BatchNormConfig):
            raise ReglabTypeError(
                "Invalid value for `batchnorm` of mlp: expected True, False or a "
                f"BatchNormConfig. Received: batchnorm={batchnorm!r}."
            )
        self.batchnorm = batchnorm
        counted = _count_members(
            dropout=dropout,
            dropout_mode=dropout_mode,
            dropconnect=dropconnect,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
        )
        if members is not None:
            members = check_int("members", members, owner="mlp", low=1)
            if counted is not None and counted != members:
                raise ReglabError(
                    f"Invalid value for `members` of mlp: the per-member lists have {counted} "
                    f"values. Received: members={members}."
                )
        k = members or counted or 1
        self.dropout = [
            check_rate("dropout", r, owner="mlp")
            for r in per_member("dropout", dropout, k, owner="mlp")
        ]
        self.dropout_mode = [
            check_choice("dropout_mode", m, DROPOUT_MODES, owner="mlp")
            for m in per_member("dropout_mode", dropout_mode, k, owner="mlp")
        ]
        self.dropconnect = [
            check_rate("dropconnect", r, owner="mlp")
            for r in per_member("dropconnect", dropconnect, k, owner="mlp")
        ]
        self.kernel_regularizer = [
            as_penalty(p)
            for p in per_member("kernel_regularizer", kernel_regularizer, k, owner="mlp")
        ]
        self.bias_regularizer = [
            as_penalty(p, "bias_regularizer")
            for p in per_member("bias_regularizer", bias_regularizer, k, owner="mlp")
        ]
        self._members = k
        # Train through autograd even where the hand-written backward applies (the tests
        # compare the two; a user never needs it).
        self.force_autograd = False

    @property
    def members(self) -> int:
        return self._members

    def replicate(self, times: int) -> MLP:
        """A new, unbuilt population: each member's settings repeated ``times`` times in a row.

        ``cross_validate`` uses it to give every (member, fold) pair its own member.
        """
        times = check_int("times", times, owner="MLP.replicate", low=1)

        def rep(values: list) -> list:
            return [v for v in values for _ in range(times)]

        return MLP(
            self.hidden,
            self.activation,
            dropout=rep(self.dropout),
            dropout_mode=rep(self.dropout_mode),
            dropconnect=rep(self.dropconnect),
            batchnorm=self.batchnorm or False,
            kernel_regularizer=rep(self.kernel_regularizer),
            bias_regularizer=rep(self.bias_regularizer),
        )

    # -- building ---------------------------------------------------------------------

    def _build_layout(self, n_inputs: int, n_outputs: int) -> Layout:
        layout = Layout()
        widths = [n_inputs, *self.hidden]
        for i, (fan_in, fan_out) in enumerate(pairwise(widths)):
            layout.add(f"dense_{i}/kernel", (fan_in, fan_out), "kernel")
            if self.batchnorm is None:
                # Batch norm subtracts the batch mean, so a bias before it has no effect on
                # the output and its gradient is pure rounding noise, which Adam would
                # amplify into a random walk; Keras' and PyTorch's guides drop it too.
                layout.add(f"dense_{i}/bias", (1, fan_out), "bias")
            elif self.batchnorm.affine:
                layout.add(f"batch_norm_{i}/gamma", (1, fan_out), "gamma")
                layout.add(f"batch_norm_{i}/beta", (1, fan_out), "beta")
        # Classification outputs are stored padded to 16 columns (see Slot): the output
        # layer's products run ~3x faster, for one member or many alike.
        pad = OUTPUT_COLUMNS_MULTIPLE if n_outputs > 1 else 1
        layout.add("output/kernel", (widths[-1], n_outputs), "kernel", pad_to=pad)
        layout.add("output/bias", (1, n_outputs), "bias", pad_to=pad)
        return layout

    def _initial_row(self, layout: Layout, seed: int) -> torch.Tensor:
        """One member's initial parameters, drawn from its own seed in layer order."""
        generator = torch.Generator().manual_seed(int(seed))
        row = torch.zeros(layout.width)
        for slot in layout.slots.values():
            if slot.kind == "kernel":
                fan_in, fan_out = slot.shape
                limit = math.sqrt(6.0 / (fan_in + fan_out))  # Glorot uniform
                values = torch.rand(slot.shape, generator=generator) * (2 * limit) - limit
                slot.view(row.unsqueeze(0))[0].copy_(values)
            elif slot.kind == "gamma":
                slot.view(row.unsqueeze(0))[0].fill_(1.0)
        return row

    def _configure(self, layout: Layout, device: torch.device) -> None:
        k = self.members
        scales = [dropout_scales(r, m) for r, m in zip(self.dropout, self.dropout_mode)]
        self.register_buffer(
            "train_scale", torch.tensor([s[0] for s in scales], device=device).view(k, 1, 1)
        )
        self.register_buffer(
            "eval_scale", torch.tensor([s[1] for s in scales], device=device).view(k, 1, 1)
        )
        self.eval_scaled = any(s[1] != 1.0 for s in scales)
        self.register_buffer(
            "dropconnect_keep",
            torch.tensor([1 - r for r in self.dropconnect], device=device).view(k, 1, 1),
        )
        if self.batchnorm is not None and self.batchnorm.track_running_stats:
            for i, width in enumerate(self.hidden):
                self.register_buffer(f"running_mean_{i}", torch.zeros(k, 1, width, device=device))
                self.register_buffer(f"running_var_{i}", torch.ones(k, 1, width, device=device))
        # Each Dense layer's (kernel, bias, kernel gradient, bias gradient) views, looked
        # up once for the hand-written step: a tiny model takes tens of thousands of steps.
        # The output layer's views include its padding (zero weights, zero gradients).
        views = [
            tuple(
                None if slot is None else (slot.stored_view if stored else slot.view)(tensor)
                for tensor in (self.bank, self.grad)
                for slot in (layout.slots.get(f"{layer}/kernel"), layout.slots.get(f"{layer}/bias"))
            )
            for layer, stored in [(f"dense_{i}", False) for i in range(len(self.hidden))]
            + [("output", True)]
        ]
        self.dense_views = (views[:-1], views[-1])
        hidden_kernels = [s for s in layout.of_kind("kernel") if not s.name.startswith("output")]
        hidden_biases = [s for s in layout.of_kind("bias") if not s.name.startswith("output")]
        self._set_penalties(
            layout,
            [(hidden_kernels, self.kernel_regularizer), (hidden_biases, self.bias_regularizer)],
            device,
        )

    def train_step(self, x, y, step):
        """The hand-written fast path when it covers this MLP, else autograd's."""
        if self._manual:
            return manual_train_step(self, x, y, step)
        return super().train_step(x, y, step)

    @property
    def _manual(self) -> bool:
        return (
            self.batchnorm is None
            and self.activation in MANUAL_ACTIVATIONS
            and not self.force_autograd
        )

    # -- forward ----------------------------------------------------------------------

    def forward_logits(self, x, *, training: bool, step=None) -> torch.Tensor:
        """Logits ``(K, B, O)`` for inputs ``x`` of shape ``(K, B, F)`` (or sparse indices)."""
        params = self.params
        in_place = not training and not torch.is_grad_enabled()
        act = ACTIVATIONS[self.activation]
        if in_place:
            act = _IN_PLACE_ACTIVATIONS.get(self.activation, act)
        h = x
        for i in range(len(self.hidden)):
            kernel = params[f"dense_{i}/kernel"]
            if any(self.dropconnect):
                kernel = self._drop_connect(kernel, i, training)
            h = self._dense(h, kernel, params.get(f"dense_{i}/bias"), first=i == 0)
            if self.batchnorm is not None:
                h = self._batch_norm(h, i, training, step)
            h = act(h)
            if any(self.dropout):
                h = self._dropout(h, i, training, step)
        first = not self.hidden
        if in_place and not (first and self.sparse_input):
            # Without autograd the output layer can use its padded columns (see Slot).
            kernel, bias = self.dense_views[1][:2]
            return self._dense(h, kernel, bias, first=first)[..., : self.head.task.n_outputs]
        return self._dense(h, params["output/kernel"], params["output/bias"], first=first)

    def _dense(self, h, kernel, bias, *, first: bool) -> torch.Tensor:
        if first and self.sparse_input:
            return self._sparse_dense(h, kernel, bias)
        if h.shape[0] == 1 and kernel.shape[0] > 1:  # shared evaluation data
            out = torch.matmul(h, kernel)
            return out if bias is None else out.add_(bias)  # a fresh product: safe in place
        return affine(bias, h, kernel)

    def _sparse_dense(self, rows: SparseRows, kernel, bias) -> torch.Tensor:
        out = sparse_dense(rows, kernel)
        return out if bias is None else out + bias

    def _batch_norm(self, h, i, training, step) -> torch.Tensor:
        affine = self.batchnorm.affine
        gamma = self.params[f"batch_norm_{i}/gamma"] if affine else None
        beta = self.params[f"batch_norm_{i}/beta"] if affine else None
        tracked = self.batchnorm.track_running_stats
        return stacked_batch_norm(
            h,
            getattr(self, f"running_mean_{i}") if tracked else None,
            getattr(self, f"running_var_{i}") if tracked else None,
            gamma,
            beta,
            training=training,
            config=self.batchnorm,
            sample_weight=None if step is None else step.sample_weight,
            update=None if step is None else step.active_3d,
        )

    def _dropout(self, h, i, training, step) -> torch.Tensor:
        if not training:
            if not self.eval_scaled:  # inverted dropout: evaluation is the identity
                return h
            return h.mul_(self.eval_scale) if not torch.is_grad_enabled() else h * self.eval_scale
        keep = self._draw_keep(
            self.dropout, h.shape, step, layer=f"dropout_{i}",
            scale=self.train_scale,
        )  # fmt: skip
        return h * keep

    def _drop_connect(self, kernel, i, training) -> torch.Tensor:
        if not training:
            return kernel * self.dropconnect_keep
        keep = self._draw_keep(self.dropconnect, kernel.shape, None, layer=f"dense_{i}")
        return kernel * keep

    # -- reporting --------------------------------------------------------------------

    def describe(self) -> dict:
        """Plain settings of the architecture (for stores and reports)."""
        return {
            "hidden": list(self.hidden),
            "activation": self.activation,
            "batchnorm": None if self.batchnorm is None else vars(self.batchnorm).copy(),
            "members": self.members,
        }


def mlp(hidden: Sequence[int] = (64,), activation: str = "relu", **options) -> MLP:
    """Build an :class:`MLP` population (one member unless lists are given).

    Parameters
    ----------
    hidden : sequence of int, default (64,)
        Hidden layer widths.
    activation : str, default "relu"
    **options
        ``dropout``, ``dropout_mode``, ``dropconnect``, ``batchnorm``,
        ``kernel_regularizer``, ``bias_regularizer``, ``members``: see :class:`MLP`.

    Returns
    -------
    MLP

    Examples
    --------
    >>> from reglab.nn import L2
    >>> model = mlp([16, 16], dropout=0.5, kernel_regularizer=L2(0.001))
    >>> model.members, model.hidden
    (1, [16, 16])
    """
    return MLP(hidden, activation, **options)
