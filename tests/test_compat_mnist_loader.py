"""mlpkit.compat.mnist_loader: Nielsen's mnist_loader on the real MNIST files (../shared/data/mnist)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from mlpkit.compat import mnist_loader, network2

MNIST_NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
FIRST_TRAIN_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
FIRST_TEST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


@pytest.fixture(scope="module")
def mnist_dir() -> Path:
    env = os.environ.get("MLPKIT_DATA")
    if not env or not all((Path(env) / name).is_file() for name in MNIST_NAMES):
        pytest.skip("MNIST not available: MLPKIT_DATA is not set or lacks the four .gz files")
    return Path(env)


@pytest.fixture(scope="module")
def raw(mnist_dir):
    return mnist_loader.load_data()


@pytest.fixture(scope="module")
def wrapped(mnist_dir):
    return mnist_loader.load_data_wrapper()


def test_load_data_is_the_books_50k_10k_10k_split(raw, mnist_dir):
    training_data, validation_data, test_data = raw
    for (images, labels), n in zip(raw, (50_000, 10_000, 10_000), strict=True):
        assert isinstance(images, np.ndarray) and images.shape == (n, 784) and images.dtype == np.float32
        assert isinstance(labels, np.ndarray) and labels.shape == (n,) and labels.dtype == np.int64
        assert images.min() == 0.0 and images.max() == 1.0
        assert set(np.unique(labels)) == set(range(10))
    assert training_data[1][:10].tolist() == FIRST_TRAIN_LABELS
    assert test_data[1][:10].tolist() == FIRST_TEST_LABELS
    # the validation images are the last 10,000 official training images
    again = mnist_loader.load_data(data_dir=mnist_dir)
    np.testing.assert_array_equal(again[1][0], validation_data[0])
    np.testing.assert_array_equal(again[1][1], validation_data[1])


def test_load_data_wrapper_formats(wrapped, raw):
    training_data, validation_data, test_data = wrapped
    assert all(isinstance(d, list) for d in wrapped)
    assert (len(training_data), len(validation_data), len(test_data)) == (50_000, 10_000, 10_000)
    x, y = training_data[0]
    assert x.shape == (784, 1) and x.dtype == np.float32
    assert y.shape == (10, 1) and y.dtype == np.float64 and y.sum() == 1.0 and y[5, 0] == 1.0
    np.testing.assert_array_equal(y, network2.vectorized_result(5))
    for data, (images, labels) in zip((validation_data, test_data), raw[1:], strict=True):
        x, label = data[0]
        assert x.shape == (784, 1) and type(label) is int and label == labels[0]
        np.testing.assert_array_equal(x[:, 0], images[0])
    assert test_data[0][1] == 7
    targets = np.array([y[:, 0] for _, y in training_data[:1000]])
    np.testing.assert_array_equal(targets.argmax(axis=1), raw[0][1][:1000])
    np.testing.assert_array_equal(training_data[-1][0][:, 0], raw[0][0][-1])


def test_wrapper_pairs_are_views_not_copies(wrapped):
    training_data, validation_data, _ = wrapped
    first, last = training_data[0][0], training_data[-1][0]
    assert first.base is not None and first.base is last.base  # rows of one big array
    assert training_data[0][1].base is training_data[1][1].base
    assert np.shares_memory(validation_data[0][0], validation_data[0][0].base)


def test_lists_can_be_iterated_twice_unlike_the_python3_ports_zip(wrapped):
    _, validation_data, _ = wrapped
    first = sum(label for _, label in validation_data)
    assert first == sum(label for _, label in validation_data) > 0
