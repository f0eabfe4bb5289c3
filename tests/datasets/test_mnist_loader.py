"""load_mnist on the real files (../shared/data/mnist via MLPKIT_DATA), and its offline behaviour."""

from __future__ import annotations

import gzip
import os
import socket

import numpy as np
import pytest

from mlpkit.datasets import ChecksumError, DataNotFoundError, load_mnist

MNIST_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
# shared/data/mnist/README.md
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def standard(mnist_dir):
    return load_mnist()  # found through MLPKIT_DATA


@pytest.fixture(scope="module")
def book(mnist_dir):
    return load_mnist(mnist_dir, split="book", download=False)


def test_standard_split_label_counts_and_shapes(standard):
    assert standard.name == "mnist" and standard.n_classes == 10 and standard.image_shape == (28, 28)
    assert standard.validation is None
    assert standard.train.X.shape == (60000, 784) and standard.test.X.shape == (10000, 784)
    assert standard.n_features == 784
    assert np.bincount(standard.train.y).tolist() == TRAIN_COUNTS
    assert np.bincount(standard.test.y).tolist() == TEST_COUNTS
    assert standard.test.y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_pixels_are_float32_scaled_to_unit_interval(standard):
    for split in (standard.train, standard.test):
        assert split.X.dtype == np.float32 and split.y.dtype == np.int64
        assert split.X.min() == 0.0 and split.X.max() == 1.0
    # X is the byte value / 255: the pixel sums of the official files (shared/data/mnist/README.md) come back.
    for split, total in ((standard.train, 1567298545), (standard.test, 264923200)):
        scaled = split.X * 255
        levels = np.rint(scaled)
        assert np.abs(scaled - levels).max() < 1e-4
        assert int(levels.sum(dtype=np.int64)) == total


def test_book_split_is_nielsens_50k_10k_10k(book, standard):
    assert len(book.train) == 50000 and len(book.validation) == 10000 and len(book.test) == 10000
    np.testing.assert_array_equal(book.validation.X, standard.train.X[50000:])
    np.testing.assert_array_equal(book.validation.y, standard.train.y[50000:])
    np.testing.assert_array_equal(book.train.y, standard.train.y[:50000])
    np.testing.assert_array_equal(book.train.X[:100], standard.train.X[:100])
    np.testing.assert_array_equal(book.test.y, standard.test.y)


def test_images_unflattened_in_float64(mnist_dir, standard):
    data = load_mnist(mnist_dir, flatten=False, dtype="float64", download=False)
    assert data.train.X.shape == (60000, 28, 28) and data.train.X.dtype == np.float64
    assert data.n_features == 784
    np.testing.assert_allclose(data.test.X.reshape(10000, 784), standard.test.X, rtol=1e-7, atol=0)
    assert data.test.X[0, 7, 6] == 84 / 255  # exact in float64


def test_shared_directory_is_only_read(mnist_dir, standard):
    # `standard` has been loaded from mnist_dir; nothing may have been added or touched there.
    before = {p.name: p.stat().st_mtime_ns for p in mnist_dir.iterdir()}
    load_mnist(mnist_dir, download=True, mirrors=["http://127.0.0.1:9/"])
    assert {p.name: p.stat().st_mtime_ns for p in mnist_dir.iterdir()} == before


def _link_mnist(src, dst, skip=()):
    dst.mkdir(parents=True, exist_ok=True)
    for name in MNIST_NAMES:
        if name not in skip:
            os.symlink(src / name, dst / name)


def test_uncompressed_files_are_accepted(mnist_dir, tmp_path, standard):
    _link_mnist(mnist_dir, tmp_path, skip=("t10k-labels-idx1-ubyte.gz",))
    raw = gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(raw)
    data = load_mnist(tmp_path, download=False)
    np.testing.assert_array_equal(data.test.y, standard.test.y)


def test_local_file_with_wrong_md5_is_refused(mnist_dir, tmp_path):
    _link_mnist(mnist_dir, tmp_path, skip=("train-labels-idx1-ubyte.gz",))
    data = bytearray((mnist_dir / "train-labels-idx1-ubyte.gz").read_bytes())
    data[100] ^= 0x01
    bad = tmp_path / "train-labels-idx1-ubyte.gz"
    bad.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="d53e105ee54ea40749a09fcbcd1e9432") as info:
        load_mnist(tmp_path, download=False)
    assert str(bad) in str(info.value) and "delete it" in str(info.value)


def test_incomplete_directory_is_skipped_for_a_complete_one(mnist_dir, tmp_path, monkeypatch):
    # MLPKIT_DATA holds only some of the files; the per-user cache holds all four.
    partial = tmp_path / "partial"
    _link_mnist(mnist_dir, partial, skip=("t10k-images-idx3-ubyte.gz",))
    cache = tmp_path / "cache"
    _link_mnist(mnist_dir, cache / "mlpkit" / "mnist")
    monkeypatch.setenv("MLPKIT_DATA", str(partial))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    data = load_mnist(download=False)
    assert np.bincount(data.test.y).tolist() == TEST_COUNTS


# ---- no data, no network: the message says where to put the files ----


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def empty_dirs(tmp_path, monkeypatch):
    data, cache = tmp_path / "data", tmp_path / "cache"
    data.mkdir()
    monkeypatch.setenv("MLPKIT_DATA", str(data))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return data, cache / "mlpkit" / "mnist"


def test_offline_without_data_names_the_directories(empty_dirs):
    data, cache = empty_dirs
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(download=False)
    message = str(info.value)
    assert str(data) in message and "MLPKIT_DATA" in message
    assert str(cache) in message and "per-user cache" in message
    for name in MNIST_NAMES:
        assert name in message
    assert list(data.iterdir()) == [] and not cache.exists()


def test_unreachable_mirror_names_directories_and_mirror(empty_dirs, monkeypatch):
    data, cache = empty_dirs
    target = data / "not-yet-created"
    monkeypatch.setenv("MLPKIT_DATA", str(target))
    port = _closed_port()
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(mirrors=[f"http://127.0.0.1:{port}/mnist"])
    message = str(info.value)
    assert f"http://127.0.0.1:{port}/mnist/" in message and "refused" in message.lower()
    assert str(target) in message and str(cache) in message
    assert list(data.iterdir()) == [] and not cache.exists()  # nothing written, not even a directory


def test_explicit_data_dir_is_the_only_place_looked(empty_dirs, tmp_path):
    target = tmp_path / "mine"
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(target, download=False)
    message = str(info.value)
    assert str(target) in message and "data_dir argument" in message and "MLPKIT_DATA environment" not in message


def test_user_cache_defaults_to_home(monkeypatch, tmp_path):
    monkeypatch.delenv("MLPKIT_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # invalid per the XDG spec: ignored
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(DataNotFoundError, match=str(tmp_path / ".cache" / "mlpkit" / "mnist")):
        load_mnist(download=False)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"split": "nielsen"}, ValueError, "split must be 'standard' or 'book'"),
        ({"flatten": 1}, TypeError, "flatten"),
        ({"download": "no"}, TypeError, "download"),
        ({"dtype": "int8"}, TypeError, "dtype"),
        ({"mirrors": ["ftp://example.org/"]}, ValueError, "http"),
        ({"mirrors": []}, TypeError, "non-empty list"),
        ({"data_dir": 3}, TypeError, "data_dir"),
    ],
)
def test_bad_arguments(empty_dirs, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_mnist(**kwargs)
