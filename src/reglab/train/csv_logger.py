"""Stream each epoch's History row to a CSV file, as Keras' ``CSVLogger`` does.

One file per member: a callback watches one member (see :mod:`reglab.train.callback`),
so each member's logger writes its own file, named by putting ``{member}`` in the file
name (as :class:`~reglab.train.checkpoint.ModelCheckpoint` does). Chosen over one shared
file with a ``member`` column because each file is then exactly what a single fit of
that member writes, and members that stop early simply end their file. A population of
more than one member without ``{member}`` in the name is refused (its members would
overwrite each other's rows).

Like Keras: the columns are ``epoch`` then the row's other keys sorted, fixed at the
first epoch (a later missing value is written ``NA``); ``append`` adds to an existing
file and writes the header only when the file is new or empty; every row is flushed.
Unlike Keras, ``epoch`` is 1-based (as everywhere in reglab), and no empty ``val_*``
columns are invented when a fit has no validation data.
"""

from __future__ import annotations

import csv
from pathlib import Path

from reglab.errors import ReglabError, ReglabTypeError
from reglab.train.callback import Callback

__all__ = ["CSVLogger"]


class CSVLogger(Callback):
    """Write every epoch's History row of the member to a CSV file.

    Parameters
    ----------
    filename : str or Path
        The file; ``{member}`` in it is replaced by the member's index (required when
        the population has more than one member).
    separator : str, default ","
        The field separator, one character.
    append : bool, default False
        Add to the file if it exists instead of overwriting it.

    Raises
    ------
    ReglabError, ReglabTypeError
        For an invalid argument, or, when training starts, a population of several
        members and no ``{member}`` in ``filename``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from reglab import fit, mlp
    >>> path = str(Path(tempfile.mkdtemp()) / "log-{member}.csv")
    >>> x = np.eye(4, dtype="float32"); y = np.array([0, 1, 0, 1])
    >>> _ = fit(mlp([4], members=2), x, y, epochs=2, seed=[0, 1], callbacks=[CSVLogger(path)])
    >>> lines = Path(path.format(member=1)).read_text().splitlines()
    >>> lines[0]
    'epoch,accuracy,data_loss,epoch_time,loss,lr,penalty'
    >>> [line.split(",")[0] for line in lines[1:]]
    ['1', '2']
    """

    def __init__(self, filename, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        if not isinstance(filename, (str, Path)) or not str(filename):
            raise ReglabTypeError(
                "Invalid value for `filename` of CSVLogger: expected a file path. "
                f"Received: filename={filename!r}."
            )
        if not isinstance(separator, str) or len(separator) != 1:
            raise ReglabError(
                "Invalid value for `separator` of CSVLogger: expected one character. "
                f"Received: separator={separator!r}."
            )
        if not isinstance(append, bool):
            raise ReglabTypeError(
                "Invalid value for `append` of CSVLogger: expected True or False. "
                f"Received: append={append!r}."
            )
        self.filename, self.separator, self.append = str(filename), separator, append
        self._file = self._writer = None

    @property
    def path(self) -> Path:
        """The file of the member watched (``filename`` itself without a view)."""
        member = self.view.member if self.view is not None else 0
        return Path(self.filename.replace("{member}", str(member)))

    def on_train_begin(self) -> None:
        """Close a file left open and check that every member gets its own file."""
        super().on_train_begin()
        self._close()
        if self.view is not None and self.view.members > 1 and "{member}" not in self.filename:
            raise ReglabError(
                f"Invalid value for `filename` of CSVLogger: the {self.view.members} members "
                "of the population would all write one file; put '{member}' in the name "
                f"(one file per member). Received: filename={self.filename!r}."
            )

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """Write the epoch's row, opening the file (and writing the header) first if needed."""
        if self._writer is None:
            self._open(sorted(key for key in logs if key != "epoch"))
        row = {key: logs.get(key, "NA") for key in self._writer.fieldnames}
        row["epoch"] = epoch
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self) -> None:
        """Close the file."""
        self._close()

    def _open(self, keys: list[str]) -> None:
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        header = not (self.append and path.exists() and path.stat().st_size > 0)
        self._file = path.open("a" if self.append else "w", newline="")
        self._writer = csv.DictWriter(
            self._file, fieldnames=["epoch", *keys], delimiter=self.separator
        )
        if header:
            self._writer.writeheader()

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = self._writer = None

    def __repr__(self) -> str:
        return (
            f"CSVLogger(filename={self.filename!r}, separator={self.separator!r}, "
            f"append={self.append})"
        )
