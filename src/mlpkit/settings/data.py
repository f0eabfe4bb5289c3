"""The data set a run's settings name: ``digits``, ``mnist``, a generated 2-D set (``circles``, ``moons``,
``flower``, ``spiral``, ``xor``, ``gaussian``), one of the course's recipes (``course_flower``...) or a user's
CSV/NPZ file, split as the run splits it (the same seed gives the same points and the same split, so
``evaluate`` and ``diagnose`` find a model's test set)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import datasets
from ..datasets import COURSE_DATASETS, PLANAR_DATASETS, Dataset, Split
from .options import SettingsError

#: fractions of a user's CSV/NPZ file for train / validation / test (stratified, seeded)
USER_SPLIT = (0.8, 0.1, 0.1)
#: validation and test fractions of a generated 2-D set (60/20/20, as the digits): a run gets validation
#: curves, early stopping and a search's default metric
PLANAR_VALIDATION, PLANAR_TEST = 0.2, 0.2
BUILT_IN = ("digits", "mnist", *PLANAR_DATASETS, *COURSE_DATASETS)
#: how an error names the accepted values of --dataset
ACCEPTED = f"{', '.join(BUILT_IN)} or a .csv/.npz file"


@dataclass(frozen=True)
class Data:
    """A loaded data set, plus the class names of a file whose labels are names (else None) and the file's
    path (None for the built-in sets)."""

    dataset: Dataset
    classes: tuple[str, ...] | None = None
    path: Path | None = None


def dataset_path(dataset: str) -> Path | None:
    """None for the built-in data sets, else the file's path."""
    return None if dataset in BUILT_IN else Path(dataset).expanduser()


def load_whole_file(path: Path, label_column: str, dtype: str) -> Split:
    """A user's whole CSV or NPZ file as one split (labels checked to be class indices)."""
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise SettingsError(f"--dataset must be one of {ACCEPTED}; {path} {what}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        whole = datasets.load_csv(path, label_column=label_column, dtype=dtype)
    elif suffix == ".npz":
        whole = datasets.load_npz(path, dtype=dtype)
    else:
        raise SettingsError(f"--dataset file must end in .csv or .npz, got {path.name}")
    if whole.y.size and whole.y.min() < 0:
        raise SettingsError(f"{path}: labels must be class numbers 0, 1, 2, ... or class names; found "
                            f"{whole.y.min()}")
    return whole


def load_data(dataset: str, *, label_column: str = "label", seed: int = 0, dtype: str = "float32",
              samples: int | None = None, noise: float | None = None, classes: int | None = None) -> Data:
    """``digits`` (60/20/20 split by ``seed``), ``mnist`` (Nielsen's 50k/10k/10k), a generated 2-D set of
    ``samples`` points with ``noise`` and ``classes`` (made and split 60/20/20 by ``seed``), a course recipe
    (the course's own points and split) or a CSV/NPZ file split 80/10/10, stratified, by ``seed``.
    ``samples``, ``noise`` and ``classes`` apply to the generated sets only (None: their defaults)."""
    if dataset == "digits":
        return Data(datasets.load_digits(seed=seed, dtype=dtype))
    if dataset == "mnist":
        return Data(datasets.load_mnist(split="book", dtype=dtype))
    if dataset in PLANAR_DATASETS or dataset in COURSE_DATASETS:
        made_here = dataset in PLANAR_DATASETS
        shape = dict(n_samples=samples, noise=noise, seed=seed, n_classes=classes or 2,
                     validation_fraction=PLANAR_VALIDATION, test_fraction=PLANAR_TEST) if made_here else {}
        try:
            return Data(datasets.load_planar(dataset, dtype=dtype, **shape))
        except ImportError as exc:  # circles and moons come from scikit-learn, an optional dependency
            raise SettingsError(f"--dataset {dataset}: {exc}") from None
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
        raise SettingsError(f"{where} has classes the model does not know: {', '.join(unknown[:10])}; "
                            f"the model's classes are {', '.join(model_classes[:20])}")
    lookup = np.array([index[name] for name in file_classes], dtype=np.int64)
    return lookup[y]
