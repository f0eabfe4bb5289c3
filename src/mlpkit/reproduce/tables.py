"""What the book's and the course's tables share: the process pool that runs (configuration, seed) pairs, mean ±
spread over seeds, the machine line of a results file, the notes section and writing the file.

Runs are independent, so they execute in a process pool, one BLAS thread per process (their matrices are small:
more threads per process would only compete for the cores).
"""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .._atomic import atomic_write_bytes
from ..platform_info import available_cores, cpu_name

R = TypeVar("R")


def _single_threaded_worker() -> None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1)


def run_pool(function: Callable[..., R], tasks: Sequence[tuple[Any, ...]], jobs: int | None = None) -> list[R]:
    """``function(*task)`` for every task, in ``jobs`` processes (default: all cores; 1 runs them here), in order."""
    jobs = jobs or os.cpu_count() or 1
    if jobs == 1:
        return [function(*task) for task in tasks]
    with ProcessPoolExecutor(max_workers=jobs, initializer=_single_threaded_worker) as pool:
        futures = [pool.submit(function, *task) for task in tasks]
        return [f.result() for f in futures]


def mean_spread(values: Sequence[float]) -> str:
    """``"mean ± sample standard deviation"`` with two decimals (just the value for one seed)."""
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def group_by_run(results: Iterable[R]) -> dict[str, list[R]]:
    """Results grouped by their configuration's name (``result.run.name``), in the order first seen."""
    groups: dict[str, list[R]] = {}
    for result in results:
        groups.setdefault(result.run.name, []).append(result)  # type: ignore[attr-defined]
    return groups


def machine_line(precision: str) -> str:
    """The results file's ``- machine: ...`` line: hardware, Python, NumPy, the float type and the thread count."""
    return (f"- machine: {platform.machine()} {cpu_name()}, {available_cores()} cores, "
            f"Python {platform.python_version()}, NumPy {np.__version__}; {precision}; one BLAS thread per run")


def notes_section(title: str, notes: Sequence[str]) -> list[str]:
    """A ``## title`` section listing ``notes`` (nothing when there are none)."""
    return ["", f"## {title}", "", *notes] if notes else []


def write_markdown(text: str, path: str | Path) -> Path:
    """Write ``text`` to ``path`` (to a temporary name, then renamed), creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(path, text.encode("utf-8"))
