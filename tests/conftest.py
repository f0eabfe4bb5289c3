"""Shared test setup.

MNIST is never stored in the repository: the tests read the copy in ``shared/data/mnist`` beside the
repository root (as laid out for CI), by pointing ``MLPKIT_DATA`` at it unless it is already set.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


@pytest.fixture(autouse=True, scope="session")
def _mlpkit_data_env():
    if "MLPKIT_DATA" in os.environ or not SHARED_MNIST.is_dir():
        yield
        return
    os.environ["MLPKIT_DATA"] = str(SHARED_MNIST)
    yield
    os.environ.pop("MLPKIT_DATA", None)
