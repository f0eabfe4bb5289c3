"""The data set a run's settings name: ``digits``, ``mnist``, a generated 2-D set (``circles``, ``moons``,
``flower``, ``spiral``, ``xor``, ``gaussian``), one of the course's recipes (``course_flower``...) or a user's
CSV/NPZ file, split as the run splits it (the same seed gives the same points and the same split, so
``evaluate`` and ``diagnose`` find a model's test set).

A CSV file's targets are read for the run's task: ``auto`` reads them as written and lets
:func:`mlpkit.tasks.infer_task` decide; an explicit task reads them as that task needs (see
:mod:`mlpkit.datasets.user`). A table loaded in Python (:func:`mlpkit.datasets.load_dataframe`) becomes a
run's data with :func:`table_data`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import datasets
from ..datasets import COURSE_DATASETS, PLANAR_DATASETS, Dataset, Split
from ..tasks import CLASS_TASKS, infer_task
from .options import SettingsError

#: fractions of a user's CSV/NPZ file for train / validation / test (seeded; stratified for classes)
USER_SPLIT = (0.8, 0.1, 0.1)
#: validation and test fractions of a generated 2-D set (60/20/20, as the digits): a run gets validation
#: curves, early stopping and a search's default metric
PLANAR_VALIDATION, PLANAR_TEST = 0.2, 0.2
BUILT_IN = ("digits", "mnist", *PLANAR_DATASETS, *COURSE_DATASETS)
#: how an error names the accepted values of --dataset
ACCEPTED = f"{', '.join(BUILT_IN)} or a .csv/.npz file"


@dataclass(frozen=True)
class Data:
    """A loaded data set, plus the class names of a file whose labels are names (else None), the file's
    path (None for the built-in sets), the task of its targets and the names of a table's columns.

    ``dataset.n_classes`` is the number of classes for classification and binary targets, the number of
    target columns for multilabel and regression ones."""

    dataset: Dataset
    classes: tuple[str, ...] | None = None
    path: Path | None = None
    task: str = "classification"
    feature_names: tuple[str, ...] | None = None
    target_names: tuple[str, ...] | None = None

    @property
    def n_outputs(self) -> int:
        """The width of the output layer the task needs: one unit per class (classification), one sigmoid
        unit (binary), one unit per target column (multilabel, regression)."""
        return 1 if self.task == "binary" else self.dataset.n_classes


def dataset_path(dataset: str) -> Path | None:
    """None for the built-in data sets, else the file's path."""
    return None if dataset in BUILT_IN else Path(dataset).expanduser()


def target_columns(label_column: str) -> list[str]:
    """The target column names of ``--target a,b,c`` (one name without a comma)."""
    return [name.strip() for name in str(label_column).split(",")]


def load_whole_file(path: Path, label_column: str, dtype: str, task: str = "classification",
                    sample_weight: str | None = None) -> tuple[Split, str]:
    """A user's whole CSV or NPZ file as one split, and the task of its targets (``task``, or the one
    :func:`~mlpkit.tasks.infer_task` finds for ``"auto"``); class labels are checked to be class indices.
    ``sample_weight`` names the CSV column of the weights."""
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise SettingsError(f"--dataset must be one of {ACCEPTED}; {path} {what}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        whole = datasets.load_csv(path, label_column=target_columns(label_column), task=task,
                                  weight_column=sample_weight, dtype=dtype)
    elif suffix == ".npz":
        if sample_weight is not None:
            raise SettingsError(f"--sample-weight names a column of a CSV file; {path.name} is an .npz archive")
        if task not in ("auto", *CLASS_TASKS):
            raise SettingsError(f"--task {task}: an .npz file holds class labels (y); use a CSV file for "
                                f"{task} targets")
        whole = datasets.load_npz(path, dtype=dtype)
    else:
        raise SettingsError(f"--dataset file must end in .csv or .npz, got {path.name}")
    if task == "auto":
        task = infer_task(whole.y)
        if task == "classification" and whole.y.ndim == 2:  # one-hot columns: the columns name the classes
            whole = Split(whole.X, whole.y.argmax(axis=1), whole.target_names, whole.feature_names,
                          whole.target_names, whole.sample_weight)
    if task == "binary" and whole.classes is None and not np.isin(whole.y, (0, 1)).all():
        raise SettingsError(f"{path}: --task binary needs labels 0 and 1 (or two class names); found "
                            f"{', '.join(map(str, np.unique(whole.y)[:10]))}")
    if task in CLASS_TASKS and whole.y.size and whole.y.min() < 0:
        raise SettingsError(f"{path}: labels must be class numbers 0, 1, 2, ... or class names; found "
                            f"{whole.y.min()}")
    return whole, task


def table_data(whole: Split, task: str, *, seed: int = 0, name: str = "data", path: Path | None = None) -> Data:
    """A whole table (a file or a DataFrame read by :mod:`mlpkit.datasets.user`, targets read for ``task``)
    as a run's data: split 80/10/10 by ``seed``, stratified by class for classification and binary
    targets, plainly shuffled for multilabel and regression ones; weights, names and classes kept. Class
    targets of a single class are refused (DataFormatError): a classifier cannot learn from one class, and
    the network built for it (one output unit per class found) would be meaningless."""
    stratify = task in CLASS_TASKS
    if stratify and whole.y.size and (whole.y == whole.y.flat[0]).all():
        first = int(whole.y.flat[0])
        shown = whole.classes[first] if whole.classes is not None and first < len(whole.classes) else first
        column = ", ".join(whole.target_names) if whole.target_names else "label"
        raise datasets.DataFormatError(f"{path or name}: column {column!r} needs at least 2 classes, found only "
                                       f"class {str(shown)!r}")
    if stratify:
        n_classes = len(whole.classes) if whole.classes is not None else int(whole.y.max()) + 1
        n_classes = max(n_classes, 2) if task == "binary" else n_classes
    else:
        n_classes = whole.y.shape[1]
    order = np.arange(len(whole.y))
    parts = datasets.split_dataset(order, whole.y if stratify else np.zeros(len(order)), fractions=USER_SPLIT,
                                   seed=seed, stratify=stratify)
    train, validation, test = (whole.subset(part.X) for part in parts)
    return Data(Dataset(train=train, validation=validation, test=test, n_classes=n_classes, name=name),
                whole.classes, path, task, whole.feature_names, whole.target_names)


def load_data(dataset: str, *, label_column: str = "label", seed: int = 0, dtype: str = "float32",
              samples: int | None = None, noise: float | None = None, classes: int | None = None,
              task: str = "auto", sample_weight: str | None = None) -> Data:
    """``digits`` (60/20/20 split by ``seed``), ``mnist`` (Nielsen's 50k/10k/10k), a generated 2-D set of
    ``samples`` points with ``noise`` and ``classes`` (made and split 60/20/20 by ``seed``), a course recipe
    (the course's own points and split) or a CSV/NPZ file split 80/10/10 by ``seed`` (:func:`table_data`),
    its targets read for ``task`` from the column(s) ``label_column`` ("a,b,c" for several) and its
    weights from the column ``sample_weight``. ``samples``, ``noise`` and ``classes`` apply to the generated
    sets only (None: their defaults)."""
    path = dataset_path(dataset)
    if path is None:
        if sample_weight is not None:
            raise SettingsError(f"--sample-weight names a column of a CSV file; {dataset} has none")
        return _built_in(dataset, task, seed=seed, dtype=dtype, samples=samples, noise=noise, classes=classes)
    whole, task = load_whole_file(path, label_column, dtype, task, sample_weight)
    return table_data(whole, task, seed=seed, name=path.name, path=path.resolve())


def _built_in(dataset: str, task: str, **options: Any) -> Data:
    """A built-in data set: class labels, so a classification (or, with two classes, a binary) task."""
    if dataset == "digits":
        data = datasets.load_digits(seed=options["seed"], dtype=options["dtype"])
    elif dataset == "mnist":
        data = datasets.load_mnist(split="book", dtype=options["dtype"])
    else:
        made_here = dataset in PLANAR_DATASETS
        shape = dict(n_samples=options["samples"], noise=options["noise"], seed=options["seed"],
                     n_classes=options["classes"] or 2, validation_fraction=PLANAR_VALIDATION,
                     test_fraction=PLANAR_TEST) if made_here else {}
        try:
            data = datasets.load_planar(dataset, dtype=options["dtype"], **shape)
        except ImportError as exc:  # circles and moons come from scikit-learn, an optional dependency
            raise SettingsError(f"--dataset {dataset}: {exc}") from None
    if task not in ("auto", *CLASS_TASKS) or (task == "binary" and data.n_classes != 2):
        raise SettingsError(f"--task {task} does not fit {dataset}: it has {data.n_classes} classes (use a CSV file "
                            "for other targets)")
    return Data(data, task="classification" if task == "auto" else task)


def remap_labels(y: np.ndarray, file_classes: tuple[str, ...] | None, model_classes: list[str] | None,
                 where: str) -> np.ndarray:
    """Labels of a file as the model's class indices: class names are matched by name."""
    if file_classes is None or model_classes is None:
        return y
    index = {name: i for i, name in enumerate(model_classes)}
    unknown = sorted(set(file_classes) - set(index))
    if unknown:
        raise SettingsError(f"{where} has classes the model does not know: {', '.join(unknown[:10])}; "
                            f"the model's classes are {', '.join(model_classes[:20])}")
    lookup = np.array([index[name] for name in file_classes], dtype=np.int64)
    return lookup[y]
