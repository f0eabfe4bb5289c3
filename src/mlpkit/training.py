"""The training loop: shuffled mini-batches, epochs, monitoring, callbacks, and a divergence guard.

Stochastic gradient descent as in Nielsen ch.1/ch.3 (network2's ``SGD``): each epoch the training data
are shuffled (with a seeded ``numpy.random.Generator``), cut into mini-batches of ``batch_size``, and
every mini-batch makes one optimizer step on the gradient of its mean cost (plus regularization with
n = the training-set size). The whole mini-batch goes through the network as one matrix: there is no
per-example loop.
"""

from __future__ import annotations

import functools
import json
import math
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._atomic import atomic_write_bytes
from .callbacks import Callback, ProgressLogger
from .optimizers import DEFAULT_LEARNING_RATES, Optimizer, get_optimizer
from .schedules import Schedule, ScheduleFunction, start_schedule
from .step_plan import DenseStackPlan
from .threads import SPLIT, blas_thread_count, limit_blas_threads, resolve_blas_threads
from .validation import check_features, check_positive_float, check_positive_int, check_targets

if TYPE_CHECKING:
    from .network import Network

__all__ = ["DEFAULT_LEARNING_RATES", "History", "fit"]


class History:
    """Per-epoch metrics of one training run.

    ``history["val_accuracy"]`` is the list of that metric, one entry per completed epoch. ``params`` holds
    the run's settings, ``stop_reason`` says why training ended (``"completed"``, ``"stopped by callback"``,
    ``"diverged"``, ...).
    """

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self.params: dict[str, Any] = dict(params or {})
        self.history: dict[str, list[float]] = {}
        self.epochs: list[int] = []
        self.stop_reason = "not started"

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epochs.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.epochs)

    def to_dict(self) -> dict[str, Any]:
        return {"params": self.params, "epochs": self.epochs, "history": self.history,
                "stop_reason": self.stop_reason}

    def to_json(self, path: str | Path) -> Path:
        """Write the history as JSON (atomically: a crash never leaves a half-written file)."""
        path = Path(path)
        text = json.dumps(self.to_dict(), indent=2, default=_json_default)
        return atomic_write_bytes(path, text.encode("utf-8"))

    @classmethod
    def from_json(cls, path: str | Path) -> History:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        history = cls(data.get("params"))
        history.epochs = list(data["epochs"])
        history.history = {k: list(v) for k, v in data["history"].items()}
        history.stop_reason = data.get("stop_reason", "unknown")
        return history

    def __repr__(self) -> str:
        return f"History(epochs={len(self)}, metrics={sorted(self.history)}, stop_reason={self.stop_reason!r})"


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return str(value)


def _resolve_optimizer(optimizer: str | Optimizer, learning_rate: float | None) -> Optimizer:
    if isinstance(optimizer, Optimizer):
        if learning_rate is not None:
            optimizer.learning_rate = check_positive_float(learning_rate, "learning_rate")
        return optimizer
    return get_optimizer(optimizer, learning_rate)


def fit(network: Network, X: Any, y: Any, *, epochs: int = 30, batch_size: int = 10,
        optimizer: str | Optimizer = "sgd", learning_rate: float | None = None,
        validation_data: tuple[Any, Any] | None = None, callbacks: Sequence[Callback] = (),
        seed: int | np.random.Generator | None = None, shuffle: bool = True, monitor_training: bool = True,
        verbose: int = 1, history_file: str | Path | None = None,
        schedule: Schedule | ScheduleFunction | None = None,
        augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
        blas_threads: int | str | None = "auto") -> History:
    """Train ``network`` on (X, y) with mini-batch gradient descent.

    Args:
        X: training inputs, shape (n, n_features).
        y: integer class labels (n,) or target rows (n, n_outputs), e.g. one-hot.
        epochs: number of passes over the training data.
        batch_size: examples per mini-batch (Nielsen's mini_batch_size, Ng's mini-batch size).
        optimizer: an :class:`~mlpkit.optimizers.Optimizer` or a name (``"sgd"``, ``"adam"``, ...).
        learning_rate: eta; overrides the optimizer's rate (an optimizer given by name gets its default
            from ``DEFAULT_LEARNING_RATES``: 0.1 for ``"sgd"``, 0.001 for ``"adam"``...).
        validation_data: ``(X_val, y_val)`` evaluated after every epoch (``val_loss``, ``val_accuracy``).
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
            runs the fused update on one; None leaves it alone (see :mod:`mlpkit.threads`).

    Before training, the network's input-normalization layers that have not been adapted yet
    (:class:`~mlpkit.layers.Standardize`) are adapted on ``X`` (never on the validation data), and the
    optimizer is bound to the network (``Optimizer.bind``).

    Returns:
        History with ``loss``/``accuracy`` (training set, when monitored), ``val_loss``/``val_accuracy``,
        ``time`` (seconds of the training pass of the epoch) and ``learning_rate`` per epoch.

    A cost or parameter that becomes NaN or infinite stops training with a RuntimeWarning; the weights are
    restored to the end of the last good epoch and ``history.stop_reason`` is ``"diverged"``.
    """
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    optimizer = _resolve_optimizer(optimizer, learning_rate)
    X = check_features(X, "X", n_features=network.input_dim, dtype=network.dtype)
    Y = check_targets(y, X.shape[0], network.output_dim, "y", dtype=network.dtype)
    validation = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a tuple (X_val, y_val)")
        X_val = check_features(validation_data[0], "validation_data X", n_features=network.input_dim,
                               dtype=network.dtype)
        Y_val = check_targets(validation_data[1], X_val.shape[0], network.output_dim, "validation_data y",
                              dtype=network.dtype)
        validation = (X_val, Y_val)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")
    if augment is not None and not callable(augment):
        raise TypeError(f"augment must be a function (X, rng) -> X, got {augment!r}")

    fusable = network.can_fuse_sgd(optimizer)
    threads = resolve_blas_threads(blas_threads, network, batch_size, fusable)
    schedule = start_schedule(schedule, optimizer.learning_rate)
    network.adapt(X, only_new=True)
    optimizer.bind(network)

    n = X.shape[0]
    rng = np.random.default_rng(seed)
    history = History({"epochs": epochs, "batch_size": batch_size, "n_train": n, "seed": seed,
                       "optimizer": optimizer.get_config(), "network": network.get_config()})
    all_callbacks = ([ProgressLogger()] if verbose else []) + list(callbacks)
    network.stop_training = False
    network.training_rng = rng
    for cb in all_callbacks:
        cb.on_train_begin(network, history)

    # shuffling is by index: each mini-batch is gathered into these buffers just before its step (no shuffled
    # copy of the whole training set, and the batch is still in the cache when its forward pass reads it)
    rows = min(batch_size, n)
    X_batch, Y_batch = np.empty((rows, X.shape[1]), X.dtype), np.empty((rows, Y.shape[1]), Y.dtype)
    last_good = network.flat_parameters.copy()
    history.stop_reason = "completed"
    try:
        for epoch in range(epochs):
            if schedule is not None:
                rate = schedule(epoch, history)
                if rate is None:
                    history.stop_reason = "stopped by the learning-rate schedule"
                    break
                optimizer.learning_rate = check_positive_float(rate, "the learning rate from the schedule")
            start = time.perf_counter()
            X_source = X if augment is None else _augmented(augment, X, rng)
            order = rng.permutation(n) if shuffle else None
            # overflow inside a diverging epoch is reported once, by the guard below, not per operation
            with np.errstate(over="ignore", invalid="ignore"), limit_blas_threads(threads):
                step = _step_function(network, fused=fusable and (threads == SPLIT or blas_thread_count() == 1))
                for lo in range(0, n, batch_size):
                    if order is None:
                        step(X_source[lo:lo + batch_size], Y[lo:lo + batch_size], optimizer, n)
                        continue
                    index = order[lo:lo + batch_size]
                    m = index.shape[0]
                    # mode="clip" (a no-op for valid indices) lets take write straight into out
                    xb = np.take(X_source, index, axis=0, out=X_batch[:m], mode="clip")
                    yb = np.take(Y, index, axis=0, out=Y_batch[:m], mode="clip")
                    step(xb, yb, optimizer, n)
            logs: dict[str, float] = {"time": time.perf_counter() - start,
                                      "learning_rate": optimizer.learning_rate}
            if not np.isfinite(network.flat_parameters).all():
                _diverged(network, last_good, history, epoch, "a parameter became NaN or infinite")
                break
            if monitor_training:
                logs.update(network._metrics(X, Y, n))
            if validation is not None:
                logs.update({f"val_{k}": v for k, v in network._metrics(*validation).items()})
            if not all(math.isfinite(v) for v in logs.values()):
                _diverged(network, last_good, history, epoch, "the cost became NaN or infinite")
                break
            np.copyto(last_good, network.flat_parameters)
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


def _step_function(network: Network, fused: bool) -> Callable[[np.ndarray, np.ndarray, Optimizer, int], None]:
    """The epoch's step: a :class:`~mlpkit.step_plan.DenseStackPlan` for a stack of Dense layers, else the
    network's layer-by-layer step; ``fused``: plain SGD may be applied inside the backward products."""
    if DenseStackPlan.applies_to(network):
        return DenseStackPlan(network, fused).step
    return functools.partial(network._train_step, fused=fused)


def _augmented(augment: Callable, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = augment(X, rng)
    if not isinstance(out, np.ndarray) or out.shape != X.shape:
        raise ValueError(f"augment must return an array of the shape of X {X.shape}, got "
                         f"{getattr(out, 'shape', type(out).__name__)}")
    return out if out.dtype == X.dtype else out.astype(X.dtype)


def _diverged(network: Network, last_good: np.ndarray, history: History, epoch: int, what: str) -> None:
    np.copyto(network.flat_parameters, last_good)
    history.stop_reason = "diverged"
    warnings.warn(
        f"training diverged in epoch {epoch + 1}: {what}. Stopped; the weights of the last good epoch "
        f"({epoch}) were kept. Try a smaller learning rate.",
        RuntimeWarning,
        stacklevel=3,
    )
