"""What a measurement ran on: the CPU, its vector extensions, the BLAS NumPy uses (via threadpoolctl).

Every timing and result file of benchmarks/ and experiments/ records this, so a figure can be traced to
its machine.
"""

from __future__ import annotations

import os
import platform

import numpy as np


def _cpuinfo_field(name: str) -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(name):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_name() -> str:
    """The CPU model ("AMD EPYC ..."), or what the platform module knows."""
    return _cpuinfo_field("model name") or platform.processor() or platform.machine()


def cpu_features() -> str:
    """The SIMD extensions that matter for BLAS kernels (avx, avx2, fma, avx512f), as far as known."""
    flags = (_cpuinfo_field("flags") or "").split()
    return " ".join(f for f in ("avx", "avx2", "fma", "avx512f") if f in flags) or "unknown"


def available_cores() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def blas_description() -> str:
    """NumPy's BLAS libraries: name, version, kernel architecture and thread count of each."""
    from threadpoolctl import threadpool_info

    infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(f"{i['internal_api']} {i.get('version')} ({i.get('architecture')}), "
                     f"{i['num_threads']} threads" for i in infos) or "none found"


def describe() -> str:
    """One line: CPU, cores, Python, NumPy and BLAS."""
    return (f"{cpu_name()} ({cpu_features()}), {available_cores()} cores; Python {platform.python_version()}, "
            f"NumPy {np.__version__}; BLAS {blas_description()}")
