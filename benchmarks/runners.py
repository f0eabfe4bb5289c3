"""The four trainers the speed suite compares, each timed over one pass of mini-batch training.

Every runner gets the same configuration and the same arrays and returns wall-clock seconds for building
a fresh model and training it for one epoch (shuffling included): mlpkit, the minimal NumPy loop of
``minimal_numpy.py``, a plain PyTorch CPU loop, and scikit-learn's ``MLPClassifier`` with ``max_iter=1``.
All use the same hidden activation, a softmax output with cross-entropy, plain SGD (no momentum) or Adam,
no regularization, and the data type of the input arrays.
"""

from __future__ import annotations

import itertools
import time
import warnings
from dataclasses import dataclass

import numpy as np

import minimal_numpy
import mlpkit

LEARNING_RATES = {"sgd": 0.1, "adam": 0.001}


@dataclass(frozen=True)
class Config:
    """One benchmark cell: network sizes, mini-batch size, data type, hidden activation, optimizer."""

    sizes: tuple[int, ...]
    batch: int
    dtype: str = "float32"
    activation: str = "sigmoid"
    optimizer: str = "sgd"

    @property
    def n_weights(self) -> int:
        return sum(a * b for a, b in itertools.pairwise(self.sizes))

    @property
    def label(self) -> str:
        return f"{list(self.sizes)} b={self.batch} {self.dtype} {self.activation} {self.optimizer}"


def time_mlpkit(cfg: Config, X: np.ndarray, y: np.ndarray) -> float:
    start = time.perf_counter()
    net = mlpkit.Network(list(cfg.sizes), activation=cfg.activation, dtype=cfg.dtype, seed=0)
    net.fit(X, y, epochs=1, batch_size=cfg.batch, optimizer=cfg.optimizer, learning_rate=LEARNING_RATES[cfg.optimizer],
            monitor_training=False, verbose=0, seed=0)
    return time.perf_counter() - start


def time_minimal(cfg: Config, X: np.ndarray, y: np.ndarray) -> float:
    start = time.perf_counter()
    minimal_numpy.train_epoch(X, y, list(cfg.sizes), cfg.batch, activation=cfg.activation, optimizer=cfg.optimizer,
                              lr=LEARNING_RATES[cfg.optimizer])
    return time.perf_counter() - start


def time_torch(cfg: Config, X: np.ndarray, y: np.ndarray) -> float:
    """A plain PyTorch loop: nn.Sequential of Linear + activation, CrossEntropyLoss, torch.optim, randperm."""
    import torch

    start = time.perf_counter()
    act = torch.nn.Sigmoid if cfg.activation == "sigmoid" else torch.nn.ReLU
    layers: list[torch.nn.Module] = []
    for n_in, n_out in itertools.pairwise(cfg.sizes[:-1]):
        layers += [torch.nn.Linear(n_in, n_out), act()]
    layers.append(torch.nn.Linear(cfg.sizes[-2], cfg.sizes[-1]))
    model = torch.nn.Sequential(*layers).to(getattr(torch, cfg.dtype))
    opt_class = torch.optim.SGD if cfg.optimizer == "sgd" else torch.optim.Adam
    optimizer = opt_class(model.parameters(), lr=LEARNING_RATES[cfg.optimizer])
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    order = torch.randperm(Xt.shape[0])
    Xs, ys = Xt[order], yt[order]
    for lo in range(0, Xs.shape[0], cfg.batch):
        optimizer.zero_grad()
        loss = loss_fn(model(Xs[lo:lo + cfg.batch]), ys[lo:lo + cfg.batch])
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def time_sklearn(cfg: Config, X: np.ndarray, y: np.ndarray) -> float:
    """scikit-learn's MLPClassifier for exactly one epoch (max_iter=1), no L2 (alpha=0), no momentum."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    start = time.perf_counter()
    model = MLPClassifier(hidden_layer_sizes=cfg.sizes[1:-1], activation="logistic" if cfg.activation == "sigmoid"
                          else "relu", solver=cfg.optimizer, alpha=0.0, batch_size=cfg.batch,
                          learning_rate_init=LEARNING_RATES[cfg.optimizer], max_iter=1, shuffle=True,
                          momentum=0.0, nesterovs_momentum=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return time.perf_counter() - start


RUNNERS = {"mlpkit": time_mlpkit, "minimal": time_minimal, "torch": time_torch, "sklearn": time_sklearn}
