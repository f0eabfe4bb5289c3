"""Weight initialization schemes for a Dense layer with ``n_in`` inputs and ``n_out`` outputs.

Weights are stored as an (n_in, n_out) matrix (a batch is rows: z = x W + b).

- ``large``: W ~ N(0, 1), b ~ N(0, 1). Nielsen ch.1; network2's large_weight_initializer.
- ``default``: W ~ N(0, 1/n_in), b ~ N(0, 1). Nielsen ch.3 (sd 1/sqrt(n_in)); network2's
  default_weight_initializer.
- ``xavier`` (``glorot``): W ~ N(0, 2/(n_in + n_out)), b = 0. Glorot & Bengio 2010, normal form.
- ``xavier_uniform``: W ~ U(-r, r), r = sqrt(6/(n_in + n_out)), b = 0. Glorot & Bengio 2010, eq. (16).
- ``lecun``: W ~ N(0, 1/n_in), b = 0. Ng week 1, "Xavier" initialization for tanh: sqrt(1/n^[l-1]).
- ``he``: W ~ N(0, 2/n_in), b = 0. He et al. 2015; Ng week 1 for ReLU.
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


INITIALIZERS: dict[str, Initializer] = {
    "large": large,
    "default": default,
    "xavier": xavier,
    "glorot": xavier,
    "xavier_uniform": xavier_uniform,
    "glorot_uniform": xavier_uniform,
    "lecun": lecun,
    "he": he,
}


def get_initializer(name: str) -> Initializer:
    """Look an initializer up by name; unknown names give a ValueError listing the choices."""
    key = str(name).lower().replace("-", "_")
    if key not in INITIALIZERS:
        raise ValueError(f"unknown initializer {name!r}; expected one of {', '.join(INITIALIZERS)}")
    return INITIALIZERS[key]
