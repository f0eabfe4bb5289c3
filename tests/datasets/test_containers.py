"""Split and Dataset: the containers every loader returns."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mlpkit.datasets import Dataset, Split


def test_split_unpacks_measures_and_prints_compactly():
    split = Split(np.zeros((4, 3), np.float32), np.arange(4), classes=("a", "b", "c", "d"))
    X, y = split
    assert X is split.X and y is split.y and len(split) == 4
    assert repr(split) == "Split(X=float32[4, 3], y=int64[4], classes=('a', 'b', 'c', 'd'))"


def test_split_is_frozen_and_checks_lengths():
    split = Split(np.zeros((2, 2)), np.zeros(2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        split.X = np.ones((2, 2))
    with pytest.raises(ValueError, match="X has 3 examples but y has 2 labels"):
        Split(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="at least 1-D"):
        Split(np.float64(1.0), np.zeros(1))


def test_dataset_features_from_images_or_rows():
    images = Split(np.zeros((5, 8, 8)), np.zeros(5))
    data = Dataset(train=images, validation=None, test=images, n_classes=10, name="d", image_shape=(8, 8))
    assert data.n_features == 64
    rows = Split(np.zeros((5, 7)), np.zeros(5))
    assert Dataset(train=rows, validation=rows, test=rows, n_classes=2, name="r").n_features == 7
