"""Callbacks: code that runs at the start and end of training and after every epoch.

A callback sees the network and the per-epoch ``logs`` (the metrics of that epoch, e.g.
``{"loss": ..., "accuracy": ..., "val_loss": ..., "val_accuracy": ..., "time": ...}``). Setting
``network.stop_training = True`` in ``on_epoch_end`` ends training after that epoch.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

import numpy as np

from .validation import check_positive_float, check_positive_int

if TYPE_CHECKING:
    from .network import Network
    from .training import History


class Callback:
    """Base class; override the hooks you need."""

    network: Network | None = None

    def on_train_begin(self, network: Network, history: History) -> None:
        self.network = network

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """Called after epoch ``epoch`` (0-based) with that epoch's metrics."""

    def on_train_end(self, history: History) -> None:
        """Called once when training ends, however it ends."""


class ProgressLogger(Callback):
    """Prints one line per epoch: ``Epoch 3/30  loss 0.3120  accuracy 95.21%  val_... 1.23 s``."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def on_train_begin(self, network: Network, history: History) -> None:
        super().on_train_begin(network, history)
        self._epochs = history.params.get("epochs")

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        parts = [f"Epoch {epoch + 1}/{self._epochs}"]
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            if key in logs:
                value = logs[key]
                parts.append(f"{key} {value * 100:.2f}%" if key.endswith("accuracy") else f"{key} {value:.4f}")
        parts.append(f"{logs['time']:.2f} s")
        print("  ".join(parts), file=self.stream or sys.stdout, flush=True)


class MetricTracker:
    """The best value so far of one History metric, and how many values in a row have not improved on it.

    Shared by :class:`EarlyStopping` and :class:`mlpkit.schedules.HalveOnPlateau` (Nielsen's
    "no-improvement-in-n" rule). A value improves when it beats the best by more than ``min_delta``.

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


class EarlyStopping(Callback):
    """Stop training when a metric has stopped improving, and go back to the best epoch's weights.

    Nielsen ch.3 ("early stopping": stop when the validation accuracy has not improved for n epochs, the
    "no-improvement-in-n" rule); Ng week 1 ("early stopping" as an alternative regularizer). After every
    epoch the monitored value is compared with the best so far (improvement: by more than ``min_delta``);
    after ``patience`` epochs in a row without improvement training stops. With ``restore_best_weights``
    the network ends training holding exactly the parameters and states (BatchNorm running statistics) of
    the best epoch, however training ended.

    Args:
        monitor: a per-epoch metric (any key of the History): ``"val_loss"`` (default), ``"val_accuracy"``,
            ``"loss"``, ``"accuracy"``...
        patience: epochs without improvement before stopping; default 10 (Nielsen's example).
        min_delta: smallest change that counts as an improvement; default 0.
        mode: ``"auto"`` (max for accuracies, min for losses), ``"min"`` or ``"max"``.
        restore_best_weights: copy the best epoch's parameters back at the end; default True.

    After training, ``best``, ``best_epoch`` (0-based) and ``stopped_epoch`` (None if it never stopped
    training) describe what happened.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = True) -> None:
        self.tracker = MetricTracker(monitor, mode, min_delta)
        self.patience = check_positive_int(patience, "patience")
        self.restore_best_weights = bool(restore_best_weights)

    @property
    def best(self) -> float | None:
        return self.tracker.best

    def on_train_begin(self, network: Network, history: History) -> None:
        super().on_train_begin(network, history)
        self.tracker.reset()
        self._history = history
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self._best_params = np.empty_like(network.flat_parameters)
        self._best_states: dict[str, np.ndarray] = {}

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.tracker.check_logged(logs, "EarlyStopping")
        if self.tracker.update(float(logs[self.tracker.monitor])):
            self.best_epoch = epoch
            if self.restore_best_weights:
                np.copyto(self._best_params, self.network.flat_parameters)
                self._best_states = {name: value.copy() for name, value in self.network.named_states()}
        elif self.tracker.wait >= self.patience:
            self.stopped_epoch = epoch
            self.network.stop_training = True
            self._history.stop_reason = (
                f"early stopping: {self.tracker.monitor} did not improve for {self.patience} epochs "
                f"(best {self.best:.6g} in epoch {self.best_epoch + 1})"
            )

    def on_train_end(self, history: History) -> None:
        if self.restore_best_weights and self.best_epoch is not None:
            np.copyto(self.network.flat_parameters, self._best_params)
            for name, value in self.network.named_states():
                value[...] = self._best_states[name]
