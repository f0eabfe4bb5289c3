"""Nielsen's ``network2.py`` (*Neural Networks and Deep Learning*, ch.3), vectorized on top of mlpkit.

The book's chapter-3 code runs unchanged::

    from mlpkit.compat import mnist_loader, network2

    training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
    net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
    net.large_weight_initializer()
    net.SGD(training_data, 30, 10, 0.5, evaluation_data=test_data, monitor_evaluation_accuracy=True)

What is the same as the book's module:

- the network: sigmoid neurons in every layer, the output layer included (no softmax), with the cost
  ``CrossEntropyCost`` (Nielsen eq. (63), output error a - y, eq. (66)) or ``QuadraticCost`` (eq. (6), output
  error (a - y) sigma'(z)); ``weights[l]`` has shape (n_out, n_in) and ``biases[l]`` shape (n_out, 1);
- ``default_weight_initializer`` (W ~ N(0, 1/n_in), b ~ N(0, 1); applied by the constructor) and
  ``large_weight_initializer`` (W, b ~ N(0, 1)), drawn from numpy's global generator in the book's order
  (every bias vector, then every weight matrix), so ``np.random.seed(s)`` gives the book's initial weights;
- ``SGD``: mini-batch stochastic gradient descent with L2 weight decay
  w <- (1 - eta lmbda / n) w - (eta / m) sum_x dC_x/dw (Nielsen eq. (93)), the ``monitor_*`` flags, the
  per-epoch printout, the four returned lists (accuracies as counts), and the ``early_stopping_n`` rule of
  the book's later network2 (stop when the evaluation accuracy has not improved for n epochs; the weights of
  the last epoch are kept, as there);
- ``total_cost`` adds 0.5 (lmbda / len(data)) sum ||w||^2 with len(data) the size of the data being
  evaluated, as network2 does (so the evaluation cost uses the evaluation set's size);
- ``accuracy``/``total_cost`` with their ``convert`` flags, ``save`` to network2's JSON format and the
  module-level ``load``, ``vectorized_result``, ``sigmoid``, ``sigmoid_prime``, and the lower-level
  ``update_mini_batch`` (one step of eq. (93)) and ``backprop`` (one example's gradient, BP1-BP4).

What differs:

- The work is done by an :class:`mlpkit.Network` (``net.network``, in float64 as the book's numpy), with
  every mini-batch as one matrix: ``SGD`` stacks the ``(x, y)`` tuples into two arrays once and trains with
  :meth:`mlpkit.Network.fit`, instead of the original's loop over single examples (the book's
  [784, 30, 10] run takes about 1.5 s per epoch on two CPU cores).
- Shuffling uses a numpy generator seeded from Python's ``random`` module (the original called
  ``random.shuffle``), so ``random.seed`` and ``np.random.seed`` together make a run repeatable; or pass
  ``Network(..., seed=s)`` / ``SGD(..., seed=s)``.
- ``load`` reads the JSON with checks (shapes, finite numbers, and only the two cost names above); it
  never looks up an arbitrary name in the module, unlike the original's ``getattr``.
- ``accuracy``/``total_cost`` refuse a ``convert`` flag that does not fit the data's labels (the original
  silently computed nonsense); ``SGD`` accepts integer or vector labels for both training and evaluation
  data, and accepts a ``zip`` iterator (the Python 3 ports' ``mnist_loader``) as well as a list.
- A cost that becomes NaN or infinite stops training with a ``RuntimeWarning``, keeping the last good
  weights (mlpkit's divergence guard). A cost that only grows large does not: the book runs badly chosen
  learning rates on purpose, to show what they do.
"""

from __future__ import annotations

import json
import numbers
import os
import random
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .._atomic import atomic_write_bytes
from ..activations import sigmoid as _mlpkit_sigmoid
from ..callbacks import Callback
from ..network import Network as _MLPKitNetwork
from ..optimizers import SGD as _SGDOptimizer
from ..regularizers import L2
from ..serialization import ModelFileError
from ..validation import check_features, check_positive_float, check_targets

__all__ = [
    "CrossEntropyCost",
    "ModelFileError",
    "Network",
    "QuadraticCost",
    "load",
    "sigmoid",
    "sigmoid_prime",
    "vectorized_result",
]

_FLOAT = np.float64


# ----------------------------------------------------------------------------------------------- helpers
def sigmoid(z: Any) -> np.ndarray:
    """The sigmoid function sigma(z) = 1 / (1 + e^-z) (Nielsen eq. (3); network2.sigmoid), elementwise."""
    return _mlpkit_sigmoid(np.asarray(z, dtype=_FLOAT))


def sigmoid_prime(z: Any) -> np.ndarray:
    """Derivative of the sigmoid, sigma'(z) = sigma(z) (1 - sigma(z)) (Nielsen ch.3; network2.sigmoid_prime)."""
    s = sigmoid(z)
    return s * (1.0 - s)


def vectorized_result(j: int, n: int = 10) -> np.ndarray:
    """A (n, 1) column with 1.0 in position ``j`` and zeros elsewhere: digit -> desired network output
    (network2.vectorized_result / mnist_loader.vectorized_result)."""
    if isinstance(j, bool) or not isinstance(j, numbers.Integral) or not 0 <= j < n:
        raise ValueError(f"vectorized_result needs an integer class in 0..{n - 1}, got {j!r}")
    e = np.zeros((n, 1), dtype=_FLOAT)
    e[int(j)] = 1.0
    return e


# ------------------------------------------------------------------------------------------------- costs
class QuadraticCost:
    """The quadratic cost C_x = 1/2 ||a - y||^2 (Nielsen eq. (6); network2.QuadraticCost).

    Output error delta^L = (a - y) sigma'(z) (Nielsen BP1 for the quadratic cost): the sigma' factor is what
    makes saturated output neurons learn slowly (Nielsen eq. (55)-(56)).
    """

    #: the mlpkit cost that trains a network with this cost
    mlpkit_loss: ClassVar[str] = "quadratic"

    @staticmethod
    def fn(a: Any, y: Any) -> float:
        """The cost of output ``a`` for desired output ``y`` (column vectors; larger arrays are summed over)."""
        diff = np.asarray(a, dtype=_FLOAT) - np.asarray(y, dtype=_FLOAT)
        return 0.5 * float(np.sum(diff * diff))

    @staticmethod
    def delta(z: Any, a: Any, y: Any) -> np.ndarray:
        """The output error dC_x/dz^L = (a - y) sigma'(z)."""
        return (np.asarray(a, dtype=_FLOAT) - np.asarray(y, dtype=_FLOAT)) * sigmoid_prime(z)


class CrossEntropyCost:
    """The cross-entropy cost C_x = -sum_j [y_j ln a_j + (1 - y_j) ln(1 - a_j)] (Nielsen eq. (63);
    network2.CrossEntropyCost).

    Output error delta^L = a - y (Nielsen eq. (66)): sigma' cancels, so saturated output neurons still learn.
    """

    #: the mlpkit cost that trains a network with this cost (evaluated from the logits there: no log(0))
    mlpkit_loss: ClassVar[str] = "binary_crossentropy"

    @staticmethod
    def fn(a: Any, y: Any) -> float:
        """The cost of output ``a`` for desired output ``y`` (column vectors; larger arrays are summed over).

        As in the book, ``np.nan_to_num`` keeps the value finite when an output is exactly 0 or 1 (0 ln 0 is
        taken as 0; ln 0 as the largest float).
        """
        a = np.asarray(a, dtype=_FLOAT)
        y = np.asarray(y, dtype=_FLOAT)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = -y * np.log(a) - (1.0 - y) * np.log(1.0 - a)
        return float(np.sum(np.nan_to_num(terms)))

    @staticmethod
    def delta(z: Any, a: Any, y: Any) -> np.ndarray:
        """The output error dC_x/dz^L = a - y (``z`` is not needed; kept for the common interface)."""
        return np.asarray(a, dtype=_FLOAT) - np.asarray(y, dtype=_FLOAT)


#: the costs a network2 file may name (``load`` refuses anything else)
COSTS: dict[str, type] = {"CrossEntropyCost": CrossEntropyCost, "QuadraticCost": QuadraticCost}


def _check_cost(cost: Any) -> type:
    if cost is CrossEntropyCost or cost is QuadraticCost:
        return cost
    raise TypeError(f"cost must be network2.CrossEntropyCost or network2.QuadraticCost, got {cost!r}")


def _check_sizes(sizes: Any) -> list[int]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a list of layer sizes such as [784, 30, 10], got {sizes!r}")
    checked = []
    for i, s in enumerate(sizes):
        if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1:
            raise ValueError(f"sizes[{i}] must be a positive integer, got {s!r}")
        checked.append(int(s))
    if len(checked) < 2:
        raise ValueError(f"sizes needs at least an input and an output layer, got {list(sizes)}")
    return checked


# ------------------------------------------------------------------------------------------- monitoring
def _count(fraction: float, n: int) -> int:
    """The number of correct examples from mlpkit's accuracy fraction (exact: correct / n * n rounds back)."""
    return round(fraction * n)


class _BookMonitor(Callback):
    """Collects network2's four lists from mlpkit's per-epoch metrics, prints the book's lines, and applies
    the no-improvement-in-n early-stopping rule of network2's ``early_stopping_n``."""

    def __init__(self, n_train: int, n_eval: int, *, evaluation_cost: bool, evaluation_accuracy: bool,
                 training_cost: bool, training_accuracy: bool, early_stopping_n: int) -> None:
        self.n_train, self.n_eval = n_train, n_eval
        self.flags = (evaluation_cost, evaluation_accuracy, training_cost, training_accuracy)
        self.early_stopping_n = early_stopping_n
        self.evaluation_cost: list[float] = []
        self.evaluation_accuracy: list[int] = []
        self.training_cost: list[float] = []
        self.training_accuracy: list[int] = []
        self.best_accuracy = 0
        self.no_accuracy_change = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        monitor_eval_cost, monitor_eval_acc, monitor_train_cost, monitor_train_acc = self.flags
        print(f"Epoch {epoch} training complete")
        if monitor_train_cost:
            self.training_cost.append(logs["loss"])
            print(f"Cost on training data: {logs['loss']}")
        if monitor_train_acc:
            correct = _count(logs["accuracy"], self.n_train)
            self.training_accuracy.append(correct)
            print(f"Accuracy on training data: {correct} / {self.n_train}")
        if monitor_eval_cost:
            self.evaluation_cost.append(logs["val_loss"])
            print(f"Cost on evaluation data: {logs['val_loss']}")
        if monitor_eval_acc:
            correct = _count(logs["val_accuracy"], self.n_eval)
            self.evaluation_accuracy.append(correct)
            print(f"Accuracy on evaluation data: {correct} / {self.n_eval}")
        if self.early_stopping_n > 0:
            correct = _count(logs["val_accuracy"], self.n_eval)
            if correct > self.best_accuracy:
                self.best_accuracy = correct
                self.no_accuracy_change = 0
            else:
                self.no_accuracy_change += 1
            if self.no_accuracy_change == self.early_stopping_n:
                self.network.stop_training = True
        print()


# ----------------------------------------------------------------------------------------------- network
def _checked_array(value: Any, name: str, shape: tuple[int, int]) -> np.ndarray:
    arr = np.asarray(value, dtype=_FLOAT)
    if shape[1] == 1 and arr.shape == shape[:1]:
        arr = arr.reshape(shape)
    if arr.shape != shape:
        raise ValueError(f"{name} has shape {arr.shape}, this network needs {shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


class _ParameterList(list):
    """``net.weights`` / ``net.biases``: a list of views of the network's parameters in which assigning an
    item (``net.weights[0] = w``) copies the new values into the network, as it replaces the array in the
    original's list."""

    def __init__(self, views: list[np.ndarray], write: Callable[[int, Any], None]) -> None:
        super().__init__(views)
        self._write = write

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            positions = range(len(self))[index]
            values = list(value)
            if len(values) != len(positions):
                raise ValueError("assigning to a slice of weights/biases must keep the number of layers")
            for position, item in zip(positions, values, strict=True):
                self[position] = item
            return
        position = range(len(self))[index]  # IndexError / TypeError as for a list
        self._write(position, value)


class Network:
    """network2.Network: a feed-forward network of sigmoid neurons trained by mini-batch SGD.

    Args:
        sizes: neurons per layer, input first, e.g. ``[784, 30, 10]``.
        cost: :class:`CrossEntropyCost` (default) or :class:`QuadraticCost`.
        seed: (mlpkit addition, keyword only) seed of a private generator for the initial weights and the
            shuffling; ``None`` (default) uses numpy's global generator for the weights and Python's
            ``random`` for the shuffling, as the original.

    Attributes (as the original): ``num_layers``, ``sizes``, ``weights`` (list of (n_out, n_in) arrays),
    ``biases`` (list of (n_out, 1) arrays), ``cost``. ``weights`` and ``biases`` are views of the parameters
    of ``network`` (the :class:`mlpkit.Network` doing the work): writing into them, assigning one of their
    items (``net.weights[0] = w``) or assigning whole new lists changes the network.
    """

    def __init__(self, sizes: Sequence[int], cost: type = CrossEntropyCost, *, seed: int | None = None) -> None:
        self._setup(sizes, cost, seed)
        self.default_weight_initializer()

    def _setup(self, sizes: Sequence[int], cost: type, seed: int | None) -> None:
        self.sizes = _check_sizes(sizes)
        self.num_layers = len(self.sizes)
        self._cost = _check_cost(cost)
        self._random: Any = np.random if seed is None else np.random.RandomState(seed)
        #: the mlpkit network that holds the parameters and does the computation
        self.network = self._build(self._cost)

    def _build(self, cost: type) -> _MLPKitNetwork:
        return _MLPKitNetwork(self.sizes, loss=cost.mlpkit_loss, activation="sigmoid", output_activation="sigmoid",
                              init="default", dtype=_FLOAT, seed=0)

    @classmethod
    def _from_arrays(cls, sizes: list[int], cost: type, weights: list[np.ndarray],
                     biases: list[np.ndarray]) -> Network:
        """A network with the given parameters, drawing nothing from any random generator."""
        net = cls.__new__(cls)
        net._setup(sizes, cost, None)
        net.weights = weights
        net.biases = biases
        return net

    # ------------------------------------------------------------------------------------ parameters
    @property
    def cost(self) -> type:
        """The cost class; assigning the other one keeps the weights and switches the cost."""
        return self._cost

    @cost.setter
    def cost(self, cost: type) -> None:
        cost = _check_cost(cost)
        if cost is not self._cost:
            rebuilt = self._build(cost)
            rebuilt.flat_parameters[...] = self.network.flat_parameters
            self.network, self._cost = rebuilt, cost

    @property
    def weights(self) -> list[np.ndarray]:
        """Weight matrices, ``weights[l][j, k]`` from neuron k of layer l to neuron j of layer l + 1 (views)."""
        return _ParameterList([layer.params["W"].T for layer in self.network.layers], self._write_weights)

    @weights.setter
    def weights(self, weights: Sequence[Any]) -> None:
        self._check_count(weights, "weights")
        checked = [self._check_weights(i, w) for i, w in enumerate(weights)]
        for i, w in enumerate(checked):
            self._write_weights(i, w)

    @property
    def biases(self) -> list[np.ndarray]:
        """Bias columns, ``biases[l]`` of shape (sizes[l + 1], 1) (views)."""
        return _ParameterList([layer.params["b"].reshape(-1, 1) for layer in self.network.layers], self._write_biases)

    @biases.setter
    def biases(self, biases: Sequence[Any]) -> None:
        self._check_count(biases, "biases")
        checked = [self._check_biases(i, b) for i, b in enumerate(biases)]
        for i, b in enumerate(checked):
            self._write_biases(i, b)

    def _check_count(self, arrays: Any, name: str) -> None:
        n = self.num_layers - 1
        if isinstance(arrays, np.ndarray) or not isinstance(arrays, Sequence) or len(arrays) != n:
            raise ValueError(f"{name} must be a list of {n} arrays, one per layer after the input layer")

    def _check_weights(self, i: int, value: Any) -> np.ndarray:
        return _checked_array(value, f"weights[{i}]", (self.sizes[i + 1], self.sizes[i]))

    def _check_biases(self, i: int, value: Any) -> np.ndarray:
        return _checked_array(value, f"biases[{i}]", (self.sizes[i + 1], 1))

    def _write_weights(self, i: int, value: Any) -> None:
        self.network.layers[i].params["W"][...] = self._check_weights(i, value).T

    def _write_biases(self, i: int, value: Any) -> None:
        self.network.layers[i].params["b"][...] = self._check_biases(i, value)[:, 0]

    def default_weight_initializer(self) -> None:
        """Weights ~ N(0, 1/n_in) (standard deviation 1/sqrt(n_in), n_in the neuron's inputs), biases ~ N(0, 1)
        (Nielsen ch.3 "Weight initialization"; network2.default_weight_initializer)."""
        self._initialize(scale_by_fan_in=True)

    def large_weight_initializer(self) -> None:
        """Weights and biases ~ N(0, 1), the ch.1 initialization, kept for comparison (Nielsen ch.3;
        network2.large_weight_initializer)."""
        self._initialize(scale_by_fan_in=False)

    def _initialize(self, scale_by_fan_in: bool) -> None:
        # the book's order of draws: every bias vector first, then every weight matrix
        biases = [self._random.randn(n_out, 1) for n_out in self.sizes[1:]]
        weights = [self._random.randn(n_out, n_in)
                   for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:], strict=True)]
        if scale_by_fan_in:
            weights = [w / np.sqrt(w.shape[1]) for w in weights]
        self.biases = biases
        self.weights = weights

    # ----------------------------------------------------------------------------------- computation
    def feedforward(self, a: Any) -> np.ndarray:
        """The network's output for input ``a``: a column (n_in, 1) gives a column (n_out, 1), as the book;
        columns (n_in, m) give (n_out, m); a flat (n_in,) vector gives (n_out,)."""
        arr = np.asarray(a, dtype=_FLOAT)
        n_in = self.sizes[0]
        if arr.ndim == 1 and arr.shape[0] == n_in:
            return self.network.predict_proba(arr[None, :])[0]
        if arr.ndim != 2 or arr.shape[0] != n_in:
            raise ValueError(f"feedforward expects a column vector of shape ({n_in}, 1) (or columns ({n_in}, m)), "
                             f"got shape {arr.shape}")
        return self.network.predict_proba(arr.T).T

    def _stack(self, data: Iterable[Any], name: str) -> tuple[np.ndarray, np.ndarray, bool]:
        """Turn a list (or any iterable) of ``(x, y)`` pairs into inputs X (m, n_in) float64 and labels: integer
        classes (m,) when each ``y`` is a number, else (m, n_out) float64 rows. Also says which it was."""
        pairs = data if isinstance(data, (list, tuple)) else list(data)
        if len(pairs) == 0:
            raise ValueError(f"{name} is empty")
        try:
            xs = [x for x, _ in pairs]
            ys = [y for _, y in pairs]
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be a list of (x, y) pairs, as mnist_loader.load_data_wrapper() gives") \
                from exc
        n_in, n_out, m = self.sizes[0], self.sizes[-1], len(pairs)
        try:
            X = np.asarray(xs, dtype=_FLOAT)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"the inputs x of {name} must all be numeric arrays of shape ({n_in}, 1): {exc}") from exc
        if X.shape[1:] not in ((n_in, 1), (n_in,)):
            raise ValueError(f"the inputs x of {name} must have shape ({n_in}, 1), got {X.shape[1:]}")
        X = X.reshape(m, n_in)
        vector = np.ndim(ys[0]) > 0
        try:
            labels = np.asarray(ys, dtype=_FLOAT if vector else None)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"the labels y of {name} must be all integers or all arrays of shape ({n_out}, 1): "
                             f"{exc}") from exc
        if vector:
            if labels.shape[1:] not in ((n_out, 1), (n_out,)):
                raise ValueError(f"the labels y of {name} must have shape ({n_out}, 1), got {labels.shape[1:]}")
            return X, labels.reshape(m, n_out), True
        if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"the labels y of {name} must be all integers (digits) or all arrays of shape "
                             f"({n_out}, 1)")
        if labels.min() < 0 or labels.max() >= n_out:
            raise ValueError(f"the labels y of {name} must lie in 0..{n_out - 1}, got {labels.min()}..{labels.max()}")
        return X, labels.astype(np.int64, copy=False), False

    def _training_batch(self, data: Iterable[Any], name: str) -> tuple[np.ndarray, np.ndarray]:
        X, labels, _ = self._stack(data, name)
        X = check_features(X, name, n_features=self.sizes[0], dtype=_FLOAT)
        return X, check_targets(labels, X.shape[0], self.sizes[-1], name, dtype=_FLOAT)

    # -------------------------------------------------------------------------------------- training
    def SGD(self, training_data: Iterable[Any], epochs: int, mini_batch_size: int, eta: float,
            lmbda: float = 0.0, evaluation_data: Iterable[Any] | None = None,
            monitor_evaluation_cost: bool = False, monitor_evaluation_accuracy: bool = False,
            monitor_training_cost: bool = False, monitor_training_accuracy: bool = False,
            early_stopping_n: int = 0, *, seed: int | None = None,
            ) -> tuple[list[float], list[int], list[float], list[int]]:
        """Train with mini-batch stochastic gradient descent (Nielsen ch.3; network2.SGD).

        Each epoch shuffles ``training_data``, cuts it into mini-batches of ``mini_batch_size`` and, for each
        mini-batch of m examples, applies w <- (1 - eta lmbda / n) w - (eta / m) sum_x dC_x/dw and
        b <- b - (eta / m) sum_x dC_x/db (Nielsen eq. (93)-(94)), n = len(training_data).

        Args:
            training_data: list (or iterable) of ``(x, y)`` with x of shape (n_in, 1) and y of shape (n_out, 1).
            epochs, mini_batch_size, eta: as the book.
            lmbda: L2 regularization parameter lambda (Nielsen eq. (85)).
            evaluation_data: list of ``(x, label)`` (validation or test data), used by the monitors.
            monitor_*: compute, print and return the cost / accuracy on the evaluation / training data after
                every epoch.
            early_stopping_n: stop when the evaluation accuracy has not improved for this many epochs (0: never).
            seed: (mlpkit addition, keyword only) seed of the shuffling.

        Returns:
            ``(evaluation_cost, evaluation_accuracy, training_cost, training_accuracy)``: one entry per epoch in
            each monitored list, accuracies as counts of correctly classified examples.
        """
        X, labels, _ = self._stack(training_data, "training_data")
        lmbda = check_positive_float(lmbda, "lmbda", allow_zero=True)
        if isinstance(early_stopping_n, bool) or not isinstance(early_stopping_n, numbers.Integral) \
                or early_stopping_n < 0:
            raise ValueError(f"early_stopping_n must be an integer >= 0, got {early_stopping_n!r}")
        uses_evaluation = monitor_evaluation_cost or monitor_evaluation_accuracy or early_stopping_n > 0
        validation = None
        if uses_evaluation:
            if evaluation_data is None:
                raise ValueError("monitor_evaluation_cost, monitor_evaluation_accuracy and early_stopping_n need "
                                 "evaluation_data (e.g. validation_data from mnist_loader.load_data_wrapper())")
            X_eval, labels_eval, _ = self._stack(evaluation_data, "evaluation_data")
            validation = (X_eval, labels_eval)
        monitor = _BookMonitor(
            len(X), 0 if validation is None else len(validation[0]),
            evaluation_cost=monitor_evaluation_cost, evaluation_accuracy=monitor_evaluation_accuracy,
            training_cost=monitor_training_cost, training_accuracy=monitor_training_accuracy,
            early_stopping_n=int(early_stopping_n))
        net = self.network
        net.regularizer = L2(lmbda) if lmbda else None
        try:
            net.fit(X, labels, epochs=epochs, batch_size=mini_batch_size, optimizer="sgd", learning_rate=eta,
                    validation_data=validation, callbacks=[monitor],
                    seed=self._shuffle_seed() if seed is None else seed,
                    monitor_training=monitor_training_cost or monitor_training_accuracy, verbose=0,
                    divergence_factor=None)
        finally:
            net.regularizer = None
        return monitor.evaluation_cost, monitor.evaluation_accuracy, monitor.training_cost, monitor.training_accuracy

    def _shuffle_seed(self) -> int:
        if self._random is np.random:
            return random.getrandbits(64)
        return int(self._random.randint(0, 2**63 - 1, dtype=np.int64))

    def update_mini_batch(self, mini_batch: Iterable[Any], eta: float, lmbda: float, n: int) -> None:
        """One gradient-descent step on one mini-batch with L2 weight decay (network2.update_mini_batch):
        w <- (1 - eta lmbda / n) w - (eta / m) sum_x dC_x/dw, b <- b - (eta / m) sum_x dC_x/db (Nielsen (93))."""
        X, Y = self._training_batch(mini_batch, "mini_batch")
        net = self.network
        net.regularizer = L2(lmbda) if check_positive_float(lmbda, "lmbda", allow_zero=True) else None
        try:
            net.train_batch(X, Y, _SGDOptimizer(eta), n)
        finally:
            net.regularizer = None

    def backprop(self, x: Any, y: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """``(nabla_b, nabla_w)``: the gradient of the cost C_x of one example, shaped like ``biases`` and
        ``weights`` (network2.backprop; Nielsen ch.2, BP1-BP4)."""
        X, Y = self._training_batch([(x, y)], "(x, y)")
        self.network.compute_gradients(X, Y, 1)
        nabla_b = [layer.grads["b"].reshape(-1, 1).copy() for layer in self.network.layers]
        nabla_w = [layer.grads["W"].T.copy() for layer in self.network.layers]
        return nabla_b, nabla_w

    # ------------------------------------------------------------------------------------ evaluation
    def accuracy(self, data: Iterable[Any], convert: bool = False) -> int:
        """The number of inputs in ``data`` for which the network's most active output neuron is the label
        (network2.accuracy). ``convert=True`` for data with vector labels (training data), False for data with
        integer labels (validation and test data)."""
        X, labels, vector = self._stack(data, "data")
        if bool(convert) != vector:
            raise ValueError("accuracy(data, convert=True) is for data with vector labels (training_data); data "
                             "with integer labels (validation_data, test_data) needs convert=False"
                             if convert else
                             "this data has vector labels (training_data): call accuracy(data, convert=True)")
        predicted = self.network.predict_proba(X).argmax(axis=1)
        truth = labels.argmax(axis=1) if vector else labels
        return int(np.count_nonzero(predicted == truth))

    def total_cost(self, data: Iterable[Any], lmbda: float, convert: bool = False) -> float:
        """The mean cost over ``data`` plus the L2 term 0.5 (lmbda / len(data)) sum ||w||^2 (network2.total_cost;
        Nielsen eq. (85)). ``convert=True`` for data with integer labels (validation and test data), False for
        data with vector labels (training data)."""
        X, labels, vector = self._stack(data, "data")
        if bool(convert) == vector:
            raise ValueError("total_cost(data, lmbda, convert=True) is for data with integer labels (validation_data,"
                             " test_data); data with vector labels (training_data) needs convert=False"
                             if convert else
                             "this data has integer labels (validation_data, test_data): call "
                             "total_cost(data, lmbda, convert=True)")
        cost = self.network.evaluate(X, labels)["loss"]
        return cost + L2(lmbda).penalty(self.network.decayed_parameters, len(X))

    # --------------------------------------------------------------------------------------- saving
    def save(self, filename: str | os.PathLike[str]) -> None:
        """Write the network to ``filename`` in network2's JSON format: ``{"sizes", "weights", "biases",
        "cost"}`` with nested lists (network2.Network.save). The file is replaced atomically."""
        data = {"sizes": self.sizes, "weights": [w.tolist() for w in self.weights],
                "biases": [b.tolist() for b in self.biases], "cost": self._cost.__name__}
        path = Path(filename)
        atomic_write_bytes(path, json.dumps(data).encode("utf-8"))

    def __repr__(self) -> str:
        return f"network2.Network({self.sizes}, cost=network2.{self._cost.__name__})"


def load(filename: str | os.PathLike[str]) -> Network:
    """Load a network saved by ``Network.save`` (ours or the book's network2) and return it (network2.load).

    The file is plain JSON and is checked before use: ``sizes`` a list of positive integers, ``weights`` and
    ``biases`` nested lists of finite numbers with the shapes ``sizes`` implies, and ``cost`` one of
    ``"CrossEntropyCost"`` / ``"QuadraticCost"``. Anything else raises :class:`~mlpkit.ModelFileError`
    (a ``ValueError``).
    """
    path = Path(filename)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} is not a network2 JSON file: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelFileError(f"{path} is not a network2 file: expected a JSON object")
    missing = [key for key in ("sizes", "weights", "biases", "cost") if key not in data]
    if missing:
        raise ModelFileError(f"{path} is not a network2 file: missing {missing}")
    cost_name = data["cost"]
    if not isinstance(cost_name, str) or cost_name not in COSTS:
        raise ModelFileError(f"{path}: unknown cost {cost_name!r}; network2 files name one of {sorted(COSTS)}")
    try:
        sizes = _check_sizes(data["sizes"])
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: invalid sizes: {exc}") from exc
    arrays = {}
    expected_shapes = {"weights": list(zip(sizes[1:], sizes[:-1], strict=True)), "biases": [(n, 1) for n in sizes[1:]]}
    for key, shapes in expected_shapes.items():
        values = data[key]
        if not isinstance(values, list) or len(values) != len(shapes):
            raise ModelFileError(f"{path}: {key} must be a list of {len(shapes)} nested lists")
        arrays[key] = []
        for i, (value, shape) in enumerate(zip(values, shapes, strict=True)):
            try:
                arr = np.array(value)
            except (TypeError, ValueError):
                arr = None
            if arr is None or arr.dtype.kind not in "iuf":
                raise ModelFileError(f"{path}: {key}[{i}] is not a rectangular array of numbers")
            arr = arr.astype(_FLOAT)
            if arr.shape != shape:
                raise ModelFileError(f"{path}: {key}[{i}] has shape {arr.shape}, sizes {sizes} imply {shape}")
            if not np.isfinite(arr).all():
                raise ModelFileError(f"{path}: {key}[{i}] contains NaN or infinite values")
            arrays[key].append(arr)
    return Network._from_arrays(sizes, COSTS[cost_name], arrays["weights"], arrays["biases"])
