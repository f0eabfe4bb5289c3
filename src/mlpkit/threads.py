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
SciPy's BLAS, which is a second BLAS library next to NumPy's in a pip install) must not run with both
libraries on two threads: their idle worker threads spin while the other library computes, and they fight
over two cores (in trials such a step was much slower than the unfused one on two threads). Fused, it beats
the unfused step on two threads while the batch is small, when writing the weight gradient out and reading
it back for the update costs as much as the products themselves. Two ways to fuse without the fight:

- one thread for everything;
- "split": SciPy's BLAS on one thread has no workers (it computes in the calling thread), so NumPy's BLAS
  keeps every core for the forward and dL/dx products while the fused update runs on one. It pays where
  NumPy's products after the first layer are large (the hidden-to-hidden products of [784, 800, 800, 10]);
  with one hidden layer NumPy runs only the first forward product on two threads.

On the development machine (2 cores, ``benchmarks/bench_step.py``, results in
``benchmarks/results/step.md``; runs vary by 10-20%), against two threads with the update unfused:
[784, 800, 800, 10] took 0.60x / 0.82x / 0.92x / 1.06x / 1.10x split at batch 10 / 32 / 64 / 96 / 128,
and 0.67x / 0.83x / 1.19x / 1.40x / 1.26x on one thread; [784, 100, 10] at 32 took 0.97x on one thread
and 1.11x split, from 128 on 1.15-1.41x either way. So "auto" splits a fusable step when the largest
product after the first layer has at least ``SPLIT_MIN_MACS`` = 2^22 multiply-adds and the batch has at
most ``SPLIT_MAX_BATCH`` = 64 examples, else gives it one thread up to ``FUSED_SGD_MAX_BATCH`` = 32
examples. The split needs SciPy's own BLAS library next to NumPy's (pip wheels); where both use one library
(e.g. conda) there is only one pool, and "split" falls back to one thread.

``blas_threads="auto"`` (the default of ``fit``) therefore uses one thread for small steps, splits or uses
one thread for small fusable batches, and does not touch the BLAS setting otherwise; an integer pins the
count; ``"split"`` asks for the split; None leaves everything as it is. The limit applies only to the
training steps of ``fit`` (threadpoolctl restores the previous setting after each epoch's steps), and it
only ever lowers the count.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

    from .network import Network

#: below this many multiply-adds in the largest matrix product of a step, one BLAS thread is used
SMALL_STEP_MACS = 1 << 20
#: plain-SGD steps that can be fused into the backward pass use one thread up to this batch size
FUSED_SGD_MAX_BATCH = 32
#: the "split" setting: NumPy's BLAS on its threads, the fused update (SciPy's BLAS) on one
SPLIT = "split"
#: "auto" splits a fusable step when a product after the first layer has at least this many multiply-adds...
SPLIT_MIN_MACS = 1 << 22
#: ... and the batch has at most this many examples
SPLIT_MAX_BATCH = 64

ThreadSetting = int | Literal["split"] | None

_controller: ThreadpoolController | None = None  # created on first use (it scans the loaded libraries)


def _products(network: Network, batch_size: int) -> list[int]:
    """Multiply-adds of each layer's forward product, batch x n_in x n_out, in layer order."""
    return [batch_size * layer.n_in * layer.n_out for layer in network.layers if "W" in layer.params]


def largest_step_product(network: Network, batch_size: int) -> int:
    """Multiply-adds of the largest matrix product in one training step: batch x n_in x n_out."""
    return max(_products(network, batch_size), default=0)


def largest_later_product(network: Network, batch_size: int) -> int:
    """The largest product of the layers after the first (those whose dL/dx products NumPy also runs)."""
    return max(_products(network, batch_size)[1:], default=0)


def resolve_blas_threads(policy: int | str | None, network: Network, batch_size: int,
                         fusable: bool = False) -> ThreadSetting:
    """The thread setting ``policy`` asks for with this network and batch size: a count, ``"split"``, or
    None (leave BLAS alone); ``fusable``: the steps are plain SGD that the network can fuse into its
    backward pass."""
    if policy is None:
        return None
    if policy == "auto":
        if largest_step_product(network, batch_size) < SMALL_STEP_MACS:
            return 1
        if not fusable:
            return None
        if (batch_size <= SPLIT_MAX_BATCH and largest_later_product(network, batch_size) >= SPLIT_MIN_MACS
                and update_blas_libraries()):
            return SPLIT
        return 1 if batch_size <= FUSED_SGD_MAX_BATCH else None
    if policy == SPLIT:
        return SPLIT if update_blas_libraries() else 1
    if isinstance(policy, bool) or not isinstance(policy, int) or policy < 1:
        raise ValueError(f"blas_threads must be 'auto', 'split', None or a positive int, got {policy!r}")
    return policy


def _get_controller() -> ThreadpoolController:
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


def update_blas_libraries() -> list:
    """threadpoolctl's controllers of the BLAS that SciPy ships in its own wheel, next to NumPy's (the library
    of the fused SGD update, ``mlpkit._blas``); empty when SciPy uses NumPy's library or none is found."""
    import scipy

    root = Path(scipy.__file__).resolve().parent
    homes = (root, root.with_name(root.name + ".libs"))
    return [lib for lib in _get_controller().select(user_api="blas").lib_controllers
            if any(Path(lib.filepath).resolve().is_relative_to(home) for home in homes)]


@contextlib.contextmanager
def limit_blas_threads(setting: ThreadSetting) -> Iterator[None]:
    """Limit the BLAS libraries loaded in this process inside the block: to ``setting`` threads, or, for
    ``"split"``, only SciPy's own library to one (no-op for None, or when threadpoolctl cannot find a BLAS
    it knows)."""
    if setting is None:
        yield
        return
    controller = _get_controller()
    if setting == SPLIT:
        paths = [lib.filepath for lib in update_blas_libraries()]
        if not paths:
            yield
            return
        with controller.select(filepath=paths).limit(limits=1):
            yield
        return
    with controller.limit(limits=setting, user_api="blas"):
        yield


def blas_thread_count() -> int:
    """The largest thread count of the BLAS libraries loaded in this process right now (1 when
    threadpoolctl finds none it knows: then there is no BLAS thread pool to fight over)."""
    return max((lib.num_threads for lib in _get_controller().select(user_api="blas").lib_controllers), default=1)
