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


def check_bool(value: object, name: str) -> bool:
    """``value`` as a ``bool`` (Python's or NumPy's), or a TypeError naming ``name``: a string such as "no" or
    a number would otherwise count as its truth value."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def check_seed(seed: object, name: str = "seed") -> int | np.random.Generator | None:
    """``seed`` as given when it is None, an integer >= 0 or a ``numpy.random.Generator`` (the kinds
    ``numpy.random.default_rng`` takes that keep a run repeatable), else a one-line error naming ``name``:
    NumPy's own ("expected non-negative integer", "SeedSequence expects int...") does not say which argument."""
    expected = f"{name} must be a non-negative integer or a numpy.random.Generator, got {seed!r}"
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{expected} ({type(seed).__name__})")
    if seed < 0:
        raise ValueError(expected)
    return int(seed)


def is_real_dtype(dtype: np.dtype) -> bool:
    """True for the dtypes a network computes with after a cast: bool, integers and real floats (not complex,
    whose imaginary part a cast would drop silently, nor object, strings, dates)."""
    return dtype == np.bool_ or np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)


def real_array(values: object, name: str, expected: str = "") -> np.ndarray:
    """``np.asarray(values)`` when its dtype is real numbers or bool (:func:`is_real_dtype`), else a one-line
    TypeError naming ``name`` (``expected`` describes the wanted shape in the message)."""
    what = f"{name} must be a real-valued numeric array{' ' + expected if expected else ''}"
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError) as exc:  # ragged nested lists, objects NumPy cannot read
        raise TypeError(f"{what}: {' '.join(str(exc).split())}") from exc
    if not is_real_dtype(arr.dtype):
        hint = " (complex values: pass the real part or the magnitude explicitly)" if arr.dtype.kind == "c" else ""
        raise TypeError(f"{what}, got dtype {arr.dtype}{hint}")
    return arr


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
    arr = real_array(X, name, "of shape (n_samples, n_features)")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D with shape (n_samples, n_features), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has 0 samples (shape {arr.shape})")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name} has {arr.shape[1]} features per sample but the network expects {n_features}")
    given = arr
    with np.errstate(over="ignore"):
        arr = np.ascontiguousarray(arr, dtype=dtype)
    if not all_finite(arr):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        if given.dtype != arr.dtype and np.isfinite(given).all():
            raise ValueError(f"{name} has {bad} value(s) beyond the range of {np.dtype(dtype).name} (largest "
                             f"magnitude {np.abs(given).max():g}); rescale them or use dtype float64")
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); clean or impute them first")
    return arr


def is_sparse(X: object) -> bool:
    """True for a scipy.sparse matrix or array (recognized by its methods; scipy is not imported)."""
    return hasattr(X, "tocsr") and hasattr(X, "nnz") and hasattr(X, "shape")


def check_sparse_features(X: object, name: str = "X", *, n_features: int | None = None, dtype=np.float32):
    """Validate a scipy.sparse design matrix (CSR, CSC, COO...) and return it as CSR in ``dtype`` with sorted
    indices: 2-D, at least one row, ``n_features`` columns when given, finite stored values. Rows are
    densified later, a mini-batch or an inference chunk at a time (:func:`dense_rows`)."""
    if len(X.shape) != 2:
        raise ValueError(f"{name} must be 2-D with shape (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has 0 samples (shape {X.shape})")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name} has {X.shape[1]} features, the network expects {n_features}")
    if not is_real_dtype(X.dtype):
        raise TypeError(f"{name} must be a real-valued numeric sparse matrix, got dtype {X.dtype}")
    csr = X.tocsr().astype(dtype, copy=False)
    if csr is X:
        csr = csr.copy()
    csr.sum_duplicates()
    csr.sort_indices()
    if not np.isfinite(csr.data).all():
        bad = int(np.count_nonzero(~np.isfinite(csr.data)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); clean or impute them first")
    return csr


def check_inputs(X: object, name: str = "X", *, n_features: int | None = None, dtype=np.float32):
    """:func:`check_features` for a dense X, :func:`check_sparse_features` for a scipy.sparse one."""
    if is_sparse(X):
        return check_sparse_features(X, name, n_features=n_features, dtype=dtype)
    return check_features(X, name, n_features=n_features, dtype=dtype)


def dense_rows(X, start: int, stop: int) -> np.ndarray:
    """Rows start:stop of a checked input as a dense C-contiguous array (a view for a dense X)."""
    if is_sparse(X):
        return X[start:stop].toarray()
    return X[start:stop]


def one_hot(labels: object, n_classes: int, dtype=np.float32, name: str = "labels") -> np.ndarray:
    """One-hot encode integer class labels 0..n_classes-1 into an (m, n_classes) array; ``name`` is the
    argument the labels came from, for the error messages."""
    labels = real_array(labels, name, "of integer class labels")
    if labels.ndim != 1:
        raise ValueError(f"{name} must be 1-D integer classes, got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"{name}: labels must lie in 0..{n_classes - 1}, got values from {labels.min()} to {labels.max()}"
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
    arr = real_array(y, name, f"(integer classes or an (m, {n_outputs}) array)")
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
        return one_hot(arr.astype(np.int64), n_outputs, dtype=dtype, name=name)
    if arr.ndim != 2 or arr.shape[1] != n_outputs:
        raise ValueError(
            f"{name} must be integer classes of shape ({n_samples},) or an array of shape "
            f"({n_samples}, {n_outputs}), got shape {arr.shape}"
        )
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr
