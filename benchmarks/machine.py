"""What the speed figures ran on, and how fast this machine multiplies matrices.

``gemm_rate`` times ``A @ B`` with NumPy's BLAS (best of several calls, after a warm-up) and returns
GFLOP/s, counting 2 m k n floating-point operations per product.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np

from mlpkit.platform_info import available_cores, blas_description, cpu_features, cpu_name


def machine_lines() -> list[str]:
    cores = available_cores()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return [
        f"- CPU: {cpu_name()} ({cpu_features()}), {cores} cores available; load average at start {load}",
        f"- Python {platform.python_version()}, NumPy {np.__version__}; NumPy BLAS: {blas_description()}",
        f"- OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
        f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}",
    ]


def gemm_rate(m: int, k: int, n: int, dtype: str = "float32", repeats: int = 5) -> float:
    """GFLOP/s of (m, k) @ (k, n) in ``dtype``: the best of ``repeats`` timed groups of products."""
    rng = np.random.default_rng(0)
    a = rng.random((m, k)).astype(dtype)
    b = rng.random((k, n)).astype(dtype)
    out = np.empty((m, n), dtype=dtype)
    np.matmul(a, b, out=out)
    flops = 2.0 * m * k * n
    calls = max(1, int(2e9 / flops))  # about 2 GFLOP per timed group
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            np.matmul(a, b, out=out)
        best = min(best, (time.perf_counter() - start) / calls)
    return flops / best / 1e9


def write_results(path: str | Path, text: str) -> str:
    """Write a results file (creating its folder), echo it to stdout, and return the text."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(text)
    return text
