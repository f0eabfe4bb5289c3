"""``mlpkit.tuning.search``: random, grid and coarse-to-fine search over ``mlpkit train`` options.

Strategies (Ng week 3, "Tuning process"):
- ``random``: ``trials`` points drawn from the space (each parameter on its own scale). Better than a grid
  when some hyper-parameters matter much more than others (Bergstra & Bengio 2012): every trial tries a
  new value of each.
- ``grid``: every combination of ``grid_points`` values per parameter (all values of a choice).
- ``coarse-to-fine``: ``rounds`` random rounds of ``trials`` points; after each, the ranges shrink to the
  region of the best ``keep`` fraction of its completed trials (:meth:`SearchSpace.narrowed`).
- ``optuna``: ``trials`` points proposed one at a time by Optuna's TPE sampler, which models the results so
  far; Optuna's pruners and storage (:mod:`mlpkit.tuning.optuna_search`, ``pip install 'mlpkit[optuna]'``).

Points are drawn from one generator seeded by ``seed``, so the same settings always give the same trials
(and a resumed search recognizes the ones it has done).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_bytes
from ..settings import SettingsError, convert_mapping, option_name
from .backends import Backend, make_backend
from .pruning import Pruner, pruner_from_config
from .space import SearchSpace
from .store import ResultsStore, Trial
from .trial import FIXED_ONLY, run_trial, trial_id

__all__ = ["STRATEGIES", "SearchResult", "Searcher", "best_train_config", "rank", "search", "write_best_config"]

STRATEGIES = ("random", "grid", "coarse-to-fine", "optuna")


def metric_mode(metric: str, mode: str = "auto") -> str:
    """``"max"`` for accuracies, ``"min"`` for losses (``mode="auto"``), else ``mode`` itself."""
    if mode not in ("auto", "max", "min"):
        raise ValueError(f"mode must be auto, max or min, got {mode!r}")
    if mode != "auto":
        return mode
    return "max" if metric.endswith(("accuracy", "acc")) else "min"


def rank(trials: Sequence[Trial], mode: str) -> list[Trial]:
    """Completed trials best first, then pruned ones (best first), then failed and unfinished ones."""
    order = {"completed": 0, "pruned": 1}
    sign = -1.0 if mode == "max" else 1.0

    def key(t: Trial) -> tuple:
        scored = t.score is not None and t.status in order
        return (order.get(t.status, 2) if scored else 3, sign * t.score if scored else 0.0, t.number)

    return sorted(trials, key=key)


@dataclass
class SearchResult:
    """The trials of a search (from its store), ranked by score; ``spaces`` are the rounds' search spaces."""

    trials: list[Trial]
    metric: str
    mode: str
    spaces: list[SearchSpace] = field(default_factory=list)
    skipped: int = 0  # trials found finished in the store and not run again
    options: dict[str, Any] = field(default_factory=dict)  # the fixed mlpkit train options (seed left out)

    @property
    def ranked(self) -> list[Trial]:
        return rank(self.trials, self.mode)

    @property
    def best(self) -> Trial | None:
        top = [t for t in self.ranked if t.status == "completed" and t.score is not None]
        return top[0] if top else None

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for t in self.trials:
            counts[t.status] = counts.get(t.status, 0) + 1
        return counts

    def best_config(self) -> dict[str, Any] | None:
        """The best trial as ``mlpkit train --config`` settings (:func:`best_train_config`); None if no trial
        completed."""
        return None if self.best is None else best_train_config(self.options, self.best.params, self.best.seed)


def best_train_config(options: Mapping[str, Any], params: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """The settings of one trial for ``mlpkit train --config``: the fixed ``options``, the trial's ``params``
    and its ``seed`` (the same data split, initialization and shuffling, so the run repeats the trial), each
    under its option's name."""
    fixed = convert_mapping(dict(options), where="the fixed training options")
    searched = convert_mapping(dict(params), where="the trial's parameters")
    return {**{k: v for k, v in fixed.items() if k not in searched and k != "seed"}, **searched, "seed": int(seed)}


def write_best_config(path: str | Path, config: Mapping[str, Any], *, comment: str = "") -> Path:
    """Write ``config`` (:func:`best_train_config`) as a YAML ``mlpkit train --config`` file, atomically;
    ``comment`` lines go first, as YAML comments."""
    import yaml

    path = Path(path)
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    text = header + yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=True)
    return atomic_write_bytes(path, text.encode("utf-8"))


class Searcher:
    """Runs batches of trials through a backend, recording each in the store; the engine of :func:`search`
    and :func:`~mlpkit.tuning.recipe.nielsen_recipe`."""

    def __init__(self, options: Mapping[str, Any], store: ResultsStore, backend: Backend, *, metric: str,
                 mode: str, pruner: Pruner | None = None, seed: int = 0,
                 on_result: Callable[[Trial], None] | None = None) -> None:
        self.options = dict(options)
        self.store = store
        self.backend = backend
        self.metric = metric
        self.mode = mode
        self.pruner = pruner
        self.seed = seed
        self.on_result = on_result
        self.skipped = 0
        self._numbers = len(store.trials())

    def _reference(self) -> list[list[float]]:
        return [t.history[self.metric] for t in self.store.trials(statuses=("completed", "pruned"))
                if self.metric in t.history]

    def run_batch(self, points: Sequence[Mapping[str, Any]], round_name: str, *, initial_loss: bool = False,
                  prune: bool = True) -> list[Trial]:
        """Run every point not finished in the store yet; return the batch's trials (stored or new) in order."""
        ids = [trial_id(dict(p), self.seed) for p in points]
        finished = self.store.finished_ids()
        todo: list[tuple[str, dict[str, Any]]] = []
        for tid, point in zip(ids, points, strict=True):
            if tid in finished:
                self.skipped += 1
            elif all(tid != t for t, _ in todo):
                todo.append((tid, dict(point)))
        numbers: dict[str, int] = {}
        blas = 1 if self.backend.name != "serial" else None

        def tasks() -> Iterator[dict[str, Any]]:
            for tid, point in todo:
                numbers[tid] = self._numbers
                self._numbers += 1
                self.store.mark_running(tid, numbers[tid], round_name, point, self.seed)
                task = {"id": tid, "params": point, "options": self.options, "seed": self.seed,
                        "metric": self.metric, "mode": self.mode, "blas_threads": blas, "initial_loss": initial_loss}
                if prune and self.pruner is not None:
                    task["pruner"] = self.pruner.to_config()
                    task["reference"] = self._reference()
                yield task

        # closed at once if this loop is stopped (Ctrl-C, SIGTERM, an error): the pool's workers die with it
        with contextlib.closing(self.backend.run(run_trial, tasks())) as results:
            for result in results:
                trial = self.store.save_result(result, numbers[result["id"]], round_name)
                if self.on_result is not None:
                    self.on_result(trial)
        return [self.store.get(tid) for tid in ids]


def check_options(options: Mapping[str, Any] | None, space: SearchSpace | None = None) -> dict[str, Any]:
    """The fixed ``mlpkit train`` options, checked key by key and converted; a searched parameter must be a
    train option that is not fixed and not one of :data:`FIXED_ONLY`."""
    options = convert_mapping(dict(options or {}), where="the fixed training options")
    for name in ("out", "plots", "boundary_frames", "quiet", "checkpoint_every", "checkpoint_interval", "log_dir"):
        if name in options:
            raise SettingsError(f"training option {name!r} does not apply to a search (each trial writes nothing)")
    for key in space or ():
        name = option_name(key, "the search space")
        if name in FIXED_ONLY:
            raise SettingsError(f"{key!r} cannot be searched: it describes the search's data or seed, not the "
                              f"model; searchable options are the other mlpkit train options")
        if name in options:
            raise SettingsError(f"{key!r} is both a fixed training option and a searched parameter; keep one")
    return options


def _points(space: SearchSpace, strategy: str, trials: int, grid_points: int, rng: np.random.Generator) -> list:
    if strategy == "grid":
        return space.grid(grid_points)
    return [space.sample(rng) for _ in range(trials)]


def search(space: SearchSpace | Mapping[str, Any], options: Mapping[str, Any] | None = None, *,
           strategy: str = "random", trials: int = 20, rounds: int = 3, keep: float = 0.25,
           margin: float = 0.15, grid_points: int = 3, metric: str = "val_accuracy", mode: str = "auto",
           pruning: Any = None, backend: str | Backend = "process", workers: int | None = None,
           address: str | None = None, storage: str | Path | None = None, resume: bool = False, seed: int = 0,
           on_result: Callable[[Trial], None] | None = None, optuna_storage: str | None = None,
           study: str = "mlpkit", startup_trials: int = 10) -> SearchResult:
    """Search hyper-parameters of ``mlpkit train`` runs and return every trial, ranked.

    Args:
        space: a :class:`SearchSpace` or a mapping ``{option: distribution or its config}``; the names are
            ``mlpkit train`` options (``lr``/``eta``, ``l2``/``lmbda``, ``momentum``, ``batch_size``, ``layers``,
            ``activation``...).
        options: the fixed ``mlpkit train`` options of every trial (``dataset``, ``layers``, ``epochs``...);
            ``seed`` seeds every trial's data split, initialization and shuffling alike.
        strategy: ``"random"``, ``"grid"``, ``"coarse-to-fine"`` or ``"optuna"``.
        trials: points per random round (optuna: finished trials of the study).
        rounds, keep, margin: coarse-to-fine's number of rounds, fraction of completed trials kept to narrow
            the ranges, and padding (fraction of the span) around them.
        grid_points: values per numeric parameter of a grid.
        metric, mode: the per-epoch metric that scores a trial (its best epoch counts) and whether higher
            (``"max"``) or lower (``"min"``) is better; ``"auto"``: max for accuracies.
        pruning: ``None``/``"none"``, ``"median"``, ``"halving"``, a :class:`~mlpkit.tuning.pruning.Pruner` or
            a config mapping; with strategy optuna, Optuna's pruner of that name (settings as a mapping), or
            ``"hyperband"``.
        backend: ``"process"`` (default; ``workers`` processes, all cores if None), ``"serial"`` or ``"ray"``
            (``address`` of an existing cluster, else a local Ray).
        storage: SQLite file of the results (None: in memory). A file that holds a search needs
            ``resume=True``, which skips its finished trials; its settings must match.
        seed: seed of the sampling of points (and the default trial seed).
        on_result: called with each trial as it finishes.
        optuna_storage, study, startup_trials: strategy optuna only: the Optuna RDB storage URL (None: a SQLite
            file beside ``storage``, ``NAME.optuna.sqlite``; in memory if ``storage`` is None), the study's
            name, and TPE's number of random trials before it models the results.
    """
    if not isinstance(space, SearchSpace):
        space = SearchSpace(space)
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    for name, value, low in (("trials", trials, 1), ("rounds", rounds, 1), ("grid_points", grid_points, 1),
                             ("seed", seed, 0), ("startup_trials", startup_trials, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if isinstance(keep, bool) or not (isinstance(keep, (int, float)) and 0 < keep <= 1):
        raise ValueError(f"keep must be a fraction in (0, 1], got {keep!r}")
    if isinstance(margin, bool) or not (isinstance(margin, (int, float)) and 0 <= margin <= 1):
        raise ValueError(f"margin must be a fraction in [0, 1], got {margin!r}")
    fixed = check_options(options, space)
    trial_seed = int(fixed.pop("seed", seed))
    mode = metric_mode(metric, mode)
    if strategy == "optuna":
        from .optuna_search import import_optuna, optuna_pruner_config

        import_optuna()  # a missing extra fails here, before any file is touched
        pruner = None
        pruning_config = optuna_pruner_config(pruning)
    else:
        pruner = pruner_from_config(pruning)
        pruning_config = None if pruner is None else pruner.to_config()
    settings = {"kind": "search", "options": fixed, "seed": seed, "trial_seed": trial_seed,
                "space": space.to_config(), "strategy": strategy, "metric": metric, "mode": mode,
                "pruning": pruning_config}
    if strategy == "optuna":
        settings.update(study=study, startup_trials=startup_trials)
    if strategy == "coarse-to-fine":
        settings.update(trials=trials, keep=keep, margin=margin)
    if strategy == "grid":
        settings.update(grid_points=grid_points)
    runner = make_backend(backend, workers, address)
    with ResultsStore(storage) as store:
        open_store(store, settings, resume)
        if strategy == "optuna":
            from .optuna_search import default_storage_url, run_optuna_search

            url = optuna_storage if optuna_storage is not None else default_storage_url(storage)
            skipped = run_optuna_search(space, fixed, store, runner, trials=trials, metric=metric, mode=mode,
                                        pruning=pruning_config, seed=seed, trial_seed=trial_seed, storage_url=url,
                                        study_name=study, startup_trials=startup_trials, on_result=on_result)
            return SearchResult(store.trials(), metric, mode, [space], skipped, fixed)
        searcher = Searcher(fixed, store, runner, metric=metric, mode=mode, pruner=pruner, seed=trial_seed,
                            on_result=on_result)
        rng = np.random.default_rng(seed)
        spaces = [space]
        n_rounds = rounds if strategy == "coarse-to-fine" else 1
        for r in range(n_rounds):
            current = spaces[-1]
            batch = searcher.run_batch(_points(current, strategy, trials, grid_points, rng), f"round {r + 1}")
            if r + 1 < n_rounds:
                spaces.append(narrow(current, batch, mode, keep, margin))
        return SearchResult(store.trials(), metric, mode, spaces, searcher.skipped, fixed)


def narrow(space: SearchSpace, batch: Sequence[Trial], mode: str, keep: float, margin: float) -> SearchSpace:
    """The next coarse-to-fine space: around the best ``keep`` fraction of the batch's completed trials
    (pruned ones if none completed; the same space if every trial failed)."""
    for statuses in (("completed",), ("pruned",)):
        scored = [t for t in rank(batch, mode) if t.status in statuses and t.score is not None]
        if scored:
            best = scored[:max(1, math.ceil(keep * len(scored)))]
            return space.narrowed([t.params for t in best], margin)
    return space


def open_store(store: ResultsStore, settings: dict[str, Any], resume: bool) -> None:
    """Record the settings in a new store; in a used one, check that they match (resume) or refuse."""
    settings = json.loads(json.dumps(settings))  # as stored: tuples become lists
    saved = store.settings()
    if saved is None or not store.trials():
        store.save_settings(settings)
        return
    where = store.path or "the storage"
    if not resume:
        raise SettingsError(f"{where} already holds {len(store.trials())} trials of a search; resume it (--resume, "
                          "resume=True), or choose another storage file, or delete it")
    if saved != settings:
        differ = sorted(k for k in set(saved) | set(settings) if saved.get(k) != settings.get(k))
        raise SettingsError(f"{where} holds a search with other settings ({', '.join(differ)} differ); resume it with "
                          "the same settings or choose another storage file")
