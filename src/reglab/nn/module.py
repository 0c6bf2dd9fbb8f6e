"""Any ``torch.nn.Module`` as a population of K independently initialised members.

The module's parameters become slots of the ``(K, P)`` bank and its buffers (batch
norm's running statistics) ``(K, ...)`` tensors, so the optimizer, penalties, snapshots,
early stopping's restore and checkpoints are the ones every model uses. Member ``k``'s
forward is ``torch.func.functional_call(module, member k's views, its rows)``: the
module's own code, run once per member on that member's real rows only (batch norm's
statistics never see another member's rows or padding).

Why one call per member, not ``torch.func.vmap``: a member must draw exactly what it
draws alone, and ``torch.nn.Dropout`` draws from torch's global generator, which
``vmap`` cannot split per member. Here each member owns a saved generator state that is
swapped in around its forward, so the same seeds give the same numbers and a member
equals its single fit. On a CPU this costs nothing measurable: a probe of ``vmap`` over
``functional_call`` ran 0.54-0.74x the speed of plain loops (it batches small kernels
that were compute-bound already). reglab's own Dropout, SpatialDropout2D, GaussianNoise
and DropConnect inside the module read the running member (:mod:`reglab.nn.members`)
and use its rate and its own random stream.

Each member starts from the module's own initialisation scheme: every submodule's
``reset_parameters()`` runs under a generator seeded from the member's seed (parameters
that no ``reset_parameters`` covers keep the module's values). After ``fit`` the
module holds member 0's trained weights; :func:`member` gives any member as a module.
"""

from __future__ import annotations

import contextlib
import copy
import weakref

import torch
from torch.func import functional_call

from reglab.errors import ReglabError, ReglabTypeError, check_int, per_member
from reglab.nn.layers.base import Layer
from reglab.nn.layout import Layout
from reglab.nn.masks import derive_seed
from reglab.nn.members import member_context
from reglab.nn.penalties import as_penalty
from reglab.nn.population import PopulationModel

__all__ = ["ModuleModel", "member", "population_of"]

# The population that trains each user module, so that predict(module), evaluate(module)
# and member(module, i) find it; weak, so a module's population dies with the module.
_POPULATIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def population_of(module: torch.nn.Module) -> ModuleModel | None:
    """The population that ``reglab.fit`` trained ``module`` as, or None."""
    return _POPULATIONS.get(module)


class ModuleModel(PopulationModel):
    """Train a ``torch.nn.Module`` (its output: the logits) as ``members`` members.

    Parameters
    ----------
    module : torch.nn.Module
        Maps a batch ``(B, *shape)`` to logits ``(B, O)``.
    kernel_regularizer : Penalty or list of Penalty, optional
        Per member: a penalty on every parameter named ``*weight`` or ``*kernel`` with 2
        or more dimensions.
    members : int, default 1
    reinitialize : bool, default True
        Initialise each member from its seed (the module's ``reset_parameters``); False
        starts every member from the module's current weights (fine-tuning).

    Examples
    --------
    >>> import torch
    >>> model = ModuleModel(torch.nn.Sequential(torch.nn.Linear(4, 3)), members=2)
    >>> model.members
    2
    """

    def __init__(
        self,
        module: torch.nn.Module,
        kernel_regularizer=None,
        *,
        members: int = 1,
        reinitialize: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(module, torch.nn.Module) or isinstance(module, PopulationModel):
            raise ReglabTypeError(
                "Invalid value for `model`: expected a reglab model (reglab.Sequential, "
                f"reglab.mlp) or a torch.nn.Module. Received: model={module!r}."
            )
        self._members = check_int("members", members, owner="ModuleModel", low=1)
        for sub in module.modules():
            if isinstance(sub, Layer):
                count = sub.member_count()
                if count is not None and count != self._members:
                    raise ReglabError(
                        f"Invalid per-member values of {sub.describe_name()} inside the "
                        f"module: it has {count} values but the population has "
                        f"{self._members} members (one per seed)."
                    )
        self.module = module
        self.reinitialize = bool(reinitialize)
        self.kernel_regularizer = [
            as_penalty(p)
            for p in per_member("kernel_regularizer", kernel_regularizer, self._members,
                                owner="ModuleModel")
        ]  # fmt: skip
        self._initial_buffers: list[dict[str, torch.Tensor]] = []
        self._stacked: dict[str, torch.Tensor] = {}
        _POPULATIONS[module] = self

    @property
    def members(self) -> int:
        return self._members

    def replicate(self, times: int) -> ModuleModel:
        """A new population of ``members * times`` members of the same module (K-fold)."""
        times = check_int("times", times, owner="ModuleModel.replicate", low=1)
        penalties = [p for p in self.kernel_regularizer for _ in range(times)]
        twin = ModuleModel(
            self.module, penalties, members=self.members * times, reinitialize=self.reinitialize
        )
        return twin

    # -- building ---------------------------------------------------------------------

    def _build_layout(self, input_shape, n_outputs: int) -> Layout:
        layout = Layout()
        for name, parameter in self.module.named_parameters():
            weight = name.endswith(("weight", "kernel")) and parameter.dim() >= 2
            layout.add(name, tuple(parameter.shape), "kernel" if weight else "bias")
        return layout

    def _initial_row(self, layout: Layout, seed: int) -> torch.Tensor:
        source = self.module
        if self.reinitialize:
            source = copy.deepcopy(self.module).cpu()
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(derive_seed(seed, "init"))
                for sub in source.modules():
                    if hasattr(sub, "reset_parameters") and callable(sub.reset_parameters):
                        sub.reset_parameters()
        self._initial_buffers.append(
            {name: b.detach().cpu().clone() for name, b in source.named_buffers()}
        )
        parameters = dict(source.named_parameters())
        return torch.cat([parameters[name].detach().flatten().cpu() for name in layout.slots])

    def _configure(self, layout: Layout, device: torch.device) -> None:
        self.module.to(device)
        self.module.requires_grad_(False)  # the bank is what trains
        names = [name for name, _ in self.module.named_buffers()]
        self._stacked = {
            name: torch.stack([b[name] for b in self._initial_buffers]).to(device) for name in names
        }
        self._initial_buffers = []
        self._set_penalties(layout, [(layout.of_kind("kernel"), self.kernel_regularizer)], device)

    def member_buffers(self) -> dict[str, torch.Tensor]:
        return self._stacked

    def reset_generators(self, seeds, device) -> None:
        """Each member's mask streams, and its own state of torch's global generator."""
        super().reset_generators(seeds, device)
        device = torch.device(device)
        self._rng_states = []
        for s in seeds:
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                torch.manual_seed(derive_seed(s, "torch"))
                cpu = torch.get_rng_state()
                cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
            self._rng_states.append((cpu, cuda))
        self._device = device

    @contextlib.contextmanager
    def _member_generator(self, k: int):
        """Run the enclosed code on member ``k``'s own state of torch's global generator."""
        cuda = self._device.type == "cuda"
        saved = torch.get_rng_state(), torch.cuda.get_rng_state(self._device) if cuda else None
        cpu_state, cuda_state = self._rng_states[k]
        torch.set_rng_state(cpu_state)
        if cuda:
            torch.cuda.set_rng_state(cuda_state, self._device)
        try:
            yield
        finally:
            self._rng_states[k] = (
                torch.get_rng_state(),
                torch.cuda.get_rng_state(self._device) if cuda else None,
            )
            torch.set_rng_state(saved[0])
            if cuda:
                torch.cuda.set_rng_state(saved[1], self._device)

    # -- forward ----------------------------------------------------------------------

    def forward_logits(self, x, *, training: bool, step=None) -> torch.Tensor:
        """Logits ``(K, B, O)``: each member's forward on its own real rows."""
        self.module.train(training)
        counts = None if step is None else step.counts
        rows = x.shape[1]
        outputs = []
        for k in range(self.members):
            n = rows if counts is None else counts[k]
            if n == 0:
                outputs.append(None)
                continue
            xk = x[k if x.shape[0] > 1 else 0]
            if n < rows:
                xk = xk[:n]
            views = {name: leaf[k] for name, leaf in self.params.items()}
            views.update({name: b[k] for name, b in self._stacked.items()})
            with member_context(self, k, training):
                if training:
                    with self._member_generator(k):
                        out = functional_call(self.module, views, (xk,))
                else:
                    out = functional_call(self.module, views, (xk,))
            if n < rows:
                out = torch.cat([out, out.new_zeros(rows - n, *out.shape[1:])])
            outputs.append(out)
        template = next(o for o in outputs if o is not None)
        if tuple(template.shape[1:]) != (self.task.n_outputs,):
            raise ReglabError(
                f"Invalid model: the module returns outputs of shape "
                f"{tuple(template.shape[1:])} per sample, but the task "
                f"({self.task.kind}) needs {self.task.n_outputs} logits per sample."
            )
        return torch.stack([torch.zeros_like(template) if o is None else o for o in outputs])

    @contextlib.contextmanager
    def cumulative_batch_norm(self, members: list[int]):
        """See :meth:`PopulationModel.cumulative_batch_norm`: the module's batch norms run
        with ``momentum=None`` on each member's reset statistics, as ``update_bn`` sets them."""
        norms = [
            (name, sub) for name, sub in self.module.named_modules()
            if isinstance(sub, torch.nn.modules.batchnorm._BatchNorm) and sub.track_running_stats
        ]  # fmt: skip
        if not norms:
            yield None
            return
        prefix = {name: f"{name}." if name else "" for name, _ in norms}
        with torch.no_grad():
            for name, _ in norms:
                for buffer, value in (("running_mean", 0), ("running_var", 1),
                                      ("num_batches_tracked", 0)):  # fmt: skip
                    stacked = self._stacked.get(prefix[name] + buffer)
                    if stacked is not None:
                        stacked[members] = value
        momenta = [sub.momentum for _, sub in norms]
        for _, sub in norms:
            sub.momentum = None
        try:
            yield lambda number: None  # torch counts the batches itself
        finally:
            for (_, sub), momentum in zip(norms, momenta):
                sub.momentum = momentum

    def finish_fit(self) -> None:
        """Copy member 0's weights and buffers into the user's module."""
        self._load_into(self.module, 0)

    @torch.no_grad()
    def _load_into(self, module: torch.nn.Module, k: int) -> None:
        parameters = dict(module.named_parameters())
        for name, slot in self.layout.slots.items():
            parameters[name].copy_(slot.view(self.bank)[k])
        buffers = dict(module.named_buffers())
        for name, stacked in self._stacked.items():
            buffers[name].copy_(stacked[k])

    def member(self, k: int) -> torch.nn.Module:
        """Member ``k`` as a copy of the module with its weights and buffers; ``predict``
        and ``evaluate`` take the copy (it is a trained one-member population)."""
        twin = copy.deepcopy(self.module)
        self._load_into(twin, k)
        alone = ModuleModel(twin, self.kernel_regularizer[k], reinitialize=False)
        device = self.bank.device
        alone.build(self.input_shape, self.task, [0], sparse_input=self.sparse_input, device=device)
        alone.reset_generators([0], device)
        if self.input_mean is not None:
            alone.set_standardization(self.input_mean[k : k + 1], self.input_std[k : k + 1])
        return twin

    def describe(self) -> dict:
        return {"module": type(self.module).__name__, "members": self.members}


def member(model, index: int):
    """Population member ``index`` of a trained model, on its own.

    Parameters
    ----------
    model : torch.nn.Module or reglab.nn.Sequential
        A user module trained by ``reglab.fit`` (its population is found), or a reglab
        population.
    index : int

    Returns
    -------
    torch.nn.Module or Sequential
        For a user module, a copy of it holding member ``index``'s weights and buffers;
        for a reglab model, a one-member population of it.

    Examples
    --------
    >>> import numpy as np, torch, reglab
    >>> net = torch.nn.Linear(4, 3)
    >>> x = np.eye(4, dtype="float32"); y = np.array([0, 1, 2, 0])
    >>> _ = reglab.fit(net, x, y, seed=[0, 1])
    >>> second = member(net, 1)
    >>> type(second).__name__, bool(torch.equal(member(net, 0).weight, net.weight))
    ('Linear', True)
    """
    population = model if isinstance(model, PopulationModel) else None
    if population is None and isinstance(model, torch.nn.Module):
        population = population_of(model)
    if population is None or not population.built:
        raise ReglabError(
            "Invalid value for `model` of member: it has not been trained yet; call "
            "reglab.fit(model, x, y) first."
        )
    index = check_int("index", index, owner="member")
    if index >= population.members:
        raise ReglabError(
            f"Invalid value for `index` of member: the population has {population.members} "
            f"members (0 to {population.members - 1}). Received: index={index}."
        )
    return population.member(index)
