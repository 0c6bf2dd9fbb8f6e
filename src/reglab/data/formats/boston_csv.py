"""The common Boston housing CSV (``BostonHousing.csv``, ``housing.csv``): 13 features + medv.

Column names are matched case-insensitively (R's mlbench writes ``crim``, Kaggle copies
write ``CRIM``) and put in the order Keras' ``boston_housing.npz`` uses, so either source
gives the same feature columns. Extra columns (a row-number column) are ignored.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from reglab.errors import DataError

__all__ = ["BOSTON_COLUMNS", "read_boston_csv"]

BOSTON_COLUMNS = (
    "crim",
    "zn",
    "indus",
    "chas",
    "nox",
    "rm",
    "age",
    "dis",
    "rad",
    "tax",
    "ptratio",
    "b",
    "lstat",
    "medv",
)


def read_boston_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read features ``(N, 13)`` and the target ``medv`` ``(N,)`` from a Boston housing CSV.

    Parameters
    ----------
    path : pathlib.Path
        A comma-separated file with a header naming the columns crim..medv.

    Returns
    -------
    x : numpy.ndarray of float64, shape (N, 13)
    y : numpy.ndarray of float64, shape (N,)

    Raises
    ------
    DataError
        If columns are missing (naming them) or a value is not a number (naming the line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     file = pathlib.Path(folder) / "housing.csv"
    ...     _ = file.write_text("crim,zn,indus\\n1,2,3\\n")
    ...     read_boston_csv(file)
    Traceback (most recent call last):
    ...
    reglab.errors.DataError: .../housing.csv lacks Boston housing columns chas, nox, ...
    """
    with Path(path).open(newline="") as handle:
        rows = [row for row in csv.reader(handle) if row]  # blank lines carry nothing
    if not rows:
        raise DataError(
            f"{path} is empty: expected a header with columns "
            f"{', '.join(BOSTON_COLUMNS)} and one row per house."
        )
    header = [name.strip().strip('"').lower() for name in rows[0]]
    missing = [c for c in BOSTON_COLUMNS if c not in header]
    if missing:
        raise DataError(
            f"{path} lacks Boston housing columns {', '.join(missing)}: expected "
            f"{', '.join(BOSTON_COLUMNS)} (any case); found {', '.join(header) or 'no header'}."
        )
    where = [header.index(c) for c in BOSTON_COLUMNS]
    table = np.empty((len(rows) - 1, len(where)), dtype=np.float64)
    for line, row in enumerate(rows[1:], start=2):
        try:
            table[line - 2] = [float(row[i]) for i in where]
        except (ValueError, IndexError) as error:
            raise DataError(
                f"{path}, line {line}: expected {len(header)} numbers, found {row!r} ({error})."
            ) from error
    return table[:, :-1], table[:, -1]
