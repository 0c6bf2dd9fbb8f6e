"""IDX reading: round trips against arrays written with struct, and every malformed header."""

import gzip
import struct

import numpy as np
import pytest

from reglab.data.formats.idx import check_pair, parse_idx, read_bytes, read_idx
from reglab.errors import DataError


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_returns_the_array_written_gzipped_or_raw(files, tmp_path, gz):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = files.write_idx(tmp_path / "images", images, gz=gz)
    np.testing.assert_array_equal(read_idx(path), images)


def test_read_idx_decodes_big_endian_int32_and_float32(files, tmp_path):
    ints = np.array([[1, -2], [70000, 3]], dtype=np.int32)
    floats = np.array([0.5, -1.25], dtype=np.float32)
    np.testing.assert_array_equal(read_idx(files.write_idx(tmp_path / "i", ints)), ints)
    np.testing.assert_array_equal(read_idx(files.write_idx(tmp_path / "f", floats)), floats)


def test_gzip_is_recognised_by_content_not_by_name(files, tmp_path):
    labels = np.array([3, 1, 4], dtype=np.uint8)
    path = tmp_path / "labels-without-gz-suffix"
    path.write_bytes(gzip.compress(files.idx_bytes(labels)))
    np.testing.assert_array_equal(read_idx(path), labels)


def test_truncated_data_names_file_declared_and_found_sizes(files, tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(files.idx_bytes(np.zeros((3, 2, 2), dtype=np.uint8))[:-5])
    with pytest.raises(
        DataError,
        match=r"train-images-idx3-ubyte is truncated: .*shape \(3, 2, 2\)"
        r" of uint8 = 12 data bytes, found 7",
    ):
        read_idx(path)


def test_truncated_header_is_refused():
    with pytest.raises(DataError, match=r"IDX file short is truncated: expected a 12-byte header"):
        parse_idx(struct.pack(">HBB", 0, 8, 2) + b"\x00\x00", "short")


def test_file_shorter_than_the_magic_number_is_refused():
    with pytest.raises(DataError, match=r"expected a 4-byte header, found 2 bytes"):
        parse_idx(b"\x00\x00", "tiny")


def test_wrong_magic_number_names_what_was_found(files):
    data = b"\x12\x34" + files.idx_bytes(np.zeros(2, dtype=np.uint8))[2:]
    with pytest.raises(
        DataError,
        match=r"labels has a wrong magic number: expected 0x0000 .*"
        r"found 0x12340801",
    ):
        parse_idx(data, "labels")


def test_unknown_type_code_lists_the_known_ones():
    data = struct.pack(">HBBI", 0, 0x07, 1, 1) + b"\x00"
    with pytest.raises(
        DataError,
        match=r"unknown type code: expected one of 0x08 \(uint8\).*"
        r"found 0x07",
    ):
        parse_idx(data, "weird")


def test_mislabelled_type_code_is_refused_when_the_caller_expects_uint8(files):
    data = files.idx_bytes(np.zeros(4, dtype=np.uint8), code=0x0C)  # says int32, holds uint8 bytes
    with pytest.raises(
        DataError,
        match=r"labels is mislabelled: expected the type code of uint8, "
        r"found 0x0C \(int32\)",
    ):
        parse_idx(data, "labels", dtype=np.dtype(np.uint8))


def test_mislabelled_type_code_shows_as_a_length_mismatch_without_expectation(files):
    data = files.idx_bytes(np.zeros(4, dtype=np.uint8), code=0x0D)  # says float32: 16 bytes due
    with pytest.raises(DataError, match=r"float32 = 16 data bytes, found 4"):
        parse_idx(data, "labels")


def test_data_longer_than_the_header_declares_is_refused(files):
    with pytest.raises(DataError, match=r"longer than its header declares"):
        parse_idx(files.idx_bytes(np.zeros(4, dtype=np.uint8)) + b"\x00", "labels")


def test_wrong_number_of_dimensions_is_refused(files):
    with pytest.raises(DataError, match=r"wrong number of dimensions: expected 3, found 1"):
        parse_idx(files.idx_bytes(np.zeros(4, dtype=np.uint8)), "images", ndim=3)


def test_truncated_gzip_names_the_file(files, tmp_path):
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(files.idx_bytes(np.zeros((9, 9), dtype=np.uint8)))[:-12])
    with pytest.raises(
        DataError, match=r"Cannot decompress .*images.gz: the gzip data is truncated"
    ):
        read_bytes(path)


def test_images_and_labels_count_mismatch_names_both_files():
    with pytest.raises(DataError, match=r"imgs holds 5 images but lbls holds 4 labels"):
        check_pair(np.zeros((5, 2, 2)), np.zeros(4), "imgs", "lbls")
