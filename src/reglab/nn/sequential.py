"""``Sequential``: a population of K models made of reglab layers, trained as one.

The layers' slots are laid out in one ``(K, P)`` bank in layer order, each member's
initial values drawn from its own seed in that order, and the forward pass is the
layers' forwards in turn (each layer's one definition, :mod:`reglab.nn.layers`). The
last layer gives the logits; the task's head applies the output activation and loss.
Training goes through autograd, or through the hand-written step when
:func:`reglab.nn.fast_dense.plan` covers the stack (checked equal by the tests).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
from collections.abc import Sequence

import torch

from reglab.errors import ReglabError, ReglabTypeError, check_int
from reglab.nn.activations import activate
from reglab.nn.layers.base import Layer, Pass, copy_layer
from reglab.nn.layers.batchnorm import BatchNorm
from reglab.nn.layers.weighted import WeightedLayer
from reglab.nn.layout import Layout
from reglab.nn.population import PopulationModel
from reglab.nn.sparse import SparseRows

__all__ = ["CHUNK_BYTES", "Sequential"]

# How many bytes of its largest activation one autograd pass of a CPU training step may
# hold: more members than that run a few at a time, so that each pass's feature maps and
# their gradients stay in the caches instead of streaming through memory for every
# elementwise operation (batch norm, relu, pooling, their backwards). On P5's CNN
# (bench/p5_cnn_population.py: 26x26x32 maps, batch 64, 5.5 MB a member, 2 CPU cores)
# 8 members in passes of 2 or 3 trained in 0.66x the time of one pass of all 8, and in
# passes of 1 or 4 in 0.8x (docs/performance.md, "Member chunks and relu after pooling").
CHUNK_BYTES = 16 * 2**20


class Sequential(PopulationModel):
    """A stack of reglab layers as a population of K members (Keras' ``Sequential``).

    Parameters
    ----------
    layers : sequence of Layer
        ``Dense``, ``Conv2D``, ``MaxPool2D``, ``AveragePooling2D``, ``Flatten``,
        ``BatchNorm``, ``Dropout``, ``SpatialDropout2D``, ``DropConnect``,
        ``GaussianNoise``. The last gives the logits (``Dense(None)``: as many as the task
        has outputs). The layers are copied: the same objects may build several models.
    members : int, optional
        Population size; inferred from the layers' per-member lists (1 when none).

    Examples
    --------
    >>> from reglab.nn import L2
    >>> from reglab.nn.layers import Dense, Dropout
    >>> model = Sequential([Dense(64, "relu", kernel_regularizer=L2(0.1)), Dropout([0.2, 0.5]),
    ...                     Dense(None, kernel_regularizer=L2(0.1))])
    >>> model.members, [layer.name for layer in model.layers]
    (2, ['dense_0', 'dropout_0', 'dense_1'])
    """

    def __init__(self, layers: Sequence[Layer], *, members: int | None = None) -> None:
        super().__init__()
        if isinstance(layers, Layer) or not isinstance(layers, Sequence) or not layers:
            raise ReglabTypeError(
                "Invalid value for `layers` of Sequential: expected a non-empty list of reglab "
                f"layers such as [reglab.Dense(64, 'relu'), reglab.Dense(None)]. "
                f"Received: layers={layers!r}."
            )
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ReglabTypeError(
                    f"Invalid value in `layers` of Sequential at position {i}: expected a reglab "
                    f"layer (reglab.Dense, reglab.Conv2D, ...). Received: {layer!r}."
                )
        copies = [copy_layer(layer) for layer in layers]
        counts = {layer.member_count() for layer in copies} - {None}
        if len(counts) > 1:
            raise ReglabError(
                "Invalid per-member values of Sequential: every layer's lists must have one "
                f"value per member; the layers have lists of {sorted(counts)} values."
            )
        counted = next(iter(counts), None)
        if members is not None:
            members = check_int("members", members, owner="Sequential", low=1)
            if counted is not None and counted != members:
                raise ReglabError(
                    f"Invalid value for `members` of Sequential: the per-member lists have "
                    f"{counted} values. Received: members={members}."
                )
        self._members = members or counted or 1
        used: dict[str, int] = {}
        for layer in copies:
            layer.resolve_members(self._members)
            if layer.name is None:
                prefix = layer.name_prefix or layer.type_name
                layer.name = f"{prefix}_{used.get(prefix, 0)}"
                used[prefix] = used.get(prefix, 0) + 1
        names = [layer.name for layer in copies]
        if len(set(names)) != len(names):
            repeated = sorted({n for n in names if names.count(n) > 1})
            raise ReglabError(
                f"Invalid value for `layers` of Sequential: layer names must be distinct; "
                f"{repeated} occur more than once."
            )
        self.layers = torch.nn.ModuleList(copies)
        # Train through autograd even where the hand-written step applies (the tests
        # compare the two; a user never needs it).
        self.force_autograd = False
        self._fast = None
        # Members per autograd pass of a training step; None chooses (member_chunk).
        self.member_chunk_size: int | None = None
        self._compute_order = self._order_of_computation()

    @property
    def members(self) -> int:
        return self._members

    def replicate(self, times: int) -> Sequential:
        """A new, unbuilt population: each member's settings repeated ``times`` times in a row.

        ``cross_validate`` uses it to give every (member, fold) pair its own member.
        """
        times = check_int("times", times, owner="Sequential.replicate", low=1)
        return Sequential([layer.replicate(times) for layer in self.layers])

    @torch.no_grad()
    def member(self, k: int) -> Sequential:
        """Member ``k`` as a built one-member population with its weights and statistics."""
        alone = Sequential([layer.select(k) for layer in self.layers])
        alone.build(
            self.input_shape, self.task, [0], sparse_input=self.sparse_input,
            device=self.bank.device,
        )  # fmt: skip
        alone.reset_generators([0], self.bank.device)
        alone.bank.copy_(self.bank[k : k + 1])
        for name, buffer in alone.member_buffers().items():
            buffer.copy_(self.member_buffers()[name][k : k + 1])
        if self.input_mean is not None:
            alone.set_standardization(self.input_mean[k : k + 1], self.input_std[k : k + 1])
        return alone

    # -- building ---------------------------------------------------------------------

    def _build_layout(self, input_shape: tuple[int, ...], n_outputs: int) -> Layout:
        layout = Layout()
        shape = tuple(input_shape)
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            if self.sparse_input and i == self._first_weighted() and layer.type_name not in (
                "dense", "dropconnect"
            ):  # fmt: skip
                raise ReglabError(
                    f"Invalid model: multi-hot inputs need a Dense first layer; the first "
                    f"layer is {layer.describe_name()}."
                )
            shape = layer.build(shape, layout, logits=n_outputs if i == last else None)
            layer.output_shape = shape
        # Per sample, the most values any layer outputs (member_chunk's measure).
        self._largest_activation = max(math.prod(layer.output_shape) for layer in self.layers)
        if shape != (n_outputs,):
            raise ReglabError(
                f"Invalid model: the last layer gives outputs of shape {shape} but the task "
                f"needs {n_outputs} logits per sample; end with reglab.Dense(None)."
            )
        return layout

    def _order_of_computation(self) -> list:
        """The forward's steps, each ``step(h, run)``: the layers' forwards in order, except
        that a relu right before ``MaxPool2D`` (an ``Activation`` layer, or the activation
        of a ``Conv2D``) runs after the pooling. The numbers are the same bit for bit
        (relu keeps every positive value as it is, so a window's maximum and the element it
        comes from are the same either way, and a window of no positive value gives 0 and
        no gradient either way; a test checks both), and relu and its backward see a
        quarter of the elements (2x2 pools): on P5's CNN an 8-member step took about a
        quarter less time. Only relu: a saturating activation (sigmoid, tanh) can make
        ties that send a window's gradient to another element."""
        layers = list(self.layers)
        steps = []
        i = 0
        while i < len(layers):
            layer = layers[i]
            pooled_next = i + 1 < len(layers) and layers[i + 1].type_name == "max_pool2d"
            if pooled_next and layer.type_name == "activation" and layer.activation == "relu":
                steps += [layers[i + 1].forward, layer.forward]
                i += 2
            elif pooled_next and layer.type_name == "conv2d" and layer.activation == "relu":
                steps += [
                    functools.partial(layer.forward, activation="linear"),
                    layers[i + 1].forward,
                    _relu,
                ]
                i += 2
            else:
                steps.append(layer.forward)
                i += 1
        return steps

    def _first_weighted(self) -> int:
        for i, layer in enumerate(self.layers):
            if layer.type_name != "flatten":
                return i
        return 0

    def _initial_row(self, layout: Layout, seed: int) -> torch.Tensor:
        """One member's initial parameters, drawn from its own seed in layer order."""
        generator = torch.Generator().manual_seed(int(seed))
        row = torch.zeros(1, layout.width)
        for layer in self.layers:
            layer.initialize(row, generator)
        return row[0]

    def _configure(self, layout: Layout, device: torch.device) -> None:
        for layer in self.layers:
            layer.configure(device)
        self._set_penalties(
            layout, _merged([pair for layer in self.layers for pair in layer.penalties()]), device
        )
        from reglab.nn.fast_dense import plan

        self._fast = plan(self)

    def member_buffers(self) -> dict[str, torch.Tensor]:
        return {name: b for layer in self.layers for name, b in layer.member_buffers().items()}

    @contextlib.contextmanager
    def cumulative_batch_norm(self, members: list[int]):
        """See :meth:`PopulationModel.cumulative_batch_norm`: the n-th batch is weighed by
        ``momentum = 1 / n`` (the running value ``r + (batch - r) / n`` is the mean)."""
        layers = [
            layer for layer in self.layers
            if isinstance(layer, BatchNorm) and layer.running_mean is not None
        ]  # fmt: skip
        if not layers:
            yield None
            return
        saved = [layer.settings for layer in layers]
        with torch.no_grad():
            for layer in layers:
                layer.running_mean[members] = 0.0
                layer.running_var[members] = 1.0

        def before_batch(number: int) -> None:
            for layer, settings in zip(layers, saved):
                layer.settings = dataclasses.replace(settings, momentum=1.0 / number)

        try:
            yield before_batch
        finally:
            for layer, settings in zip(layers, saved):
                layer.settings = settings

    @property
    def constrained(self) -> bool:
        return any(isinstance(layer, WeightedLayer) and layer.constrained for layer in self.layers)

    def constrain_(self, movers: list[int] | None) -> None:
        for layer in self.layers:
            if isinstance(layer, WeightedLayer) and layer.constrained:
                layer.constrain_(self.bank, movers)

    # -- forward ----------------------------------------------------------------------

    def forward_logits(self, x, *, training: bool, step=None, members=None) -> torch.Tensor:
        """Logits ``(K, B, O)`` for inputs ``(K, B, *shape)`` (or multi-hot rows); with
        ``members = (first, stop)``, of those members only (``x`` holds their rows)."""
        run = Pass(self, training, step, members)
        h = x
        for step_ in self._compute_order:
            h = step_(h, run)
        return h

    def train_step(self, x, y, step, soft=None):
        """The hand-written fast step when it covers this stack, else autograd's."""
        if self._fast is not None and not self.force_autograd:
            return self._fast.step(x, y, step, soft)
        return super().train_step(x, y, step, soft)

    def member_chunk(self, x) -> int | None:
        """Members per autograd pass of a training step: :attr:`member_chunk_size` when
        set, else on a CPU as many as keep the largest activation of a pass within
        :data:`CHUNK_BYTES` (at least one), and on other devices all of them."""
        if self.member_chunk_size is not None:
            return self.member_chunk_size
        if self.bank.device.type != "cpu" or isinstance(x, SparseRows):
            return None
        per_member = self._largest_activation * x.shape[1] * x.element_size()
        return max(1, CHUNK_BYTES // per_member)

    @property
    def fast_path(self) -> bool:
        """Whether training uses the hand-written step (:mod:`reglab.nn.fast_dense`)."""
        return self._fast is not None and not self.force_autograd

    # -- reporting --------------------------------------------------------------------

    def describe(self) -> dict:
        """Plain settings of the architecture (for stores and reports)."""
        return {"layers": [layer.structure() for layer in self.layers], "members": self.members}


def _relu(h, run: Pass):
    """A relu computed after the pooling that follows it (see _order_of_computation)."""
    return activate("relu", h, in_place=run.in_place)


def _merged(pairs: list[tuple[list, list]]) -> list[tuple[list, list]]:
    """Slots that carry the very same penalty objects, member by member, as one group: the
    penalty then works on fewer, larger blocks of the bank."""
    groups: dict[tuple, tuple[list, list]] = {}
    for slots, penalties in pairs:
        key = tuple(id(p) for p in penalties)
        if key in groups:
            groups[key][0].extend(slots)
        else:
            groups[key] = (list(slots), penalties)
    return list(groups.values())
