"""Experiment tracking callbacks: a CSV log, TensorBoard event files, model checkpoints, and a learning rate
that drops when a metric stops improving.

Each is a :class:`~mlpkit.callbacks.Callback` for :func:`mlpkit.training.fit`:

- :class:`CSVLogger`: one row per epoch (Keras's ``CSVLogger``);
- :class:`TensorBoardLogger`: scalars per epoch (and per mini-batch) in TensorBoard's event files, written
  with the ``tensorboard`` package's own writer (``pip install 'mlpkit[tensorboard]'``; no TensorFlow or
  PyTorch);
- :class:`ModelCheckpoint`: the best model so far, or the model every k epochs (Keras's ``ModelCheckpoint``);
- :class:`ReduceLROnPlateau`: multiply the learning rate by ``factor`` after ``patience`` epochs without
  improvement (Keras's and PyTorch's ``ReduceLROnPlateau``).

Epoch numbers: the CSV's ``epoch`` column and the TensorBoard step are 0-based, like
:attr:`mlpkit.history.History.epochs` (and Keras); the ``{epoch}`` of a checkpoint's file name is the number
of epochs completed (1-based, like Keras's file names and :attr:`mlpkit.checkpoint.Checkpoint.epoch`). The
loggers and the checkpoint take ``epoch_offset``: the epochs a resumed run had completed before this ``fit``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import string
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._atomic import atomic_write_bytes, write_error
from .callbacks import Callback
from .history import MetricTracker
from .serialization import save_network
from .validation import check_positive_float, check_positive_int

if TYPE_CHECKING:
    from .history import History
    from .network import Network

__all__ = ["CSVLogger", "ModelCheckpoint", "ReduceLROnPlateau", "TensorBoardLogger", "tensorboard_available"]

TENSORBOARD_HINT = "pip install 'mlpkit[tensorboard]'"


def _offset(value: int, name: str = "epoch_offset") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer >= 0, got {value!r} ({type(value).__name__})")
    if value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return value


def _check_state_count(value: object, name: str) -> None:
    """A count read from a saved state: ValueError unless it is an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")


# ------------------------------------------------------------------------------------------------ CSV
class CSVLogger(Callback):
    """Write the per-epoch logs to a CSV file: a header ``epoch,<key>,...`` and one row per epoch.

    The columns are ``epoch`` then every log key in the order it first appeared; a key that first appears
    in a later epoch adds a column, and the earlier rows get an empty cell there. Values are written with
    Python's shortest round-trip form (``repr`` of the float), so the file reads back exactly.

    Crash safety: a new row is appended unbuffered as its epoch ends (no fsync: training does not wait for
    the disk), so a stopped or killed process leaves only whole rows, and a row that a full disk cuts short
    is cut off again (the file keeps its whole rows; :class:`mlpkit._atomic.WriteError`); when the columns
    change (a new key, a new file, rows dropped on resume) the whole file is rewritten atomically
    (:func:`mlpkit._atomic.atomic_write_bytes`: a temporary file then ``os.replace``), so a crash leaves either
    the old file or the new one. Only a power cut can leave an unterminated last line; with ``append=True``
    that line is dropped when the file is opened again.

    Args:
        path: the CSV file (its directory is created).
        append: keep the rows already in ``path`` and add this run's after them (a resumed run); the file
            must have been written by a CSVLogger (first column ``epoch``). False: start a new file when
            training begins.
        epoch_offset: the number of the first epoch of this ``fit`` call is ``epoch_offset`` (0-based); with
            ``append``, existing rows from that epoch on are dropped (an interrupted run logged epochs its
            checkpoint did not keep). None: 0, or with ``append`` one more than the last epoch in the file.
    """

    def __init__(self, path: str | Path, append: bool = False, *, epoch_offset: int | None = None) -> None:
        self.path = Path(path)
        self.append = bool(append)
        self.epoch_offset = None if epoch_offset is None else _offset(epoch_offset)
        self.columns: list[str] = ["epoch"]
        self.rows: list[dict[str, str]] = []

    def on_train_begin(self, network: Network, history: History) -> None:
        super().on_train_begin(network, history)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.columns, self.rows = ["epoch"], []
        if self.append and self.path.exists():
            self.columns, self.rows = _read_log(self.path)
        start = self.epoch_offset
        if start is None:
            start = int(self.rows[-1]["epoch"]) + 1 if self.rows else 0
        self.rows = [row for row in self.rows if int(row["epoch"]) < start]
        self._start = start
        self._rewrite()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        row = {"epoch": str(self._start + epoch)}
        row.update({key: repr(float(value)) for key, value in logs.items()})
        self.rows.append(row)
        new = [key for key in row if key not in self.columns]
        if new:
            self.columns += new
            self._rewrite()
            return
        data = memoryview(_csv_bytes([row], self.columns, header=False))
        with open(self.path, "ab", buffering=0) as handle:  # written through at once: no buffer to flush later
            start = handle.seek(0, os.SEEK_END)
            try:
                while data:
                    data = data[handle.write(data):]
            except OSError as exc:  # a full disk: cut the partial row, so the file keeps whole rows only
                with contextlib.suppress(OSError):
                    handle.truncate(start)
                raise write_error(exc, self.path, existed=True) from None

    def _rewrite(self) -> None:
        atomic_write_bytes(self.path, _csv_bytes(self.rows, self.columns, header=True))


def _csv_bytes(rows: list[dict[str, str]], columns: list[str], *, header: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(columns)
    writer.writerows([row.get(column, "") for column in columns] for row in rows)
    return buffer.getvalue().encode("utf-8")


def _read_log(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The columns and rows of a CSVLogger file, without an unterminated last line."""
    data = path.read_bytes()
    if not data.endswith(b"\n"):
        data = data[:data.rfind(b"\n") + 1]
    lines = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    if not lines:
        return ["epoch"], []
    columns = lines[0]
    if not columns or columns[0] != "epoch":
        raise ValueError(f"{path} is not a CSVLogger file: its first column is {columns[:1]}, expected 'epoch'")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if len(line) != len(columns) or not line[0].isdigit():
            raise ValueError(f"{path}, line {number}: expected {len(columns)} cells starting with an epoch "
                             f"number, got {line!r}")
        rows.append(dict(zip(columns, line, strict=True)))
    return columns, rows


# ---------------------------------------------------------------------------------------- TensorBoard
def tensorboard_available() -> bool:
    """True when the ``tensorboard`` package (the optional ``mlpkit[tensorboard]`` extra) can be imported."""
    try:
        _tensorboard()
    except ImportError:
        return False
    return True


def _tensorboard() -> tuple[Any, Any, Any]:
    """TensorBoard's event writer class and its Event and Summary protos (imported only when needed)."""
    try:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        raise ImportError(f"TensorBoard logging needs the tensorboard package: {TENSORBOARD_HINT}") from None
    return EventFileWriter, Event, Summary


class TensorBoardLogger(Callback):
    """Write the per-epoch logs as TensorBoard scalars (``tensorboard --logdir DIR`` shows them).

    Every key of an epoch's logs (``loss``, ``accuracy``, ``val_*``, ``learning_rate``, ``time``...) becomes
    a scalar of that tag at step ``epoch_offset + epoch``. With ``batch_level``, every mini-batch also writes
    the numeric keys of :meth:`~mlpkit.callbacks.Callback.on_batch_end`'s logs other than ``epoch`` and
    ``batch`` (``learning_rate``, ``size``...) as ``batch/<key>`` at a step that counts mini-batches over the
    whole run. The events go through the ``tensorboard`` package's own writer
    (``tensorboard.summary.writer.event_file_writer.EventFileWriter``: a new
    ``events.out.tfevents.*`` file in ``log_dir`` for each ``fit``), flushed at the end of every epoch and
    closed when training ends. Event records carry checksums, so a reader skips a record cut short by a crash.

    Args:
        log_dir: the directory of the event files (created).
        batch_level: also write a scalar per mini-batch.
        epoch_offset: epochs a resumed run completed before this ``fit`` (the first step of this call).

    ImportError (one line naming ``pip install 'mlpkit[tensorboard]'``) when ``tensorboard`` is missing.
    """

    def __init__(self, log_dir: str | Path, batch_level: bool = False, *, epoch_offset: int = 0) -> None:
        self._writer_class, self._event, self._summary = _tensorboard()
        self.log_dir = Path(log_dir)
        self.batch_level = bool(batch_level)
        self.epoch_offset = _offset(epoch_offset)
        self._writer: Any = None
        self._batch_step = 0

    def on_train_begin(self, network: Network, history: History) -> None:
        super().on_train_begin(network, history)
        self.close()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._writer = self._writer_class(str(self.log_dir))
        n, batch_size = history.params.get("n_train"), history.params.get("batch_size")
        per_epoch = math.ceil(n / batch_size) if n and batch_size else 0
        self._batch_step = self.epoch_offset * per_epoch

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        if not self.batch_level:
            return
        self._write(self._batch_step, {f"batch/{k}": v for k, v in logs.items() if k not in ("epoch", "batch")})
        self._batch_step += 1

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self._write(self.epoch_offset + epoch, logs)
        self._writer.flush()

    def on_train_end(self, history: History) -> None:
        self.close()

    def close(self) -> None:
        """Flush and close the event file (training's end does this)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _write(self, step: int, scalars: dict[str, float]) -> None:
        values = [self._summary.Value(tag=tag, simple_value=float(value)) for tag, value in scalars.items()
                  if isinstance(value, (int, float)) and not isinstance(value, bool)]
        if values:
            self._writer.add_event(self._event(wall_time=time.time(), step=step, summary=self._summary(value=values)))


# ------------------------------------------------------------------------------------------ checkpoints
class ModelCheckpoint(Callback):
    """Save the network to ``path`` during training: the best one so far, or every ``every`` epochs.

    After each epoch (or each ``every``-th: after epochs k, 2k, ... counted over the whole run) the network
    is saved with :func:`mlpkit.serialization.save_network` (the format of :meth:`Network.save`, written
    atomically: a failed or interrupted save leaves the previous file whole). With ``save_best_only`` it is
    saved only when ``monitor`` improved on the best value seen at the earlier checks (the best-so-far rule of
    :class:`~mlpkit.history.MetricTracker`, as in :class:`~mlpkit.callbacks.EarlyStopping`). The saved
    file's metadata holds ``{"epoch": epochs completed, "logs": that epoch's logs}``.

    Args:
        path: the model file; may contain ``{epoch}`` (epochs completed, 1-based) and ``{<log key>}`` fields in
            :meth:`str.format` syntax, e.g. ``"model-{epoch:03d}-{val_loss:.4f}.mlpk"``.
        monitor, mode: the metric and direction for ``save_best_only`` (``mode`` "auto": max for accuracies).
        save_best_only: save only a new best (True, default) or at every check.
        every: check every ``every`` epochs (None: every epoch).
        epoch_offset: epochs a resumed run completed before this ``fit``.

    ``saved`` lists the paths written, ``best_epoch`` is the epoch (1-based) of the best model saved.
    """

    def __init__(self, path: str | Path, monitor: str = "val_loss", mode: str = "auto", save_best_only: bool = True,
                 every: int | None = None, *, epoch_offset: int = 0) -> None:
        self.path = str(path)
        fields = [name for _, name, _, _ in string.Formatter().parse(self.path) if name is not None]
        for name in fields:
            if not name.isidentifier():
                raise ValueError(f"ModelCheckpoint path {self.path!r}: field {{{name}}} must name 'epoch' or a "
                                 "log key such as 'val_loss'")
        self.tracker = MetricTracker(monitor, mode)
        self.save_best_only = bool(save_best_only)
        self.every = None if every is None else check_positive_int(every, "every")
        self.epoch_offset = _offset(epoch_offset)
        self.saved: list[Path] = []
        self.best_epoch: int | None = None
        self._loaded: dict[str, Any] | None = None

    @property
    def best(self) -> float | None:
        return self.tracker.best

    def on_train_begin(self, network: Network, history: History) -> None:
        super().on_train_begin(network, history)
        self.saved = []
        self.tracker.reset()
        self.best_epoch = None
        state, self._loaded = self._loaded, None
        if state is not None:
            self.tracker.load_state_dict(state)
            self.best_epoch = state.get("best_epoch")

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        done = self.epoch_offset + epoch + 1
        if self.every is not None and done % self.every:
            return
        if self.save_best_only:
            self.tracker.check_logged(logs, "ModelCheckpoint")
            if not self.tracker.update(float(logs[self.tracker.monitor])):
                return
            self.best_epoch = done
        try:
            target = Path(self.path.format(**{**logs, "epoch": done}))
        except (KeyError, ValueError, IndexError) as exc:
            raise ValueError(f"ModelCheckpoint path {self.path!r} does not format with epoch and the logs "
                             f"{sorted(logs)}: {exc}") from None
        target.parent.mkdir(parents=True, exist_ok=True)
        save_network(self.network, target, metadata={"epoch": done, "logs": {k: float(v) for k, v in logs.items()}})
        self.saved.append(target)

    def state_dict(self) -> dict[str, Any]:
        """``{"best", "wait", "best_epoch"}``: the best value saved so far and its epoch (1-based)."""
        return {**self.tracker.state_dict(), "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from what :meth:`state_dict` returned when the next training begins (a resumed run does
        not overwrite a better model saved before); ValueError for anything else."""
        if not isinstance(state, dict):
            raise ValueError(f"a model checkpoint state must be a dict, as state_dict() returns, got {state!r}")
        best_epoch = state.get("best_epoch")
        if best_epoch is not None:
            _check_state_count(best_epoch, "the model checkpoint state's best_epoch")
        MetricTracker(self.tracker.monitor).load_state_dict(state)  # checks best and wait
        self._loaded = dict(state)


# ---------------------------------------------------------------------------------- learning rate
class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs.

    Keras's and PyTorch's ``ReduceLROnPlateau``; the adaptive form of Nielsen's ch.3 "no-improvement-in-n"
    learning-rate schedule (halve eta when the validation accuracy stops improving). After every epoch the
    monitored value goes through the best-so-far rule of :class:`~mlpkit.history.MetricTracker` (improvement:
    beating the best by more than ``min_delta``; ``wait`` counts the epochs in a row without one). When
    ``wait`` reaches ``patience``:

        lr <- max(lr * factor, min_lr),   wait <- 0,

    and the next ``cooldown`` epochs do not count towards ``wait`` (the best value is still updated). A
    learning rate already at ``min_lr`` stays there. The new rate applies from the next epoch; ``fit`` logs
    each epoch's rate as ``learning_rate``. This is PyTorch's rule with ``threshold_mode="abs"``, whose
    ``patience`` p waits for p + 1 bad epochs (``num_bad_epochs > patience``): ``patience`` here is p + 1, as in
    Keras (``wait >= patience``).

    The callback changes ``callback.optimizer``, which ``fit`` sets before ``on_train_begin``. A schedule
    given to ``fit`` sets the rate at the start of every epoch and so overrides this callback: use one or
    the other.

    Args:
        monitor: the metric (``"val_loss"`` by default; any key of the History).
        factor: the multiplier, 0 < factor < 1; default 0.1.
        patience: epochs without improvement before a reduction; default 10.
        min_delta: the smallest change that counts as an improvement; default 0.
        cooldown: epochs after a reduction that do not count towards ``patience``; default 0.
        min_lr: the lowest rate; default 0.
        mode: ``"auto"`` (max for accuracies, min for losses), ``"min"`` or ``"max"``.

    ``reductions`` lists ``(epoch, new learning rate)`` for each reduction (0-based epoch of this ``fit``).
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, min_delta: float = 0.0,
                 cooldown: int = 0, min_lr: float = 0.0, mode: str = "auto") -> None:
        factor = check_positive_float(factor, "factor")
        if factor >= 1.0:
            raise ValueError(f"factor must be below 1 (the rate is multiplied by it), got {factor!r}")
        self.factor = factor
        self.tracker = MetricTracker(monitor, mode, min_delta)
        self.patience = check_positive_int(patience, "patience")
        self.cooldown = _offset(cooldown, "cooldown")
        self.min_lr = check_positive_float(min_lr, "min_lr", allow_zero=True)
        self.cooldown_counter = 0
        self.reductions: list[tuple[int, float]] = []
        self._loaded: dict[str, Any] | None = None

    def on_train_begin(self, network: Network, history: History) -> None:
        super().on_train_begin(network, history)
        if getattr(self, "optimizer", None) is None:
            raise RuntimeError("ReduceLROnPlateau changes the optimizer's learning rate: train with fit, which "
                               "sets callback.optimizer")
        self.tracker.reset()
        self.cooldown_counter = 0
        self.reductions = []
        state, self._loaded = self._loaded, None
        if state is not None:
            self.tracker.load_state_dict(state)
            self.cooldown_counter = state["cooldown_counter"]

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.tracker.check_logged(logs, "ReduceLROnPlateau")
        self.tracker.update(float(logs[self.tracker.monitor]))
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.tracker.wait = 0
        elif self.tracker.wait >= self.patience:
            rate = self.optimizer.learning_rate
            new = max(rate * self.factor, self.min_lr)
            if new < rate:
                self.optimizer.learning_rate = new
                self.reductions.append((epoch, new))
            self.cooldown_counter = self.cooldown
            self.tracker.wait = 0

    def state_dict(self) -> dict[str, Any]:
        """``{"best", "wait", "cooldown_counter"}`` (the rate itself is the optimizer's state)."""
        return {**self.tracker.state_dict(), "cooldown_counter": self.cooldown_counter}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from what :meth:`state_dict` returned when the next training begins; ValueError for
        anything else."""
        if not isinstance(state, dict):
            raise ValueError(f"a ReduceLROnPlateau state must be a dict, as state_dict() returns, got {state!r}")
        _check_state_count(state.get("cooldown_counter"), "the ReduceLROnPlateau state's cooldown_counter")
        MetricTracker(self.tracker.monitor).load_state_dict(state)  # checks best and wait
        self._loaded = dict(state)
