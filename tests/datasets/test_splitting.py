"""split_dataset, iterate_minibatches and the one_hot re-export."""

from __future__ import annotations

import numpy as np
import pytest

import mlpkit.validation
from mlpkit.datasets import iterate_minibatches, one_hot, split_dataset


def _ids(n):
    """X whose single feature is the example's index, so parts can be traced back."""
    return np.arange(n).reshape(n, 1), np.arange(n) % 3


def _check_partition(parts, n):
    ids = np.concatenate([p.X[:, 0] for p in parts])
    assert len(ids) == n and np.array_equal(np.sort(ids), np.arange(n))  # disjoint and complete
    for p in parts:
        np.testing.assert_array_equal(p.y, p.X[:, 0] % 3)  # labels travel with their examples


def test_default_fractions_cover_everything_once():
    X, y = _ids(1000)
    parts = split_dataset(X, y)
    assert [len(p) for p in parts] == [800, 100, 100]
    _check_partition(parts, 1000)


@pytest.mark.parametrize("stratify", [False, True])
def test_seeded(stratify):
    X, y = _ids(500)
    a = split_dataset(X, y, seed=1, stratify=stratify)
    b = split_dataset(X, y, seed=1, stratify=stratify)
    c = split_dataset(X, y, seed=2, stratify=stratify)
    d = split_dataset(X, y, seed=np.random.default_rng(1), stratify=stratify)
    for pa, pb in zip(a, b, strict=True):
        np.testing.assert_array_equal(pa.X, pb.X)
    assert not np.array_equal(a[0].X, c[0].X)
    assert [len(p) for p in d] == [len(p) for p in a]


def test_sizes_and_rounding():
    X, y = _ids(10)
    parts = split_dataset(X, y, fractions=(1 / 3, 1 / 3, 1 / 3))
    assert sorted(len(p) for p in parts) == [3, 3, 4]
    _check_partition(parts, 10)
    parts = split_dataset(X, y, sizes=[7, 3])
    assert [len(p) for p in parts] == [7, 3]
    _check_partition(parts, 10)


def test_images_keep_their_shape_and_arrays_are_copies():
    X = np.zeros((20, 4, 4))
    train, test = split_dataset(X, np.zeros(20), fractions=(0.75, 0.25))
    assert train.X.shape == (15, 4, 4) and test.X.shape == (5, 4, 4)
    assert not np.shares_memory(train.X, X)


def test_stratified_split_keeps_class_proportions():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2, 3], [700, 200, 90, 10])
    rng.shuffle(y)
    X = np.arange(1000).reshape(-1, 1)
    for seed in range(20):
        parts = split_dataset(X, y, fractions=(0.6, 0.2, 0.2), seed=seed, stratify=True)
        assert [len(p) for p in parts] == [600, 200, 200]
        ids = np.concatenate([p.X[:, 0] for p in parts])
        assert np.array_equal(np.sort(ids), np.arange(1000))
        for part, fraction in zip(parts, (0.6, 0.2, 0.2), strict=True):
            counts = np.bincount(part.y, minlength=4)
            assert np.all(np.abs(counts - fraction * np.array([700, 200, 90, 10])) <= 1.5), counts
            np.testing.assert_array_equal(part.y, y[part.X[:, 0]])


def test_stratified_beats_plain_on_a_small_imbalanced_set():
    y = np.repeat([0, 1], [90, 10])
    X = np.arange(100).reshape(-1, 1)
    worst = 0
    for seed in range(50):
        _, test = split_dataset(X, y, fractions=(0.8, 0.2), seed=seed, stratify=True)
        worst = max(worst, abs(int(test.y.sum()) - 2))
    assert worst <= 1


def test_stratify_accepts_string_labels():
    y = np.array(["cat", "dog"] * 50)
    a, _ = split_dataset(np.zeros((100, 2)), y, fractions=(0.5, 0.5), stratify=True)
    assert sorted(set(a.y)) == ["cat", "dog"] and (a.y == "cat").sum() == 25


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"fractions": (0.8, 0.1)}, ValueError, "add up to 1"),
        ({"fractions": (1.0,)}, TypeError, "at least 2"),
        ({"fractions": (0.5, 0, 0.5)}, ValueError, r"lie in \(0, 1\)"),
        ({"fractions": (0.5, "0.5")}, TypeError, "must be a number"),
        ({"fractions": 0.8}, TypeError, "sequence"),
        ({"sizes": (5, 4)}, ValueError, "add up to 9, but there are 10"),
        ({"sizes": (5, 5.0)}, TypeError, "integer"),
        ({"sizes": (10, 0)}, ValueError, r"part\(s\) \[1\] would be empty"),
        ({"sizes": (5, 5), "fractions": (0.5, 0.5)}, TypeError, "not both"),
        ({"fractions": (0.98, 0.01, 0.01)}, ValueError, "would be empty"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"seed": -1}, ValueError, "seed must be a non-negative integer"),
        ({"stratify": "yes"}, TypeError, "stratify"),
    ],
)
def test_split_argument_errors(kwargs, error, match):
    X, y = _ids(10)
    with pytest.raises(error, match=match):
        split_dataset(X, y, **kwargs)


def test_split_shape_errors():
    with pytest.raises(ValueError, match="10 examples but y has 9"):
        split_dataset(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(ValueError, match="y must be 1-D"):
        split_dataset(np.zeros((10, 2)), np.zeros((10, 2)))
    with pytest.raises(ValueError, match="scalar"):
        split_dataset(np.float64(1.0), np.zeros(1))


# ---- mini-batches ----


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize(("n", "batch"), [(100, 10), (103, 10), (5, 10), (7, 1)])
def test_minibatches_cover_every_example_once(shuffle, n, batch):
    X, y = np.arange(n * 2).reshape(n, 2), np.arange(n)
    batches = list(iterate_minibatches(X, y, batch, shuffle=shuffle, rng=0))
    sizes = [len(b[1]) for b in batches]
    assert sizes == [batch] * (n // batch) + ([n % batch] if n % batch else [])
    seen = np.concatenate([b[1] for b in batches])
    assert np.array_equal(np.sort(seen), np.arange(n))
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, 0], 2 * yb)  # rows and labels stay paired
    if not shuffle:
        assert np.array_equal(seen, np.arange(n))
        assert np.shares_memory(batches[0][0], X)  # views, no copy


def test_minibatches_are_seeded_views_of_one_shuffled_copy():
    X, y = np.arange(40).reshape(20, 2), np.eye(4)[np.arange(20) % 4]  # y may be one-hot rows
    a = [yb for _, yb in iterate_minibatches(X, y, 6, rng=np.random.default_rng(5))]
    b = [yb for _, yb in iterate_minibatches(X, y, 6, rng=np.random.default_rng(5))]
    for ya, yb in zip(a, b, strict=True):
        np.testing.assert_array_equal(ya, yb)
    batches = list(iterate_minibatches(X, y, 6, rng=1))
    assert not np.shares_memory(batches[0][0], X)
    assert batches[0][0].base is batches[1][0].base  # consecutive slices of the same shuffled copy


def test_minibatch_errors_are_raised_at_the_call():
    X, y = np.zeros((10, 2)), np.zeros(10)
    with pytest.raises(ValueError, match="batch_size"):
        iterate_minibatches(X, y, 0)
    with pytest.raises(TypeError, match="batch_size"):
        iterate_minibatches(X, y, 2.5)
    with pytest.raises(ValueError, match="10 examples but y has 9"):
        iterate_minibatches(X, y[:9], 2)
    with pytest.raises(TypeError, match="shuffle"):
        iterate_minibatches(X, y, 2, shuffle=None)
    with pytest.raises(TypeError, match="rng"):
        iterate_minibatches(X, y, 2, rng="seed")


def test_one_hot_is_the_validation_function():
    assert one_hot is mlpkit.validation.one_hot
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
