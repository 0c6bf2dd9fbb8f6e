"""Which population member a user module is running for, so reglab's layers inside it
can use that member's rate and random stream.

A user's ``torch.nn.Module`` trains as K members by running its forward once per member
(:class:`reglab.nn.ModuleModel`). Around member ``k``'s forward the model enters
:func:`member_context`; reglab's stochastic layers (``Dropout``, ``SpatialDropout2D``,
``GaussianNoise``, ``DropConnect``) read :func:`current_member` and take member ``k``'s
value of each per-member setting and its own masks. Outside any context (a module
called directly, not through ``reglab.fit``) they behave as single layers.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass

__all__ = ["MemberContext", "current_member", "member_context", "member_value"]


@dataclass(frozen=True)
class MemberContext:
    """Member ``member`` of ``model`` is running its forward (``training`` or not)."""

    model: object
    member: int
    training: bool


_CURRENT: contextvars.ContextVar[MemberContext | None] = contextvars.ContextVar(
    "reglab_member", default=None
)


@contextlib.contextmanager
def member_context(model, member: int, training: bool):
    """Run the enclosed forward as ``model``'s member ``member``."""
    token = _CURRENT.set(MemberContext(model, member, training))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_member() -> MemberContext | None:
    """The member whose forward is running, or None outside ``reglab.fit``/``predict``."""
    return _CURRENT.get()


def member_value(value, context: MemberContext | None, *, name: str, owner: str):
    """A per-member setting's value for the running member (a scalar is everyone's).

    Examples
    --------
    >>> member_value(0.5, None, name="rate", owner="Dropout")
    0.5
    >>> member_value([0.1, 0.2], None, name="rate", owner="Dropout")
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: Invalid value for `rate` of Dropout: one value per member needs ...
    """
    from reglab.errors import ReglabError

    if not isinstance(value, (list, tuple)):
        return value
    if context is None:
        raise ReglabError(
            f"Invalid value for `{name}` of {owner}: one value per member needs the module "
            "to be trained by reglab.fit (which runs it member by member); called directly "
            f"it is a single layer. Received: {name}={list(value)!r}."
        )
    if context.member >= len(value):
        raise ReglabError(
            f"Invalid value for `{name}` of {owner}: it has {len(value)} values but the "
            f"population has at least {context.member + 1} members."
        )
    return value[context.member]
