"""Callbacks: code that runs at the start and end of training, around every epoch and after every batch.

A callback sees the network and the per-epoch ``logs`` (the metrics of that epoch, e.g.
``{"loss": ..., "accuracy": ..., "val_loss": ..., "val_accuracy": ..., "time": ...}``). Setting
``network.stop_training = True`` in ``on_epoch_end`` ends training after that epoch; in ``on_batch_end``,
after that mini-batch (the cut epoch is logged as the last). ``fit`` sets
``callback.optimizer`` before ``on_train_begin``, so a callback may change ``optimizer.learning_rate`` (a
schedule, when given, still sets it at the start of every epoch, before ``on_epoch_begin``).
``on_epoch_begin`` and ``on_batch_end`` are only called for callbacks that override them.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from .history import MetricTracker
from .validation import check_positive_int

if TYPE_CHECKING:
    from .history import History
    from .network import Network
    from .optimizers import Optimizer


class Callback:
    """Base class; override the hooks you need."""

    network: Network | None = None
    #: the run's optimizer, set by ``fit`` before ``on_train_begin``
    optimizer: Optimizer | None = None

    def on_train_begin(self, network: Network, history: History) -> None:
        self.network = network

    def on_epoch_begin(self, epoch: int) -> None:
        """Called at the start of epoch ``epoch`` (0-based), after the schedule set its learning rate."""

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        """Called after every step with ``{"epoch", "batch" (0-based within the epoch), "size" (rows),
        "learning_rate"}``."""

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
    training) describe what happened. Epochs are counted by the callback: a callback that continues from
    :meth:`load_state_dict` (a resumed run) numbers them from the start of the whole run.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = True) -> None:
        self.tracker = MetricTracker(monitor, mode, min_delta)
        self.patience = check_positive_int(patience, "patience")
        self.restore_best_weights = bool(restore_best_weights)
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self._best_params: np.ndarray | None = None
        self._best_states: dict[str, np.ndarray] = {}
        self._loaded: dict[str, Any] | None = None

    @property
    def best(self) -> float | None:
        return self.tracker.best

    def on_train_begin(self, network: Network, history: History) -> None:
        super().on_train_begin(network, history)
        self._history = history
        self._best_params = np.empty_like(network.flat_parameters)
        self._best_states = {}
        self.tracker.reset()
        self.best_epoch = self.stopped_epoch = None
        state, self._loaded = self._loaded, None
        if state is not None:
            self._continue_from(state)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.tracker.check_logged(logs, "EarlyStopping")
        # the epoch of the whole run: every epoch since the best one has added one to wait
        epoch = 0 if self.best_epoch is None else self.best_epoch + self.tracker.wait + 1
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

    # -------------------------------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """What the callback has seen: ``{"best", "wait", "best_epoch", "stopped_epoch", "best_params",
        "best_states"}``, the last two (copies of the best epoch's flat parameters and layer states) only
        with ``restore_best_weights`` and a best epoch (else None and {})."""
        has_best = self.restore_best_weights and self.best_epoch is not None
        return {**self.tracker.state_dict(), "best_epoch": self.best_epoch, "stopped_epoch": self.stopped_epoch,
                "best_params": self._best_params.copy() if has_best else None,
                "best_states": {k: v.copy() for k, v in self._best_states.items()} if has_best else {}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from what :meth:`state_dict` returned when the next training begins (instead of
        starting afresh); ValueError for anything else."""
        if not isinstance(state, dict):
            raise ValueError(f"an early stopping state must be a dict, as state_dict() returns, got {state!r}")
        for key in ("best_epoch", "stopped_epoch"):
            value = state.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"the early stopping state's {key} must be an epoch number or None, got {value!r}")
        probe = MetricTracker(self.tracker.monitor)
        probe.load_state_dict(state)  # checks best and wait
        self._loaded = dict(state)

    def _continue_from(self, state: dict[str, Any]) -> None:
        self.tracker.load_state_dict(state)
        self.best_epoch, self.stopped_epoch = state.get("best_epoch"), state.get("stopped_epoch")
        best = state.get("best_params")
        if best is not None:
            if np.shape(best) != self._best_params.shape:
                raise ValueError(f"the early stopping state holds {np.size(best)} best parameters, the network "
                                 f"has {self._best_params.size}")
            np.copyto(self._best_params, best)
            states = dict(self.network.named_states())
            loaded = {k: np.array(v) for k, v in state.get("best_states", {}).items()}
            if set(loaded) != set(states) or any(loaded[k].shape != states[k].shape for k in states):
                raise ValueError("the early stopping state's best layer states do not match the network")
            self._best_states = loaded
