"""mlpkit.sklearn: scikit-learn estimators (check_estimator, Pipeline, cross-validation, grid search)."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import (
    check_methods_subset_invariance,
    check_sample_weight_equivalence_on_dense_data,
    check_sample_weight_equivalence_on_sparse_data,
    parametrize_with_checks,
)

from mlpkit import SGD, Network
from mlpkit.sklearn import MLPKitClassifier, MLPKitRegressor, expected_failed_checks

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks([MLPKitClassifier(), MLPKitRegressor()], expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", [MLPKitClassifier(dtype="float64"), MLPKitRegressor(dtype="float64")])
def test_float64_passes_the_check_float32_cannot(estimator):
    for check in (check_methods_subset_invariance, check_sample_weight_equivalence_on_dense_data,
                  check_sample_weight_equivalence_on_sparse_data):
        check(type(estimator).__name__, estimator)
    assert expected_failed_checks(estimator) == {}
    assert set(expected_failed_checks(MLPKitClassifier())) == {
        "check_methods_subset_invariance", "check_sample_weight_equivalence_on_dense_data",
        "check_sample_weight_equivalence_on_sparse_data"}


def test_import_mlpkit_does_not_import_sklearn():
    code = ("import sys, mlpkit, mlpkit.compat, mlpkit.datasets; "
            "loaded = [m for m in sys.modules if m == 'sklearn' or m.startswith('sklearn.')]; "
            "assert not loaded, loaded")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def test_pipeline_on_digits(digits):
    X_train, X_test, y_train, y_test = digits
    model = make_pipeline(StandardScaler(), MLPKitClassifier(random_state=0))
    model.fit(X_train, y_train)
    assert model.score(X_test, y_test) > 0.9
    clf = model[-1]
    assert isinstance(clf.network_, Network) and clf.network_.sizes == [64, 100, 10]
    assert clf.n_features_in_ == 64 and 10 < clf.n_iter_ < 200 and len(clf.loss_curve_) == clf.n_iter_
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.history_.stop_reason.startswith("Training loss did not improve more than tol=0.0001 for 10")
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    proba = model.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(model.predict(X_test), proba.argmax(axis=1))


def test_cross_val_score(digits):
    X_train, _, y_train, _ = digits
    model = make_pipeline(StandardScaler(), MLPKitClassifier(hidden_layer_sizes=(32,), batch_size=32, max_iter=20,
                                                             random_state=0))
    scores = cross_val_score(model, X_train, y_train, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.85


def test_grid_search_over_alpha_and_hidden_layer_sizes(digits):
    X_train, X_test, y_train, y_test = digits
    model = make_pipeline(StandardScaler(), MLPKitClassifier(batch_size=32, max_iter=15, random_state=0))
    grid = {"mlpkitclassifier__alpha": [0.0, 1.0], "mlpkitclassifier__hidden_layer_sizes": [(16,), (32,)]}
    search = GridSearchCV(model, grid, cv=3).fit(X_train[:600], y_train[:600])
    assert len(search.cv_results_["params"]) == 4
    assert set(search.best_params_) == set(grid)
    best = search.best_estimator_[-1]
    assert best.network_.sizes[1] == search.best_params_["mlpkitclassifier__hidden_layer_sizes"][0]
    assert search.score(X_test, y_test) > 0.85


def test_string_labels():
    rng = np.random.default_rng(0)
    names = np.array(["cat", "dog", "bird"])
    labels = rng.integers(0, 3, size=150)
    X = rng.normal(size=(150, 2)) + 3 * np.array([[0, 0], [1, 1], [2, -1]])[labels]
    y = names[labels]
    clf = MLPKitClassifier(hidden_layer_sizes=(10,), learning_rate=0.01, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, ["bird", "cat", "dog"])
    predicted = clf.predict(X)
    assert predicted.dtype.kind == "U" and set(predicted) == set(names)
    assert clf.score(X, y) > 0.9
    binary = MLPKitClassifier(hidden_layer_sizes=(), random_state=0).fit(X[labels < 2], y[labels < 2])
    assert binary.predict_proba(X).shape == (150, 2) and binary.network_.sizes == [2, 1]  # one sigmoid unit
    np.testing.assert_array_equal(binary.classes_, ["cat", "dog"])


def test_sigmoid_output_probabilities_sum_to_one():
    X, y = load_digits(return_X_y=True)
    clf = MLPKitClassifier(hidden_layer_sizes=(20,), activation="sigmoid", output_activation="sigmoid",
                           max_iter=5, random_state=0).fit(X[:300] / 16, y[:300])
    assert clf.network_.loss.name == "binary_crossentropy" and clf.network_.output_activation == "sigmoid"
    np.testing.assert_allclose(clf.predict_proba(X[300:400] / 16).sum(axis=1), 1.0, atol=1e-12)
    with pytest.raises(ValueError, match="output_activation"):
        MLPKitClassifier(output_activation="identity").fit(X[:50], y[:50])


def test_regressor_on_a_simple_function():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(400, 1))
    y = np.sin(X[:, 0])
    reg = MLPKitRegressor(hidden_layer_sizes=(32,), activation="tanh", max_iter=100, learning_rate=0.01,
                          random_state=0).fit(X, y)
    assert reg.network_.output_activation == "identity" and reg.network_.loss.name == "quadratic"
    X_new = rng.uniform(-3, 3, size=(100, 1))
    prediction = reg.predict(X_new)
    assert prediction.shape == (100,) and prediction.dtype == np.float64
    assert reg.score(X_new, np.sin(X_new[:, 0])) > 0.95
    Y = np.column_stack([np.sin(X[:, 0]), np.cos(X[:, 0])])
    both = clone(reg).fit(X, Y)
    assert both.predict(X_new).shape == (100, 2) and both.n_outputs_ == 2
    assert both.score(X_new, np.column_stack([np.sin(X_new[:, 0]), np.cos(X_new[:, 0])])) > 0.9


def test_random_state_makes_fits_reproducible():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]
    first = MLPKitClassifier(hidden_layer_sizes=(20,), max_iter=5, random_state=7).fit(X, y).predict_proba(X)
    second = MLPKitClassifier(hidden_layer_sizes=(20,), max_iter=5, random_state=7).fit(X, y).predict_proba(X)
    other = MLPKitClassifier(hidden_layer_sizes=(20,), max_iter=5, random_state=8).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)
    rs = np.random.RandomState(3)
    MLPKitClassifier(hidden_layer_sizes=(4,), max_iter=1, random_state=rs).fit(X, y)  # a RandomState works too


def test_get_params_set_params_and_clone():
    clf = MLPKitClassifier(hidden_layer_sizes=(64, 32), alpha=0.5, optimizer="sgd", learning_rate=0.05)
    params = clf.get_params()
    assert params["hidden_layer_sizes"] == (64, 32) and params["alpha"] == 0.5 and params["max_iter"] == 200
    shared = {"hidden_layer_sizes", "activation", "output_activation", "loss", "init", "optimizer", "learning_rate",
              "momentum", "beta_1", "beta_2", "epsilon", "weight_decay", "schedule", "alpha", "dropout", "batch_norm",
              "batch_size", "max_iter", "tol", "n_iter_no_change", "early_stopping", "validation_fraction",
              "warm_start", "shuffle", "random_state", "dtype", "verbose"}
    assert set(params) == shared | {"class_weight"}
    assert set(MLPKitRegressor().get_params()) == shared | {"huber_delta", "standardize_targets"}
    other = MLPKitClassifier().set_params(**params)
    assert other.get_params() == params
    assert clf.set_params(alpha=2.0) is clf and clf.alpha == 2.0
    X, y = load_digits(return_X_y=True)
    clf.set_params(max_iter=2).fit(X[:100] / 16, y[:100])
    copy = clone(clf)
    assert copy.get_params() == clf.get_params() and not hasattr(copy, "network_")
    assert repr(MLPKitRegressor(alpha=1.0)) == "MLPKitRegressor(alpha=1.0)"


def test_optimizer_instance_is_copied_for_each_fit():
    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200]
    optimizer = SGD(learning_rate=0.2)
    clf = MLPKitClassifier(hidden_layer_sizes=(8,), optimizer=optimizer, max_iter=2, random_state=0)
    clf.fit(X, y)
    clf.set_params(hidden_layer_sizes=(12,)).fit(X, y)  # a different network: no stale optimizer state
    assert optimizer.iterations == 0


def test_pickle_keeps_a_working_network():
    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200]
    clf = MLPKitClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    network = restored.network_
    assert all(np.shares_memory(p, network.flat_parameters) for _, p in network.named_parameters())
    assert isinstance(clf.network_, Network)  # pickling did not touch the original


def test_errors_are_clear():
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="at least 2 classes"):
        MLPKitClassifier().fit(X, np.zeros(20, dtype=int))
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPKitClassifier().fit(X, np.linspace(0, 1, 20))
    with pytest.raises(ValueError, match="3 features"):
        MLPKitRegressor(max_iter=1).fit(X, X[:, 0]).predict(np.zeros((2, 4)))
    with pytest.raises(TypeError, match="hidden_layer_sizes"):
        MLPKitRegressor(hidden_layer_sizes="100").fit(X, X[:, 0])
    with pytest.raises(ValueError, match="alpha"):
        MLPKitRegressor(alpha=-1.0).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="unknown optimizer"):
        MLPKitRegressor(optimizer="lbfgs").fit(X, X[:, 0])
