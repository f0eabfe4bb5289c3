"""The training loop: shuffled mini-batches, epochs, monitoring, callbacks, and a divergence guard.

Stochastic gradient descent as in Nielsen ch.1/ch.3 (network2's ``SGD``): each epoch the training data
are shuffled (with a seeded ``numpy.random.Generator``), cut into mini-batches of ``batch_size``, and
every mini-batch makes one optimizer step on the gradient of its mean cost (plus regularization with
n = the training-set size). The whole mini-batch goes through the network as one matrix: there is no
per-example loop.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .callbacks import Callback, ProgressLogger
from .fast import choose_steps, limit_blas_threads
from .history import DIVERGED, History
from .losses import accepts_weights
from .network import INFERENCE_CHUNK
from .optimizers import DEFAULT_LEARNING_RATES, Optimizer, get_optimizer
from .schedules import Schedule, ScheduleFunction, start_schedule
from .tasks import TargetScaler, check_classes, check_sample_weight, row_weights
from .validation import check_bool, check_positive_float, check_positive_int, check_seed, is_sparse

if TYPE_CHECKING:
    from .network import Network

__all__ = ["DEFAULT_LEARNING_RATES", "DIVERGENCE_FACTOR", "History", "fit"]

#: a monitored cost this many times that of the network before training means the run diverged
DIVERGENCE_FACTOR = 10.0

_COSTS = {"loss": "the training cost", "val_loss": "the validation cost", "accuracy": "the training accuracy",
          "val_accuracy": "the validation accuracy"}


def _resolve_optimizer(optimizer: str | Optimizer, learning_rate: float | None) -> Optimizer:
    if isinstance(optimizer, Optimizer):
        if learning_rate is not None:
            optimizer.learning_rate = check_positive_float(learning_rate, "learning_rate")
        return optimizer
    return get_optimizer(optimizer, learning_rate)


def fit(network: Network, X: Any, y: Any, *, epochs: int = 30, batch_size: int = 10,
        optimizer: str | Optimizer = "sgd", learning_rate: float | None = None,
        validation_data: tuple[Any, ...] | None = None, callbacks: Sequence[Callback] = (),
        seed: int | np.random.Generator | None = None, shuffle: bool = True, monitor_training: bool = True,
        verbose: int = 1, history_file: str | Path | None = None,
        schedule: Schedule | ScheduleFunction | None = None,
        augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
        blas_threads: int | str | None = "auto", divergence_factor: float | None = DIVERGENCE_FACTOR,
        sample_weight: Any = None, class_weight: str | dict | None = None,
        standardize_targets: bool | None = None, chunk: bool = False) -> History:
    """Train ``network`` on (X, y) with mini-batch gradient descent.

    Args:
        X: training inputs, shape (n, n_features): an array, a pandas DataFrame (its column names become
            ``network.feature_names``, and later inputs must have the same) or a scipy.sparse matrix (rows
            are densified one mini-batch at a time).
        y: the targets of the network's task (:func:`mlpkit.tasks.encode_targets`): integer class labels (n,)
            or target rows (n, n_outputs), e.g. one-hot; 0/1 labels; a 0/1 indicator matrix; values.
        epochs: number of passes over the training data.
        batch_size: examples per mini-batch (Nielsen's mini_batch_size, Ng's mini-batch size).
        optimizer: an :class:`~mlpkit.optimizers.Optimizer` or a name (``"sgd"``, ``"adam"``, ...).
        learning_rate: eta; overrides the optimizer's rate (an optimizer given by name gets its default
            from ``DEFAULT_LEARNING_RATES``: 0.1 for ``"sgd"``, 0.001 for ``"adam"``...).
        validation_data: ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)`` evaluated after every
            epoch (``val_loss``, ``val_accuracy``; weighted means with weights).
        callbacks: extra :class:`~mlpkit.callbacks.Callback` objects.
        seed: seed of the shuffling (and of any randomness in training layers); same seed, same run. A
            ``numpy.random.Generator`` is used as it is (and advanced): resuming a run continues its stream.
        shuffle: reshuffle the training data every epoch.
        monitor_training: evaluate cost/accuracy on the whole training set after every epoch (network2's
            monitor_training_cost/accuracy); costs one forward pass over the data.
        verbose: 1 prints one line per epoch, 0 prints nothing.
        history_file: if given, the History is written there as JSON after every epoch.
        schedule: a learning-rate schedule (:mod:`mlpkit.schedules`) or a function
            ``(epoch, history) -> learning rate``, applied at the start of every epoch; a schedule that
            returns None ends training (``stop_reason`` "stopped by the learning-rate schedule").
        augment: a function ``(X, rng) -> X'`` applied to the training inputs at the start of every epoch,
            before shuffling (e.g. :mod:`mlpkit.datasets.augment`'s augmenters; Nielsen ch.3 "artificially
            expanding the training data"); it draws from the training generator and must keep the shape.
            The per-epoch training metrics are measured on the original ``X``.
        blas_threads: BLAS threads for the training steps: ``"auto"`` (default) uses one thread when the
            step's matrix products are small, where extra threads only add synchronization, splits or uses
            one thread for small batches of plain SGD (whose update is fused into the backward products),
            and leaves the count alone otherwise; an int pins it; ``"split"`` keeps NumPy's BLAS threads and
            runs the fused update on one; None leaves it alone (see :mod:`mlpkit.fast.threads`).
        divergence_factor: the divergence guard's limit on the monitored cost (the training cost, else the
            validation cost), as a multiple of the cost before training (measured on up to 2,048 examples of
            the same set); None: only NaN or infinite values count as divergence.
        sample_weight: one weight per training example (n,), finite, >= 0, not all zero. The cost of a batch
            becomes sum_i w_i C_i / sum_i w_i and the regularizer's n the sum of all the weights, so a weight
            of 2 is the row twice (exactly, for full-batch training); the per-epoch logs are weighted too.
        class_weight: ``"balanced"`` (w_c = n / (k n_c), scikit-learn's rule) or ``{class index: weight}``,
            for classification and binary networks; multiplies ``sample_weight``.
        standardize_targets: train a regression network on standardized targets (y - mean) / scale, the
            statistics (weighted with the weights) kept in ``network.target_scaler`` so that ``predict`` answers
            in the original units. None (default): True for a network built with ``task="regression"``,
            False otherwise. A scaler already set (a warm start, a loaded model) is kept and used.
        chunk: (X, y) is one piece of a larger data set (scikit-learn's ``partial_fit``), so its targets may all
            be of one class; otherwise a classification or binary ``y`` with a single class is a ValueError
            (a classifier cannot learn from one class).

    Before training, the network's input-normalization layers that have not been adapted yet
    (:class:`~mlpkit.layers.Standardize`) are adapted on ``X`` (never on the validation data), and the
    optimizer is bound to the network's parameter layout (``Optimizer.bind``). Every callback gets
    ``callback.optimizer`` before its ``on_train_begin``; ``on_epoch_begin`` runs after the schedule has set
    the epoch's learning rate, and ``on_batch_end`` after every step, for the callbacks that override them;
    ``network.stop_training = True`` set there ends the epoch after that step (it is logged, then fit ends).

    Returns:
        History with ``loss``/``accuracy`` (training set, when monitored), ``val_loss``/``val_accuracy``,
        ``time`` (seconds of the training pass of the epoch) and ``learning_rate`` per epoch.

    The divergence guard: when a parameter or a monitored value becomes NaN or infinite, or the monitored
    cost exceeds ``divergence_factor`` times its value before training, training stops with a
    RuntimeWarning; the parameters, the layer states (BatchNorm statistics) and the optimizer's state go back
    to the end of the last good epoch, ``history.stop_reason`` is ``"diverged"`` and ``history.message`` says
    in one line which epoch, what went wrong and what to try.
    """
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    seed = check_seed(seed)
    shuffle, monitor_training = check_bool(shuffle, "shuffle"), check_bool(monitor_training, "monitor_training")
    if not isinstance(verbose, (bool, np.bool_, int, np.integer)) or verbose < 0:
        raise (ValueError if isinstance(verbose, (int, np.integer)) else TypeError)(
            f"verbose must be 0 (silent) or 1 (a line per epoch), got {verbose!r}")
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list of Callback instances, got {type(callbacks).__name__}")
    if divergence_factor is not None:
        divergence_factor = check_positive_float(divergence_factor, "divergence_factor")
    optimizer = _resolve_optimizer(optimizer, learning_rate)
    columns = getattr(X, "columns", None)
    X = network.check_inputs(X, "X")
    regression = network.task == "regression"  # its targets are read in float64, then scaled
    Y = network.encode_targets(y, X.shape[0], "y", np.float64 if regression else None)
    if not check_bool(chunk, "chunk"):
        check_classes(network.task, Y, "y")
    W = row_weights(network.task, Y, sample_weight, class_weight)
    if W is not None and not accepts_weights(network.loss):
        raise ValueError(f"the {network.loss.name} cost does not take sample weights (its value and delta have no "
                         "weights argument); train without sample_weight and class_weight")
    scaler = _target_scaler(network, Y, W, standardize_targets)
    if regression:
        Y = Y.astype(network.dtype) if scaler is None else scaler.transform(Y, network.dtype)
    validation = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise TypeError("validation_data must be a tuple (X_val, y_val) or (X_val, y_val, sample_weight_val)")
        X_val = network.check_inputs(validation_data[0], "validation_data X")
        Y_val = network.encode_targets(validation_data[1], X_val.shape[0], "validation_data y",
                                       np.float64 if regression else None)
        if regression:
            Y_val = Y_val.astype(network.dtype) if scaler is None else scaler.transform(Y_val, network.dtype)
        W_val = None
        if len(validation_data) == 3 and validation_data[2] is not None:
            W_val = check_sample_weight(validation_data[2], X_val.shape[0], "validation_data sample_weight")
        validation = (X_val, Y_val, W_val)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")
    if augment is not None and not callable(augment):
        raise TypeError(f"augment must be a function (X, rng) -> X, got {augment!r}")
    sparse = is_sparse(X)
    if augment is not None and sparse:
        raise TypeError("augment needs a dense X; a scipy.sparse X cannot be augmented")

    steps = choose_steps(network, optimizer, batch_size, blas_threads)
    schedule = start_schedule(schedule, optimizer.learning_rate)
    network.adapt(X, only_new=True)
    optimizer.bind(network.layout)
    network.target_scaler = scaler
    if columns is not None and network.feature_names is None:
        network.feature_names = [str(c) for c in columns]
    if network.target_names is None:
        network.target_names = _target_names(y)

    n = X.shape[0]
    # the regularizer's n: the number of examples, or the sum of their weights
    n_reg = n if W is None else float(W.sum())
    W_train = None if W is None else W.astype(network.dtype)
    rng = np.random.default_rng(seed)
    history = History({"epochs": epochs, "batch_size": batch_size, "n_train": n, "seed": seed,
                       "optimizer": optimizer.get_config(), "network": network.get_config()})
    guard = _DivergenceGuard(network, optimizer)
    if divergence_factor is not None and monitor_training:
        guard.limit_cost("loss", X, Y, n_reg, divergence_factor, W)
    elif divergence_factor is not None and validation is not None:
        X_val, Y_val, W_val = validation
        guard.limit_cost("val_loss", X_val, Y_val, X_val.shape[0] if W_val is None else float(W_val.sum()),
                         divergence_factor, W_val)
    all_callbacks = ([ProgressLogger()] if verbose else []) + list(callbacks)
    epoch_hooks = [cb for cb in all_callbacks if _overrides(cb, "on_epoch_begin")]
    batch_hooks = [cb for cb in all_callbacks if _overrides(cb, "on_batch_end")]
    network.stop_training = False
    network.training_rng = rng
    for cb in all_callbacks:
        cb.optimizer = optimizer
        cb.on_train_begin(network, history)

    # shuffling is by index: each mini-batch is gathered into these buffers just before its step (no shuffled
    # copy of the whole training set, and the batch is still in the cache when its forward pass reads it);
    # a sparse X is densified into X_batch, a batch at a time
    rows = min(batch_size, n)
    X_batch, Y_batch = np.empty((rows, X.shape[1]), X.dtype), np.empty((rows, Y.shape[1]), Y.dtype)
    W_batch = None if W_train is None else np.empty(rows, W_train.dtype)
    step = steps.step
    history.stop_reason = "completed"
    try:
        for epoch in range(epochs):
            if schedule is not None:
                rate = schedule(epoch, history)
                if rate is None:
                    history.stop_reason = "stopped by the learning-rate schedule"
                    break
                optimizer.learning_rate = check_positive_float(rate, "the learning rate from the schedule")
            for cb in epoch_hooks:
                cb.on_epoch_begin(epoch)
            start = time.perf_counter()
            X_source = X if augment is None else _augmented(augment, X, rng)
            order = rng.permutation(n) if shuffle else None
            # overflow inside a diverging epoch is reported once, by the guard below, not per operation
            with np.errstate(over="ignore", invalid="ignore"), limit_blas_threads(steps.threads):
                for batch, lo in enumerate(range(0, n, batch_size)):
                    if order is None:
                        xb, yb = X_source[lo:lo + batch_size], Y[lo:lo + batch_size]
                        if sparse:
                            xb = xb.toarray(out=X_batch[:xb.shape[0]])
                        wb = None if W_train is None else W_train[lo:lo + batch_size]
                    else:
                        index = order[lo:lo + batch_size]
                        m = index.shape[0]
                        # mode="clip" (a no-op for valid indices) lets take write straight into out
                        if sparse:
                            xb = X_source[index].toarray(out=X_batch[:m])
                        else:
                            xb = np.take(X_source, index, axis=0, out=X_batch[:m], mode="clip")
                        yb = np.take(Y, index, axis=0, out=Y_batch[:m], mode="clip")
                        wb = None if W_batch is None else np.take(W_train, index, out=W_batch[:m], mode="clip")
                    if wb is None:
                        step(xb, yb, n)
                    else:
                        step(xb, yb, n_reg, wb)
                    if batch_hooks:
                        batch_logs = {"epoch": epoch, "batch": batch, "size": int(xb.shape[0]),
                                      "learning_rate": optimizer.learning_rate}
                        for cb in batch_hooks:
                            cb.on_batch_end(batch, batch_logs)
                        if network.stop_training:  # a batch hook asked to stop: the epoch ends here
                            break
            logs: dict[str, float] = {"time": time.perf_counter() - start,
                                      "learning_rate": optimizer.learning_rate}
            problem = guard.check_parameters()
            if problem is None:
                if monitor_training:
                    logs.update(network._metrics(X, Y, n_reg, W))
                if validation is not None:
                    X_val, Y_val, W_val = validation
                    logs.update({f"val_{k}": v for k, v in network._metrics(X_val, Y_val, None, W_val).items()})
                problem = guard.check_logs(logs)
            if problem is not None:
                guard.restore(history, epoch, problem)
                break
            guard.keep()
            history.append(epoch, logs)
            for cb in all_callbacks:
                cb.on_epoch_end(epoch, logs)
            if history_file is not None:
                history.to_json(history_file)
            if network.stop_training:
                if history.stop_reason == "completed":
                    history.stop_reason = "stopped by callback"
                break
    finally:
        for cb in all_callbacks:
            cb.on_train_end(history)
        network.training_rng = None
    if history_file is not None:
        history.to_json(history_file)
    return history


def _overrides(callback: Callback, hook: str) -> bool:
    """True when ``callback``'s class defines its own ``hook`` (the base class's does nothing)."""
    return getattr(type(callback), hook) is not getattr(Callback, hook)


def _target_scaler(network: Network, Y: np.ndarray, W: np.ndarray | None,
                   standardize: bool | None) -> TargetScaler | None:
    """The scaler the run trains with: the network's own when set, else a new one fitted on the targets when
    ``standardize`` (None: the network was built with task="regression") asks for it."""
    if standardize is not None and not isinstance(standardize, bool):
        raise TypeError(f"standardize_targets must be True, False or None, got {standardize!r}")
    if standardize and network.task != "regression":
        raise ValueError(f"standardize_targets applies to regression networks, not to a {network.task} network")
    if network.target_scaler is not None:
        return network.target_scaler
    if standardize is None:
        standardize = network.task_given == "regression"
    return TargetScaler.fit(Y, W) if standardize else None


def _target_names(y: Any) -> list[str] | None:
    """Column names of a DataFrame y, or the name of a Series; None for arrays."""
    columns = getattr(y, "columns", None)
    if columns is not None:
        return [str(c) for c in columns]
    name = getattr(y, "name", None)
    return [name] if isinstance(name, str) else None


def _augmented(augment: Callable, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = augment(X, rng)
    if not isinstance(out, np.ndarray) or out.shape != X.shape:
        raise ValueError(f"augment must return an array of the shape of X {X.shape}, got "
                         f"{getattr(out, 'shape', type(out).__name__)}")
    return out if out.dtype == X.dtype else out.astype(X.dtype)


class _DivergenceGuard:
    """Keeps the state of the last good epoch (parameters, layer states, optimizer state), says when an epoch
    went wrong, and puts that state back."""

    def __init__(self, network: Network, optimizer: Optimizer) -> None:
        self.network = network
        self.optimizer = optimizer
        self.key: str | None = None
        self.params = network.flat_parameters.copy()
        self.states = {name: value.copy() for name, value in network.named_states()}
        self.optimizer_state = optimizer.state_dict()

    def limit_cost(self, key: str, X: Any, Y: np.ndarray, n_reg: float, factor: float,
                   W: np.ndarray | None = None) -> None:
        """Limit the logged cost ``key`` to ``factor`` times the cost of (X, Y) (weighted by ``W``) now, before
        training (measured on up to ``INFERENCE_CHUNK`` examples; no limit when that cost is 0)."""
        head = None if W is None or not W[:INFERENCE_CHUNK].any() else W[:INFERENCE_CHUNK]
        with np.errstate(over="ignore"):
            baseline = self.network._metrics(X[:INFERENCE_CHUNK], Y[:INFERENCE_CHUNK], n_reg, head)["loss"]
        if math.isfinite(baseline) and baseline > 0:
            self.key, self.factor, self.baseline = key, factor, baseline

    def keep(self) -> None:
        """Remember the current state as the last good one (after an epoch that passed the checks)."""
        np.copyto(self.params, self.network.flat_parameters)
        for name, value in self.network.named_states():
            np.copyto(self.states[name], value)
        self.optimizer_state = self.optimizer.state_dict()

    def check_parameters(self) -> str | None:
        if np.isfinite(self.network.flat_parameters).all():
            return None
        return "a parameter became NaN or infinite"

    def check_logs(self, logs: dict[str, float]) -> str | None:
        for key, value in logs.items():
            if not math.isfinite(value):
                return f"{_COSTS.get(key, key)} became NaN or infinite"
        if self.key is not None and logs[self.key] > self.factor * self.baseline:
            return (f"{_COSTS[self.key]} {logs[self.key]:.4g} is more than {self.factor:g} times its "
                    f"{self.baseline:.4g} before training")
        return None

    def restore(self, history: History, epoch: int, problem: str) -> None:
        """Put the last good state back, mark ``history`` diverged and warn in one line."""
        np.copyto(self.network.flat_parameters, self.params)
        for name, value in self.network.named_states():
            value[...] = self.states[name]
        self.optimizer.load_state_dict(self.optimizer_state)
        kept = f"epoch {epoch}'s" if epoch else "the initial"
        history.stop_reason = DIVERGED
        history.message = (f"training diverged in epoch {epoch + 1}: {problem}; stopped, with {kept} weights and "
                           f"layer states kept. Try a smaller learning rate (it was "
                           f"{self.optimizer.learning_rate:g}).")
        warnings.warn(history.message, RuntimeWarning, stacklevel=3)
