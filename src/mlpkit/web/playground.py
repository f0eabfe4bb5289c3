"""The playground of ``mlpkit serve``: a 2-D data set, a small network, and its decision boundary redrawn as
mlpkit trains it on the server, a few epochs per request.

TensorFlow Playground (Smilkov & Carter, playground.tensorflow.org) is the model for how it feels; this one
also has what the course (Ng, course 2 weeks 1-3) teaches with the same pictures: Adam and momentum, L2 and
dropout, batch normalization, mini-batch sizes, zeros / N(0, 1)·10 / He initialization, and the gradient norm
of every layer (Nielsen ch.5). Every number comes from mlpkit: the data from
:func:`mlpkit.datasets.load_planar`, the network and optimizer from the settings builder that ``mlpkit train``
uses (:func:`mlpkit.settings.network_from_settings`, :func:`~mlpkit.settings.build_optimizer`), the training
from :meth:`Network.fit <mlpkit.network.Network.fit>`, the norms from :func:`mlpkit.diagnose.gradient_norms`.

A session holds one data set and one network between requests::

    POST   /api/playground                {dataset..., network..., training...}  -> the session's state (201)
    POST   /api/playground/{id}/step      {"epochs": k}   train up to k more epochs -> what changed
    GET    /api/playground/{id}?since=N   the state; history entries after epoch N only
    POST   /api/playground/{id}/reset     back to epoch 0: the same seed gives the same initial weights
    DELETE /api/playground/{id}
    GET    /api/playground/options        choices, limits and the course presets (:data:`~mlpkit.reproduce.COURSE_RUNS`)

A step trains with one ``fit`` call that keeps the session's optimizer (its momentum and Adam moments carry
over from request to request) and its training generator (the shuffling and dropout masks continue one
stream), and stops after the epoch that crosses :data:`STEP_SECONDS`, so a request never holds the server
for long. The boundary is the network's output on a ``GRID`` x ``GRID`` grid over the points, sent as base64
bytes (probability x 255, rounded): one channel, P(class 1), for two classes (a single sigmoid unit, as in the
course), one per class for more (softmax).

Sessions live in memory; the least recently used is dropped when :data:`MAX_SESSIONS` are open.
"""

from __future__ import annotations

import base64
import math
import secrets
import threading
import time
import warnings
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..activations import ACTIVATION_NAMES
from ..callbacks import Callback
from ..datasets import COURSE_DATASETS, PLANAR_DATASETS, Dataset, load_planar
from ..datasets.planar import DEFAULT_NOISE, MULTI_CLASS
from ..diagnose import gradient_norms
from ..initializers import INITIALIZERS
from ..optimizers import OPTIMIZER_NAMES
from ..reproduce import COURSE_RUNS, CourseRun
from ..schedules import get_schedule
from ..settings import SettingsError, build_optimizer, network_from_settings, resolve
from ._requests import BadRequest, check_keys, choice, event_number, integer, number, read_json, shown

# ------------------------------------------------------------------------------------------ limits
#: points in a generated data set (train and test together)
MIN_POINTS, MAX_POINTS = 20, 2000
MAX_HIDDEN_LAYERS, MAX_UNITS = 8, 64
MAX_CLASSES = 4
#: epochs one step request may ask for, and the wall time after which it stops (at the end of an epoch)
MAX_STEP_EPOCHS, STEP_SECONDS = 1000, 1.0
#: epochs one session may train in all (the course's longest experiment trains 30,000)
MAX_EPOCHS = 50_000
MAX_SESSIONS = 16
#: step requests training at the same time; more wait up to BUSY_WAIT_S, then get 429
MAX_TRAINING, BUSY_WAIT_S = 4, 5.0
#: the boundary grid is GRID x GRID cells over the points' square, widened by GRID_MARGIN on every side
GRID, GRID_MARGIN = 60, 0.1
#: gradient-norm samples kept per session (one per step request; every other one is dropped beyond it)
MAX_GRADIENT_SAMPLES = 2000

#: the page's choices (the settings check them again with the library's own rules); initializers without
#: their aliases (glorot = xavier)
ACTIVATIONS = tuple(a for a in ACTIVATION_NAMES if a not in ("softmax", "identity"))
INITS = tuple(name for i, (name, rule) in enumerate(INITIALIZERS.items())
              if rule not in list(INITIALIZERS.values())[:i])
METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")
FIELDS = ("preset", "dataset", "noise", "n_samples", "test_fraction", "classes", "seed", "layers", "activation",
          "init", "optimizer", "lr", "momentum", "l2", "dropout", "batch_norm", "batch_size", "epochs", "decay",
          "decay_rate", "decay_interval")
#: learning-rate decay, the course's two rules (Ng course 2 week 2), epochs counted as the course counts them:
#: "epoch" lr0 / (1 + rate * epoch) with the first epoch 1 (the lecture's table); "interval"
#: lr0 / (1 + rate * floor(epoch / interval)) with the first epoch 0 (the assignment's schedule_lr_decay)
DECAYS = ("epoch", "interval")
MAX_DECAY_RATE = 100.0
#: settings of a new session when the request leaves them out (after TensorFlow Playground's: circles, [4, 2]
#: tanh units, learning rate 0.03, batches of 10)
DEFAULTS: dict[str, Any] = {"dataset": "circles", "noise": None, "n_samples": 400, "test_fraction": 0.25,
                            "classes": 2, "seed": 0, "layers": [4, 2], "activation": "tanh", "init": "xavier",
                            "optimizer": "sgd", "lr": 0.03, "momentum": None, "l2": 0.0, "dropout": 1.0,
                            "batch_norm": False, "batch_size": 10, "epochs": None, "decay": None,
                            "decay_rate": 1.0, "decay_interval": 1000}
#: the fields a course data set fixes itself (its recipe: sizes, noise, seeds, split)
RECIPE_FIELDS = ("noise", "n_samples", "test_fraction", "classes")


# ------------------------------------------------------------------------------------------ the request
@dataclass(frozen=True)
class Spec:
    """The checked settings of a session (the request's fields, defaults filled in)."""

    dataset: str
    noise: float | None
    n_samples: int | None
    test_fraction: float | None
    classes: int
    seed: int
    layers: tuple[int, ...]
    activation: str
    init: str
    optimizer: str
    lr: float
    momentum: float | None
    l2: float
    dropout: float
    batch_norm: bool
    batch_size: int | None
    epochs: int
    preset: str | None
    decay: str | None = None
    decay_rate: float = 1.0
    decay_interval: int = 1000

    def schedule(self) -> Any:
        """The session's learning-rate rule ``(epoch from 0) -> rate``, or None for a constant rate."""
        if self.decay is None:
            return None
        interval = self.decay == "interval"
        rule = get_schedule({"name": "inverse_time", "decay_rate": self.decay_rate, "staircase": interval,
                             "decay_epochs": self.decay_interval if interval else 1})
        rule.start(self.lr)
        first = 0 if interval else 1
        return lambda epoch: rule(epoch + first)

    def as_dict(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in FIELDS}
        values["layers"] = list(self.layers)
        return values


def preset_fields(run: CourseRun) -> dict[str, Any]:
    """The playground's settings that recreate a course experiment (its data recipe, network and training)."""
    fields: dict[str, Any] = {
        "dataset": run.dataset, "layers": list(run.sizes[1:-1]), "activation": run.activation, "init": run.init,
        "optimizer": run.optimizer, "lr": run.learning_rate, "l2": run.l2, "dropout": run.keep_prob,
        "batch_norm": False, "batch_size": run.batch_size, "epochs": run.epochs, "seed": 0,
    }
    if run.beta is not None and run.optimizer == "momentum":
        fields["momentum"] = run.beta
    if run.schedule is not None:
        interval = bool(run.schedule.get("staircase"))
        fields.update(decay="interval" if interval else "epoch", decay_rate=run.schedule.get("decay_rate", 1.0),
                      decay_interval=run.schedule.get("decay_epochs", 1) if interval else 1000)
    return fields


def playable(run: CourseRun) -> bool:
    """Whether the playground can recreate ``run``: two classes through one sigmoid unit, and a constant rate
    or one of the course's inverse-time decays numbered as the playground numbers them (:data:`DECAYS`)."""
    decay_ok = run.schedule is None or (run.schedule.get("name") == "inverse_time" and run.first_epoch ==
                                        (0 if run.schedule.get("staircase") else 1))
    return run.sizes[0] == 2 and run.sizes[-1] == 1 and run.output_activation == "sigmoid" and decay_ok \
        and run.epochs <= MAX_EPOCHS


PRESETS: dict[str, CourseRun] = {run.name: run for run in COURSE_RUNS if playable(run)}


def describe_preset(run: CourseRun) -> dict[str, Any]:
    return {"name": run.name, "experiment": run.experiment, "source": run.source, "note": run.note,
            "published_train": run.published_train, "published_test": run.published_test,
            "settings": preset_fields(run)}


def _optional(body: dict[str, Any], key: str, read: Any, *args: Any) -> Any:
    return None if body.get(key) is None else read(body, key, None, *args)


def parse_spec(body: dict[str, Any]) -> Spec:
    """Check a create request field by field (BadRequest with a one-line message on the first problem)."""
    check_keys(body, FIELDS)
    preset = body.get("preset")
    values = dict(DEFAULTS)
    if preset is not None:
        if not isinstance(preset, str) or preset not in PRESETS:
            raise BadRequest(f"preset must be one of {', '.join(PRESETS)}, got {preset!r}")
        values.update(preset_fields(PRESETS[preset]))
    values.update(body)
    dataset = choice(values, "dataset", "", PLANAR_DATASETS + COURSE_DATASETS)
    if dataset in COURSE_DATASETS:
        given = [key for key in RECIPE_FIELDS if key in body and body[key] is not None]
        if given:
            raise BadRequest(f"{given[0]} does not apply to {dataset}: the course's recipe fixes its points, "
                             "noise and split")
        noise = n_samples = test_fraction = None
        classes = 2
    else:
        noise = _optional(values, "noise", number, 0.0, 1.0)
        n_samples = integer(values, "n_samples", 0, MIN_POINTS, MAX_POINTS)
        test_fraction = number(values, "test_fraction", 0.0, 0.05, 0.9)
        classes = integer(values, "classes", 2, 2, MAX_CLASSES)
        if classes != 2 and dataset not in MULTI_CLASS:
            raise BadRequest(f"classes may exceed 2 for {' and '.join(MULTI_CLASS)} only; {dataset} has 2, got "
                             f"{classes}")
    layers = values["layers"]
    if not isinstance(layers, list) or len(layers) > MAX_HIDDEN_LAYERS:
        raise BadRequest(f"layers must be a list of at most {MAX_HIDDEN_LAYERS} hidden-layer sizes, got {layers!r}")
    for i, units in enumerate(layers):
        if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= MAX_UNITS:
            raise BadRequest(f"layers[{i}] must be a whole number of units from 1 to {MAX_UNITS}, got {units!r}")
    dropout = number(values, "dropout", 1.0, 0.05, 1.0)
    batch_norm = values["batch_norm"]
    if not isinstance(batch_norm, bool):
        raise BadRequest(f"batch_norm must be true or false, got {batch_norm!r}")
    if not layers and (dropout < 1.0 or batch_norm):
        raise BadRequest(f"{'dropout' if dropout < 1.0 else 'batch_norm'} applies to hidden layers, and layers "
                         "has none")
    epochs = _optional(values, "epochs", integer, 1, MAX_EPOCHS)
    decay = values["decay"]
    if decay is not None and decay not in DECAYS:
        raise BadRequest(f"decay must be null (a constant learning rate) or one of {', '.join(DECAYS)}, got "
                         f"{decay!r}")
    return Spec(
        dataset=dataset, noise=noise, n_samples=n_samples, test_fraction=test_fraction, classes=classes,
        seed=integer(values, "seed", 0, 0, 2**31 - 1), layers=tuple(layers),
        activation=choice(values, "activation", "", ACTIVATIONS), init=choice(values, "init", "", tuple(INITIALIZERS)),
        optimizer=choice(values, "optimizer", "", OPTIMIZER_NAMES), lr=number(values, "lr", 0.0, 1e-6, 10.0),
        momentum=_optional(values, "momentum", number, 0.0, 0.999), l2=number(values, "l2", 0.0, 0.0, 100.0),
        dropout=dropout, batch_norm=batch_norm, batch_size=_optional(values, "batch_size", integer, 1, MAX_POINTS),
        epochs=MAX_EPOCHS if epochs is None else epochs, preset=preset, decay=decay,
        decay_rate=number(values, "decay_rate", 1.0, 0.0, MAX_DECAY_RATE),
        decay_interval=integer(values, "decay_interval", 1000, 1, MAX_EPOCHS))


def _settings(spec: Spec, n_outputs: int) -> Any:
    """The run's :class:`~mlpkit.settings.TrainSettings`, through the checks ``mlpkit train`` makes."""
    values: dict[str, Any] = {
        "dataset": spec.dataset, "dtype": "float64", "layers": ",".join(map(str, (2, *spec.layers, n_outputs))),
        "activation": spec.activation, "output": "sigmoid" if n_outputs == 1 else "softmax", "init": spec.init,
        "optimizer": spec.optimizer, "lr": spec.lr, "momentum": spec.momentum, "l2": spec.l2,
        "dropout": str(spec.dropout) if spec.dropout < 1.0 else None, "batch_norm": spec.batch_norm,
        "seed": spec.seed, "epochs": 1,
    }
    try:
        return resolve(values, {name: "the request" for name in values})
    except SettingsError as exc:
        raise BadRequest(" ".join(str(exc).split())) from None


# ------------------------------------------------------------------------------------------ sessions
class _Deadline(Callback):
    """Ends ``fit`` after the epoch that reaches ``seconds`` of wall time."""

    def __init__(self, seconds: float) -> None:
        self.end = time.perf_counter() + seconds

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if time.perf_counter() >= self.end:
            self.network.stop_training = True


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _square(X: np.ndarray) -> tuple[float, float, float, float]:
    """A square around the points, GRID_MARGIN of its side wider on every side: x0, x1, y0, y1."""
    low, high = X.min(axis=0), X.max(axis=0)
    centre, half = (low + high) / 2, float(max((high - low).max(), 1e-6)) * (0.5 + GRID_MARGIN)
    return (float(centre[0] - half), float(centre[0] + half), float(centre[1] - half), float(centre[1] + half))


class Session:
    """One playground: its data, its network and optimizer, and what training has logged.

    ``lock`` is held by whatever reads or changes the network (a step, a reset, a state); callers take it.
    """

    def __init__(self, session_id: str, spec: Spec) -> None:
        self.id = session_id
        self.spec = spec
        self.lock = threading.Lock()
        try:
            if spec.dataset in COURSE_DATASETS:
                self.data: Dataset = load_planar(spec.dataset, dtype="float64")
            else:
                self.data = load_planar(spec.dataset, n_samples=spec.n_samples, noise=spec.noise, seed=spec.seed,
                                        test_fraction=spec.test_fraction, n_classes=spec.classes, dtype="float64")
        except (ValueError, ImportError) as exc:
            raise BadRequest(f"dataset {spec.dataset}: {' '.join(str(exc).split())}") from None
        self.n_classes = int(self.data.n_classes)
        self.n_outputs = 1 if self.n_classes == 2 else self.n_classes
        self.settings = _settings(spec, self.n_outputs)
        train, test = self.data.train, self.data.test
        self.test_is_train = train.X.shape == test.X.shape and bool(np.array_equal(train.X, test.X))
        self.bounds = _square(np.concatenate([train.X, test.X]))
        x0, x1, y0, y1 = self.bounds
        xs, ys = np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID)
        self.grid_points = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)  # row i: y = ys[i]
        self.batch_size = min(spec.batch_size or len(train.y), len(train.y))
        self.reset()

    # ---------------------------------------------------------------------------------- training
    def reset(self) -> None:
        """Epoch 0: a new network from the settings (the same seed gives the same weights), a new optimizer
        and training generator, and the costs before training as the history's first entry."""
        self.network = network_from_settings(self.settings, [2, *self.spec.layers, self.n_outputs])
        self.optimizer = build_optimizer(self.settings)
        self.rng = np.random.default_rng(self.spec.seed)
        self.rate = self.spec.schedule()
        self.epoch = 0
        self.status, self.message = "ready", ""
        self.history = {key: array("d") for key in ("epoch", *METRICS)}
        self.gradient_epochs: array = array("l")
        self.gradient_values: array = array("d")
        self.layer_names: list[str] = []
        train = self.network.evaluate(self.data.train.X, self.data.train.y)
        test = self.network.evaluate(self.data.test.X, self.data.test.y)
        self._log(0, {**train, **{f"val_{k}": v for k, v in test.items()}})
        self._sample_gradients()

    def _log(self, epoch: int, logs: dict[str, float]) -> None:
        self.history["epoch"].append(epoch)
        for key in METRICS:
            self.history[key].append(float(logs.get(key, math.nan)))

    def _sample_gradients(self) -> None:
        train = self.data.train
        layers = gradient_norms(self.network, train.X, train.y, seed=self.epoch)
        self.layer_names = [g.name for g in layers]
        self.gradient_epochs.append(self.epoch)
        self.gradient_values.extend(g.gradient_norm for g in layers)
        if len(self.gradient_epochs) > MAX_GRADIENT_SAMPLES:  # keep every other sample (the newest stays)
            width = len(layers)
            keep = range(len(self.gradient_epochs) - 1, -1, -2)[::-1]
            self.gradient_epochs = array("l", (self.gradient_epochs[i] for i in keep))
            self.gradient_values = array("d", (self.gradient_values[i * width + j] for i in keep
                                               for j in range(width)))

    def step(self, epochs: int, seconds: float) -> float:
        """Train up to ``epochs`` more epochs (fewer at the session's end or after ``seconds``); the seconds
        it took."""
        if self.status == "diverged":
            raise BadRequest(f"session {self.id} diverged: {self.message.rstrip('.')}; reset it or change the "
                             "settings", 409)
        if self.epoch >= self.spec.epochs:
            raise BadRequest(f"session {self.id} has trained its {self.spec.epochs} epochs; reset it to start "
                             "again", 409)
        epochs = min(epochs, self.spec.epochs - self.epoch)
        train, test = self.data.train, self.data.test
        start = time.perf_counter()
        done, rate = self.epoch, self.rate
        # fit numbers the epochs of each call from 0: the session's own count carries the decay across calls
        schedule = None if rate is None else (lambda epoch, history: rate(done + epoch))
        with warnings.catch_warnings():  # a divergence is the session's status and message, not a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            history = self.network.fit(
                train.X, train.y, epochs=epochs, batch_size=self.batch_size, optimizer=self.optimizer,
                validation_data=(test.X, test.y), seed=self.rng, verbose=0, callbacks=[_Deadline(seconds)],
                blas_threads=1, divergence_factor=None, schedule=schedule)
        for i in range(len(history)):
            self._log(self.epoch + i + 1, {key: history[key][i] for key in METRICS})
        self.epoch += len(history)
        if history.diverged:
            self.status, self.message = "diverged", history.message
        elif self.epoch >= self.spec.epochs:
            self.status, self.message = "done", f"trained the {self.spec.epochs} epochs of these settings"
        self._sample_gradients()
        return time.perf_counter() - start

    # ---------------------------------------------------------------------------------- what the page gets
    def boundary(self) -> dict[str, Any]:
        """The network's output on the grid, as base64 bytes of round(255 p), row-major from the bottom row
        (y0) up, each row from x0 to x1; per cell one channel (P(class 1)) or one per class."""
        outputs = self.network.predict_proba(self.grid_points)
        levels = np.rint(np.clip(np.nan_to_num(outputs, nan=0.5), 0.0, 1.0) * 255).astype(np.uint8)
        x0, x1, y0, y1 = self.bounds
        return {"size": GRID, "x": [x0, x1], "y": [y0, y1], "channels": int(outputs.shape[1]),
                "values": base64.b64encode(levels.tobytes()).decode("ascii")}

    def _history_since(self, since: int) -> dict[str, list[float | None]]:
        start = max(0, since + 1)  # one entry per epoch from epoch 0: entry i is epoch i
        out: dict[str, list[Any]] = {"epoch": [int(e) for e in self.history["epoch"][start:]]}
        for key in METRICS:
            out[key] = [_finite(v) for v in self.history[key][start:]]
        return out

    def _gradients_since(self, since: int) -> dict[str, Any]:
        width = len(self.layer_names)
        rows = [i for i, e in enumerate(self.gradient_epochs) if e > since]
        return {"layers": self.layer_names, "epoch": [self.gradient_epochs[i] for i in rows],
                "norm": [[_finite(self.gradient_values[i * width + j]) for j in range(width)] for i in rows]}

    def _points(self) -> dict[str, Any]:
        def split(X: np.ndarray, y: np.ndarray) -> dict[str, list]:
            return {"x": np.round(X[:, 0], 5).tolist(), "y": np.round(X[:, 1], 5).tolist(),
                    "label": y.astype(int).tolist()}

        return {"name": self.data.name, "classes": self.n_classes, "n_train": len(self.data.train.y),
                "n_test": len(self.data.test.y), "test_is_train": self.test_is_train,
                "train": split(*self.data.train), "test": split(*self.data.test)}

    def summary(self) -> dict[str, Any]:
        rate = self.spec.lr if self.rate is None else self.rate(self.epoch)
        return {"id": self.id, "status": self.status, "message": self.message, "epoch": self.epoch,
                "epochs": self.spec.epochs, "batch_size": self.batch_size, "learning_rate": rate}

    def state(self, since: int = -1, *, points: bool = True) -> dict[str, Any]:
        """The session for the page: settings, points (unless ``points`` is False), history and gradient norms
        after epoch ``since`` (-1: all), and the boundary."""
        state: dict[str, Any] = {**self.summary(), "spec": self.spec.as_dict(),
                                 "network": {"sizes": [2, *self.spec.layers, self.n_outputs],
                                             "parameters": self.network.n_params,
                                             "summary": self.network.summary()}}
        if points:
            state["data"] = self._points()
        if self.spec.preset is not None:
            state["preset"] = describe_preset(PRESETS[self.spec.preset])
        state.update(history=self._history_since(since), gradients=self._gradients_since(since),
                     boundary=self.boundary())
        return state


class Playground:
    """The open sessions by id, least recently used first."""

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()
        self.training = threading.BoundedSemaphore(MAX_TRAINING)

    def __len__(self) -> int:
        return len(self._sessions)

    def create(self, spec: Spec) -> Session:
        session = Session(secrets.token_hex(8), spec)
        with self._lock:
            self._sessions[session.id] = session
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str) -> Session:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None:
                self._sessions.move_to_end(session_id)
        if session is None:
            raise BadRequest(f"no playground session {shown(session_id)} (closed, or dropped as the least recently "
                             "used); create one with POST /api/playground", 404)
        return session

    def delete(self, session_id: str) -> None:
        with self._lock:
            if self._sessions.pop(session_id, None) is None:
                raise BadRequest(f"no playground session {shown(session_id)}", 404)


# ------------------------------------------------------------------------------------------ routes
def _playground(request: Request) -> Playground:
    return request.app.state.playground


def _since(request: Request) -> int:
    raw = request.query_params.get("since", "-1")
    if raw == "-1":
        return -1
    return event_number(raw, "since")  # type: ignore[return-value]  # ASCII digits only: "²".isdigit() is True


async def options(request: Request) -> Response:
    limits = {"min_points": MIN_POINTS, "max_points": MAX_POINTS, "max_hidden_layers": MAX_HIDDEN_LAYERS,
              "max_units": MAX_UNITS, "max_classes": MAX_CLASSES, "max_step_epochs": MAX_STEP_EPOCHS,
              "step_seconds": STEP_SECONDS, "max_epochs": MAX_EPOCHS, "max_sessions": MAX_SESSIONS, "grid": GRID}
    return JSONResponse({"datasets": list(PLANAR_DATASETS), "course_datasets": list(COURSE_DATASETS),
                         "default_noise": DEFAULT_NOISE, "multi_class": list(MULTI_CLASS),
                         "activations": list(ACTIVATIONS), "inits": list(INITS),
                         "optimizers": list(OPTIMIZER_NAMES), "decays": list(DECAYS), "defaults": DEFAULTS,
                         "limits": limits,
                         "presets": [describe_preset(run) for run in PRESETS.values()]})


async def create(request: Request) -> Response:
    spec = parse_spec(await read_json(request))
    playground = _playground(request)

    def build() -> dict[str, Any]:
        session = playground.create(spec)
        with session.lock:
            return session.state()

    return JSONResponse(await run_in_threadpool(build), status_code=201)


async def get_state(request: Request) -> Response:
    session = _playground(request).get(request.path_params["session_id"])
    since = _since(request)

    def read() -> dict[str, Any]:
        with session.lock:
            return session.state(since)

    return JSONResponse(await run_in_threadpool(read))


async def step(request: Request) -> Response:
    playground = _playground(request)
    session = playground.get(request.path_params["session_id"])
    body = await read_json(request)
    check_keys(body, ("epochs",))
    epochs = integer(body, "epochs", 1, 1, MAX_STEP_EPOCHS)

    def train() -> dict[str, Any]:
        if not session.lock.acquire(blocking=False):
            raise BadRequest(f"session {session.id} is training already; wait for that step to end", 409)
        try:
            if not playground.training.acquire(timeout=BUSY_WAIT_S):
                raise BadRequest(f"{MAX_TRAINING} playground steps are training; try again in a moment", 429)
            try:
                before = session.epoch
                seconds = session.step(epochs, STEP_SECONDS)
            finally:
                playground.training.release()
            return {**session.state(before, points=False), "seconds": seconds}
        finally:
            session.lock.release()

    return JSONResponse(await run_in_threadpool(train))


async def reset(request: Request) -> Response:
    session = _playground(request).get(request.path_params["session_id"])

    def again() -> dict[str, Any]:
        if not session.lock.acquire(blocking=False):
            raise BadRequest(f"session {session.id} is training; reset it after that step", 409)
        try:
            session.reset()
            return session.state(points=False)
        finally:
            session.lock.release()

    return JSONResponse(await run_in_threadpool(again))


async def delete(request: Request) -> Response:
    session_id = request.path_params["session_id"]
    _playground(request).delete(session_id)
    return JSONResponse({"deleted": session_id})


def routes() -> list[Route]:
    """The playground's endpoints (the app keeps a :class:`Playground` as ``app.state.playground``)."""
    return [
        Route("/api/playground/options", options, methods=["GET"]),
        Route("/api/playground", create, methods=["POST"]),
        Route("/api/playground/{session_id}", get_state, methods=["GET"]),
        Route("/api/playground/{session_id}", delete, methods=["DELETE"]),
        Route("/api/playground/{session_id}/step", step, methods=["POST"]),
        Route("/api/playground/{session_id}/reset", reset, methods=["POST"]),
    ]
