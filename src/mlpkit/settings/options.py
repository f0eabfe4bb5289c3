"""The options of a training run: one table, used for the ``mlpkit train`` flags, the keys of settings files,
the dashboard's run requests, the searched parameters of ``mlpkit tune`` and the effective settings saved
with a model.

A run's own choices (the data set, the layer sizes, the book's learning rate for SGD, where to write) have
their defaults here. The hyper-parameters of the optimizer, the schedule and early stopping do not: an
option left unset is not passed, so the library's own default applies (the table reads those defaults from
the classes' signatures for the help text, and :func:`~mlpkit.settings.checks.resolve` writes the values
actually used back into the settings). Names are the library's (``inverse_time``, ``leaky_relu``); hyphens
are accepted for underscores everywhere.
"""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ..activations import ACTIVATION_NAMES
from ..datasets.planar import COURSE_DATASETS, DEFAULT_NOISE, DEFAULT_SAMPLES, PLANAR_DATASETS
from ..initializers import INITIALIZERS
from ..losses import LOSS_NAMES
from ..network import Network
from ..optimizers import OPTIMIZER_NAMES, Momentum, optimizer_class
from ..schedules import SCHEDULE_NAMES, schedule_class
from ..tasks import TASKS
from ..training import fit
from ..validation import FLOAT_DTYPES


class SettingsError(ValueError):
    """A bad setting or combination of settings: one line naming the option (its flag, or its key and file)
    and what is allowed."""


def _default(function: Callable, parameter: str) -> Any:
    """The library's default of ``parameter`` of ``function`` (read, never restated)."""
    return inspect.signature(function).parameters[parameter].default


MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")
AUGMENTERS = ("shift", "rotate", "elastic", "affine")
#: ``mlpkit train`` trains like the book: plain SGD starts at Nielsen's eta = 0.5 (the library's SGD default
#: is 0.1); every other optimizer starts at its own default rate
BOOK_SGD_LEARNING_RATE = 0.5
#: seconds of training between the checkpoints ``mlpkit train`` writes by time (--checkpoint-interval): what a
#: crash or ``kill -9`` can lose at most, plus the epoch under way; a write costs a few milliseconds for
#: networks of the book's size, so it stays a small fraction of the time
CHECKPOINT_INTERVAL = 30.0


@dataclass(frozen=True)
class Option:
    """One option of a training run.

    ``parameter`` names the keyword of the optimizer (``target`` "optimizer") or schedule ("schedule") that
    the option sets; such an option applies to the classes that take that keyword, and its default is theirs.
    """

    name: str
    flags: tuple[str, ...]
    kind: str  # int, float, str, bool, list
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    saved: bool = True  # part of the effective settings saved with the model
    list_choices: bool = True  # list the choices in --help (not for long lists of aliases)
    target: str | None = None  # "optimizer" or "schedule"
    parameter: str | None = None

    @property
    def label(self) -> str:
        return "/".join(self.flags)

    @functools.cached_property
    def users(self) -> tuple[str, ...]:
        """The optimizers or schedules (by name) that take this option."""
        if self.target is None:
            return ()
        names, lookup = (OPTIMIZER_NAMES, optimizer_class) if self.target == "optimizer" else \
            (SCHEDULE_NAMES, schedule_class)
        return tuple(n for n in names if self.parameter in inspect.signature(lookup(n)).parameters)

    def library_defaults(self) -> dict[str, Any]:
        """{optimizer or schedule name: the default it gives this option's parameter} (required ones left out)."""
        lookup = optimizer_class if self.target == "optimizer" else schedule_class
        found = {n: _default(lookup(n), self.parameter) for n in self.users}
        return {n: v for n, v in found.items() if v is not inspect.Parameter.empty}


def _optimizer_option(name: str, flags: tuple[str, ...], kind: str, help: str, parameter: str | None = None,
                      choices: tuple[str, ...] = ()) -> Option:
    return Option(name, flags, kind, None, help, choices, target="optimizer", parameter=parameter or name)


def _schedule_option(name: str, flags: tuple[str, ...], kind: str, help: str) -> Option:
    return Option(name, flags, kind, None, help, target="schedule", parameter=name)


OPTIONS: tuple[Option, ...] = (
    # data
    Option("dataset", ("--dataset", "--data"), "str", "digits",
           f"'digits' (embedded 8x8 digits), 'mnist', a generated 2-D set ({', '.join(PLANAR_DATASETS)}: split "
           f"60/20/20), one of the course's recipes ({', '.join(COURSE_DATASETS)}), or a .csv/.npz file (split "
           "80/10/10: stratified for classes, shuffled for multilabel and regression targets)"),
    Option("label_column", ("--label-column", "--target"), "str", "label",
           "target column of a CSV file; several, comma-separated: a,b,c (multilabel 0/1 columns, regression "
           "values, or one-hot classes)"),
    Option("task", ("--task",), "str", "auto",
           "what the targets are; auto: classes for integer or named labels and one-hot columns, multilabel for "
           "other 0/1 columns, regression for fractional values (mlpkit.tasks.infer_task)", ("auto", *TASKS)),
    Option("sample_weight", ("--sample-weight",), "str", None,
           "a CSV column of per-example weights (>= 0; not a feature): the cost and the metrics are weighted means"),
    Option("dtype", ("--dtype",), "str", "float32", "floating-point precision", tuple(FLOAT_DTYPES)),
    Option("samples", ("--samples",), "int", None,
           f"points of a generated 2-D set (default {DEFAULT_SAMPLES})"),
    Option("noise", ("--noise",), "float", None,
           "noise of a generated 2-D set: the standard deviation of its Gaussian noise (default: "
           + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_NOISE.items()) + ")"),
    Option("classes", ("--classes",), "int", None, "classes of the generated spiral or gaussian set (default 2)"),
    # network
    Option("layers", ("--layers",), "list", "auto,30,auto",
           "layer sizes, e.g. 784,100,10; 'auto' first/last takes the size from the data"),
    Option("activation", ("--activation",), "str", _default(Network, "activation"), "hidden-layer activation",
           tuple(a for a in ACTIVATION_NAMES if a != "softmax")),
    Option("output", ("--output",), "str", "auto",
           "output-layer activation; auto follows the task: softmax (classes), sigmoid (binary, multilabel), "
           "identity (regression)", ("auto", *ACTIVATION_NAMES)),
    Option("cost", ("--cost",), "str", None,
           "quadratic (mse), binary_crossentropy (Nielsen's cross_entropy), categorical_crossentropy "
           "(log_likelihood), mae or huber (regression); default: the cross-entropy that fits the output, "
           "quadratic for regression", LOSS_NAMES, list_choices=False),
    Option("huber_delta", ("--huber-delta",), "float", None,
           "residual beyond which --cost huber is linear (default 1.0, in standardized target units)"),
    Option("init", ("--init",), "str", _default(Network, "init"), "weight initialization (default: N(0, 1/n_in))",
           tuple(INITIALIZERS)),
    Option("l2", ("--l2", "--lmbda"), "float", 0.0, "L2 regularization strength (Nielsen's lmbda)"),
    Option("l1", ("--l1",), "float", 0.0, "L1 regularization strength (instead of L2)"),
    Option("dropout", ("--dropout",), "list", None,
           "keep probability after each hidden layer, e.g. 0.5, or one per hidden layer: 0.8,0.5"),
    Option("input_dropout", ("--input-dropout",), "float", 1.0,
           "keep probability of each input feature (dropout on the inputs, Srivastava et al. 2014); 1: off"),
    Option("batch_norm", ("--batch-norm",), "bool", False, "batch normalization before each hidden activation"),
    Option("standardize", ("--standardize",), "bool", False,
           "input normalization layer (mean and std of the training set)"),
    # optimizer
    Option("optimizer", ("--optimizer",), "str", _default(fit, "optimizer"), "update rule", OPTIMIZER_NAMES),
    _optimizer_option("lr", ("--lr", "--eta"), "float",
                      f"learning rate; default {BOOK_SGD_LEARNING_RATE} for sgd (the book's eta), the optimizer's "
                      "own default else", parameter="learning_rate"),
    _optimizer_option("momentum", ("--momentum", "--beta"), "float", "momentum coefficient", parameter="beta"),
    _optimizer_option("momentum_convention", ("--momentum-convention",), "str",
                      "momentum form: ng (v = beta v + (1-beta) g) or classical (Nielsen: v = mu v - eta g)",
                      parameter="convention", choices=Momentum.CONVENTIONS),
    _optimizer_option("beta1", ("--beta1",), "float", "first-moment decay"),
    _optimizer_option("beta2", ("--beta2",), "float", "second-moment decay"),
    _optimizer_option("eps", ("--eps",), "float", "denominator guard"),
    _optimizer_option("weight_decay", ("--weight-decay",), "float", "decoupled weight decay"),
    # schedule
    Option("schedule", ("--schedule",), "str", "constant", "learning-rate schedule", SCHEDULE_NAMES),
    _schedule_option("decay_rate", ("--decay-rate",), "float", "decay rate"),
    _schedule_option("decay_epochs", ("--decay-epochs",), "int", "epochs per decay period"),
    _schedule_option("staircase", ("--staircase",), "bool", "decay in whole periods"),
    _schedule_option("step_size", ("--step-size",), "int", "epochs between drops"),
    _schedule_option("factor", ("--factor",), "float", "multiplier at each drop"),
    _schedule_option("patience", ("--patience",), "int", "epochs without improvement before each cut"),
    # training
    Option("epochs", ("--epochs",), "int", _default(fit, "epochs"), "passes over the training data"),
    Option("batch_size", ("--batch-size",), "int", _default(fit, "batch_size"), "mini-batch size"),
    Option("seed", ("--seed",), "int", 0, "seed of the data split, initialization, shuffling and dropout"),
    Option("class_weight", ("--class-weight",), "str", None,
           "weights of the classes in the cost: 'balanced' (n / (k n_c)) or class:weight pairs, e.g. '0:1,1:5' "
           "(class numbers or names; unnamed classes weigh 1)"),
    Option("threshold", ("--threshold",), "float", None,
           "decision threshold of a binary or multilabel output: predict 1 when the output >= it (default 0.5)"),
    Option("early_stopping", ("--early-stopping",), "int", 0,
           "stop after this many epochs without improvement and keep the best weights (0: off)"),
    Option("monitor", ("--monitor",), "str", None,
           "metric for --early-stopping (default val_loss) and halve_on_plateau (default val_accuracy)", MONITORS),
    Option("augment", ("--augment",), "list", None,
           "image augmentation each epoch, comma-combinable: shift, rotate, elastic, affine"),
    # output
    Option("out", ("--out",), "str", None, "run directory (default runs/<timestamp>)", saved=False),
    Option("plots", ("--plots",), "bool", True,
           "write cost.png and accuracy.png (and boundary.png, the decision boundary, for 2-D data)", saved=False),
    Option("boundary_frames", ("--boundary-frames",), "int", 0,
           "also write boundary.gif: the decision boundary of 2-D data at N evenly spaced epochs (0: off)",
           saved=False),
    Option("checkpoint_every", ("--checkpoint-every",), "int", 0,
           "also write checkpoint.mlpkc every N epochs (0: on Ctrl-C/SIGTERM, by --checkpoint-interval and at the "
           "end)", saved=False),
    Option("checkpoint_interval", ("--checkpoint-interval",), "float", CHECKPOINT_INTERVAL,
           "also write checkpoint.mlpkc at the first epoch end after every X seconds of training, so that a crash, "
           "a power cut or kill -9 loses at most that much (0: off)", saved=False),
    Option("quiet", ("--quiet",), "bool", False, "print only the final result", saved=False),
    Option("dashboard", ("--dashboard",), "str", None,
           "address of a running mlpkit serve (e.g. http://127.0.0.1:8000) to show this run live", saved=False),
    Option("log_dir", ("--log-dir",), "str", None,
           "also log every epoch to DIR: log.csv, and TensorBoard event files when tensorboard is installed",
           saved=False),
)
OPTION_BY_NAME = {o.name: o for o in OPTIONS}
#: file keys accepted for an option besides its name (from the alias flags: eta, lmbda, beta)
ALIASES = {flag[2:].replace("-", "_"): o.name for o in OPTIONS for flag in o.flags[1:]}
#: the options that set a parameter of the optimizer / the schedule
OPTIMIZER_OPTIONS = tuple(o for o in OPTIONS if o.target == "optimizer")
SCHEDULE_OPTIONS = tuple(o for o in OPTIONS if o.target == "schedule")


@dataclass
class TrainSettings:
    """The checked settings of one training run, as :func:`~mlpkit.settings.checks.resolve` makes them (see
    :data:`OPTIONS` for each field).

    ``layers`` holds ints and ``"auto"`` until the data are known (:func:`~mlpkit.settings.checks.resolve_layers`);
    optimizer and schedule parameters that do not apply to the chosen ones are None, the others hold the
    values the library uses.
    """

    dataset: str
    samples: int | None
    noise: float | None
    classes: int | None
    label_column: str
    task: str
    sample_weight: str | None
    dtype: str
    layers: list[int | str]
    activation: str
    output: str
    cost: str | None
    huber_delta: float | None
    init: str
    l2: float
    l1: float
    dropout: list[float]
    input_dropout: float
    batch_norm: bool
    standardize: bool
    optimizer: str
    lr: float
    momentum: float | None
    momentum_convention: str | None
    beta1: float | None
    beta2: float | None
    eps: float | None
    weight_decay: float | None
    schedule: str
    decay_rate: float | None
    decay_epochs: int | None
    staircase: bool | None
    step_size: int | None
    factor: float | None
    patience: int | None
    epochs: int
    batch_size: int
    seed: int
    class_weight: str | None
    threshold: float | None
    early_stopping: int
    monitor: str | None
    augment: list[str]
    out: str | None
    plots: bool
    boundary_frames: int
    checkpoint_every: int
    checkpoint_interval: float
    quiet: bool
    dashboard: str | None
    log_dir: str | None

    def effective(self) -> dict[str, Any]:
        """The settings that define the experiment, JSON/YAML-ready (a settings file with them reproduces it)."""
        values = asdict(self)
        return {o.name: values[o.name] for o in OPTIONS if o.saved}


def option_name(key: str, where: str = "the settings") -> str:
    """The option a key names: the option's name, an alias (eta, lmbda, beta), hyphens read as underscores;
    SettingsError listing the options otherwise."""
    name = str(key).strip().replace("-", "_")
    name = ALIASES.get(name, name)
    if name not in OPTION_BY_NAME:
        raise SettingsError(f"{where}: unknown option {key!r}; allowed: {', '.join(OPTION_BY_NAME)}")
    return name


def convert_mapping(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Check the keys of a settings mapping (a file, a request, a checkpoint) and convert each value to its
    option's kind."""
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = option_name(key, where)
        if name in values:
            raise SettingsError(f"{where}: option {name!r} is given twice (an alias counts as the same option)")
        values[name] = convert(OPTION_BY_NAME[name], value, f"{name!r} in {where}")
    return values


def convert(option: Option, value: Any, label: str) -> Any:
    """``value`` as ``option``'s kind (None stays None: not given); SettingsError naming ``label`` else."""
    if value is None:
        return None
    kind = option.kind
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "false", "no", "off"):
            return value.strip().lower() in ("true", "yes", "on")
        raise SettingsError(f"{label} must be true or false, got {value!r}")
    if kind == "int":
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise SettingsError(f"{label} must be an integer, got {value!r}")
    if kind == "float":
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML reads 1e-3 (no dot) as a string
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise SettingsError(f"{label} must be a number, got {value!r}")
    if kind == "list":
        if isinstance(value, (list, tuple, str)) and len(value) == 0:
            return None
        if isinstance(value, (list, tuple)):
            if any(isinstance(v, (list, tuple, dict)) for v in value):
                raise SettingsError(f"{label} must be a flat list, got {value!r}")
            return ",".join(str(v) for v in value)
        if isinstance(value, (str, numbers.Real)) and not isinstance(value, bool):
            return str(value)
        raise SettingsError(f"{label} must be a comma-separated string or a list, got {value!r}")
    if isinstance(value, (str, numbers.Real)) and not isinstance(value, bool):
        return str(value)
    raise SettingsError(f"{label} must be a string, got {value!r}")
