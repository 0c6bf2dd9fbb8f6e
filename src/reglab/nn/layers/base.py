"""What every population layer provides, and the registry of layer types by Keras name.

A layer of a :class:`reglab.nn.Sequential` holds no tensors of its own until it is
built: its parameters are slots of the population's ``(K, P)`` bank (see
:mod:`reglab.nn.layout`), its per-member settings become ``(K, 1, ...)`` columns, and
its per-member state (batch norm's running statistics) is ``(K, ...)`` buffers. Its
:meth:`Layer.forward` is the one definition of what it computes, for every member at
once: training, evaluation and prediction all call it, and the hand-written fast step
(:mod:`reglab.nn.fast_dense`) is checked against it.

Per-member settings are declared once, in ``per_member``: the base class broadcasts
them to the population's K members, checks their count, repeats them for
``cross_validate`` (:meth:`Layer.replicate`) and leaves them out of the layer's
:meth:`Layer.structure` (what must match for study runs to share one population).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import ClassVar

import torch

from reglab.errors import ReglabError, ReglabTypeError, check_choice, per_member

__all__ = ["LAYER_TYPES", "Layer", "Pass", "layer_type"]

# Keras' spelling of each layer type -> its class; filled by Layer.__init_subclass__.
LAYER_TYPES: dict[str, type[Layer]] = {}


@dataclass
class Pass:
    """One forward pass of a population, or of a run of its members: what every layer's
    forward may read.

    A layer reads its per-member state through the pass (:meth:`rows` for its ``(K, ...)``
    columns and buffers, :meth:`values` for its per-member lists, :meth:`draw_keep` and
    :meth:`normal` for random draws), so that the same forward serves a training step
    that runs the members ``first`` to ``stop - 1`` only (see
    :meth:`reglab.nn.PopulationModel.member_chunk`).

    Attributes
    ----------
    model : reglab.nn.PopulationModel
        Owns the bank's views (``model.params``) and each member's random streams.
    training : bool
        Training mode (masks drawn, batch statistics) or evaluation mode.
    step : reglab.train.inputs.Batch or None
        The training step's padding: each member's real rows and their 0/1 weights
        (of this pass's members).
    members : (int, int) or None
        The members ``(first, stop)`` this pass computes; None for all of them.
    """

    model: object
    training: bool
    step: object | None = None
    members: tuple[int, int] | None = None

    @property
    def in_place(self) -> bool:
        """Evaluation without autograd: activations may be overwritten (no copies)."""
        return not self.training and not torch.is_grad_enabled()

    @property
    def params(self) -> dict[str, torch.Tensor]:
        if self.members is None:
            return self.model.params
        return self.model.member_params(*self.members)

    @property
    def first(self) -> int:
        """The index of this pass's first member in the population."""
        return 0 if self.members is None else self.members[0]

    def rows(self, tensor: torch.Tensor | None) -> torch.Tensor | None:
        """This pass's members' rows of a per-member ``(K, ...)`` tensor (a view)."""
        if self.members is None or tensor is None:
            return tensor
        return tensor[self.members[0] : self.members[1]]

    def values(self, values: list) -> list:
        """This pass's members' entries of a per-member list."""
        return values if self.members is None else values[self.members[0] : self.members[1]]

    def draw_keep(self, rates, shape, *, layer: str, scale=None, padded: bool = True):
        """A keep mask ``(k, ...)`` for this pass's members, each from its own generator
        (see :meth:`reglab.nn.masks.MaskSource.keep`); ``padded=False`` draws for every
        row (a kernel's mask has no padding rows)."""
        return self.model.draw_keep(
            self.values(rates), shape, self.step if padded else None, layer=layer,
            scale=self.rows(scale), first=self.first,
        )  # fmt: skip

    def normal(self, shape, members: list[int]) -> torch.Tensor:
        """Standard normal draws ``(k, ...)`` for this pass's members among ``members``
        (population indices), each from its own noise stream; zero for the others."""
        return self.model.masks.normal(shape, self.counts, members, first=self.first)

    @property
    def counts(self) -> list[int] | None:
        """Each member's real rows in this step (None: all rows are real)."""
        return None if self.step is None else self.step.counts

    @property
    def sample_weight(self) -> torch.Tensor | None:
        return None if self.step is None else self.step.sample_weight


class Layer(torch.nn.Module):
    """Base of reglab's population layers (``Dense``, ``Conv2D``, ``Dropout``, ...).

    Subclasses set ``type_name`` (Keras' spelling, the spec's ``type``), ``arguments``
    (constructor arguments, in order, that describe the layer) and ``per_member`` (those
    of the arguments that may take one value per member), and implement :meth:`build`
    and :meth:`forward`; layers with parameters implement :meth:`initialize`, layers with
    per-member tensors :meth:`configure`.

    Parameters
    ----------
    name : str, optional
        The layer's name in the bank (``dense_0/kernel``); by default its type and its
        index among the layers of that type.
    """

    type_name: ClassVar[str] = ""
    name_prefix: ClassVar[str] = ""  # default names: prefix_0, prefix_1 (type_name if empty)
    arguments: ClassVar[tuple[str, ...]] = ()
    per_member: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("type_name"):
            LAYER_TYPES[cls.type_name] = cls

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__()
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ReglabError(
                f"Invalid value for `name` of {type(self).__name__}: expected a non-empty "
                f"string without '/'. Received: name={name!r}."
            )
        self.name = name
        self.members: int | None = None

    # -- per-member settings ----------------------------------------------------------

    def member_count(self) -> int | None:
        """The number of members the per-member lists ask for (None when all are scalars)."""
        lengths = {
            n: len(getattr(self, n))
            for n in self.per_member
            if isinstance(getattr(self, n), (list, tuple))
        }
        if len(set(lengths.values())) > 1:
            listed = ", ".join(f"{n} has {count}" for n, count in lengths.items())
            raise ReglabError(
                f"Invalid per-member values of {self.describe_name()}: every list must have "
                f"one value per member; {listed}."
            )
        return next(iter(lengths.values()), None)

    def resolve_members(self, members: int) -> None:
        """Broadcast every per-member setting to a list of ``members`` values."""
        for n in self.per_member:
            setattr(self, n, per_member(n, getattr(self, n), members, owner=self.describe_name()))
        self.members = members

    def replicate(self, times: int) -> Layer:
        """An unbuilt copy whose per-member settings repeat each member ``times`` times."""
        values = self.config()
        for n in self.per_member:
            if isinstance(values[n], list):
                values[n] = [v for v in values[n] for _ in range(times)]
        return type(self)(**values, name=self.name)

    def select(self, member: int) -> Layer:
        """An unbuilt one-member copy with member ``member``'s per-member settings."""
        values = self.config()
        for n in self.per_member:
            if isinstance(values[n], list):
                values[n] = [values[n][member]]
        return type(self)(**values, name=self.name)

    # -- description ------------------------------------------------------------------

    def config(self) -> dict:
        """The constructor arguments that describe this layer (Keras' ``get_config``)."""
        return {n: getattr(self, n) for n in self.arguments}

    def structure(self) -> dict:
        """The layer without its per-member settings: what members of one population share."""
        return {
            "type": self.type_name,
            **{n: _plain(v) for n, v in self.config().items() if n not in self.per_member},
        }

    def describe_name(self) -> str:
        return type(self).__name__ if self.name is None else f"{type(self).__name__} {self.name!r}"

    def extra_repr(self) -> str:
        return ", ".join(f"{n}={v!r}" for n, v in self.config().items())

    # -- building ---------------------------------------------------------------------

    def build(self, input_shape: tuple[int, ...], layout, *, logits: bool) -> tuple[int, ...]:
        """Add this layer's slots to ``layout`` and return its output shape (per sample).

        ``logits`` is True for the model's last layer, whose outputs are the logits.
        """
        raise NotImplementedError

    def initialize(self, row: torch.Tensor, generator: torch.Generator) -> None:
        """Write one member's initial parameters into ``row`` (a ``(1, P)`` bank)."""

    def configure(self, device: torch.device) -> None:
        """Make the per-member columns and buffers (``self.members`` is known by now)."""

    def member_buffers(self) -> dict[str, torch.Tensor]:
        """Per-member state ``(K, ...)`` that snapshots and checkpoints carry, by name."""
        return {}

    def penalties(self) -> list[tuple[list, list]]:
        """``(slots, one Penalty or None per member)`` pairs of this layer."""
        return []

    def forward(self, h, run: Pass | None = None):
        """The layer's computation on a population batch ``(K, B, *shape)``."""
        raise ReglabTypeError(
            f"{type(self).__name__} is a reglab population layer: put it in "
            "reglab.Sequential([...]); inside your own torch.nn.Module use torch.nn layers "
            "(reglab's Dropout, SpatialDropout2D, GaussianNoise and DropConnect work there too)."
        )

    def column(self, values: list[float], ndim: int, device) -> torch.Tensor:
        """Per-member ``values`` as a ``(K, 1, ...)`` tensor that broadcasts over ``ndim`` dims."""
        return torch.tensor(values, dtype=torch.float32, device=device).view(-1, *[1] * (ndim - 1))


def layer_type(name: str) -> type[Layer]:
    """The layer class of Keras' ``name`` (``"dense"``, ``"conv2d"``, ...).

    Raises
    ------
    ReglabError
        For an unknown name, listing the known ones.

    Examples
    --------
    >>> layer_type("dense").__name__
    'Dense'
    """
    return LAYER_TYPES[check_choice("type", name, sorted(LAYER_TYPES), owner="layer")]


def copy_layer(layer: Layer) -> Layer:
    """An unbuilt copy of ``layer`` with the same settings (a model never shares layers)."""
    return type(layer)(**copy.copy(layer.config()), name=layer.name)


def _plain(value):
    if isinstance(value, tuple):
        return list(value)
    return value
