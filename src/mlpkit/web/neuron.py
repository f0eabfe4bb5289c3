"""The learning-slowdown demo of Nielsen ch.3: one sigmoid neuron trained on a single example.

The neuron outputs a = sigma(w x + b) and learns the example x = 1 -> y = 0 by gradient descent. With the
quadratic cost C = (a - y)^2 / 2 the gradients are dC/dw = (a - y) sigma'(z) x and dC/db = (a - y) sigma'(z)
(Nielsen eq. (55)-(56)): from w = b = 2 the neuron starts saturated (a = 0.98, sigma'(z) = 0.018) and
learns slowly for many epochs. With the cross-entropy cost the sigma'(z) cancels, dC/dw = x (a - y)
(eq. (61)), so the badly wrong neuron learns fastest. The book's figures use eta = 0.15 for the quadratic
cost and eta = 0.005 for cross-entropy over 300 epochs.

Everything is computed with mlpkit itself: a :class:`~mlpkit.layers.Dense` layer with a sigmoid, the
library's ``quadratic`` or ``binary_crossentropy`` cost, plain SGD, one epoch = one step on the example.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..callbacks import Callback
from ..layers import Dense
from ..network import Network
from ..optimizers import SGD

#: the page's names for the two costs, and mlpkit's
COSTS = {"quadratic": "quadratic", "cross_entropy": "binary_crossentropy"}
#: the book's number of epochs
BOOK_EPOCHS = 300


class _Trace(Callback):
    """Records w, b and the output a after every epoch."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x
        self.w: list[float] = []
        self.b: list[float] = []
        self.output: list[float] = []

    def record(self, network: Network) -> None:
        self.w.append(float(network.layers[0].params["W"][0, 0]))
        self.b.append(float(network.layers[0].params["b"][0]))
        self.output.append(float(network.predict_proba(self.x)[0, 0]))

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.record(self.network)


def neuron_network(w: float, b: float, cost: str) -> Network:
    """A float64 network of one sigmoid neuron with weight ``w`` and bias ``b``; ``cost`` is a key of COSTS."""
    network = Network([Dense(1, "sigmoid")], input_dim=1, loss=COSTS[cost], dtype="float64", seed=0)
    network.set_weights({"layers.0.W": np.array([[w]]), "layers.0.b": np.array([b])})
    return network


def train_neuron(*, w: float, b: float, eta: float, cost: str, epochs: int = BOOK_EPOCHS, x: float = 1.0,
                 y: float = 0.0) -> dict[str, Any]:
    """Train the neuron and return its trajectory, epoch 0 (the start) to ``epochs``.

    Returns ``{"epoch": [0..epochs], "cost": [...], "output": [...], "w": [...], "b": [...]}``, each list
    ``epochs + 1`` long; ``cost`` is the cost of the example after each epoch (before any, at index 0).
    """
    if cost not in COSTS:
        raise ValueError(f"cost must be one of {', '.join(COSTS)}, got {cost!r}")
    network = neuron_network(w, b, cost)
    X, Y = np.array([[x]]), np.array([[y]])
    trace = _Trace(X)
    trace.record(network)
    # the steps of fit(epochs, batch_size=1) taken one by one: fit refuses a one-example, one-class target (a
    # classifier needs two classes) and a y strictly between 0 and 1, both of which this lesson is about
    optimizer = SGD(eta)
    optimizer.bind(network.layout)
    losses = [float(network.objective(X, Y))]
    for _ in range(epochs):
        network.train_batch(X, Y, optimizer, 1)
        trace.record(network)
        losses.append(float(network.objective(X, Y)))
    return {"epoch": list(range(len(losses))), "cost": losses, "output": trace.output, "w": trace.w, "b": trace.b}
