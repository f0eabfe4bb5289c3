"""The reference every mlpkit speed claim is measured against: the shortest reasonable vectorized NumPy
training loop (per mini-batch: forward, softmax, backward, update; nothing else).

It is what a learner writes after Ng's week-1 notebooks or Nielsen's "fully matrix-based" exercise:
rows are examples, weights are (n_in, n_out), one matmul per layer and direction, no buffers reused,
no thread tuning. It trains only sigmoid or ReLU hidden layers with a softmax output and cross-entropy,
with plain SGD or Adam (Kingma & Ba, Algorithm 1).
"""

from __future__ import annotations

import itertools

import numpy as np


def train_epoch(X: np.ndarray, y: np.ndarray, sizes: list[int], batch: int, *, activation: str = "sigmoid",
                optimizer: str = "sgd", lr: float = 0.5, seed: int = 0) -> list[np.ndarray]:
    """One epoch of mini-batch training from a fresh N(0, 1/n_in) initialization; returns the weights."""
    rng = np.random.default_rng(seed)
    dtype = X.dtype
    params = []
    for n_in, n_out in itertools.pairwise(sizes):
        params += [(rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(dtype), np.zeros(n_out, dtype)]
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    Y = np.eye(sizes[-1], dtype=dtype)[y]
    order = rng.permutation(X.shape[0])
    X, Y = X[order], Y[order]
    step = 0
    for lo in range(0, X.shape[0], batch):
        xb, yb = X[lo:lo + batch], Y[lo:lo + batch]
        acts = [xb]
        for i in range(0, len(params) - 2, 2):
            z = acts[-1] @ params[i] + params[i + 1]
            acts.append(1.0 / (1.0 + np.exp(-z)) if activation == "sigmoid" else np.maximum(z, 0))
        z = acts[-1] @ params[-2] + params[-1]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        delta = (e / e.sum(axis=1, keepdims=True) - yb) / xb.shape[0]
        grads = [None] * len(params)
        for i in range(len(params) - 2, -1, -2):
            grads[i], grads[i + 1] = acts[i // 2].T @ delta, delta.sum(axis=0)
            if i:
                a = acts[i // 2]
                delta = (delta @ params[i].T) * (a * (1 - a) if activation == "sigmoid" else (a > 0))
        step += 1
        for p, g, v, s in zip(params, grads, m1, m2, strict=True):
            if optimizer == "sgd":
                p -= lr * g
            else:
                v[...] = 0.9 * v + 0.1 * g
                s[...] = 0.999 * s + 0.001 * g * g
                p -= lr * (v / (1 - 0.9 ** step)) / (np.sqrt(s / (1 - 0.999 ** step)) + 1e-8)
    return params
