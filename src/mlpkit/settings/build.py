"""From checked settings to a run that is ready to train: :func:`build_run`.

``mlpkit train`` (new and resumed runs), the dashboard's runs, every trial of a search and the experiment
scripts all build their runs here, so the same settings always make the same data split, network,
optimizer, schedule, augmenter and early stopping.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import datasets
from ..callbacks import Callback, EarlyStopping
from ..checkpoint import Checkpoint, continue_history, continue_schedule
from ..datasets import Augmenter
from ..history import History
from ..layers import BatchNorm, Dense, Dropout, Layer, Standardize
from ..network import Network
from ..optimizers import Optimizer, get_optimizer
from ..regularizers import L1, L2
from ..schedules import Schedule, get_schedule
from ..tasks import CLASS_TASKS, OUTPUT_ACTIVATIONS
from ..tracking import TENSORBOARD_HINT, CSVLogger, TensorBoardLogger, tensorboard_available
from ..training import fit
from .checks import Labels, library_check, optimizer_spec, parse_class_weight, resolve_layers, schedule_spec
from .data import Data, load_data
from .options import SettingsError, TrainSettings

#: the CSV log of ``--log-dir``
CSV_LOG_FILE = "log.csv"


def output_activation(settings: TrainSettings, task: str | None, width: int) -> str:
    """The output layer's activation: ``--output``, or for ``auto`` the task's (softmax for classes, sigmoid
    for binary and multilabel, identity for regression; without a task, softmax, or sigmoid for one unit)."""
    if settings.output != "auto":
        return settings.output
    if task is None:
        return "softmax" if width > 1 else "sigmoid"
    return OUTPUT_ACTIVATIONS[task]


def cost_spec(settings: TrainSettings) -> str | dict[str, Any] | None:
    """``--cost`` as :func:`mlpkit.losses.get_loss` takes it (huber with its ``--huber-delta``); None: the
    default cost of the output layer."""
    if settings.cost == "huber" and settings.huber_delta is not None:
        return {"name": "huber", "delta": settings.huber_delta}
    return settings.cost


def network_from_settings(settings: TrainSettings, sizes: Sequence[int], *, dtype: str | None = None,
                          task: str | None = None) -> Network:
    """The network the settings describe for layer ``sizes`` and ``task`` (None: the output layer decides):
    [Standardize], [Dropout on the inputs if ``input_dropout`` < 1], then per hidden layer Dense (or Dense
    without bias + BatchNorm carrying the activation) and Dropout if its keep probability is below 1, then
    the output layer (:func:`output_activation`). ``dtype`` overrides the settings' (a gradient check runs
    in float64)."""
    layers: list[Layer] = [Standardize()] if settings.standardize else []
    if settings.input_dropout < 1.0:
        layers.append(Dropout(settings.input_dropout))
    for i, width in enumerate(sizes[1:-1]):
        if settings.batch_norm:
            layers += [Dense(width, None, init=settings.init, use_bias=False),
                       BatchNorm(activation=settings.activation)]
        else:
            layers.append(Dense(width, settings.activation, init=settings.init))
        if settings.dropout and settings.dropout[i] < 1.0:
            layers.append(Dropout(settings.dropout[i]))
    layers.append(Dense(sizes[-1], output_activation(settings, task, sizes[-1]), init=settings.init))
    regularizer = L2(settings.l2) if settings.l2 else (L1(settings.l1) if settings.l1 else None)
    threshold = {} if settings.threshold is None else {"threshold": settings.threshold}
    return Network(layers, loss=cost_spec(settings), regularizer=regularizer, input_dim=sizes[0],
                   dtype=dtype or settings.dtype, seed=settings.seed, task=task, **threshold)


def build_optimizer(settings: TrainSettings) -> Optimizer:
    return get_optimizer(optimizer_spec(dataclasses.asdict(settings)))


def build_schedule(settings: TrainSettings) -> Schedule | None:
    """None for ``constant`` (the optimizer's rate is simply kept)."""
    if settings.schedule == "constant":
        return None
    return get_schedule(schedule_spec(dataclasses.asdict(settings)))


def build_augmenter(names: Sequence[str], image_shape: tuple[int, int] | None, dataset: str,
                    n_jobs: int | None = None) -> Augmenter | None:
    """Augmenters sized for the images: the MNIST settings (Nielsen's one-pixel shifts, rotations of up to
    10 degrees, Simard et al.'s elastic alpha = 34, sigma = 4 pixels) scaled by height / 28; ``n_jobs``
    threads (default: one per available CPU)."""
    if not names:
        return None
    if image_shape is None:
        raise SettingsError(f"--augment applies to image data sets (digits, mnist); {dataset} has no image shape")
    scale = image_shape[0] / 28
    made: list[Augmenter] = []
    for name in names:
        if name == "shift":
            made.append(datasets.RandomShift(1, image_shape, n_jobs=n_jobs))
        elif name == "rotate":
            made.append(datasets.RandomRotation(10.0, image_shape, n_jobs=n_jobs))
        elif name == "elastic":
            made.append(datasets.ElasticDistortion(34.0 * scale, 4.0 * scale, image_shape, n_jobs=n_jobs))
        else:
            made.append(datasets.RandomAffine(10.0, (0.9, 1.1), 2.0 * scale, image_shape, n_jobs=n_jobs))
    return made[0] if len(made) == 1 else datasets.Compose(made, n_jobs=n_jobs)


@dataclass
class TrainingRun:
    """A run ready to train, as :func:`build_run` made it from its settings.

    ``settings`` are the effective ones (layer sizes filled in from the data, the cost that was chosen);
    ``start_epoch`` and ``previous_history`` describe the epochs a resumed run has done already;
    ``class_weight`` is ``--class-weight`` as :func:`mlpkit.training.fit` takes it. ``loggers``
    are the ``log_dir`` loggers (:func:`run_loggers`), ``notes`` one-line remarks :meth:`fit` warns about.
    """

    settings: TrainSettings
    data: Data
    network: Network
    optimizer: Optimizer
    schedule: Schedule | None
    augment: Augmenter | None
    early_stopping: EarlyStopping | None
    rng: np.random.Generator
    start_epoch: int = 0
    previous_history: History | None = None
    class_weight: str | dict[int, float] | None = None
    loggers: list[Callback] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def remaining_epochs(self) -> int:
        return self.settings.epochs - self.start_epoch

    @property
    def validation(self) -> tuple[np.ndarray, ...] | None:
        """(X, y) of the validation split, (X, y, sample_weight) when it has weights; None when the data set
        has no validation split."""
        split = self.data.dataset.validation
        if split is None:
            return None
        return (split.X, split.y) if split.sample_weight is None else (split.X, split.y, split.sample_weight)

    def fit(self, callbacks: Sequence[Callback] = (), **options: Any) -> History:
        """Train for the remaining epochs as the settings say; ``callbacks`` run after early stopping,
        ``options`` go to :func:`mlpkit.training.fit` (``monitor_training``, ``verbose``...). Returns the
        History of this call (:meth:`whole_history` joins it to the earlier epochs of a resumed run)."""
        train = self.data.dataset.train
        schedule = self.schedule
        if self.start_epoch:
            schedule = continue_schedule(self.schedule, self.start_epoch, self.previous_history)
        own = ([] if self.early_stopping is None else [self.early_stopping]) + self.loggers
        for note in self.notes:
            warnings.warn(note, RuntimeWarning, stacklevel=2)
        options = {"verbose": 0, **options}
        if train.sample_weight is not None:
            options["sample_weight"] = train.sample_weight
        if self.class_weight is not None:
            options["class_weight"] = self.class_weight
        return fit(self.network, train.X, train.y, epochs=self.remaining_epochs, batch_size=self.settings.batch_size,
                   optimizer=self.optimizer, validation_data=self.validation, callbacks=[*own, *callbacks],
                   seed=self.rng, schedule=schedule, augment=self.augment, **options)

    def whole_history(self, history: History) -> History:
        """The History of the whole run: the earlier epochs of a resumed run, then ``history``'s."""
        merged = continue_history(self.previous_history, history, self.start_epoch)
        merged.params.update(seed=self.settings.seed, epochs=self.settings.epochs)
        return merged


def build_run(settings: TrainSettings, *, data: Data | None = None, checkpoint: Checkpoint | None = None,
              augment_jobs: int | None = None, sources: Mapping[str, str] | None = None) -> TrainingRun:
    """Everything a run of ``settings`` needs: its data (``data`` when the caller has it loaded already), the
    network, optimizer, schedule, augmenter (``augment_jobs`` threads) and early stopping, and the training
    generator seeded by the settings. With ``checkpoint`` the run continues that checkpoint's run exactly:
    its network, optimizer state, schedule state, early stopping state, generator and History.
    ``sources`` name where the settings came from, for the messages (see
    :func:`~mlpkit.settings.checks.resolve`). Every problem is a SettingsError (or the data loader's
    error)."""
    label = Labels(sources)
    data = data if data is not None else run_data(settings)
    dataset = data.dataset
    if dataset.train.X.ndim != 2:
        raise SettingsError(f"{dataset.name}: the training inputs must be one row per example")
    sizes = resolve_layers(settings.layers, dataset.n_features, data.n_outputs, label("layers"), data.task)
    augment = build_augmenter(settings.augment, dataset.image_shape, dataset.name, n_jobs=augment_jobs)
    network = _resumed_network(checkpoint, sizes, data) if checkpoint else _new_network(settings, sizes, data, label)
    settings = dataclasses.replace(settings, layers=list(sizes), cost=network.loss.name)
    _check_monitor(settings, network)
    class_weight = _class_weight(settings, network, data, label)

    optimizer, schedule = build_optimizer(settings), build_schedule(settings)
    if schedule is not None:
        schedule.start(optimizer.learning_rate)
    early_stopping = None
    if settings.early_stopping:
        early_stopping = EarlyStopping(settings.monitor or "val_loss", patience=settings.early_stopping)
    run = TrainingRun(settings, data, network, optimizer, schedule, augment, early_stopping,
                      np.random.default_rng(settings.seed), class_weight=class_weight)
    if checkpoint is not None:
        _continue(run, checkpoint)
    if run.remaining_epochs <= 0:
        raise SettingsError(f"the run already completed {run.start_epoch} of {settings.epochs} epochs; pass "
                            f"--epochs N with N > {run.start_epoch} to train longer")
    if settings.log_dir:
        run.loggers, run.notes = run_loggers(Path(settings.log_dir).expanduser(), run.start_epoch)
    return run


def run_loggers(log_dir: Path, start_epoch: int = 0) -> tuple[list[Callback], list[str]]:
    """The loggers of ``--log-dir``: a :class:`~mlpkit.tracking.CSVLogger` writing ``log_dir/log.csv`` (a
    resumed run, ``start_epoch`` > 0, keeps the rows of its earlier epochs) and, when the ``tensorboard``
    package is installed, a :class:`~mlpkit.tracking.TensorBoardLogger` writing event files in ``log_dir``;
    without it, a note saying so."""
    if log_dir.exists() and not log_dir.is_dir():
        raise SettingsError(f"--log-dir {log_dir} is a file; give a directory")
    loggers: list[Callback] = [CSVLogger(log_dir / CSV_LOG_FILE, append=start_epoch > 0, epoch_offset=start_epoch)]
    if not tensorboard_available():
        return loggers, [f"--log-dir: tensorboard is not installed, so only {CSV_LOG_FILE} is written "
                         f"({TENSORBOARD_HINT})"]
    return [*loggers, TensorBoardLogger(log_dir, epoch_offset=start_epoch)], []


def run_data(settings: TrainSettings) -> Data:
    """The data set the settings name, loaded and split as a run of them loads it."""
    return load_data(settings.dataset, label_column=settings.label_column, seed=settings.seed, dtype=settings.dtype,
                     samples=settings.samples, noise=settings.noise, classes=settings.classes, task=settings.task,
                     sample_weight=settings.sample_weight)


def _new_network(settings: TrainSettings, sizes: list[int], data: Data, label: Labels) -> Network:
    """The settings' network for the data's task (two classes on one output unit: a binary task). Without
    ``--task``, class labels may also train an output the task does not take (e.g. ``--output identity
    --cost quadratic``, as before tasks existed): the output layer then decides the network's task."""
    task = "binary" if data.task == "classification" and sizes[-1] == 1 else data.task
    if settings.threshold is not None and task not in ("binary", "multilabel"):
        raise SettingsError(f"{label('threshold')} applies to binary and multilabel tasks, not {task}")
    labels = {"task": label("task"), "threshold": label("threshold"), "the Huber delta": label("huber_delta")}
    try:
        with library_check(labels, f"--task {task}"):
            network = network_from_settings(settings, sizes, task=task)
    except SettingsError:
        if settings.task != "auto" or data.task != "classification" or settings.threshold is not None:
            raise
        network = network_from_settings(settings, sizes)
    network.feature_names = None if data.feature_names is None else list(data.feature_names)
    network.target_names = None if data.target_names is None else list(data.target_names)
    return network


def _class_weight(settings: TrainSettings, network: Network, data: Data,
                  label: Labels) -> str | dict[int, float] | None:
    """``--class-weight`` with its classes as the network's class indices (class names are looked up)."""
    if settings.class_weight is None:
        return None
    if network.task not in CLASS_TASKS:
        raise SettingsError(f"{label('class_weight')} applies to classification and binary tasks, not "
                            f"{network.task}; use --sample-weight")
    parsed = parse_class_weight(settings.class_weight, label("class_weight"))
    if isinstance(parsed, str):
        return parsed
    names = list(data.classes) if data.classes is not None else []
    n_classes = max(data.dataset.n_classes, 2)
    weights: dict[int, float] = {}
    for key, weight in parsed.items():
        if key in names:
            weights[names.index(key)] = weight
        elif key.isdigit() and int(key) < n_classes:
            weights[int(key)] = weight
        else:
            known = ", ".join(names) if names else f"0..{n_classes - 1}"
            raise SettingsError(f"{label('class_weight')} names the class {key!r}; the classes are {known}")
    return weights


def _resumed_network(checkpoint: Checkpoint, sizes: list[int], data: Data) -> Network:
    network = checkpoint.restore_network()
    dataset = data.dataset
    if network.sizes[0] != sizes[0] or network.output_dim != sizes[-1]:
        raise SettingsError(f"the checkpoint's network {network.sizes} does not fit the data set {dataset.name} "
                            f"({sizes[0]} features, {sizes[-1]} outputs)")
    n_train = checkpoint.history.params.get("n_train")
    if n_train is not None and n_train != len(dataset.train.y):
        raise SettingsError(f"{dataset.name} now has {len(dataset.train.y)} training examples, the interrupted run "
                            f"had {n_train}: the data changed, so the run cannot continue exactly")
    return network


def _continue(run: TrainingRun, checkpoint: Checkpoint) -> None:
    """Put the checkpoint's states into the run's freshly built pieces."""
    try:
        if checkpoint.optimizer_state is not None:
            run.optimizer.load_state_dict(checkpoint.optimizer_state)
        if checkpoint.optimizer_config is not None:  # the rate its schedule had set
            run.optimizer.learning_rate = float(checkpoint.optimizer_config["learning_rate"])
        checkpoint.restore_schedule(run.schedule)
        if run.early_stopping is not None and checkpoint.early_stopping_state is not None:
            run.early_stopping.load_state_dict(checkpoint.early_stopping_state)
    except (ValueError, KeyError, TypeError) as exc:
        raise SettingsError(f"the checkpoint does not fit the run's settings: {' '.join(str(exc).split())}") from None
    run.rng = checkpoint.restore_rng() or run.rng
    run.previous_history = checkpoint.history
    run.start_epoch = checkpoint.epoch


def _check_monitor(settings: TrainSettings, network: Network) -> None:
    if network.is_classifier:
        return
    if settings.monitor and settings.monitor.endswith("accuracy"):
        raise SettingsError(f"--monitor {settings.monitor}: a network with a {network.output_activation} output "
                            "reports no accuracy; monitor val_loss or loss")
    if settings.schedule == "halve_on_plateau" and not settings.monitor:
        raise SettingsError("--schedule halve_on_plateau watches val_accuracy, which a network with a "
                            f"{network.output_activation} output does not report; pass --monitor val_loss")
