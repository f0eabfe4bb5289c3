"""Nielsen's recipe for eta, lambda and the number of epochs (ch.3, "How to choose a neural network's
hyper-parameters?"), as a helper that runs its trials through any backend and store.

1. Learning-rate threshold. With lambda = 0, train a few epochs for eta = 0.001, 0.01, 0.1, ...; the
   threshold is the largest eta for which the training cost decreases in every one of those first epochs
   (from its value before training) instead of oscillating or increasing; it is then refined on the
   1-2-5 steps inside its decade. Use eta = threshold / 2 ("a factor of two below the threshold").
2. lambda. With that eta, try lambda = 0.01, 0.1, 1, 10, 100 (Nielsen starts at 1.0 and moves by factors
   of 10) on the validation data, then fine-tune by factors of 2 around the best.
3. Epochs. Train with both, stopping early when the validation metric has not improved for ``patience``
   epochs (Nielsen's "no-improvement-in-ten"); the number of epochs is the best epoch's.

The candidates of each step run as one batch, in parallel on a pool or Ray backend.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from ..settings import SettingsError
from .backends import Backend, make_backend
from .search import Searcher, check_options, metric_mode, open_store, rank
from .store import ResultsStore, Trial

__all__ = ["RecipeResult", "cost_decreases", "nielsen_recipe"]

DEFAULT_ETAS = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)
DEFAULT_LMBDAS = (0.01, 0.1, 1.0, 10.0, 100.0)
_RESERVED = ("lr", "l2", "l1", "epochs", "early_stopping", "monitor")


@dataclass
class RecipeResult:
    """What the recipe chose, and the trials of each step (``steps``: step name -> trials)."""

    eta_threshold: float
    eta: float
    lmbda: float
    epochs: int
    score: float | None
    metric: str
    steps: dict[str, list[Trial]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"eta_threshold": self.eta_threshold, "eta": self.eta, "lmbda": self.lmbda, "epochs": self.epochs,
                "score": self.score, "metric": self.metric, "notes": self.notes}


def cost_decreases(trial: Trial) -> bool:
    """True when the trial's training cost fell in every epoch, starting from its cost before training."""
    curve = [trial.extra.get("initial_loss"), *trial.history.get("loss", [])]
    if trial.status == "failed" or None in curve or len(curve) < 2:
        return False
    return all(b < a for a, b in pairwise(curve))


def _best_stable(trials: Sequence[Trial]) -> float | None:
    stable = [t.params["lr"] for t in trials if cost_decreases(t)]
    return max(stable) if stable else None


def nielsen_recipe(options: Mapping[str, Any] | None = None, *, etas: Sequence[float] = DEFAULT_ETAS,
                   lmbdas: Sequence[float] = DEFAULT_LMBDAS, probe_epochs: int = 3, lmbda_epochs: int = 10,
                   max_epochs: int = 100, patience: int = 10, metric: str = "val_accuracy",
                   backend: str | Backend = "process", workers: int | None = None, address: str | None = None,
                   storage: str | Path | None = None, resume: bool = False,
                   on_result: Callable[[Trial], None] | None = None) -> RecipeResult:
    """Run Nielsen's three steps (module docstring) for the fixed ``mlpkit train`` ``options`` (which must
    not set lr, l2, l1, epochs, early_stopping or monitor: the recipe chooses those)."""
    fixed = check_options(options)
    clash = [k for k in _RESERVED if k in fixed]
    if clash:
        raise SettingsError(f"the recipe chooses {', '.join(clash)} itself; remove them from the fixed options")
    for name, value in (("probe_epochs", probe_epochs), ("lmbda_epochs", lmbda_epochs), ("max_epochs", max_epochs),
                        ("patience", patience)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    etas = sorted(float(e) for e in etas)
    lmbdas = sorted(float(v) for v in lmbdas)
    if not etas or etas[0] <= 0 or any(v < 0 for v in lmbdas) or not lmbdas:
        raise ValueError("etas must be positive and lmbdas non-negative, at least one of each")
    mode = metric_mode(metric)
    seed = int(fixed.pop("seed", 0))
    settings = {"kind": "nielsen", "options": fixed, "seed": seed, "etas": etas, "lmbdas": lmbdas,
                "probe_epochs": probe_epochs, "lmbda_epochs": lmbda_epochs, "max_epochs": max_epochs,
                "patience": patience, "metric": metric}
    runner = make_backend(backend, workers, address)
    with ResultsStore(storage) as store:
        open_store(store, json.loads(json.dumps(settings)), resume)
        searcher = Searcher(fixed, store, runner, metric=metric, mode=mode, seed=seed, on_result=on_result)
        steps: dict[str, list[Trial]] = {}
        notes: list[str] = []

        # 1. the learning-rate threshold, to an order of magnitude, then on the 1-2-5 steps
        probe = {"l2": 0.0, "epochs": probe_epochs}
        steps["eta"] = searcher.run_batch([{**probe, "lr": eta} for eta in etas], "eta", initial_loss=True)
        lower = _best_stable(steps["eta"])
        if lower is None:
            raise ValueError(f"the training cost did not decrease over {probe_epochs} epochs for any eta in "
                             f"{etas}; try smaller learning rates")
        finer = [lower * f for f in (2.0, 5.0) if lower * f not in etas]
        if lower == etas[-1]:
            notes.append(f"the cost still decreased at the largest eta tried ({lower:g}); the threshold may be higher")
        steps["eta refine"] = searcher.run_batch([{**probe, "lr": eta} for eta in finer], "eta refine",
                                                 initial_loss=True)
        threshold = max(lower, _best_stable(steps["eta refine"]) or lower)
        eta = threshold / 2

        # 2. lambda by factors of 10 on the validation data, then by factors of 2
        base = {"lr": eta, "epochs": lmbda_epochs}
        steps["lmbda"] = searcher.run_batch([{**base, "l2": v} for v in lmbdas], "lmbda")
        best = _best_scored(steps["lmbda"], mode, "lmbda")
        candidates = [best.params["l2"] * f for f in (0.5, 2.0)] if best.params["l2"] > 0 else []
        steps["lmbda refine"] = searcher.run_batch([{**base, "l2": v} for v in candidates], "lmbda refine")
        lmbda = _best_scored(steps["lmbda"] + steps["lmbda refine"], mode, "lmbda").params["l2"]

        # 3. epochs by early stopping (no improvement in `patience` epochs)
        final = {"lr": eta, "l2": lmbda, "epochs": max_epochs, "early_stopping": patience, "monitor": metric}
        steps["epochs"] = searcher.run_batch([final], "epochs")
        last = steps["epochs"][0]
        if last.status == "failed" or metric not in last.history:
            raise ValueError(f"the final run with eta {eta:g} and lmbda {lmbda:g} failed: {last.error}")
        curve = last.history[metric]
        best_epoch = curve.index(max(curve) if mode == "max" else min(curve)) + 1
        if best_epoch == max_epochs:
            notes.append(f"{metric} still improved in the last of {max_epochs} epochs; more epochs may help")
    return RecipeResult(threshold, eta, lmbda, best_epoch, last.score, metric, steps, notes)


def _best_scored(trials: Sequence[Trial], mode: str, step: str) -> Trial:
    scored = [t for t in rank(trials, mode) if t.status == "completed" and t.score is not None]
    if not scored:
        errors = "; ".join(sorted({t.error or t.status for t in trials}))
        raise ValueError(f"every {step} trial failed ({errors})")
    return scored[0]
