"""Fixtures for the data tests: where the real MNIST files are, if anywhere."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

MNIST_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The directory named by MLPKIT_DATA (set by tests/conftest.py) when it holds the four .gz files."""
    env = os.environ.get("MLPKIT_DATA")
    if not env:
        pytest.skip("MNIST not available: MLPKIT_DATA is not set and ../shared/data/mnist does not exist")
    path = Path(env)
    missing = [name for name in MNIST_NAMES if not (path / name).is_file()]
    if missing:
        pytest.skip(f"MNIST not available: {path} lacks {', '.join(missing)}")
    return path
