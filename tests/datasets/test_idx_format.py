"""IDX reader/writer: round trips and every kind of corrupt file."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from mlpkit.datasets import DataFormatError, IDXFormatError, read_idx, write_idx
from mlpkit.datasets.idx import parse_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def _sample(dtype, shape=(3, 4, 5)):
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)
    return rng.standard_normal(shape).astype(dtype)


def _idx_bytes(array: np.ndarray, code: int) -> bytes:
    header = bytes((0, 0, code, array.ndim)) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_round_trip(tmp_path, dtype, name):
    array = _sample(dtype)
    path = tmp_path / name
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    assert back.flags.writeable


@pytest.mark.parametrize("shape", [(7,), (2, 3), (0, 28, 28), (1, 1, 1, 1)])
def test_round_trip_shapes(tmp_path, shape):
    array = np.arange(int(np.prod(shape)), dtype=np.uint8).reshape(shape)
    write_idx(tmp_path / "s.idx", array)
    np.testing.assert_array_equal(read_idx(tmp_path / "s.idx"), array)


def test_compress_overrides_name_and_reader_sniffs_content(tmp_path):
    array = _sample(np.int16)
    write_idx(tmp_path / "plain.idx", array, compress=True)
    write_idx(tmp_path / "raw.gz", array, compress=False)
    assert (tmp_path / "plain.idx").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "raw.gz").read_bytes()[:2] == b"\x00\x00"
    np.testing.assert_array_equal(read_idx(tmp_path / "plain.idx"), array)
    np.testing.assert_array_equal(read_idx(tmp_path / "raw.gz"), array)


def test_writer_matches_the_format_byte_for_byte(tmp_path):
    array = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32)
    write_idx(tmp_path / "x.idx", array)
    expected = b"\x00\x00\x0c\x02" + struct.pack(">II", 2, 3) + struct.pack(">6i", 1, 2, 3, 4, 5, 6)
    assert (tmp_path / "x.idx").read_bytes() == expected


def test_gzip_output_is_reproducible(tmp_path):
    array = _sample(np.float32)
    write_idx(tmp_path / "a.gz", array)
    write_idx(tmp_path / "b.gz", array)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()


def test_big_endian_and_non_contiguous_input(tmp_path):
    array = _sample(np.float64, (6, 4))
    write_idx(tmp_path / "be.idx", array.astype(">f8")[::2, ::-1])
    np.testing.assert_array_equal(read_idx(tmp_path / "be.idx"), array[::2, ::-1])


def test_writer_leaves_no_temporary_file(tmp_path):
    write_idx(tmp_path / "a.idx.gz", _sample(np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.idx.gz"]


def test_writer_overwrites_atomically(tmp_path):
    path = tmp_path / "a.idx"
    write_idx(path, np.zeros(3, np.uint8))
    write_idx(path, np.ones(5, np.uint8))
    np.testing.assert_array_equal(read_idx(path), np.ones(5, np.uint8))


@pytest.mark.parametrize(
    ("array", "error", "match"),
    [
        (np.zeros(3, np.int64), TypeError, "int64.*cannot store"),
        (np.zeros(3, np.bool_), TypeError, "cannot store"),
        (np.zeros(3, np.float16), TypeError, "cannot store"),
        (np.array(["a"]), TypeError, "cannot store"),
        (np.array(5, np.uint8), ValueError, "1 to 255 dimensions"),
        ([1, 2, 3], TypeError, "numpy.ndarray"),
    ],
)
def test_writer_refuses_what_idx_cannot_hold(tmp_path, array, error, match):
    with pytest.raises(error, match=match):
        write_idx(tmp_path / "x.idx", array)
    assert list(tmp_path.iterdir()) == []


def test_writer_checks_compress_flag(tmp_path):
    with pytest.raises(TypeError, match="compress"):
        write_idx(tmp_path / "x.idx", np.zeros(2, np.uint8), compress="yes")


# ---- corrupt files: each case names the file and says what is wrong ----

GOOD = _idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4), 0x08)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "too short"),
        (b"\x00\x00\x08", "too short"),
        (b"\x12\x34\x08\x03" + GOOD[4:], "bad magic number 0x12340803"),
        (b"\x00\x01\x08\x03" + GOOD[4:], "bad magic number"),
        (b"\x00\x00\x0a\x03" + GOOD[4:], "bad magic number 0x00000A03"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (GOOD[:10], "truncated header"),
        (GOOD[:-1], "truncated: dimensions \\(2, 3, 4\\).*need 24 data bytes.*found 23"),
        (GOOD[:16], "truncated.*found 0"),
        (GOOD + b"\x00", "longer than its header says.*found 25"),
        (b"\x00\x00\x08\x03" + struct.pack(">III", 2, 3, 5) + GOOD[16:], "truncated.*need 30"),
        (b"\x00\x00\x0d\x01" + struct.pack(">I", 3) + b"\x00" * 11, "4-byte values need 12"),
        (b"\x1f\x8b" + b"garbage" * 5, "corrupt or truncated gzip"),
        (gzip.compress(GOOD)[:-10], "corrupt or truncated gzip"),
        (gzip.compress(GOOD)[:20], "corrupt or truncated gzip"),
        (gzip.compress(GOOD[:-3]), "truncated"),
        (gzip.compress(b"\x99" + GOOD[1:]), "bad magic number"),
    ],
    ids=[
        "empty", "3-bytes", "bad-magic", "nonzero-second-byte", "unknown-type", "zero-dims", "short-header",
        "short-data", "no-data", "trailing-byte", "wrong-dims", "float-size", "gzip-garbage", "gzip-cut-end",
        "gzip-cut-early", "gzip-of-short-file", "gzip-of-bad-magic",
    ],
)
def test_corrupt_files_raise_idx_format_error(tmp_path, data, match):
    path = tmp_path / "broken-idx3-ubyte.gz"
    path.write_bytes(data)
    with pytest.raises(IDXFormatError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_gzip_crc_mismatch_is_reported(tmp_path):
    data = bytearray(gzip.compress(GOOD))
    data[-8] ^= 0xFF  # CRC32 of the uncompressed data
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(IDXFormatError, match="corrupt or truncated gzip"):
        read_idx(path)


def test_error_hierarchy_and_missing_file(tmp_path):
    assert issubclass(IDXFormatError, DataFormatError) and issubclass(IDXFormatError, ValueError)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "absent.idx")
    with pytest.raises(IDXFormatError, match="<bytes>"):
        parse_idx(b"\x01\x02\x03\x04")


def test_reads_real_mnist_headers(mnist_dir):
    labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    images = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert int(images.sum(dtype=np.int64)) == 264923200
