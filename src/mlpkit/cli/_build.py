"""From checked settings to objects: the data set, the network, the optimizer, the schedule, the augmenter.

Shared by ``train``, ``evaluate``, ``diagnose`` (which rebuild the training run's data split from the
settings saved in the model) and ``gradcheck``. No click or rich here.
"""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import datasets
from ..datasets import Augmenter, Dataset, Split
from ..layers import BatchNorm, Dense, Dropout, Layer, Standardize
from ..network import Network
from ..optimizers import Optimizer, get_optimizer
from ..regularizers import L1, L2
from ..schedules import ExponentialDecay, HalveOnPlateau, InverseTimeDecay, Schedule, StepDecay
from ._config import ConfigError, TrainConfig

#: fractions of a user's CSV/NPZ file for train / validation / test (stratified, seeded)
USER_SPLIT = (0.8, 0.1, 0.1)


@dataclass(frozen=True)
class Data:
    """A loaded data set, plus the class names of a file whose labels are names (else None)."""

    dataset: Dataset
    classes: tuple[str, ...] | None = None
    path: Path | None = None


def dataset_path(dataset: str) -> Path | None:
    """None for the built-in data sets, else the file's path."""
    return None if dataset in ("digits", "mnist") else Path(dataset).expanduser()


def load_whole_file(path: Path, label_column: str, dtype: str) -> Split:
    """A user's whole CSV or NPZ file as one split (labels checked to be class indices)."""
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise ConfigError(f"--dataset must be 'digits', 'mnist' or a .csv/.npz file; {path} {what}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        whole = datasets.load_csv(path, label_column=label_column, dtype=dtype)
    elif suffix == ".npz":
        whole = datasets.load_npz(path, dtype=dtype)
    else:
        raise ConfigError(f"--dataset file must end in .csv or .npz, got {path.name}")
    if whole.y.size and whole.y.min() < 0:
        raise ConfigError(f"{path}: labels must be class numbers 0, 1, 2, ... or class names; found {whole.y.min()}")
    return whole


def load_data(dataset: str, *, label_column: str = "label", seed: int = 0, dtype: str = "float32") -> Data:
    """``digits`` (60/20/20 split by ``seed``), ``mnist`` (Nielsen's 50k/10k/10k) or a CSV/NPZ file split
    80/10/10, stratified, by ``seed``."""
    if dataset == "digits":
        return Data(datasets.load_digits(seed=seed, dtype=dtype))
    if dataset == "mnist":
        return Data(datasets.load_mnist(split="book", dtype=dtype))
    path = dataset_path(dataset)
    whole = load_whole_file(path, label_column, dtype)
    n_classes = len(whole.classes) if whole.classes is not None else int(whole.y.max()) + 1
    train, validation, test = datasets.split_dataset(whole.X, whole.y, fractions=USER_SPLIT, seed=seed,
                                                     stratify=True)
    return Data(Dataset(train=train, validation=validation, test=test, n_classes=n_classes, name=path.name),
                whole.classes, path.resolve())


def remap_labels(y: np.ndarray, file_classes: tuple[str, ...] | None, model_classes: list[str] | None,
                 where: str) -> np.ndarray:
    """Labels of a file as the model's class indices: class names are matched by name."""
    if file_classes is None or model_classes is None:
        return y
    index = {name: i for i, name in enumerate(model_classes)}
    unknown = sorted(set(file_classes) - set(index))
    if unknown:
        raise ConfigError(f"{where} has classes the model does not know: {', '.join(unknown[:10])}; "
                          f"the model's classes are {', '.join(model_classes[:20])}")
    lookup = np.array([index[name] for name in file_classes], dtype=np.int64)
    return lookup[y]


def build_network(sizes: list[int], *, activation: str = "sigmoid", output: str = "softmax", cost: str | None = None,
                  init: str = "default", l2: float = 0.0, l1: float = 0.0, dropout: list[float] | None = None,
                  input_dropout: float = 1.0, batch_norm: bool = False, standardize: bool = False,
                  dtype: str = "float32", seed: int | None = 0) -> Network:
    """The network the options describe: [Standardize], [Dropout on the inputs if ``input_dropout`` < 1], then
    per hidden layer Dense (or Dense without bias + BatchNorm carrying the activation) and Dropout if its keep
    probability is below 1, then the output."""
    layers: list[Layer] = [Standardize()] if standardize else []
    if input_dropout < 1.0:
        layers.append(Dropout(input_dropout))
    keeps = list(dropout or [])
    for i, width in enumerate(sizes[1:-1]):
        if batch_norm:
            layers += [Dense(width, None, init=init, use_bias=False), BatchNorm(activation=activation)]
        else:
            layers.append(Dense(width, activation, init=init))
        if keeps and keeps[i] < 1.0:
            layers.append(Dropout(keeps[i]))
    layers.append(Dense(sizes[-1], output, init=init))
    regularizer = L2(l2) if l2 else (L1(l1) if l1 else None)
    return Network(layers, loss=cost, regularizer=regularizer, input_dim=sizes[0], dtype=dtype, seed=seed)


def network_from_config(cfg: TrainConfig, sizes: list[int]) -> Network:
    return build_network(sizes, activation=cfg.activation, output=cfg.output, cost=cfg.cost, init=cfg.init,
                         l2=cfg.l2, l1=cfg.l1, dropout=cfg.dropout, input_dropout=cfg.input_dropout,
                         batch_norm=cfg.batch_norm,
                         standardize=cfg.standardize, dtype=cfg.dtype, seed=cfg.seed)


def build_optimizer(cfg: TrainConfig) -> Optimizer:
    spec: dict[str, Any] = {"name": cfg.optimizer, "learning_rate": cfg.lr}
    if cfg.momentum is not None:
        spec["beta"] = cfg.momentum
    if cfg.momentum_convention is not None:
        spec["convention"] = cfg.momentum_convention
    for name in ("beta1", "beta2", "eps", "weight_decay"):
        if getattr(cfg, name) is not None:
            spec[name] = getattr(cfg, name)
    return get_optimizer(spec)


def build_schedule(cfg: TrainConfig) -> Schedule | None:
    """None for ``constant`` (the optimizer's rate is simply kept)."""
    if cfg.schedule == "inverse-time":
        return InverseTimeDecay(cfg.decay_rate, cfg.decay_epochs, cfg.staircase)
    if cfg.schedule == "exponential":
        return ExponentialDecay(cfg.decay_rate, cfg.decay_epochs, cfg.staircase)
    if cfg.schedule == "step":
        return StepDecay(cfg.step_size, cfg.factor)
    if cfg.schedule == "halve-on-plateau":
        return HalveOnPlateau(cfg.patience, monitor=cfg.monitor or "val_accuracy", factor=cfg.factor)
    return None


def build_augmenter(names: list[str], image_shape: tuple[int, int] | None, dataset: str,
                    n_jobs: int | None = None) -> Augmenter | None:
    """Augmenters sized for the images: the MNIST settings (Nielsen's one-pixel shifts, rotations of up to
    10 degrees, Simard et al.'s elastic alpha = 34, sigma = 4 pixels) scaled by height / 28; ``n_jobs``
    threads (default: one per available CPU)."""
    if not names:
        return None
    if image_shape is None:
        raise ConfigError(f"--augment applies to image data sets (digits, mnist); {dataset} has no image shape")
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


# --------------------------------------------------------------------------------- predict inputs
def _parse_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def read_features(path: Path, *, label_column: str | None = None, key: str = "X") -> np.ndarray:
    """Inputs to predict from: a CSV (header optional; ``label_column`` names a column to drop), an NPZ
    archive (array ``key``) or an NPY array; images are flattened to one row each."""
    if not path.is_file():
        raise ConfigError(f"INPUT {path} does not exist" if not path.exists() else f"INPUT {path} is not a file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv_features(path, label_column)
    if label_column is not None:
        raise ConfigError(f"--label-column applies to CSV input, not {path.name}")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ConfigError(f"{path}: not a readable {suffix} file ({' '.join(str(exc).split())})") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            if key not in loaded.files:
                raise ConfigError(f"{path}: no array {key!r} in the archive (it holds {', '.join(loaded.files)}); "
                                  "pass --key NAME")
            X = loaded[key]
    elif suffix == ".npy":
        X = loaded
    else:
        raise ConfigError(f"INPUT must be a .csv, .npz or .npy file, got {path.name}")
    if X.dtype.kind not in "biuf":
        raise ConfigError(f"{path}: the inputs must be numbers, got dtype {X.dtype}")
    if X.ndim == 1:
        X = X.reshape(1, -1)
    return X.reshape(len(X), -1)


def _read_csv_features(path: Path, label_column: str | None) -> np.ndarray:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if row]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{path}: not a readable CSV file ({exc})") from None
    if not rows:
        raise ConfigError(f"{path}: the file is empty")
    header = None
    if any(_parse_float(cell) is None for cell in rows[0]):
        header = [cell.strip() for cell in rows[0]]
        rows = rows[1:]
    drop = None
    if label_column is not None:
        if header is None or label_column not in header:
            found = f"its columns are {', '.join(header[:12])}" if header else "it has no header line"
            raise ConfigError(f"{path}: no column {label_column!r} to ignore; {found}")
        drop = header.index(label_column)
    if not rows:
        raise ConfigError(f"{path}: no data rows")
    width = len(rows[0]) if header is None else len(header)
    first_line = 2 if header is not None else 1
    for r, row in enumerate(rows):
        if len(row) != width:
            raise ConfigError(f"{path}, line {first_line + r}: {len(row)} fields, expected {width}")
    cells = [row[:drop] + row[drop + 1:] for row in rows] if drop is not None else rows
    try:
        X = np.array(cells, dtype=np.float64)
        bad = not np.isfinite(X).all()
    except ValueError:
        bad = True
    if bad:  # find the first offending cell for the message
        for r, row in enumerate(cells):
            for c, cell in enumerate(row):
                value = _parse_float(cell)
                if value is None or not np.isfinite(value):
                    column = header[c if drop is None or c < drop else c + 1] if header else c + 1
                    raise ConfigError(f"{path}, line {first_line + r}, column {column!r}: {cell.strip()!r} is "
                                      "not a finite number")
    return X
