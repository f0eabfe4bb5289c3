"""Nielsen's ``mnist_loader.py`` (*Neural Networks and Deep Learning*, ch.1 and ch.3) on top of
:func:`mlpkit.datasets.load_mnist`.

The data are the book's split of MNIST (the ``mnist.pkl.gz`` of the book's repository): the first 50,000
official training images for training, the last 10,000 for validation, the 10,000 official test images for
testing; pixels are float32 in [0, 1]. They are read from the four original MNIST files (``$MLPKIT_DATA``,
or downloaded once into ``~/.cache/mlpkit/mnist``; see :func:`mlpkit.datasets.load_mnist`), not from a
pickle.

``load_data_wrapper`` returns *lists*. The book's Python 2 code returned lists; the Python 3 ports return
``zip`` iterators, which can be used only once. A list does everything a ``zip`` does (and can be reused),
so code written for either version runs. The ``(784, 1)`` inputs and the one-hot ``(10, 1)`` targets are
views into a few large arrays rather than 70,000 separate copies.
"""

from __future__ import annotations

import os

import numpy as np

from ..datasets import load_mnist
from .network2 import vectorized_result

__all__ = ["load_data", "load_data_wrapper", "vectorized_result"]

Split = tuple[np.ndarray, np.ndarray]


def load_data(*, data_dir: str | os.PathLike[str] | None = None) -> tuple[Split, Split, Split]:
    """``(training_data, validation_data, test_data)``, each a tuple ``(images, labels)`` (mnist_loader.load_data).

    ``images`` is a float32 array of shape (n, 784), one image per row, pixels in [0, 1]; ``labels`` an int64
    array (n,) of digits. n is 50,000 for the training data and 10,000 for the validation and test data.

    ``data_dir`` (mlpkit addition, keyword only) is where the four MNIST files are; by default
    ``$MLPKIT_DATA`` or the per-user cache (downloaded once when missing).
    """
    data = load_mnist(data_dir, split="book")
    return ((data.train.X, data.train.y), (data.validation.X, data.validation.y), (data.test.X, data.test.y))


def load_data_wrapper(*, data_dir: str | os.PathLike[str] | None = None
                      ) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[tuple[np.ndarray, int]],
                                 list[tuple[np.ndarray, int]]]:
    """``(training_data, validation_data, test_data)`` in the format network2 uses (mnist_loader.load_data_wrapper).

    ``training_data`` is a list of 50,000 pairs ``(x, y)``: x a (784, 1) float32 column of pixels, y the
    (10, 1) float64 one-hot column of the digit (``vectorized_result``). ``validation_data`` and
    ``test_data`` are lists of 10,000 pairs ``(x, digit)`` with the digit an ``int``.
    """
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = load_data(data_dir=data_dir)
    targets = np.zeros((len(y_train), 10, 1), dtype=np.float64)
    targets[np.arange(len(y_train)), y_train, 0] = 1.0
    training_data = list(zip(_columns(X_train), targets, strict=True))
    validation_data = list(zip(_columns(X_val), y_val.tolist(), strict=True))
    test_data = list(zip(_columns(X_test), y_test.tolist(), strict=True))
    return training_data, validation_data, test_data


def _columns(images: np.ndarray) -> list[np.ndarray]:
    """Each row of ``images`` as a (784, 1) column: views, no copies."""
    return list(images.reshape(len(images), -1, 1))
