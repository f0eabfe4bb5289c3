"""scikit-learn estimators backed by mlpkit: :class:`MLPKitClassifier` and :class:`MLPKitRegressor`.

They follow scikit-learn's estimator contract (``fit``/``predict``/``score``, ``get_params``/``set_params``,
``clone``), so they work inside ``Pipeline``, ``cross_val_score`` and ``GridSearchCV``, and they take
scikit-learn's ``MLPClassifier``/``MLPRegressor`` parameters under the same names where the ideas coincide::

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from mlpkit.sklearn import MLPKitClassifier

    model = make_pipeline(StandardScaler(), MLPKitClassifier(hidden_layer_sizes=(100,), early_stopping=True,
                                                             random_state=0))
    model.fit(X_train, y_train).score(X_test, y_test)

Targets. :class:`MLPKitClassifier`: binary labels (one sigmoid output unit, binary cross-entropy, as
``MLPClassifier``; ``predict_proba`` still has two columns), multi-class labels (softmax, one unit per class,
categorical cross-entropy), or a 2-D 0/1 indicator matrix for multilabel (one sigmoid unit per label;
``predict`` returns the indicator matrix, ``score`` is the subset accuracy). Labels may be any values
(strings included); ``classes_`` lists them sorted. :class:`MLPKitRegressor`: one target (n,) or several
(n, k); ``predict`` returns the shape ``y`` had.

Inputs: dense arrays, DataFrames, or scipy.sparse matrices (CSR, CSC; other formats are converted): sparse
``X`` is densified one mini-batch (or one inference chunk) at a time, never whole. A ``X`` of another width
than in ``fit`` is a one-line ValueError.

Parameters (both estimators unless marked):

- ``hidden_layer_sizes`` (``(100,)``), ``activation`` (``"relu"``; any mlpkit activation: ``"tanh"``,
  ``"sigmoid"``..., scikit-learn's ``"logistic"`` is mlpkit's ``"sigmoid"``);
- ``output_activation``: ``"auto"`` as above. A classifier may ask for ``"softmax"`` (two softmax units for two
  classes, the same model as one sigmoid) or ``"sigmoid"`` (for k > 2 classes: network2's k sigmoid units,
  argmax, probabilities divided by their sum); a regressor may use any activation (``"auto"``: identity);
- ``loss``: classifier ``"auto"`` (cross-entropy as above) or any mlpkit cost name; regressor
  ``"squared_error"`` (default; also ``"auto"``, mlpkit's ``"quadratic"``), ``"absolute_error"``/``"mae"``, or
  ``"huber"`` with
  ``huber_delta`` (regressor; default 1.0: cost r^2/2 for |r| <= delta, delta (|r| - delta/2) beyond);
- ``standardize_targets`` (regressor, default True): train on (y - mean) / std of the training targets
  (weighted by ``sample_weight``); ``predict`` answers in the original units. scikit-learn's MLPRegressor
  has no such option; without it an unscaled target (prices in thousands) needs a tiny learning rate;
- ``init``: ``"auto"`` is Glorot uniform (``"xavier_uniform"``: W ~ U(-r, r), r = sqrt(6 / (n_in + n_out));
  Glorot & Bengio 2010), the initialization scikit-learn's MLP uses for ReLU and tanh layers, so that the two
  train alike (``benchmarks/results/tabular.md``); He's N(0, 2/n_in) (``"he"``; Ng course 2 week 1) trains
  slower on the smooth regression there; or any mlpkit initializer name;
- ``optimizer`` (scikit-learn's ``solver``): ``"adam"`` (default) or any of
  :data:`mlpkit.optimizers.OPTIMIZER_NAMES` (``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"rmsprop"``,
  ``"adamw"``), a config dict (``{"name": "momentum", "convention": "classical"}``) or an
  :class:`~mlpkit.optimizers.Optimizer` (copied: each ``fit`` starts a fresh one). ``learning_rate``
  (scikit-learn's ``learning_rate_init``; None: the optimizer's default, 0.001 for Adam, 0.1 for SGD).
  Hyper-parameters under scikit-learn's names, each used by the optimizers that have it and ignored by the
  others (as scikit-learn ignores ``momentum`` for Adam); None keeps the optimizer's default:
  ``momentum`` (beta of ``"momentum"`` and ``"nesterov"``), ``beta_1``, ``beta_2`` (``"adam"``, ``"adamw"``;
  ``beta_2`` also ``"rmsprop"``'s), ``epsilon`` (``"adam"``, ``"adamw"``, ``"rmsprop"``), ``weight_decay``
  (``"adamw"``). scikit-learn's ``"lbfgs"`` has no counterpart;
- ``schedule``: None (a constant rate) or a learning-rate schedule of :mod:`mlpkit.schedules`: a name from
  :data:`mlpkit.schedules.SCHEDULE_NAMES` (``"constant"``, ``"inverse_time"``, ``"exponential"``, ``"step"``,
  ``"halve_on_plateau"``), a config dict with its parameters (``{"name": "exponential", "decay_rate": 0.9}``,
  ``{"name": "step", "step_size": 10}``) or a Schedule (copied). The rate changes once per epoch;
  ``partial_fit`` numbers its calls as epochs. ``"halve_on_plateau"`` monitors ``val_accuracy`` by default,
  which is logged with ``early_stopping``. (scikit-learn's ``learning_rate="invscaling"`` decays per step,
  not per epoch; ``"inverse_time"`` is the per-epoch analogue.);
- ``alpha``: L2 regularization in Nielsen's form (alpha / 2n) sum w^2 with n the number of training samples
  (the sum of the sample weights; Nielsen eq. (85)); scikit-learn divides by the mini-batch size instead, so
  its alpha matches ``alpha * n / batch_size`` here. Default 0;
- ``dropout``: KEEP probabilities, mlpkit's convention (``mlpkit train --dropout``, :class:`mlpkit.layers.Dropout`;
  Ng's keep_prob), not drop rates: one float for every hidden layer or a list with one per hidden layer;
  1.0 (or None, the default) is no dropout, 0.8 drops 20% of the units (inverted dropout: no rescaling at
  prediction time);
- ``batch_norm`` (False): batch normalization of each hidden layer's pre-activations (Ioffe & Szegedy 2015;
  the Dense layer then has no bias);
- ``batch_size``: ``"auto"`` (default) is min(200, n_samples) as scikit-learn's, or an int;
- ``max_iter`` (200): the most epochs (passes over the data) one ``fit`` runs; scikit-learn's name, which
  replaces this wrapper's former ``epochs``. ``tol`` (1e-4) and ``n_iter_no_change`` (10) stop earlier, by
  scikit-learn's rule: without ``early_stopping``, an epoch whose training cost is not below the best so far
  by more than ``tol`` counts as no improvement; with it, an epoch whose validation score (accuracy -- subset
  accuracy for multilabel -- for a classifier, R^2 for a regressor, weighted by ``sample_weight``) is not above
  the best by more than ``tol``; training stops when more than ``n_iter_no_change`` epochs in a row did not
  improve. Reaching ``max_iter`` without that emits scikit-learn's ``ConvergenceWarning``;
- ``early_stopping`` (False), ``validation_fraction`` (0.1): hold out that fraction of the training data
  (stratified by class for a single-label classifier, drawn from ``random_state``), score it after every
  epoch, stop as above and end with the weights (and BatchNorm statistics) of the epoch with the best
  validation score. ``partial_fit`` with ``early_stopping=True`` is a ValueError, as in scikit-learn;
- ``warm_start`` (False): a later ``fit`` continues from the fitted network (same classes and widths
  required) with a fresh optimizer, and extends ``loss_curve_``, ``t_`` and the stopping counters, as
  scikit-learn's (``n_iter_`` counts the epochs of the latest call, as there);
- ``class_weight`` (classifier; binary and multi-class): None, ``"balanced"`` (w_c = n / (k n_c),
  scikit-learn's rule, from the training part of the data) or a mapping {label: weight}; multiplied into
  ``sample_weight``. scikit-learn's MLPClassifier has no class_weight;
- ``shuffle`` (True), ``random_state`` (seeds initialization, shuffling, dropout and the validation split: the
  same value gives the same model), ``dtype`` (``"float32"`` default, or ``"float64"``), ``verbose`` (1: one
  line per epoch).

``fit(X, y, sample_weight=None)``, ``partial_fit(X, y, sample_weight=None, classes=None)`` (the classifier's;
scikit-learn 1.9's argument order) and
``score(X, y, sample_weight=None)`` take per-sample weights (finite, >= 0, not all 0): the cost is the
weighted mean sum_i w_i C_i / sum_i w_i, so a weight of 2 is the same as the row given twice (exactly, for
full-batch training). ``partial_fit`` trains one epoch on the data given, continuing the weights and the
optimizer's state; the classifier's first call needs ``classes=`` (every label), as scikit-learn's.

Fitted attributes: ``network_`` (the trained :class:`mlpkit.Network`), ``history_`` (the last call's
:class:`mlpkit.History`: ``loss``, ``accuracy``, ``val_loss``/``val_accuracy`` with early stopping, learning
rates, ``stop_reason``), and scikit-learn's: ``loss_curve_`` (training cost per epoch, regularization
included, measured on the whole training set after the epoch, where scikit-learn averages the mini-batch
costs during it; a regressor's in standardized units with ``standardize_targets``), ``n_iter_`` (epochs of the
latest ``fit``; 1 after ``partial_fit``), ``t_`` (training samples seen), ``best_loss_`` (lowest training cost;
None with early stopping), ``validation_scores_`` and ``best_validation_score_`` (with early stopping, else
None), ``coefs_`` and ``intercepts_`` (views of the Dense layers' weights, (n_in, n_out), and biases),
``n_layers_``, ``n_outputs_``, ``out_activation_`` (scikit-learn's names: ``"softmax"``, ``"logistic"``,
``"identity"``), ``n_features_in_`` (and ``feature_names_in_`` for DataFrames), ``classes_`` (classifier).

scikit-learn is an optional dependency: ``import mlpkit`` never imports it; this module does.

scikit-learn's ``check_estimator`` passes in full for ``dtype="float64"``. With the default ``dtype="float32"``
the checks in :func:`expected_failed_checks` do not apply (the test suite uses it with
``parametrize_with_checks``, and runs them with float64):

- ``check_methods_subset_invariance``: it requires the outputs for a subset of the rows to equal those for
  the whole set to 1e-7. In float32 the BLAS matrix product sums each row's terms in an order that depends
  on how many rows the batch has, so results differ around the 7th significant digit (float32's resolution
  is 1.2e-7); predictions are otherwise unaffected. With ``dtype="float64"`` the check passes.
- ``check_sample_weight_equivalence_on_dense_data`` / ``_on_sparse_data``: a row weighted 2 and the row given
  twice give the same model up to the order of a sum, which float32 resolves to about 1e-7 relative, the
  check's limit; with ``dtype="float64"`` they agree to 1e-10 (tested) and the checks pass.
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "mlpkit.sklearn needs scikit-learn >= 1.6 (pip install 'mlpkit[sklearn]'); the rest of mlpkit works without it"
    ) from exc

from .callbacks import Callback
from .history import History
from .layers import BatchNorm, Dense, Dropout, Layer
from .network import Network
from .optimizers import Optimizer, get_optimizer, optimizer_class
from .regularizers import L2
from .schedules import Schedule, get_schedule
from .validation import check_bool, check_positive_float, check_positive_int, resolve_dtype

__all__ = ["MLPKitClassifier", "MLPKitRegressor", "expected_failed_checks"]

_FLOAT32_SUBSET_REASON = (
    "float32: BLAS sums each row's products in an order that depends on the number of rows in the batch, so "
    "outputs for a subset differ from those for the whole set around the 7th significant digit (the check "
    "allows 1e-7); passes with dtype='float64'"
)

_FLOAT32_SAMPLE_WEIGHT_REASON = (
    "float32: the cost of a row weighted 2 and of the row given twice are summed in different orders, which "
    "differ around float32's resolution (1.2e-7; the check allows 1e-7 relative); passes with dtype='float64'"
)

#: scikit-learn's name of an optimizer hyper-parameter -> its name in mlpkit's optimizers
_OPTIMIZER_HYPERPARAMETERS = {"momentum": "beta", "beta_1": "beta1", "beta_2": "beta2", "epsilon": "eps",
                              "weight_decay": "weight_decay"}
#: scikit-learn's names of the regression costs -> mlpkit's
_REGRESSION_LOSSES = {"auto": "quadratic", "squared_error": "quadratic", "absolute_error": "mae"}
#: the estimators' on/off parameters (each True or False)
_FLAGS = ("warm_start", "early_stopping", "shuffle", "batch_norm", "standardize_targets")
#: mlpkit's output activations by scikit-learn's names (``out_activation_``)
_SKLEARN_ACTIVATION_NAMES = {"sigmoid": "logistic"}


def expected_failed_checks(estimator: BaseEstimator) -> dict[str, str]:
    """The scikit-learn ``check_estimator`` checks that do not apply to ``estimator``: {check name: reason}.

    For ``sklearn.utils.estimator_checks.check_estimator(est, expected_failed_checks=...)`` and
    ``parametrize_with_checks(..., expected_failed_checks=expected_failed_checks)``.
    """
    if isinstance(estimator, _MLPKitEstimator) and resolve_dtype(estimator.dtype) == np.float32:
        return {"check_methods_subset_invariance": _FLOAT32_SUBSET_REASON,
                "check_sample_weight_equivalence_on_dense_data": _FLOAT32_SAMPLE_WEIGHT_REASON,
                "check_sample_weight_equivalence_on_sparse_data": _FLOAT32_SAMPLE_WEIGHT_REASON}
    return {}


def _validate(estimator: BaseEstimator, X: Any, y: Any = "no_validation", **options: Any) -> Any:
    """scikit-learn's ``validate_data`` with its errors in one line: a complex X is refused before it runs (its
    own message prints the whole array), and in the others the lines are joined and the printed data
    (``array=[...]``) left out, keeping what was wrong and the advice ("Reshape your data ...")."""
    dtype = getattr(X, "dtype", None)
    if dtype is None and not hasattr(X, "tocsr") and not hasattr(X, "columns"):
        try:
            dtype = np.asarray(X).dtype
        except (TypeError, ValueError):
            dtype = None
    if dtype is not None and np.dtype(dtype).kind == "c":
        raise ValueError(f"Complex data not supported: X must be real numbers, got dtype {np.dtype(dtype)}")
    try:
        return validate_data(estimator, X, y, **options)
    except (TypeError, ValueError) as exc:
        lines = str(exc).strip().splitlines()
        if len(lines) <= 1:
            raise
        kept = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith(("array=", "["))]
        raise type(exc)(" ".join(kept)) from exc


def _check_sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    """``sample_weight`` as a float64 (n_samples,) array of finite weights >= 0, not all 0 (None stays None)."""
    if sample_weight is None:
        return None
    try:
        weights = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sample_weight must be numbers, one per sample; {exc}") from exc
    if weights.ndim == 0:
        weights = np.full(n_samples, float(weights))
    if weights.shape != (n_samples,):
        raise ValueError(f"sample_weight has shape {weights.shape}, expected ({n_samples},): one weight per sample")
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if bad.size:
        raise ValueError(f"sample_weight must be finite and >= 0, got {weights[bad[0]]} for sample {bad[0]}")
    if not weights.any():
        raise ValueError("sample_weight is zero for every sample; at least one weight must be positive")
    return weights


class _Convergence(Callback):
    """scikit-learn's stopping rule for MLPs (``BaseMultilayerPerceptron._update_no_improvement_count``).

    After every epoch, with ``early_stopping`` the score s on the held-out validation set (accuracy for a
    classifier, R^2 for a regressor) is recorded in ``validation_scores_``; the epoch counts as no
    improvement when s < best_validation_score_ + tol, and a score above the best so far becomes the best
    (its weights and layer states are copied). Without it the training cost L counts as no improvement when
    L > best_loss_ - tol, and a cost below the best becomes ``best_loss_``. Training stops when the count
    of consecutive epochs without improvement exceeds ``n_iter_no_change`` (as scikit-learn: the
    (n_iter_no_change + 1)-th such epoch stops), and with ``early_stopping`` the best epoch's weights are
    put back when training ends. The counters live on the estimator, so ``warm_start`` continues them.
    """

    def __init__(self, estimator: _MLPKitEstimator, n_train: int, validation: tuple | None, stop: bool) -> None:
        self.estimator = estimator
        self.n_train = n_train
        self.validation = validation
        self.stop = stop
        self.converged = False

    def on_train_begin(self, network: Network, history: History) -> None:
        super().on_train_begin(network, history)
        self._history = history
        if self.validation is not None:
            # the network starts from the best weights so far (a warm start restored them at its end)
            self._best_params = network.flat_parameters.copy()
            self._best_states = {name: value.copy() for name, value in network.named_states()}

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        est = self.estimator
        tol = float(est.tol)
        est.loss_curve_.append(float(logs["loss"]))
        est.n_iter_ += 1
        est.t_ += self.n_train
        if self.validation is not None:
            score = est._network_score(self.network, *self.validation)
            est.validation_scores_.append(score)
            est._no_improvement_count = est._no_improvement_count + 1 \
                if score < est.best_validation_score_ + tol else 0
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                np.copyto(self._best_params, self.network.flat_parameters)
                self._best_states = {name: value.copy() for name, value in self.network.named_states()}
            what = "Validation score"
        else:
            loss = est.loss_curve_[-1]
            est._no_improvement_count = est._no_improvement_count + 1 if loss > est.best_loss_ - tol else 0
            est.best_loss_ = min(est.best_loss_, loss)
            what = "Training loss"
        if self.stop and est._no_improvement_count > est.n_iter_no_change:
            self.converged = True
            self.network.stop_training = True
            self._history.stop_reason = (f"{what} did not improve more than tol={tol:g} for "
                                         f"{est.n_iter_no_change} consecutive epochs")

    def on_train_end(self, history: History) -> None:
        if self.validation is not None:
            np.copyto(self.network.flat_parameters, self._best_params)
            for name, value in self.network.named_states():
                value[...] = self._best_states[name]


class _MLPKitEstimator(BaseEstimator):
    """What the classifier and the regressor share: hyper-parameters, building and training the network.

    Subclasses define ``__init__`` (scikit-learn reads the parameters from its signature), the targets
    (``_network_score``) and the outputs.
    """

    # ------------------------------------------------------------------------------------- helpers
    def _float_dtype(self) -> np.dtype:
        return resolve_dtype(self.dtype)

    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            sizes = (sizes,)
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (Sequence, np.ndarray)):
            raise TypeError(f"hidden_layer_sizes must be an int or a sequence of ints, got {sizes!r}")
        return [check_positive_int(s, f"hidden_layer_sizes[{i}]") for i, s in enumerate(sizes)]

    def _keep_probabilities(self, n_hidden: int) -> list[float]:
        """``dropout`` as one keep probability per hidden layer (1.0: no dropout)."""
        dropout = self.dropout
        if dropout is None:
            return [1.0] * n_hidden
        values = [dropout] * n_hidden if isinstance(dropout, numbers.Real) else dropout
        if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
            raise TypeError(f"dropout must be a keep probability or a list of them, got {dropout!r}")
        if len(values) != n_hidden:
            raise ValueError(f"dropout has {len(values)} keep probabilities, expected one per hidden layer "
                             f"({n_hidden})")
        for value in values:
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 < value <= 1.0:
                raise ValueError(f"dropout must hold keep probabilities in (0, 1] (1: no dropout), got {value!r}")
        return [float(v) for v in values]

    def _batch_size(self, n_samples: int) -> int:
        if isinstance(self.batch_size, str) and self.batch_size == "auto":
            return min(200, n_samples)
        return check_positive_int(self.batch_size, "batch_size")

    def _build_network(self, n_features: int, n_outputs: int, output_activation: str, loss: Any, task: str,
                       seed: int) -> Network:
        """[Dense (or Dense without bias + BatchNorm) + Dropout] per hidden layer, then the output layer."""
        hidden = self._hidden_sizes()
        keep = self._keep_probabilities(len(hidden))
        init = self.init
        if init == "auto":
            init = "xavier_uniform"
        alpha = check_positive_float(self.alpha, "alpha", allow_zero=True)
        layers: list[Layer] = []
        for width, keep_prob in zip(hidden, keep, strict=True):
            if self.batch_norm:
                layers += [Dense(width, None, init=init, use_bias=False), BatchNorm(activation=self.activation)]
            else:
                layers.append(Dense(width, self.activation, init=init))
            if keep_prob < 1.0:
                layers.append(Dropout(keep_prob))
        layers.append(Dense(n_outputs, output_activation, init=init))
        return Network(layers, input_dim=n_features, loss=loss, regularizer=L2(alpha) if alpha else None,
                       dtype=self._float_dtype(), seed=seed, task=task)

    def _make_optimizer(self) -> Optimizer:
        """A fresh optimizer: ``optimizer`` (name, config dict or a copy of an instance) with ``learning_rate``
        and the hyper-parameters given under scikit-learn's names that this optimizer takes."""
        spec = self.optimizer
        if isinstance(spec, Optimizer):
            config = spec.get_config()
        elif isinstance(spec, str):
            config = {"name": spec}
        elif isinstance(spec, Mapping):
            config = dict(spec)
        else:
            raise TypeError(f"optimizer must be a name, a config dict or an Optimizer, got {spec!r}")
        accepted = inspect.signature(optimizer_class(config.get("name", "")).__init__).parameters
        given = {}
        for ours, theirs in _OPTIMIZER_HYPERPARAMETERS.items():
            value = getattr(self, ours)
            if value is not None and theirs in accepted:
                config[theirs] = given[theirs] = value
        try:
            return get_optimizer(config, self.learning_rate)
        except (TypeError, ValueError) as exc:  # name the parameter as the estimator calls it
            ours = next((o for o, t in _OPTIMIZER_HYPERPARAMETERS.items() if t in given and
                         str(exc).startswith(f"{t} ")), None)
            if ours is None:
                raise
            raise type(exc)(f"{ours}: {exc}") from exc

    def _make_schedule(self) -> Schedule | None:
        spec = self.schedule
        if spec is None:
            return None
        return get_schedule(spec.get_config() if isinstance(spec, Schedule) else spec)

    def _first_pass(self, incremental: bool) -> bool:
        """Whether this call builds a new network (scikit-learn's rule: not fitted, or a fit without warm_start).
        Checks the on/off parameters first: a string such as "no" must not count as True."""
        for flag in _FLAGS:
            if hasattr(self, flag):
                check_bool(getattr(self, flag), flag)
        return not hasattr(self, "network_") or (not self.warm_start and not incremental)

    def _validation_split(self, n: int, stratify: np.ndarray | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Row indices (train, validation) for early stopping: ``validation_fraction`` of the rows, stratified by
        ``stratify`` when given (scikit-learn's ``train_test_split``)."""
        fraction = self.validation_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0.0 < fraction < 1.0:
            raise ValueError(f"validation_fraction must be in (0, 1) with early_stopping, got {fraction!r}")
        if fraction * n < 2:
            raise ValueError(f"validation_fraction={fraction} of {n} samples leaves fewer than 2 for validation; "
                             "raise it or give more samples")
        return train_test_split(np.arange(n), test_size=fraction, random_state=seed, stratify=stratify)

    def _train(self, X: Any, Y: np.ndarray, *, n_outputs: int, output_activation: str, loss: Any, task: str,
               sample_weight: np.ndarray | None, incremental: bool, first: bool, stratify: np.ndarray | None = None,
               fit_options: dict[str, Any] | None = None) -> None:
        """Train (a new network when ``first``) on (X, Y) for ``max_iter`` epochs, or one epoch when
        ``incremental`` (partial_fit), and set the fitted attributes."""
        max_iter = check_positive_int(self.max_iter, "max_iter")
        check_positive_float(self.tol, "tol", allow_zero=True)
        check_positive_int(self.n_iter_no_change, "n_iter_no_change")
        try:
            rng = check_random_state(self.random_state)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"random_state must be None, a non-negative integer below 2**32 or a "
                             f"numpy.random.RandomState, got {self.random_state!r}") from exc
        init_seed, shuffle_seed, split_seed = (int(s) for s in rng.randint(np.iinfo(np.int32).max, size=3))
        early_stopping = bool(self.early_stopping)
        if early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True (as scikit-learn's): there is no "
                             "held-out set across calls; set early_stopping=False")
        validation = None
        if early_stopping:
            train, held_out = self._validation_split(X.shape[0], stratify, split_seed)
            weights_out = None if sample_weight is None else sample_weight[held_out]
            validation = (X[held_out], Y[held_out], weights_out)
            X, Y = X[train], Y[train]
            sample_weight = None if sample_weight is None else sample_weight[train]
        if first:
            self.network_: Network = self._build_network(X.shape[1], n_outputs, output_activation, loss, task,
                                                         init_seed)
            self._rng = np.random.default_rng(shuffle_seed)
            self._optimizer: Optimizer | None = None
            self._schedule: Schedule | None = None
            self.loss_curve_: list[float] = []
            self.t_: int = 0
            self._no_improvement_count = 0
            self.validation_scores_: list[float] | None = [] if early_stopping else None
            self.best_validation_score_: float | None = -np.inf if early_stopping else None
            self.best_loss_: float | None = None if early_stopping else np.inf
        if early_stopping and self.validation_scores_ is None:  # a warm start that turns early stopping on
            self.validation_scores_, self.best_validation_score_ = [], -np.inf
        if not early_stopping and self.best_loss_ is None:
            self.best_loss_ = np.inf
        self.n_iter_: int = 0  # the epochs of this call, as scikit-learn's (loss_curve_ and t_ keep growing)
        if not incremental or self._optimizer is None:
            self._optimizer = self._make_optimizer()
        if not incremental or self._schedule is None:
            self._schedule = self._make_schedule()
        schedule: Schedule | Callable[[int, History | None], float | None] | None = self._schedule
        if incremental and self._schedule is not None:
            # partial_fit: one epoch per call, numbered by the epochs trained so far
            done, whole_run = len(self.loss_curve_), self._schedule
            if done == 0:
                whole_run.start(self._optimizer.learning_rate)

            def schedule(epoch: int, history: History | None) -> float | None:
                return whole_run(done + epoch, history)
        monitor = _Convergence(self, X.shape[0], validation, stop=not incremental)
        options: dict[str, Any] = dict(fit_options or {})
        if sample_weight is not None:
            options["sample_weight"] = sample_weight
        if validation is not None:
            options["validation_data"] = validation if sample_weight is not None else validation[:2]
        history = self.network_.fit(X, Y, epochs=1 if incremental else max_iter,
                                    batch_size=self._batch_size(X.shape[0]), optimizer=self._optimizer,
                                    seed=self._rng, shuffle=bool(self.shuffle), monitor_training=True,
                                    verbose=int(bool(self.verbose)), schedule=schedule, callbacks=[monitor],
                                    chunk=incremental, **options)
        self.history_: History = history
        self.n_outputs_: int = n_outputs
        self.n_layers_: int = len(self._hidden_sizes()) + 2
        self.out_activation_: str = _SKLEARN_ACTIVATION_NAMES.get(output_activation, output_activation)
        if not incremental and not monitor.converged and history.stop_reason == "completed":
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({max_iter}) reached and the optimization "
                          "hasn't converged yet.", ConvergenceWarning, stacklevel=4)

    def _check_X(self, X: Any) -> Any:
        check_is_fitted(self, "network_")
        return _validate(self, X, reset=False, accept_sparse=("csr", "csc"), dtype=self._float_dtype())

    @property
    def coefs_(self) -> list[np.ndarray]:
        """The weight matrix of every Dense layer, shape (n_in, n_out) (live views into the network)."""
        check_is_fitted(self, "network_")
        return [layer.params["W"] for layer in self.network_.layers if isinstance(layer, Dense)]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """The bias vector of every Dense layer that has one (with ``batch_norm`` the hidden layers' shifts are
        BatchNorm's beta instead)."""
        check_is_fitted(self, "network_")
        return [layer.params["b"] for layer in self.network_.layers if isinstance(layer, Dense) and
                "b" in layer.params]


class MLPKitClassifier(ClassifierMixin, _MLPKitEstimator):
    """A multi-layer perceptron classifier trained by mlpkit: binary, multi-class and multilabel targets.

    See the module documentation for the parameters and the fitted attributes. Labels may be any values
    scikit-learn accepts for binary or multi-class targets (integers, strings...); ``classes_`` lists them
    in sorted order and ``predict_proba`` columns follow it. A 2-D 0/1 indicator ``y`` is multilabel.
    """

    def __init__(self, hidden_layer_sizes: int | Sequence[int] = (100,), activation: str = "relu", *,
                 output_activation: str = "auto", loss: str = "auto", init: str = "auto",
                 optimizer: str | dict | Optimizer = "adam", learning_rate: float | None = None,
                 momentum: float | None = None, beta_1: float | None = None, beta_2: float | None = None,
                 epsilon: float | None = None, weight_decay: float | None = None,
                 schedule: str | dict | Schedule | None = None, alpha: float = 0.0,
                 dropout: float | Sequence[float] | None = None, batch_norm: bool = False,
                 batch_size: int | str = "auto", max_iter: int = 200, tol: float = 1e-4,
                 n_iter_no_change: int = 10, early_stopping: bool = False, validation_fraction: float = 0.1,
                 warm_start: bool = False, shuffle: bool = True,
                 random_state: int | np.random.RandomState | None = None,
                 class_weight: str | Mapping | None = None, dtype: str = "float32", verbose: int = 0) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.loss = loss
        self.init = init
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.alpha = alpha
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.shuffle = shuffle
        self.random_state = random_state
        self.class_weight = class_weight
        self.dtype = dtype
        self.verbose = verbose

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPKitClassifier:
        """Train on samples ``X`` (n_samples, n_features; dense or scipy.sparse) with labels ``y`` (n_samples,)
        or a 0/1 indicator matrix (n_samples, n_labels) for multilabel, weighting each sample by
        ``sample_weight``; returns self."""
        return self._fit(X, y, sample_weight, classes=None, incremental=False)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None) -> MLPKitClassifier:
        """One epoch over (X, y), continuing from the current weights and optimizer state. ``classes`` (every
        label the data can hold) is required on the first call, as scikit-learn's ``partial_fit`` (whose
        argument order this follows)."""
        return self._fit(X, y, sample_weight, classes=classes, incremental=True)

    def _fit(self, X: Any, y: Any, sample_weight: Any, *, classes: Any, incremental: bool) -> MLPKitClassifier:
        first = self._first_pass(incremental)
        X, y = _validate(self, X, y, accept_sparse=("csr", "csc"), multi_output=True,
                             dtype=self._float_dtype(), reset=first)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        target_type = type_of_target(y)
        if target_type not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(f"MLPKitClassifier supports binary, multiclass and multilabel-indicator targets, "
                             f"got {target_type!r}")
        multilabel = target_type == "multilabel-indicator"
        weights = _check_sample_weight(sample_weight, X.shape[0])
        if first:
            self._set_classes(y, classes, multilabel, incremental)
        else:
            self._check_classes(y, classes, multilabel, incremental)
        class_weight = self._class_weight_by_index(incremental)
        if self._multilabel:
            Y = np.ascontiguousarray(y, dtype=self._float_dtype())
        else:
            Y = np.searchsorted(self.classes_, y)
            if self._task == "binary":
                Y = Y.reshape(-1, 1).astype(self._float_dtype())
        options = {} if class_weight is None else {"class_weight": class_weight}
        self._train(X, Y, n_outputs=self._n_units, output_activation=self._output, loss=self._loss,
                    task=self._task, sample_weight=weights, incremental=incremental, first=first,
                    stratify=None if self._multilabel else y, fit_options=options)
        return self

    def _set_classes(self, y: np.ndarray, classes: Any, multilabel: bool, incremental: bool) -> None:
        """``classes_`` and the network's task, output layer and cost for targets ``y``."""
        if incremental and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit: every label the data can "
                             "hold, e.g. classes=np.unique(y_all)")
        if multilabel:
            self.classes_ = np.arange(y.shape[1])
        else:
            self.classes_ = unique_labels(classes if incremental else y)
            if incremental and np.setdiff1d(unique_labels(y), self.classes_).size:
                raise ValueError(f"y has labels {np.setdiff1d(unique_labels(y), self.classes_).tolist()} that are "
                                 f"not in classes {self.classes_.tolist()}")
        if len(self.classes_) < 2:
            raise ValueError(f"MLPKitClassifier needs samples of at least 2 classes in y; got 1 class "
                             f"({self.classes_[0]!r})")
        output = self.output_activation
        if output not in ("auto", "softmax", "sigmoid"):
            raise ValueError(f"output_activation must be 'auto', 'softmax' or 'sigmoid' for a classifier, "
                             f"got {output!r}")
        self._multilabel = multilabel
        if multilabel:
            if output == "softmax":
                raise ValueError("output_activation='softmax' cannot give multilabel outputs (they would compete); "
                                 "use 'auto' or 'sigmoid'")
            self._task, self._output, self._n_units = "multilabel", "sigmoid", len(self.classes_)
        elif len(self.classes_) == 2 and output != "softmax":
            self._task, self._output, self._n_units = "binary", "sigmoid", 1
        else:
            self._task, self._n_units = "classification", len(self.classes_)
            self._output = "softmax" if output == "auto" else output
        self._loss = None if self.loss == "auto" else self.loss

    def _check_classes(self, y: np.ndarray, classes: Any, multilabel: bool, incremental: bool) -> None:
        """A warm start or a later partial_fit must see the labels of the first call."""
        if multilabel != self._multilabel or (multilabel and y.shape[1] != len(self.classes_)):
            raise ValueError(f"y's type ({type_of_target(y)}, {y.shape[1] if y.ndim == 2 else 1} column(s)) differs "
                             f"from the first fit's ({len(self.classes_)} "
                             f"{'labels' if self._multilabel else 'classes'}); fit afresh")
        if multilabel:
            return
        if incremental:
            if classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
                raise ValueError(f"classes={unique_labels(classes).tolist()} is not the classes of the first call "
                                 f"to partial_fit, {self.classes_.tolist()}")
            extra = np.setdiff1d(unique_labels(y), self.classes_)
            if extra.size:
                raise ValueError(f"y has labels {extra.tolist()} that are not in classes_ {self.classes_.tolist()}")
        elif not np.array_equal(unique_labels(y), self.classes_):
            raise ValueError(f"warm_start can only be used where y has the same classes as in the previous call to "
                             f"fit: previously {self.classes_.tolist()}, y has {unique_labels(y).tolist()}")

    def _class_weight_by_index(self, incremental: bool) -> str | dict[int, float] | None:
        """``class_weight`` for :meth:`Network.fit`: "balanced" or {class index: weight}."""
        class_weight = self.class_weight
        if class_weight is None:
            return None
        if self._multilabel:
            raise ValueError("class_weight applies to binary and multiclass targets, not to a multilabel y; use "
                             "sample_weight")
        if isinstance(class_weight, str):
            if class_weight != "balanced":
                raise ValueError(f"class_weight must be 'balanced', a mapping {{label: weight}} or None, "
                                 f"got {class_weight!r}")
            if incremental:
                raise ValueError("class_weight='balanced' is not supported by partial_fit (each chunk has its own "
                                 "class frequencies); give a mapping {label: weight}")
            return "balanced"
        if not isinstance(class_weight, Mapping):
            raise TypeError(f"class_weight must be 'balanced', a mapping {{label: weight}} or None, "
                            f"got {class_weight!r}")
        index = {label: i for i, label in enumerate(self.classes_.tolist())}
        by_index = {}
        for label, weight in class_weight.items():
            key = label.item() if isinstance(label, np.generic) else label
            if key not in index:
                raise ValueError(f"class_weight names label {label!r}, which is not a class; expected labels among "
                                 f"{self.classes_.tolist()}")
            by_index[index[key]] = check_positive_float(weight, f"class_weight[{label!r}]", allow_zero=True)
        return by_index

    def _network_score(self, network: Network, X: Any, Y: np.ndarray, sample_weight: np.ndarray | None) -> float:
        """Accuracy (subset accuracy for multilabel) of ``network`` on encoded targets ``Y``."""
        outputs = network.predict_proba(X)
        if self._multilabel:
            predicted = (outputs >= network.threshold).astype(np.int64)
            return float(accuracy_score(Y.astype(np.int64), predicted, sample_weight=sample_weight))
        predicted = (outputs[:, 0] > 0.5).astype(np.int64) if outputs.shape[1] == 1 else outputs.argmax(axis=1)
        truth = Y[:, 0].astype(np.int64) if Y.ndim == 2 else Y
        return float(accuracy_score(truth, predicted, sample_weight=sample_weight))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities in float64. Binary and multi-class: shape (n_samples, n_classes), columns in the order
        of ``classes_``, rows summing to 1 (a k-unit sigmoid output is divided by its sum). Multilabel:
        (n_samples, n_labels), P(label j) per column, independent of each other."""
        X = self._check_X(X)
        proba = self.network_.predict_proba(X).astype(np.float64)
        if self._multilabel:
            return proba
        if proba.shape[1] == 1:
            return np.column_stack([1.0 - proba[:, 0], proba[:, 0]])
        totals = proba.sum(axis=1, keepdims=True)
        np.divide(proba, totals, out=proba, where=totals > 0)
        proba[totals[:, 0] <= 0] = 1.0 / proba.shape[1]
        return proba

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of ``predict_proba``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample, as a label from ``classes_``; for multilabel the 0/1
        indicator matrix (n_samples, n_labels) of the labels whose probability is >= ``network_.threshold``
        (0.5)."""
        proba = self.predict_proba(X)
        if self._multilabel:
            return (proba >= self.network_.threshold).astype(np.int64)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.input_tags.sparse = True
        return tags


class MLPKitRegressor(RegressorMixin, _MLPKitEstimator):
    """A multi-layer perceptron regressor trained by mlpkit (identity output, squared error by default).

    ``y`` may be 1-D (one target) or 2-D (n_samples, n_targets); ``predict`` returns the same shape as ``y``
    had in ``fit``. See the module documentation for the parameters and the fitted attributes.
    """

    def __init__(self, hidden_layer_sizes: int | Sequence[int] = (100,), activation: str = "relu", *,
                 output_activation: str = "auto", loss: str = "squared_error", huber_delta: float = 1.0,
                 init: str = "auto", optimizer: str | dict | Optimizer = "adam", learning_rate: float | None = None,
                 momentum: float | None = None, beta_1: float | None = None, beta_2: float | None = None,
                 epsilon: float | None = None, weight_decay: float | None = None,
                 schedule: str | dict | Schedule | None = None, alpha: float = 0.0,
                 dropout: float | Sequence[float] | None = None, batch_norm: bool = False,
                 batch_size: int | str = "auto", max_iter: int = 200, tol: float = 1e-4,
                 n_iter_no_change: int = 10, early_stopping: bool = False, validation_fraction: float = 0.1,
                 warm_start: bool = False, shuffle: bool = True,
                 random_state: int | np.random.RandomState | None = None, standardize_targets: bool = True,
                 dtype: str = "float32", verbose: int = 0) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.loss = loss
        self.huber_delta = huber_delta
        self.init = init
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.alpha = alpha
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.shuffle = shuffle
        self.random_state = random_state
        self.standardize_targets = standardize_targets
        self.dtype = dtype
        self.verbose = verbose

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPKitRegressor:
        """Train on samples ``X`` (dense or scipy.sparse) with targets ``y``, weighting each sample by
        ``sample_weight``; returns self."""
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPKitRegressor:
        """One epoch over (X, y), continuing from the current weights and optimizer state."""
        return self._fit(X, y, sample_weight, incremental=True)

    def _fit(self, X: Any, y: Any, sample_weight: Any, *, incremental: bool) -> MLPKitRegressor:
        first = self._first_pass(incremental)
        dtype = self._float_dtype()
        X, y = _validate(self, X, y, accept_sparse=("csr", "csc"), multi_output=True, y_numeric=True,
                             dtype=dtype, reset=first)
        targets = np.ascontiguousarray(y.reshape(-1, 1) if y.ndim == 1 else y, dtype=dtype)
        if first:
            self._single_target = y.ndim == 1
        elif targets.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {targets.shape[1]} target column(s), the fitted network has {self.n_outputs_}; "
                             "fit afresh")
        weights = _check_sample_weight(sample_weight, X.shape[0])
        output = "identity" if self.output_activation == "auto" else self.output_activation
        self._train(X, targets, n_outputs=targets.shape[1], output_activation=output, loss=self._network_loss(),
                    task="regression", sample_weight=weights, incremental=incremental, first=first,
                    fit_options={"standardize_targets": bool(self.standardize_targets)})
        return self

    def _network_loss(self) -> Any:
        """The cost: scikit-learn's names ("squared_error", "absolute_error") or mlpkit's ("quadratic", "mae",
        "huber" with ``huber_delta``)."""
        name = _REGRESSION_LOSSES.get(self.loss, self.loss)
        if name == "huber":
            return {"name": "huber", "delta": check_positive_float(self.huber_delta, "huber_delta")}
        return name

    def _network_score(self, network: Network, X: Any, Y: np.ndarray, sample_weight: np.ndarray | None) -> float:
        """R^2 of ``network`` on targets ``Y`` (uniform average over the columns), as ``score``."""
        return float(r2_score(Y, network.predict(X), sample_weight=sample_weight))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets in float64, shape (n_samples,) or (n_samples, n_targets) like ``y`` in ``fit``."""
        X = self._check_X(X)
        outputs = self.network_.predict(X).astype(np.float64)
        return outputs[:, 0] if self._single_target else outputs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        return tags
