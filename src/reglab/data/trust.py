"""Who vouches for a data file: the person running reglab, never the file or a spec.

Trusting a file skips its published checksum (a subset you cut, your own copy). It is an
argument of :func:`reglab.data.load_dataset` (``trusted=True`` or the paths trusted) or
the command line's ``--trust-data FILE``; a study spec cannot say it, because a spec is
often shared and a planted file must not be vouched for by someone else's text. Trusted
or not, pickled object arrays go through the restricted unpickler of
:mod:`reglab.data.formats.npz`, which rebuilds plain numeric lists and arrays only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reglab.errors import ReglabTypeError, invalid

__all__ = ["Trust", "trust_from"]


@dataclass(frozen=True)
class Trust:
    """The files whose checksum check is skipped: all of them, or the listed paths.

    Examples
    --------
    >>> Trust(everything=True).covers(Path("imdb.npz"))
    True
    >>> Trust(paths=frozenset({Path("imdb.npz").resolve()})).covers(Path("reuters.npz"))
    False
    """

    everything: bool = False
    paths: frozenset[Path] = frozenset()

    def covers(self, path: Path) -> bool:
        """Whether the user vouched for ``path``."""
        return self.everything or Path(path).resolve() in self.paths


def trust_from(value: object, *, owner: str = "load_dataset") -> Trust:
    """Turn the ``trusted`` argument into a :class:`Trust`.

    Parameters
    ----------
    value : bool, pathlib.Path, or list or tuple of str / pathlib.Path
        ``True``: every file of the dataset; a path (or several): those files only. A
        bare string is refused: ``trusted="yes"`` is more likely a slip than a file name.
    owner : str, default "load_dataset"
        Named in the error message.

    Raises
    ------
    ReglabTypeError
        For anything else.

    Examples
    --------
    >>> trust_from(False).everything, trust_from(["a.npz"]).covers(Path("a.npz"))
    (False, True)
    >>> trust_from("yes")
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabTypeError: Invalid value for `trusted` of load_dataset: expected ...
    """
    if isinstance(value, bool):
        return Trust(everything=value)
    items = [value] if isinstance(value, Path) else value
    expected = "True, False, or a list of the data files you vouch for"
    if not isinstance(items, (list, tuple, frozenset, set)):
        raise ReglabTypeError(invalid("trusted", expected, value, owner=owner))
    paths = []
    for item in items:
        if not isinstance(item, (str, Path)) or not str(item):
            raise ReglabTypeError(invalid("trusted", expected, value, owner=owner))
        paths.append(Path(item).expanduser().resolve())
    return Trust(paths=frozenset(paths))
