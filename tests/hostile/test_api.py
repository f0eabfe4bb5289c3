"""Hostile arguments at the public API: each one is refused with the right exception and a one-line message that
names the argument (issue 19, item 6: "The API accepts garbage").

One table, :data:`CASES`, of (id, call, exception, pattern): ``call`` makes the hostile call, ``pattern`` is a
regular expression the message must match (the argument's name). The ids start with the entry point:
``network`` (the constructor), ``fit``, ``predict`` (predict, predict_proba, evaluate), ``set_weights``,
``load`` (a model file whose arrays are not finite), ``gradcheck``, ``sklearn`` (the estimators),
``datasets`` (loaders, splitting, CSV files), ``search`` (:func:`mlpkit.tuning.search`), ``autodiff``
(``grad``). The ``tune`` tests run ``mlpkit tune`` where every trial fails, and where only some do.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_runner import error
from mlpkit import Network
from mlpkit import autodiff as ad
from mlpkit.datasets import (
    iterate_minibatches,
    load_csv,
    load_dataframe,
    load_digits,
    make_planar,
    split_dataset,
)
from mlpkit.datasets.errors import DataFormatError
from mlpkit.gradcheck import gradcheck
from mlpkit.serialization import ModelFileError, load_network
from mlpkit.settings import table_data
from mlpkit.tuning import search

_rng = np.random.default_rng(0)
X = _rng.normal(size=(12, 3))
Y = np.arange(12) % 3
ONE_HOT = np.eye(3)[Y]
NAN, INF = math.nan, math.inf


def net(**kw: Any) -> Network:
    return Network([3, 4, 3], seed=0, **kw)


def fit(**kw: Any) -> Any:
    options = {"epochs": 1, "verbose": 0, **kw}
    x, y = options.pop("X", X), options.pop("y", Y)
    return net().fit(x, y, **options)


def weights_with(name: str, value: Any) -> Callable[[], Any]:
    def call() -> None:
        network = net()
        weights = network.get_weights()
        weights[name] = value(weights[name]) if callable(value) else value
        network.set_weights(weights)
    return call


def nan_at(a: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64)
    a.flat[0] = NAN
    return a


def inf_at(a: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64)
    a.flat[-1] = -INF
    return a


SEEDS = [(-1, ValueError), ("abc", TypeError), (1.5, TypeError), (True, TypeError), (NAN, TypeError),
         ([1, 2], TypeError), (np.float64(3.0), TypeError)]
SEED = r"seed must be a non-negative integer or a numpy\.random\.Generator"

CASES: list[tuple[str, Callable[[], Any], type[Exception], str]] = []


def case(id_: str, call: Callable[[], Any], exc: type[Exception], pattern: str) -> None:
    CASES.append((id_, call, exc, pattern))


# ------------------------------------------------------------------------------------------ Network(...)
for value, exc in [([], TypeError), ("abc", TypeError), ([3], ValueError), ([3, 0, 2], ValueError),
                   ([3, -1, 2], ValueError), ([3, True, 2], TypeError), ([3, 2.5, 2], TypeError),
                   ([3, NAN, 2], TypeError), (3, TypeError), ([3, "4", 2], TypeError)]:
    case(f"network-layers-{value!r}", lambda v=value: Network(v), exc, "layers")
for value, exc in SEEDS:
    case(f"network-seed-{value!r}", lambda v=value: Network([3, 2], seed=v), exc, SEED)
for value in ("nope", 3):
    case(f"network-activation-{value!r}", lambda v=value: Network([3, 4, 2], activation=v), (ValueError, TypeError),
         "activation|nope|3")
case("network-output-activation", lambda: Network([3, 2], output_activation="nope"), ValueError, "nope|activation")
case("network-init", lambda: Network([3, 2], init="nope"), ValueError, "init|nope")
case("network-loss", lambda: Network([3, 2], loss="nope"), ValueError, "loss|cost|nope")
case("network-regularizer", lambda: Network([3, 2], regularizer="l2"), (ValueError, TypeError), "regulari")
for value, exc in [(True, TypeError), (-1, ValueError), (1.5, TypeError), (4, ValueError)]:
    case(f"network-input_dim-{value!r}", lambda v=value: Network([3, 2], input_dim=v), exc, "input_dim")
for value in ("int32", "float16", "abc", complex, "complex128"):
    case(f"network-dtype-{value!r}", lambda v=value: Network([3, 2], dtype=v), TypeError, "dtype")
for value in ("abc", 3):
    case(f"network-task-{value!r}", lambda v=value: Network([3, 2], task=v), ValueError, "task")
for value in (0, 1, NAN, INF, "0.5", True):
    case(f"network-threshold-{value!r}", lambda v=value: Network([3, 1], output_activation="sigmoid", threshold=v),
         ValueError, "threshold")
case("network-softmax-one-unit", lambda: Network([3, 1]), ValueError, "softmax output layer needs at least 2 units")
case("network-task-misfit", lambda: Network([3, 1], task="classification"), ValueError, "task 'classification'")

# ------------------------------------------------------------------------------------------ fit: X
BAD_X = [("complex", X + 1j, TypeError, "X must be a real-valued"),
         ("object", X.astype(object), TypeError, "X must be a real-valued"),
         ("strings", X.astype(str), TypeError, "X must be a real-valued"),
         ("datetime", np.zeros((12, 3), dtype="datetime64[s]"), TypeError, "X must be a real-valued"),
         ("ragged", [[1.0, 2.0, 3.0], [1.0]] * 6, TypeError, "X must be a real-valued"),
         ("1-D", X[:, 0], ValueError, "X must be 2-D"),
         ("3-D", X.reshape(12, 3, 1), ValueError, "X must be 2-D"),
         ("empty", X[:0], ValueError, "X is empty"),
         ("nan", np.where(X > 1, NAN, X), ValueError, "X contains .* NaN"),
         ("inf", np.where(X > 1, INF, X), ValueError, "X contains .* NaN or infinite"),
         ("float32-overflow", X * 1e300, ValueError, "X has .* beyond the range of float32"),
         ("width", X[:, :2], ValueError, "X has 2 features"),
         ("none", None, TypeError, "X must be a real-valued")]
for name, value, exc, pattern in BAD_X:
    case(f"fit-X-{name}", lambda v=value: fit(X=v), exc, pattern)

# ------------------------------------------------------------------------------------------ fit: y
BAD_Y = [("one-hot-7s", np.full((12, 3), 7), ValueError, r"y\[0, 0\] is 7"),
         ("one-hot-negative", -ONE_HOT, ValueError, r"y\[0, 0\] is -1"),
         ("rows-sum-2", np.ones((12, 3)) * 2 / 3, ValueError, "y row 0 sums to 2"),
         ("rows-sum-0", np.zeros((12, 3)), ValueError, "y row 0 sums to 0"),
         ("nan-row", np.where(ONE_HOT > 0, NAN, 0), ValueError, "y has a NaN"),
         ("labels-out-of-range", Y + 5, ValueError, "y: labels must lie in 0..2"),
         ("labels-negative", Y - 1, ValueError, "y: labels must lie in 0..2"),
         ("labels-fractional", Y + 0.5, ValueError, "y holds the non-integer value"),
         ("labels-nan", np.where(Y == 1, NAN, Y), ValueError, "y has a NaN"),
         ("labels-inf", np.where(Y == 1, INF, Y), ValueError, "y has a NaN or infinite"),
         ("labels-complex", Y + 0j, TypeError, "y must be a real-valued"),
         ("labels-strings", Y.astype(str), TypeError, "y must be a real-valued"),
         ("labels-object", Y.astype(object), TypeError, "y must be a real-valued"),
         ("rows", Y[:5], ValueError, "y has 5 rows"),
         ("3-D", ONE_HOT.reshape(12, 3, 1), ValueError, "y must be 1-D or 2-D"),
         ("width", np.eye(4)[Y], ValueError, r"y must be integer classes .* got shape \(12, 4\)"),
         ("one-class", np.zeros(12, int), ValueError, "y needs at least 2 classes, found only class 0"),
         ("one-class-one-hot", np.tile([0, 0, 1], (12, 1)), ValueError,
          "y needs at least 2 classes, found only class 2"),
         ("scalar", 3, ValueError, "y is empty or not an array")]
for name, value, exc, pattern in BAD_Y:
    case(f"fit-y-{name}", lambda v=value: fit(y=v), exc, pattern)
case("fit-y-binary-7", lambda: Network([3, 1], output_activation="sigmoid", seed=0).fit(X, Y * 7, epochs=1, verbose=0),
     ValueError, "y must be 0/1")
case("fit-y-binary-one-class", lambda: Network([3, 1], task="binary", seed=0).fit(X, np.ones(12), epochs=1, verbose=0),
     ValueError, "y needs at least 2 classes, found only class 1")
case("fit-y-multilabel-2", lambda: Network([3, 3], task="multilabel", seed=0).fit(X, ONE_HOT * 2, epochs=1, verbose=0),
     ValueError, "y must be 0/1")
case("fit-y-regression-complex", lambda: Network([3, 1], task="regression", seed=0).fit(X, X[:, 0] + 1j, epochs=1,
                                                                                        verbose=0),
     TypeError, "y must be a real-valued")
case("fit-y-regression-inf", lambda: Network([3, 1], task="regression", seed=0).fit(X, np.full(12, INF), epochs=1,
                                                                                     verbose=0),
     ValueError, "y has a NaN or infinite value in row 0")

# ------------------------------------------------------------------------------------------ fit: hyper-parameters
for option in ("epochs", "batch_size"):
    for value, exc in [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError), ("10", TypeError),
                       (NAN, TypeError), (INF, TypeError), (None, TypeError)]:
        case(f"fit-{option}-{value!r}", lambda o=option, v=value: fit(**{o: v}), exc, option)
for value, exc in [(0, ValueError), (-0.1, ValueError), (NAN, ValueError), (INF, ValueError), ("0.1", (ValueError,
                   TypeError)), (True, (ValueError, TypeError))]:
    case(f"fit-learning_rate-{value!r}", lambda v=value: fit(learning_rate=v), exc, "learning_rate")
for value, exc in SEEDS:
    case(f"fit-seed-{value!r}", lambda v=value: fit(seed=v), exc, SEED)
for option in ("shuffle", "monitor_training"):
    for value in ("no", 1, None, NAN):
        case(f"fit-{option}-{value!r}", lambda o=option, v=value: fit(**{o: v}), TypeError, f"{option} must be True or "
             "False")
for value, exc in [(-1, ValueError), ("yes", TypeError), (NAN, TypeError)]:
    case(f"fit-verbose-{value!r}", lambda v=value: fit(verbose=v), exc, "verbose")
for value, exc in [(0, ValueError), (NAN, ValueError), (-INF, ValueError), ("10", TypeError)]:
    case(f"fit-divergence_factor-{value!r}", lambda v=value: fit(divergence_factor=v), exc, "divergence_factor")
case("fit-optimizer-name", lambda: fit(optimizer="nope"), ValueError, "optimizer")
case("fit-optimizer-type", lambda: fit(optimizer=3), TypeError, "optimizer")
case("fit-optimizer-beta-nan", lambda: fit(optimizer={"name": "momentum", "beta": NAN}), ValueError, "beta")
case("fit-optimizer-beta-2", lambda: fit(optimizer={"name": "adam", "beta1": 2}), ValueError, "beta1")
case("fit-optimizer-eps-nan", lambda: fit(optimizer={"name": "adam", "eps": NAN}), ValueError, "eps")
case("fit-callbacks-int", lambda: fit(callbacks=3), TypeError, "callbacks")
case("fit-callbacks-object", lambda: fit(callbacks=[object()]), TypeError, "callbacks")
case("fit-augment", lambda: fit(augment=3), TypeError, "augment")
case("fit-validation_data-shape", lambda: fit(validation_data=(X,)), TypeError, "validation_data")
case("fit-validation_data-nan", lambda: fit(validation_data=(X * NAN, Y)), ValueError, "validation_data X")
case("fit-validation_data-y", lambda: fit(validation_data=(X, Y + 9)), ValueError, "validation_data y")
for name, value, exc in [("nan", np.full(12, NAN), ValueError), ("negative", -np.ones(12), ValueError),
                         ("zeros", np.zeros(12), ValueError), ("length", np.ones(5), ValueError),
                         ("strings", np.array(["a"] * 12), TypeError), ("complex", np.ones(12) + 1j, TypeError)]:
    case(f"fit-sample_weight-{name}", lambda v=value: fit(sample_weight=v), exc, "sample_weight")
for name, value, exc in [("string", "heavy", ValueError), ("class", {5: 1.0}, ValueError),
                         ("nan", {0: NAN}, ValueError), ("negative", {0: -1}, ValueError), ("list", [1, 2], TypeError),
                         ("bool-key", {True: 1.0}, ValueError)]:
    case(f"fit-class_weight-{name}", lambda v=value: fit(class_weight=v), exc, "class_weight")
case("fit-standardize_targets", lambda: fit(standardize_targets="yes"), TypeError, "standardize_targets")
case("fit-schedule", lambda: fit(schedule=3), (TypeError, ValueError), "schedule")
case("fit-blas_threads", lambda: fit(blas_threads="many"), (TypeError, ValueError), "blas_threads")
case("fit-chunk", lambda: fit(chunk="yes"), TypeError, "chunk")

# ------------------------------------------------------------------------------------------ predict / evaluate
for method in ("predict", "predict_proba"):
    for name, value, exc, pattern in BAD_X[:12]:
        if name not in ("empty", "float32-overflow"):
            case(f"predict-{method}-{name}", lambda m=method, v=value: getattr(net(), m)(v), exc, pattern)
case("predict-evaluate-y", lambda: net().evaluate(X, np.full((12, 3), 7)), ValueError, r"y\[0, 0\] is 7")
case("predict-evaluate-labels", lambda: net().evaluate(X, Y - 3), ValueError, "y: labels must lie")
case("predict-evaluate-sample_weight", lambda: net().evaluate(X, Y, sample_weight=np.full(12, NAN)), ValueError,
     "sample_weight")
case("predict-evaluate-X", lambda: net().evaluate(X + 1j, Y), TypeError, "X must be a real-valued")

# ------------------------------------------------------------------------------------------ set_weights
case("set_weights-nan", weights_with("layers.0.W", nan_at), ValueError, r"weights\['layers\.0\.W'\] has 1 NaN")
case("set_weights-inf", weights_with("layers.1.b", inf_at), ValueError, r"weights\['layers\.1\.b'\] has 1 NaN or "
     "infinite")
case("set_weights-overflow", weights_with("layers.0.W", lambda a: a.astype(np.float64) + 1e300), ValueError,
     r"weights\['layers\.0\.W'\] has 12 NaN or infinite value\(s\) \(in float32\)")
case("set_weights-complex", weights_with("layers.0.W", lambda a: a + 1j), TypeError, r"weights\['layers\.0\.W'\]")
case("set_weights-strings", weights_with("layers.0.W", lambda a: a.astype(str)), TypeError, r"weights\['layers\.0\.W'")
case("set_weights-object", weights_with("layers.0.W", lambda a: a.astype(object)), TypeError,
     r"weights\['layers\.0\.W'\]")
case("set_weights-bool", weights_with("layers.0.W", lambda a: a > 0), TypeError, r"weights\['layers\.0\.W'\] has dtype "
     "bool")
case("set_weights-shape", weights_with("layers.0.W", lambda a: a.T), ValueError, r"layers\.0\.W has shape")
case("set_weights-none", weights_with("layers.0.W", None), TypeError, r"weights\['layers\.0\.W'\]")
case("set_weights-missing", lambda: net().set_weights({}), ValueError, "missing")
case("set_weights-extra", lambda: net().set_weights({**net().get_weights(), 3: np.zeros(2)}), ValueError, "unexpected")
case("set_weights-list", lambda: net().set_weights([1, 2]), TypeError, "weights must be a dict")


def _nan_model(tmp: Path) -> Path:
    """A model file whose first weight array holds a NaN, otherwise as saved."""
    path = net().save(tmp / "model.mlpk")
    bad = tmp / "nan.mlpk"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith(".npz"):
                arrays = dict(np.load(io.BytesIO(data)))
                arrays["layers.0.W"] = nan_at(arrays["layers.0.W"]).astype(arrays["layers.0.W"].dtype)
                buffer = io.BytesIO()
                np.savez(buffer, **arrays)
                data = buffer.getvalue()
            dst.writestr(info, data)
    return bad


# ------------------------------------------------------------------------------------------ gradcheck
for option, value, exc in [("epsilon", 0, ValueError), ("epsilon", NAN, ValueError), ("epsilon", "a", TypeError),
                           ("threshold", NAN, ValueError), ("threshold", -1, ValueError), ("threshold", "a", TypeError),
                           ("n_train", -1, ValueError), ("n_train", NAN, ValueError), ("n_train", True, TypeError),
                           ("max_per_parameter", 0, ValueError), ("max_per_parameter", 1.5, TypeError),
                           ("max_per_parameter", True, TypeError), ("seed", -1, ValueError),
                           ("seed", "abc", TypeError), ("sample_weight", np.full(12, NAN), ValueError)]:
    case(f"gradcheck-{option}-{value!r}", lambda o=option, v=value: gradcheck(net(), X, Y, **{o: v}), exc, option)
case("gradcheck-X", lambda: gradcheck(net(), X + 1j, Y), TypeError, "X must be a real-valued")
case("gradcheck-y", lambda: gradcheck(net(), X, np.full((12, 3), 7)), ValueError, r"y\[0, 0\] is 7")

# ------------------------------------------------------------------------------------------ scikit-learn
sk = pytest.importorskip("sklearn")
from mlpkit.sklearn import MLPKitClassifier, MLPKitRegressor  # noqa: E402

SK_FAST = {"hidden_layer_sizes": (4,), "max_iter": 2}


def sk_fit(cls: type = MLPKitClassifier, x: Any = X, y: Any = Y, **params: Any) -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(**{**SK_FAST, **params}).fit(x, y)


for param, value, exc in [("hidden_layer_sizes", 0, ValueError), ("hidden_layer_sizes", -1, ValueError),
                          ("hidden_layer_sizes", "a", TypeError), ("hidden_layer_sizes", [1.5], TypeError),
                          ("max_iter", 0, ValueError), ("max_iter", NAN, TypeError), ("max_iter", True, TypeError),
                          ("tol", NAN, ValueError), ("tol", -1, ValueError), ("alpha", NAN, ValueError),
                          ("alpha", -1, ValueError), ("alpha", "big", TypeError), ("batch_size", 0, ValueError),
                          ("batch_size", "abc", TypeError), ("learning_rate", NAN, ValueError),
                          ("learning_rate", 0, ValueError), ("momentum", NAN, ValueError),
                          ("beta_1", 1.5, ValueError), ("epsilon", -1, ValueError),
                          ("n_iter_no_change", 0, ValueError), ("random_state", -1, ValueError),
                          ("random_state", "abc", ValueError), ("random_state", 1.5, ValueError),
                          ("shuffle", "no", TypeError), ("warm_start", "no", TypeError),
                          ("early_stopping", "yes", TypeError), ("batch_norm", "yes", TypeError),
                          ("dropout", NAN, ValueError), ("dropout", 0, ValueError), ("dtype", "int8", TypeError),
                          ("class_weight", {9: 1.0}, ValueError), ("class_weight", {0: NAN}, ValueError),
                          ("output_activation", "relu", ValueError)]:
    params = {param: value, **({"optimizer": "momentum"} if param == "momentum" else {})}
    case(f"sklearn-{param}-{value!r}", lambda p=params: sk_fit(**p), exc, param.split("_")[0] if param in (
        "momentum", "beta_1", "epsilon") else param)
case("sklearn-validation_fraction", lambda: sk_fit(early_stopping=True, validation_fraction=NAN), ValueError,
     "validation_fraction")
case("sklearn-regressor-standardize_targets", lambda: sk_fit(MLPKitRegressor, y=X[:, 0], standardize_targets="no"),
     TypeError, "standardize_targets")
case("sklearn-regressor-huber_delta", lambda: sk_fit(MLPKitRegressor, y=X[:, 0], loss="huber", huber_delta=NAN),
     ValueError, "huber_delta")
case("sklearn-X-complex", lambda: sk_fit(x=X + 1j), ValueError, "Complex data not supported")
case("sklearn-X-nan", lambda: sk_fit(x=X * NAN), ValueError, "X")
case("sklearn-y-one-class", lambda: sk_fit(y=np.zeros(12)), ValueError, "at least 2 classes")
case("sklearn-y-nan", lambda: sk_fit(MLPKitRegressor, y=np.full(12, NAN)), ValueError, "y")
case("sklearn-sample_weight", lambda: MLPKitClassifier(**SK_FAST).fit(X, Y, sample_weight=np.full(12, NAN)),
     ValueError, "sample_weight")

# ------------------------------------------------------------------------------------------ datasets
for value, exc in SEEDS[:5]:
    case(f"datasets-split-seed-{value!r}", lambda v=value: split_dataset(X, Y, seed=v), exc, "seed")
    case(f"datasets-planar-seed-{value!r}", lambda v=value: make_planar("flower", 20, seed=v), (TypeError, ValueError),
         "seed")
    case(f"datasets-digits-seed-{value!r}", lambda v=value: load_digits(seed=v), exc, "seed")
case("datasets-split-fractions-nan", lambda: split_dataset(X, Y, fractions=(NAN, 0.5)), ValueError, "fraction")
case("datasets-split-stratify", lambda: split_dataset(X, Y, stratify="yes"), TypeError, "stratify")
case("datasets-planar-noise", lambda: make_planar("flower", 20, noise=NAN), ValueError, "noise")
case("datasets-planar-samples", lambda: make_planar("flower", 1.5), TypeError, "n_samples")
case("datasets-planar-classes", lambda: make_planar("spiral", 20, n_classes=True), TypeError, "n_classes")
case("datasets-digits-validation_size", lambda: load_digits(validation_size=NAN), ValueError, "validation_size")
case("datasets-digits-test_size", lambda: load_digits(test_size=-1), ValueError, "test_size")
case("datasets-digits-dtype", lambda: load_digits(dtype="complex64"), TypeError, "dtype")
case("datasets-minibatches-size", lambda: list(iterate_minibatches(X, Y, 0)), ValueError, "batch_size")
case("datasets-minibatches-rng", lambda: list(iterate_minibatches(X, Y, 2, rng=-1)), (TypeError, ValueError), "rng")
case("datasets-csv-task", lambda: load_csv("x.csv", label_column="y", task="nope"), ValueError, "task")
case("datasets-csv-delimiter", lambda: load_csv("x.csv", label_column="y", delimiter=",,"), TypeError, "delimiter")
case("datasets-csv-label_column", lambda: load_csv("x.csv", label_column=3), TypeError, "label_column")
case("datasets-dataframe", lambda: load_dataframe([[1, 2]], label_column="y"), TypeError, "frame")
case("datasets-table-one-class", lambda: table_data(
    load_dataframe(_frame({"a": [1.0, 2.0, 3.0], "label": ["x", "x", "x"]}), label_column="label"), "classification"),
    DataFormatError, "column 'label' needs at least 2 classes, found only class 'x'")


def _frame(columns: dict[str, list]) -> Any:
    pandas = pytest.importorskip("pandas")
    return pandas.DataFrame(columns)


# ------------------------------------------------------------------------------------------ tuning.search
SPACE = {"eta": {"dist": "log-uniform", "low": 0.01, "high": 1}}
for option, value in [("trials", 0), ("trials", True), ("trials", 1.5), ("trials", "3"), ("rounds", 0),
                      ("grid_points", NAN), ("seed", -1), ("seed", "abc"), ("keep", True), ("keep", NAN), ("keep", 0),
                      ("margin", NAN), ("margin", -1), ("startup_trials", -1), ("mode", "up"), ("strategy", "nope"),
                      ("workers", -1), ("workers", "a"), ("backend", "nope")]:
    case(f"search-{option}-{value!r}", lambda o=option, v=value: search(SPACE, {"dataset": "digits"}, backend="serial",
                                                                        **{o: v}),
         (ValueError, TypeError), option)
case("search-space", lambda: search({"eta": 3}, backend="serial"), (TypeError, ValueError), "eta")
case("search-options", lambda: search(SPACE, {"epochs": "many"}, backend="serial"), ValueError, "epochs")

# ------------------------------------------------------------------------------------------ autodiff
for value, exc in [(-1, ValueError), (True, ValueError), ("0", ValueError), ((), ValueError)]:
    case(f"autodiff-argnums-{value!r}", lambda v=value: ad.grad(lambda w: (w * w).sum(), argnums=v), exc, "argnums")
for name, value, exc, pattern in [("int", 3, ValueError, "argument 0 has dtype int"),
                                  ("complex", np.ones(2) + 1j, ValueError, "argument 0 has dtype complex"),
                                  ("strings", np.array(["a"]), ValueError, "argument 0 has dtype <U1"),
                                  ("object", np.array([None]), ValueError, "argument 0 has dtype object"),
                                  ("nan", np.array([1.0, NAN]), ValueError, "argument 0 has 1 NaN"),
                                  ("inf", np.array([INF]), ValueError, "argument 0 has 1 NaN or infinite"),
                                  ("ragged", [[1.0], [1.0, 2.0]], ValueError, "argument 0")]:
    case(f"autodiff-arg-{name}", lambda v=value: ad.grad(lambda w: (w * w).sum())(v), exc, pattern)
case("autodiff-f", lambda: ad.grad(3), TypeError, "f must be a function")


@pytest.mark.parametrize(("call", "exc", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_argument_is_refused_in_one_line(call: Callable[[], Any], exc: Any, pattern: str) -> None:
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    assert "\n" not in message, f"not one line: {message!r}"
    assert re.search(pattern, message), f"{pattern!r} not in {message!r}"


def test_the_table_is_large_and_its_ids_unique() -> None:
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    assert len(ids) >= 100


def test_a_model_file_with_a_nan_weight_is_refused(tmp_path: Path) -> None:
    with pytest.raises((ModelFileError, ValueError)) as info:
        load_network(_nan_model(tmp_path))
    assert "\n" not in str(info.value) and "layers.0.W" in str(info.value) and "NaN" in str(info.value)


def test_a_predict_after_good_set_weights_still_works() -> None:
    """The refusals leave the network as it was: a refused set_weights changes nothing."""
    network = net()
    before = network.get_weights()
    with pytest.raises(ValueError):
        weights_with("layers.1.b", inf_at)()
    bad = network.get_weights()
    bad["layers.1.W"] = nan_at(bad["layers.1.W"])
    with pytest.raises(ValueError):
        network.set_weights(bad)
    assert all(np.array_equal(before[k], v) for k, v in network.get_weights().items())


def test_partial_fit_chunks_of_one_class_still_train() -> None:
    """scikit-learn's partial_fit passes one chunk at a time (chunk=True): a chunk of one class is no error."""
    clf = MLPKitClassifier(hidden_layer_sizes=(4,)).partial_fit(X, Y, classes=[0, 1, 2])
    clf.partial_fit(X[Y == 0], Y[Y == 0])
    assert clf.predict(X).shape == (12,)


def test_a_csv_file_of_one_class_is_refused_by_mlpkit_train(tmp_path: Path) -> None:
    csv = tmp_path / "one.csv"
    csv.write_text("a,b,label\n" + "".join(f"{i},{i % 3},cat\n" for i in range(20)))
    line = error("train", "--dataset", csv, "--epochs", 1, "--out", tmp_path / "runs")
    assert "column 'label' needs at least 2 classes, found only class 'cat'" in line
    assert not (tmp_path / "runs").exists()


# ------------------------------------------------------------------------------------------ mlpkit tune
TUNE = """
[train]
dataset = "{dataset}"
epochs = 1
layers = "auto,4,auto"
[space]
{space}
[search]
backend = "serial"
strategy = "grid"
"""


def _tune(tmp_path: Path, dataset: str, space: str) -> Any:
    from click.testing import CliRunner

    from mlpkit.cli._app import cli

    config = tmp_path / "search.toml"
    config.write_text(TUNE.format(dataset=dataset, space=space), encoding="utf-8")
    return CliRunner().invoke(cli, ["tune", str(config), "--storage", str(tmp_path / "s.sqlite"), "--quiet"],
                              catch_exceptions=False)


def test_tune_whose_every_trial_fails_exits_1_with_the_first_failure(tmp_path: Path) -> None:
    result = _tune(tmp_path, "missing.csv", "eta = [0.1, 1.0]")
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlpkit: error: every trial failed (2 of 2); the first, trial ")
    assert "missing.csv does not exist" in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "s_results" / "best_config.yaml").exists()


def test_tune_where_some_trials_fail_exits_0_and_says_how_many(tmp_path: Path) -> None:
    result = _tune(tmp_path, "digits", "batch_size = [10, 0]")
    assert result.exit_code == 0, result.output + result.stderr
    assert "note: 1 of 2 trials failed; the first, trial " in result.output
    assert "'batch_size' in the trial's settings must be a positive integer, got 0" in result.output
    assert (tmp_path / "s_results" / "best_config.yaml").is_file()
