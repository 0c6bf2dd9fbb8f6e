"""``BatchNorm`` for a population: PyTorch's ``BatchNorm1d``/``BatchNorm2d`` per member.

Training normalises with the batch's statistics (and, for ``(C, H, W)`` inputs, over
every position of each channel) and updates each member's own running statistics;
evaluation uses them (see :func:`reglab.nn.batchnorm.stacked_batch_norm`, which also
documents the momentum convention: 0.1 here is Keras' 0.9). Padded rows of a short
batch are left out of the statistics, and stopped members do not update theirs.

Give the layer before it ``use_bias=False`` (as Keras' and PyTorch's guides do, and as
``reglab.mlp`` does): the normalisation subtracts the batch mean, so that bias has no
effect on the output and its gradient is pure rounding noise, which Adam amplifies into
a random walk.
"""

from __future__ import annotations

import torch

from reglab.errors import ReglabError
from reglab.nn.batchnorm import BatchNormConfig, stacked_batch_norm
from reglab.nn.layers.base import Layer, Pass

__all__ = ["BatchNorm"]


class BatchNorm(Layer):
    """Batch normalization over ``(features,)`` or ``(C, H, W)`` samples.

    Parameters
    ----------
    momentum : float, default 0.1
        Weight of the new batch in the running statistics (PyTorch's convention).
    eps : float, default 1e-5
    affine : bool, default True
        Learn a per-feature scale (gamma) and shift (beta).
    track_running_stats : bool, default True
    name : str, optional

    Examples
    --------
    >>> from reglab.nn.layout import Layout
    >>> BatchNorm().build((16, 5, 5), Layout(), logits=None)
    (16, 5, 5)
    """

    type_name = "batch_normalization"
    name_prefix = "batch_norm"
    arguments = ("momentum", "eps", "affine", "track_running_stats")

    def __init__(
        self,
        momentum: float = 0.1,
        eps: float = 1e-5,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.settings = BatchNormConfig(momentum, eps, affine, track_running_stats)
        self.momentum, self.eps = momentum, eps
        self.affine, self.track_running_stats = affine, track_running_stats

    def build(self, input_shape, layout, *, logits):
        if len(input_shape) not in (1, 3):
            raise ReglabError(
                f"Invalid model: {self.describe_name()} takes (features,) or (channels, "
                f"height, width) samples; received samples of shape {tuple(input_shape)}."
            )
        if logits is not None:
            raise ReglabError(
                f"Invalid model: {self.describe_name()} is the last layer, but the last "
                "layer gives the logits; end the model with a Dense layer."
            )
        # One value per feature or channel, shaped to broadcast over (K, B, C[, H, W]).
        self.stat_shape = (1, input_shape[0], *[1] * (len(input_shape) - 1))
        self.gamma = self.beta = None
        if self.affine:
            self.gamma = layout.add(f"{self.name}/gamma", self.stat_shape, "gamma")
            self.beta = layout.add(f"{self.name}/beta", self.stat_shape, "beta")
        return tuple(input_shape)

    def initialize(self, row, generator):
        if self.gamma is not None:
            self.gamma.view(row)[0].fill_(1.0)

    def configure(self, device):
        self.running_mean = self.running_var = None
        if self.track_running_stats:
            self.running_mean = torch.zeros(self.members, *self.stat_shape, device=device)
            self.running_var = torch.ones(self.members, *self.stat_shape, device=device)

    def member_buffers(self):
        if self.running_mean is None:
            return {}
        return {
            f"{self.name}/running_mean": self.running_mean,
            f"{self.name}/running_var": self.running_var,
        }

    def forward(self, h, run: Pass | None = None):
        if run is None:
            return super().forward(h)
        params = run.params
        return stacked_batch_norm(
            h,
            run.rows(self.running_mean),
            run.rows(self.running_var),
            None if self.gamma is None else params[self.gamma.name],
            None if self.beta is None else params[self.beta.name],
            training=run.training,
            config=self.settings,
            sample_weight=run.sample_weight,
            update=None if run.step is None else run.step.active_3d,
        )
