"""The MLP shorthand: ``mlp([64, 64], dropout=0.5, ...)`` builds a :class:`Sequential`.

Each hidden block is ``Dense -> [BatchNorm -> Activation] -> [Dropout]`` (Keras' usual
order; with batch norm the Dense has no bias, since the normalisation subtracts the
batch mean and the bias's gradient would be pure rounding noise, which Adam amplifies),
hidden Dense layers optionally with DropConnect, then the output ``Dense`` whose units
come from the task. The shorthand's regularization settings apply to every hidden layer
and may take one value per member; for per-layer settings write the layers yourself
(``reglab.Sequential([...])``).
"""

from __future__ import annotations

from collections.abc import Sequence

from reglab.errors import (
    ReglabError,
    ReglabTypeError,
    check_choice,
    check_int,
    check_rate,
    per_member,
)
from reglab.nn.activations import ACTIVATIONS
from reglab.nn.batchnorm import BatchNormConfig
from reglab.nn.dropout import DROPOUT_MODES
from reglab.nn.layers import (
    Activation,
    BatchNorm,
    Dense,
    DropConnect,
    Dropout,
    Flatten,
    GaussianDropout,
    GaussianNoise,
)
from reglab.nn.penalties import Penalty, as_penalty
from reglab.nn.sequential import Sequential

__all__ = ["ACTIVATIONS", "MLP", "mlp"]


def _count_members(**values) -> int | None:
    lengths = {name: len(v) for name, v in values.items() if isinstance(v, (list, tuple))}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ReglabError(
            "Invalid per-member values of mlp: every list must have one value per member; "
            f"{listed}."
        )
    return next(iter(lengths.values()), None)


class MLP(Sequential):
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
        unpenalised, as in the Keras book's examples; per layer: ``reglab.Sequential``).
    bias_regularizer : Penalty or list of Penalty, optional
        Penalty on the hidden biases (untouched unless given).
    kernel_constraint : Constraint or list of Constraint, optional
        Applied to every hidden kernel after each step, as Keras does (``MaxNorm(3.0)``...).
    gaussian_noise : float or list of float, default 0.0
        Standard deviation of Keras' ``GaussianNoise`` on the inputs (training only).
    gaussian_dropout : float or list of float, default 0.0
        Rate of Keras' ``GaussianDropout`` after each hidden activation (training only).
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
        kernel_constraint=None,
        gaussian_noise: float | Sequence[float] = 0.0,
        gaussian_dropout: float | Sequence[float] = 0.0,
        members: int | None = None,
    ) -> None:
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
            kernel_constraint=kernel_constraint,
            gaussian_noise=gaussian_noise,
            gaussian_dropout=gaussian_dropout,
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
        # Checked by the layers they build (one rule each); kept per member here.
        self.kernel_constraint = per_member("kernel_constraint", kernel_constraint, k, owner="mlp")
        self.gaussian_noise = per_member("gaussian_noise", gaussian_noise, k, owner="mlp")
        self.gaussian_dropout = per_member("gaussian_dropout", gaussian_dropout, k, owner="mlp")
        super().__init__(self._layers(), members=k)

    def _layers(self) -> list:
        """The Sequential layers this shorthand stands for."""
        layers: list = [Flatten()]
        if any(self.gaussian_noise):  # absent when unused: the fast path stays available
            layers.append(GaussianNoise(self.gaussian_noise))
        dropconnect = any(self.dropconnect)
        for i, width in enumerate(self.hidden):
            activation = None if self.batchnorm is not None else self.activation
            options = dict(
                activation=activation,
                kernel_regularizer=self.kernel_regularizer,
                bias_regularizer=self.bias_regularizer,
                use_bias=self.batchnorm is None,
                kernel_constraint=self.kernel_constraint,
                name=f"dense_{i}",
            )
            if dropconnect:
                layers.append(DropConnect(width, rate=self.dropconnect, **options))
            else:
                layers.append(Dense(width, **options))
            if self.batchnorm is not None:
                bn = self.batchnorm
                layers.append(BatchNorm(bn.momentum, bn.eps, bn.affine, bn.track_running_stats))
                layers.append(Activation(self.activation))
            if any(self.dropout):
                layers.append(Dropout(self.dropout, self.dropout_mode))
            if any(self.gaussian_dropout):
                layers.append(GaussianDropout(self.gaussian_dropout))
        layers.append(Dense(None, name="output"))
        return layers


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
