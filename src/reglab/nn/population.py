"""What every model the engine trains provides: a ``(K, P)`` parameter bank and its services.

:class:`PopulationModel` holds the bank (see :mod:`reglab.nn.layout`), per-member
randomness, penalties as per-column coefficient maps, the proximal L1 step, sparsity,
and per-member snapshots for early stopping's restore. Subclasses (the MLP builder, the
wrapper of a user ``torch.nn.Module``) only lay out the bank and compute logits.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from reglab.nn.heads import Head
from reglab.nn.layout import Layout, Slot

__all__ = ["PopulationModel", "derive_seed"]


def derive_seed(seed: int, stream: str) -> int:
    """A 63-bit seed for one random stream of one member, independent of other streams.

    Examples
    --------
    >>> derive_seed(0, "masks") == derive_seed(0, "masks") != derive_seed(0, "shuffle")
    True
    """
    digest = hashlib.sha256(f"{int(seed)}/{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


class PopulationModel(torch.nn.Module):
    """Base of the models the engine trains: K members sharing one architecture.

    Subclasses define ``members``, ``_build_layout(n_inputs, n_outputs)``,
    ``_initial_row(layout, seed)``, ``_configure(layout, device)`` and
    ``forward_logits(x, training=..., step=...)``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.built = False
        self.sparse_input = False
        self._generators: list[torch.Generator] = []
        self._mask_buffers: dict = {}
        self.l1_map: torch.Tensor | None = None
        self.l1_grad_map: torch.Tensor | None = None
        self.l2_map: torch.Tensor | None = None
        self.prox_map: torch.Tensor | None = None
        self.input_mean: torch.Tensor | None = None
        self.input_std: torch.Tensor | None = None

    # -- building ---------------------------------------------------------------------

    def build(
        self, n_inputs: int, task, seeds, *, sparse_input: bool = False, device="cpu"
    ) -> None:
        """Lay out the bank for ``n_inputs`` and ``task`` and draw each member's weights."""
        device = torch.device(device)
        self.task = task
        self.head = Head(task)
        self.sparse_input = sparse_input
        self.n_inputs = n_inputs
        self.layout = self._build_layout(n_inputs, task.n_outputs)
        rows = [self._initial_row(self.layout, seed) for seed in seeds]
        # The bank is a plain tensor. Each layer trains through a leaf *view* of it, and
        # gradients are copied into the matching views of one flat buffer, which the
        # optimizer reads as a single (K, P) tensor. (Slicing a single (K, P) leaf instead
        # makes autograd allocate and fill a (K, P) zero tensor per layer per step.)
        self.bank = torch.stack(rows).to(device)
        self.grad = torch.zeros_like(self.bank)
        self.params = {
            name: slot.view(self.bank).detach().requires_grad_(True)
            for name, slot in self.layout.slots.items()
        }
        self._grad_views = [slot.view(self.grad) for slot in self.layout.slots.values()]
        # Made once: a tiny model takes tens of thousands of steps, and slicing views
        # afresh each step was a sizeable share of a batch-size-1 step.
        self.grad_views = dict(zip(self.layout.slots, self._grad_views))
        self.weights = {name: leaf.detach() for name, leaf in self.params.items()}
        self._configure(self.layout, device)
        self.built = True

    def train_step(
        self, x: torch.Tensor, y: torch.Tensor, step
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One training forward/backward: gradients of each member's mean data loss.

        Writes the gradients into ``self.grad`` and returns the per-sample data loss and
        metric ``(K, B)`` (zero on padded rows), detached. This is the autograd path; a
        model may override it with a faster one that gives the same gradients.
        """
        logits = self.forward_logits(x, training=True, step=step)
        loss = self.head.loss(logits, y)
        weight = None if step is None else step.sample_weight
        if weight is None:
            objective = loss.sum() / loss.shape[1]
        else:
            w = weight[..., 0]
            loss = loss * w
            objective = (loss.sum(1) / w.sum(1).clamp_min(1.0)).sum()
        grads = torch.autograd.grad(objective, list(self.params.values()), materialize_grads=True)
        torch._foreach_copy_(self._grad_views, grads)
        with torch.no_grad():
            metric = self.head.metric(logits, y)
            if weight is not None:
                metric = metric * weight[..., 0]
        return loss.detach(), metric

    def reset_generators(self, seeds, device) -> None:
        """One mask generator per member, so a member's masks do not depend on its peers."""
        self._generators = [
            torch.Generator(device=device).manual_seed(derive_seed(s, "masks")) for s in seeds
        ]

    def _draw_keep(self, rates, shape, step, *, device) -> torch.Tensor:
        """A 0/1 keep mask of ``shape`` ``(K, ...)``; each member draws from its own generator.

        A member whose batch is shorter than the padded batch draws only for its real rows,
        exactly as it would when trained alone. Uniforms are drawn in place into a buffer
        kept between steps, and compared with every member's rate in one operation: the
        per-member work is one call. Members with rate 0 never draw, so their rows of the
        buffer stay at 1 and are always kept.
        """
        key = (tuple(shape), str(device), tuple(rates))
        cached = self._mask_buffers.get(key)
        if cached is None:
            rate_column = torch.tensor(rates, device=device).view(-1, *[1] * (len(shape) - 1))
            cached = (torch.ones(shape, device=device), rate_column)
            self._mask_buffers[key] = cached
        uniform, rate_column = cached
        counts = None if step is None else step.counts
        for k, rate in enumerate(rates):
            if rate == 0.0:
                continue
            target = uniform[k] if counts is None else uniform[k, : counts[k]]
            if target.numel():
                target.uniform_(generator=self._generators[k])
        return (uniform >= rate_column).to(uniform.dtype)

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

    # -- penalties --------------------------------------------------------------------

    def _set_penalties(self, layout: Layout, groups, device) -> None:
        """Turn per-member penalty objects on slot groups into ``(K, P)`` coefficient maps."""
        k = self.members
        l1 = torch.zeros(k, layout.width, device=device)
        l2 = torch.zeros_like(l1)
        prox = torch.zeros_like(l1)
        for slots, penalties in groups:
            mask = layout.column_mask(slots, device)
            for member, penalty in enumerate(penalties):
                if penalty is None:
                    continue
                l1[member] += penalty.l1 * mask
                l2[member] += penalty.l2 * mask
                if penalty.proximal:
                    prox[member] += penalty.l1 * mask
        self.l1_map = l1 if l1.any() else None
        self.l2_map = l2 if l2.any() else None
        self.prox_map = prox if prox.any() else None
        # Proximal members take their L1 through soft-thresholding, not the subgradient.
        grad = l1 - prox
        self.l1_grad_map = grad if grad.any() else None

    @property
    def penalized(self) -> bool:
        return self.l1_map is not None or self.l2_map is not None

    @torch.no_grad()
    def penalty(self) -> torch.Tensor:
        """Each member's current penalty ``(K,)`` (zeros when unpenalised)."""
        total = torch.zeros(self.members, device=self.bank.device)
        if self.l1_map is not None:
            total += (self.l1_map * self.bank.abs()).sum(1)
        if self.l2_map is not None:
            total += (self.l2_map * self.bank.square()).sum(1)
        return total

    @torch.no_grad()
    def add_penalty_grad_(self, grad: torch.Tensor) -> None:
        """Add the penalties' (sub)gradients to ``grad`` in place (sign(0) = 0, as Keras)."""
        if self.l1_grad_map is not None:
            grad.addcmul_(self.l1_grad_map, self.bank.sign())
        if self.l2_map is not None:
            grad.addcmul_(self.l2_map, self.bank, value=2.0)

    @torch.no_grad()
    def proximal_(self, step_size: torch.Tensor, active: torch.Tensor | None) -> None:
        """Soft-threshold the proximal-L1 columns by ``step_size * l1``: exact zeros appear.

        ``step_size`` is the optimizer's effective per-coordinate step (``(K, 1)`` or
        ``(K, P)``), see ``PopulationOptimizer.step_sizes``.
        """
        if self.prox_map is None:
            return
        threshold = self.prox_map * step_size
        if active is not None:
            threshold = threshold * active
        shrunk = self.bank.abs().sub_(threshold).clamp_min_(0.0)
        self.bank.copy_(self.bank.sign().mul_(shrunk))

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
                values = self.bank[k, slot.offset : slot.offset + slot.size]
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

    def _member_buffers(self):
        return [(n, b) for n, b in self.named_buffers() if n.startswith("running_")]

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
