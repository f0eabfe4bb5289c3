"""The record of a training run, and the best-so-far rule that early stopping and schedules share.

:class:`History` holds one value of each metric per epoch (Nielsen's ``monitor_*`` lists of network2's
``SGD``, Keras's ``History``). :class:`MetricTracker` keeps the best value of one metric and how many
epochs in a row have not improved on it: Nielsen's "no-improvement-in-n" rule (ch.3), used by
:class:`~mlpkit.callbacks.EarlyStopping` and :class:`~mlpkit.schedules.HalveOnPlateau`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np

from ._atomic import atomic_write_bytes
from .validation import check_positive_float

__all__ = ["History", "MetricTracker"]

#: the ``stop_reason`` of a run that the divergence guard of ``fit`` stopped
DIVERGED = "diverged"


class History:
    """Per-epoch metrics of one training run.

    ``history["val_accuracy"]`` is the list of that metric, one entry per completed epoch; ``epochs`` holds
    the (0-based) epoch numbers. ``params`` holds the run's settings, ``stop_reason`` says why training ended
    (``"completed"``, ``"stopped by callback"``, ``"diverged"``, ...) and ``message`` explains a stop that
    needs explaining (the divergence guard's one-line diagnosis), else it is empty.
    """

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self.params: dict[str, Any] = dict(params or {})
        self.history: dict[str, list[float]] = {}
        self.epochs: list[int] = []
        self.stop_reason = "not started"
        self.message = ""

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epochs.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    @property
    def diverged(self) -> bool:
        """True when the divergence guard of ``fit`` stopped the run."""
        return self.stop_reason == DIVERGED

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.epochs)

    def copy(self) -> History:
        """An independent copy (the lists are copied, so later epochs do not reach it)."""
        return copy.deepcopy(self)

    def to_dict(self) -> dict[str, Any]:
        data = {"params": self.params, "epochs": self.epochs, "history": self.history,
                "stop_reason": self.stop_reason}
        if self.message:
            data["message"] = self.message
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """The History that :meth:`to_dict` described; ValueError when ``data`` does not have its form."""
        try:
            history = cls(data.get("params"))
            history.epochs = [int(e) for e in data.get("epochs", [])]
            history.history = {str(k): [float(x) for x in v] for k, v in data.get("history", {}).items()}
            history.stop_reason = str(data.get("stop_reason", "unknown"))
            history.message = str(data.get("message", ""))
        except (TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a training history: {exc}") from exc
        return history

    def to_json(self, path: str | Path) -> Path:
        """Write the history as JSON (atomically: a crash never leaves a half-written file)."""
        return atomic_write_bytes(Path(path), self.to_json_bytes())

    def to_json_bytes(self) -> bytes:
        """The JSON text :meth:`to_json` writes, as UTF-8 (for a writer that renames several files together)."""
        return json.dumps(self.to_dict(), indent=2, default=_json_default).encode("utf-8")

    @classmethod
    def from_json(cls, path: str | Path) -> History:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def __repr__(self) -> str:
        return f"History(epochs={len(self)}, metrics={sorted(self.history)}, stop_reason={self.stop_reason!r})"


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return str(value)


class MetricTracker:
    """The best value so far of one History metric, and how many values in a row have not improved on it.

    A value improves when it beats the best by more than ``min_delta``.

    Args:
        monitor: the metric's name in the per-epoch logs, e.g. ``"val_loss"`` or ``"val_accuracy"``.
        mode: ``"min"`` (lower is better), ``"max"`` or ``"auto"``: max for a name ending in "accuracy"
            or "acc", min otherwise (losses).
        min_delta: the smallest change that counts as an improvement (>= 0).
    """

    MODES = ("auto", "min", "max")

    def __init__(self, monitor: str, mode: str = "auto", min_delta: float = 0.0) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"monitor must be a metric name such as 'val_loss', got {monitor!r}")
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        self.monitor = monitor
        self.mode = mode if mode != "auto" else ("max" if monitor.endswith(("accuracy", "acc")) else "min")
        self.min_delta = check_positive_float(min_delta, "min_delta", allow_zero=True)
        self.reset()

    def reset(self) -> None:
        self.best: float | None = None
        self.wait = 0

    def check_logged(self, logs: dict, owner: str) -> None:
        """Raise a ValueError saying what the run logs when the monitored metric is not among ``logs``."""
        if self.monitor not in logs:
            raise ValueError(
                f"{owner} monitors {self.monitor!r}, which this run does not log (it logs {sorted(logs)}); "
                "pass validation_data to fit for val_* metrics, or choose another monitor"
            )

    def update(self, value: float) -> bool:
        """Record ``value``; True when it is a new best (``wait`` resets), else ``wait`` grows by one."""
        if self.best is None or (value < self.best - self.min_delta if self.mode == "min"
                                 else value > self.best + self.min_delta):
            self.best = value
            self.wait = 0
            return True
        self.wait += 1
        return False

    def state_dict(self) -> dict[str, Any]:
        """``{"best", "wait"}``: what :meth:`update` has accumulated."""
        return {"best": self.best, "wait": self.wait}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from what :meth:`state_dict` returned; ValueError for anything else."""
        best, wait = state.get("best"), state.get("wait")
        if best is not None and (isinstance(best, bool) or not isinstance(best, (int, float))):
            raise ValueError(f"a tracker's best value must be a number or None, got {best!r}")
        if isinstance(wait, bool) or not isinstance(wait, int) or wait < 0:
            raise ValueError(f"a tracker's wait must be an integer >= 0, got {wait!r}")
        self.best = None if best is None else float(best)
        self.wait = wait
