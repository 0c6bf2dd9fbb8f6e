"""IDX files (MNIST, Fashion-MNIST), gzipped or raw, with every header field checked.

The layout (LeCun's MNIST page): two zero bytes, a type code, the number of dimensions,
then one big-endian uint32 per dimension, then the data in C order. A file whose
declared size disagrees with its length is refused rather than reshaped into garbage.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from reglab.errors import DataError

__all__ = ["IDX_DTYPES", "check_pair", "parse_idx", "read_bytes", "read_idx"]

IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed when it is gzipped (told by its content, not its name).

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    bytes

    Raises
    ------
    DataError
        If a gzipped file is truncated or corrupt.
    """
    data = Path(path).read_bytes()
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as error:
        raise DataError(
            f"Cannot decompress {path}: the gzip data is truncated or corrupt "
            f"({error}). Delete it and fetch it again."
        ) from error


def parse_idx(
    data: bytes, source: str, *, dtype: np.dtype | None = None, ndim: int | None = None
) -> np.ndarray:
    """Parse IDX bytes into an array, checking magic, type code, dimensions and length.

    Parameters
    ----------
    data : bytes
        The (decompressed) file content.
    source : str
        The file's name, used in error messages.
    dtype : numpy.dtype, optional
        The element type the caller expects (uint8 for MNIST); a file declaring another
        type is refused as mislabelled.
    ndim : int, optional
        The number of dimensions the caller expects (3 for images, 1 for labels).

    Returns
    -------
    numpy.ndarray
        In native byte order.

    Raises
    ------
    DataError
        Naming the file, what was expected and what was found.

    Examples
    --------
    >>> import struct
    >>> parse_idx(struct.pack(">BBBBI", 0, 0, 0x08, 1, 3) + bytes([7, 8, 9]), "labels")
    array([7, 8, 9], dtype=uint8)
    """
    if len(data) < 4:
        raise DataError(
            f"IDX file {source} is truncated: expected a 4-byte header, found {len(data)} bytes."
        )
    zero, code, dims = struct.unpack(">HBB", data[:4])
    if zero != 0:
        raise DataError(
            f"IDX file {source} has a wrong magic number: expected 0x0000 "
            f"followed by a type code, found 0x{data[:4].hex()}. Is it an IDX "
            "file (decompressed if it was gzipped)?"
        )
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X} ({d.name})" for c, d in IDX_DTYPES.items())
        raise DataError(
            f"IDX file {source} has an unknown type code: expected one of "
            f"{known}, found 0x{code:02X}."
        )
    declared = IDX_DTYPES[code]
    if dtype is not None and declared != np.dtype(dtype):
        wanted = np.dtype(dtype).name
        raise DataError(
            f"IDX file {source} is mislabelled: expected the type code of "
            f"{wanted}, found 0x{code:02X} ({declared.name})."
        )
    if ndim is not None and dims != ndim:
        raise DataError(
            f"IDX file {source} has the wrong number of dimensions: expected {ndim}, found {dims}."
        )
    header = 4 + 4 * dims
    if len(data) < header:
        raise DataError(
            f"IDX file {source} is truncated: expected a {header}-byte header "
            f"for {dims} dimensions, found {len(data)} bytes."
        )
    shape = struct.unpack(f">{dims}I", data[4:header])
    expected = int(np.prod(shape, dtype=np.int64)) * declared.itemsize
    found = len(data) - header
    if found != expected:
        problem = "truncated" if found < expected else "longer than its header declares"
        raise DataError(
            f"IDX file {source} is {problem}: the header declares shape {shape} "
            f"of {declared.name} = {expected} data bytes, found {found}. A wrong "
            "type code or a partial download does this."
        )
    array = np.frombuffer(data, dtype=declared, offset=header).reshape(shape)
    return array.astype(declared.newbyteorder("="), copy=True)


def read_idx(path: Path, *, dtype: np.dtype | None = None, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file, gzipped or raw, with the checks of :func:`parse_idx`.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    dtype : numpy.dtype, optional
        The element type expected.
    ndim : int, optional
        The number of dimensions expected.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    DataError
        If the file is malformed or not what was expected (naming the file).
    """
    return parse_idx(read_bytes(path), str(path), dtype=dtype, ndim=ndim)


def check_pair(images: np.ndarray, labels: np.ndarray, images_file: str, labels_file: str) -> None:
    """Refuse an images file and a labels file that hold different numbers of samples.

    Parameters
    ----------
    images, labels : numpy.ndarray
        The parsed arrays.
    images_file, labels_file : str
        Their file names, for the message.

    Raises
    ------
    DataError
        If ``len(images) != len(labels)``.

    Examples
    --------
    >>> import numpy as np
    >>> check_pair(np.zeros((2, 1, 1)), np.zeros(3), "imgs", "lbls")
    Traceback (most recent call last):
    ...
    reglab.errors.DataError: IDX files disagree: imgs holds 2 images but lbls holds 3 labels; ...
    """
    if len(images) != len(labels):
        raise DataError(
            f"IDX files disagree: {images_file} holds {len(images)} images but "
            f"{labels_file} holds {len(labels)} labels; expected the same count. "
            "Are they from the same split and dataset?"
        )
