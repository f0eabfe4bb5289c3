"""The embedded default data set: 1,797 8x8 handwritten digits, no download needed.

Data: "Optical Recognition of Handwritten Digits", E. Alpaydin and C. Kaynak, UCI Machine Learning
Repository (CC BY 4.0), in the form scikit-learn bundles as ``sklearn.datasets.load_digits``. Each pixel is
the count of set bits in a 4x4 block of a 32x32 bitmap, an integer 0..16. The package ships it as
``digits.npz`` (uint8 ``images`` (1797, 64) and ``labels`` (1797,)), made by ``scripts/make_digits_npz.py``.
"""

from __future__ import annotations

import numbers
from importlib import resources

import numpy as np

from ..validation import resolve_dtype
from .containers import Dataset
from .errors import DataNotFoundError
from .splits import split_dataset

__all__ = ["load_digits"]

_N_EXAMPLES = 1797
_MAX_PIXEL = 16


def _read_embedded() -> tuple[np.ndarray, np.ndarray]:
    resource = resources.files(__package__).joinpath("digits.npz")
    try:
        with resource.open("rb") as f, np.load(f, allow_pickle=False) as npz:
            return npz["images"], npz["labels"]
    except FileNotFoundError as exc:
        raise DataNotFoundError(
            f"the embedded digits data ({resource}) is missing: the mlpkit installation is incomplete; "
            "reinstall mlpkit"
        ) from exc


def _count(size: object, name: str, n: int) -> int:
    """A part size given as a fraction of ``n`` (float in [0, 1)) or as a number of examples (int)."""
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise TypeError(f"{name} must be a fraction in [0, 1) or a number of examples, got {size!r}")
    if isinstance(size, numbers.Integral):
        count = int(size)
    elif 0 <= size < 1:
        count = round(float(size) * n)
    else:
        raise ValueError(f"{name} as a fraction must lie in [0, 1), got {size!r}")
    if count < 0:
        raise ValueError(f"{name} must not be negative, got {size!r}")
    return count


def load_digits(
    *,
    validation_size: float | int = 0.2,
    test_size: float | int = 0.2,
    seed: int | np.random.Generator | None = 0,
    stratify: bool = True,
    flatten: bool = True,
    dtype: str | np.dtype = "float32",
) -> Dataset:
    """Load the embedded 8x8 digits as a :class:`Dataset`, pixels scaled to [0, 1] (divided by 16).

    The 1,797 examples are split (seeded, stratified by default) into train / validation / test; sizes
    are fractions of the whole (default 60 / 20 / 20) or example counts. ``validation_size=0`` gives no
    validation split (``validation`` is ``None``); the test split must not be empty. ``flatten=False``
    keeps images as (m, 8, 8).
    """
    if not isinstance(flatten, bool):
        raise TypeError(f"flatten must be True or False, got {flatten!r}")
    float_dtype = resolve_dtype(dtype)
    n_val = _count(validation_size, "validation_size", _N_EXAMPLES)
    n_test = _count(test_size, "test_size", _N_EXAMPLES)
    if n_test == 0:
        raise ValueError(f"test_size={test_size!r} leaves the test split empty")
    n_train = _N_EXAMPLES - n_val - n_test
    if n_train <= 0:
        raise ValueError(
            f"validation_size={validation_size!r} and test_size={test_size!r} leave no training examples "
            f"out of {_N_EXAMPLES}"
        )

    images, labels = _read_embedded()
    X = images.astype(float_dtype)
    X /= _MAX_PIXEL
    if not flatten:
        X = X.reshape(-1, 8, 8)
    sizes = [n_train, n_val, n_test] if n_val else [n_train, n_test]
    parts = split_dataset(X, labels.astype(np.int64), sizes=sizes, seed=seed, stratify=stratify)
    train, test = parts[0], parts[-1]
    validation = parts[1] if n_val else None
    return Dataset(train=train, validation=validation, test=test, n_classes=10, name="digits", image_shape=(8, 8))
