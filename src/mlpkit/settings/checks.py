"""Checking the settings of a run once, with messages that name the option as the user wrote it.

Most checks are the library's own: :func:`resolve` builds the regularizer, the dropout layers, the
optimizer and the schedule that the values describe, and a ``ValueError`` the library raises about one of
its parameters comes back as a :class:`~mlpkit.settings.options.SettingsError` naming the flag (or the key
and the file) that set it. What only a run has (layer sizes with 'auto', which options go together, data
set names, augmenters) is checked here.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping
from typing import Any

from ..callbacks import EarlyStopping
from ..datasets import COURSE_DATASETS, PLANAR_DATASETS
from ..datasets.planar import check_planar_arguments
from ..layers import Dropout
from ..losses import get_loss
from ..optimizers import get_optimizer
from ..regularizers import L1, L2
from ..schedules import get_schedule
from ..tasks import check_threshold
from ..validation import check_positive_int
from .options import (
    AUGMENTERS,
    BOOK_SGD_LEARNING_RATE,
    OPTIMIZER_OPTIONS,
    OPTION_BY_NAME,
    OPTIONS,
    SCHEDULE_OPTIONS,
    Option,
    SettingsError,
    TrainSettings,
)

#: the options that shape a generated 2-D data set
PLANAR_OPTIONS = ("samples", "noise", "classes")
#: the most frames of --boundary-frames (each is a figure drawn at the end of training)
MAX_BOUNDARY_FRAMES = 200


class Labels:
    """How an error names an option: its flags, or the key and the place it came from (``sources``: option
    name -> "command line", a file name, "the request"...)."""

    def __init__(self, sources: Mapping[str, str] | None = None) -> None:
        self.sources = dict(sources or {})

    def __call__(self, name: str) -> str:
        source = self.sources.get(name, "default")
        if source not in ("default", "command line"):
            return f"{name!r} in {source}"
        return OPTION_BY_NAME[name].label


def relabel(error: Exception, labels: Mapping[str, str], what: str) -> SettingsError:
    """The library's one-line ``error`` about one of its parameters, with the parameter's name (a key of
    ``labels``) replaced by the option's label; other errors are prefixed with ``what``."""
    message = " ".join(str(error).split())
    for parameter in sorted(labels, key=len, reverse=True):
        if message.startswith(parameter + " "):
            return SettingsError(labels[parameter] + message[len(parameter):])
    return SettingsError(f"{what}: {message}")


@contextlib.contextmanager
def library_check(labels: Mapping[str, str], what: str) -> Iterator[None]:
    """Build library objects inside; their ValueError/TypeError becomes a relabelled SettingsError."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        if isinstance(exc, SettingsError):
            raise
        raise relabel(exc, labels, what) from None


def optimizer_spec(values: Mapping[str, Any]) -> dict[str, Any]:
    """``get_optimizer``'s spec for settings ``values``: the optimizer's name and the parameters that are set
    (the learning rate of plain SGD defaults to the book's 0.5; everything else unset keeps the library's
    default)."""
    spec: dict[str, Any] = {"name": values["optimizer"]}
    for option in OPTIMIZER_OPTIONS:
        if values.get(option.name) is not None and values["optimizer"] in option.users:
            spec[option.parameter] = values[option.name]
    if "learning_rate" not in spec and spec["name"] == "sgd":
        spec["learning_rate"] = BOOK_SGD_LEARNING_RATE
    return spec


def schedule_spec(values: Mapping[str, Any]) -> dict[str, Any]:
    """``get_schedule``'s spec for settings ``values`` (the parameters that are set, and the monitor of a
    schedule that watches a metric)."""
    spec: dict[str, Any] = {"name": values["schedule"]}
    for option in SCHEDULE_OPTIONS:
        if values.get(option.name) is not None and values["schedule"] in option.users:
            spec[option.parameter] = values[option.name]
    if values["schedule"] == "halve_on_plateau" and values.get("monitor") is not None:
        spec["monitor"] = values["monitor"]
    return spec


def choice(value: str, option: Option, label: str) -> str:
    """``value`` as one of ``option.choices`` (case-insensitive, hyphens read as underscores)."""
    key = str(value).strip().lower().replace("-", "_")
    for allowed in option.choices:
        if allowed.replace("-", "_") == key:
            return allowed
    raise SettingsError(f"{label} must be one of {', '.join(option.choices)}; got {value!r}")


def _non_negative_int(value: int, label: str) -> int:
    if value < 0:
        raise SettingsError(f"{label} must be a non-negative integer, got {value}")
    return value


def parse_layers(text: str, label: str = "--layers") -> list[int | str]:
    """``"auto,30,auto"`` -> ``["auto", 30, "auto"]`` ('auto' only first and last)."""
    parts = [p.strip().lower() for p in str(text).split(",")]
    if len(parts) < 2:
        raise SettingsError(f"{label} needs at least input and output sizes, e.g. auto,30,auto; got {text!r}")
    sizes: list[int | str] = []
    for i, part in enumerate(parts):
        if part == "auto" and i in (0, len(parts) - 1):
            sizes.append("auto")
        elif part.isdigit() and int(part) > 0:
            sizes.append(int(part))
        else:
            raise SettingsError(f"{label} entries must be positive integers ('auto' allowed first and last); "
                                f"got {part!r} in {text!r}")
    return sizes


def resolve_layers(layers: list[int | str], n_features: int, n_outputs: int, label: str = "--layers",
                   task: str = "classification") -> list[int]:
    """Fill in 'auto' from the data and check the ends against it: ``n_outputs`` is the width the ``task``
    needs (the classes of a classification, 1 for binary, the target columns of multilabel and regression);
    two classes may also have one sigmoid output."""
    sizes = [n_features if s == "auto" and i == 0 else n_outputs if s == "auto" else int(s)
             for i, s in enumerate(layers)]
    if sizes[0] != n_features:
        raise SettingsError(f"{label} starts with {sizes[0]} inputs but the dataset has {n_features} features "
                            "(use 'auto' to take it from the data)")
    if sizes[-1] != n_outputs and not (task == "classification" and sizes[-1] == 1 and n_outputs == 2):
        what = {"classification": "classes", "binary": "output (one sigmoid unit) for a binary task"}.get(
            task, f"target columns ({task})")
        raise SettingsError(f"{label} ends with {sizes[-1]} outputs but the dataset has {n_outputs} {what} "
                            "(use 'auto' to take it from the data)")
    return sizes


def _keep_probabilities(text: str, n_hidden: int, label: str) -> list[float]:
    try:
        keeps = [float(p) for p in str(text).split(",")]
    except ValueError:
        raise SettingsError(f"{label} must be keep probabilities in (0, 1], e.g. 0.5 or 0.8,0.5; "
                            f"got {text!r}") from None
    with library_check({"keep_prob": label}, label):
        for keep in keeps:
            Dropout(keep)
    if n_hidden == 0:
        raise SettingsError(f"{label} applies after hidden layers, and --layers has none")
    if len(keeps) not in (1, n_hidden):
        raise SettingsError(f"{label} gives {len(keeps)} keep probabilities for {n_hidden} hidden layers: give "
                            "one for all, or one per hidden layer")
    return keeps * n_hidden if len(keeps) == 1 else keeps


def _check_applies(options: tuple[Option, ...], chosen: str, given: set[str], label: Labels, what: str) -> None:
    for option in options:
        users = option.users
        if option.name in given and chosen not in users:
            if what == "optimizer":
                raise SettingsError(f"{label(option.name)} applies to the {' and '.join(users)} optimizer"
                                    f"{'s' if len(users) > 1 else ''}, not {chosen}")
            raise SettingsError(f"{label(option.name)} applies to --schedule {' or '.join(users)}, not {chosen}")


def _check_planar(dataset: str, raw: Mapping[str, Any], label: Labels) -> None:
    """--samples, --noise and --classes shape a generated 2-D set; refused for any other data set."""
    given = [name for name in PLANAR_OPTIONS if raw[name] is not None]
    if not given:
        return
    if dataset in COURSE_DATASETS:
        similar = dataset.removeprefix("course_")
        hint = f"; --dataset {similar} takes it" if similar in PLANAR_DATASETS else ""
        raise SettingsError(f"{label(given[0])} does not apply to {dataset}, the course's fixed recipe{hint}")
    if dataset not in PLANAR_DATASETS:
        raise SettingsError(f"{label(given[0])} applies to the generated 2-D data sets "
                            f"({', '.join(PLANAR_DATASETS)}), not {dataset}")
    labels = {"n_samples": label("samples"), "noise": label("noise"), "n_classes": label("classes")}
    with library_check(labels, f"--dataset {dataset}"):
        check_planar_arguments(dataset, raw["samples"], raw["noise"], 2 if raw["classes"] is None else raw["classes"])


def parse_class_weight(text: str, label: str = "--class-weight") -> str | dict[str, float]:
    """``"balanced"``, or ``"0:1,1:5"`` / ``"cat:2,dog:1"`` as {class (number or name, as text): weight}."""
    text = str(text).strip()
    if text.lower() == "balanced":
        return "balanced"
    weights: dict[str, float] = {}
    for part in text.split(","):
        key, sep, value = part.rpartition(":")
        key = key.strip()
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if not sep or not key or not weight >= 0 or weight == float("inf"):
            raise SettingsError(f"{label} must be 'balanced' or class:weight pairs with weights >= 0, e.g. '0:1,1:5'; "
                                f"got {part.strip()!r} in {text!r}")
        if key in weights:
            raise SettingsError(f"{label} gives the class {key!r} twice")
        weights[key] = weight
    return weights


def _check_task_options(out: dict[str, Any], raw: Mapping[str, Any], label: Labels) -> None:
    """--huber-delta goes with --cost huber; --threshold and --class-weight are checked as the library
    checks them (which tasks they apply to is known once the data are)."""
    if raw["huber_delta"] is not None:
        if out["cost"] != "huber":
            raise SettingsError(f"{label('huber_delta')} applies to --cost huber, not "
                                f"{out['cost'] or 'the default cost'}")
        with library_check({"the Huber delta": label("huber_delta")}, label("huber_delta")):
            out["huber_delta"] = get_loss({"name": "huber", "delta": raw["huber_delta"]}).threshold
    if raw["threshold"] is not None:
        with library_check({"threshold": label("threshold")}, label("threshold")):
            out["threshold"] = check_threshold(raw["threshold"])
    if raw["class_weight"] is not None:
        parsed = parse_class_weight(raw["class_weight"], label("class_weight"))
        out["class_weight"] = parsed if isinstance(parsed, str) else \
            ",".join(f"{k}:{v:g}" for k, v in parsed.items())


def resolve(values: Mapping[str, Any], sources: Mapping[str, str] | None = None) -> TrainSettings:
    """Check option values (defaults filled in for missing or None ones) and return the run's settings.

    ``sources`` maps an option name to where its value came from (``"command line"``, a file name, ...),
    so that an error names the flag or the file key the user wrote. The optimizer's and the schedule's
    parameters come back as the library uses them (its defaults filled in).
    """
    label = Labels(sources)
    raw = {o.name: o.default for o in OPTIONS}
    raw.update({k: v for k, v in values.items() if v is not None})
    given = {k for k, v in values.items() if v is not None and v is not False}
    out: dict[str, Any] = dict(raw)

    for name in ("dataset", "label_column"):
        out[name] = str(raw[name]).strip()
        if not out[name]:
            raise SettingsError(f"{label(name)} must not be empty")
    if raw["sample_weight"] is not None:
        out["sample_weight"] = str(raw["sample_weight"]).strip()
        if not out["sample_weight"]:
            raise SettingsError(f"{label('sample_weight')} must name a column of the CSV file")
    _check_planar(out["dataset"], raw, label)
    for name in ("dtype", "activation", "output", "init", "optimizer", "schedule", "task"):
        out[name] = choice(raw[name], OPTION_BY_NAME[name], label(name))
    if raw["cost"] is not None:
        out["cost"] = choice(raw["cost"], OPTION_BY_NAME["cost"], label("cost"))
    _check_task_options(out, raw, label)
    out["layers"] = parse_layers(raw["layers"], label("layers"))
    n_hidden = len(out["layers"]) - 2

    # penalties and layers
    with library_check({"lmbda": label("l2")}, label("l2")):
        L2(raw["l2"])
    with library_check({"lmbda": label("l1")}, label("l1")):
        L1(raw["l1"])
    if raw["l2"] and raw["l1"]:
        raise SettingsError(f"{label('l2')} (L2) and {label('l1')} are exclusive: choose one penalty")
    out["dropout"] = [] if raw["dropout"] is None else _keep_probabilities(raw["dropout"], n_hidden, label("dropout"))
    with library_check({"keep_prob": label("input_dropout")}, label("input_dropout")):
        Dropout(raw["input_dropout"])
    out["batch_norm"], out["standardize"] = bool(raw["batch_norm"]), bool(raw["standardize"])
    if out["batch_norm"] and n_hidden == 0:
        raise SettingsError(f"{label('batch_norm')} normalizes hidden layers, and --layers has none")

    # optimizer: what is set goes to the library, which checks it and fills in its defaults
    _check_applies(OPTIMIZER_OPTIONS, out["optimizer"], given, label, "optimizer")
    if raw["momentum_convention"] is not None:
        out["momentum_convention"] = choice(raw["momentum_convention"], OPTION_BY_NAME["momentum_convention"],
                                            label("momentum_convention"))
    with library_check({o.parameter: label(o.name) for o in OPTIMIZER_OPTIONS}, f"--optimizer {out['optimizer']}"):
        optimizer = get_optimizer(optimizer_spec(out)).get_config()
    for option in OPTIMIZER_OPTIONS:
        out[option.name] = optimizer.get(option.parameter)

    # schedule, the same way
    _check_applies(SCHEDULE_OPTIONS, out["schedule"], given, label, "schedule")
    for option in SCHEDULE_OPTIONS:
        if out["schedule"] in option.users and option.name not in given and \
                out["schedule"] not in option.library_defaults():
            raise SettingsError(f"--schedule {out['schedule']} needs {label(option.name)} ({option.help})")
    if raw["monitor"] is not None:
        if not raw["early_stopping"] and out["schedule"] != "halve_on_plateau":
            raise SettingsError(f"{label('monitor')} applies to --early-stopping and --schedule halve_on_plateau, "
                                "and neither is on")
        out["monitor"] = choice(raw["monitor"], OPTION_BY_NAME["monitor"], label("monitor"))
    with library_check({o.parameter: label(o.name) for o in SCHEDULE_OPTIONS}, f"--schedule {out['schedule']}"):
        schedule = get_schedule(schedule_spec(out)).get_config()
    for option in SCHEDULE_OPTIONS:
        out[option.name] = schedule.get(option.parameter)

    # training
    with library_check({"epochs": label("epochs"), "batch_size": label("batch_size")}, "training"):
        out["epochs"] = check_positive_int(raw["epochs"], "epochs")
        out["batch_size"] = check_positive_int(raw["batch_size"], "batch_size")
    out["seed"] = _non_negative_int(raw["seed"], label("seed"))
    out["early_stopping"] = _non_negative_int(raw["early_stopping"], label("early_stopping"))
    if out["early_stopping"]:
        with library_check({"patience": label("early_stopping"), "monitor": label("monitor")}, "early stopping"):
            EarlyStopping(out["monitor"] or "val_loss", out["early_stopping"])
    out["augment"] = []
    if raw["augment"] is not None:
        names = [p.strip().lower() for p in str(raw["augment"]).split(",") if p.strip()]
        for name in names:
            if name not in AUGMENTERS:
                raise SettingsError(f"{label('augment')} takes {', '.join(AUGMENTERS)} (comma-combinable); "
                                    f"got {name!r}")
        out["augment"] = list(dict.fromkeys(names))
    out["out"] = None if raw["out"] is None else str(raw["out"])
    out["plots"], out["quiet"] = bool(raw["plots"]), bool(raw["quiet"])
    out["checkpoint_every"] = _non_negative_int(raw["checkpoint_every"], label("checkpoint_every"))
    interval = raw["checkpoint_interval"]
    number = isinstance(interval, (int, float)) and not isinstance(interval, bool)
    if not (number and math.isfinite(interval) and interval >= 0):
        raise SettingsError(f"{label('checkpoint_interval')} must be a number of seconds >= 0 (0: off), "
                            f"got {interval!r}")
    out["checkpoint_interval"] = float(interval)
    out["boundary_frames"] = _non_negative_int(raw["boundary_frames"], label("boundary_frames"))
    if out["boundary_frames"] == 1 or out["boundary_frames"] > MAX_BOUNDARY_FRAMES:
        raise SettingsError(f"{label('boundary_frames')} must be 0 (off) or from 2 to {MAX_BOUNDARY_FRAMES} frames, "
                            f"got {out['boundary_frames']}")
    out["dashboard"] = None if raw["dashboard"] is None else str(raw["dashboard"]).strip()
    return TrainSettings(**out)
