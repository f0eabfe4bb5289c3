"""The Network: an ordered stack of layers plus a cost, trained by backpropagation.

Backpropagation (Nielsen ch.2 BP1-BP4, written for a batch of rows; Ng week 1 "backward propagation"):
the cost gives the output error dL/dz^L (fused to a - y where it cancels, see ``mlpkit.losses``), every
layer turns the error at its output into its parameter gradients and the error at its input, and the
regularizer adds its term to the weight gradients. All gradients are those of the *mean* cost over the
mini-batch, so an optimizer step is w <- w - eta * grad exactly as in Nielsen eq. (20)-(21).

All parameters of all layers live in one flat vector (and all gradients in another); each layer's
``params`` are reshaped views into it (:class:`~mlpkit.parameters.ParameterLayout`, ``network.layout``).
The regularized weights come first, so weight decay over the whole network is a single vectorized
operation, and so is every optimizer update.

This is the reference path of training: :meth:`Network.train_batch` is ``compute_gradients`` then
``optimizer.step``, layer by layer. ``fit`` (:mod:`mlpkit.training`) takes the faster but bit-identical
step plan of :mod:`mlpkit.fast` where it applies. Two methods are façades over modules that stand above
this one, imported when called: :meth:`Network.fit` (:func:`mlpkit.training.fit`) and
:meth:`Network.save` (:func:`mlpkit.serialization.save_network`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .activations import Identity, Sigmoid, Softmax
from .layers import Dense, Layer, layer_from_config
from .losses import Loss, get_loss
from .parameters import ParameterLayout
from .regularizers import Regularizer, get_regularizer
from .tasks import (
    OUTPUT_ACTIVATIONS,
    TargetScaler,
    check_sample_weight,
    check_task,
    check_task_fits,
    check_threshold,
    class_indices,
    decode_outputs,
    encode_targets,
    task_of_output,
)
from .validation import (
    check_inputs,
    check_positive_int,
    check_seed,
    dense_rows,
    is_sparse,
    real_array,
    resolve_dtype,
)

if TYPE_CHECKING:
    from .history import History
    from .optimizers import Optimizer

#: rows per forward pass when predicting or evaluating; bounds memory on large inputs
INFERENCE_CHUNK = 2048


def _default_loss_for(activation_name: str) -> str:
    return {"softmax": "categorical_crossentropy", "sigmoid": "binary_crossentropy"}.get(activation_name, "quadratic")


class Network:
    """A feed-forward network of fully-connected layers.

    Two ways to build one::

        Network([784, 30, 10])                                  # sizes, like network2.Network(sizes)
        Network([Dense(100, "relu"), Dense(10, "softmax")], input_dim=784)

    Args:
        layers: either layer sizes ``[n_in, hidden..., n_out]`` or a sequence of :class:`Layer` objects.
        loss: cost name or :class:`~mlpkit.losses.Loss`; by default categorical cross-entropy for a softmax
            output, binary cross-entropy for a sigmoid output, quadratic otherwise.
        activation: hidden-layer activation when ``layers`` are sizes (default ``"sigmoid"``, as the book).
        output_activation: output activation when ``layers`` are sizes (default: the task's, see
            :data:`mlpkit.tasks.OUTPUT_ACTIVATIONS`; ``"softmax"`` without a task).
        init: weight initializer when ``layers`` are sizes (default ``"default"``: N(0, 1/n_in), Nielsen).
        regularizer: ``L2(lmbda)``, ``L1(lmbda)`` or None. Part of the model: the reported cost includes it.
        input_dim: number of input features (taken from ``layers[0]`` when sizes are given).
        dtype: ``"float32"`` (default, fast) or ``"float64"`` (gradient checks, oracle tests).
        seed: seed of the initialization; the same seed gives bit-identical weights.
        task: ``"classification"``, ``"binary"``, ``"multilabel"`` or ``"regression"`` (:mod:`mlpkit.tasks`);
            None (default) infers it from the output layer (softmax -> classification, one sigmoid unit ->
            binary, k > 1 sigmoid units -> classification, anything else -> regression). A task that does
            not fit the output layer or the cost is a ValueError.
        threshold: the decision threshold of binary and multilabel predictions (output >= threshold).

    Attributes set later: ``target_scaler`` (a :class:`~mlpkit.tasks.TargetScaler` or None: ``fit`` sets it
    for a regression network), ``feature_names`` and ``target_names`` (lists of str or None: ``fit`` takes
    the former from a DataFrame's columns). All of them are saved with the model.
    """

    def __init__(self, layers: Sequence[int] | Sequence[Layer], *, loss: str | Loss | None = None,
                 activation: str = "sigmoid", output_activation: str | None = None, init: str = "default",
                 regularizer: Regularizer | dict | None = None, input_dim: int | None = None,
                 dtype: Any = "float32", seed: int | None = None, task: str | None = None,
                 threshold: float = 0.5) -> None:
        if task is not None:
            task = check_task(task)
        if output_activation is None:
            output_activation = OUTPUT_ACTIVATIONS.get(task, "softmax")
        self.dtype = resolve_dtype(dtype)
        layer_list, input_dim = self._layer_list(layers, activation, output_activation, init, input_dim)
        self.layers: list[Layer] = layer_list
        self.input_dim = input_dim
        self.seed = check_seed(seed)
        rng = np.random.default_rng(seed)
        width = input_dim
        for i, layer in enumerate(self.layers):
            try:
                width = layer.build(width, rng, self.dtype)
            except ValueError as exc:
                raise ValueError(f"layers[{i}] ({type(layer).__name__}): {exc}") from exc
        self.output_dim = width

        output = self.layers[-1].activation_fn
        if output is None:
            raise ValueError(
                f"the last layer must produce the network's output (a Dense or Activation layer), "
                f"got {type(self.layers[-1]).__name__}"
            )
        self.loss: Loss = get_loss(loss if loss is not None else _default_loss_for(output.name)).bind(output)
        if task is not None:
            check_task_fits(task, output.name, self.output_dim, self.loss.name)
        if output.name == "softmax" and self.output_dim < 2:
            raise ValueError(f"a softmax output layer needs at least 2 units, one per class (its one output would "
                             f"always be 1), got {self.output_dim}; use one sigmoid unit for a yes/no output")
        #: the task as given (None: inferred from the output layer); ``task`` is always resolved
        self.task_given = task
        self.task: str = task or task_of_output(output.name, self.output_dim)
        self.threshold = check_threshold(threshold)
        self.target_scaler: TargetScaler | None = None
        self.feature_names: list[str] | None = None
        self.target_names: list[str] | None = None
        if isinstance(self.layers[-1], Dense):
            self.layers[-1].keep_preactivation = True
        self.regularizer = get_regularizer(regularizer)
        self._pack_parameters()
        self.stop_training = False
        self.training_rng = None

    # ------------------------------------------------------------------------------------------- build
    @staticmethod
    def _layer_list(layers: Sequence, activation: str, output_activation: str, init: str,
                    input_dim: int | None) -> tuple[list[Layer], int]:
        if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or len(layers) == 0:
            raise TypeError("layers must be a non-empty list of layer sizes or of Layer objects")
        if all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in layers):
            sizes = [check_positive_int(s, f"layers[{i}]") for i, s in enumerate(layers)]
            if len(sizes) < 2:
                raise ValueError(f"layers: layer sizes need at least an input and an output size, got {list(layers)}")
            if input_dim is not None and check_positive_int(input_dim, "input_dim") != sizes[0]:
                raise ValueError(f"input_dim={input_dim} disagrees with the first layer size {sizes[0]}")
            built: list[Layer] = [Dense(n, activation, init=init) for n in sizes[1:-1]]
            built.append(Dense(sizes[-1], output_activation, init=init))
            return built, sizes[0]
        if not all(isinstance(layer, Layer) for layer in layers):
            kinds = sorted({type(x).__name__ for x in layers})
            raise TypeError(f"layers must be all ints (sizes) or all Layer objects, got a mix of {kinds}")
        if len({id(layer) for layer in layers}) != len(layers):
            raise ValueError("the same Layer object appears twice in layers; create a new one for each place")
        first = layers[0]
        declared = getattr(first, "input_dim", None)
        if input_dim is None:
            input_dim = declared
        if input_dim is None:
            raise ValueError("the network needs input_dim=... (or input_dim on its first layer)")
        return [copy.deepcopy(layer) if layer.params or layer.state else layer for layer in layers], \
            check_positive_int(input_dim, "input_dim")

    def _pack_parameters(self) -> None:
        """Move every parameter into one flat vector (regularized weights first, ``self.layout``) and rebind
        the layers' ``params``/``grads`` to views of it."""
        self.layout = ParameterLayout.of(self.layers)
        self._flat_params, self._flat_grads = self.layout.pack(self.layers, self.dtype)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickling and ``copy.deepcopy`` give each layer array its own memory; link them back into one
        flat vector (otherwise an optimizer step on the copy would not reach its layers)."""
        self.__dict__.update(state)
        self._pack_parameters()

    # -------------------------------------------------------------------------------------- properties
    @property
    def training_rng(self) -> np.random.Generator | None:
        """The training loop's Generator while fit() runs; setting it hands it to every layer (``layer.rng``),
        so layers with randomness (dropout) draw from it."""
        return self._training_rng

    @training_rng.setter
    def training_rng(self, rng: np.random.Generator | None) -> None:
        self._training_rng = rng
        for layer in self.layers:
            layer.rng = rng

    @property
    def flat_parameters(self) -> np.ndarray:
        """All parameters as one vector (a live view: writing to it changes the network)."""
        return self._flat_params

    @property
    def flat_gradients(self) -> np.ndarray:
        """All gradients of the last backward pass, laid out like ``flat_parameters`` (``compute_gradients``
        fills them; a plain-SGD step that ``fit`` fuses into the backward pass does not form them)."""
        return self._flat_grads

    @property
    def decayed_parameters(self) -> np.ndarray:
        """The regularized part of ``flat_parameters`` (every layer's weights, no biases)."""
        return self._flat_params[:self.layout.n_decayed]

    @property
    def n_params(self) -> int:
        return int(self._flat_params.size)

    @property
    def output_activation(self) -> str:
        return self.loss.activation.name

    @property
    def is_classifier(self) -> bool:
        """True when outputs are class probabilities (softmax or sigmoid output layer)."""
        return isinstance(self.loss.activation, (Softmax, Sigmoid))

    @property
    def sizes(self) -> list[int]:
        """Input size followed by the width of every layer."""
        return [self.input_dim] + [layer.n_out for layer in self.layers]

    def named_parameters(self) -> Iterator[tuple[str, np.ndarray]]:
        """(``"layers.<i>.<name>"``, array view) for every parameter, in layer order."""
        for i, layer in enumerate(self.layers):
            for name, value in layer.params.items():
                yield f"layers.{i}.{name}", value

    def named_gradients(self) -> Iterator[tuple[str, np.ndarray]]:
        for i, layer in enumerate(self.layers):
            for name, value in layer.grads.items():
                yield f"layers.{i}.{name}", value

    def named_states(self) -> Iterator[tuple[str, np.ndarray]]:
        """Non-trainable arrays (e.g. BatchNorm running statistics) as ``"layers.<i>.state.<name>"``."""
        for i, layer in enumerate(self.layers):
            for name, value in layer.state.items():
                yield f"layers.{i}.state.{name}", value

    # ------------------------------------------------------------------------------------ computation
    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        """Output activations for a batch (trusted input; the returned array is reused by the next call)."""
        with np.errstate(over="ignore"):  # e^-z may overflow to inf inside a sigmoid: that is its right limit
            return self._forward(X, training)

    def _forward(self, X: np.ndarray, training: bool) -> np.ndarray:
        """``forward`` for callers that already ignore floating-point overflow (the training loop)."""
        out = X
        for layer in self.layers:
            out = layer.forward(out, training)
        return out

    def backward(self, delta: np.ndarray) -> None:
        """Backpropagate the output error dL/dz (of the mean batch cost) and fill every layer's grads."""
        grad = delta
        first = self.layout.first_trainable
        for i in range(len(self.layers) - 1, first - 1, -1):
            grad = self.layers[i].backward(grad, preactivation=i == len(self.layers) - 1,
                                           need_input_grad=i > first)

    def penalty_of(self, layer: Layer) -> Regularizer | None:
        """The penalty on ``layer``'s weights: its own regularizer, else the network's."""
        return layer.regularizer if layer.regularizer is not None else self.regularizer

    def penalty_ranges(self) -> list[tuple[Regularizer, int, int]]:
        """(regularizer, start, stop) ranges of ``flat_parameters`` that each penalty applies to (one range,
        ``[0, n_decayed)``, without per-layer penalties)."""
        return self.layout.penalty_ranges([self.penalty_of(layer) for layer in self.layers])

    def _penalty(self, n: float, float64: bool = False) -> float:
        """Sum of the weight penalties (global and per-layer) with training-set size n."""
        total = 0.0
        for reg, start, stop in self.penalty_ranges():
            weights = self._flat_params[start:stop]
            total += reg.penalty(weights.astype(np.float64) if float64 else weights, n)
        return total

    def compute_gradients(self, X: np.ndarray, Y: np.ndarray, n_train: float | None = None,
                          W: np.ndarray | None = None) -> np.ndarray:
        """Forward + backward on one batch; return the flat gradient of the regularized mean cost.

        ``n_train`` is the training-set size used by the regularizer (Nielsen's n); default ``len(X)`` (the
        sum of the weights with ``W``). ``W``: row weights (m,), for the weighted mean cost
        sum_i w_i C_i / sum_i w_i (see :mod:`mlpkit.losses`).
        """
        with np.errstate(over="ignore"):
            return self._gradients(X, Y, n_train or (X.shape[0] if W is None else float(W.sum())), W)

    def _gradients(self, X: np.ndarray, Y: np.ndarray, n_train: float, W: np.ndarray | None = None) -> np.ndarray:
        output = self._forward(X, True)
        delta = self.layers[-1]._buffer("delta", output.shape, output.dtype)
        if W is None:
            self.loss.delta(None, output, Y, out=delta)
        else:
            self.loss.delta(None, output, Y, out=delta, weights=W)
        self.backward(delta)
        for reg, start, stop in self.penalty_ranges():
            reg.add_gradient(self._flat_params[start:stop], self._flat_grads[start:stop], n_train)
        return self._flat_grads

    def train_batch(self, X: np.ndarray, Y: np.ndarray, optimizer: Optimizer, n_train: float,
                    W: np.ndarray | None = None) -> None:
        """One step of mini-batch gradient descent on a trusted batch (``n_train``: the regularizer's n;
        ``W``: row weights or None): ``compute_gradients`` then ``optimizer.step``."""
        with np.errstate(over="ignore"):
            self._train_step(X, Y, optimizer, n_train, W)

    def _train_step(self, X: np.ndarray, Y: np.ndarray, optimizer: Optimizer, n_train: float,
                    W: np.ndarray | None = None) -> None:
        """``train_batch`` for callers that already ignore floating-point overflow (the training loop)."""
        self._gradients(X, Y, n_train, W)
        optimizer.step(self._flat_params, self._flat_grads)

    def objective(self, X: np.ndarray, Y: np.ndarray, n_train: float | None = None,
                  W: np.ndarray | None = None) -> float:
        """The quantity ``compute_gradients`` differentiates: mean batch cost (weighted by ``W`` when given)
        in training mode plus the penalty with n = ``n_train`` (default len(X), or the sum of the weights).
        Used by the gradient check."""
        a = self.forward(X, training=True)
        if W is None:
            return self.loss.value(self._logits(), a, Y) + self._penalty(n_train or X.shape[0])
        return self.loss.value(self._logits(), a, Y, weights=W) + self._penalty(n_train or float(W.sum()))

    def _logits(self) -> np.ndarray | None:
        return self.layers[-1].preactivation

    def _predict_raw(self, X: Any) -> np.ndarray:
        """Output activations of a checked X (dense, or CSR densified one chunk at a time)."""
        out = np.empty((X.shape[0], self.output_dim), dtype=self.dtype)
        for start in range(0, X.shape[0], INFERENCE_CHUNK):
            out[start:start + INFERENCE_CHUNK] = self.forward(dense_rows(X, start, start + INFERENCE_CHUNK), False)
        return out

    def _metrics(self, X: Any, Y: np.ndarray, n_reg: float | None = None, W: np.ndarray | None = None,
                 outputs: np.ndarray | None = None) -> dict[str, float]:
        """Cost and (for classifiers) accuracy on trusted arrays, in one pass; with row weights ``W`` both are
        weighted means and the penalty's n defaults to the sum of the weights. ``outputs``, when given, receives
        the output activations."""
        total = 0.0
        correct = 0.0
        for start in range(0, X.shape[0], INFERENCE_CHUNK):
            xb, yb = dense_rows(X, start, start + INFERENCE_CHUNK), Y[start:start + INFERENCE_CHUNK]
            a = self.forward(xb, False)
            if outputs is not None:
                outputs[start:start + a.shape[0]] = a
            costs = self.loss.per_example(self._logits(), a, yb)
            wb = None if W is None else W[start:start + INFERENCE_CHUNK]
            total += float(costs.sum() if wb is None else np.dot(wb, costs))
            if self.is_classifier:
                hits = self._hits(a, yb)
                correct += int(np.count_nonzero(hits)) if wb is None else float(np.dot(wb, hits))
        size = X.shape[0] if W is None else float(W.sum())
        metrics = {"loss": total / size + self._penalty(n_reg or size, float64=True)}
        if self.is_classifier:
            metrics["accuracy"] = correct / size
        return metrics

    def _hits(self, outputs: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """Which rows the outputs get right (multilabel: every label right, i.e. subset accuracy)."""
        if self.task == "multilabel":
            return (decode_outputs(self.task, outputs, self.threshold) == (Y > 0.5)).all(axis=1)
        return decode_outputs(self.task, outputs, self.threshold) == class_indices(self.task, Y)

    # ------------------------------------------------------------------------------------- public API
    def check_inputs(self, X: Any, name: str = "X") -> Any:
        """``X`` checked for this network: a C-contiguous array of its dtype, or a CSR matrix (scipy.sparse
        input), with ``input_dim`` columns; a DataFrame's column names must be ``feature_names`` when those
        are set (ValueError naming the first mismatch)."""
        columns = getattr(X, "columns", None)
        if columns is not None and self.feature_names is not None:
            names = [str(c) for c in columns]
            if names != self.feature_names:
                for i, (got, want) in enumerate(zip(names, self.feature_names, strict=False)):
                    if got != want:
                        raise ValueError(f"{name} column {i} is {got!r}, the network was trained with {want!r} "
                                         "there")
                raise ValueError(f"{name} has {len(names)} columns, the network was trained on "
                                 f"{len(self.feature_names)} ({', '.join(self.feature_names)})")
        return check_inputs(X, name, n_features=self.input_dim, dtype=self.dtype)

    def encode_targets(self, y: Any, n_samples: int, name: str = "y", dtype: Any = None) -> np.ndarray:
        """Targets as this network's target matrix (n, output_dim) in the ORIGINAL units
        (:func:`mlpkit.tasks.encode_targets`): one-hot, 0/1 or values; in ``dtype`` (default: the network's;
        regression targets are best read in float64, then scaled)."""
        dtype = self.dtype if dtype is None else dtype
        return encode_targets(self.task, y, n_samples, self.output_dim, name, dtype=dtype)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Output activations for ``X`` of shape (m, n_features) (dense, a DataFrame or scipy.sparse):
        class probabilities for a softmax output, P(y = 1) (m, 1) for a binary network, per-label
        probabilities for a multilabel one. A network built with ``task="regression"`` has none
        (ValueError: use ``predict``); one whose task was inferred returns its outputs, as before."""
        if self.task_given == "regression":
            raise ValueError("a regression network has no probabilities; use predict")
        return self._predict_raw(self.check_inputs(X))

    def predict(self, X: Any) -> np.ndarray:
        """Predictions for ``X``: class index (m,) int64 (classification: argmax), 0/1 (m,) int64 (binary:
        output >= threshold), 0/1 indicator (m, k) int64 (multilabel), values (m, k) in the original target
        units (regression: outputs mapped back through ``target_scaler``)."""
        outputs = self._predict_raw(self.check_inputs(X))
        if self.task == "regression":
            return outputs if self.target_scaler is None else self.target_scaler.inverse_transform(outputs)
        return decode_outputs(self.task, outputs, self.threshold)

    def evaluate(self, X: Any, y: Any, sample_weight: Any = None) -> dict[str, float]:
        """The cost and the task's metrics on (X, y): ``{"loss": ..., **mlpkit.metrics.task_metrics(...)}``.

        ``loss`` is the training objective: the (weighted) mean cost plus the regularization term with
        n = len(X) (or the sum of the weights; network2's total_cost), on standardized targets for a
        regression network with a ``target_scaler``. The metrics (``mlpkit.metrics.METRIC_NAMES``: accuracy,
        balanced accuracy, log-loss, ROC AUC for classifiers; subset accuracy and Hamming loss for
        multilabel; mse, mae, r2 in the original units for regression) are weighted by ``sample_weight``.
        """
        from .metrics import task_metrics

        X = self.check_inputs(X)
        Y = self.encode_targets(y, X.shape[0], dtype=np.float64 if self.task == "regression" else None)
        W = None if sample_weight is None else check_sample_weight(sample_weight, X.shape[0])
        scaled = Y.astype(self.dtype) if self.target_scaler is None else self.target_scaler.transform(Y, self.dtype)
        outputs = np.empty((X.shape[0], self.output_dim), dtype=self.dtype)
        result = self._metrics(X, scaled, W=W, outputs=outputs)
        if self.task == "regression":
            predictions = outputs if self.target_scaler is None else self.target_scaler.inverse_transform(outputs)
        else:
            predictions = decode_outputs(self.task, outputs, self.threshold)
        result.update(task_metrics(self.task, Y, outputs, predictions, sample_weight=W))
        return result

    def adapt(self, X: Any, *, only_new: bool = False) -> None:
        """Fit the statistics of the input-normalization layers (:class:`~mlpkit.layers.Standardize`) that
        come before the first trainable layer on the training inputs ``X`` (each sees ``X`` as transformed
        by the layers before it). ``fit`` calls this with ``only_new=True``: layers already adapted (or
        loaded) keep their statistics."""
        leading = self.layers[:self.layout.first_trainable]
        pending = [i for i, layer in enumerate(leading) if hasattr(layer, "adapt") and not (only_new and layer.adapted)]
        if not pending:
            return
        out = check_inputs(X, "X", n_features=self.input_dim, dtype=self.dtype)
        if is_sparse(out):  # the statistics need the dense values
            out = out.toarray()
        for i, layer in enumerate(leading[:pending[-1] + 1]):
            if i in pending:
                layer.adapt(out)
            if i < pending[-1]:
                out = layer.forward(out, False)

    def fit(self, X: Any, y: Any, **options: Any) -> History:
        """Train with mini-batch gradient descent: :func:`mlpkit.training.fit` with this network, where every
        option (``epochs``, ``batch_size``, ``optimizer``, ``learning_rate``, ``validation_data``, ``callbacks``,
        ``schedule``, ``seed``...) is documented."""
        from .training import fit

        return fit(self, X, y, **options)

    # --------------------------------------------------------------------------- weights and copies
    def get_weights(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and state array, keyed ``layers.<i>.<name>``."""
        weights = {name: value.copy() for name, value in self.named_parameters()}
        weights.update({name: value.copy() for name, value in self.named_states()})
        return weights

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Load arrays from ``get_weights()`` output; every key must be present with the right shape, real
        numbers (not bool, complex, strings or objects) and finite: a NaN weight would make every output NaN
        (and every prediction class 0). Nothing is changed unless every array is accepted."""
        if not isinstance(weights, Mapping):
            raise TypeError(f"weights must be a dict {{name: array}} as get_weights() returns, got "
                            f"{type(weights).__name__}")
        expected = dict(self.named_parameters())
        expected.update(self.named_states())
        missing = sorted(set(expected) - set(weights))
        unexpected = sorted(map(str, set(weights) - set(expected)))
        if missing or unexpected:
            raise ValueError(f"weights do not fit this network: missing {missing}, unexpected {unexpected}")
        checked = {}
        for name, target in expected.items():
            value = real_array(weights[name], f"weights[{name!r}]")
            if value.dtype == np.bool_:
                raise TypeError(f"weights[{name!r}] has dtype bool; weights are real numbers")
            if value.shape != target.shape:
                raise ValueError(f"{name} has shape {value.shape}, the network expects {target.shape}")
            with np.errstate(over="ignore"):
                value = value.astype(target.dtype)
            if not np.isfinite(value).all():
                bad = int(np.count_nonzero(~np.isfinite(value)))
                raise ValueError(f"weights[{name!r}] has {bad} NaN or infinite value(s) (in {target.dtype.name}); "
                                 f"weights must be finite")
            checked[name] = value
        for name, target in expected.items():
            target[...] = checked[name]

    def get_config(self) -> dict:
        """Everything needed to rebuild this network (no weights): the architecture, the cost, the task as
        given (None: inferred from the output layer), the threshold, the target scaler and the names."""
        return {
            "input_dim": self.input_dim,
            "layers": [layer.get_config() for layer in self.layers],
            "loss": self.loss.get_config(),
            "regularizer": None if self.regularizer is None else self.regularizer.get_config(),
            "dtype": self.dtype.name,
            "task": self.task_given,
            "threshold": self.threshold,
            "target_scaler": None if self.target_scaler is None else self.target_scaler.get_config(),
            "feature_names": None if self.feature_names is None else list(self.feature_names),
            "target_names": None if self.target_names is None else list(self.target_names),
        }

    @classmethod
    def from_config(cls, config: dict, dtype: Any = None) -> Network:
        """Build an untrained network from ``get_config()`` output (weights must be set afterwards); configs
        saved before tasks existed (no ``task``, ``threshold``... keys) load as they were."""
        layers = [layer_from_config(c) for c in config["layers"]]
        network = cls(layers, loss=config["loss"], regularizer=config.get("regularizer"),
                      input_dim=config["input_dim"], dtype=dtype or config.get("dtype", "float32"), seed=0,
                      task=config.get("task"), threshold=config.get("threshold", 0.5))
        scaler = config.get("target_scaler")
        if scaler is not None:
            network.target_scaler = TargetScaler.from_config(scaler)
            if network.target_scaler.mean.size != network.output_dim:
                raise ValueError(f"the target scaler has {network.target_scaler.mean.size} outputs, the network "
                                 f"{network.output_dim}")
        for key in ("feature_names", "target_names"):
            names = config.get(key)
            if names is not None:
                if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                    raise ValueError(f"{key} must be a list of strings, got {names!r}")
                setattr(network, key, list(names))
        return network

    def astype(self, dtype: Any) -> Network:
        """A copy of this network with parameters in ``dtype`` (e.g. float64 for a gradient check)."""
        other = Network.from_config(self.get_config(), dtype=dtype)
        other.set_weights(self.get_weights())
        return other

    def copy(self) -> Network:
        return self.astype(self.dtype)

    def save(self, path: str | Path) -> Path:
        """Write the model to one safe file (zip of JSON config + .npz arrays; no pickle), atomically."""
        from .serialization import save_network

        return save_network(self, path)

    def summary(self) -> str:
        """A table of the layers, their output sizes and parameter counts."""
        lines = [f"{'layer':<28}{'output':>10}{'params':>12}"]
        for i, layer in enumerate(self.layers):
            act = layer.activation_fn
            label = f"{i}: {type(layer).__name__}" + (f"({act.name})" if act and not isinstance(act, Identity) else "")
            lines.append(f"{label:<28}{layer.n_out:>10}{sum(p.size for p in layer.params.values()):>12}")
        lines.append(f"cost: {self.loss.name}   regularizer: {self.regularizer}   dtype: {self.dtype.name}   "
                     f"parameters: {self.n_params}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Network(sizes={self.sizes}, output={self.output_activation}, loss={self.loss.name!r})"
