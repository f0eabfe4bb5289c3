"""The options of ``mlpkit train``: one table, used for the command-line flags, the ``--config`` file keys
and the effective configuration saved with the model.

Values come from three places, later ones winning: the defaults below, a ``--config`` file (TOML, YAML
or JSON, flat ``key = value`` with the option names, ``-`` or ``_``), and the command line. Everything
is then checked once (:func:`resolve`), with messages that name the flag (or the file key) and say what
is allowed. Nothing here imports click or rich.
"""

from __future__ import annotations

import json
import math
import numbers
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..activations import ACTIVATION_NAMES
from ..initializers import INITIALIZERS
from ..losses import LOSS_NAMES
from ..optimizers import DEFAULT_LEARNING_RATES, OPTIMIZER_NAMES


class ConfigError(ValueError):
    """A bad option value or combination: reported on one line, exit status 2."""


HIDDEN_ACTIVATIONS = tuple(a for a in ACTIVATION_NAMES if a != "softmax")
OUTPUT_ACTIVATIONS = tuple(ACTIVATION_NAMES)
SCHEDULES = ("constant", "inverse-time", "exponential", "step", "halve-on-plateau")
MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")
AUGMENTERS = ("shift", "rotate", "elastic", "affine")
DTYPES = ("float32", "float64")
MOMENTUM_CONVENTIONS = ("ng", "classical")
#: learning rate when --lr is not given: the book's eta = 0.5 for plain SGD, else the optimizer's default
CLI_DEFAULT_LEARNING_RATES = {**DEFAULT_LEARNING_RATES, "sgd": 0.5}


@dataclass(frozen=True)
class Option:
    """One ``mlpkit train`` option: its config key, flags, kind, default and help."""

    name: str
    flags: tuple[str, ...]
    kind: str  # int, float, str, bool, list
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    saved: bool = True  # part of the effective configuration saved with the model
    list_choices: bool = True  # list the choices in --help (not for long lists of aliases)

    @property
    def label(self) -> str:
        return "/".join(self.flags)


OPTIONS: tuple[Option, ...] = (
    # data
    Option("dataset", ("--dataset",), "str", "digits",
           "'digits' (embedded 8x8 digits), 'mnist', or a .csv/.npz file (split 80/10/10, stratified)"),
    Option("label_column", ("--label-column",), "str", "label", "label column of a CSV file"),
    Option("dtype", ("--dtype",), "str", "float32", "floating-point precision", DTYPES),
    # network
    Option("layers", ("--layers",), "list", "auto,30,auto",
           "layer sizes, e.g. 784,100,10; 'auto' first/last takes the size from the data"),
    Option("activation", ("--activation",), "str", "sigmoid", "hidden-layer activation", HIDDEN_ACTIVATIONS),
    Option("output", ("--output",), "str", "softmax", "output-layer activation", OUTPUT_ACTIVATIONS),
    Option("cost", ("--cost",), "str", None,
           "quadratic, binary_crossentropy (Nielsen's cross_entropy) or categorical_crossentropy (log_likelihood); "
           "default: the cross-entropy that fits the output", LOSS_NAMES, list_choices=False),
    Option("init", ("--init",), "str", "default", "weight initialization (default: N(0, 1/n_in))",
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
    Option("optimizer", ("--optimizer",), "str", "sgd", "update rule", OPTIMIZER_NAMES),
    Option("lr", ("--lr", "--eta"), "float", None, "learning rate; default 0.5 for sgd, the optimizer's default else"),
    Option("momentum", ("--momentum", "--beta"), "float", None, "momentum coefficient (momentum, nesterov); 0.9"),
    Option("momentum_convention", ("--momentum-convention",), "str", None,
           "momentum form: ng (v = beta v + (1-beta) g) or classical (Nielsen: v = mu v - eta g); ng",
           MOMENTUM_CONVENTIONS),
    Option("beta1", ("--beta1",), "float", None, "Adam's first-moment decay (adam, adamw); 0.9"),
    Option("beta2", ("--beta2",), "float", None, "second-moment decay (rmsprop 0.9; adam, adamw 0.999)"),
    Option("eps", ("--eps",), "float", None, "denominator guard (rmsprop, adam, adamw); 1e-8"),
    Option("weight_decay", ("--weight-decay",), "float", None, "decoupled weight decay (adamw); 0.01"),
    # schedule
    Option("schedule", ("--schedule",), "str", "constant", "learning-rate schedule", SCHEDULES),
    Option("decay_rate", ("--decay-rate",), "float", None, "inverse-time (default 1) or exponential (0.95) rate"),
    Option("decay_epochs", ("--decay-epochs",), "int", None, "epochs per decay period (inverse-time, exponential); 1"),
    Option("staircase", ("--staircase",), "bool", False, "decay in whole periods (inverse-time, exponential)"),
    Option("step_size", ("--step-size",), "int", None, "epochs between drops (step; required)"),
    Option("factor", ("--factor",), "float", None, "multiplier at each drop (step, halve-on-plateau); 0.5"),
    Option("patience", ("--patience",), "int", None, "epochs without improvement before halving "
           "(halve-on-plateau); 10"),
    # training
    Option("epochs", ("--epochs",), "int", 30, "passes over the training data"),
    Option("batch_size", ("--batch-size",), "int", 10, "mini-batch size"),
    Option("seed", ("--seed",), "int", 0, "seed of the data split, initialization, shuffling and dropout"),
    Option("early_stopping", ("--early-stopping",), "int", 0,
           "stop after this many epochs without improvement and keep the best weights (0: off)"),
    Option("monitor", ("--monitor",), "str", None,
           "metric for --early-stopping (default val_loss) and halve-on-plateau (default val_accuracy)", MONITORS),
    Option("augment", ("--augment",), "list", None,
           "image augmentation each epoch, comma-combinable: shift, rotate, elastic, affine"),
    # output
    Option("out", ("--out",), "str", None, "run directory (default runs/<timestamp>)", saved=False),
    Option("plots", ("--plots",), "bool", True, "write cost.png and accuracy.png", saved=False),
    Option("checkpoint_every", ("--checkpoint-every",), "int", 0,
           "also write checkpoint.mlpkc every N epochs (0: on Ctrl-C and at the end)", saved=False),
    Option("quiet", ("--quiet",), "bool", False, "print only the final result", saved=False),
    Option("dashboard", ("--dashboard",), "str", None,
           "address of a running mlpkit serve (e.g. http://127.0.0.1:8000) to show this run live", saved=False),
)
OPTION_BY_NAME = {o.name: o for o in OPTIONS}
#: file keys accepted for an option besides its name (from the alias flags: eta, lmbda, beta)
ALIASES = {flag[2:].replace("-", "_"): o.name for o in OPTIONS for flag in o.flags[1:]}

OPTIMIZER_PARAMETERS: dict[str, tuple[str, ...]] = {
    "momentum": ("momentum", "nesterov"),
    "momentum_convention": ("momentum",),
    "beta1": ("adam", "adamw"),
    "beta2": ("rmsprop", "adam", "adamw"),
    "eps": ("rmsprop", "adam", "adamw"),
    "weight_decay": ("adamw",),
}
SCHEDULE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "decay_rate": ("inverse-time", "exponential"),
    "decay_epochs": ("inverse-time", "exponential"),
    "staircase": ("inverse-time", "exponential"),
    "step_size": ("step",),
    "factor": ("step", "halve-on-plateau"),
    "patience": ("halve-on-plateau",),
}


@dataclass
class TrainConfig:
    """The checked settings of one ``mlpkit train`` run (see :data:`OPTIONS` for each field's meaning).

    ``layers`` holds ints and ``"auto"`` until the data are known (:func:`resolve_layers`); optimizer and
    schedule parameters that do not apply to the chosen ones are None, the others hold their values.
    """

    dataset: str = "digits"
    label_column: str = "label"
    dtype: str = "float32"
    layers: list[int | str] = field(default_factory=lambda: ["auto", 30, "auto"])
    activation: str = "sigmoid"
    output: str = "softmax"
    cost: str | None = None
    init: str = "default"
    l2: float = 0.0
    l1: float = 0.0
    dropout: list[float] = field(default_factory=list)
    input_dropout: float = 1.0
    batch_norm: bool = False
    standardize: bool = False
    optimizer: str = "sgd"
    lr: float = 0.5
    momentum: float | None = None
    momentum_convention: str | None = None
    beta1: float | None = None
    beta2: float | None = None
    eps: float | None = None
    weight_decay: float | None = None
    schedule: str = "constant"
    decay_rate: float | None = None
    decay_epochs: int | None = None
    staircase: bool | None = None
    step_size: int | None = None
    factor: float | None = None
    patience: int | None = None
    epochs: int = 30
    batch_size: int = 10
    seed: int = 0
    early_stopping: int = 0
    monitor: str | None = None
    augment: list[str] = field(default_factory=list)
    out: str | None = None
    plots: bool = True
    checkpoint_every: int = 0
    quiet: bool = False
    dashboard: str | None = None

    def effective(self) -> dict[str, Any]:
        """The settings that define the experiment, JSON/YAML-ready (``--config`` reads them back)."""
        values = asdict(self)
        return {o.name: values[o.name] for o in OPTIONS if o.saved}


# ---------------------------------------------------------------------------------------- files
def parse_document(path: str | Path, what: str) -> Any:
    """The parsed content of a TOML (.toml), YAML (.yaml/.yml) or JSON (.json) file; ``what`` names the file
    in the one-line errors (e.g. "--config file")."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml", ".json"):
        raise ConfigError(f"{what} must end in .toml, .yaml, .yml or .json, got {path.name}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from None
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix == ".json":
            return json.loads(text)
        import yaml

        return yaml.safe_load(text)
    except Exception as exc:  # each parser has its own error class; all mean "not valid syntax"
        kind = {".toml": "TOML", ".json": "JSON"}.get(suffix, "YAML")
        raise ConfigError(f"{path.name} is not valid {kind}: {' '.join(str(exc).split())}") from None


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The option values of a TOML (.toml), YAML (.yaml/.yml) or JSON (.json) file, converted and checked
    key by key (unknown keys are an error naming the key and listing the allowed ones)."""
    path = Path(path)
    raw = parse_document(path, "--config file")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path.name} must hold key = value settings at its top level, got a {type(raw).__name__}")
    return convert_mapping(raw, where=path.name)


def read_preset(name: str) -> dict[str, Any]:
    """The option values of the packaged preset ``name`` (:mod:`mlpkit.presets`); an unknown name is an
    error listing the known ones."""
    from .. import presets

    try:
        return read_config_file(presets.path(name))
    except ValueError as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"--preset: {exc}") from None


def merge_preset(preset: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A preset's values with ``overrides`` (a ``--config`` file, then flags) on top.

    When the overrides change the optimizer or the schedule, the preset's parameters that belong only to
    the replaced one (e.g. ``decay_rate`` of an exponential schedule overridden by ``--schedule step``) are
    dropped, so that overriding one choice does not turn the rest of the preset into an error.
    """
    kept = dict(preset)
    for choice, parameters in (("optimizer", OPTIMIZER_PARAMETERS), ("schedule", SCHEDULE_PARAMETERS)):
        new = overrides.get(choice)
        if new is None or new == preset.get(choice):
            continue
        new_name = str(new).strip().lower().replace("_", "-")
        for name, users in parameters.items():
            if name in kept and new_name not in users:
                del kept[name]
    return {**kept, **{k: v for k, v in overrides.items() if v is not None}}


def convert_mapping(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Check the keys of a settings mapping (file or checkpoint) and convert each value to its option's kind."""
    values: dict[str, Any] = {}
    allowed = [o.name for o in OPTIONS]
    for key, value in raw.items():
        name = str(key).strip().replace("-", "_")
        name = ALIASES.get(name, name)
        if name not in OPTION_BY_NAME:
            raise ConfigError(f"{where}: unknown option {key!r}; allowed: {', '.join(allowed)}")
        if name in values:
            raise ConfigError(f"{where}: option {name!r} is given twice (an alias counts as the same option)")
        values[name] = _convert(OPTION_BY_NAME[name], value, f"{name!r} in {where}")
    return values


def _convert(option: Option, value: Any, label: str) -> Any:
    if value is None:
        return None
    kind = option.kind
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "false", "no", "off"):
            return value.strip().lower() in ("true", "yes", "on")
        raise ConfigError(f"{label} must be true or false, got {value!r}")
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
        raise ConfigError(f"{label} must be an integer, got {value!r}")
    if kind == "float":
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML reads 1e-3 (no dot) as a string
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise ConfigError(f"{label} must be a number, got {value!r}")
    if kind == "list":
        if isinstance(value, (list, tuple, str)) and len(value) == 0:
            return None
        if isinstance(value, (list, tuple)):
            if any(isinstance(v, (list, tuple, dict)) for v in value):
                raise ConfigError(f"{label} must be a flat list, got {value!r}")
            return ",".join(str(v) for v in value)
        if isinstance(value, (str, numbers.Real)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{label} must be a comma-separated string or a list, got {value!r}")
    if isinstance(value, (str, numbers.Real)) and not isinstance(value, bool):
        return str(value)
    raise ConfigError(f"{label} must be a string, got {value!r}")


# -------------------------------------------------------------------------------------- resolving
class _Labels:
    """How an error names an option: its flags, or the key and file it came from."""

    def __init__(self, sources: dict[str, str]) -> None:
        self.sources = sources

    def __call__(self, name: str) -> str:
        source = self.sources.get(name, "default")
        if source not in ("default", "command line"):
            return f"{name!r} in {source}"
        return OPTION_BY_NAME[name].label


def _choice(value: str, option: Option, label: str) -> str:
    key = value.strip().lower().replace("_", "-")
    for choice in option.choices:
        if choice.replace("_", "-") == key:
            return choice
    raise ConfigError(f"{label} must be one of {', '.join(option.choices)}; got {value!r}")


def _positive_int(value: int, label: str, allow_zero: bool = False) -> int:
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{label} must be a {'non-negative' if allow_zero else 'positive'} integer, got {value}")
    return value


def _number(value: float, label: str, *, low: float = 0.0, low_open: bool = True, high: float = math.inf,
            high_open: bool = True, what: str | None = None) -> float:
    ok = math.isfinite(value) and (value > low if low_open else value >= low)
    ok = ok and (value < high if high_open else value <= high)
    if not ok:
        if what is None:
            what = "a finite number > 0" if low_open else "a finite number >= 0"
        raise ConfigError(f"{label} must be {what}, got {value}")
    return value


def parse_layers(text: str, label: str = "--layers") -> list[int | str]:
    """``"auto,30,auto"`` -> ``["auto", 30, "auto"]`` ('auto' only first and last)."""
    parts = [p.strip().lower() for p in str(text).split(",")]
    if len(parts) < 2:
        raise ConfigError(f"{label} needs at least input and output sizes, e.g. auto,30,auto; got {text!r}")
    sizes: list[int | str] = []
    for i, part in enumerate(parts):
        if part == "auto" and i in (0, len(parts) - 1):
            sizes.append("auto")
        elif part.isdigit() and int(part) > 0:
            sizes.append(int(part))
        else:
            raise ConfigError(f"{label} entries must be positive integers ('auto' allowed first and last); "
                              f"got {part!r} in {text!r}")
    return sizes


def resolve_layers(layers: list[int | str], n_features: int, n_classes: int, label: str = "--layers") -> list[int]:
    """Fill in 'auto' from the data and check the ends against it."""
    sizes = [n_features if s == "auto" and i == 0 else n_classes if s == "auto" else int(s)
             for i, s in enumerate(layers)]
    if sizes[0] != n_features:
        raise ConfigError(f"{label} starts with {sizes[0]} inputs but the dataset has {n_features} features "
                          "(use 'auto' to take it from the data)")
    if sizes[-1] != n_classes and not (sizes[-1] == 1 and n_classes == 2):
        raise ConfigError(f"{label} ends with {sizes[-1]} outputs but the dataset has {n_classes} classes "
                          "(use 'auto' to take it from the data)")
    return sizes


def resolve(values: dict[str, Any], sources: dict[str, str] | None = None) -> TrainConfig:
    """Check option values (defaults filled in for missing or None ones) and return the run's settings.

    ``sources`` maps an option name to where its value came from (``"command line"``, a file name, ...),
    so that an error names the flag or the file key the user wrote.
    """
    label = _Labels(sources or {})
    raw = {o.name: o.default for o in OPTIONS}
    raw.update({k: v for k, v in values.items() if v is not None})
    given = {k for k, v in values.items() if v is not None and v is not False}

    cfg = TrainConfig()
    for name in ("dataset", "label_column"):
        value = str(raw[name]).strip()
        if not value:
            raise ConfigError(f"{label(name)} must not be empty")
        setattr(cfg, name, value)
    for name in ("dtype", "activation", "output", "init", "optimizer", "schedule"):
        setattr(cfg, name, _choice(str(raw[name]), OPTION_BY_NAME[name], label(name)))
    cfg.cost = None if raw["cost"] is None else _choice(str(raw["cost"]), OPTION_BY_NAME["cost"], label("cost"))
    cfg.layers = parse_layers(raw["layers"], label("layers"))
    n_hidden = len(cfg.layers) - 2

    cfg.l2 = _number(raw["l2"], label("l2"), low_open=False)
    cfg.l1 = _number(raw["l1"], label("l1"), low_open=False)
    if cfg.l2 and cfg.l1:
        raise ConfigError(f"{label('l2')} (L2) and {label('l1')} are exclusive: choose one penalty")
    if raw["dropout"] is not None:
        try:
            keeps = [float(p) for p in str(raw["dropout"]).split(",")]
        except ValueError:
            raise ConfigError(f"{label('dropout')} must be keep probabilities in (0, 1], e.g. 0.5 or 0.8,0.5; "
                              f"got {raw['dropout']!r}") from None
        for keep in keeps:
            _number(keep, label("dropout"), high=1.0, high_open=False,
                    what="keep probabilities in (0, 1] (1 keeps every unit)")
        if len(keeps) not in (1, n_hidden):
            raise ConfigError(f"{label('dropout')} gives {len(keeps)} keep probabilities for {n_hidden} hidden "
                              "layers: give one for all, or one per hidden layer")
        if n_hidden == 0:
            raise ConfigError(f"{label('dropout')} applies after hidden layers, and --layers has none")
        cfg.dropout = keeps * n_hidden if len(keeps) == 1 else keeps
    cfg.input_dropout = _number(raw["input_dropout"], label("input_dropout"), high=1.0, high_open=False,
                                what="a keep probability in (0, 1] (1 keeps every input)")
    cfg.batch_norm = bool(raw["batch_norm"])
    cfg.standardize = bool(raw["standardize"])
    if cfg.batch_norm and n_hidden == 0:
        raise ConfigError(f"{label('batch_norm')} normalizes hidden layers, and --layers has none")

    # optimizer and its hyper-parameters
    for name, users in OPTIMIZER_PARAMETERS.items():
        if name in given and cfg.optimizer not in users:
            raise ConfigError(f"{label(name)} applies to the {' and '.join(users)} optimizer"
                              f"{'s' if len(users) > 1 else ''}, not {cfg.optimizer}")
    lr = raw["lr"] if raw["lr"] is not None else CLI_DEFAULT_LEARNING_RATES[cfg.optimizer]
    cfg.lr = _number(float(lr), label("lr"))
    if cfg.optimizer in OPTIMIZER_PARAMETERS["momentum"]:
        cfg.momentum = _number(raw["momentum"] if raw["momentum"] is not None else 0.9, label("momentum"),
                               low_open=False, high=1.0, what="in [0, 1)")
    if cfg.optimizer == "momentum":
        cfg.momentum_convention = _choice(raw["momentum_convention"] or "ng", OPTION_BY_NAME["momentum_convention"],
                                          label("momentum_convention"))
    if cfg.optimizer in OPTIMIZER_PARAMETERS["beta1"]:
        cfg.beta1 = _number(raw["beta1"] if raw["beta1"] is not None else 0.9, label("beta1"), low_open=False,
                            high=1.0, what="in [0, 1)")
    if cfg.optimizer in OPTIMIZER_PARAMETERS["beta2"]:
        default = 0.9 if cfg.optimizer == "rmsprop" else 0.999
        cfg.beta2 = _number(raw["beta2"] if raw["beta2"] is not None else default, label("beta2"), low_open=False,
                            high=1.0, what="in [0, 1)")
        cfg.eps = _number(raw["eps"] if raw["eps"] is not None else 1e-8, label("eps"))
    if cfg.optimizer == "adamw":
        cfg.weight_decay = _number(raw["weight_decay"] if raw["weight_decay"] is not None else 0.01,
                                   label("weight_decay"), low_open=False)

    # schedule and its parameters
    for name, users in SCHEDULE_PARAMETERS.items():
        if name in given and cfg.schedule not in users:
            raise ConfigError(f"{label(name)} applies to --schedule {' or '.join(users)}, not {cfg.schedule}")
    if cfg.schedule in ("inverse-time", "exponential"):
        default_rate = 1.0 if cfg.schedule == "inverse-time" else 0.95
        rate = raw["decay_rate"] if raw["decay_rate"] is not None else default_rate
        if cfg.schedule == "inverse-time":
            cfg.decay_rate = _number(rate, label("decay_rate"), low_open=False)
        else:
            cfg.decay_rate = _number(rate, label("decay_rate"), high=1.0, high_open=False, what="in (0, 1]")
        cfg.decay_epochs = _positive_int(raw["decay_epochs"] if raw["decay_epochs"] is not None else 1,
                                         label("decay_epochs"))
        cfg.staircase = bool(raw["staircase"])
    if cfg.schedule == "step":
        if raw["step_size"] is None:
            raise ConfigError(f"--schedule step needs {label('step_size')} (epochs between drops)")
        cfg.step_size = _positive_int(raw["step_size"], label("step_size"))
    if cfg.schedule in ("step", "halve-on-plateau"):
        factor = raw["factor"] if raw["factor"] is not None else 0.5
        if cfg.schedule == "step":
            cfg.factor = _number(factor, label("factor"), high=1.0, high_open=False, what="in (0, 1]")
        else:
            cfg.factor = _number(factor, label("factor"), high=1.0, what="in (0, 1)")
    if cfg.schedule == "halve-on-plateau":
        cfg.patience = _positive_int(raw["patience"] if raw["patience"] is not None else 10, label("patience"))

    # training
    cfg.epochs = _positive_int(raw["epochs"], label("epochs"))
    cfg.batch_size = _positive_int(raw["batch_size"], label("batch_size"))
    cfg.seed = _positive_int(raw["seed"], label("seed"), allow_zero=True)
    cfg.early_stopping = _positive_int(raw["early_stopping"], label("early_stopping"), allow_zero=True)
    if raw["monitor"] is not None:
        if not cfg.early_stopping and cfg.schedule != "halve-on-plateau":
            raise ConfigError(f"{label('monitor')} applies to --early-stopping and --schedule halve-on-plateau, "
                              "and neither is on")
        cfg.monitor = _choice(raw["monitor"], OPTION_BY_NAME["monitor"], label("monitor"))
    if raw["augment"] is not None:
        names = [p.strip().lower() for p in str(raw["augment"]).split(",") if p.strip()]
        for name in names:
            if name not in AUGMENTERS:
                raise ConfigError(f"{label('augment')} takes {', '.join(AUGMENTERS)} (comma-combinable); got {name!r}")
        cfg.augment = list(dict.fromkeys(names))
    cfg.out = None if raw["out"] is None else str(raw["out"])
    cfg.plots = bool(raw["plots"])
    cfg.checkpoint_every = _positive_int(raw["checkpoint_every"], label("checkpoint_every"), allow_zero=True)
    cfg.quiet = bool(raw["quiet"])
    if raw["dashboard"] is not None:
        from ..web.reporter import check_dashboard_url

        try:
            cfg.dashboard = check_dashboard_url(raw["dashboard"])
        except ValueError as exc:
            raise ConfigError(str(exc).replace("--dashboard", label("dashboard"), 1)) from None
    return cfg
