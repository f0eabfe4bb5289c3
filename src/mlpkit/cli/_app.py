"""The click commands: train, evaluate, predict, gradcheck, diagnose, reproduce, serve, tune, graph, export.

Every bad option, unreadable file or impossible combination ends as one line on stderr,
``mlpkit: error: <what is wrong and what is allowed>``, with exit status 2 (click's usage-error status).
Set ``MLPKIT_DEBUG=1`` to get the traceback instead. The options of ``train`` come from the settings layer's
table (:mod:`mlpkit.settings.options`): unset options are not passed, so the library's defaults apply, and
the library's errors come back naming the flag.

A file that cannot be written (a full, read-only or forbidden disk) is one line too, naming the file and the
reason, ``mlpkit: error: cannot write PATH: No space left on device (the previous file is unchanged)``, exit
status 2: every output is written to a temporary name and renamed (:mod:`mlpkit._atomic`), so the previous
file stays whole.

Exit statuses: 0 done, 1 a gradient check failed, 2 a usage error or a file that cannot be written, 3 training
diverged, 130 interrupted by Ctrl-C (SIGINT), 143 stopped by SIGTERM (``kill``, systemd, ``docker stop``): both
are handled alike.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import numpy as np

from .. import __version__
from .._atomic import WriteError, atomic_write_bytes
from ..datasets import Split
from ..diagnose import (
    bias_variance,
    classification_report,
    confusion_matrix,
    gradient_norms,
    gradient_verdict,
    saturation,
)
from ..gradcheck import gradcheck as run_gradcheck
from ..gradcheck import random_batch
from ..network import Network
from ..settings import (
    BUILT_IN,
    OPTION_BY_NAME,
    OPTIONS,
    Data,
    Option,
    SettingsError,
    TrainSettings,
    convert_mapping,
    dataset_path,
    library_check,
    load_data,
    load_whole_file,
    merge_preset,
    network_from_settings,
    read_preset,
    read_settings_file,
    remap_labels,
    resolve,
)
from ..settings.rundir import load_model, load_run_checkpoint
from ..tasks import CLASS_TASKS, check_threshold
from ..web.reporter import check_dashboard_url
from ._display import (
    evaluation_tables,
    gradcheck_table,
    gradient_table,
    make_console,
    metrics_text,
    saturation_table,
)
from ._inputs import read_inputs
from ._predict import prediction_csv
from ._signals import stop_status, stop_word
from ._train import CHECKPOINT_FILE, Resume, TrainRun

#: options that may accompany --resume (they do not change the experiment)
RESUME_OVERRIDES = ("epochs", "quiet", "plots", "checkpoint_every", "checkpoint_interval", "dashboard", "log_dir")


def one_line(message: object) -> str:
    return " ".join(str(message).split())


class _Stopped(Exception):
    """A command stopped by Ctrl-C or SIGTERM (its KeyboardInterrupt is the cause), carried past click's own
    handler, which would print a blank line first."""


class MlpkitGroup(click.Group):
    """A click group whose errors are one line, ``mlpkit: error: ...``, and whose ``main`` returns the exit
    status (or exits with it in standalone mode); a command stopped by Ctrl-C or SIGTERM ends with one line,
    ``mlpkit: interrupted`` (130) or ``mlpkit: terminated`` (143)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise _Stopped() from exc

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        no_args_help = getattr(click.exceptions, "NoArgsIsHelpError", None)
        try:
            rv = super().main(args=args, prog_name=prog_name or "mlpkit", complete_var=complete_var,
                              standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except click.ClickException as exc:
            if no_args_help is not None and isinstance(exc, no_args_help):
                click.echo(exc.ctx.get_help())
                code = 0
            else:
                click.echo(f"mlpkit: error: {one_line(exc.format_message())}", err=True)
                code = exc.exit_code
        except (_Stopped, click.exceptions.Abort) as exc:  # Ctrl-C or SIGTERM outside training's own handling
            click.echo(f"mlpkit: {stop_word(exc)}", err=True)
            code = stop_status(exc)
        if standalone_mode:
            sys.exit(code)
        return code


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the library's errors about the user's input (bad values, files, combinations) into usage errors."""
    try:
        yield
    except click.ClickException:
        raise
    except (ValueError, TypeError, OSError) as exc:  # SettingsError, ModelFileError, DataFormatError, missing files
        if os.environ.get("MLPKIT_DEBUG"):
            raise
        raise click.UsageError(one_line(os_error_text(exc) if isinstance(exc, OSError) else exc)) from None


def os_error_text(exc: OSError) -> str:
    """An OSError as ``PATH: reason`` (``No such file or directory``, ``Permission denied``...) rather than
    Python's ``[Errno 13] Permission denied: 'PATH'``; a failed write (:class:`mlpkit._atomic.WriteError`) says
    ``cannot write PATH: reason (the previous file is unchanged)``."""
    if isinstance(exc, WriteError) or not (exc.filename and exc.strerror):
        return str(exc)
    return f"{exc.filename}: {exc.strerror}"


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 120}


@click.group("mlpkit", cls=MlpkitGroup, context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="mlpkit")
def cli() -> None:
    """Fast NumPy-first fully-connected networks (Nielsen ch.3, Ng's "Improving Deep Neural Networks").

    \b
    mlpkit train                                  # [64, 30, 10] sigmoid network on the embedded 8x8 digits
    mlpkit train --dataset mnist --layers auto,100,auto --eta 0.5 --lmbda 5 --epochs 30
    mlpkit evaluate runs/<run>/model.mlpk         # accuracy, cost, confusion matrix, per-class report
    mlpkit diagnose runs/<run>/model.mlpk         # bias/variance, saturation, gradient norms
    """


# ------------------------------------------------------------------------------------------------ train
def _help(option: Option) -> str:
    """The option's help, with its choices and its default: the table's, or the library's own for an option
    that sets a parameter of the optimizer or the schedule (read from their signatures)."""
    text = option.help
    if option.choices and option.list_choices:
        text += f" ({', '.join(option.choices)})"
    if option.target is not None and option.name != "lr":
        users = option.users
        text += f"; for {', '.join(users)}" if option.target == "optimizer" else \
            f"; for --schedule {', '.join(users)}"
        defaults = option.library_defaults()
        if len(set(map(repr, defaults.values()))) == 1 and len(defaults) == len(users):
            text += f"  [default: {next(iter(defaults.values()))}]"
        elif defaults:
            text += "  [default: " + ", ".join(f"{name} {value}" for name, value in defaults.items()) + "]"
    elif option.default is not None and option.kind != "bool":
        text += f"  [default: {option.default}]"
    return text


def _click_option(option: Option) -> Callable:
    help_text = _help(option)
    if option.kind == "bool":
        flag = option.flags[0]
        state = "" if option.default is None else f"  [{'on' if option.default else 'off'}]"
        return click.option(f"{flag}/--no-{flag[2:]}", option.name, default=None, help=help_text + state)
    kind = {"int": int, "float": float}.get(option.kind, str)
    metavar = {"int": "N", "float": "X"}.get(option.kind, "NAME" if option.choices else "TEXT")
    if option.name in ("dataset", "out"):
        metavar = "PATH" if option.name == "out" else "NAME|PATH"
    return click.option(*option.flags, option.name, type=kind, default=None, metavar=metavar, help=help_text)


def _options(names: tuple[str, ...]) -> Callable[[Callable], Callable]:
    """Click options for the settings ``names``, from the settings table (flags, checks and defaults)."""
    def decorate(function: Callable) -> Callable:
        for name in reversed(names):
            function = _click_option(OPTION_BY_NAME[name])(function)
        return function
    return decorate


@cli.command(context_settings=CONTEXT)
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="TOML/YAML/JSON file of option values (keys as the option names); flags override it")
@click.option("--preset", default=None, metavar="NAME",
              help="packaged settings, e.g. mnist-98 or mnist-99 (mlpkit.presets); --config and flags override it")
@click.option("--resume", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"continue the run in this directory from its {CHECKPOINT_FILE}")
@click.option("--overwrite", is_flag=True, default=False, help="reuse an --out directory that holds a run")
@_options(tuple(o.name for o in OPTIONS))
def train(config: Path | None, preset: str | None, resume: Path | None, overwrite: bool, **values: Any) -> int:
    """Train a network; write the model, history, effective config, checkpoint and plots to a run directory.

    Defaults: the embedded 8x8 digits, layers auto,30,auto (64, 30, 10), sigmoid hidden layer, softmax
    output with cross-entropy, SGD with eta 0.5, 30 epochs of mini-batches of 10. Ctrl-C saves a
    checkpoint; --resume DIR continues exactly where it stopped.
    """
    given = {k: v for k, v in values.items() if v is not None}
    console, err = make_console(), make_console(stderr=True)
    with user_errors():
        if resume is not None:
            if config is not None or preset is not None:
                flag = "--config" if config is not None else "--preset"
                raise SettingsError(f"{flag} and --resume cannot be combined: a resumed run keeps its saved "
                                    "settings")
            extra = [k for k in given if k not in RESUME_OVERRIDES]
            if extra:
                flags = ", ".join(next(o.label for o in OPTIONS if o.name == k) for k in extra)
                allowed = ", ".join(f"--{k.replace('_', '-')}" for k in RESUME_OVERRIDES)
                raise SettingsError(f"--resume continues a run with its saved settings; only {allowed} may be "
                                    f"given with it, not {flags}")
            if not (resume / CHECKPOINT_FILE).is_file():
                raise SettingsError(f"--resume {resume}: no {CHECKPOINT_FILE} there to continue from")
            checkpoint = load_run_checkpoint(resume / CHECKPOINT_FILE)
            saved = convert_mapping(checkpoint.config, where=f"the checkpoint in {resume}")
            cfg = _checked_dashboard(resolve({**saved, **given}, {k: "command line" for k in given}))
            cfg.out = str(resume)
            run = TrainRun(cfg, console=console, err_console=err, resume=Resume(resume, checkpoint))
        else:
            from_preset = read_preset(preset) if preset is not None else {}
            from_file = read_settings_file(config) if config is not None else {}
            sources = {**{k: f"preset {preset}" for k in from_preset}, **{k: config.name for k in from_file},
                       **{k: "command line" for k in given}}
            cfg = _checked_dashboard(resolve(merge_preset(from_preset, {**from_file, **given}), sources))
            run = TrainRun(cfg, console=console, err_console=err, overwrite=overwrite)
        run.setup()
    return run.run_and_save()


def _checked_dashboard(cfg: TrainSettings) -> TrainSettings:
    """``cfg`` with its --dashboard address checked (and normalized) as the reporter will use it."""
    if cfg.dashboard is not None:
        cfg.dashboard = check_dashboard_url(cfg.dashboard)
    return cfg


# --------------------------------------------------------------------------------- evaluate and friends
def _same_dataset(given: str, recorded: str | None) -> bool:
    if recorded is None:
        return False
    if given == recorded:
        return True
    a, b = dataset_path(given), dataset_path(recorded)
    return a is not None and b is not None and a.resolve() == b.resolve()


def _recorded_config(network: Network) -> dict[str, Any]:
    meta = getattr(network, "metadata", None) or {}
    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    return {**config, "dataset": config.get("dataset") or meta.get("dataset")}


def _model_task(network: Network, config: dict[str, Any]) -> str:
    """The task a data set's targets are read for: the network's own (as it was built), else the recorded
    --task (``auto`` for a model saved before tasks existed)."""
    return network.task_given or str(config.get("task") or "auto")


def _recorded_data(model: Path, network: Network, dataset: str | None, label_column: str | None,
                   sample_weight: str | None = None) -> Data:
    """``dataset`` if given, else the data set recorded in the model; split as in training (same seed, same
    task, same weight column) when it is the recorded one."""
    config = _recorded_config(network)
    recorded = config["dataset"]
    if dataset is None and recorded is None:
        raise SettingsError(f"{model} records no dataset; pass --dataset {', '.join(BUILT_IN)} or a .csv/.npz file")
    same = dataset is None or _same_dataset(dataset, recorded)
    name = dataset if dataset is not None else recorded
    seed = int(config.get("seed", 0)) if same else 0
    column = label_column or config.get("label_column") or "label"
    shape = {k: config.get(k) for k in ("samples", "noise", "classes")} if same else {}  # a generated set's
    weights = sample_weight or (config.get("sample_weight") if same else None)
    return load_data(name, label_column=column, seed=seed, dtype=network.dtype.name, task=_model_task(network, config),
                     sample_weight=weights, **shape)


def _evaluation_split(model: Path, network: Network, dataset: str | None, label_column: str | None,
                      split: str | None, sample_weight: str | None = None
                      ) -> tuple[Split, tuple[str, ...] | None, str, str]:
    """(the examples, class names of the file, data set name, split name) for ``evaluate``: a part of the
    training data set (default its test split), or all of another file."""
    path = None if dataset is None else dataset_path(dataset)
    config = _recorded_config(network)
    if path is not None and split in (None, "all") and not _same_dataset(dataset, config["dataset"]):
        whole, _ = load_whole_file(path, label_column or config.get("label_column") or "label", network.dtype.name,
                                   _model_task(network, config), sample_weight)
        return whole, whole.classes, path.name, "all"
    data = _recorded_data(model, network, dataset, label_column, sample_weight)
    split = split or "test"
    parts = {"train": data.dataset.train, "validation": data.dataset.validation, "test": data.dataset.test}
    if split == "all":
        pieces = [p for p in parts.values() if p is not None]
        weights = None if pieces[0].sample_weight is None else np.concatenate([p.sample_weight for p in pieces])
        whole = Split(np.concatenate([p.X for p in pieces]), np.concatenate([p.y for p in pieces]),
                      sample_weight=weights)
        return whole, data.classes, data.dataset.name, split
    if parts[split] is None:
        raise SettingsError(f"{data.dataset.name} has no {split} split; use --split test, train or all")
    return parts[split], data.classes, data.dataset.name, split


def _class_names(network: Network, file_classes: tuple[str, ...] | None) -> list[str]:
    meta = getattr(network, "metadata", None) or {}
    if meta.get("classes"):
        return [str(c) for c in meta["classes"]]
    if file_classes is not None:
        return list(file_classes)
    return [str(k) for k in range(max(network.output_dim, 2))]


def evaluation_report(network: Network, X: np.ndarray, y: np.ndarray, names: list[str],
                      sample_weight: np.ndarray | None = None) -> dict[str, Any]:
    """The cost and the task's metrics of ``network`` on (X, y) (:meth:`mlpkit.Network.evaluate`, weighted by
    ``sample_weight``); for a classifier also the confusion matrix and per-class precision/recall/F1."""
    metrics = network.evaluate(X, y, sample_weight=sample_weight)
    report: dict[str, Any] = {"n": len(X), "task": network.task, **{k: float(v) for k, v in metrics.items()}}
    if network.target_names is not None:
        report["targets"] = list(network.target_names)
    if network.task not in CLASS_TASKS:
        return report
    n_classes = max(network.output_dim, 2)
    predicted = network.predict(X)
    y = np.asarray(y)
    labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1).astype(np.int64)
    cm = confusion_matrix(labels, predicted, n_classes)
    details = classification_report(cm)
    names = names if len(names) == n_classes else [str(k) for k in range(n_classes)]
    for row in details["per_class"]:
        row["class"] = names[row["class"]]
    report.update(classes=names, confusion_matrix=cm.tolist(), per_class=details["per_class"],
                  **{"macro avg": details["macro avg"], "weighted avg": details["weighted avg"]})
    return report


@cli.command(context_settings=CONTEXT)
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dataset", "--data", "dataset", default=None, metavar="NAME|PATH",
              help="digits, mnist or a .csv/.npz file; default: the model's training data set")
@click.option("--label-column", "--target", "label_column", default=None,
              help="target column(s) of a CSV file, comma-separated (default: as in training, or 'label')")
@click.option("--sample-weight", default=None, metavar="COLUMN",
              help="a CSV column of example weights (default: the training run's, on its own data set)")
@click.option("--split", type=click.Choice(["test", "validation", "train", "all"]), default=None,
              help="which part: default test for the training data set, all of any other file")
@click.option("--json", "as_json", is_flag=True, help="print the results as JSON")
def evaluate(model: Path, dataset: str | None, label_column: str | None, sample_weight: str | None, split: str | None,
             as_json: bool) -> int:
    """The cost and the task's metrics of MODEL: accuracy, balanced accuracy, log-loss, ROC AUC, the confusion
    matrix and per-class precision/recall/F1 of a classifier; subset accuracy and Hamming loss of a multilabel
    network; R², MSE and MAE of a regression."""
    with user_errors():
        network = load_model(model)
        part, file_classes, name, split = _evaluation_split(model, network, dataset, label_column, split,
                                                            sample_weight)
        y = part.y
        if network.task in CLASS_TASKS:
            y = remap_labels(y, file_classes, (network.metadata or {}).get("classes"), name)
        report = {"model": str(model), "dataset": name, "split": split,
                  **evaluation_report(network, part.X, y, _class_names(network, file_classes), part.sample_weight)}
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return 0
    console = make_console()
    weighted = ", weighted" if part.sample_weight is not None else ""
    head = f"{model}  on {name} ({split}, {report['n']} examples{weighted})"
    console.print(head, soft_wrap=True, markup=False)
    line = metrics_text(network.task, report)
    console.print(f"{line}  cost {report['loss']:.4f}" if line else f"cost {report['loss']:.4f}", markup=False)
    if "confusion_matrix" in report:
        console.print()
        for renderable in evaluation_tables(report):
            console.print(renderable)
    return 0


@cli.command(context_settings=CONTEXT)
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("input", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--label-column", default=None, help="a CSV column to ignore (e.g. the labels)")
@click.option("--key", default="X", show_default=True, help="array name in an .npz INPUT")
@click.option("--proba", is_flag=True, help="add the output probabilities, one column per class or label")
@click.option("--threshold", type=float, default=None,
              help="decision threshold of a binary or multilabel model (default: the model's own, 0.5 unless "
                   "trained with --threshold)")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the CSV here (atomically) instead of standard output")
def predict(model: Path, input: Path, label_column: str | None, key: str, proba: bool, threshold: float | None,
            output: Path | None) -> int:
    """Predictions of MODEL for the rows of INPUT (.csv, .npz or .npy), as CSV.

    A CSV INPUT with a header is written back with the predictions added under the model's target column(s),
    when the model was trained on a CSV file and INPUT lacks those columns: class names, 0/1 per label
    (multilabel) or values (regression); the model's feature columns are taken by name. Otherwise the
    predictions alone are written (a 'prediction' column for a classifier).
    """
    with user_errors():
        network = load_model(model)
        if threshold is not None:
            if network.task not in ("binary", "multilabel"):
                raise SettingsError(f"--threshold applies to binary and multilabel models; {model.name} is a "
                                    f"{network.task} model")
            with library_check({"threshold": "--threshold"}, "--threshold"):
                network.threshold = check_threshold(threshold)
        inputs = read_inputs(input, label_column=label_column, key=key, feature_names=network.feature_names)
        X = inputs.X
        if X.shape[1] != network.input_dim:
            hint = "; pass --label-column NAME to ignore a label column" if X.shape[1] == network.input_dim + 1 else ""
            raise SettingsError(f"{input.name} has {X.shape[1]} columns per row, the model expects "
                                f"{network.input_dim} features{hint}")
        text = prediction_csv(network, inputs, _class_names(network, None), proba=proba)
        if output is not None:
            atomic_write_bytes(output, text.encode("utf-8"))
    if output is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"{len(X)} predictions written to {output}", err=True)
    return 0


#: the settings gradcheck shares with train (the same flags, checks and defaults)
_GRADCHECK_SHARED = ("activation", "output", "cost", "init", "l2", "l1", "dropout", "batch_norm")
_GRADCHECK_DEFAULTS = inspect.signature(run_gradcheck).parameters


def _saved_model_batch(path: Path, examples: int, seed: int,
                       values: dict[str, Any]) -> tuple[Network, np.ndarray, np.ndarray]:
    """The model saved at ``path`` (its layers, cost and regularizer as they are) and a random batch for it:
    N(0, 1) inputs, and random classes for a classifier or N(0, 1) targets for a regression network."""
    given = [OPTION_BY_NAME[name].flags[0] for name in _GRADCHECK_SHARED if values.get(name) is not None]
    if click.get_current_context().get_parameter_source("layers") is not click.core.ParameterSource.DEFAULT:
        given.insert(0, "--layers")
    if given:
        raise SettingsError(f"--model checks the saved network as it is; leave out {', '.join(given)} (they describe "
                            "a new network)")
    network = load_model(path)
    X, y = random_batch(network, examples, seed)
    return network, X, y


def _course_gradcheck() -> int:
    """``gradcheck --course``: the course's checks printed as the course prints them (course 2 week 1); 0 when the
    1-D check and the right backward pass pass and the planted bug is flagged."""
    from ..reproduce.course import COURSE_EPSILON, COURSE_THRESHOLD, course_gradient_check, one_dimensional_check

    context = click.get_current_context()
    given = [f"--{name.replace('_', '-')}" for name in context.params
             if name != "course" and context.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
    if given:
        raise click.UsageError(f"--course runs the course's own check; leave out {', '.join(given)}")
    console = make_console()
    console.print(f"Gradient checking as course 2 week 1 does it: difference = ||grad - gradapprox|| / (||grad|| + "
                  f"||gradapprox||), epsilon {COURSE_EPSILON:g}, a mistake above {COURSE_THRESHOLD:g}", soft_wrap=True)
    console.print()
    console.print("1-D: J(theta) = theta x, x = 2, theta = 4")
    one_d = one_dimensional_check()
    console.print("The gradient is correct!" if one_d < 1e-7 else "The gradient is wrong!")
    console.print(f"difference = {one_d!r}")
    checks = {}
    for planted_bug, heading in ((False, "backward pass as mlpkit computes it"),
                                 (True, "backward pass with the course's planted bug (dW2 x 2, db1 x 4)")):
        check = checks[planted_bug] = course_gradient_check(planted_bug)
        console.print()
        console.print(f"N-D: the course's [4, 5, 3, 1] ReLU/ReLU/sigmoid network and 3 examples (np.random.seed(1)), "
                      f"{heading}:", soft_wrap=True)
        console.print(f"[{'yellow' if check.flagged else 'green'}]{check.message}[/]", soft_wrap=True, markup=True)
        if planted_bug:
            console.print(gradcheck_table(check.report))
        else:
            as_course = course_gradient_check(cost_from_outputs=True).difference
            console.print(f"(mlpkit computes the cost from the pre-activation, log(1 + e^-z); with the cost taken "
                          f"from the sigmoid's outputs, as the course computes it, the difference is "
                          f"{as_course:.3g}: the course's 1.19e-07)", soft_wrap=True)
    works = one_d < 1e-7 and not checks[False].flagged and checks[True].flagged
    return 0 if works else 1


@cli.command(context_settings=CONTEXT)
@click.option("--layers", default="4,5,3", show_default=True, help="layer sizes of the small network")
@_options(_GRADCHECK_SHARED)
@click.option("--examples", type=click.IntRange(min=1), default=5, show_default=True, help="random examples")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="seed of the weights, the data and the dropout masks")
@click.option("--epsilon", type=click.FloatRange(min=0, min_open=True), default=_GRADCHECK_DEFAULTS["epsilon"].default,
              show_default=True, help="step of the two-sided difference")
@click.option("--threshold", type=click.FloatRange(min=0, min_open=True),
              default=_GRADCHECK_DEFAULTS["threshold"].default, show_default=True,
              help="largest relative difference that passes")
@click.option("--max-per-parameter", type=click.IntRange(min=1), default=None,
              help="check at most this many entries of each parameter array")
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="check this saved model (custom registered layers and costs included) instead of a new network")
@click.option("--course", is_flag=True,
              help="run the course's demonstration instead (course 2 week 1): its 1-D check, then its [4, 5, 3, 1] "
                   "network with the right backward pass and with its planted bug")
def gradcheck(examples: int, epsilon: float, threshold: float, max_per_parameter: int | None, model: Path | None,
              course: bool, **values: Any) -> int:
    """Check backpropagation against numerical differences on a small float64 network (or a saved --model, as a
    float64 copy) and random data.

    Exit status 0 when the relative difference is below --threshold, 1 otherwise (Ng week 1,
    "Gradient checking": about 1e-7 is great, 1e-3 is a bug). With --course, 0 when the demonstration behaves as
    the course teaches (the right backward pass passes and the planted bug is flagged), 1 otherwise.
    """
    if course:
        return _course_gradcheck()
    with user_errors():
        cfg = resolve({k: v for k, v in values.items() if v is not None}, {k: "command line" for k in values})
        if model is not None:
            network, X, y = _saved_model_batch(model, examples, cfg.seed, values)
        else:
            if "auto" in cfg.layers:
                raise SettingsError(f"--layers for gradcheck must be numbers (there is no data set), e.g. 4,5,3; "
                                    f"got {values['layers']!r}")
            sizes = [int(s) for s in cfg.layers]
            network = network_from_settings(cfg, sizes, dtype="float64")
            rng = np.random.default_rng(cfg.seed)
            X = rng.normal(size=(examples, sizes[0]))
            y = rng.integers(0, 2 if sizes[-1] == 1 else sizes[-1], size=examples)
        result = run_gradcheck(network, X, y, epsilon=epsilon, threshold=threshold,
                               max_per_parameter=max_per_parameter, seed=cfg.seed)
    console = make_console()
    console.print(network.summary())
    console.print(f"{examples} random examples, float64, seed {cfg.seed}")
    console.print()
    console.print(gradcheck_table(result))
    verdict = "PASSED" if result.passed else "FAILED"
    console.print(f"overall relative difference {result.relative_difference:.3e} (threshold {threshold:.0e}): "
                  f"[{'green' if result.passed else 'bold red'}]{verdict}[/]")
    return 0 if result.passed else 1


@cli.command(context_settings=CONTEXT)
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dataset", "--data", "dataset", default=None, metavar="NAME|PATH",
              help="default: the model's training data set")
@click.option("--label-column", "--target", "label_column", default=None, help="label column of a CSV file")
@click.option("--bayes-error", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="estimate of the lowest achievable error (e.g. human error), as a fraction")
@click.option("--tolerance", type=click.FloatRange(0, 1), default=0.02, show_default=True,
              help="gap (as a fraction) that counts as high bias or high variance")
@click.option("--threshold", type=click.FloatRange(0, 0.5, min_open=True, max_open=True), default=0.01,
              show_default=True, help="distance of a sigmoid/tanh output to 0 or 1 that counts as saturated")
@click.option("--examples", type=click.IntRange(min=1), default=500, show_default=True,
              help="training examples in the batch for the gradient norms")
@click.option("--json", "as_json", is_flag=True, help="print the results as JSON")
def diagnose(model: Path, dataset: str | None, label_column: str | None, bayes_error: float, tolerance: float,
             threshold: float, examples: int, as_json: bool) -> int:
    """Bias/variance verdict (Ng week 1), saturated and dead units (Nielsen ch.3) and per-layer gradient norms
    (Nielsen ch.5) of MODEL on its training and dev data."""
    with user_errors():
        network = load_model(model)
        if not network.is_classifier:
            raise SettingsError(f"diagnose compares classification errors; {model.name} has a "
                              f"{network.output_activation} output (not a classifier)")
        data = _recorded_data(model, network, dataset, label_column)
        model_classes = (network.metadata or {}).get("classes")
        train = data.dataset.train
        dev = data.dataset.validation or data.dataset.test
        dev_name = "validation" if data.dataset.validation is not None else "test"
        y_train = remap_labels(train.y, data.classes, model_classes, data.dataset.name)
        y_dev = remap_labels(dev.y, data.classes, model_classes, data.dataset.name)
        train_error = 1.0 - network.evaluate(train.X, y_train)["accuracy"]
        dev_error = 1.0 - network.evaluate(dev.X, y_dev)["accuracy"]
        verdict = bias_variance(train_error, dev_error, bayes_error, tolerance)
        rng = np.random.default_rng(0)
        order = rng.permutation(len(train.y))
        saturated = saturation(network, train.X[order[:10_000]], threshold)
        batch = order[:examples]
        gradients = gradient_norms(network, train.X[batch], y_train[batch])
        flow = gradient_verdict(gradients)
    if as_json:
        click.echo(json.dumps({"model": str(model), "dataset": data.dataset.name, "dev_split": dev_name,
                               "bias_variance": verdict.as_dict(), "saturation": [s.as_dict() for s in saturated],
                               "gradients": [g.as_dict() for g in gradients], "gradient_verdict": flow}, indent=2))
        return 0
    console = make_console()
    console.print(f"{model} on {data.dataset.name} (dev = {dev_name} split)", soft_wrap=True)
    console.print()
    console.print("[bold]bias and variance[/] (Ng week 1: avoidable bias = train - Bayes, variance = dev - train)")
    style = "green" if verdict.verdict == "good fit" else "yellow"
    console.print(f"  train error {verdict.train_error:.2%}   dev error {verdict.dev_error:.2%}   "
                  f"Bayes error {verdict.bayes_error:.2%}")
    console.print(f"  avoidable bias {verdict.avoidable_bias:+.2%}   variance {verdict.variance:+.2%}   "
                  f"-> [{style}]{verdict.verdict}[/]")
    for remedy in verdict.remedies:
        console.print(f"  try: {remedy}")
    console.print()
    if saturated:
        console.print(saturation_table(saturated))
    else:
        console.print("no sigmoid, tanh or ReLU hidden layers: nothing saturates")
    console.print()
    console.print(gradient_table(gradients))
    console.print(f"  {flow}")
    return 0


@cli.command(context_settings=CONTEXT)
@click.option("--course", is_flag=True,
              help="Ng's deeplearning.ai experiments on 2-D data instead (course 1 week 3, course 2 weeks 1 and 2); "
                   "a full run also draws each configuration's decision boundary into a folder beside the table")
@click.option("--quick", is_flag=True, help="shortened runs, seed 0: a smoke test (the book: 2 epochs on 5,000 images; "
                                            "--course: 300 epochs, the initialization runs whole)")
@click.option("--seeds", default=None, help="comma-separated seeds (default 0,1,2; --course: 0-9; with --quick: 0)")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="processes (default: all cores)")
@click.option("--only", default=None, help="run only the configurations whose name contains this text")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="markdown table to write (default experiments/results/reproduction[_quick].md; --course: "
                   "course[_quick].md)")
def reproduce(course: bool, quick: bool, seeds: str | None, jobs: int | None, only: str | None,
              out: Path | None) -> int:
    """Rerun Nielsen's published MNIST experiments (or, with --course, Ng's) and write a table: published vs ours."""
    from ..reproduce import BOOK_RUNS, COURSE_RUNS, reproduce_course, write_course_table, write_table
    from ..reproduce import reproduce as run_all

    with user_errors():
        default_seeds = list(range(10)) if course else [0, 1, 2]
        seed_list = [int(s) for s in seeds.split(",")] if seeds else ([0] if quick else default_seeds)
    table = COURSE_RUNS if course else BOOK_RUNS
    runs = [r for r in table if only is None or only in r.name]
    if not runs:
        raise click.UsageError(f"--only {only!r} matches no configuration; names: " + "; ".join(r.name for r in table))
    name = "course" if course else "reproduction"
    out = out or Path("experiments/results") / (f"{name}_quick.md" if quick else f"{name}.md")
    command = "mlpkit reproduce" + (" --course" if course else "") + (" --quick" if quick else "") \
        + (f" --seeds {seeds}" if seeds else "") + (f" --only {only!r}" if only else "")
    with user_errors():
        if course:
            written = write_course_table(reproduce_course(runs, seeds=seed_list, jobs=jobs, quick=quick), out, command,
                                         quick=quick, plots=not quick)
        else:
            written = write_table(run_all(runs, seeds=seed_list, jobs=jobs, quick=quick), out, command, quick=quick)
    click.echo(written.read_text())
    return 0


@cli.command(context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to bind; another than 127.0.0.1 exposes the app to the network")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="port to listen on")
@click.option("--models", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="directory of .mlpk models offered on the draw-a-digit page")
@click.option("--max-upload-mb", type=click.FloatRange(0, 1024, min_open=True), default=20, show_default=True,
              help="largest model file the page may upload, in MB")
@click.option("--runs", type=click.Path(file_okay=False, path_type=Path), default=Path("runs"), show_default=True,
              help="runs root: the dashboard's runs are written there (one directory each, as mlpkit train --out) "
                   "and the runs found there, mlpkit train's included, are listed when the server starts (pass the "
                   "same directory to --models to offer their models on the draw-a-digit page)")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME[:PORT]",
              help="another name the server is reached by (its DNS name; behind a reverse proxy, the name and port "
                   "its clients use); repeat for more. Requests must name the bound address or one of these; a "
                   "name off loopback makes the server need its access token")
def serve(host: str, port: int, models: Path | None, max_upload_mb: float, runs: Path,
          allow_hosts: tuple[str, ...]) -> int:
    """Start the local web app: learning slowdown, softmax explorer, training dashboard, draw a digit, the
    2-D playground and the autodiff graph."""
    from ._serve import serve as run_server

    return run_server(host, port, models, max_upload_mb, runs, allow_hosts)


@cli.command(context_settings=CONTEXT)
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--strategy", default=None, metavar="NAME",
              help="random, grid, coarse-to-fine, nielsen or optuna (TPE; pip install 'mlpkit[optuna]')")
@click.option("--backend", type=click.Choice(["process", "serial", "ray"]), default=None,
              help="where trials run: a local process pool (default, all cores), this process, or Ray")
@click.option("--address", default=None, metavar="HOST:PORT", help="Ray cluster to join (--backend ray)")
@click.option("--workers", type=click.IntRange(min=0), default=None, help="trials at a time (0: all cores)")
@click.option("--storage", default=None, metavar="PATH", help="SQLite results file (default CONFIG's name .sqlite)")
@click.option("--out", default=None, metavar="PATH", help="directory of trials.csv and the plots")
@click.option("--trials", type=click.IntRange(min=1), default=None, help="trials per random round")
@click.option("--resume", is_flag=True, help="continue the search in --storage, skipping its finished trials")
@click.option("--overwrite", is_flag=True, help="discard the trials already in --storage and start again")
@click.option("--quiet", is_flag=True, help="no line per finished trial")
def tune(config: Path, resume: bool, overwrite: bool, quiet: bool, **overrides: Any) -> int:
    """Search hyper-parameters as CONFIG (TOML/YAML/JSON: [train], [space], [search]) describes.

    Prints one line per finished trial, then the ranked trials; writes trials.csv, scores.png,
    curves.png and best_config.yaml (for mlpkit train --config). Trials are kept in an SQLite file: after
    an interruption (Ctrl-C, SIGTERM: the workers are stopped at once), --resume skips those done.
    """
    from ._tune import TuneRun

    with user_errors():
        run = TuneRun(config, overrides, resume=resume, overwrite=overwrite, quiet=quiet, console=make_console())
        try:
            return run.run()
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM
            return run.stopped(exc)


@cli.command(context_settings=CONTEXT)
@click.option("--example", type=click.Choice(["logistic", "two-layer"]), default=None,
              help="the lecture's graph (Ng course 1 week 3) on random data")
@click.option("--expr", default=None, metavar="TEXT", help='an expression, e.g. "w**2 - 10*w + 25"')
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE",
              help="a variable of --expr: a number or comma-separated numbers (repeat for each variable)")
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="a small saved model (.mlpk), drawn on a random batch")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("graph.svg"), show_default=True,
              help="the picture to write: .svg or .png")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="seed of the random data")
@click.option("--n-x", type=click.IntRange(1, 32), default=2, show_default=True, help="--example: input features")
@click.option("--n-h", type=click.IntRange(1, 32), default=4, show_default=True, help="--example two-layer: hidden")
@click.option("--m", type=click.IntRange(1, 32), default=3, show_default=True, help="--example two-layer: examples")
@click.option("--examples", type=click.IntRange(1, 64), default=4, show_default=True, help="--model: batch rows")
def graph(example: str | None, expr: str | None, variables: tuple[str, ...], model: Path | None, out: Path,
          seed: int, n_x: int, n_h: int, m: int, examples: int) -> int:
    """Draw a computation graph: every node with its forward value and its gradient (SVG or PNG).

    \b
    mlpkit graph --example two-layer --out graph.svg    # X, W1, b1 -> Z1 -> A1 -> Z2 -> A2 -> J
    mlpkit graph --expr "w**2 - 10*w + 25" --var w=3 --out j.png
    mlpkit graph --model runs/<run>/model.mlpk --examples 4
    """
    from ._graph import graph as draw

    with user_errors():
        return draw(example, expr, variables, model, out, seed, n_x, n_h, m, examples)


@cli.command(context_settings=CONTEXT)
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["onnx", "torch"]), required=True,
              help="onnx: one .onnx file (needs pip install 'mlpkit[onnx]'); torch: a state dict and the .py file "
                   "of the nn.Sequential it fits (needs torch)")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="the file to write (default: MODEL with .onnx or .pt)")
@click.option("--opset", type=click.IntRange(min=1), default=None, help="--format onnx: the ONNX opset (default 17)")
def export(model: Path, fmt: str, out: Path | None, opset: int | None) -> int:
    """Export a saved model for another framework: ONNX or PyTorch.

    \b
    mlpkit export runs/<run>/model.mlpk --format onnx               # runs/<run>/model.onnx
    mlpkit export runs/<run>/model.mlpk --format torch -o net.pt    # net.pt and net.py (build_model())
    """
    from ._export import export as run_export

    with user_errors():
        return run_export(model, fmt, out, opset)
