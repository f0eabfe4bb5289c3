"""The two containers every loader returns: a ``Split`` (features and labels) and a ``Dataset`` of splits.

Ng's course ("Improving Deep Neural Networks", week 1, "Train / Dev / Test sets") names the three roles:
train to fit the parameters, dev (validation) to choose hyper-parameters, test for an unbiased final
estimate. Nielsen's ``mnist_loader`` returns the same three for MNIST (50k / 10k / 10k).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


def _describe(a: np.ndarray) -> str:
    return f"{a.dtype}[{', '.join(map(str, a.shape))}]"


@dataclass(frozen=True, eq=False)
class Split:
    """Examples ``X`` (one per row; images may keep their 2-D shape) with their targets ``y``: integer class
    labels (m,) for classification, or a target matrix (m, k) (0/1 indicators of a multilabel task, values
    of a regression).

    ``classes`` holds the original label names when the labels were strings (``y[i]`` indexes it), and is
    ``None`` when the labels are the class numbers themselves. ``feature_names`` and ``target_names`` name
    the columns of ``X`` and of the targets when the data came from a table (a CSV header, a DataFrame);
    ``sample_weight`` holds one non-negative weight per example when the table had a weight column.
    ``X, y = split`` unpacks the arrays.
    """

    X: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...] | None = None
    feature_names: tuple[str, ...] | None = None
    target_names: tuple[str, ...] | None = None
    sample_weight: np.ndarray | None = None

    def __post_init__(self) -> None:
        if np.ndim(self.X) == 0 or np.ndim(self.y) == 0:
            raise ValueError("X and y must hold one example per row (at least 1-D arrays)")
        if len(self.X) != len(self.y):
            raise ValueError(f"X has {len(self.X)} examples but y has {len(self.y)} labels")
        if self.sample_weight is not None and np.shape(self.sample_weight) != (len(self.y),):
            raise ValueError(f"sample_weight must hold one weight per example ({len(self.y)}), got shape "
                             f"{np.shape(self.sample_weight)}")

    def subset(self, index: np.ndarray) -> Split:
        """The examples at ``index`` (an integer array), with the same names and their weights."""
        weights = None if self.sample_weight is None else self.sample_weight[index]
        return Split(self.X[index], self.y[index], self.classes, self.feature_names, self.target_names, weights)

    def __len__(self) -> int:
        return len(self.y)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.X, self.y))

    def __repr__(self) -> str:
        classes = "" if self.classes is None else f", classes={self.classes!r}"
        return f"Split(X={_describe(self.X)}, y={_describe(self.y)}{classes})"


@dataclass(frozen=True, eq=False)
class Dataset:
    """A named data set cut into train, optional validation (dev) and test splits.

    ``image_shape`` is ``(height, width)`` for image data (so that augmenters and plots can un-flatten a
    row), ``None`` otherwise.
    """

    train: Split
    validation: Split | None
    test: Split
    n_classes: int
    name: str
    image_shape: tuple[int, int] | None = None

    @property
    def n_features(self) -> int:
        """Number of inputs per example (pixels for images): the width of the network's input layer."""
        return math.prod(self.train.X.shape[1:])
