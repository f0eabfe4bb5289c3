"""The ``optuna`` strategy: Optuna's TPE sampler, pruners and storage driving mlpkit's trials.

``pip install 'mlpkit[optuna]'``; Optuna is imported only when this strategy runs (or when a worker runs one
of its trials with pruning on), never by ``import mlpkit`` or by the other strategies.

- Sampling: Optuna's tree-structured Parzen estimator (Bergstra et al. 2011, "Algorithms for
  Hyper-Parameter Optimization"; ``optuna.samplers.TPESampler``), seeded by the search's ``seed``, after
  ``startup_trials`` random trials. Each :class:`~mlpkit.tuning.space.SearchSpace` entry becomes a
  ``suggest_*`` call on its own scale: uniform -> ``suggest_float(low, high)``, log-uniform ->
  ``suggest_float(..., log=True)``, int -> ``suggest_int(..., log=...)``, choice -> ``suggest_categorical``,
  and one-minus-log (beta = 1 - 10^r) -> ``suggest_float("1-NAME", 1 - high, 1 - low, log=True)``, i.e.
  TPE models 1 - beta on a log scale (Ng week 3), and the trial gets beta = 1 - that value.
- Pruning (``pruning``): ``median`` -> ``MedianPruner`` (``warmup`` epochs, ``min_trials``), ``halving`` ->
  ``SuccessiveHalvingPruner`` (``min_epochs`` = min_resource, ``eta`` = reduction factor), ``hyperband`` ->
  ``HyperbandPruner`` (``min_epochs``, ``eta``, ``max_epochs``; Li et al. 2018). The intermediate value of
  step k is the searched metric after epoch k (k = 1, 2, ...).
- Storage: an Optuna RDB storage URL (``optuna_storage``); by default the SQLite file ``NAME.optuna.sqlite``
  beside the results file ``NAME.sqlite`` (in memory when the results are). mlpkit's own results file still
  holds every trial, as for the other strategies; the optuna trial number is the mlpkit trial number.
  ``trials`` counts the study's finished trials: resuming runs only the missing ones.

Where the pruner decides. A trial runs in a worker (this process, a pool process or a Ray node) that does not
write to the study. As mlpkit's own pruners do (:mod:`mlpkit.tuning.pruning`), the worker gets a *snapshot*
of the study when the trial starts: the finished trials' intermediate values and rung records, with their
trial numbers and the study's name (Hyperband's brackets hash both). It builds an in-memory study from it,
reports each epoch to its own trial and asks the pruner, so every backend can prune; the parent then reports
the trial's per-epoch history to the real study, copies the rungs the pruner recorded, and tells it the
result. Serially the snapshot is every earlier trial (reproducible); with parallel workers it is the trials
finished when the trial started, and TPE treats the running ones with its "constant liar" (Optuna's default).

A search stopped while trials ran leaves them ``RUNNING`` in the study. On resume, one whose result reached
mlpkit's results file is told that result; any other is marked failed (user attribute
``mlpkit = "interrupted"``, not counted in ``trials``) and its parameters are queued to run again first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..settings import SettingsError
from .backends import Backend
from .optuna_pruning import INSTALL, RUNG, import_optuna, make_pruner
from .pruning import pruner_from_config
from .space import Choice, IntUniform, LogUniform, OneMinusLogUniform, SearchSpace, Uniform
from .store import FINISHED, ResultsStore, Trial
from .trial import run_trial

__all__ = ["INSTALL", "default_storage_url", "import_optuna", "optuna_pruner_config", "optuna_trial_id",
           "run_optuna_search", "suggest"]

ROUND = "optuna"
INTERRUPTED = "interrupted"


def default_storage_url(results: str | Path | None) -> str | None:
    """``sqlite:///DIR/NAME.optuna.sqlite`` beside the results file ``DIR/NAME.sqlite`` (None: in memory)."""
    if results is None:
        return None
    path = Path(results).expanduser().resolve()
    return f"sqlite:///{path.with_name(f'{path.stem}.optuna.sqlite')}"


def optuna_pruner_config(spec: Any) -> dict[str, Any] | None:
    """The pruning setting as a checked, JSON-ready mapping: None/"none", "median", "halving" (their settings
    and defaults are mlpkit's, :mod:`mlpkit.tuning.pruning`), or "hyperband" with ``min_epochs`` (1), ``eta``
    (3) and ``max_epochs`` (None: Optuna's "auto", the longest completed trial)."""
    kind = spec.get("kind") if isinstance(spec, Mapping) else spec
    if isinstance(kind, str) and kind.strip().lower() == "hyperband":
        settings = dict(spec) if isinstance(spec, Mapping) else {}
        settings.pop("kind", None)
        unknown = sorted(set(settings) - {"min_epochs", "eta", "max_epochs"})
        if unknown:
            raise TypeError(f"pruning hyperband takes min_epochs, eta, max_epochs; got {unknown}")
        config = {"kind": "hyperband", "min_epochs": settings.get("min_epochs", 1), "eta": settings.get("eta", 3),
                  "max_epochs": settings.get("max_epochs")}
        for name, low in (("min_epochs", 1), ("eta", 2), ("max_epochs", 1)):
            value = config[name]
            if value is None and name == "max_epochs":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"hyperband {name} must be an integer >= {low}, got {value!r}")
        return config
    pruner = pruner_from_config(spec)
    return None if pruner is None else pruner.to_config()


def _one_minus_name(name: str) -> str:
    return f"1-{name}"


def suggest(trial: Any, space: SearchSpace) -> dict[str, Any]:
    """The trial's point: one ``suggest_*`` call per parameter, on its scale (module docstring)."""
    params: dict[str, Any] = {}
    for name, dist in space.items():
        if isinstance(dist, Choice):
            params[name] = trial.suggest_categorical(name, list(dist.values))
        elif isinstance(dist, IntUniform):
            params[name] = int(trial.suggest_int(name, dist.low, dist.high, log=dist.log))
        elif isinstance(dist, OneMinusLogUniform):
            r = trial.suggest_float(_one_minus_name(name), 1.0 - dist.high, 1.0 - dist.low, log=True)
            params[name] = min(max(1.0 - r, dist.low), dist.high)
        elif isinstance(dist, (LogUniform, Uniform)):
            params[name] = float(trial.suggest_float(name, dist.low, dist.high, log=isinstance(dist, LogUniform)))
        else:
            raise TypeError(f"the optuna strategy cannot sample {name!r}: {type(dist).__name__} has no optuna "
                            "counterpart")
    return params


def optuna_trial_id(study: str, number: int, params: Mapping[str, Any], seed: int) -> str:
    """An mlpkit trial id for optuna trial ``number`` (16 hex digits of SHA-256): TPE may propose the same
    point twice, and each proposal is a trial of its own."""
    text = json.dumps({"study": study, "number": number, "params": dict(params), "seed": seed}, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _snapshot(optuna: Any, study: Any, number: int) -> list[dict[str, Any]]:
    """Trials 0..number-1 as plain data: finished ones with their intermediate values and rungs, any other
    as a failed placeholder (so that numbers are kept)."""
    states = optuna.trial.TrialState
    entries = []
    for t in study.get_trials(deepcopy=False):
        if t.number >= number:
            continue
        if t.state in (states.COMPLETE, states.PRUNED):
            entries.append({"state": t.state.name, "value": t.value,
                            "intermediate": sorted(t.intermediate_values.items()),
                            "rungs": {k: v for k, v in t.system_attrs.items() if k.startswith(RUNG)}})
        else:
            entries.append({"state": "FAIL"})
    return entries


# ----------------------------------------------------------------------------------------------- parent side
def _tell(optuna: Any, study: Any, handle: Any, trial: Trial, metric: str) -> None:
    """Report the trial's per-epoch ``metric`` to the optuna trial ``handle`` (steps 1, 2, ...), copy the rungs
    its pruner recorded, and tell its end state."""
    state = optuna.trial.TrialState
    for step, value in enumerate(trial.history.get(metric, []), start=1):
        if math.isfinite(value):
            handle.report(float(value), step)
    for key, value in (trial.extra.get("optuna_rungs") or {}).items():
        # the call optuna's own SuccessiveHalvingPruner makes to record a rung (there is no public setter)
        study._storage.set_trial_system_attr(handle._trial_id, key, value)
    if trial.status == "completed" and trial.score is not None:
        study.tell(handle, trial.score)
    elif trial.status == "pruned":
        study.tell(handle, state=state.PRUNED)
    else:
        study.tell(handle, state=state.FAIL)


def _reconcile(optuna: Any, study: Any, store: ResultsStore, metric: str) -> None:
    """Finish the trials a stopped search left RUNNING (module docstring)."""
    state = optuna.trial.TrialState
    by_number = {t.number: t for t in store.trials()}  # mlpkit numbers are optuna's
    for frozen in study.get_trials(deepcopy=False, states=(state.RUNNING,)):
        handle = optuna.trial.Trial(study, frozen._trial_id)
        stored = by_number.get(frozen.number)
        if stored is not None and stored.status in FINISHED:
            _tell(optuna, study, handle, stored, metric)
            continue
        handle.set_user_attr("mlpkit", INTERRUPTED)
        study.tell(handle, state=state.FAIL)
        study.enqueue_trial(frozen.params)
        if stored is not None:
            store.save_result({"id": stored.id, "params": stored.params, "seed": stored.seed, "status": "failed",
                               "error": "interrupted: the search stopped while this trial ran; its point is run "
                                        "again as a new trial"}, stored.number, ROUND)


def _counted(optuna: Any, study: Any) -> int:
    state = optuna.trial.TrialState
    return sum(1 for t in study.get_trials(deepcopy=False, states=(state.COMPLETE, state.PRUNED, state.FAIL))
               if t.user_attrs.get("mlpkit") != INTERRUPTED)


def run_optuna_search(space: SearchSpace, options: Mapping[str, Any], store: ResultsStore, backend: Backend, *,
                      trials: int, metric: str, mode: str, pruning: Mapping[str, Any] | None, seed: int,
                      trial_seed: int, storage_url: str | None, study_name: str, startup_trials: int,
                      on_result: Callable[[Trial], None] | None = None) -> int:
    """Run the study until it holds ``trials`` finished trials (the store is open and its settings checked);
    return how many finished trials were found there already."""
    optuna = import_optuna()
    direction = "maximize" if mode == "max" else "minimize"
    fresh = not store.trials()
    if fresh and storage_url is not None:  # a new or overwritten search: forget an old study of that name
        try:
            optuna.delete_study(study_name=study_name, storage=storage_url)
        except KeyError:
            pass
    study = optuna.create_study(
        storage=storage_url, study_name=study_name, direction=direction, load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials),
        pruner=make_pruner(optuna, pruning))
    if not fresh and not study.get_trials(deepcopy=False):
        raise SettingsError(f"{store.path} holds {len(store.trials())} trials but the optuna study {study_name!r} "
                            f"in {storage_url} holds none; resume with the same optuna_storage")
    _reconcile(optuna, study, store, metric)
    skipped = _counted(optuna, study)
    asked: dict[str, Any] = {}
    blas = 1 if backend.name != "serial" else None
    config = {"study": study_name, "direction": direction, "pruner": pruning}

    def tasks() -> Iterator[dict[str, Any]]:
        for _ in range(trials - skipped):
            handle = study.ask()
            params = suggest(handle, space)
            tid = optuna_trial_id(study_name, handle.number, params, trial_seed)
            asked[tid] = handle
            store.mark_running(tid, handle.number, ROUND, params, trial_seed)
            task = {"id": tid, "params": params, "options": dict(options), "seed": trial_seed, "metric": metric,
                    "mode": mode, "blas_threads": blas}
            if pruning is not None:
                task["optuna"] = {**config, "trials": _snapshot(optuna, study, handle.number)}
            yield task

    with contextlib.closing(backend.run(run_trial, tasks())) as results:  # stopped: the workers die at once
        for result in results:
            handle = asked.pop(result["id"])
            trial = store.save_result(result, handle.number, ROUND)  # mlpkit's file first: a resume tells optuna
            _tell(optuna, study, handle, trial, metric)
            if on_result is not None:
                on_result(trial)
    return skipped
