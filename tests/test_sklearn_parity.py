"""mlpkit.sklearn next to scikit-learn's own MLPClassifier/MLPRegressor where their behaviours overlap, and the
parameters scikit-learn lacks (sample and class weights, sparse input, dropout, schedules, robust costs)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import scipy.sparse as sparse  # a dependency of scikit-learn
from sklearn.datasets import load_digits, make_classification, make_moons, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import recall_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils import check_random_state

from mlpkit.layers import BatchNorm, Dropout
from mlpkit.optimizers import OPTIMIZER_NAMES
from mlpkit.schedules import SCHEDULE_NAMES
from mlpkit.sklearn import MLPKitClassifier, MLPKitRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, random_state=0, stratify=y)


def one_line_error(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------------------------------ accuracy
def test_digits_accuracy_within_a_few_points_of_mlpclassifier(digits):
    X_train, X_test, y_train, y_test = digits
    ours = MLPKitClassifier(hidden_layer_sizes=(64,), max_iter=40, random_state=0).fit(X_train, y_train)
    theirs = MLPClassifier(hidden_layer_sizes=(64,), max_iter=40, random_state=0).fit(X_train, y_train)
    ours_acc, theirs_acc = ours.score(X_test, y_test), theirs.score(X_test, y_test)
    assert ours_acc > 0.94 and abs(ours_acc - theirs_acc) < 0.03, (ours_acc, theirs_acc)


def test_moons_binary_accuracy_and_output_like_mlpclassifier():
    X, y = make_moons(n_samples=600, noise=0.2, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    ours = MLPKitClassifier(hidden_layer_sizes=(32,), max_iter=150, learning_rate=0.01, random_state=0)
    theirs = MLPClassifier(hidden_layer_sizes=(32,), max_iter=150, learning_rate_init=0.01, random_state=0)
    ours.fit(X_train, y_train)
    theirs.fit(X_train, y_train)
    ours_acc, theirs_acc = ours.score(X_test, y_test), theirs.score(X_test, y_test)
    assert ours_acc > 0.9 and abs(ours_acc - theirs_acc) < 0.04, (ours_acc, theirs_acc)
    # binary: one logistic output unit as scikit-learn's, two probability columns
    assert ours.n_outputs_ == theirs.n_outputs_ == 1 and ours.out_activation_ == theirs.out_activation_ == "logistic"
    assert ours.network_.task == "binary" and ours.predict_proba(X_test).shape == (len(X_test), 2)
    assert ours.n_layers_ == theirs.n_layers_ == 3
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]


# ----------------------------------------------------------------------------------- stopping rules
@pytest.mark.parametrize("early_stopping", [False, True])
def test_stopping_rule_counts_epochs_exactly_like_scikit_learn(early_stopping):
    # with a huge tol only the first epoch improves (on the initial infinity): both stop n_iter_no_change + 1
    # epochs later
    X, y = make_classification(n_samples=200, random_state=0)
    options = dict(hidden_layer_sizes=(8,), tol=1e9, n_iter_no_change=3, early_stopping=early_stopping,
                   max_iter=50, random_state=0)
    ours = MLPKitClassifier(**options).fit(X, y)
    theirs = MLPClassifier(**options).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 5
    assert len(ours.loss_curve_) == len(theirs.loss_curve_) == 5 and ours.t_ == theirs.t_
    if early_stopping:
        assert len(ours.validation_scores_) == 5 and ours.best_loss_ is None is theirs.best_loss_
        assert "Validation score did not improve" in ours.history_.stop_reason
    else:
        assert ours.validation_scores_ is None and ours.best_loss_ == min(ours.loss_curve_)
        assert "Training loss did not improve" in ours.history_.stop_reason


def test_early_stopping_stops_on_a_noisy_set_and_keeps_the_best_epoch():
    X, y = make_classification(n_samples=600, n_features=20, n_informative=4, flip_y=0.3, random_state=1)
    options = dict(hidden_layer_sizes=(64,), early_stopping=True, max_iter=300, learning_rate=0.01, random_state=0)
    ours = MLPKitClassifier(**options).fit(X, y)
    theirs = MLPClassifier(hidden_layer_sizes=(64,), early_stopping=True, max_iter=300, learning_rate_init=0.01,
                           random_state=0).fit(X, y)
    assert ours.n_iter_ < 300 and theirs.n_iter_ < 300
    assert len(ours.validation_scores_) == ours.n_iter_ == len(ours.loss_curve_)
    assert ours.best_validation_score_ == max(ours.validation_scores_)
    # the validation split: stratified, drawn from random_state (the third seed the estimator draws)
    split_seed = int(check_random_state(0).randint(np.iinfo(np.int32).max, size=3)[2])
    _, held_out = train_test_split(np.arange(len(y)), test_size=0.1, random_state=split_seed, stratify=y)
    assert len(held_out) == 60
    assert ours.score(X[held_out], y[held_out]) == pytest.approx(ours.best_validation_score_, abs=1e-12)
    # it stopped because the last n_iter_no_change + 1 epochs did not beat the best by tol
    last = ours.validation_scores_[-(ours.n_iter_no_change + 1):]
    assert max(last) < ours.best_validation_score_ + ours.tol
    assert ours.history_.stop_reason.startswith("Validation score did not improve more than tol=0.0001")


def test_early_stopping_regressor_scores_r2():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=300)
    reg = MLPKitRegressor(hidden_layer_sizes=(16,), early_stopping=True, learning_rate=0.01, random_state=0).fit(X, y)
    assert 0.9 < reg.best_validation_score_ <= 1.0 and reg.best_validation_score_ == max(reg.validation_scores_)


def test_convergence_warning_when_max_iter_is_reached_as_scikit_learn():
    X, y = make_moons(n_samples=100, random_state=0)
    for model in (MLPKitClassifier(hidden_layer_sizes=(4,), max_iter=2), MLPClassifier(hidden_layer_sizes=(4,),
                                                                                       max_iter=2)):
        with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(2\) reached"):
            model.fit(X, y)


# --------------------------------------------------------------------------- warm start, partial_fit
def test_warm_start_continues_from_the_first_fits_weights(digits):
    X, y = digits[0][:300], digits[2][:300]
    clf = MLPKitClassifier(hidden_layer_sizes=(16,), optimizer="sgd", learning_rate=0.1, max_iter=5, shuffle=False,
                           warm_start=True, dtype="float64", random_state=0).fit(X, y)
    network = clf.network_
    expected = network.copy()
    expected.fit(X, y, epochs=3, batch_size=200, optimizer="sgd", learning_rate=0.1, shuffle=False, verbose=0)
    clf.set_params(max_iter=3).fit(X, y)
    assert clf.network_ is network
    np.testing.assert_array_equal(network.flat_parameters, expected.flat_parameters)
    # as scikit-learn: n_iter_ counts this call's epochs, loss_curve_ and t_ the network's
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 8 and clf.t_ == 8 * 300
    theirs = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, warm_start=True, random_state=0).fit(X, y)
    theirs.set_params(max_iter=3).fit(X, y)
    assert theirs.n_iter_ == 3 and len(theirs.loss_curve_) == 8 and theirs.t_ == 8 * 300
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X[y < 5], y[y < 5])
    cold = MLPKitClassifier(hidden_layer_sizes=(16,), max_iter=2, random_state=0).fit(X, y)
    first = cold.network_
    assert cold.fit(X, y).network_ is not first and cold.n_iter_ == 2  # without warm_start: afresh


def test_partial_fit_over_chunks_reaches_fits_accuracy(digits):
    X_train, X_test, y_train, y_test = digits
    classes = np.arange(10)
    first_chunk = y_train != 9  # the first chunk lacks a class: classes= names it
    ours = MLPKitClassifier(hidden_layer_sizes=(64,), random_state=0)
    theirs = MLPClassifier(hidden_layer_sizes=(64,), random_state=0)
    ours.partial_fit(X_train[first_chunk][:200], y_train[first_chunk][:200], classes=classes)
    theirs.partial_fit(X_train[first_chunk][:200], y_train[first_chunk][:200], classes=classes)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.predict_proba(X_test).shape == (len(X_test), 10) and ours.n_iter_ == 1
    chunks = np.array_split(np.arange(len(X_train)), 5)
    for _ in range(20):
        for chunk in chunks:
            ours.partial_fit(X_train[chunk], y_train[chunk])
            theirs.partial_fit(X_train[chunk], y_train[chunk])
    assert ours.n_iter_ == theirs.n_iter_ == 1 and len(ours.loss_curve_) == len(theirs.loss_curve_) == 101
    assert ours.t_ == theirs.t_ == 200 + 20 * len(X_train)
    fitted = MLPKitClassifier(hidden_layer_sizes=(64,), max_iter=20, random_state=0).fit(X_train, y_train)
    ours_acc, theirs_acc, fit_acc = (m.score(X_test, y_test) for m in (ours, theirs, fitted))
    assert ours_acc > 0.9 and abs(ours_acc - fit_acc) < 0.03 and abs(ours_acc - theirs_acc) < 0.03


def test_partial_fit_needs_classes_first_and_rejects_unknown_labels(digits):
    X, y = digits[0][:100], digits[2][:100]
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MLPKitClassifier().partial_fit(X, y)
    clf = MLPKitClassifier(hidden_layer_sizes=(8,)).partial_fit(X[y < 5], y[y < 5], classes=np.arange(5))
    with pytest.raises(ValueError, match=r"labels \[5"):
        clf.partial_fit(X, y)
    with pytest.raises(ValueError, match="balanced"):
        MLPKitClassifier(class_weight="balanced").partial_fit(X, y, classes=np.arange(10))
    reg = MLPKitRegressor(hidden_layer_sizes=(8,), random_state=0)
    for _ in range(3):
        reg.partial_fit(X, y.astype(float))
    assert reg.n_iter_ == 1 and reg.t_ == 300 and len(reg.loss_curve_) == 3
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        MLPKitRegressor(early_stopping=True).partial_fit(X, y.astype(float))


# ------------------------------------------------------------------------------------------- weights
@pytest.mark.parametrize("estimator", [
    MLPKitClassifier(hidden_layer_sizes=(6,), alpha=0.3, batch_size=1000, max_iter=30, dtype="float64",
                     random_state=0),
    MLPKitRegressor(hidden_layer_sizes=(6,), alpha=0.3, batch_size=1000, max_iter=30, dtype="float64",
                    random_state=0),
])
def test_sample_weight_of_two_equals_the_row_twice_in_full_batch_training(estimator):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) if isinstance(estimator, MLPKitClassifier) else X @ [1.0, 2.0, 3.0]
    weights = np.ones(40)
    weights[::3] = 2.0
    rows = np.repeat(np.arange(40), weights.astype(int))
    weighted = estimator.fit(X, y, sample_weight=weights)
    out_weighted = weighted.predict_proba(X) if hasattr(weighted, "predict_proba") else weighted.predict(X)
    loss_weighted = list(weighted.loss_curve_)
    duplicated = estimator.fit(X[rows], y[rows])
    out_duplicated = duplicated.predict_proba(X) if hasattr(duplicated, "predict_proba") else duplicated.predict(X)
    np.testing.assert_allclose(out_weighted, out_duplicated, rtol=0, atol=1e-10)
    np.testing.assert_allclose(loss_weighted, duplicated.loss_curve_, rtol=1e-10)
    assert estimator.score(X, y, sample_weight=weights) == pytest.approx(estimator.score(X[rows], y[rows]), abs=1e-12)


def test_class_weight_balanced_raises_minority_recall():
    X, y = make_classification(n_samples=1000, n_features=6, weights=[0.9, 0.1], class_sep=0.6, flip_y=0,
                               random_state=3)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)
    options = dict(hidden_layer_sizes=(16,), max_iter=60, random_state=0)
    plain = MLPKitClassifier(**options).fit(X_train, y_train)
    balanced = MLPKitClassifier(class_weight="balanced", **options).fit(X_train, y_train)
    by_mapping = MLPKitClassifier(class_weight={0: 1.0, 1: 9.0}, **options).fit(X_train, y_train)
    recall = [recall_score(y_test, m.predict(X_test)) for m in (plain, balanced, by_mapping)]
    assert recall[1] > recall[0] + 0.1 and recall[2] > recall[0] + 0.1, recall


def test_class_weight_by_string_label():
    X, y = make_classification(n_samples=300, n_features=4, weights=[0.8, 0.2], random_state=0)
    labels = np.array(["common", "rare"])[y]
    clf = MLPKitClassifier(hidden_layer_sizes=(8,), max_iter=5, class_weight={"rare": 4.0}, random_state=0)
    clf.fit(X, labels)
    assert set(clf.predict(X)) <= {"common", "rare"}


# ------------------------------------------------------------------------------------------ sparse X
@pytest.mark.parametrize("estimator", [MLPKitClassifier(hidden_layer_sizes=(16,), max_iter=5, dtype="float64",
                                                        random_state=0),
                                       MLPKitRegressor(hidden_layer_sizes=(16,), max_iter=5, dtype="float64",
                                                       random_state=0)])
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_input_gives_the_predictions_of_dense_input(digits, estimator, fmt):
    X, y = digits[0][:400], digits[2][:400]
    X_sparse = sparse.csr_matrix(X).asformat(fmt)
    dense = estimator.fit(X, y).predict(X)
    from_sparse = estimator.fit(X_sparse, y).predict(X_sparse)
    np.testing.assert_allclose(from_sparse, dense, rtol=0, atol=1e-12)
    np.testing.assert_allclose(estimator.predict(X), dense, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------------- multilabel
def test_multilabel_like_mlpclassifier():
    X, Y = make_multilabel_classification(n_samples=500, n_features=10, n_classes=4, random_state=0)
    X_train, X_test, Y_train, Y_test = train_test_split(X / X.max(), Y, test_size=0.3, random_state=0)
    ours = MLPKitClassifier(hidden_layer_sizes=(32,), max_iter=100, learning_rate=0.01, random_state=0)
    theirs = MLPClassifier(hidden_layer_sizes=(32,), max_iter=100, learning_rate_init=0.01, random_state=0)
    ours.fit(X_train, Y_train)
    theirs.fit(X_train, Y_train)
    predicted = ours.predict(X_test)
    assert predicted.shape == Y_test.shape == theirs.predict(X_test).shape and set(np.unique(predicted)) <= {0, 1}
    assert ours.predict_proba(X_test).shape == (len(X_test), 4) and ours.network_.task == "multilabel"
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    ours_score, theirs_score = ours.score(X_test, Y_test), theirs.score(X_test, Y_test)  # subset accuracy
    assert ours_score > 0.4 and abs(ours_score - theirs_score) < 0.1, (ours_score, theirs_score)
    early = MLPKitClassifier(hidden_layer_sizes=(32,), early_stopping=True, random_state=0).fit(X_train, Y_train)
    assert 0 <= early.best_validation_score_ <= 1
    with pytest.raises(ValueError, match="multilabel"):
        MLPKitClassifier(class_weight="balanced").fit(X_train, Y_train)


# ------------------------------------------------------------------------------- regression options
def test_regression_costs_and_target_standardization():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(400, 2))
    y = 5000.0 + 1000.0 * (np.sin(X[:, 0]) + X[:, 1] ** 2)
    for loss, name in [("squared_error", "quadratic"), ("absolute_error", "mae"), ("mae", "mae"),
                       ("huber", "huber")]:
        reg = MLPKitRegressor(hidden_layer_sizes=(32,), loss=loss, huber_delta=0.5, max_iter=150,
                              learning_rate=0.01, random_state=0).fit(X, y)
        assert reg.network_.loss.name == name and reg.score(X, y) > 0.95, (loss, reg.score(X, y))
    assert reg.network_.loss.get_config()["delta"] == 0.5
    assert reg.network_.target_scaler is not None
    np.testing.assert_allclose(reg.network_.target_scaler.mean, [y.mean()])
    raw = MLPKitRegressor(hidden_layer_sizes=(32,), standardize_targets=False, max_iter=150, learning_rate=0.01,
                          random_state=0).fit(X, y)
    assert raw.network_.target_scaler is None and raw.score(X, y) < 0.5
    theirs = MLPRegressor(hidden_layer_sizes=(32,), max_iter=150, learning_rate_init=0.01, random_state=0).fit(X, y)
    assert theirs.score(X, y) < 0.5  # scikit-learn has no target scaling: the unscaled target is hard for it too


# -------------------------------------------------------------------------- optimizers and schedules
@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_every_optimizer_trains(digits, name):
    X, y = digits[0][:400], digits[2][:400]
    clf = MLPKitClassifier(hidden_layer_sizes=(32,), optimizer=name, batch_size=32, max_iter=15,
                           random_state=0).fit(X, y)
    assert clf._optimizer.name == name and clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.score(X, y) > 0.8, (name, clf.score(X, y))


def test_optimizer_hyperparameters_under_scikit_learns_names(digits):
    X, y = digits[0][:100], digits[2][:100]
    options = dict(momentum=0.5, beta_1=0.8, beta_2=0.99, epsilon=1e-6, weight_decay=0.1, max_iter=1)
    made = {name: MLPKitClassifier(optimizer=name, **options).fit(X, y)._optimizer.get_config()
            for name in OPTIMIZER_NAMES}
    assert made["momentum"]["beta"] == made["nesterov"]["beta"] == 0.5
    assert made["adam"] == {"name": "adam", "learning_rate": 0.001, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}
    assert made["adamw"]["weight_decay"] == 0.1 and made["rmsprop"]["beta2"] == 0.99
    assert made["sgd"] == {"name": "sgd", "learning_rate": 0.1}  # what it does not use is ignored
    default = MLPKitClassifier(optimizer="rmsprop", max_iter=1).fit(X, y)._optimizer
    assert default.beta2 == 0.9  # None keeps the optimizer's own default
    dict_spec = MLPKitClassifier(optimizer={"name": "momentum", "convention": "classical"}, max_iter=1).fit(X, y)
    assert dict_spec._optimizer.convention == "classical"


@pytest.mark.parametrize("name", SCHEDULE_NAMES)
def test_every_schedule_sets_the_learning_rate_per_epoch(digits, name):
    X, y = digits[0][:300], digits[2][:300]
    spec = {"name": name, "step_size": 2} if name == "step" else name
    clf = MLPKitClassifier(hidden_layer_sizes=(8,), schedule=spec, learning_rate=0.01, max_iter=6,
                           early_stopping=name == "halve_on_plateau", n_iter_no_change=100, random_state=0)
    rates = clf.fit(X, y).history_["learning_rate"]
    assert rates[0] == pytest.approx(0.01) and len(rates) == clf.n_iter_
    if name in ("inverse_time", "exponential", "step"):
        assert rates[-1] < rates[0]
    exponential = MLPKitClassifier(hidden_layer_sizes=(8,), schedule={"name": "exponential", "decay_rate": 0.5},
                                   learning_rate=0.01, max_iter=3).fit(X, y)
    np.testing.assert_allclose(exponential.history_["learning_rate"], [0.01, 0.005, 0.0025])


def test_partial_fit_numbers_its_calls_as_epochs_of_the_schedule(digits):
    X, y = digits[0][:100], digits[2][:100]
    clf = MLPKitClassifier(hidden_layer_sizes=(8,), schedule={"name": "exponential", "decay_rate": 0.5},
                           learning_rate=0.01)
    rates = [clf.partial_fit(X, y, classes=np.arange(10)).history_["learning_rate"][0] for _ in range(3)]
    np.testing.assert_allclose(rates, [0.01, 0.005, 0.0025])


# ---------------------------------------------------------------------------- dropout and batch norm
def test_dropout_is_a_keep_probability_and_batch_norm_adds_layers(digits):
    X, y = digits[0][:300], digits[2][:300]
    clf = MLPKitClassifier(hidden_layer_sizes=(32, 16), dropout=[0.8, 1.0], batch_norm=True, max_iter=3,
                           random_state=0).fit(X, y)
    kinds = [type(layer).__name__ for layer in clf.network_.layers]
    assert kinds == ["Dense", "BatchNorm", "Dropout", "Dense", "BatchNorm", "Dense"]
    assert [layer.keep_prob for layer in clf.network_.layers if isinstance(layer, Dropout)] == [0.8]
    assert sum(isinstance(layer, BatchNorm) for layer in clf.network_.layers) == 2
    one = MLPKitClassifier(hidden_layer_sizes=(32, 16), dropout=0.5, max_iter=1, random_state=0).fit(X, y)
    assert [layer.keep_prob for layer in one.network_.layers if isinstance(layer, Dropout)] == [0.5, 0.5]
    repeat = MLPKitClassifier(hidden_layer_sizes=(32, 16), dropout=0.5, max_iter=1, random_state=0).fit(X, y)
    np.testing.assert_array_equal(one.predict_proba(X), repeat.predict_proba(X))  # seeded masks
    with pytest.raises(ValueError, match="one per hidden layer"):
        MLPKitClassifier(hidden_layer_sizes=(32, 16), dropout=[0.5]).fit(X, y)
    with pytest.raises(ValueError, match=r"keep probabilities in \(0, 1\]"):
        MLPKitClassifier(dropout=0.0).fit(X, y)


# --------------------------------------------------------------------------------------- bad inputs
def test_bad_inputs_are_one_line_value_errors():
    X, y = make_classification(n_samples=30, n_features=5, random_state=0)
    clf = MLPKitClassifier(hidden_layer_sizes=(4,), max_iter=1)
    with pytest.raises(ValueError) as excinfo:
        clf.fit(X, y, sample_weight=np.ones(29))
    assert "sample_weight has shape (29,), expected (30,)" in one_line_error(excinfo)
    weights = np.ones(30)
    weights[4] = -1.0
    with pytest.raises(ValueError) as excinfo:
        clf.fit(X, y, sample_weight=weights)
    assert "sample_weight must be finite and >= 0, got -1.0 for sample 4" in one_line_error(excinfo)
    with pytest.raises(ValueError) as excinfo:
        MLPKitClassifier(class_weight={0: 1.0, 7: 2.0}).fit(X, y)
    assert "class_weight names label 7" in one_line_error(excinfo) and "[0, 1]" in str(excinfo.value)
    with pytest.raises(ValueError) as excinfo:
        MLPKitClassifier(class_weight="balance").fit(X, y)
    assert "'balance'" in one_line_error(excinfo)
    clf.fit(sparse.csr_matrix(X), y)
    with pytest.raises(ValueError) as excinfo:
        clf.predict(sparse.csr_matrix(np.zeros((2, 7))))
    assert "7 features" in one_line_error(excinfo) and "5 features" in str(excinfo.value)
    with pytest.raises(ValueError) as excinfo:
        MLPKitClassifier(early_stopping=True, validation_fraction=1.5).fit(X, y)
    assert "validation_fraction" in one_line_error(excinfo)
    with pytest.raises(ValueError, match="unknown schedule"):
        MLPKitClassifier(schedule="cosine", max_iter=1).fit(X, y)


def test_fits_quietly_when_converged():
    X, y = make_moons(n_samples=100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        MLPKitClassifier(hidden_layer_sizes=(4,), tol=1e9, n_iter_no_change=1).fit(X, y)
