"""Reading a study for the report: the store must exist and hold the study asked for.

Reading never creates anything: SQLite would happily create an empty database at a
misspelt path, and the user would then be told "no such study" about a store they never
meant to make, with an empty file left behind.
"""

from __future__ import annotations

from pathlib import Path

from reglab.errors import ReglabError, did_you_mean

__all__ = ["open_study"]


def open_study(store_path: str | Path, name: str):
    """Load a study from an existing store, or say precisely what is missing.

    Parameters
    ----------
    store_path : str or Path
        The SQLite store.
    name : str
        The study's name.

    Returns
    -------
    StudyRecord
        From ``reglab.study.store.load_study``.

    Raises
    ------
    ReglabError
        If the file does not exist, or the store has no study ``name`` (the message
        lists the studies it has and suggests the closest).

    Examples
    --------
    >>> open_study("no-such-store.db", "demo")
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: No store at 'no-such-store.db': the file does not exist. ...
    """
    store_path = Path(store_path)
    if not store_path.is_file():
        raise ReglabError(
            f"No store at {str(store_path)!r}: the file does not exist. Pass --store with the "
            "path of the store the study was run into (`reglab run SPEC --store PATH`)."
        )
    # Imported here so that the figures and the HTML work without the study layer.
    from reglab.study.store import list_studies, load_study

    studies = list_studies(store_path)
    if name not in studies:
        have = ", ".join(repr(s) for s in studies) if studies else "no studies"
        raise ReglabError(
            f"Unknown study {name!r} in store {str(store_path)!r}; it has: {have}"
            f"{did_you_mean(name, studies) or '.'}"
        )
    return load_study(store_path, name)
