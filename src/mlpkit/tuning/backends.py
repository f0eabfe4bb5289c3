"""Where trials run: in this process, in a local process pool, or on a Ray cluster; one interface.

``backend.run(function, tasks)`` calls ``function(task)`` for each task and yields the results as they
finish. It takes the next task from the iterator only when a worker is free, so a task built at that moment
(with the pruning reference of the trials finished so far) sees every result yielded before it.

Ng's "caviar" strategy (week 3: train many models in parallel and pick the best) on one machine is the
process pool: one trial per core, each with single-threaded BLAS, so that the cores are not oversubscribed
by nested BLAS threads.

The pool's workers never outlive the search. Stopped by an exception, Ctrl-C or SIGTERM included (a
KeyboardInterrupt in the process that drives the search), the pool kills its workers instead of waiting for
their trials; the trials they ran stay ``running`` in the results file and run again on resume. Killed
outright (``kill -9``, a crash), the parent can do nothing, so each worker watches it: on Linux the kernel
sends the worker SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``), and on every POSIX system a
thread of the worker ends it within :data:`PARENT_CHECK_INTERVAL` seconds of being orphaned. Workers ignore
Ctrl-C (a terminal sends it to the whole process group): the parent decides, and stops them.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .trial import pin_blas_threads

__all__ = ["BACKENDS", "Backend", "ProcessBackend", "RayBackend", "SerialBackend", "make_backend"]

BACKENDS = ("process", "serial", "ray")
#: the signals that stop a search (SIGTERM does not exist on every platform)
STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s is not None)
#: whether this platform can block a signal for a thread (and so for the processes it starts)
_CAN_BLOCK = hasattr(signal, "pthread_sigmask")
_SINGLE_THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
#: seconds between a pool worker's checks that the process that started it is still its parent (the
#: fallback where the kernel does not kill orphans for us): how long a worker can outlive a killed search
PARENT_CHECK_INTERVAL = 0.5
#: seconds to wait for killed workers to be gone before the pool is given up
KILL_WAIT = 5.0
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

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
def _spawning() -> Iterator[None]:
    """Around the start of workers (the pool starts them at submission).

    What they inherit: single-threaded BLAS in the environment (so that it holds before they import NumPy),
    and Ctrl-C blocked (so that one pressed while they import prints no traceback from each of them: a
    blocked signal stays blocked across ``exec``, a handler does not; :func:`_start_worker` then ignores it
    and unblocks it). This process holds Ctrl-C and SIGTERM meanwhile, when its handlers would turn them into
    exceptions (as ``mlpkit tune``'s do), and raises them again afterwards: stopped half-way, a worker would
    start outside the pool's table, where nothing stops it. Held, not ignored: a Ctrl-C in these
    milliseconds still stops the search. Where signals cannot be blocked (Windows), Ctrl-C is ignored
    instead for that moment. Everything is restored afterwards.
    """
    saved = {name: os.environ.get(name) for name in _SINGLE_THREAD_ENV}
    os.environ.update(dict.fromkeys(_SINGLE_THREAD_ENV, "1"))
    previous: dict[int, Any] = {}
    held: list[int] = []
    blocked = False
    if threading.current_thread() is threading.main_thread():
        if _CAN_BLOCK:  # held in this process, blocked in the workers (their initializer ignores it)
            blocked = signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        for number in STOP_SIGNALS:
            if callable(signal.getsignal(number)):  # a Python handler, not SIG_DFL/SIG_IGN
                previous[number] = signal.signal(number, lambda signum, frame: held.append(signum))
        if not blocked and signal.getsignal(signal.SIGINT) != signal.SIG_IGN:
            previous.setdefault(signal.SIGINT, signal.getsignal(signal.SIGINT))
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if blocked:  # a Ctrl-C that came meanwhile is delivered now, to the holding handler
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in held[:1]:
            signal.raise_signal(number)


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

        def new_pool() -> ProcessPoolExecutor:
            with _spawning():
                return ProcessPoolExecutor(self.workers, mp_context=context, initializer=_start_worker,
                                           initargs=(os.getpid(),))

        def submit(task: Task) -> Future:
            with _spawning():  # workers start on demand, at submission
                return pool.submit(function, task)

        pool = new_pool()
        finished = False
        try:
            more = True
            while True:
                more = more and _keep_busy(pending, task_iter, self.workers, submit)
                if not pending:
                    finished = True
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
                    pool = new_pool()
        finally:
            if finished:
                pool.shutdown(wait=True)
            else:  # stopped (Ctrl-C, SIGTERM, an error, or the caller closed this generator): no waiting
                _kill_workers(pool)


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's workers, whatever they are running, and wait (up to :data:`KILL_WAIT` seconds) until
    they are gone, so that none outlives the search."""
    # the executor's own table of its processes: there is no public one before Python 3.14's kill_workers()
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(OSError, ValueError):  # already gone, or already closed
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + KILL_WAIT
    for process in processes:
        with contextlib.suppress(ValueError):
            process.join(max(0.0, deadline - time.monotonic()))


def _start_worker(parent: int) -> None:
    """The initializer of the pool's workers: ignore Ctrl-C (blocked since the worker started, when the pool
    was started from the main thread; a Ctrl-C pending meanwhile is discarded), die with ``parent`` (the
    module docstring), single-threaded BLAS."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if _CAN_BLOCK:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _die_with_parent(parent)
    pin_blas_threads()


def _die_with_parent(parent: int) -> None:
    """End this process when ``parent`` (the pid of the process that started it) dies: SIGKILL from the
    kernel on Linux, and everywhere on POSIX a daemon thread that checks :func:`os.getppid` (an orphan is
    adopted by another process). Windows keeps a dead parent's pid, so neither applies there. (The kernel
    watches the parent's *thread* that started the worker: the thread that runs the search, which outlives
    its pool.)"""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # no libc to load, or no prctl in it
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.name != "posix":
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="mlpkit-parent-watch", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_INTERVAL)
    os._exit(1)


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
