"""Any user ``torch.nn.Module`` as a population of one, trained by the same engine.

The module's parameters are copied once into the ``(1, P)`` bank and the forward pass
runs through ``torch.func.functional_call`` with views of the bank, so the optimizer,
penalties, snapshots and early stopping are the ones the MLP uses. The module's own
layers (``torch.nn.Dropout``, ``reglab.nn.Dropout``, ``BatchNorm1d``...) follow its
train/eval mode, which the engine sets.
"""

from __future__ import annotations

import torch
from torch.func import functional_call

from reglab.errors import ReglabTypeError
from reglab.nn.layout import Layout
from reglab.nn.penalties import Penalty, as_penalty
from reglab.nn.population import PopulationModel

__all__ = ["ModuleModel"]


class ModuleModel(PopulationModel):
    """Wrap a ``torch.nn.Module`` whose output is the logits (no final activation).

    Parameters
    ----------
    module : torch.nn.Module
        Maps a batch ``(B, F)`` to logits ``(B, O)``; its initial weights are kept.
    kernel_regularizer : Penalty, optional
        Penalty on every parameter named ``*weight`` with 2 or more dimensions.

    Examples
    --------
    >>> import torch
    >>> model = ModuleModel(torch.nn.Sequential(torch.nn.Linear(4, 3)))
    >>> model.members
    1
    """

    def __init__(self, module: torch.nn.Module, kernel_regularizer: Penalty | None = None):
        super().__init__()
        if not isinstance(module, torch.nn.Module):
            raise ReglabTypeError(
                f"Invalid value for `model`: expected a reglab.mlp(...) or a torch.nn.Module. "
                f"Received: model={module!r}."
            )
        self.module = module
        self.kernel_regularizer = [as_penalty(kernel_regularizer)]

    @property
    def members(self) -> int:
        return 1

    def _build_layout(self, n_inputs: int, n_outputs: int) -> Layout:
        layout = Layout()
        for name, parameter in self.module.named_parameters():
            kind = "kernel" if name.endswith("weight") and parameter.dim() >= 2 else "bias"
            layout.add(name, tuple(parameter.shape), kind)
        return layout

    def _initial_row(self, layout: Layout, seed: int) -> torch.Tensor:
        parameters = dict(self.module.named_parameters())
        return torch.cat([parameters[name].detach().flatten().cpu() for name in layout.slots])

    def _configure(self, layout: Layout, device: torch.device) -> None:
        self.module.to(device)
        self.module.requires_grad_(False)  # the bank is what trains
        self._set_penalties(layout, [(layout.of_kind("kernel"), self.kernel_regularizer)], device)

    def forward_logits(self, x, *, training: bool, step=None) -> torch.Tensor:
        self.module.train(training)
        views = {name: leaf[0] for name, leaf in self.params.items()}
        return functional_call(self.module, views, (x[0],)).unsqueeze(0)

    def describe(self) -> dict:
        return {"module": type(self.module).__name__, "members": 1}
