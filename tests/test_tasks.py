"""Tasks: classification, binary, multilabel and regression networks train, predict, evaluate, save and load;
sparse and DataFrame inputs; the one-line errors of bad targets and mismatched tasks."""

import json
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp

from mlpkit import Dense, Network
from mlpkit.serialization import CONFIG_ENTRY, load_network
from mlpkit.tasks import TASKS, TargetScaler, encode_targets, infer_task


def _sine(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    return X, 10.0 * np.sin(X[:, 0]) + 50.0


def _multilabel(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    Y = np.stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] > 0.3], axis=1).astype(np.int64)
    return X, Y


@pytest.fixture(scope="module")
def regressor():
    X, y = _sine()
    net = Network([1, 32, 1], activation="tanh", task="regression", seed=0)
    net.fit(X, y, epochs=150, batch_size=32, optimizer="adam", learning_rate=0.01, verbose=0, seed=0)
    return net, X, y


# ------------------------------------------------------------------------------------------ inference
@pytest.mark.parametrize(("y", "task"), [
    (np.array([0, 2, 1, 2]), "classification"),
    (np.array([0.0, 1.0, 1.0]), "classification"),
    (np.array([0, 1, 1, 0]), "classification"),
    (np.eye(3)[[0, 2, 1]], "classification"),
    (np.array([[1, 0, 1], [0, 0, 1], [0, 1, 0]]), "multilabel"),
    (np.array([0.5, 1.25, -3.0]), "regression"),
    (np.array([[0.5, 1.0], [2.0, 3.0]]), "regression"),
])
def test_infer_task(y, task):
    assert infer_task(y) == task


def test_infer_task_names_the_first_bad_row():
    with pytest.raises(ValueError, match="y has a NaN or infinite value in row 2; expected finite targets"):
        infer_task(np.array([1.0, 2.0, np.nan, np.inf]))


def test_the_task_follows_the_output_layer_when_not_given():
    assert Network([3, 4]).task == "classification"
    assert Network([3, 1], output_activation="sigmoid").task == "binary"
    assert Network([3, 4], output_activation="sigmoid").task == "classification"  # network2: argmax
    assert Network([3, 2], output_activation="tanh").task == "regression"
    assert [Network([3, 2 if t != "binary" else 1], task=t).output_activation for t in TASKS] == \
        ["softmax", "sigmoid", "sigmoid", "identity"]


@pytest.mark.parametrize(("build", "message"), [
    (lambda: Network([3, 4], output_activation="softmax", task="regression"),
     "task 'regression' needs an output layer without softmax or sigmoid"),
    (lambda: Network([3, 3], task="binary"), "task 'binary' needs one sigmoid output unit; this network has 3"),
    (lambda: Network([3, 2], output_activation="identity", task="classification"),
     r"task 'classification' needs a softmax \(or sigmoid\) output layer of at least 2 units"),
    (lambda: Network([3, 2], output_activation="softmax", task="multilabel"), "task 'multilabel' needs a sigmoid"),
    (lambda: Network([3, 2], task="ranking"), "task must be one of classification, binary, multilabel, regression"),
    (lambda: Network([3, 1], task="binary", threshold=1.0), "threshold must be a number between 0 and 1"),
])
def test_a_task_that_does_not_fit_is_one_line(build, message):
    with pytest.raises(ValueError, match=message) as info:
        build()
    assert "\n" not in str(info.value)


# ------------------------------------------------------------------------------------------ regression
def test_regression_fits_a_smooth_function_in_its_own_units(regressor):
    net, X, y = regressor
    scores = net.evaluate(X, y)
    assert scores["r2"] >= 0.95
    assert set(scores) == {"loss", "mse", "mae", "r2"}
    assert net.target_scaler.mean[0] == pytest.approx(y.mean(), rel=1e-12)
    assert net.target_scaler.scale[0] == pytest.approx(y.std(), rel=1e-12)
    prediction = net.predict(X)
    assert prediction.shape == (400, 1) and prediction.dtype == np.float32
    assert abs(prediction.mean() - 50.0) < 1.0  # the original units, not the standardized ones
    with pytest.raises(ValueError, match="a regression network has no probabilities; use predict"):
        net.predict_proba(X)


def test_the_target_scaler_is_saved_and_restored(regressor, tmp_path):
    net, X, _ = regressor
    path = net.save(tmp_path / "sine.mlpk")
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read(CONFIG_ENTRY))["network"]
    assert config["task"] == "regression"
    scaler = net.target_scaler
    assert config["target_scaler"] == {"mean": scaler.mean.tolist(), "scale": scaler.scale.tolist()}
    loaded = load_network(path)
    np.testing.assert_array_equal(loaded.target_scaler.mean, net.target_scaler.mean)
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))


def test_a_warm_start_keeps_the_scaler_and_an_inferred_regression_is_not_scaled():
    X, y = _sine(100)
    net = Network([1, 8, 1], activation="tanh", task="regression", seed=0)
    net.fit(X, y, epochs=1, verbose=0, seed=0)
    scaler = net.target_scaler
    net.fit(X, y + 1000.0, epochs=1, verbose=0, seed=0)
    assert net.target_scaler is scaler
    inferred = Network([Dense(8, "tanh"), Dense(1)], input_dim=1, seed=0)
    inferred.fit(X, y, epochs=1, verbose=0, seed=0)
    assert inferred.task == "regression" and inferred.target_scaler is None
    assert inferred.get_config()["task"] is None
    inferred.fit(X, y, epochs=1, verbose=0, seed=0, standardize_targets=True)
    assert inferred.target_scaler is not None
    with pytest.raises(ValueError, match="standardize_targets applies to regression networks, not to a "
                                         "classification network"):
        Network([1, 2]).fit(X, (y > 50).astype(int), standardize_targets=True, verbose=0)


def test_weighted_target_statistics():
    Y = np.array([[1.0], [3.0], [10.0]])
    scaler = TargetScaler.fit(Y, np.array([1.0, 1.0, 0.0]))
    assert scaler.mean.tolist() == [2.0] and scaler.scale.tolist() == [1.0]
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(Y)), Y, rtol=1e-15)
    assert TargetScaler.fit(np.ones((4, 1))).scale.tolist() == [1.0]  # a constant target keeps scale 1


# ------------------------------------------------------------------------------------------ multilabel
def test_multilabel_predicts_label_sets_that_argmax_cannot():
    X, Y = _multilabel()
    net = Network([4, 16, 3], activation="relu", task="multilabel", seed=0)
    history = net.fit(X, Y, epochs=40, batch_size=32, optimizer="adam", learning_rate=0.01, verbose=0, seed=0)
    assert history["accuracy"][-1] > 0.9  # the per-epoch accuracy is the subset accuracy
    prediction = net.predict(X)
    assert prediction.shape == (600, 3) and prediction.dtype == np.int64
    scores = net.evaluate(X, Y)
    assert set(scores) == {"loss", "accuracy", "subset_accuracy", "hamming_loss", "log_loss", "roc_auc"}
    assert scores["subset_accuracy"] > 0.9
    argmax = np.eye(3, dtype=np.int64)[net.predict_proba(X).argmax(axis=1)]
    assert scores["subset_accuracy"] > (argmax == Y).all(axis=1).mean() + 0.4
    net.threshold = 0.99
    assert net.predict(X).sum() < prediction.sum()


def test_multilabel_targets_must_be_a_01_matrix():
    X, Y = _multilabel(20)
    net = Network([4, 3], task="multilabel")
    with pytest.raises(ValueError, match="y must be 0/1 for a multilabel network"):
        net.fit(X, Y * 2, verbose=0)
    with pytest.raises(ValueError, match="must be a 0/1 matrix"):
        net.fit(X, Y[:, 0], verbose=0)


# ---------------------------------------------------------------------------------------------- binary
def test_binary_network_predicts_01_and_one_probability_column(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    net = Network([2, 16, 1], activation="tanh", task="binary", threshold=0.4, seed=0)
    net.fit(X, y, epochs=60, batch_size=16, optimizer="adam", learning_rate=0.02, verbose=0, seed=0)
    proba, prediction = net.predict_proba(X), net.predict(X)
    assert proba.shape == (400, 1) and prediction.shape == (400,) and prediction.dtype == np.int64
    np.testing.assert_array_equal(prediction, (proba[:, 0] >= 0.4).astype(np.int64))
    scores = net.evaluate(X, y)
    assert scores["accuracy"] > 0.9 and scores["roc_auc"] > 0.95
    loaded = load_network(net.save(tmp_path / "binary.mlpk"))
    assert loaded.threshold == 0.4 and loaded.task == "binary"


def test_classification_predicts_class_indices():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    net = Network([2, 16, 3], activation="relu", seed=0)
    net.fit(X, y, epochs=30, batch_size=16, optimizer="adam", learning_rate=0.02, verbose=0, seed=0)
    prediction = net.predict(X)
    assert prediction.shape == (300,) and prediction.dtype == np.int64
    scores = net.evaluate(X, y)
    assert set(scores) == {"loss", "accuracy", "balanced_accuracy", "log_loss", "roc_auc"}
    assert scores["accuracy"] > 0.9


@pytest.mark.parametrize(("task", "y", "message"), [
    ("classification", [0.0, 1.5, 1.0], r"y holds the non-integer value 1.5 \(row 1\); a classification network "
                                        "expects integer class labels"),
    ("binary", [0.0, 0.25, 1.0], r"y holds the non-integer value 0.25 \(row 1\)"),
    ("binary", [0, 2, 1], "y must be 0/1 for a binary network, got values 0..2"),
    ("regression", [1.0, np.nan, 2.0], "y has a NaN or infinite value in row 1"),
    ("classification", [0, 1], "y has 2 rows but X has 3 samples"),
])
def test_bad_targets_are_one_line(task, y, message):
    with pytest.raises(ValueError, match=message):
        encode_targets(task, np.array(y), 3, 2 if task == "classification" else 1)


def test_old_configs_without_task_keys_load():
    net = Network([3, 4, 1], output_activation="sigmoid", seed=0)
    config = net.get_config()
    for key in ("task", "threshold", "target_scaler", "feature_names", "target_names"):
        config.pop(key)
    old = Network.from_config(config)
    assert old.task == "binary" and old.threshold == 0.5 and old.target_scaler is None


# ---------------------------------------------------------------------------------- sparse and frames
def test_sparse_inputs_train_exactly_like_the_dense_ones():
    rng = np.random.default_rng(4)
    dense = rng.normal(size=(90, 12)) * (rng.uniform(size=(90, 12)) < 0.2)
    y = rng.integers(0, 3, 90)
    runs = []
    for X in (dense, sp.csr_matrix(dense), sp.coo_matrix(dense), sp.csc_matrix(dense)):
        net = Network([12, 6, 3], seed=0)
        history = net.fit(X, y, epochs=3, batch_size=16, verbose=0, seed=0)
        runs.append((net.flat_parameters.copy(), history["loss"], net.predict_proba(X), net.evaluate(X, y)))
    for parameters, losses, proba, scores in runs[1:]:
        np.testing.assert_array_equal(parameters, runs[0][0])
        assert losses == runs[0][1] and scores == runs[0][3]
        np.testing.assert_array_equal(proba, runs[0][2])
    unshuffled = [Network([12, 6, 3], seed=0) for _ in range(2)]
    for net, X in zip(unshuffled, (dense, sp.csr_matrix(dense)), strict=True):
        net.fit(X, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
    np.testing.assert_array_equal(unshuffled[0].flat_parameters, unshuffled[1].flat_parameters)


def test_sparse_input_of_the_wrong_width_is_refused():
    net = Network([10, 2])
    with pytest.raises(ValueError, match=r"^X has 12 features, the network expects 10$"):
        net.predict(sp.random(5, 12, density=0.3, format="csr", random_state=0))
    with pytest.raises(ValueError, match="contains 1 NaN"):
        net.predict(sp.csr_matrix(np.array([[np.nan] + [0.0] * 9])))


def test_dataframe_columns_become_feature_names():
    pd = pytest.importorskip("pandas")
    X, Y = _multilabel(60)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    targets = pd.DataFrame(Y, columns=["x", "y", "z"])
    net = Network([4, 3], task="multilabel", seed=0)
    net.fit(frame, targets, epochs=1, verbose=0)
    assert net.feature_names == ["a", "b", "c", "d"] and net.target_names == ["x", "y", "z"]
    restored = Network.from_config(net.get_config())
    assert restored.feature_names == ["a", "b", "c", "d"] and restored.target_names == ["x", "y", "z"]
    np.testing.assert_array_equal(net.predict(frame), net.predict(X))
    with pytest.raises(ValueError, match="X column 2 is 'q', the network was trained with 'c' there"):
        net.predict(frame.rename(columns={"c": "q"}))
    with pytest.raises(ValueError, match="X column 0 is 'b'"):
        net.evaluate(frame[["b", "a", "c", "d"]], Y)
