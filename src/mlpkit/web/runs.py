"""Training runs the dashboard follows: started by the page (one background thread each) or attached by
``mlpkit train --dashboard URL``, each with an id and a list of events.

A run's events are ``{"type": "start", ...}``, one ``{"type": "epoch", ...}`` per epoch (see
:mod:`mlpkit.web.epochs`) and ``{"type": "end", "status": ..., "message": ...}``. The page reads them as
server-sent events, from the first, so a page opened late (or reconnected) sees the whole run.

A run started here is built by :func:`mlpkit.settings.build_run` (as ``mlpkit train`` builds it) and trains
in a daemon thread; the server stays responsive because NumPy releases the GIL in its matrix products. Any
exception in the thread ends that run with status ``failed`` and the error as its message, and nothing else;
a run stopped by the divergence guard ends ``diverged`` with the guard's one-line message. Stopping is
cooperative: the run's callback sets ``network.stop_training`` at the end of the current epoch. A finished
run's network becomes a model of the draw-a-digit page.
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from ..callbacks import Callback
from ..history import History
from ..network import Network
from ..settings import Data, SettingsError, TrainSettings, build_run, convert_mapping, load_data, resolve
from .epochs import MAX_IMAGES, EpochSummary, finite_logs
from .models import ModelRegistry

#: the settings a run from the page may give (names as ``mlpkit train``'s options)
RUN_FIELDS = ("dataset", "layers", "activation", "output", "init", "optimizer", "lr", "l2", "l1", "dropout",
              "batch_norm", "standardize", "epochs", "batch_size", "seed")
DATASETS = ("digits", "mnist")
MAX_EPOCHS = 500
#: server runs training at the same time (each takes a core)
MAX_ACTIVE = 2
#: runs remembered; the oldest finished ones are forgotten first
MAX_RUNS = 50
FINISHED = ("completed", "stopped", "diverged", "failed")
#: where a run's settings came from, for the messages that name them
REQUEST = {name: "the request" for name in RUN_FIELDS}


def run_config(body: dict[str, Any]) -> TrainSettings:
    """Check a run request with ``mlpkit train``'s own rules; SettingsError (a ValueError) says what is wrong."""
    unknown = sorted(set(body) - set(RUN_FIELDS))
    if unknown:
        raise SettingsError(f"unknown setting {unknown[0]!r}; allowed: {', '.join(RUN_FIELDS)}")
    dataset = body.get("dataset", "digits")
    if dataset not in DATASETS:
        raise SettingsError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
    values = convert_mapping(body, where="the request")
    cfg = resolve(values, REQUEST)
    if cfg.epochs > MAX_EPOCHS:
        raise SettingsError(f"'epochs' in the request must be at most {MAX_EPOCHS}, got {cfg.epochs}")
    return cfg


@dataclass
class Run:
    """One run: settings, status and events (appended under a lock, read as copies)."""

    id: str
    name: str
    source: str  # "server" or "attached"
    epochs: int
    settings: dict[str, Any]
    status: str = "running"
    message: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    created: float = field(default_factory=time.time)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def epoch(self) -> int:
        with self._lock:
            done = [e["epoch"] for e in self.events if e["type"] == "epoch"]
        return done[-1] if done else 0

    def add(self, event: dict[str, Any]) -> None:
        with self._lock:
            if not self.finished:
                self.events.append(event)

    def events_from(self, start: int) -> list[dict[str, Any]]:
        with self._lock:
            return self.events[start:]

    def finish(self, status: str, message: str = "", **result: Any) -> None:
        with self._lock:
            if self.finished:
                return
            self.result.update(result)
            self.message = message
            self.events.append({"type": "end", "status": status, "message": message, **result})
            self.status = status

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "source": self.source, "status": self.status,
                "message": self.message, "epoch": self.epoch, "epochs": self.epochs, "settings": self.settings,
                "created": self.created, **self.result}


class _Stream(Callback):
    """Adds each epoch's event to the run and stops training when the page asked for it."""

    def __init__(self, run: Run, summary: EpochSummary) -> None:
        self.run = run
        self.summary = summary

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.run.add(self.summary.event(self.network, epoch, logs))
        if self.run.stop_requested.is_set():
            self.network.stop_training = True


class RunManager:
    """All runs by id; starts server runs in threads."""

    def __init__(self, models: ModelRegistry) -> None:
        self.models = models
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.Lock()
        self._data: dict[tuple[str, int, str], Data] = {}
        self._data_lock = threading.Lock()

    # ---------------------------------------------------------------------------------- registry
    def _register(self, run: Run) -> Run:
        with self._lock:
            if run.source == "server" and sum(
                    r.source == "server" and not r.finished for r in self._runs.values()) >= MAX_ACTIVE:
                raise RuntimeError(f"{MAX_ACTIVE} runs are training already; stop one or wait for it to finish")
            self._runs[run.id] = run
            while len(self._runs) > MAX_RUNS:
                oldest = next((k for k, r in self._runs.items() if r.finished), None)
                if oldest is None:
                    break
                del self._runs[oldest]
        return run

    def _new_id(self) -> str:
        return secrets.token_hex(4)

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            return self._runs.get(run_id)

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            runs = list(self._runs.values())
        return [r.summary() for r in reversed(runs)]

    def stop_all(self) -> None:
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.stop_requested.set()

    # ---------------------------------------------------------------------------------- server runs
    def load_data(self, dataset: str, seed: int, dtype: str) -> Data:
        """The data set, loaded once per (name, seed, dtype)."""
        key = (dataset, seed, dtype)
        with self._data_lock:
            if key not in self._data:
                self._data[key] = load_data(dataset, seed=seed, dtype=dtype)
            return self._data[key]

    def start(self, cfg: TrainSettings) -> Run:
        """Register a run of ``cfg`` and start its thread (RuntimeError when too many are training)."""
        settings = {k: v for k, v in cfg.effective().items() if v is not None and v is not False}
        name = f"{cfg.dataset} [{','.join(map(str, cfg.layers))}] {cfg.optimizer} lr {cfg.lr:g}"
        run = self._register(Run(self._new_id(), name, "server", cfg.epochs, settings))
        threading.Thread(target=self._train, args=(run, cfg), name=f"mlpkit-run-{run.id}", daemon=True).start()
        return run

    def _train(self, run: Run, cfg: TrainSettings) -> None:
        try:
            training = build_run(cfg, data=self.load_data(cfg.dataset, cfg.seed, cfg.dtype), sources=REQUEST)
            dataset = training.data.dataset
            validation = dataset.validation
            summary = EpochSummary(validation.X, validation.y, dataset.image_shape, seed=cfg.seed)
            run.add({"type": "start", "epochs": cfg.epochs, "dataset": dataset.name,
                     "sizes": training.settings.layers, "n_train": len(dataset.train.y),
                     "n_validation": len(validation.y)})
            with warnings.catch_warnings():  # a divergence is the run's status and message, not a warning
                warnings.simplefilter("ignore", RuntimeWarning)
                history = training.fit([_Stream(run, summary)])
            self._finish(run, training.network, history, dataset.test.X, dataset.test.y, dataset.name)
        except Exception as exc:  # a failing run must never take the server down: report it as the run's end
            run.finish("failed", f"{type(exc).__name__}: {' '.join(str(exc).split())}")

    def _finish(self, run: Run, network: Network, history: History, X_test: Any, y_test: Any, dataset: str) -> None:
        test = finite_logs(network.evaluate(X_test, y_test))
        network.metadata = {"dataset": dataset, "test_accuracy": test.get("accuracy"), "created_by": "mlpkit serve"}
        model = self.models.add_network(f"run {run.id} ({run.name})", network)
        reason = history.stop_reason
        if history.diverged:
            status, message = "diverged", history.message
        else:
            status = "stopped" if run.stop_requested.is_set() and reason != "completed" else "completed"
            message = reason
        run.finish(status, message, test_loss=test.get("loss"), test_accuracy=test.get("accuracy"), model_id=model.id)

    # ---------------------------------------------------------------------------------- attached runs
    def attach(self, body: dict[str, Any]) -> Run:
        """A run reported by ``mlpkit train --dashboard`` (ValueError for a malformed request)."""
        name = body.get("name", "mlpkit train")
        epochs = body.get("epochs")
        settings = body.get("settings", {})
        if not isinstance(name, str) or not 0 < len(name) <= 200:
            raise ValueError("name must be a string of 1 to 200 characters")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or not 0 < epochs <= 1_000_000:
            raise ValueError(f"epochs must be a positive whole number, got {epochs!r}")
        if not isinstance(settings, dict) or len(settings) > 100:
            raise ValueError("settings must be a JSON object of at most 100 entries")
        run = self._register(Run(self._new_id(), name, "attached", epochs, settings))
        run.add({"type": "start", "epochs": epochs, "dataset": settings.get("dataset"),
                 "sizes": settings.get("layers")})
        return run

    @staticmethod
    def report(run: Run, event: dict[str, Any]) -> None:
        """Add an event posted by an attached run after checking it (ValueError says what is wrong)."""
        if run.source != "attached":
            raise ValueError(f"run {run.id} was started by this server; only attached runs take events")
        kind = event.get("type")
        if kind == "end":
            status = event.get("status", "completed")
            if status not in ("completed", "stopped", "diverged", "failed"):
                raise ValueError(f"status must be completed, stopped, diverged or failed, got {status!r}")
            message = str(event.get("message", ""))[:500]
            run.finish(status, message, **finite_logs({k: event[k] for k in ("test_loss", "test_accuracy")
                                                       if k in event}))
            return
        if kind != "epoch":
            raise ValueError(f"type must be 'epoch' or 'end', got {kind!r}")
        run.add(check_epoch_event(event))


def check_epoch_event(event: dict[str, Any]) -> dict[str, Any]:
    """A well-formed copy of an epoch event from outside (see :mod:`mlpkit.web.epochs`)."""
    allowed = {"type", "epoch", "logs", "gradients", "misclassified"}
    unknown = sorted(set(event) - allowed)
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r} in the epoch event; allowed: {', '.join(sorted(allowed))}")
    epoch = event.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
        raise ValueError(f"epoch must be a whole number >= 1, got {epoch!r}")
    logs = event.get("logs", {})
    if not isinstance(logs, dict) or len(logs) > 50:
        raise ValueError("logs must be a JSON object of at most 50 numbers")
    gradients = event.get("gradients", [])
    if not isinstance(gradients, list) or len(gradients) > 100:
        raise ValueError("gradients must be a list of at most 100 layers")
    checked_gradients = []
    for g in gradients:
        if not (isinstance(g, dict) and isinstance(g.get("name"), str) and _is_number(g.get("norm"))
                and _is_number(g.get("rms"))):
            raise ValueError("each gradient must be {\"name\": text, \"norm\": number, \"rms\": number}")
        checked_gradients.append({"name": g["name"][:100], "norm": float(g["norm"]), "rms": float(g["rms"])})
    return {"type": "epoch", "epoch": epoch, "logs": finite_logs(logs), "gradients": checked_gradients,
            "misclassified": _check_images(event.get("misclassified"))}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_images(grid: Any) -> dict[str, Any] | None:
    if grid is None:
        return None
    if not isinstance(grid, dict):
        raise ValueError("misclassified must be null or an object")
    shape = grid.get("shape")
    if not (isinstance(shape, list) and len(shape) == 2 and all(isinstance(s, int) and 1 <= s <= 64 for s in shape)):
        raise ValueError(f"misclassified.shape must be [height, width] with sides 1..64, got {shape!r}")
    images = grid.get("images", [])
    if not isinstance(images, list) or len(images) > MAX_IMAGES:
        raise ValueError(f"misclassified.images must be a list of at most {MAX_IMAGES} images")
    size = shape[0] * shape[1]
    for image in images:
        if not isinstance(image, dict) or not all(isinstance(image.get(k), int) for k in ("predicted", "true")):
            raise ValueError("each misclassified image needs whole-number 'predicted' and 'true' labels")
        try:
            pixels = base64.b64decode(image.get("pixels", ""), validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise ValueError("misclassified image pixels must be base64 text") from None
        if len(pixels) != size:
            raise ValueError(f"a misclassified image has {len(pixels)} pixels, its shape {shape} needs {size}")
    count, checked = grid.get("count", len(images)), grid.get("checked", len(images))
    if not (isinstance(count, int) and isinstance(checked, int)):
        raise ValueError("misclassified.count and .checked must be whole numbers")
    return {"shape": shape, "count": count, "checked": checked,
            "images": [{k: image[k] for k in ("pixels", "predicted", "true")} for image in images]}
