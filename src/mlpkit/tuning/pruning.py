"""Stopping poor trials early: the median rule and (asynchronous) successive halving.

Both compare the running trial, epoch by epoch, with the learning curves of the trials that finished
before it was started (its *reference*: plain lists of the searched metric, one value per epoch). They act
through a :class:`~mlpkit.callbacks.Callback`, exactly as early stopping does: they set
``network.stop_training`` and say why in ``history.stop_reason``.

- Median rule (Golovin et al. 2017, "Google Vizier", median stopping rule): after ``warmup`` epochs, stop a
  trial whose best value so far is worse than the median of the reference trials' best values up to the
  same epoch.
- Successive halving (Jamieson & Talwalkar 2016; the asynchronous form of Li et al. 2020, "ASHA"): at the
  rungs ``min_epochs * eta^k``, a trial goes on only if its value is in the best ``1/eta`` of the values
  the reference trials had at that rung.

With a serial backend the reference is every earlier trial, so the outcome is reproducible; with parallel
workers it is the trials finished at the moment the trial starts, which depends on timing.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..callbacks import Callback

if TYPE_CHECKING:
    from ..history import History
    from ..network import Network

__all__ = ["MedianRule", "Pruner", "PruningCallback", "SuccessiveHalving", "pruner_from_config"]


def _better(a: float, b: float, mode: str) -> bool:
    return a > b if mode == "max" else a < b


def _best_so_far(curve: Sequence[float], epoch: int, mode: str) -> float:
    head = curve[:epoch + 1]
    return max(head) if mode == "max" else min(head)


class Pruner:
    """Decides after each epoch whether a trial should stop."""

    kind = ""

    def should_prune(self, epoch: int, curve: Sequence[float], reference: Sequence[Sequence[float]],
                     mode: str) -> str | None:
        """None to go on, or the reason to stop. ``curve`` holds the trial's values up to ``epoch`` (0-based)."""
        raise NotImplementedError

    def to_config(self) -> dict[str, Any]:
        raise NotImplementedError


class MedianRule(Pruner):
    """Stop when the best value so far is worse than the median of the reference trials' best values at the
    same epoch (once ``warmup`` epochs are done and at least ``min_trials`` reference trials reached it)."""

    kind = "median"

    def __init__(self, warmup: int = 1, min_trials: int = 3) -> None:
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
            raise ValueError(f"median warmup must be an integer >= 0 (epochs), got {warmup!r}")
        if isinstance(min_trials, bool) or not isinstance(min_trials, int) or min_trials < 1:
            raise ValueError(f"median min_trials must be a positive integer, got {min_trials!r}")
        self.warmup = warmup
        self.min_trials = min_trials

    def should_prune(self, epoch: int, curve: Sequence[float], reference: Sequence[Sequence[float]],
                     mode: str) -> str | None:
        if epoch + 1 <= self.warmup:
            return None
        others = [_best_so_far(c, epoch, mode) for c in reference if len(c) > epoch]
        if len(others) < self.min_trials:
            return None
        median = statistics.median(others)
        mine = _best_so_far(curve, epoch, mode)
        if _better(median, mine, mode):
            return f"pruned by the median rule in epoch {epoch + 1}: best {mine:.4g}, median of {len(others)} " \
                   f"trials {median:.4g}"
        return None

    def to_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "warmup": self.warmup, "min_trials": self.min_trials}


class SuccessiveHalving(Pruner):
    """At rung epochs ``min_epochs * eta^k`` keep going only when in the best ``1/eta`` of the reference
    trials' values at that rung (at least ``eta`` of them must have reached it)."""

    kind = "halving"

    def __init__(self, min_epochs: int = 1, eta: int = 3) -> None:
        if isinstance(min_epochs, bool) or not isinstance(min_epochs, int) or min_epochs < 1:
            raise ValueError(f"halving min_epochs must be a positive integer, got {min_epochs!r}")
        if isinstance(eta, bool) or not isinstance(eta, int) or eta < 2:
            raise ValueError(f"halving eta must be an integer >= 2 (the reduction factor), got {eta!r}")
        self.min_epochs = min_epochs
        self.eta = eta

    def is_rung(self, epochs_done: int) -> bool:
        ratio = epochs_done / self.min_epochs
        if ratio < 1 or not ratio.is_integer():
            return False
        k = round(math.log(ratio, self.eta))
        return self.min_epochs * self.eta ** k == epochs_done

    def should_prune(self, epoch: int, curve: Sequence[float], reference: Sequence[Sequence[float]],
                     mode: str) -> str | None:
        if not self.is_rung(epoch + 1):
            return None
        others = [c[epoch] for c in reference if len(c) > epoch]
        if len(others) < self.eta:
            return None
        ranked = sorted(others, reverse=mode == "max")
        cutoff = ranked[max(len(ranked) // self.eta, 1) - 1]
        mine = curve[epoch]
        if _better(cutoff, mine, mode):
            return f"pruned by successive halving at epoch {epoch + 1}: {mine:.4g} is not in the best 1/{self.eta} " \
                   f"of {len(others)} trials (cutoff {cutoff:.4g})"
        return None

    def to_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "min_epochs": self.min_epochs, "eta": self.eta}


def pruner_from_config(spec: Any) -> Pruner | None:
    """None/"none", "median", "halving", a Pruner, or a mapping ``{"kind": "median", "warmup": 2, ...}``."""
    if spec is None or isinstance(spec, Pruner):
        return spec
    if isinstance(spec, str):
        spec = {"kind": spec}
    if not isinstance(spec, Mapping):
        raise TypeError(f"pruning must be 'none', 'median', 'halving' or a table of their settings, got {spec!r}")
    settings = dict(spec)
    kind = str(settings.pop("kind", "")).strip().lower()
    if kind == "none":
        return None
    classes = {"median": MedianRule, "halving": SuccessiveHalving, "successive-halving": SuccessiveHalving}
    if kind not in classes:
        raise ValueError(f"pruning must be none, median or halving, got {kind!r}")
    try:
        return classes[kind](**settings)
    except TypeError:
        allowed = "warmup, min_trials" if kind == "median" else "min_epochs, eta"
        raise TypeError(f"pruning {kind} takes {allowed}; got {sorted(settings)}") from None


class PruningCallback(Callback):
    """Feeds each epoch's ``metric`` to a :class:`Pruner` and stops training when it says so (the mechanism
    of :class:`~mlpkit.callbacks.EarlyStopping`: ``network.stop_training`` and ``history.stop_reason``)."""

    def __init__(self, pruner: Pruner, metric: str, mode: str, reference: Sequence[Sequence[float]]) -> None:
        self.pruner = pruner
        self.metric = metric
        self.mode = mode
        self.reference = [list(c) for c in reference]
        self.pruned: str | None = None

    def on_train_begin(self, network: Network, history: History) -> None:
        super().on_train_begin(network, history)
        self._history = history
        self.curve: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.metric not in logs:
            return  # reported as a failed trial by the runner
        self.curve.append(float(logs[self.metric]))
        reason = self.pruner.should_prune(len(self.curve) - 1, self.curve, self.reference, self.mode)
        if reason is not None:
            self.pruned = reason
            self.network.stop_training = True
            self._history.stop_reason = reason
