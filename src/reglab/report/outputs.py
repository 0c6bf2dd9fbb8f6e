"""Checking where reglab will write, before it trains: one line naming the real reason.

``reglab run`` writes its report and TensorBoard logs only after training; a path that
cannot be written (a folder given for a file, a file among its parents, a read-only
place) is found here first, so no training is lost to a typo in ``-o``.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from reglab.errors import ReglabError

__all__ = ["check_log_dir", "check_output_file", "report_path"]


def report_path(study: str, output: str | Path | None) -> Path:
    """Where a study's report goes: ``output``, or ``<study>.html`` in the current folder.

    Examples
    --------
    >>> report_path("my study", None).name, report_path("s", "out/r.html").as_posix()
    ('my_study.html', 'out/r.html')
    """
    if output is not None:
        return Path(output)
    # A study name is user text: keep it readable, but never a path.
    safe = re.sub(r"[^\w.-]+", "_", study).strip("._") or "study"
    return Path(f"{safe}.html")


def check_output_file(path: str | Path, *, flag: str = "-o") -> Path:
    """Refuse an output file that cannot be written, without writing anything.

    Parameters
    ----------
    path : str or pathlib.Path
        The file reglab will write (made with its missing folders).
    flag : str, default "-o"
        The command-line option that gave it, named in the message.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ReglabError
        If the path is empty, is a folder, lies under a file, or cannot be written.

    Examples
    --------
    >>> check_output_file("")
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: Invalid value for `-o`: expected the path of a file to write. ...
    """
    if str(path).strip() == "":
        raise ReglabError(
            f"Invalid value for `{flag}`: expected the path of a file to write. Received: ''."
        )
    path = Path(path)
    if path.is_dir():
        raise ReglabError(
            f"Invalid value for `{flag}`: {path} is a folder; give a file, "
            f"e.g. {flag} {path / 'report.html'}."
        )
    if path.exists() and not path.is_file():
        raise ReglabError(f"Invalid value for `{flag}`: {path} is not a regular file.")
    _check_folder(path.parent, flag, path)
    return path


def check_log_dir(directory: str | Path, *, flag: str = "--tensorboard") -> Path:
    """Refuse a log folder that cannot be made or written, without writing anything.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     check_log_dir(f.name)
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: Invalid value for `--tensorboard`: ... is a file, not a folder.
    """
    if str(directory).strip() == "":
        raise ReglabError(
            f"Invalid value for `{flag}`: expected a folder to write logs in. Received: ''."
        )
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ReglabError(f"Invalid value for `{flag}`: {directory} is a file, not a folder.")
    _check_folder(directory, flag, directory)
    return directory


def _check_folder(folder: Path, flag: str, target: Path) -> None:
    """The nearest existing folder at or above ``folder`` must be a folder we can write in."""
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise ReglabError(
            f"Invalid value for `{flag}`: cannot write {target}, because {existing} is a "
            "file, not a folder."
        )
    try:  # the only reliable test (permissions, read-only mounts, quotas): try it
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise ReglabError(
            f"Invalid value for `{flag}`: cannot write {target}: {existing} is not writable "
            f"({error.strerror or error}); choose another place."
        ) from None
