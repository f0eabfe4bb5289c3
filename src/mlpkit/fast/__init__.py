"""The fast path of training, and the BLAS thread policy beside it.

``Network.train_batch`` is the reference step: ``compute_gradients`` layer by layer, then
``optimizer.step``. ``fit`` asks :func:`choose_steps` once per run how to take its steps instead:

- through a :class:`~mlpkit.fast.plan.DenseStackPlan` when the network's layers with parameters are all
  Dense (the same operations as the reference step without the per-step bookkeeping: bit-identical), else
  through the reference step;
- with how many BLAS threads (:mod:`mlpkit.fast.threads`);
- and whether plain SGD is fused into the plan's backward products (only where those threads allow it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .plan import DenseStackPlan
from .threads import SPLIT, ThreadSetting, blas_thread_count, limit_blas_threads, resolve_blas_threads

if TYPE_CHECKING:
    from ..network import Network
    from ..optimizers import Optimizer

__all__ = ["DenseStackPlan", "Steps", "choose_steps", "limit_blas_threads"]


@dataclass(frozen=True)
class Steps:
    """How the steps of one run are taken: ``step(X, Y, n_train, W=None)`` on a trusted mini-batch (``W``: row
    weights or None; overflow ignored by the caller), under ``limit_blas_threads(threads)``; ``planned``:
    through a step plan; ``fused``: plain SGD applied inside the backward products."""

    step: Callable[..., None]
    threads: ThreadSetting
    planned: bool
    fused: bool


def choose_steps(network: Network, optimizer: Optimizer, batch_size: int,
                 blas_threads: int | str | None = "auto") -> Steps:
    """Decide, for a run of ``network`` with ``optimizer`` at ``batch_size``, the step, its BLAS threads
    (``blas_threads``: see :func:`~mlpkit.fast.threads.resolve_blas_threads`) and whether it is fused."""
    planned = DenseStackPlan.applies_to(network)
    fusable = planned and optimizer.plain_sgd
    threads = resolve_blas_threads(blas_threads, network, batch_size, fusable)
    with limit_blas_threads(threads):  # fused only where no two BLAS pools run on several threads
        fused = fusable and (threads == SPLIT or blas_thread_count() == 1)
    if planned:
        step = DenseStackPlan(network, optimizer, fused).step
    else:
        def step(X: np.ndarray, Y: np.ndarray, n_train: float, W: np.ndarray | None = None) -> None:
            network._train_step(X, Y, optimizer, n_train, W)
    return Steps(step, threads, planned, fused)
