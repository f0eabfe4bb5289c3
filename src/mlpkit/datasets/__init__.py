"""Data for mlpkit: MNIST and the embedded 8x8 digits, generated 2-D (planar) sets, user CSV/NPZ files and DataFrames,
splitting, batching, augmentation.

>>> from mlpkit.datasets import load_digits
>>> data = load_digits()
>>> data.train.X.shape, data.n_classes
((1079, 64), 10)
"""

from .augment import (
    Augmenter,
    Compose,
    ElasticDistortion,
    RandomAffine,
    RandomRotation,
    RandomShift,
    expand_with_shifts,
    shift_images,
)
from .containers import Dataset, Split
from .digits import load_digits
from .errors import ChecksumError, DataFormatError, DataNotFoundError
from .idx import IDXFormatError, read_idx, write_idx
from .mnist import load_mnist
from .planar import COURSE_DATASETS, PLANAR_DATASETS, load_planar, make_planar
from .splits import iterate_minibatches, one_hot, split_dataset
from .user import TARGET_TASKS, load_csv, load_dataframe, load_npz

__all__ = [
    "COURSE_DATASETS",
    "PLANAR_DATASETS",
    "TARGET_TASKS",
    "Augmenter",
    "ChecksumError",
    "Compose",
    "DataFormatError",
    "DataNotFoundError",
    "Dataset",
    "ElasticDistortion",
    "IDXFormatError",
    "RandomAffine",
    "RandomRotation",
    "RandomShift",
    "Split",
    "expand_with_shifts",
    "iterate_minibatches",
    "load_csv",
    "load_dataframe",
    "load_digits",
    "load_mnist",
    "load_npz",
    "load_planar",
    "make_planar",
    "one_hot",
    "read_idx",
    "shift_images",
    "split_dataset",
    "write_idx",
]
