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
    strategy = "random"                       # random, grid, coarse-to-fine, nielsen
    trials = 20
    pruning = "median"                        # none, median, halving, or {kind = "halving", eta = 3}
    backend = "process"                       # process, serial, ray
    storage = "search.sqlite"

Relative paths (data files, storage, out) are taken from the current directory, as for ``mlpkit train``.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import Any

from rich.console import Console

from ..settings import SettingsError, parse_document
from ..tuning.backends import BACKENDS
from ..tuning.recipe import DEFAULT_ETAS, DEFAULT_LMBDAS, RecipeResult, nielsen_recipe
from ..tuning.report import plot_curves, plot_scores, results_table, write_csv
from ..tuning.search import STRATEGIES, SearchResult, metric_mode, search
from ..tuning.space import SearchSpace
from ..tuning.store import ResultsStore, Trial

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
}
NIELSEN_ONLY = ("etas", "lmbdas", "probe_epochs", "lmbda_epochs", "max_epochs", "patience")


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
    if settings["strategy"] != "nielsen":
        given = [k for k in NIELSEN_ONLY if k in table]
        if given:
            raise SettingsError(f"{where}: [search] {given[0]!r} applies to strategy nielsen, not "
                              f"{settings['strategy']}")
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
        self.done += 1
        if not self.quiet:
            total = None if self.nielsen or self.settings["strategy"] == "grid" else self.settings["trials"]
            if self.settings["strategy"] == "coarse-to-fine":
                total = self.settings["trials"] * self.settings["rounds"]
            self.console.print(_describe_trial(trial, self.metric, self.done, total), soft_wrap=True)

    def run(self) -> int:
        s = self.settings
        common = {"backend": s["backend"], "workers": s["workers"] or None, "address": s["address"],
                  "storage": self.storage, "resume": self.resume, "on_result": self._on_result}
        self.console.print(f"{self.config.name}: strategy {s['strategy']}, {s['backend']} backend, results in "
                           f"{self.storage}", soft_wrap=True)
        if self.nielsen:
            recipe = nielsen_recipe(self.train, etas=s["etas"], lmbdas=s["lmbdas"], probe_epochs=s["probe_epochs"],
                                    lmbda_epochs=s["lmbda_epochs"], max_epochs=s["max_epochs"],
                                    patience=s["patience"], metric=self.metric, **common)
            trials = [t for step in recipe.steps.values() for t in step]
            self._report(trials, None)
            self._print_recipe(recipe)
            return 0
        result = search(self.space, self.train, strategy=s["strategy"], trials=s["trials"], rounds=s["rounds"],
                        keep=s["keep"], margin=s["margin"], grid_points=s["grid_points"], metric=self.metric,
                        mode=self.mode, pruning=s["pruning"], seed=s["seed"], **common)
        self._report(result.trials, result)
        return 0

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
