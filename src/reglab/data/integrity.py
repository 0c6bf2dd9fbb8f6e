"""Checksums of local data files, computed once per file version in a process.

Hashing the 26 MB Fashion-MNIST archive costs about 0.1 s; a study loads its dataset
once per population, so digests are cached by (path, size, mtime): a file that changes
on disk is hashed again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from reglab.errors import DataError

__all__ = ["check_digest", "digest", "digest_bytes"]

_CACHE: dict[tuple[str, str, int, int], str] = {}


def digest_bytes(data: bytes, algorithm: str = "sha256") -> str:
    """Hex digest of ``data``.

    Examples
    --------
    >>> digest_bytes(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.new(algorithm, data).hexdigest()


def digest(
    path: Path, algorithm: str = "sha256", *, content: Callable[[Path], bytes] | None = None
) -> str:
    """Hex digest of the file at ``path`` (or of ``content(path)``), cached per file version.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    algorithm : str, default "sha256"
        Any ``hashlib`` algorithm ("sha256", "md5").
    content : callable, optional
        Returns the bytes to hash instead of the file's own (e.g. decompressed IDX data);
        its digest is cached under its own key.

    Returns
    -------
    str

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     file = pathlib.Path(folder) / "a.txt"
    ...     _ = file.write_bytes(b"abc")
    ...     digest(file, "md5")
    '900150983cd24fb0d6963f7d28e17f72'
    """
    stat = path.stat()
    kind = "content" if content is not None else "file"
    key = (str(path.resolve()), algorithm + ":" + kind, stat.st_size, stat.st_mtime_ns)
    if key not in _CACHE:
        if content is not None:
            _CACHE[key] = digest_bytes(content(path), algorithm)
        else:
            hasher = hashlib.new(algorithm)
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    hasher.update(chunk)
            _CACHE[key] = hasher.hexdigest()
    return _CACHE[key]


def check_digest(path: Path, expected: str, found: str, *, what: str = "SHA-256") -> None:
    """Raise :class:`DataError` naming the file and both hashes when they differ.

    Raises
    ------
    DataError
        If ``found != expected``.

    Examples
    --------
    >>> from pathlib import Path
    >>> check_digest(Path("mnist.npz"), "ab", "ab")
    >>> check_digest(Path("mnist.npz"), "ab", "cd")
    Traceback (most recent call last):
    ...
    reglab.errors.DataError: Checksum mismatch for mnist.npz: expected SHA-256 ab, found cd. ...
    """
    if found != expected:
        raise DataError(
            f"Checksum mismatch for {path}: expected {what} {expected}, found {found}. "
            "The file is corrupt, truncated or not the published one: delete it so reglab "
            "can fetch it again, or, if you made it yourself and trust it, pass "
            "`reglab run --trust-data FILE` (or trusted=... to load_dataset)."
        )
