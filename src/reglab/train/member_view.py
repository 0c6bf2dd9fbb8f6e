"""What a callback may see and steer of the one population member it watches.

A population trains K members as one; a callback written for one model (Keras' kind)
must still only touch its own member. The engine gives each member's callbacks a
:class:`MemberView` before training: it reads and sets that member's learning rate
(the optimizer keeps one per member) and reads, snapshots and restores that member's
weights, and nothing of the others. After ``fit`` the view is released, so a callback
the user keeps does not keep the population alive; its :attr:`MemberView.member`
still says which member it watched.
"""

from __future__ import annotations

import numpy as np
import torch

from reglab.errors import ReglabError, check_number

__all__ = ["MemberView"]


class MemberView:
    """One member of a training population, as its callbacks see it.

    Parameters
    ----------
    model : PopulationModel
        The population being trained.
    optimizer : PopulationOptimizer
        Its optimizer (the per-member learning rates).
    member : int
        The member watched, 0-based.

    Attributes
    ----------
    member : int
        The member watched.
    members : int
        How many members the population has.

    Examples
    --------
    >>> import numpy as np
    >>> from reglab import fit, mlp
    >>> from reglab.train import Callback
    >>> class Halve(Callback):
    ...     def on_epoch_end(self, epoch, logs):
    ...         self.view.learning_rate = self.view.learning_rate / 2
    >>> x = np.eye(4, dtype="float32"); y = np.array([0, 1, 0, 1])
    >>> h = fit(mlp([4]), x, y, epochs=3, learning_rate=0.01, callbacks=[Halve()])
    >>> h.history["lr"]
    [0.01, 0.005, 0.0025]
    """

    def __init__(self, model, optimizer, member: int) -> None:
        self.member = member
        self.members = model.members
        self._model, self._optimizer = model, optimizer

    @property
    def learning_rate(self) -> float:
        """The member's learning rate; setting it applies from the member's next step."""
        return self._live()[1].learning_rates[self.member]

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        # 0 is allowed: a warmup starts there (Keras' CosineDecay with initial rate 0).
        rate = check_number("learning_rate", value, owner="MemberView", low=0.0)
        self._live()[1].set_learning_rate(self.member, rate)

    def weights(self) -> dict[str, np.ndarray]:
        """Copies of the member's kernels by layer name (as ``model.kernels(member)``)."""
        return self._live()[0].kernels(self.member)

    def snapshot(self) -> dict[str, torch.Tensor]:
        """The member's weights and buffers, to put back later with :meth:`restore`."""
        return self._live()[0].snapshot(self.member)

    def restore(self, state: dict[str, torch.Tensor]) -> None:
        """Put back the weights and buffers of a :meth:`snapshot` (this member only)."""
        self._live()[0].restore(self.member, state)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The member's parameters and buffers by name, on the CPU (for ``torch.save``)."""
        return self._live()[0].member_state_dict(self.member)

    def release(self) -> None:
        """Drop the population: called by the engine when training ends."""
        self._model = self._optimizer = None

    def _live(self):
        if self._model is None:
            raise ReglabError(
                f"The view of member {self.member} is only usable while fit trains it; "
                "read what a callback needs during training and keep it on the callback."
            )
        return self._model, self._optimizer

    def __repr__(self) -> str:
        state = "" if self._model is not None else ", released"
        return f"MemberView(member={self.member} of {self.members}{state})"
