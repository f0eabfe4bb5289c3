"""MNIST (LeCun, Cortes & Burges): 70,000 28x28 handwritten digits, downloaded once and checked by md5.

Where the four files are looked for, in order:

1. the ``data_dir`` argument, if given (then only there);
2. otherwise the directory named by the ``MLPKIT_DATA`` environment variable, if set,
   then the per-user cache ``$XDG_CACHE_HOME/mlpkit/mnist`` (default ``~/.cache/mlpkit/mnist``).

The first directory that holds all four files (gzip-compressed as published, or uncompressed) is only read,
never written, so a read-only shared copy works. When none does and ``download`` is true, the missing files
are fetched from the public mirrors into the first directory of the list: each is streamed into a temporary
file, checked against the official md5 sum and only then renamed into place, so an interrupted or corrupt
download never leaves a file behind. Local files are checked against the same md5 sums on every load (this
catches, e.g., Fashion-MNIST, whose files have the same names).

The book split follows Nielsen's ``mnist.pkl.gz`` ("Neural Networks and Deep Learning", ch. 1,
``mnist_loader``): training = the first 50,000 official training images, validation = the last 10,000,
test = the official 10,000 test images.

The MNIST database is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, under CC BY-SA 3.0.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..validation import resolve_dtype
from .containers import Dataset, Split
from .download import check_mirrors, download_file, md5_of
from .errors import ChecksumError, DataNotFoundError
from .idx import parse_idx

__all__ = ["DEFAULT_MIRRORS", "load_mnist"]

DEFAULT_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://yann.lecun.com/exdb/mnist/",
)
ENV_VAR = "MLPKIT_DATA"
_BOOK_TRAIN_SIZE = 50_000


@dataclass(frozen=True)
class _File:
    """One of the four published files: its name without ``.gz``, and the official sums."""

    stem: str
    gz_md5: str
    gz_size: int
    raw_md5: str  # md5 of the uncompressed IDX bytes, for copies stored unzipped


_TRAIN_IMAGES = _File("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9_912_422,
                      "6bbc9ace898e44ae57da46a324031adb")
_TRAIN_LABELS = _File("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432", 28_881,
                      "a25bea736e30d166cdddb491f175f624")
_TEST_IMAGES = _File("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3", 1_648_877,
                     "2646ac647ad5339dbf082846283269ea")
_TEST_LABELS = _File("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c", 4_542,
                     "27ae3e4e09519cfbb04c329615203637")
_FILES = (_TRAIN_IMAGES, _TRAIN_LABELS, _TEST_IMAGES, _TEST_LABELS)


def _user_cache_dir() -> Path:
    # XDG Base Directory spec: a relative XDG_CACHE_HOME is invalid and must be ignored.
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "mlpkit" / "mnist"


def _candidate_dirs(data_dir: str | os.PathLike[str] | None) -> list[tuple[Path, str]]:
    """The directories to search, in order, each with a note saying where it came from."""
    if data_dir is not None:
        if not isinstance(data_dir, (str, os.PathLike)):
            raise TypeError(f"data_dir must be a path (str or os.PathLike) or None, got {type(data_dir).__name__}")
        return [(Path(data_dir).expanduser(), "data_dir argument")]
    dirs = []
    if env := os.environ.get(ENV_VAR):
        dirs.append((Path(env).expanduser(), f"{ENV_VAR} environment variable"))
    dirs.append((_user_cache_dir(), "per-user cache"))
    return dirs


def _locate(directory: Path) -> dict[_File, Path]:
    """The files of MNIST present in ``directory``, each as ``<stem>.gz`` or else as uncompressed ``<stem>``."""
    found = {}
    for spec in _FILES:
        for path in (directory / f"{spec.stem}.gz", directory / spec.stem):
            if path.is_file():
                found[spec] = path
                break
    return found


def _where_to_put(candidates: list[tuple[Path, str]]) -> str:
    looked = "\n".join(f"  {path}  ({origin})" for path, origin in candidates)
    names = ", ".join(f"{spec.stem}.gz" for spec in _FILES)
    return (
        f"Looked in:\n{looked}\n"
        f"Put the four MNIST files ({names}; gzip-compressed or not) into one of these directories, "
        f"or point {ENV_VAR} (or the data_dir argument) at a directory that holds them."
    )


def _fetch_missing(
    candidates: list[tuple[Path, str]], mirrors: tuple[str, ...]
) -> dict[_File, Path]:
    """Download the files missing from the first candidate directory into it."""
    target = candidates[0][0]
    found = _locate(target)
    for spec in _FILES:
        if spec in found:
            continue
        try:
            found[spec] = download_file(mirrors, f"{spec.stem}.gz", target, md5=spec.gz_md5, size=spec.gz_size)
        except DataNotFoundError as exc:
            raise DataNotFoundError(f"MNIST is not on this machine and {exc}\n{_where_to_put(candidates)}") from exc
        except ChecksumError as exc:
            raise ChecksumError(f"MNIST download failed: {exc}") from exc
        except OSError as exc:
            raise DataNotFoundError(
                f"MNIST is not on this machine and cannot be saved into {target}: {exc}\n"
                f"{_where_to_put(candidates)}"
            ) from exc
    return found


def _read_verified(path: Path, spec: _File) -> np.ndarray:
    data = path.read_bytes()
    compressed = data[:2] == b"\x1f\x8b"
    expected = spec.gz_md5 if compressed else spec.raw_md5
    if (actual := md5_of(data)) != expected:
        raise ChecksumError(
            f"{path}: md5 {actual} differs from the official MNIST {'.gz ' if compressed else ''}md5 {expected}. "
            "The file is corrupt or is not MNIST (Fashion-MNIST uses the same file names); delete it and call "
            "load_mnist again to download a fresh copy."
        )
    return parse_idx(data, name=str(path))


def load_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    split: str = "standard",
    flatten: bool = True,
    dtype: str | np.dtype = "float32",
    download: bool = True,
    mirrors: Sequence[str] | None = None,
) -> Dataset:
    """Load MNIST as a :class:`Dataset` with pixels scaled to [0, 1] and integer labels 0..9.

    Parameters
    ----------
    data_dir:
        Directory holding (or to receive) the four files. ``None``: ``$MLPKIT_DATA``, then the per-user
        cache (see the module docstring).
    split:
        ``"standard"``: 60,000 train, no validation, 10,000 test. ``"book"``: Nielsen's 50,000 train /
        10,000 validation (the last 10,000 official training images) / 10,000 test.
    flatten:
        ``True``: ``X`` has shape (m, 784), one image per row; ``False``: (m, 28, 28).
    dtype:
        ``"float32"`` (default) or ``"float64"`` for ``X``; labels are always ``int64``.
    download:
        Fetch missing files from ``mirrors`` (default :data:`DEFAULT_MIRRORS`, tried in order).

    Raises :class:`DataNotFoundError` when the files are absent and cannot be downloaded (the message lists
    the directories searched and where to put the files), :class:`ChecksumError` when a file's md5 is not
    the official one, and :class:`~mlpkit.datasets.idx.IDXFormatError` for a malformed file.
    """
    if split not in ("standard", "book"):
        raise ValueError(f"split must be 'standard' or 'book', got {split!r}")
    if not isinstance(flatten, bool):
        raise TypeError(f"flatten must be True or False, got {flatten!r}")
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False, got {download!r}")
    float_dtype = resolve_dtype(dtype)
    mirror_urls = check_mirrors(DEFAULT_MIRRORS if mirrors is None else mirrors)
    candidates = _candidate_dirs(data_dir)

    paths = next((found for d, _ in candidates if len(found := _locate(d)) == len(_FILES)), None)
    if paths is None:
        if not download:
            raise DataNotFoundError(f"MNIST files not found (download=False).\n{_where_to_put(candidates)}")
        paths = _fetch_missing(candidates, mirror_urls)

    def images(spec: _File) -> np.ndarray:
        raw = _read_verified(paths[spec], spec)
        X = raw.reshape(len(raw), -1) if flatten else raw
        X = X.astype(float_dtype)
        X /= 255
        return X

    def labels(spec: _File) -> np.ndarray:
        return _read_verified(paths[spec], spec).astype(np.int64)

    X_train, y_train = images(_TRAIN_IMAGES), labels(_TRAIN_LABELS)
    test = Split(images(_TEST_IMAGES), labels(_TEST_LABELS))
    if split == "book":
        n = _BOOK_TRAIN_SIZE
        train, validation = Split(X_train[:n], y_train[:n]), Split(X_train[n:], y_train[n:])
    else:
        train, validation = Split(X_train, y_train), None
    return Dataset(train=train, validation=validation, test=test, n_classes=10, name="mnist", image_shape=(28, 28))
