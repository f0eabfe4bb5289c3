"""One trial: train a network with ``mlpkit train``'s options plus the sampled hyper-parameters.

:func:`run_trial` is what every backend runs, in this process, in a pool worker or on a Ray node. It takes
and returns plain dictionaries (picklable, JSON-ready) and never raises for a bad trial: an exception or a
diverging run (``fit``'s divergence guard stops it with ``stop_reason == "diverged"`` and says why in
``history.message``) comes back as ``status = "failed"`` with the error, so one bad point does not end the
search. The run itself is built by :func:`mlpkit.settings.build_run`, as ``mlpkit train`` builds it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import time
import warnings
from typing import TYPE_CHECKING, Any

from ..settings import Data, SettingsError, TrainSettings, build_run, convert_mapping, resolve, run_data
from .pruning import PruningCallback, pruner_from_config

if TYPE_CHECKING:
    from .optuna_pruning import OptunaPruningCallback

__all__ = ["FIXED_ONLY", "pin_blas_threads", "run_trial", "trial_id", "worker_info"]

#: options that describe the search itself, never a searched hyper-parameter
FIXED_ONLY = ("dataset", "samples", "noise", "classes", "label_column", "task", "sample_weight", "seed", "out",
              "plots", "boundary_frames", "checkpoint_every", "checkpoint_interval", "quiet")

_DATA_CACHE: dict[tuple, Data] = {}


def trial_id(params: dict[str, Any], seed: int) -> str:
    """A stable identity: the first 16 hex digits of SHA-256 of the canonical JSON of parameters and seed."""
    text = json.dumps({"params": params, "seed": seed}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def pin_blas_threads(threads: int = 1) -> None:
    """Give this worker process ``threads`` BLAS (and OpenMP) threads for good: one trial per core, no
    oversubscription (the initializer of pool workers).

    The environment variables reach libraries loaded afterwards; threadpoolctl resizes the pools of those
    already loaded, such as NumPy's OpenBLAS. (``fit``'s own thread policy never raises the count again.)
    """
    from threadpoolctl import threadpool_limits

    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
        os.environ[name] = str(threads)
    threadpool_limits(threads)


def worker_info() -> dict[str, Any]:
    """The process id and the BLAS pools' thread counts of the calling process (for checks and reports)."""
    from threadpoolctl import threadpool_info

    threads = [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return {"pid": os.getpid(), "host": socket.gethostname(), "blas_threads": threads}


def _data(cfg: TrainSettings) -> Data:
    key = (cfg.dataset, cfg.label_column, cfg.seed, cfg.dtype, cfg.samples, cfg.noise, cfg.classes, cfg.task,
           cfg.sample_weight)
    if key not in _DATA_CACHE:  # a worker runs many trials on the same data: load it once
        _DATA_CACHE[key] = run_data(cfg)
    return _DATA_CACHE[key]


def _score(curve: list[float], mode: str) -> float | None:
    finite = [v for v in curve if math.isfinite(v)]
    if not finite:
        return None
    return max(finite) if mode == "max" else min(finite)


def run_trial(task: dict[str, Any]) -> dict[str, Any]:
    """Train one configuration and report it.

    ``task`` keys: ``id``, ``params`` (searched values), ``options`` (fixed ``mlpkit train`` options),
    ``seed``, ``metric`` and ``mode`` (``"max"``/``"min"``), optionally ``pruner`` (a config for
    :func:`~mlpkit.tuning.pruning.pruner_from_config`) with ``reference`` (finished trials' curves of the
    metric), or ``optuna`` (a study snapshot for
    :class:`~mlpkit.tuning.optuna_pruning.OptunaPruningCallback`), ``blas_threads`` (limit the BLAS pools
    first) and ``initial_loss`` (also measure the training cost before the first epoch, for Nielsen's
    learning-rate threshold).

    Returns the task's ``id``, ``params`` and ``seed`` plus ``status`` (``completed``, ``pruned`` or
    ``failed``), ``score`` (the best value of the metric over the epochs), ``epochs``, ``history`` (every
    per-epoch metric), ``stop_reason``, ``error``, ``duration`` (seconds), ``pid`` and ``host``; with optuna
    pruning, ``optuna_rungs`` (the rungs successive halving / Hyperband recorded).
    """
    start = time.perf_counter()
    if task.get("blas_threads"):
        pin_blas_threads(int(task["blas_threads"]))
    info = worker_info()
    result: dict[str, Any] = {"id": task["id"], "params": task["params"], "seed": task["seed"], "status": "failed",
                              "score": None, "epochs": 0, "history": {}, "stop_reason": None, "error": None,
                              "pid": info["pid"], "host": info["host"]}
    try:
        _train(task, result)
    except Exception as exc:  # any error of one configuration is that trial's result, not the search's end
        result["status"] = "failed"
        result["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    result["duration"] = time.perf_counter() - start
    return result


def _train(task: dict[str, Any], result: dict[str, Any]) -> None:
    values = {**task["options"], **convert_mapping(task["params"], where="the trial's parameters")}
    values.update(seed=task["seed"], quiet=True, plots=False)
    sources = {k: "the trial's settings" for k in values}
    cfg = resolve(values, sources)
    run = build_run(cfg, data=_data(cfg), sources=sources)
    if task.get("initial_loss"):
        train = run.data.dataset.train
        result["initial_loss"] = run.network.evaluate(train.X, train.y)["loss"]
    pruner = pruner_from_config(task.get("pruner"))
    pruning: PruningCallback | OptunaPruningCallback | None = None
    if pruner is not None:
        pruning = PruningCallback(pruner, task["metric"], task["mode"], task.get("reference", ()))
    elif task.get("optuna") is not None:  # the optuna strategy's pruners (imports optuna)
        from .optuna_pruning import OptunaPruningCallback

        pruning = OptunaPruningCallback(task["optuna"], task["metric"])
    with warnings.catch_warnings():  # a divergence is this trial's result (history.message), not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        history = run.fit([] if pruning is None else [pruning])
    rungs = getattr(pruning, "rungs", None)  # what optuna's successive halving / Hyperband recorded
    if rungs:
        result["optuna_rungs"] = rungs
    result["epochs"] = len(history)
    result["history"] = {k: list(v) for k, v in history.history.items()}
    result["stop_reason"] = history.stop_reason
    if history.diverged:
        result["error"] = history.message
        return
    if task["metric"] not in history:
        raise SettingsError(f"the trials do not log {task['metric']!r} (they log "
                            f"{', '.join(sorted(history.history))}); choose another metric")
    result["score"] = _score(history[task["metric"]], task["mode"])
    result["status"] = "pruned" if pruning is not None and pruning.pruned else "completed"
