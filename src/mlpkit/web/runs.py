"""Training runs the dashboard follows: started by the page (one background thread each), attached by
``mlpkit train --dashboard URL``, or read back from the runs root when the server starts; each with an id and
a list of events.

A run's events are ``{"type": "start", ...}``, one ``{"type": "epoch", ...}`` per epoch (see
:mod:`mlpkit.web.epochs`) and ``{"type": "end", "status": ..., "message": ...}``. The page reads them as
server-sent events, from the first, so a page opened late (or reconnected) sees the whole run. Once a run
has ended, only its last epoch keeps its misclassified images (the page shows the latest grid), so that
finished runs stay small.

A run started here is built by :func:`mlpkit.settings.build_run` (as ``mlpkit train`` builds it) and trains
in a daemon thread; the server stays responsive because NumPy releases the GIL in its matrix products. Any
exception in the thread ends that run with status ``failed`` and the error as its message, and nothing else;
a run stopped by the divergence guard ends ``diverged`` with the guard's one-line message. Stopping is
cooperative: the run's callback sets ``network.stop_training`` after the current mini-batch (the
``on_batch_end`` hook of :class:`~mlpkit.callbacks.Callback`) and again at the end of the epoch. A finished
run's network becomes a model of the draw-a-digit page. With a runs root, the run keeps its directory there
(:mod:`.rundirs`) and its id is the directory's name, so that its link (``/dashboard?run=ID``) still opens it
after a restart.

Limits (each refusal is a 4xx with a one-line message; the memory of the server stays bounded however many
runs it sees):

- runs from the page: :data:`MAX_ACTIVE` training at once (409 beyond), at most :data:`MAX_LAYERS` layers of
  at most :data:`MAX_WIDTH` units and :data:`MAX_PARAMETERS` weights and biases in all, :data:`MAX_EPOCHS`
  epochs (400 beyond);
- loaded data sets: one per data set and split (MNIST once, whatever the seed), the least recently used dropped
  beyond :data:`MAX_LOADED` sets or :data:`MAX_LOADED_BYTES` bytes;
- attached runs (``mlpkit train --dashboard``): :data:`MAX_ATTACHED` at once; one more drops the least recently
  active (it ends ``interrupted`` and its reporter gets 404, warns once and trains on); an attached run keeps
  at most :data:`MAX_ATTACHED_EPOCHS` epochs and :data:`MAX_EVENT_BYTES` of events (409 beyond);
- runs listed: :data:`MAX_RUNS`, the oldest finished forgotten first;
- misclassified images: the latest epoch's grid only, in every run.

Progress within an epoch costs the training loop nothing: :meth:`Run.progress` reads the optimizer's step
counter (``optimizer.iterations``, one per mini-batch) when a page asks, as ``mlpkit train``'s live bar does.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import itertools
import json
import math
import secrets
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..callbacks import Callback
from ..datasets import COURSE_DATASETS, PLANAR_DATASETS
from ..history import History
from ..network import Network
from ..optimizers import OPTIMIZER_NAMES
from ..serialization import save_network
from ..settings import (
    OPTION_BY_NAME,
    Data,
    SettingsError,
    TrainingRun,
    TrainSettings,
    build_run,
    convert_mapping,
    load_data,
    resolve,
)
from ..settings.options import AUGMENTERS
from ..settings.rundir import HISTORY_FILE, MODEL_FILE, write_config
from . import rundirs
from .epochs import MAX_IMAGES, EpochSummary, finite_logs
from .models import ModelRegistry

#: the settings a run from the page may give (names as ``mlpkit train``'s options)
RUN_FIELDS = ("dataset", "layers", "activation", "output", "init", "batch_norm", "standardize", "optimizer", "lr",
              "momentum", "beta1", "beta2", "weight_decay", "schedule", "decay_rate", "decay_epochs", "staircase",
              "step_size", "factor", "patience", "l2", "l1", "dropout", "input_dropout", "augment", "early_stopping",
              "monitor", "epochs", "batch_size", "seed", "samples", "noise", "classes")
DATASETS = ("digits", "mnist", *PLANAR_DATASETS, *COURSE_DATASETS)
#: points of a generated 2-D set from the page
MAX_SAMPLES = 20_000
#: data sets kept loaded, and the bytes of their arrays (the least recently used is dropped first)
MAX_LOADED, MAX_LOADED_BYTES = 8, 768 * 1024 * 1024
MAX_EPOCHS = 500
#: layers of a run from the page, the widest layer, and the weights and biases of the whole network
MAX_LAYERS, MAX_WIDTH, MAX_PARAMETERS = 12, 4096, 4_000_000
#: server runs training at the same time (each takes a core), and the threads of a run's augmentation
MAX_ACTIVE = 2
AUGMENT_JOBS = 2
#: runs remembered; the oldest finished ones are forgotten first (a kept run comes back at the next start)
MAX_RUNS = 300
#: attached runs at once (the least recently active is dropped beyond), and what one may post
MAX_ATTACHED, MAX_ATTACHED_EPOCHS, MAX_EVENT_BYTES = 16, 10_000, 4 * 1024 * 1024
FINISHED = ("completed", "stopped", "diverged", "failed", "interrupted")
#: where a run's settings came from, for the messages that name them
REQUEST = {name: "the request" for name in RUN_FIELDS}


def run_config(body: dict[str, Any]) -> TrainSettings:
    """Check a run request with ``mlpkit train``'s own rules; SettingsError (a ValueError) says what is wrong.
    An option left out (or null) is not set, so the library's default applies: the learning rate of the
    chosen optimizer, the parameters of the chosen schedule."""
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
    if len(cfg.layers) > MAX_LAYERS:
        raise SettingsError(f"'layers' in the request may have at most {MAX_LAYERS} layers, got {len(cfg.layers)}")
    if cfg.samples is not None and cfg.samples > MAX_SAMPLES:
        raise SettingsError(f"'samples' in the request must be at most {MAX_SAMPLES}, got {cfg.samples}")
    widest = max((s for s in cfg.layers if isinstance(s, int)), default=0)
    if widest > MAX_WIDTH:
        raise SettingsError(f"'layers' in the request may have at most {MAX_WIDTH} units a layer, got {widest}")
    parameters = count_parameters(cfg)
    if parameters > MAX_PARAMETERS:
        raise SettingsError(f"'layers' in the request make a network of {parameters:,} weights and biases; the "
                            f"limit is {MAX_PARAMETERS:,}")
    return cfg


def count_parameters(cfg: TrainSettings) -> int:
    """Weights and biases of ``cfg``'s dense stack, sum of (n_in + 1) n_out over its layers, with ``auto``
    taken as the data set's width (MNIST 784 in, 10 out; digits 64 and 10; a 2-D set 2 and its classes)."""
    inputs, outputs = {"mnist": (784, 10), "digits": (64, 10)}.get(cfg.dataset, (2, max(cfg.classes or 2, 2)))
    sizes = list(cfg.layers)
    sizes = [inputs if i == 0 and not isinstance(n, int) else outputs if not isinstance(n, int) else n
             for i, n in enumerate(sizes)]
    return sum((a + 1) * b for a, b in itertools.pairwise(sizes))


@functools.cache
def run_options() -> dict[str, Any]:
    """The option table of the page's form, from the settings' own table: for each field its kind, default,
    choices and help; which optimizers or schedules a parameter applies to and their defaults; and the
    learning rate each optimizer starts from when none is given (the book's 0.5 for SGD, the optimizer's
    own default else), as :func:`~mlpkit.settings.resolve` fills it in."""
    options = {}
    for name in RUN_FIELDS:
        option = OPTION_BY_NAME[name]
        entry: dict[str, Any] = {"kind": option.kind, "default": option.default, "help": option.help,
                                 "choices": list(option.choices)}
        if option.target is not None:
            entry.update(target=option.target, applies_to=list(option.users), defaults=option.library_defaults())
        options[name] = entry
    options["dataset"]["choices"] = list(DATASETS)
    options["augment"]["choices"] = list(AUGMENTERS)
    learning_rates = {name: resolve({"optimizer": name}).lr for name in OPTIMIZER_NAMES}
    return {"fields": list(RUN_FIELDS), "options": options, "learning_rates": learning_rates,
            "limits": {"epochs": MAX_EPOCHS, "layers": MAX_LAYERS, "width": MAX_WIDTH}}


@dataclass
class Run:
    """One run: settings, status and events (appended under a lock, read as copies)."""

    id: str
    name: str
    source: str  # "server", "attached", or "train" (a run directory of mlpkit train read back)
    epochs: int
    settings: dict[str, Any]
    status: str = "running"
    message: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    created: float = field(default_factory=time.time)
    directory: Path | None = None
    #: batches done and batches per epoch of the epoch in progress (set by the training thread)
    progress_source: Callable[[], tuple[int, int]] | None = field(default=None, repr=False)
    #: when an event last came (time.monotonic()), and the bytes of the events posted from outside
    last_active: float = field(default_factory=time.monotonic, repr=False)
    posted_bytes: int = field(default=0, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: the index of the epoch event that holds the misclassified images (the latest that has them)
    _grid_at: int | None = field(default=None, repr=False)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def epoch(self) -> int:
        with self._lock:
            done = [e["epoch"] for e in self.events if e["type"] == "epoch"]
        return done[-1] if done else 0

    def add(self, event: dict[str, Any]) -> None:
        """Append ``event`` (nothing once the run has finished); an epoch's misclassified images replace the
        previous epoch's (the page shows the latest grid), so a run's events grow by its logs only."""
        with self._lock:
            if self.finished:
                return
            if event.get("type") == "epoch" and event.get("misclassified") is not None:
                if self._grid_at is not None:
                    self.events[self._grid_at] = {**self.events[self._grid_at], "misclassified": None}
                self._grid_at = len(self.events)
            self.events.append(event)
            self.last_active = time.monotonic()

    def events_from(self, start: int) -> list[dict[str, Any]]:
        with self._lock:
            return self.events[start:]

    def progress(self) -> dict[str, int] | None:
        """``{"epoch": the epoch in progress (1-based), "batches": done, "total": per epoch}`` while training."""
        source = self.progress_source
        if source is None or self.finished:
            return None
        batches, total = source()
        return {"epoch": min(self.epoch + 1, self.epochs), "batches": batches, "total": total}

    def finish(self, status: str, message: str = "", **result: Any) -> None:
        with self._lock:
            if self.finished:
                return
            self.result.update(result)
            self.message = message
            self.progress_source = None
            epochs = [i for i, e in enumerate(self.events) if e["type"] == "epoch"]
            for i in epochs[:-1]:  # the page shows the latest mistakes only
                if self.events[i].get("misclassified") is not None:
                    self.events[i] = {**self.events[i], "misclassified": None}
            self.events.append({"type": "end", "status": status, "message": message, **result})
            self.status = status

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "source": self.source, "status": self.status,
                "message": self.message, "epoch": self.epoch, "epochs": self.epochs, "settings": self.settings,
                "created": self.created, "url": f"/dashboard?run={self.id}", "progress": self.progress(),
                "directory": self.directory.name if self.directory is not None else None, **self.result}


def _run_name(cfg: TrainSettings) -> str:
    """How the page lists a run: data set, layer sizes, optimizer and learning rate."""
    return f"{cfg.dataset} [{','.join(map(str, cfg.layers))}] {cfg.optimizer} lr {cfg.lr:g}"


class _Stream(Callback):
    """Adds each epoch's event to the run, marks where the next epoch's mini-batches start counting, and stops
    training when the page asked for it."""

    def __init__(self, run: Run, summary: EpochSummary, training: TrainingRun) -> None:
        self.run = run
        self.summary = summary
        self.optimizer = training.optimizer
        self.batches = math.ceil(len(training.data.dataset.train.y) / training.settings.batch_size)
        self.first_step = self.optimizer.iterations

    def count(self) -> tuple[int, int]:
        return min(self.optimizer.iterations - self.first_step, self.batches), self.batches

    def on_train_begin(self, network: Network, history: History) -> None:
        super().on_train_begin(network, history)
        self.first_step = self.optimizer.iterations
        self.run.progress_source = self.count

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        """Stop within the epoch: fit ends after the mini-batch during which the page asked for it."""
        if self.run.stop_requested.is_set():
            self.network.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.first_step = self.optimizer.iterations
        self.run.add(self.summary.event(self.network, epoch, logs))
        if self.run.stop_requested.is_set():
            self.network.stop_training = True


def data_key(cfg: TrainSettings) -> tuple[Any, ...]:
    """What a loaded data set depends on: MNIST and the course's sets ignore the seed; the digits' split
    depends on it; a generated set on everything."""
    if cfg.dataset == "mnist" or cfg.dataset in COURSE_DATASETS:
        return (cfg.dataset, cfg.dtype)
    if cfg.dataset == "digits":
        return (cfg.dataset, cfg.dtype, cfg.seed)
    return (cfg.dataset, cfg.dtype, cfg.seed, cfg.samples, cfg.noise, cfg.classes)


def data_bytes(data: Data) -> int:
    """Bytes of a data set's arrays (train, validation and test)."""
    dataset = data.dataset
    return sum(part.X.nbytes + part.y.nbytes for part in (dataset.train, dataset.validation, dataset.test)
               if part is not None)


class RunManager:
    """All runs by id; starts server runs in threads. With ``runs_dir`` the server's runs are kept there, and
    the runs found there when it starts are listed (:meth:`load_saved`)."""

    def __init__(self, models: ModelRegistry, runs_dir: Path | None = None) -> None:
        self.models = models
        self.runs_dir = runs_dir
        self.skipped: list[dict[str, str]] = []
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.Lock()
        self._data: OrderedDict[tuple[Any, ...], Data] = OrderedDict()
        self._data_lock = threading.Lock()

    # ---------------------------------------------------------------------------------- registry
    def _register(self, run: Run) -> Run:
        dropped = []
        with self._lock:
            if run.source == "server" and sum(
                    r.source == "server" and not r.finished for r in self._runs.values()) >= MAX_ACTIVE:
                raise RuntimeError(f"{MAX_ACTIVE} runs are training already; stop one or wait for it to finish")
            if run.source == "attached":
                live = [r for r in self._runs.values() if r.source == "attached" and not r.finished]
                if len(live) >= MAX_ATTACHED:
                    dropped.append(min(live, key=lambda r: r.last_active))
            self._runs[run.id] = run
            while len(self._runs) - len(dropped) > MAX_RUNS:
                oldest = next((r for r in self._runs.values() if r.finished), None)
                if oldest is None:
                    break
                del self._runs[oldest.id]
            for old in dropped:
                del self._runs[old.id]
        for old in dropped:  # its event streams end; its reporter's next post gets 404, warns and trains on
            old.finish("interrupted", f"dropped by the dashboard: more than {MAX_ATTACHED} attached runs at once, "
                                      "and this one had been quiet the longest")
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

    def load_saved(self) -> None:
        """List the runs kept in the runs root (:func:`.rundirs.scan`); unreadable directories go to
        ``skipped`` with the reason."""
        if self.runs_dir is None:
            return
        saved, self.skipped = rundirs.scan(self.runs_dir)
        for kept in saved:
            run = Run(kept.id, kept.name, kept.source, kept.epochs, kept.settings, status=kept.status,
                      message=kept.message, result=kept.result, events=kept.events, created=kept.created,
                      directory=self.runs_dir / kept.id)
            self._register(run)

    # ---------------------------------------------------------------------------------- server runs
    def load_data(self, cfg: TrainSettings) -> Data:
        """The data set of ``cfg``, loaded once per (name, dtype) and, where they shape the data, seed (the
        digits' split; a generated set), samples, noise and classes: MNIST (the book's fixed split) and the
        course's sets are loaded once whatever the seed. The most recently used stay loaded, at most
        :data:`MAX_LOADED` sets and :data:`MAX_LOADED_BYTES` bytes (the one in use always stays)."""
        with self._data_lock:
            key = data_key(cfg)
            if key not in self._data:
                self._data[key] = load_data(cfg.dataset, seed=cfg.seed, dtype=cfg.dtype, samples=cfg.samples,
                                            noise=cfg.noise, classes=cfg.classes)
            self._data.move_to_end(key)
            while len(self._data) > 1 and (len(self._data) > MAX_LOADED or self.loaded_bytes() > MAX_LOADED_BYTES):
                self._data.popitem(last=False)
            return self._data[key]

    def loaded_bytes(self) -> int:
        """Bytes of the arrays of the data sets kept loaded."""
        return sum(data_bytes(data) for data in list(self._data.values()))

    def start(self, cfg: TrainSettings) -> Run:
        """Register a run of ``cfg`` and start its thread (RuntimeError when too many are training; OSError
        when its directory cannot be made)."""
        settings = {k: v for k, v in cfg.effective().items() if v is not None and v is not False}
        name = _run_name(cfg)
        directory = rundirs.new_directory(self.runs_dir) if self.runs_dir is not None else None
        run_id = directory.name if directory is not None else self._new_id()
        try:
            run = self._register(Run(run_id, name, "server", cfg.epochs, settings, directory=directory))
        except RuntimeError:
            if directory is not None:
                directory.rmdir()
            raise
        threading.Thread(target=self._train, args=(run, cfg), name=f"mlpkit-run-{run.id}", daemon=True).start()
        return run

    def _record(self, run: Run) -> None:
        """Write the run's ``run.json`` (when it has a directory): at the start and at the end of the run."""
        if run.directory is None:
            return
        gradients = [e["gradients"] for e in run.events_from(0) if e["type"] == "epoch"]
        tests = {k: run.result[k] for k in ("test_loss", "test_accuracy") if run.result.get(k) is not None}
        rundirs.write_record(run.directory, {"name": run.name, "source": run.source, "created": run.created,
                                             "status": run.status, "message": run.message, "settings": run.settings,
                                             "gradients": gradients, **tests})

    def _train(self, run: Run, cfg: TrainSettings) -> None:
        try:
            training = build_run(cfg, data=self.load_data(cfg), sources=REQUEST,
                                 augment_jobs=AUGMENT_JOBS)
            dataset = training.data.dataset
            validation = dataset.validation
            run.settings = {k: v for k, v in training.settings.effective().items() if v is not None and v is not False}
            run.name = _run_name(training.settings)
            options: dict[str, Any] = {}
            if run.directory is not None:
                write_config(run.directory, training.settings.effective(), writer="mlpkit serve")
                self._record(run)
                options["history_file"] = run.directory / HISTORY_FILE
            summary = EpochSummary(validation.X, validation.y, dataset.image_shape, seed=cfg.seed)
            run.add({"type": "start", "epochs": cfg.epochs, "dataset": dataset.name,
                     "sizes": training.settings.layers, "n_train": len(dataset.train.y),
                     "n_validation": len(validation.y)})
            with warnings.catch_warnings():  # a divergence is the run's status and message, not a warning
                warnings.simplefilter("ignore", RuntimeWarning)
                history = training.fit([_Stream(run, summary, training)], **options)
            self._finish(run, training, history)
        except Exception as exc:  # a failing run must never take the server down: report it as the run's end
            run.finish("failed", f"{type(exc).__name__}: {' '.join(str(exc).split())}")
            with contextlib.suppress(OSError, ValueError):  # the run has failed already; its record is best effort
                self._record(run)

    def _finish(self, run: Run, training: TrainingRun, history: History) -> None:
        network, dataset = training.network, training.data.dataset
        test = finite_logs(network.evaluate(dataset.test.X, dataset.test.y))
        reason = history.stop_reason
        if history.diverged:
            status, message = "diverged", history.message
        else:
            status = "stopped" if run.stop_requested.is_set() and reason != "completed" else "completed"
            message = reason
        network.metadata = {"dataset": dataset.name, "config": training.settings.effective(),
                            "test_loss": test.get("loss"), "test_accuracy": test.get("accuracy"),
                            "epochs_trained": len(history), "stop_reason": reason,
                            "created_by": f"mlpkit {__version__} serve"}
        saved = None
        if run.directory is not None:
            saved = save_network(network, run.directory / MODEL_FILE, metadata=network.metadata)
        model = self.models.add_network(f"run {run.id} ({run.name})", network, saved)
        run.finish(status, message, test_loss=test.get("loss"), test_accuracy=test.get("accuracy"), model_id=model.id)
        self._record(run)

    # ---------------------------------------------------------------------------------- attached runs
    def attach(self, body: dict[str, Any]) -> Run:
        """A run reported by ``mlpkit train --dashboard`` (ValueError for a malformed request)."""
        unknown = sorted(set(body) - {"name", "epochs", "settings"})
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r}; allowed: name, epochs, settings")
        name = body.get("name", "mlpkit train")
        epochs = body.get("epochs")
        settings = body.get("settings", {})
        if not isinstance(name, str) or not 0 < len(name) <= 200:
            raise ValueError("name must be a string of 1 to 200 characters")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or not 0 < epochs <= 1_000_000:
            raise ValueError(f"epochs must be a positive whole number, got {epochs!r}")
        if not isinstance(settings, dict) or len(settings) > 100:
            raise ValueError("settings must be a JSON object of at most 100 entries")
        settings = rundirs.clean_settings(settings)
        run = self._register(Run(self._new_id(), name, "attached", epochs, settings))
        run.add({"type": "start", "epochs": epochs, "dataset": settings.get("dataset"),
                 "sizes": settings.get("layers")})
        return run

    @staticmethod
    def report(run: Run, event: dict[str, Any]) -> None:
        """Add an event posted by an attached run after checking it (ValueError says what is wrong)."""
        if run.source != "attached":
            raise ValueError(f"run {run.id} was not attached by mlpkit train --dashboard; only attached runs take "
                             "events")
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
        checked = check_epoch_event(event)
        size = len(json.dumps({**checked, "misclassified": None}))
        if len(run.events) > MAX_ATTACHED_EPOCHS or run.posted_bytes + size > MAX_EVENT_BYTES:
            raise RunFull(f"run {run.id} holds {len(run.events) - 1} epochs ({run.posted_bytes:,} bytes); an attached "
                          f"run keeps at most {MAX_ATTACHED_EPOCHS} epochs and {MAX_EVENT_BYTES:,} bytes")
        run.posted_bytes += size
        run.add(checked)


class RunFull(ValueError):
    """An attached run that has posted all the events the server keeps for one run (409)."""


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
