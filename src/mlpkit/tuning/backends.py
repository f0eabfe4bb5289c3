"""Where trials run: in this process, in a local process pool, or on a Ray cluster; one interface.

``backend.run(function, tasks)`` calls ``function(task)`` for each task and yields the results as they
finish. It takes the next task from the iterator only when a worker is free, so a task built at that moment
(with the pruning reference of the trials finished so far) sees every result yielded before it.

Ng's "caviar" strategy (week 3: train many models in parallel and pick the best) on one machine is the
process pool: one trial per core, each with single-threaded BLAS, so that the cores are not oversubscribed
by nested BLAS threads.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .trial import pin_blas_threads

__all__ = ["BACKENDS", "Backend", "ProcessBackend", "RayBackend", "SerialBackend", "make_backend"]

BACKENDS = ("process", "serial", "ray")
_SINGLE_THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")

Task = dict[str, Any]


def _failed(task: Task, error: str) -> dict[str, Any]:
    return {"id": task["id"], "params": task["params"], "seed": task["seed"], "status": "failed", "score": None,
            "epochs": 0, "history": {}, "stop_reason": None, "error": error, "pid": None, "host": None,
            "duration": 0.0}


def _keep_busy(pending: dict[Any, Task], tasks: Iterator[Task], workers: int, submit: Callable[[Task], Any]) -> bool:
    """Submit tasks until ``workers`` are in flight (``pending`` maps each handle to its task); False once
    ``tasks`` is exhausted. Tasks are drawn only when a worker is free (see the module docstring)."""
    while len(pending) < workers:
        task = next(tasks, None)
        if task is None:
            return False
        pending[submit(task)] = task
    return True


class Backend:
    """Runs tasks; ``workers`` is how many at a time."""

    name = ""
    workers = 1

    def run(self, function: Callable[[Task], dict], tasks: Iterable[Task]) -> Iterator[dict]:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.name} backend, {self.workers} worker{'s' if self.workers != 1 else ''}"


class SerialBackend(Backend):
    """One trial after the other, in this process (BLAS keeps its own thread count)."""

    name = "serial"

    def run(self, function: Callable[[Task], dict], tasks: Iterable[Task]) -> Iterator[dict]:
        for task in tasks:
            yield function(task)


@contextlib.contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Single-threaded BLAS in the environment spawned workers inherit, so that it holds before they import
    NumPy; this process's own settings are restored afterwards."""
    saved = {name: os.environ.get(name) for name in _SINGLE_THREAD_ENV}
    os.environ.update(dict.fromkeys(_SINGLE_THREAD_ENV, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class ProcessBackend(Backend):
    """A local pool of ``workers`` processes (default: all cores), started with the ``spawn`` method (no
    forked copies of threads or BLAS state); each worker limits BLAS to one thread when it starts."""

    name = "process"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = _check_workers(workers) or os.cpu_count() or 1

    def run(self, function: Callable[[Task], dict], tasks: Iterable[Task]) -> Iterator[dict]:
        context = multiprocessing.get_context("spawn")
        pending: dict[Future, Task] = {}
        task_iter = iter(tasks)
        with _single_threaded_children():
            pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=pin_blas_threads)
        def submit(task: Task) -> Future:
            with _single_threaded_children():  # workers start on demand, at submission
                return pool.submit(function, task)

        try:
            more = True
            while True:
                more = more and _keep_busy(pending, task_iter, self.workers, submit)
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                broken = False
                for future in done:
                    task = pending.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool as exc:
                        broken = True
                        yield _failed(task, f"the worker process died: {exc}")
                if broken:  # the whole pool is unusable: start a fresh one for what is left
                    for task in pending.values():
                        yield _failed(task, "the worker process died while this trial ran")
                    pending.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    with _single_threaded_children():
                        pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=pin_blas_threads)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


class RayBackend(Backend):
    """Trials as Ray tasks (one CPU each, single-threaded BLAS): a local Ray instance with ``workers`` CPUs,
    or the existing cluster at ``address`` (``host:port`` of its head, or ``"auto"``). ``pip install
    'mlpkit[ray]'``; mlpkit must be importable on every node, and a data file must exist on every node."""

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        self.requested = _check_workers(workers)
        self.address = address
        self.workers = self.requested or 0

    def run(self, function: Callable[[Task], dict], tasks: Iterable[Task]) -> Iterator[dict]:
        try:
            import ray
        except ImportError:
            raise ImportError("--backend ray needs Ray: pip install 'mlpkit[ray]'") from None
        started_here = not ray.is_initialized()
        if started_here:
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "configure_logging": False}
            if self.address is None:
                kwargs["num_cpus"] = self.requested or os.cpu_count() or 1
            ray.init(address=self.address, **kwargs)
        try:
            self.workers = self.requested or max(int(ray.cluster_resources().get("CPU", 1)), 1)
            remote = ray.remote(num_cpus=1, max_retries=0)(_ray_entry)
            pending: dict[Any, Task] = {}
            task_iter = iter(tasks)
            more = True
            while True:
                more = more and _keep_busy(pending, task_iter, self.workers,
                                           lambda task: remote.remote(function, task))
                if not pending:
                    return
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    task = pending.pop(ref)
                    try:
                        yield ray.get(ref)
                    except Exception as exc:  # the worker died or the task could not run
                        yield _failed(task, f"Ray: {type(exc).__name__}: {' '.join(str(exc).split())[:500]}")
        finally:
            if started_here:
                ray.shutdown()


def _ray_entry(function: Callable[[Task], dict], task: Task) -> dict:
    pin_blas_threads(1)
    return function(task)


def _check_workers(workers: int | None) -> int | None:
    if workers is None or workers == 0:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ValueError(f"workers must be a positive integer (0 or None: all cores), got {workers!r}")
    return workers


def make_backend(name: str | Backend = "process", workers: int | None = None, address: str | None = None) -> Backend:
    """A backend by name: ``process`` (default), ``serial`` or ``ray``."""
    if isinstance(name, Backend):
        return name
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {name!r}")
    if address is not None and name != "ray":
        raise ValueError(f"an address applies to the ray backend, not {name}")
    if name == "serial":
        if workers not in (None, 0, 1):
            raise ValueError(f"the serial backend runs one trial at a time; workers must be 1, got {workers!r}")
        return SerialBackend()
    if name == "process":
        return ProcessBackend(workers)
    return RayBackend(workers, address)
