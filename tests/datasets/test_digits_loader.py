"""The embedded 8x8 digits: shapes, ranges, seeded stratified split, and agreement with scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

from mlpkit.datasets import load_digits

COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]  # per class, all 1,797 examples


def _all_rows(data):
    parts = [data.train, data.test] + ([data.validation] if data.validation is not None else [])
    return np.concatenate([p.X for p in parts]), np.concatenate([p.y for p in parts])


def test_default_split_shapes_and_ranges():
    data = load_digits()
    assert data.name == "digits" and data.n_classes == 10 and data.image_shape == (8, 8)
    assert data.n_features == 64
    assert (len(data.train), len(data.validation), len(data.test)) == (1079, 359, 359)
    for split in (data.train, data.validation, data.test):
        assert split.X.dtype == np.float32 and split.y.dtype == np.int64
        assert split.X.shape[1] == 64
        assert split.X.min() >= 0 and split.X.max() <= 1
    X, y = _all_rows(data)
    assert X.max() == 1.0
    assert np.bincount(y).tolist() == COUNTS and sum(COUNTS) == 1797
    assert np.array_equal(np.unique(X * 16), np.arange(17))  # integer intensities 0..16, divided by 16


def test_split_is_stratified():
    data = load_digits()
    for split in (data.train, data.validation, data.test):
        expected = np.array(COUNTS) * len(split) / 1797
        assert np.all(np.abs(np.bincount(split.y, minlength=10) - expected) <= 1.5)


def test_seeded_and_covers_every_example_once():
    a, b, c = load_digits(seed=3), load_digits(seed=3), load_digits(seed=4)
    np.testing.assert_array_equal(a.train.X, b.train.X)
    np.testing.assert_array_equal(a.test.y, b.test.y)
    assert not np.array_equal(a.train.y, c.train.y)
    X, y = _all_rows(a)
    X_c, y_c = _all_rows(c)
    order, order_c = np.lexsort(np.column_stack([X, y]).T), np.lexsort(np.column_stack([X_c, y_c]).T)
    np.testing.assert_array_equal(X[order], X_c[order_c])


def test_matches_scikit_learn():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    reference = sklearn_datasets.load_digits()
    X, y = _all_rows(load_digits(stratify=False))
    key = np.column_stack([X * 16, y])
    ref = np.column_stack([reference.data, reference.target])
    np.testing.assert_array_equal(key[np.lexsort(key.T)], ref[np.lexsort(ref.T)])


def test_sizes_as_counts_and_no_validation():
    data = load_digits(validation_size=0, test_size=297)
    assert data.validation is None
    assert (len(data.train), len(data.test)) == (1500, 297)
    data = load_digits(validation_size=100, test_size=0.5)
    assert (len(data.train), len(data.validation), len(data.test)) == (799, 100, 898)


def test_images_and_float64():
    data = load_digits(flatten=False, dtype="float64")
    assert data.train.X.shape == (1079, 8, 8) and data.train.X.dtype == np.float64
    assert data.n_features == 64


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"test_size": 0}, ValueError, "test split empty"),
        ({"validation_size": 0.5, "test_size": 0.6}, ValueError, "no training examples"),
        ({"validation_size": 1.5}, ValueError, r"\[0, 1\)"),
        ({"test_size": -3}, ValueError, "negative"),
        ({"test_size": "0.2"}, TypeError, "test_size"),
        ({"validation_size": True}, TypeError, "validation_size"),
        ({"dtype": "int32"}, TypeError, "dtype"),
        ({"flatten": "no"}, TypeError, "flatten"),
        ({"seed": "x"}, TypeError, "seed"),
        ({"stratify": 1}, TypeError, "stratify"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_digits(**kwargs)
