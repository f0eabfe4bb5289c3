"""Train / dev / test splitting, one-hot encoding and mini-batch iteration.

Splitting follows Ng ("Improving Deep Neural Networks", week 1, "Train / Dev / Test sets"): shuffle once,
then cut into parts of the requested sizes; with ``stratify`` every part keeps the class proportions of the
whole. Mini-batches follow Nielsen (ch. 1, ``SGD``) and Ng (week 2, "Mini-batch gradient descent"): one
random permutation per epoch, then consecutive slices, the last one possibly smaller.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Sequence

import numpy as np

from ..validation import check_positive_int, check_seed, one_hot
from .containers import Split

__all__ = ["iterate_minibatches", "one_hot", "split_dataset"]

_DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)


def _as_rng(seed: object, name: str) -> np.random.Generator:
    return np.random.default_rng(check_seed(seed, name))


def _check_xy(X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0:
        raise ValueError("X must have one example per row (at least 1-D), got a scalar")
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one label per example), got shape {y.shape}")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} examples but y has {len(y)} labels")
    return X, y


def _sizes_from_fractions(fractions: object, n: int) -> list[int]:
    """Part sizes summing to ``n``: floors of ``f * n``, with the leftover examples going to the parts with
    the largest remainders (Hamilton's largest-remainder rounding)."""
    if not isinstance(fractions, Sequence) or len(fractions) < 2:
        raise TypeError(f"fractions must be a sequence of at least 2 numbers, got {fractions!r}")
    values = []
    for f in fractions:
        if isinstance(f, bool) or not isinstance(f, numbers.Real):
            raise TypeError(f"each fraction must be a number, got {f!r} in {fractions!r}")
        if not 0 < f < 1:
            raise ValueError(f"each fraction must lie in (0, 1), got {f!r} in {fractions!r}")
        values.append(float(f))
    if not math.isclose(sum(values), 1.0, abs_tol=1e-6):
        raise ValueError(f"fractions must add up to 1, got {fractions!r} (sum {sum(values):g})")
    exact = [f * n for f in values]
    sizes = [math.floor(e) for e in exact]
    by_remainder = sorted(range(len(sizes)), key=lambda i: exact[i] - sizes[i], reverse=True)
    for i in by_remainder[: n - sum(sizes)]:
        sizes[i] += 1
    return sizes


def _check_sizes(sizes: object, n: int) -> list[int]:
    if not isinstance(sizes, Sequence) or len(sizes) < 2:
        raise TypeError(f"sizes must be a sequence of at least 2 integers, got {sizes!r}")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"each size must be an integer, got {s!r} in {sizes!r}")
    if sum(sizes) != n:
        raise ValueError(f"sizes {tuple(sizes)} add up to {sum(sizes)}, but there are {n} examples")
    return [int(s) for s in sizes]


def _stratified_order(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random ordering of 0..n-1 in which every prefix holds each class in (nearly) its overall proportion.

    Randomised systematic sampling: the members of a class with n_c examples, in random order, get keys
    (r + u_c) / n_c for ranks r = 0..n_c-1 and one random offset u_c in [0, 1); sorting all examples by key
    spreads each class evenly along the ordering, so a cut after any prefix takes within about one example
    of n_c * (prefix / n) from each class, and a rare class lands in each part with the right probability.
    """
    _, classes = np.unique(y, return_inverse=True)
    perm = rng.permutation(len(y))
    cls = classes[perm]
    counts = np.bincount(cls)
    starts = np.cumsum(counts) - counts
    rank = np.empty(len(y))
    rank[np.argsort(cls, kind="stable")] = np.arange(len(y)) - np.repeat(starts, counts)
    keys = (rank + rng.random(len(counts))[cls]) / counts[cls]
    return perm[np.argsort(keys, kind="stable")]


def split_dataset(
    X: np.ndarray,
    y: np.ndarray,
    *,
    fractions: Sequence[float] | None = None,
    sizes: Sequence[int] | None = None,
    seed: int | np.random.Generator | None = 0,
    stratify: bool = False,
) -> tuple[Split, ...]:
    """Shuffle (seeded) and cut ``(X, y)`` into disjoint parts that together hold every example once.

    Give either ``fractions`` (positive, adding up to 1; default ``(0.8, 0.1, 0.1)`` for train / dev /
    test) or ``sizes`` (integers adding up to ``len(X)``), not both. With ``stratify=True`` each part keeps
    the class proportions of ``y`` to within about one example per class. ``X`` may have any trailing
    shape (images stay images). Returns one :class:`Split` per part, in the order given; the arrays are
    copies.
    """
    X, y = _check_xy(X, y)
    rng = _as_rng(seed, "seed")
    if not isinstance(stratify, bool):
        raise TypeError(f"stratify must be True or False, got {stratify!r}")
    n = len(y)
    if sizes is not None:
        if fractions is not None:
            raise TypeError("give either fractions or sizes, not both")
        part_sizes = _check_sizes(sizes, n)
    else:
        part_sizes = _sizes_from_fractions(_DEFAULT_FRACTIONS if fractions is None else fractions, n)
    if empty := [i for i, s in enumerate(part_sizes) if s <= 0]:
        raise ValueError(
            f"part(s) {empty} would be empty: sizes {part_sizes} for {n} examples; use larger fractions or more data"
        )
    order = _stratified_order(y, rng) if stratify else rng.permutation(n)
    bounds = np.cumsum(part_sizes)[:-1]
    # Stratified orderings interleave classes in a regular pattern; shuffle inside each part so no order
    # survives the split.
    parts = [rng.permutation(idx) for idx in np.split(order, bounds)]
    return tuple(Split(X[idx], y[idx]) for idx in parts)


def iterate_minibatches(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    *,
    shuffle: bool = True,
    rng: int | np.random.Generator | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(X_batch, y_batch)`` pairs that cover every example exactly once.

    With ``shuffle`` the data are permuted once (one ``rng.permutation`` per call, i.e. per epoch) into a
    copy, and the batches are views of consecutive slices of that copy; without it, views of ``X`` and
    ``y`` in order. The last batch holds the ``len(X) % batch_size`` leftover examples, if any. ``y`` may
    be class labels (m,) or targets (m, k). Arguments are checked at the call, not at the first batch.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError("X and y must hold one example per row (at least 1-D)")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} examples but y has {len(y)}")
    batch_size = check_positive_int(batch_size, "batch_size")
    if not isinstance(shuffle, bool):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
    if shuffle:
        perm = _as_rng(rng, "rng").permutation(len(X))
        X, y = X[perm], y[perm]
    return ((X[i : i + batch_size], y[i : i + batch_size]) for i in range(0, len(X), batch_size))
