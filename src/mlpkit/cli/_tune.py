"""``mlpkit tune CONFIG``: read a search file, run the search, print the ranked trials, write CSV and plots.

CONFIG is a TOML, YAML or JSON file with three tables::

    [train]            # fixed mlpkit train options of every trial (same names as the flags)
    dataset = "digits"
    epochs = 10

    [space]            # the searched options and their distributions
    eta = {dist = "log-uniform", low = 0.01, high = 10}
    lmbda = {dist = "log-uniform", low = 0.001, high = 100}
    activation = ["sigmoid", "tanh"]          # a list is a choice

    [search]           # how to search (every key optional; the flags override the file)
    strategy = "random"                       # random, grid, coarse-to-fine, nielsen, optuna
    trials = 20
    pruning = "median"                        # none, median, halving, or {kind = "halving", eta = 3}
    backend = "process"                       # process, serial, ray
    storage = "search.sqlite"

Strategy optuna (``pip install 'mlpkit[optuna]'``) also takes ``optuna_storage`` (an Optuna RDB URL; default
the SQLite file NAME.optuna.sqlite beside the storage NAME.sqlite), ``study`` (its name) and
``startup_trials`` (random trials before TPE), and pruning ``hyperband``.

Every search writes ``best_config.yaml`` in the results directory: the fixed options, the best trial's values
and its seed, ready for ``mlpkit train --config``.

Relative paths (data files, storage, out) are taken from the current directory, as for ``mlpkit train``.
"""

from __future__ import annotations

import math
import numbers
import shlex
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from ..settings import SettingsError, parse_document
from ..tuning.backends import BACKENDS
from ..tuning.recipe import DEFAULT_ETAS, DEFAULT_LMBDAS, RecipeResult, nielsen_recipe
from ..tuning.report import plot_curves, plot_scores, results_table, write_csv
from ..tuning.search import STRATEGIES, SearchResult, best_train_config, metric_mode, search, write_best_config
from ..tuning.space import SearchSpace
from ..tuning.store import ResultsStore, Trial
from ._signals import deferred, raise_lost, stop_status, stop_word

TABLES = ("train", "space", "search")
CLI_STRATEGIES = (*STRATEGIES, "nielsen")
#: [search] keys: kind, default
SEARCH_KEYS: dict[str, tuple[str, Any]] = {
    "strategy": ("str", "random"),
    "trials": ("int", 20),
    "rounds": ("int", 3),
    "keep": ("float", 0.25),
    "margin": ("float", 0.15),
    "grid_points": ("int", 3),
    "metric": ("str", "val_accuracy"),
    "mode": ("str", "auto"),
    "pruning": ("any", None),
    "seed": ("int", 0),
    "backend": ("str", "process"),
    "workers": ("int", 0),
    "address": ("str", None),
    "storage": ("str", None),
    "out": ("str", None),
    "top": ("int", 20),
    "plots": ("bool", True),
    # strategy nielsen
    "etas": ("list", list(DEFAULT_ETAS)),
    "lmbdas": ("list", list(DEFAULT_LMBDAS)),
    "probe_epochs": ("int", 3),
    "lmbda_epochs": ("int", 10),
    "max_epochs": ("int", 100),
    "patience": ("int", 10),
    # strategy optuna
    "optuna_storage": ("str", None),
    "study": ("str", "mlpkit"),
    "startup_trials": ("int", 10),
}
NIELSEN_ONLY = ("etas", "lmbdas", "probe_epochs", "lmbda_epochs", "max_epochs", "patience")
OPTUNA_ONLY = ("optuna_storage", "study", "startup_trials")
BEST_CONFIG = "best_config.yaml"


def read_document(path: Path) -> dict[str, Any]:
    """The top-level mapping of a TOML, YAML or JSON file."""
    raw = parse_document(path, "CONFIG file")
    if not isinstance(raw, dict):
        raise SettingsError(f"{path.name} must hold the tables [train], [space] and [search], got a "
                          f"{type(raw).__name__}")
    unknown = sorted(str(k) for k in raw if k not in TABLES)
    if unknown:
        raise SettingsError(f"{path.name}: unknown table {unknown[0]!r}; allowed: {', '.join(TABLES)}")
    for table in TABLES:
        if raw.get(table) is not None and not isinstance(raw[table], dict):
            raise SettingsError(f"{path.name}: [{table}] must be a table of key = value settings")
    return raw


def _convert(key: str, kind: str, value: Any, where: str) -> Any:
    if value is None:
        return None
    if kind == "int":
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return int(value)
        raise SettingsError(f"{key!r} in {where} must be an integer, got {value!r}")
    if kind == "float":
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        raise SettingsError(f"{key!r} in {where} must be a number, got {value!r}")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise SettingsError(f"{key!r} in {where} must be true or false, got {value!r}")
    if kind == "list":
        if isinstance(value, (list, tuple)) and all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                                                    for v in value):
            return [float(v) for v in value]
        raise SettingsError(f"{key!r} in {where} must be a list of numbers, got {value!r}")
    if kind == "str":
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise SettingsError(f"{key!r} in {where} must be a non-empty string, got {value!r}")
    return value


def search_settings(raw: dict[str, Any], where: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The [search] table checked key by key, defaults filled in, command-line ``overrides`` applied."""
    table = {str(k).replace("-", "_"): v for k, v in (raw or {}).items()}
    unknown = sorted(k for k in table if k not in SEARCH_KEYS)
    if unknown:
        raise SettingsError(f"{where}: unknown [search] key {unknown[0]!r}; allowed: {', '.join(SEARCH_KEYS)}")
    settings = {k: _convert(k, kind, table.get(k, default), f"[search] of {where}")
                for k, (kind, default) in SEARCH_KEYS.items()}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    if settings["strategy"] not in CLI_STRATEGIES:
        raise SettingsError(f"strategy must be one of {', '.join(CLI_STRATEGIES)}, got {settings['strategy']!r}")
    if settings["backend"] not in BACKENDS:
        raise SettingsError(f"--backend must be one of {', '.join(BACKENDS)}, got {settings['backend']!r}")
    if settings["address"] is not None and settings["backend"] != "ray":
        raise SettingsError(f"--address applies to --backend ray, not {settings['backend']}")
    if settings["workers"] < 0:
        raise SettingsError(f"--workers must be a positive integer (0: all cores), got {settings['workers']}")
    for strategy, only in (("nielsen", NIELSEN_ONLY), ("optuna", OPTUNA_ONLY)):
        given = [k for k in only if k in table]
        if given and settings["strategy"] != strategy:
            raise SettingsError(f"{where}: [search] {given[0]!r} applies to strategy {strategy}, not "
                              f"{settings['strategy']}")
    if settings["startup_trials"] < 0:
        raise SettingsError(f"startup_trials must be an integer >= 0, got {settings['startup_trials']}")
    return settings


def _describe_trial(trial: Trial, metric: str, done: int, total: int | None) -> str:
    score = "-" if trial.score is None else (f"{trial.score:.2%}" if metric.endswith("accuracy")
                                            else f"{trial.score:.4f}")
    params = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.params.items())
    count = f"[{done}/{total}]" if total else f"[{done}]"
    color = {"completed": "green", "pruned": "yellow", "failed": "red"}.get(trial.status, "white")
    line = f"{count} {trial.id[:8]} [{color}]{trial.status:9}[/] {metric} {score:>7}  {params}  " \
           f"({trial.epochs} epochs, {trial.duration or 0:.1f} s)"
    if trial.error:
        line += f"  {trial.error[:160]}"
    return line


class TuneRun:
    """One ``mlpkit tune`` invocation."""

    def __init__(self, config: Path, overrides: dict[str, Any], *, resume: bool, overwrite: bool,
                 quiet: bool, console: Console) -> None:
        self.config = config
        self.console = console
        self.quiet = quiet
        raw = read_document(config)
        self.train = dict(raw.get("train") or {})
        self.settings = search_settings(raw.get("search") or {}, config.name, overrides)
        s = self.settings
        self.nielsen = s["strategy"] == "nielsen"
        if s["strategy"] == "optuna":
            from ..tuning.optuna_search import import_optuna

            try:
                import_optuna()
            except ImportError as exc:
                raise SettingsError(str(exc)) from None
        if self.nielsen and raw.get("space"):
            raise SettingsError(f"{config.name}: strategy nielsen chooses eta and lmbda itself; remove the [space] "
                                "table")
        if not self.nielsen:
            if not raw.get("space"):
                raise SettingsError(f"{config.name} needs a [space] table, e.g. eta = {{dist = \"log-uniform\", "
                                  "low = 0.01, high = 10}")
            self.space = SearchSpace(raw["space"])
        if resume and overwrite:
            raise SettingsError("--resume continues the stored search and --overwrite discards it: choose one")
        self.storage = Path(s["storage"] or f"{config.stem}.sqlite").expanduser()
        self.out = Path(s["out"]).expanduser() if s["out"] else self.storage.with_name(f"{self.storage.stem}_results")
        if self.out.exists() and not self.out.is_dir():
            raise SettingsError(f"the results directory {self.out} is a file; set out in [search] or --out")
        if resume and not self.storage.is_file():
            raise SettingsError(f"--resume: {self.storage} does not exist, there is no search to continue")
        if overwrite and self.storage.is_file():
            with ResultsStore(self.storage) as store:
                store.clear()
        self.resume = resume
        self.metric = s["metric"]
        self.mode = metric_mode(self.metric, s["mode"])
        self.done = 0

    def _on_result(self, trial: Trial) -> None:
        raise_lost()
        self.done += 1
        if not self.quiet:
            total = None if self.nielsen or self.settings["strategy"] == "grid" else self.settings["trials"]
            if self.settings["strategy"] == "coarse-to-fine":
                total = self.settings["trials"] * self.settings["rounds"]
            self.console.print(_describe_trial(trial, self.metric, self.done, total), soft_wrap=True)

    def run(self) -> int:
        raise_lost()
        s = self.settings
        common = {"backend": s["backend"], "workers": s["workers"] or None, "address": s["address"],
                  "storage": self.storage, "resume": self.resume, "on_result": self._on_result}
        where = f"results in {self.storage}"
        if s["strategy"] == "optuna":
            from ..tuning.optuna_search import default_storage_url

            where += f", optuna study {s['study']!r} in {s['optuna_storage'] or default_storage_url(self.storage)}"
        self.console.print(f"{self.config.name}: strategy {s['strategy']}, {s['backend']} backend, {where}",
                           soft_wrap=True)
        if self.nielsen:
            recipe = nielsen_recipe(self.train, etas=s["etas"], lmbdas=s["lmbdas"], probe_epochs=s["probe_epochs"],
                                    lmbda_epochs=s["lmbda_epochs"], max_epochs=s["max_epochs"],
                                    patience=s["patience"], metric=self.metric, **common)
            trials = [t for step in recipe.steps.values() for t in step]
            self._report(trials, None)
            if self._all_failed(trials):
                return 1
            self._print_recipe(recipe)
            fixed = {k: v for k, v in self.train.items() if k != "seed"}
            self._write_best(best_train_config(fixed, {"lr": recipe.eta, "l2": recipe.lmbda, "epochs": recipe.epochs},
                                               int(self.train.get("seed", 0))), "Nielsen's recipe")
            return 0
        optuna = {k: s[k] for k in OPTUNA_ONLY} if s["strategy"] == "optuna" else {}
        result = search(self.space, self.train, strategy=s["strategy"], trials=s["trials"], rounds=s["rounds"],
                        keep=s["keep"], margin=s["margin"], grid_points=s["grid_points"], metric=self.metric,
                        mode=self.mode, pruning=s["pruning"], seed=s["seed"], **optuna, **common)
        self._report(result.trials, result)
        if self._all_failed(result.trials):
            return 1
        if result.best is not None:
            self._write_best(result.best_config(), f"trial {result.best.id[:8]}, {self.metric} "
                                                   f"{_score(result.best, self.metric)}")
        return 0

    def _all_failed(self, trials: list[Trial]) -> bool:
        """True, after one line on stderr naming the first failure, when trials failed and none finished (a bad
        fixed option fails them all: the search found nothing, so ``mlpkit tune`` exits with status 1). When only
        some failed, one line says how many and the first error, and the search counts (status 0)."""
        failed = sorted((t for t in trials if t.status == "failed"), key=lambda t: t.number)
        if not failed:
            return False
        first = f"the first, trial {failed[0].id[:8]}: {failed[0].error or 'no error recorded'}"
        if any(t.status in ("completed", "pruned") for t in trials):
            self.console.print(f"note: {len(failed)} of {len(trials)} trials failed; {first}", soft_wrap=True,
                               markup=False, highlight=False)
            return False
        print(f"mlpkit: error: every trial failed ({len(failed)} of {len(trials)}); {first}", file=sys.stderr)
        return True

    def stopped(self, stop: KeyboardInterrupt) -> int:
        """Ctrl-C or SIGTERM (``stop``) during the search: its workers are gone already (the backend kills them
        when the search loop is left), every finished trial is committed in the results file; say so and how to
        continue, in one line. Status 130 for Ctrl-C, 143 for SIGTERM."""
        word = stop_word(stop)
        with deferred(drop=True):  # a second signal changes nothing now
            finished = 0
            if self.storage.is_file():
                with ResultsStore(self.storage) as store:
                    finished = len(store.finished_ids())
            if finished:
                config, storage = shlex.quote(str(self.config)), shlex.quote(str(self.storage))
                print(f"{word}: {finished} finished trial{'s' if finished != 1 else ''} kept in {self.storage} "
                      f"(one that was running runs again); continue with mlpkit tune {config} --storage {storage} "
                      "--resume", file=sys.stderr)
            else:
                print(f"{word} before any trial finished: nothing to resume", file=sys.stderr)
        return stop_status(stop)

    def _write_best(self, config: dict[str, Any] | None, what: str) -> None:
        """best_config.yaml in the results directory, and the command that trains it."""
        if config is None:
            return
        path = write_best_config(self.out / BEST_CONFIG, config, comment=(
            f"mlpkit tune {self.config.name}: the best configuration ({what})\n"
            f"train it: mlpkit train --config {self.out / BEST_CONFIG}"))
        self.console.print(f"best configuration: {path}", soft_wrap=True)
        self.console.print(f"train it: mlpkit train --config {shlex.quote(str(path))}", soft_wrap=True)

    def _report(self, trials: list[Trial], result: SearchResult | None) -> None:
        s = self.settings
        if result is not None and result.skipped:
            self.console.print(f"resumed: {result.skipped} finished trials were found in {self.storage} and skipped")
        self.console.print()
        self.console.print(results_table(trials, self.metric, self.mode, top=s["top"] or None))
        counts: dict[str, int] = {}
        for t in trials:
            counts[t.status] = counts.get(t.status, 0) + 1
        self.console.print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
        self.out.mkdir(parents=True, exist_ok=True)
        written = [write_csv(trials, self.out / "trials.csv", self.mode)]
        if s["plots"] and any(t.status in ("completed", "pruned") and t.score is not None for t in trials):
            if result is not None:  # the recipe's steps share no space to plot against
                written.append(plot_scores(trials, result.spaces[0], self.metric, self.out))
            written.append(plot_curves(trials, self.metric, self.mode, self.out))
        if result is not None and result.best is not None:
            best = result.best
            params = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v!r}"
                               for k, v in best.params.items())
            self.console.print(f"best: {params}  ({self.metric} {_score(best, self.metric)}, trial {best.id[:8]})")
        self.console.print(f"written: {', '.join(str(p) for p in written)}", soft_wrap=True)

    def _print_recipe(self, recipe: RecipeResult) -> None:
        self.console.print(f"Nielsen's recipe: eta threshold {recipe.eta_threshold:.4g} -> eta {recipe.eta:.4g}; "
                           f"lmbda {recipe.lmbda:.4g}; epochs {recipe.epochs} (early stopping, patience "
                           f"{self.settings['patience']}); {self.metric} "
                           f"{'-' if recipe.score is None else _format_score(recipe.score, self.metric)}")
        for note in recipe.notes:
            self.console.print(f"note: {note}")


def _format_score(value: float, metric: str) -> str:
    return f"{value:.2%}" if metric.endswith("accuracy") else f"{value:.4f}"


def _score(trial: Trial, metric: str) -> str:
    return "-" if trial.score is None else _format_score(trial.score, metric)
