"""How many BLAS threads the steps of a training run use.

A mini-batch step is a handful of matrix products of shape (batch, n_in) x (n_in, n_out). Three facts,
measured by ``benchmarks/bench_step.py`` and ``benchmarks/bench_speed.py`` (their results, with the machine
they ran on, are in ``benchmarks/results/``), shape the policy:

- When the largest product is small (below ``SMALL_STEP_MACS`` = 2^20 multiply-adds: [784, 30, 10] at
  batches of 10 or 32), a second thread has almost nothing to share and adds the cost of waking it and
  waiting for it after every product; on a machine where something else runs, every product then waits
  for the thread that lost its core. Such steps run on one thread. Larger steps gain from every core and
  are left alone.
- A plain-SGD step fused into the weight-gradient product (:mod:`mlpkit.fast.plan`) runs that product
  through SciPy's BLAS, which in a pip install is a second BLAS library next to NumPy's. Both libraries on
  several threads fight over the cores (their idle workers spin while the other computes), so a fused
  step must not run that way.
- Fused, a small batch gains most: writing the weight gradient out and reading it back for the update
  costs as much as the products themselves. There are two ways to fuse without the fight: one thread for
  everything, or "split": SciPy's BLAS on one thread has no worker threads (it computes in the calling
  thread), so NumPy's BLAS keeps every core for the forward and dL/dx products while the fused update runs
  on one. The split pays where the products after the first layer are large (the hidden-to-hidden products
  of [784, 800, 800, 10]); with one hidden layer NumPy runs only the first forward product on several
  threads, and one thread for everything is the better choice.

So ``blas_threads="auto"`` (the default of ``fit``) uses one thread for small steps; for a fusable step it
splits when a product after the first layer has at least ``SPLIT_MIN_MACS`` = 2^22 multiply-adds and the
batch has at most ``SPLIT_MAX_BATCH`` = 64 examples, else uses one thread up to ``FUSED_SGD_MAX_BATCH`` = 32
examples; otherwise it leaves the BLAS alone. An integer pins the count, ``"split"`` asks for the split
(one thread where SciPy and NumPy share one library, as in conda, since there is only one pool then),
None leaves everything as it is. The limit applies only to the training steps of ``fit`` (threadpoolctl
restores the previous setting after each epoch's steps), and it only ever lowers the count.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

    from ..network import Network

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
    of the fused SGD update, :mod:`mlpkit._blas`); empty when SciPy uses NumPy's library or none is found."""
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
