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
    """Examples ``X`` (one per row; images may keep their 2-D shape) with integer class labels ``y``.

    ``classes`` holds the original label names when the labels were strings (``y[i]`` indexes it), and is
    ``None`` when the labels are the class numbers themselves. ``X, y = split`` unpacks the arrays.
    """

    X: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if np.ndim(self.X) == 0 or np.ndim(self.y) == 0:
            raise ValueError("X and y must hold one example per row (at least 1-D arrays)")
        if len(self.X) != len(self.y):
            raise ValueError(f"X has {len(self.X)} examples but y has {len(self.y)} labels")

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
