"""Training checkpoints: everything needed to stop a run and continue it exactly where it was.

A checkpoint holds the network (configuration, parameters, BatchNorm/Standardize states), the number of
epochs completed, the History so far, the optimizer's state (velocity / squared-gradient averages and the
step count, so Adam's bias correction continues), the state of the training loop's random generator
(shuffling, dropout masks, augmentation), the learning-rate schedule's state, early stopping's state (its
best value, patience count and best weights), and the run's configuration.

The file format follows :mod:`mlpkit.serialization`: one zip with ``checkpoint.json`` and ``arrays.npz``,
never pickle, read back with the same bounded readers and checked (names, shapes, dtypes from the arrays'
headers, sizes before decompression and before the network is built) before use; it is written under a
temporary name and renamed into place, so an interruption while saving never leaves a broken file.

The optimizer, the schedule and early stopping each give their state with ``state_dict()`` and take it back
with ``load_state_dict()``; this module only stores those states (their arrays in the npz, the rest in the
JSON) and reads them back. Resuming, with the pieces of this module::

    ckpt = load_checkpoint("run/checkpoint.mlpkc")
    net, optimizer = ckpt.restore_network(), ckpt.restore_optimizer()
    schedule.start(optimizer.learning_rate); schedule.load_state_dict(ckpt.schedule_state)  # if the run had one
    early_stopping.load_state_dict(ckpt.early_stopping_state)                                # if it had one
    history = fit(net, X, y, epochs=total - ckpt.epoch, optimizer=optimizer, seed=ckpt.restore_rng(),
                  schedule=continue_schedule(schedule, ckpt.epoch, ckpt.history), ...)

gives bit-identical parameters to a run that was never interrupted (:func:`mlpkit.settings.build_run` does
exactly this for a run directory). :class:`Checkpointer` is the callback that keeps the latest consistent
snapshot (taken at the end of every epoch) while ``fit`` runs.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._atomic import atomic_write_bytes, zip_bytes
from ._bounded import max_file_bytes
from .callbacks import Callback, EarlyStopping
from .history import History
from .network import Network
from .optimizers import Optimizer, get_optimizer
from .schedules import Schedule
from .serialization import (
    _ARRAY_OVERHEAD_BYTES,
    ModelFileError,
    check_arrays,
    declared_entries,
    file_network_config,
    network_from_file_config,
    open_arrays,
    open_container,
    parse_document,
    stored_entries,
)

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "Checkpointer",
    "continue_history",
    "continue_schedule",
    "load_checkpoint",
    "save_checkpoint",
]

FORMAT_NAME = "mlpkit-checkpoint"
FORMAT_VERSION = 1
STATE_ENTRY = "checkpoint.json"
ARRAYS_ENTRY = "arrays.npz"
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")


class CheckpointError(ModelFileError):
    """A checkpoint file is missing, not an mlpkit checkpoint, corrupt, or inconsistent."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    return str(value)


@dataclass
class Checkpoint:
    """The state of a training run after ``epoch`` completed epochs (see the module docstring)."""

    network_config: dict[str, Any]
    weights: dict[str, np.ndarray]
    epoch: int
    history: History
    optimizer_config: dict[str, Any] | None = None
    optimizer_state: dict[str, Any] | None = None
    rng_state: dict[str, Any] | None = None
    schedule_state: dict[str, Any] | None = None
    early_stopping_state: dict[str, Any] | None = None
    config: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def restore_network(self) -> Network:
        """A new network with this checkpoint's architecture, parameters and states."""
        network = Network.from_config(self.network_config)
        network.set_weights(self.weights)
        return network

    def restore_optimizer(self) -> Optimizer | None:
        """A new optimizer with the saved hyper-parameters (including the current learning rate) and slots."""
        if self.optimizer_config is None:
            return None
        optimizer = get_optimizer(dict(self.optimizer_config))
        if self.optimizer_state is not None:
            optimizer.load_state_dict(self.optimizer_state)
        return optimizer

    def restore_rng(self) -> np.random.Generator | None:
        """The training loop's generator, in the state it had at the end of epoch ``epoch``."""
        if self.rng_state is None:
            return None
        return _generator_from_state(self.rng_state)

    def restore_schedule(self, schedule: Schedule | None) -> None:
        """Put the saved state into ``schedule`` (built with the run's settings, after ``start``)."""
        if schedule is not None and self.schedule_state is not None:
            schedule.load_state_dict(self.schedule_state)


def _generator_from_state(state: dict[str, Any]) -> np.random.Generator:
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in _BIT_GENERATORS:
        raise CheckpointError(f"unknown random generator {name!r}; expected one of {', '.join(_BIT_GENERATORS)}")
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"invalid random generator state: {exc}") from exc
    return np.random.Generator(bit_generator)


class _ContinuedHistory:
    """A read-only History of the earlier epochs followed by those of the current ``fit`` call, as a
    schedule that reads the History (:class:`HalveOnPlateau`) would see it in an uninterrupted run."""

    def __init__(self, previous: History | None, current: History | None) -> None:
        self._parts = [h for h in (previous, current) if h is not None]

    @property
    def history(self) -> dict[str, list[float]]:
        merged: dict[str, list[float]] = {}
        for part in self._parts:
            for key, values in part.history.items():
                merged.setdefault(key, []).extend(values)
        return merged

    def __len__(self) -> int:
        return sum(len(part) for part in self._parts)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history


def continue_schedule(schedule: Schedule | Callable | None, epoch_offset: int,
                      previous: History | None = None) -> Callable | None:
    """A schedule function for a ``fit`` call that continues a run after ``epoch_offset`` epochs.

    ``fit`` counts epochs from 0 and starts a fresh History; the returned function passes the run's
    absolute epoch and the whole History (``previous`` then the current call's) to ``schedule``. It is a
    plain function, so ``fit`` does not ``start`` (reset) the schedule: start it, or restore its state
    with :meth:`Checkpoint.restore_schedule`, before training.
    """
    if schedule is None:
        return None

    def scheduled(epoch: int, history: History | None = None) -> float | None:
        return schedule(epoch + epoch_offset, _ContinuedHistory(previous, history))

    return scheduled


def continue_history(previous: History | None, current: History, epoch_offset: int) -> History:
    """One History: the ``previous`` epochs, then ``current``'s renumbered from ``epoch_offset``."""
    merged = History(dict(current.params))
    if previous is not None:
        merged.epochs = list(previous.epochs)
        merged.history = {k: list(v) for k, v in previous.history.items()}
    merged.epochs += [epoch_offset + e for e in current.epochs]
    for key, values in current.history.items():
        merged.history.setdefault(key, []).extend(values)
    merged.stop_reason = current.stop_reason
    merged.message = current.message
    return merged


# ------------------------------------------------------------------------------------- the callback
class Checkpointer(Callback):
    """Keeps the latest consistent :class:`Checkpoint` of a ``fit`` run in memory (taken when training
    begins and at the end of every epoch), and writes it on request, every ``every`` epochs, or at the first
    epoch end ``interval`` seconds after the last write (so a crash or ``kill -9``, which no handler sees,
    loses at most that much training, plus the epoch under way).

    A KeyboardInterrupt can arrive in the middle of an epoch, when the parameters, the optimizer and the
    random generator are half-way through it; the snapshot of the last completed epoch is what resumes
    exactly. Put this callback after :class:`~mlpkit.callbacks.EarlyStopping` so that it sees its state of
    the epoch.

    Args:
        optimizer: the optimizer given to ``fit``.
        schedule: the run's schedule object (not the :func:`continue_schedule` wrapper), if any.
        early_stopping: the run's :class:`~mlpkit.callbacks.EarlyStopping`, if any.
        epoch_offset: epochs completed before this ``fit`` call (0 for a new run).
        previous_history: the History of those epochs.
        config: the run's configuration (JSON-serializable), stored with the checkpoint.
        path: where :meth:`save` writes by default.
        every: also save to ``path`` every ``every`` epochs (0: only when asked).
        interval: also save to ``path`` at the end of the first epoch that ends ``interval`` seconds or more
            after the previous write (or the start of training); 0: not by time.
        write: writes a snapshot to a path (default :func:`save_checkpoint`); ``mlpkit train`` passes one that
            saves the checkpoint with the run directory's other files and its manifest.
    """

    def __init__(self, optimizer: Optimizer, *, schedule: Schedule | None = None,
                 early_stopping: EarlyStopping | None = None, epoch_offset: int = 0,
                 previous_history: History | None = None, config: dict[str, Any] | None = None,
                 path: str | os.PathLike[str] | None = None, every: int = 0, interval: float = 0.0,
                 write: Callable[[Path, Checkpoint], Path] | None = None) -> None:
        self.optimizer = optimizer
        self.schedule = schedule
        self.early_stopping = early_stopping
        self.epoch_offset = int(epoch_offset)
        self.previous_history = previous_history
        self.config = dict(config or {})
        self.path = None if path is None else Path(path)
        self.every = int(every)
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not interval >= 0:
            raise ValueError(f"interval must be a number of seconds >= 0 (0: off), got {interval!r}")
        self.interval = float(interval)
        self.write = write or save_checkpoint
        self.latest: Checkpoint | None = None
        self._last_write = time.monotonic()

    def on_train_begin(self, network: Network, history: History) -> None:
        super().on_train_begin(network, history)
        self._history = history
        self._capture(self.epoch_offset)
        self._last_write = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        done = self.epoch_offset + epoch + 1
        self._capture(done)
        by_count = self.every and done % self.every == 0
        by_time = self.interval and time.monotonic() - self._last_write >= self.interval
        if self.path is not None and (by_count or by_time):
            self.save()

    def _capture(self, epoch: int) -> None:
        network = self.network
        rng = network.training_rng
        self.latest = Checkpoint(
            network_config=file_network_config(network),
            weights=network.get_weights(),
            epoch=epoch,
            history=continue_history(self.previous_history, self._history, self.epoch_offset),
            optimizer_config=self.optimizer.get_config(),
            optimizer_state=self.optimizer.state_dict(),
            rng_state=None if rng is None else rng.bit_generator.state,
            schedule_state=None if self.schedule is None else self.schedule.state_dict(),
            early_stopping_state=None if self.early_stopping is None else self.early_stopping.state_dict(),
            config=self.config,
        )

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the latest snapshot (atomically) to ``path`` or the callback's ``path``."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("no path: pass one to save() or to Checkpointer(path=...)")
        if self.latest is None:
            raise RuntimeError("nothing to save yet: training has not started")
        written = self.write(target, self.latest)
        self._last_write = time.monotonic()
        return written


# ------------------------------------------------------------------------------------ file format
def save_checkpoint(path: str | os.PathLike[str], checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` to ``path`` as one zip (JSON + npz, no pickle), atomically."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot save the checkpoint to {path}: it is a directory")
    data = checkpoint_bytes(checkpoint)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(path, data)


def checkpoint_bytes(checkpoint: Checkpoint) -> bytes:
    """The bytes of the checkpoint file of ``checkpoint`` (what :func:`save_checkpoint` writes), for a writer
    that renames several files together (a run directory: :func:`mlpkit.settings.rundir.commit`)."""
    arrays = {f"network/{name}": value for name, value in checkpoint.weights.items()}
    optimizer = None
    if checkpoint.optimizer_config is not None:
        slots = (checkpoint.optimizer_state or {}).get("slots", {})
        arrays.update({f"optimizer/{name}": value for name, value in slots.items()})
        optimizer = {"config": checkpoint.optimizer_config, "slots": sorted(slots),
                     "iterations": int((checkpoint.optimizer_state or {}).get("iterations", 0))}
    early = None
    if checkpoint.early_stopping_state is not None:
        early = {k: v for k, v in checkpoint.early_stopping_state.items() if k not in ("best_params", "best_states")}
        best = checkpoint.early_stopping_state.get("best_params")
        early["has_best_params"] = best is not None
        early["best_states"] = sorted(checkpoint.early_stopping_state.get("best_states", {}))
        if best is not None:
            arrays["early_stopping/best_params"] = best
            for name, value in checkpoint.early_stopping_state["best_states"].items():
                arrays[f"early_stopping/states/{name}"] = value
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "network": checkpoint.network_config,
        "epoch": int(checkpoint.epoch),
        "history": checkpoint.history.to_dict(),
        "optimizer": optimizer,
        "rng": checkpoint.rng_state,
        "schedule": checkpoint.schedule_state,
        "early_stopping": early,
        "config": checkpoint.config,
        "metadata": {"saved_at": time.strftime("%Y-%m-%dT%H:%M:%S"), **checkpoint.metadata},
    }
    text = json.dumps(document, indent=1, default=_jsonable)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return zip_bytes({STATE_ENTRY: text, ARRAYS_ENTRY: buffer.getvalue()})


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`; refuse anything that does not check."""
    path = Path(path)
    with open_container(path, STATE_ENTRY, "checkpoint file", CheckpointError) as (archive, text):
        document = _parse_document(text, path)
        optimizer = document.get("optimizer")
        early = document.get("early_stopping")
        slot_names = _names(optimizer, "slots", path)
        state_names = _names(early, "best_states", path)
        count, itemsize = declared_entries(document["network"], path)
        # slots and early stopping's copy may be float64 whatever the network's dtype
        limit = 2 * count * itemsize * (2 + len(slot_names)) + 16 * count + _ARRAY_OVERHEAD_BYTES
        with open_arrays(archive, min(limit, max_file_bytes()), path, CheckpointError) as npz:
            network = network_from_file_config(document["network"], path, stored=stored_entries(npz, "network/"))
            targets = dict(network.named_parameters())
            targets.update(network.named_states())
            expected = {f"network/{name}": (value.shape, value.dtype) for name, value in targets.items()}
            states = {name: value.shape for name, value in network.named_states()}
            n_params = network.n_params
            check_arrays(path, targets, npz, CheckpointError, "the network", prefix="network/")
            del network, targets  # only their shapes are needed: free the built network before decoding
            wanted = set(expected) | {f"optimizer/{s}" for s in slot_names}
            if isinstance(early, dict) and early.get("has_best_params"):
                wanted |= {"early_stopping/best_params"} | {f"early_stopping/states/{s}" for s in state_names}
            if set(npz.headers) != wanted:
                raise CheckpointError(f"{path}: arrays do not match the checkpoint's description: missing "
                                      f"{sorted(wanted - set(npz.headers))[:10]}, unexpected "
                                      f"{sorted(set(npz.headers) - wanted)[:10]}")
            vectors = [f"optimizer/{s}" for s in slot_names]
            if isinstance(early, dict) and early.get("has_best_params"):
                vectors.append("early_stopping/best_params")
            for name in vectors:
                header = npz.headers[name]
                if header.shape != (n_params,) or header.dtype.kind != "f":
                    raise CheckpointError(f"{path}: array {name} must be a float vector of {n_params} entries, got "
                                          f"{header.dtype}{list(header.shape)}")
            for s in state_names:
                header, target = npz.headers[f"early_stopping/states/{s}"], states.get(s)
                if target is None or header.shape != target:
                    raise CheckpointError(f"{path}: early stopping state {s} does not match the network")
            arrays = {name: npz.read(name) for name in sorted(wanted)}

    weights = {name[len("network/"):]: arrays[name] for name in expected}
    optimizer_config = optimizer_state = None
    if isinstance(optimizer, dict):
        optimizer_config = optimizer.get("config")
        optimizer_state = {"name": (optimizer_config or {}).get("name"), "iterations": optimizer.get("iterations", 0),
                           "slots": {s: arrays[f"optimizer/{s}"] for s in slot_names}}
    early_state = None
    if isinstance(early, dict):
        early_state = {k: v for k, v in early.items() if k not in ("has_best_params", "best_states")}
        has_best = bool(early.get("has_best_params"))
        early_state["best_params"] = arrays["early_stopping/best_params"] if has_best else None
        early_state["best_states"] = {s: arrays[f"early_stopping/states/{s}"] for s in state_names} if has_best else {}
    try:
        history = History.from_dict(document.get("history") or {})
    except ValueError as exc:
        raise CheckpointError(f"{path}: invalid history: {exc}") from exc
    checkpoint = Checkpoint(
        network_config=document["network"], weights=weights, epoch=document["epoch"], history=history,
        optimizer_config=optimizer_config, optimizer_state=optimizer_state, rng_state=document.get("rng"),
        schedule_state=document.get("schedule"), early_stopping_state=early_state,
        config=document.get("config") or {}, metadata=document.get("metadata") or {},
    )
    if checkpoint.rng_state is not None:
        _generator_from_state(checkpoint.rng_state)  # fail now, not at resume time
    if checkpoint.optimizer_config is not None:
        try:
            checkpoint.restore_optimizer()
        except (ValueError, TypeError) as exc:
            raise CheckpointError(f"{path}: invalid optimizer state: {exc}") from exc
    if early_state is not None:
        try:
            EarlyStopping().load_state_dict(early_state)
        except ValueError as exc:
            raise CheckpointError(f"{path}: invalid early stopping state: {exc}") from exc
    return checkpoint


def _names(section: Any, key: str, path: Path) -> list[str]:
    """The array names a section of the document lists (optimizer slots, early stopping's states)."""
    names = section.get(key, []) if isinstance(section, dict) else []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise CheckpointError(f"{path}: {key!r} must be a list of names")
    return names


def _parse_document(text: bytes, path: Path) -> dict[str, Any]:
    document = parse_document(text, path, entry=STATE_ENTRY, format_name=FORMAT_NAME, max_version=FORMAT_VERSION,
                              what="checkpoint", error=CheckpointError)
    epoch = document.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise CheckpointError(f"{path}: 'epoch' must be an integer >= 0, got {epoch!r}")
    for key in ("optimizer", "schedule", "early_stopping", "rng", "config", "history", "metadata"):
        if document.get(key) is not None and not isinstance(document[key], dict):
            raise CheckpointError(f"{path}: {key!r} must be a JSON object")
    return document
