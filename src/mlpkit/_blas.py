"""In-place BLAS updates that NumPy does not expose: C <- beta C + alpha A B (GEMM) and y <- y + alpha A x
(GEMV), through SciPy's BLAS wrappers.

``np.matmul`` always writes a fresh product; GEMM's ``beta`` lets a plain gradient-descent step land in the
weights inside the product that computes the gradient (the fused step of :mod:`mlpkit.fast.plan`), which saves
writing the gradient out and reading it back for the update: a whole pass over the weights per step.

Layout: NumPy keeps a weight matrix W of shape (n_in, n_out) in row-major order, which is the column-major
(Fortran) matrix W^T that BLAS works on. So W <- beta W + alpha x^T dz is computed as
W^T <- beta W^T + alpha dz^T x, with every operand passed as a transposed view (Fortran-contiguous, so the
wrappers neither copy nor reorder anything).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import blas

_GEMM = {np.dtype(np.float32): blas.sgemm, np.dtype(np.float64): blas.dgemm}
_GEMV = {np.dtype(np.float32): blas.sgemv, np.dtype(np.float64): blas.dgemv}

_ones: dict[tuple[np.dtype, int], np.ndarray] = {}


def ones(rows: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of ``rows`` ones (1^T dz is a bias gradient as one BLAS product), cached."""
    key = (np.dtype(dtype), rows)
    vector = _ones.get(key)
    if vector is None:
        if len(_ones) >= 32:  # a handful of batch sizes is the norm; never let the cache grow without bound
            _ones.clear()
        vector = _ones[key] = np.ones(rows, dtype=dtype)
        vector.flags.writeable = False
    return vector


def add_outer_product(W: np.ndarray, x: np.ndarray, dz: np.ndarray, alpha: float, beta: float = 1.0) -> None:
    """W <- beta W + alpha x^T dz, in place, as one GEMM (x: (m, n_in), dz: (m, n_out), W: (n_in, n_out),
    all float32 or all float64)."""
    target = W.T
    # positional arguments: the wrapper parses keywords several times slower than a small product takes
    out = _GEMM[W.dtype](alpha, dz.T, x.T, beta, target, 0, 1, 1)
    if out is not target:  # the wrapper had to copy (W not C-contiguous): put the result back
        target[...] = out


def add_column_sums(b: np.ndarray, dz: np.ndarray, alpha: float) -> None:
    """b <- b + alpha 1^T dz (alpha times the column sums of dz), in place, as one GEMV."""
    out = _GEMV[b.dtype](alpha, dz.T, ones(dz.shape[0], dz.dtype), 1.0, b, 0, 1, 0, 1, 0, 1)
    if out is not b:
        b[...] = out
