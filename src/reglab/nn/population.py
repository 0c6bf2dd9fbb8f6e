"""What every model the engine trains provides: a ``(K, P)`` parameter bank and its services.

:class:`PopulationModel` holds the bank (see :mod:`reglab.nn.layout`), per-member
randomness, penalties as per-column coefficient maps, the proximal L1 step, sparsity,
and per-member snapshots for early stopping's restore. Subclasses (:class:`reglab.nn.Sequential`
and the wrapper of a user ``torch.nn.Module``) lay out the bank, name their per-member
buffers (:meth:`PopulationModel.member_buffers`) and compute logits.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import torch

from reglab.errors import ReglabError, did_you_mean
from reglab.nn.heads import Head
from reglab.nn.layout import Layout, Slot, round_up
from reglab.nn.masks import MaskSource
from reglab.nn.penalty_blocks import (
    PenaltyBlock,
    add_penalty_gradient_,
    penalize_,
    penalty_blocks,
    penalty_values,
    soft_threshold_,
)

__all__ = ["PopulationModel"]


ROW_ALIGNMENT = 16


class PopulationModel(torch.nn.Module):
    """Base of the models the engine trains: K members sharing one architecture.

    Subclasses define ``members``, ``_build_layout(input_shape, n_outputs)``,
    ``_initial_row(layout, seed)``, ``_configure(layout, device)``,
    ``forward_logits(x, training=..., step=...)`` and, when they keep per-member state,
    ``member_buffers()``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.built = False
        self.sparse_input = False
        self.masks: MaskSource | None = None
        self.penalty_blocks: list[PenaltyBlock] = []
        self.input_mean: torch.Tensor | None = None
        self.input_std: torch.Tensor | None = None

    # -- building ---------------------------------------------------------------------

    def build(self, input_shape, task, seeds, *, sparse_input: bool = False, device="cpu") -> None:
        """Lay out the bank for samples of ``input_shape`` (an int for flat ones) and
        ``task``, and draw each member's weights."""
        device = torch.device(device)
        if len(seeds) != self.members:
            raise ReglabError(
                f"Invalid value for `seed`: expected one seed per model member "
                f"({self.members}). Received {len(seeds)} seeds."
            )
        self.task = task
        self.head = Head(task)
        self.sparse_input = sparse_input
        self.input_shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
        self.n_inputs = math.prod(self.input_shape)
        self.layout = self._build_layout(self.input_shape, task.n_outputs)
        rows = torch.stack([self._initial_row(self.layout, seed) for seed in seeds])
        # The bank is a plain tensor. Each layer trains through a leaf *view* of it, and
        # gradients are copied into the matching views of one flat buffer, which the
        # optimizer reads as a single (K, P) tensor. (Slicing a single (K, P) leaf instead
        # makes autograd allocate and fill a (K, P) zero tensor per layer per step.)
        # Rows are padded with zeros to a multiple of ROW_ALIGNMENT floats: whole-bank
        # kernels split their work at multiples of 16 floats and finish each piece with
        # a scalar loop that rounds differently from the SIMD body, so with unpadded
        # rows a member's last few weights would round differently in a population than
        # alone, and Adam grows that into drift. The padding stays 0 (zero gradients).
        width = round_up(self.layout.width, ROW_ALIGNMENT)
        self.bank = torch.zeros(len(rows), width, device=device)
        self.bank[:, : self.layout.width] = rows.to(device)
        self.grad = torch.zeros_like(self.bank)
        self.params = {
            name: slot.view(self.bank).detach().requires_grad_(True)
            for name, slot in self.layout.slots.items()
        }
        self._grad_views = [slot.view(self.grad) for slot in self.layout.slots.values()]
        self._member_leaves: dict[tuple[int, int], tuple[dict, list]] = {}
        self._configure(self.layout, device)
        self.built = True

    def train_step(
        self, x: torch.Tensor, y: torch.Tensor, step, soft: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One training forward/backward: gradients of each member's mean data loss.

        Writes the gradients into ``self.grad`` and returns the per-sample data loss and
        metric ``(K, B)`` (zero on padded rows), detached. This is the autograd path; a
        model may override it with a faster one that gives the same gradients. With
        ``soft`` targets ``(K, B, O)`` the loss is the head's ``soft_loss`` of them and
        the metric compares with the hard labels ``y``.

        Where :meth:`member_chunk` says so, the members run a few at a time, each run
        forward and backward on its own; members share nothing within a step, so every
        member's numbers are its own either way.
        """
        k = self.members
        chunk = self.member_chunk(x)
        if chunk is None or chunk >= k:
            return self._train_members(x, y, step, soft, None)

        def rows(t, first, stop):  # a per-member tensor's rows; shared ones stay whole
            return t if t is None or t.shape[0] != k else t[first:stop]

        losses, metrics = [], []
        for first in range(0, k, chunk):
            stop = min(first + chunk, k)
            loss, metric = self._train_members(
                rows(x, first, stop), rows(y, first, stop),
                None if step is None else step.members_slice(first, stop),
                rows(soft, first, stop), (first, stop),
            )  # fmt: skip
            losses.append(loss)
            metrics.append(metric)
        return torch.cat(losses), torch.cat(metrics)

    def _train_members(self, x, y, step, soft, members):
        """:meth:`train_step` for the members ``members = (first, stop)`` (None: all)."""
        if members is None:
            logits = self.forward_logits(x, training=True, step=step)
            leaves, grad_views = list(self.params.values()), self._grad_views
        else:
            logits = self.forward_logits(x, training=True, step=step, members=members)
            leaves, grad_views = self._member_leaf_views(*members)
            leaves = list(leaves.values())
        if soft is None:
            loss = self.head.loss(logits, y)
        else:
            loss = self.head.loss(logits, soft, self.head.soft_loss)
        weight = None if step is None else step.sample_weight
        if weight is None:
            objective = loss.sum() / loss.shape[1]
        else:
            w = weight[..., 0]
            loss = loss * w
            objective = (loss.sum(1) / w.sum(1).clamp_min(1.0)).sum()
        grads = torch.autograd.grad(objective, leaves, materialize_grads=True)
        torch._foreach_copy_(grad_views, grads)
        with torch.no_grad():
            metric = self.head.metric(logits, y)
            if weight is not None:
                metric = metric * weight[..., 0]
        return loss.detach(), metric

    def member_chunk(self, x: torch.Tensor) -> int | None:
        """How many members one autograd pass of a training step computes (None: all).

        A model whose members' activations are large (feature maps) trains faster a few
        members at a time on a CPU: see :meth:`reglab.nn.Sequential.member_chunk`.
        """
        return None

    def member_params(self, first: int, stop: int) -> dict[str, torch.Tensor]:
        """Leaf views of members ``first`` to ``stop - 1`` of every parameter (as
        :attr:`params`, which views all members), for a pass over those members."""
        return self._member_leaf_views(first, stop)[0]

    def _member_leaf_views(self, first: int, stop: int) -> tuple[dict, list]:
        # Made once per run of members: views of the bank and of the gradient buffer,
        # which the optimizer's in-place updates keep current.
        cached = self._member_leaves.get((first, stop))
        if cached is None:
            slots = self.layout.slots
            leaves = {
                name: slot.view(self.bank)[first:stop].detach().requires_grad_(True)
                for name, slot in slots.items()
            }
            grads = [slot.view(self.grad)[first:stop] for slot in slots.values()]
            cached = self._member_leaves[(first, stop)] = (leaves, grads)
        return cached

    def reset_generators(self, seeds, device) -> None:
        """One mask generator per member, so a member's masks do not depend on its peers."""
        self.masks = MaskSource(seeds, device)

    def draw_keep(
        self, rates, shape, step, *, layer: str, scale=None, first: int = 0
    ) -> torch.Tensor:
        """A keep mask of ``shape`` ``(K, ...)`` (see :class:`reglab.nn.masks.MaskSource`);
        ``first`` is the population index of the first member it is for."""
        counts = None if step is None else step.counts
        return self.masks.keep(rates, shape, counts, layer=layer, scale=scale, first=first)

    def set_standardization(self, mean: torch.Tensor | None, std: torch.Tensor | None) -> None:
        """Per-member input statistics ``(K, 1, F)``, fitted on each member's training rows."""
        self.input_mean, self.input_std = mean, std

    def prepare_inputs(self, x: torch.Tensor) -> torch.Tensor:
        if self.input_mean is None:
            return x
        return (x - self.input_mean) / self.input_std

    @torch.no_grad()
    def predict_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluation-mode logits ``(K, B, O)`` of raw inputs (standardised here if fitted so)."""
        return self.forward_logits(self.prepare_inputs(x), training=False)

    @property
    def constrained(self) -> bool:
        """Whether some layer projects its kernels after every step (:meth:`constrain_`)."""
        return False

    def constrain_(self, movers: list[int] | None) -> None:
        """Apply the kernel constraints to the members that moved (``None``: all)."""

    def finish_fit(self) -> None:
        """Called when ``fit`` ends (a user module gets member 0's weights back)."""

    @contextlib.contextmanager
    def cumulative_batch_norm(self, members: list[int]):
        """Recount the batch norm running statistics of ``members`` (SWA's ``update_bn``).

        Inside the block their running statistics start from mean 0 and variance 1 and
        every training-mode forward adds its batch with an equal weight (PyTorch's
        ``momentum=None``); afterwards the layers' own momentum is back. Yields a function
        to call with each batch's 1-based number before its forward, or None when the
        model has no running statistics.
        """
        yield None

    def member(self, k: int):
        """Member ``k`` on its own (see :func:`reglab.nn.member`)."""
        raise NotImplementedError

    # -- penalties --------------------------------------------------------------------

    def _set_penalties(self, layout: Layout, groups, device) -> None:
        """Per-member penalty objects on slot groups, as blocks of the bank (see
        :mod:`reglab.nn.penalty_blocks`)."""
        self.penalty_blocks = [
            block
            for slots, penalties in groups
            for block in penalty_blocks(slots, penalties, device)
        ]

    @property
    def penalized(self) -> bool:
        return bool(self.penalty_blocks)

    @property
    def proximal(self) -> bool:
        """Whether some member takes a proximal L1 step (see :meth:`proximal_`)."""
        return any(block.kind == "prox" for block in self.penalty_blocks)

    @torch.no_grad()
    def penalty(self) -> torch.Tensor:
        """Each member's current penalty ``(K,)`` (zeros when unpenalised)."""
        return penalty_values(self.penalty_blocks, self.bank)

    @torch.no_grad()
    def penalize_(self, grad: torch.Tensor, total: torch.Tensor, weight) -> None:
        """A training step's penalty work: gradients into ``grad``, ``weight`` times each
        member's penalty into ``total`` (see :func:`reglab.nn.penalty_blocks.penalize_`)."""
        penalize_(self.penalty_blocks, self.bank, grad, total, weight)

    @torch.no_grad()
    def add_penalty_grad_(self, grad: torch.Tensor) -> None:
        """Add the penalties' (sub)gradients to ``grad`` in place (sign(0) = 0, as Keras)."""
        add_penalty_gradient_(self.penalty_blocks, self.bank, grad)

    @torch.no_grad()
    def proximal_(self, step_size: torch.Tensor, active: torch.Tensor | None) -> None:
        """Soft-threshold the proximal-L1 weights by ``step_size * l1``: exact zeros appear.

        ``step_size`` is the optimizer's effective per-coordinate step (``(K, 1)`` or
        ``(K, P)``), see ``PopulationOptimizer.step_sizes``.
        """
        soft_threshold_(self.penalty_blocks, self.bank, step_size, active)

    # -- inspection -------------------------------------------------------------------

    def kernel_slots(self) -> list[Slot]:
        return self.layout.of_kind("kernel")

    @torch.no_grad()
    def sparsity(self) -> list[dict[str, float]]:
        """Per member: fraction of exact zeros in each kernel, and over all kernels."""
        result = []
        for k in range(self.members):
            row = {}
            zeros = total = 0
            for slot in self.kernel_slots():
                values = slot.view(self.bank)[k]
                n_zero = int((values == 0).sum())
                row[slot.name] = n_zero / slot.size
                zeros += n_zero
                total += slot.size
            row["total"] = zeros / total
            result.append(row)
        return result

    @torch.no_grad()
    def kernels(self, member: int) -> dict[str, np.ndarray]:
        """Copies of one member's kernels, by layer name."""
        return {
            slot.name: slot.view(self.bank)[member].detach().cpu().numpy().copy()
            for slot in self.kernel_slots()
        }

    @torch.no_grad()
    def get_weights(self, member: int | None = None, layer: str | None = None) -> list[np.ndarray]:
        """Copies of the parameters in layer order (Keras' ``get_weights``).

        Parameters
        ----------
        member : int, optional
            One member's arrays; by default each array has a leading member axis
            ``(K, *shape)``, except in a population of one.
        layer : str, optional
            Only this layer's arrays (``"dense_0"``: its kernel then its bias).

        Returns
        -------
        list of numpy.ndarray
            A Dense kernel is ``(inputs, units)``; a Conv2D kernel is PyTorch's
            ``(filters, channels, height, width)``; a user module's tensors have its
            own shapes.
        """
        slots = [
            s for name, s in self.layout.slots.items()
            if layer is None or name.rsplit("/", 1)[0] == layer
        ]  # fmt: skip
        if layer is not None and not slots:
            layers = sorted({n.rsplit("/", 1)[0] for n in self.layout.slots})
            hint = did_you_mean(layer, layers) or "."
            raise ReglabError(
                f"Invalid value for `layer` of get_weights: no layer {layer!r} has weights; "
                f"layers with weights: {layers}{hint}"
            )
        views = [slot.view(self.bank).detach().cpu().numpy().copy() for slot in slots]
        if member is not None:
            return [v[member] for v in views]
        return [v[0] for v in views] if self.members == 1 else views

    # -- snapshots and state ----------------------------------------------------------

    @torch.no_grad()
    def snapshot(self, member: int) -> dict[str, torch.Tensor]:
        """A copy of one member's parameters and running statistics."""
        state = {"bank": self.bank[member].clone()}
        for name, buffer in self._member_buffers():
            state[name] = buffer[member].clone()
        return state

    @torch.no_grad()
    def restore(self, member: int, snapshot: dict[str, torch.Tensor]) -> None:
        self.bank[member].copy_(snapshot["bank"])
        for name, buffer in self._member_buffers():
            buffer[member].copy_(snapshot[name])

    def member_buffers(self) -> dict[str, torch.Tensor]:
        """Per-member state ``(K, ...)`` by name (batch norm's running statistics):
        snapshots, restores and checkpoints carry exactly these with the bank row."""
        return {}

    def _member_buffers(self):
        return list(self.member_buffers().items())

    @torch.no_grad()
    def member_state_dict(self, member: int) -> dict[str, torch.Tensor]:
        """One member's named tensors (for ``torch.save``; read back with ``weights_only=True``)."""
        state = {
            name: slot.view(self.bank)[member].detach().cpu().clone()
            for name, slot in self.layout.slots.items()
        }
        for name, buffer in self._member_buffers():
            state[name] = buffer[member].detach().cpu().clone()
        return state

    @torch.no_grad()
    def load_member_state_dict(self, member: int, state: dict[str, torch.Tensor]) -> None:
        for name, slot in self.layout.slots.items():
            slot.view(self.bank)[member].copy_(state[name])
        for name, buffer in self._member_buffers():
            buffer[member].copy_(state[name])
