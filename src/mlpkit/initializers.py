"""Weight initialization schemes for a Dense layer with ``n_in`` inputs and ``n_out`` outputs.

Weights are stored as an (n_in, n_out) matrix (a batch is rows: z = x W + b).

- ``large``: W ~ N(0, 1), b ~ N(0, 1). Nielsen ch.1; network2's large_weight_initializer.
- ``default``: W ~ N(0, 1/n_in), b ~ N(0, 1). Nielsen ch.3 (sd 1/sqrt(n_in)); network2's
  default_weight_initializer.
- ``xavier`` (``glorot``): W ~ N(0, 2/(n_in + n_out)), b = 0. Glorot & Bengio 2010, normal form.
- ``xavier_uniform``: W ~ U(-r, r), r = sqrt(6/(n_in + n_out)), b = 0. Glorot & Bengio 2010, eq. (16).
- ``lecun``: W ~ N(0, 1/n_in), b = 0. Ng week 1, "Xavier" initialization for tanh: sqrt(1/n^[l-1]).
- ``he``: W ~ N(0, 2/n_in), b = 0. He et al. 2015; Ng week 1 for ReLU.
- ``small``: W ~ N(0, 1)·0.01, b = 0. Ng course 1 week 3 (the planar-data network): small enough that tanh
  and sigmoid units start in their linear range, random enough to break the symmetry.
- ``zeros``: W = 0, b = 0. Ng course 2 week 1 (initialization assignment): every unit of a layer computes
  the same function and receives the same gradient, so the symmetry is never broken and a hidden layer
  acts like a single unit. Offered to show exactly that; it trains, badly.
- ``scaled_normal``: W ~ N(0, 1)·10, b = 0. Ng course 2 week 1 (initialization assignment, "random
  initialization" with large weights): saturated sigmoids, a large initial cost and slow progress.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Initializer = Callable[[int, int, np.random.Generator], tuple[np.ndarray, np.ndarray]]


def large(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """W ~ N(0, 1), b ~ N(0, 1) (network2's large_weight_initializer)."""
    return rng.standard_normal((n_in, n_out)), rng.standard_normal(n_out)


def default(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """W ~ N(0, 1/n_in), b ~ N(0, 1) (network2's default_weight_initializer, Nielsen ch.3)."""
    return rng.standard_normal((n_in, n_out)) / np.sqrt(n_in), rng.standard_normal(n_out)


def xavier(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Glorot normal: W ~ N(0, 2/(n_in + n_out)), b = 0."""
    return rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / (n_in + n_out)), np.zeros(n_out)


def xavier_uniform(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Glorot uniform: W ~ U(-r, r) with r = sqrt(6/(n_in + n_out)), b = 0."""
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_in, n_out)), np.zeros(n_out)


def lecun(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """W ~ N(0, 1/n_in), b = 0 (Ng's recommendation for tanh layers)."""
    return rng.standard_normal((n_in, n_out)) / np.sqrt(n_in), np.zeros(n_out)


def he(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """He normal: W ~ N(0, 2/n_in), b = 0 (for ReLU layers)."""
    return rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in), np.zeros(n_out)


def small(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """W ~ N(0, 1)·0.01, b = 0 (Ng course 1 week 3's initialization of the planar-data network)."""
    return rng.standard_normal((n_in, n_out)) * 0.01, np.zeros(n_out)


def zeros(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """W = 0, b = 0 (Ng course 2 week 1): no randomness, so every unit of a layer stays identical."""
    return np.zeros((n_in, n_out)), np.zeros(n_out)


def scaled_normal(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """W ~ N(0, 1)·10, b = 0 (Ng course 2 week 1's large random initialization)."""
    return rng.standard_normal((n_in, n_out)) * 10.0, np.zeros(n_out)


INITIALIZERS: dict[str, Initializer] = {
    "large": large,
    "default": default,
    "xavier": xavier,
    "glorot": xavier,
    "xavier_uniform": xavier_uniform,
    "glorot_uniform": xavier_uniform,
    "lecun": lecun,
    "he": he,
    "small": small,
    "zeros": zeros,
    "scaled_normal": scaled_normal,
}


def get_initializer(name: str) -> Initializer:
    """Look an initializer up by name; unknown names give a ValueError listing the choices."""
    key = str(name).lower().replace("-", "_")
    if key not in INITIALIZERS:
        raise ValueError(f"unknown initializer {name!r}; expected one of {', '.join(INITIALIZERS)}")
    return INITIALIZERS[key]
