"""How many BLAS threads a training run uses.

A mini-batch step is a handful of matrix products of shape (batch, n_in) x (n_in, n_out). When the largest
of them is small (below ``SMALL_STEP_MACS`` = 2^20 multiply-adds: [784, 30, 10] at batches of 10 or 32,
[784, 100, 10] at 10), a second BLAS thread has almost nothing to share and only adds the cost of waking it
and waiting for it at the end of every product. On a quiet 2-core machine that is a wash (within a few
percent either way); when anything else runs on the machine it is a disaster, because every product waits
for the thread that lost its core: on the shared development machine a [784, 100, 10] step at batch 10
took 0.5 ms with one thread and 20 ms with two (see benchmarks/results/speed.md for the quiet-machine
figures). Larger steps gain from every core (1.3-1.6x with two at batch 128-512), so they are left alone.

A plain-SGD step that ``fit`` applies inside the weight-gradient product (``Dense.backward_sgd``, through
SciPy's BLAS, which is a second BLAS library next to NumPy's in a pip install) needs one thread: two
libraries whose idle worker threads spin while the other one computes fight over two cores (in trials such
a step was much slower than the unfused one on two threads, so fit never fuses on more than one). Fused on
one thread, it beats the unfused step on two while the batch is small, when writing the weight gradient
out and reading it back for the update costs as much as the products themselves. On the development
machine (2 cores, ``benchmarks/bench_step.py``, results in ``benchmarks/results/step.md``; runs vary by
10-20%) one fused thread took 0.88x the two-thread time for [784, 800, 800, 10] at batch 10 and 0.85-0.97x
at 32 (also [784, 100, 10]), and 1.2-1.4x from 64 on (one exception in that run: [784, 100, 10] at 128,
0.90x). So "auto" gives such steps one thread up to ``FUSED_SGD_MAX_BATCH`` = 32 examples.

``blas_threads="auto"`` (the default of ``fit``) therefore uses one thread for small steps and does not
touch the BLAS setting otherwise; an integer pins the count; None leaves everything as it is. The limit
applies only to the training steps of ``fit`` (threadpoolctl restores the previous setting after each
epoch's steps), and it only ever lowers the count.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

    from .network import Network

#: below this many multiply-adds in the largest matrix product of a step, one BLAS thread is used
SMALL_STEP_MACS = 1 << 20
#: plain-SGD steps that can be fused into the backward pass use one thread up to this batch size
FUSED_SGD_MAX_BATCH = 32

_controller: ThreadpoolController | None = None  # created on first use (it scans the loaded libraries)


def largest_step_product(network: Network, batch_size: int) -> int:
    """Multiply-adds of the largest matrix product in one training step: batch x n_in x n_out."""
    return max((batch_size * layer.n_in * layer.n_out for layer in network.layers if "W" in layer.params),
               default=0)


def resolve_blas_threads(policy: int | str | None, network: Network, batch_size: int,
                         fusable: bool = False) -> int | None:
    """The thread count ``policy`` asks for with this network and batch size (None: leave BLAS alone);
    ``fusable``: the steps are plain SGD that the network can fuse into its backward pass."""
    if policy is None:
        return None
    if policy == "auto":
        small = largest_step_product(network, batch_size) < SMALL_STEP_MACS
        return 1 if small or (fusable and batch_size <= FUSED_SGD_MAX_BATCH) else None
    if isinstance(policy, bool) or not isinstance(policy, int) or policy < 1:
        raise ValueError(f"blas_threads must be 'auto', None or a positive int, got {policy!r}")
    return policy


def _get_controller() -> ThreadpoolController:
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


@contextlib.contextmanager
def limit_blas_threads(count: int | None) -> Iterator[None]:
    """Limit the BLAS libraries loaded in this process to ``count`` threads inside the block (no-op for None,
    or when threadpoolctl cannot find a BLAS it knows)."""
    if count is None:
        yield
        return
    with _get_controller().limit(limits=count, user_api="blas"):
        yield


def blas_thread_count() -> int:
    """The largest thread count of the BLAS libraries loaded in this process right now (1 when
    threadpoolctl finds none it knows: then there is no BLAS thread pool to fight over)."""
    return max((lib.num_threads for lib in _get_controller().select(user_api="blas").lib_controllers), default=1)
