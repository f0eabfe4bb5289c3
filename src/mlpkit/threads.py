"""How many BLAS threads a training run uses.

A mini-batch step is a handful of matrix products of shape (batch, n_in) x (n_in, n_out). Small products
are dominated by waking and synchronizing BLAS worker threads: on a 2-core machine OpenBLAS with 2 threads
ran a [784, 30, 10] step at batch 32 several times *slower* than with one (see benchmarks/results/speed.md),
and any other process on the machine makes it far worse, because every product waits for the slowest
thread. Large products (a [784, 800, 800, 10] network at batch 512) do gain from every core.

``"auto"`` therefore runs training single-threaded when the largest product of a step is below
``SMALL_STEP_MACS`` multiply-adds. Above it, it uses the cores that are not busy: BLAS threads wait for
each other at the end of every product, so one thread that shares its core with another process slows
all of them (on the shared 2-core test machine, a 2-thread [784, 800, 800, 10] step at batch 512 ran three
times slower than a 1-thread one while another process ran). The number of busy cores is read from the
1-minute load average, counting this process as one of them; "auto" never raises the count above the
current setting (a worker of a process pool limited to one thread stays at one). An integer pins the count; None leaves
everything as it is. The limit applies only to the training steps of ``fit`` (threadpoolctl restores the
previous setting after each epoch's steps).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

    from .network import Network

#: below this many multiply-adds in the largest matrix product of a step, one BLAS thread is faster
SMALL_STEP_MACS = 1 << 24

_controller: ThreadpoolController | None = None  # created on first use (it scans the loaded libraries)


def largest_step_product(network: Network, batch_size: int) -> int:
    """Multiply-adds of the largest matrix product in one training step: batch x n_in x n_out."""
    return max((batch_size * layer.n_in * layer.n_out for layer in network.layers if "W" in layer.params),
               default=0)


def available_cores() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def idle_cores(cores: int, load: float) -> int:
    """Cores not taken by other processes: ``cores`` minus the 1-minute ``load`` beyond this process's own
    share (one core), rounded to the nearest whole core, at least 1."""
    return max(1, min(cores, round(cores - max(0.0, load - 1.0))))


def resolve_blas_threads(policy: int | str | None, network: Network, batch_size: int) -> int | None:
    """The thread count ``policy`` asks for with this network and batch size (None: leave BLAS alone)."""
    if policy is None:
        return None
    if policy == "auto":
        if largest_step_product(network, batch_size) < SMALL_STEP_MACS:
            return 1
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        current = current_blas_threads()
        wanted = idle_cores(available_cores(), load)
        return None if current is None or wanted >= current else wanted
    if isinstance(policy, bool) or not isinstance(policy, int) or policy < 1:
        raise ValueError(f"blas_threads must be 'auto', None or a positive int, got {policy!r}")
    return policy


def _get_controller() -> ThreadpoolController:
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


def current_blas_threads() -> int | None:
    """The largest thread count among the BLAS libraries loaded (None when threadpoolctl finds none)."""
    counts = [info["num_threads"] for info in _get_controller().info() if info.get("user_api") == "blas"]
    return max(counts, default=None)


@contextlib.contextmanager
def limit_blas_threads(count: int | None) -> Iterator[None]:
    """Limit the BLAS libraries loaded in this process to ``count`` threads inside the block (no-op for None,
    or when threadpoolctl cannot find a BLAS it knows)."""
    if count is None:
        yield
        return
    with _get_controller().limit(limits=count, user_api="blas"):
        yield
