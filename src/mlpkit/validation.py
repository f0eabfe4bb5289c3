"""Boundary checks for user-supplied arrays and hyper-parameters.

Everything that comes from a user (arrays, labels, sizes, rates) passes through one of these functions
once, at the public entry point, so that a mistake is reported as a one-line ``ValueError``/``TypeError``
naming the argument and what was expected, instead of a broadcasting error deep inside the maths.
Internal calls trust their inputs.
"""

from __future__ import annotations

import numbers

import numpy as np

FLOAT_DTYPES = {"float32": np.float32, "float64": np.float64}


def resolve_dtype(dtype: object) -> np.dtype:
    """Return ``np.float32`` or ``np.float64`` for a user's dtype spelling; refuse anything else."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be 'float32' or 'float64', got {dtype!r}") from exc
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be 'float32' or 'float64', got {resolved.name!r}")
    return resolved


def check_positive_int(value: object, name: str) -> int:
    """``value`` as an ``int`` > 0, or a clear error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r} ({type(value).__name__})")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def check_positive_float(value: object, name: str, *, allow_zero: bool = False) -> float:
    """``value`` as a finite ``float`` > 0 (or >= 0 with ``allow_zero``), or a clear error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    bound_ok = value >= 0 if allow_zero else value > 0
    if not np.isfinite(value) or not bound_ok:
        expected = "a finite number >= 0" if allow_zero else "a finite number > 0"
        raise ValueError(f"{name} must be {expected}, got {value}")
    return value


def all_finite(arr: np.ndarray) -> bool:
    """True when no entry of the float array is NaN or infinite.

    One pass and no temporary: a sum is finite only if every term is (an infinity or a NaN makes it
    infinite or NaN). A sum that overflows although every entry is finite is re-checked entry by entry.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(arr, axis=None)):
            return True
    return bool(np.isfinite(arr).all())


def check_features(X: object, name: str = "X", *, n_features: int | None = None, dtype=np.float32) -> np.ndarray:
    """Validate a 2-D design matrix of shape (m, n_features) and return it as a C-contiguous ``dtype`` array.

    Refuses: non-numeric data, a number of dimensions other than 2, zero rows, a feature count that differs
    from ``n_features``, and NaN or infinite entries.
    """
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape (n_samples, n_features): {exc}") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D with shape (n_samples, n_features), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has 0 samples (shape {arr.shape})")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name} has {arr.shape[1]} features per sample but the network expects {n_features}")
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not all_finite(arr):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); clean or impute them first")
    return arr


def one_hot(labels: object, n_classes: int, dtype=np.float32) -> np.ndarray:
    """One-hot encode integer class labels 0..n_classes-1 into an (m, n_classes) array."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D integer classes, got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1}, got values from {labels.min()} to {labels.max()}"
        )
    out = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels.astype(np.intp)] = 1
    return out


def check_targets(y: object, n_samples: int, n_outputs: int, name: str = "y", dtype=np.float32) -> np.ndarray:
    """Turn targets into an (m, n_outputs) float array.

    Accepts integer class labels of shape (m,) (one-hot encoded here; needs ``n_outputs`` >= 2, or
    ``n_outputs`` == 1 for 0/1 labels of a single sigmoid output) or an array of shape (m, n_outputs) of
    one-hot rows, probabilities or regression targets. Rows must match ``n_samples``.
    """
    try:
        arr = np.asarray(y)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array: {exc}") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{name} must be numeric (integer classes or an (m, {n_outputs}) array), got {arr.dtype}")
    if arr.shape[:1] != (n_samples,):
        raise ValueError(f"{name} has {arr.shape[0] if arr.ndim else 0} rows but X has {n_samples} samples")
    if arr.ndim == 1:
        if np.issubdtype(arr.dtype, np.floating):
            if not np.isfinite(arr).all() or not np.array_equal(arr, np.round(arr)):
                raise ValueError(f"{name} as a 1-D array must hold integer class labels, got non-integer values")
        if n_outputs == 1:
            if arr.size and (arr.min() < 0 or arr.max() > 1):
                raise ValueError(f"{name} must be 0/1 for a network with one output, got {arr.min()}..{arr.max()}")
            return arr.astype(dtype).reshape(-1, 1)
        return one_hot(arr.astype(np.int64), n_outputs, dtype=dtype)
    if arr.ndim != 2 or arr.shape[1] != n_outputs:
        raise ValueError(
            f"{name} must be integer classes of shape ({n_samples},) or an array of shape "
            f"({n_samples}, {n_outputs}), got shape {arr.shape}"
        )
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr
