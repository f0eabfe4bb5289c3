"""The practitioner's tabular path end to end: a CSV file with a header, ``mlpkit train --data FILE --target
COLUMN`` for every task (classes, two classes, several 0/1 columns, values), the task's metrics at the end and
from ``evaluate``, ``predict`` writing the file back with the predictions in the target columns, weights, and a
one-line error for each bad input."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

pytest.importorskip("click")
pytest.importorskip("rich")
pytest.importorskip("yaml")

import yaml

import mlpkit
from cli_runner import error, run
from mlpkit.settings import load_data

QUICK = ["--quiet", "--no-plots", "--optimizer", "adam", "--lr", "0.01", "--batch-size", "32"]


def _write(path, header, rows):
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _read(path_or_text):
    text = path_or_text if isinstance(path_or_text, str) else path_or_text.read_text()
    rows = list(csv.reader(text.splitlines()))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def regression_csv(tmp_path_factory):
    """y = sin(x1) + x2^2 / 2 + 3 (a smooth function) on [-2, 2]^2, an id column, and a weight column."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(500, 2))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 + 3.0
    w = rng.uniform(0.5, 2.0, size=500)
    path = tmp_path_factory.mktemp("data") / "smooth.csv"
    return _write(path, ["x1", "x2", "y", "w"], [[f"{a:.6f}", f"{b:.6f}", f"{c:.6f}", f"{d:.3f}"]
                                                 for (a, b), c, d in zip(X, y, w, strict=True)])


@pytest.fixture(scope="module")
def regression_run(regression_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    result = run("train", "--data", regression_csv, "--target", "y", "--sample-weight", "w", "--layers",
                 "auto,32,auto", "--activation", "tanh", "--epochs", "60", "--out", out, *QUICK[1:])
    return out, result.stdout


# ------------------------------------------------------------------------------------------------ regression
def test_regression_learns_a_smooth_function_and_reports_r2(regression_run, regression_csv):
    out, text = regression_run
    header = next(line for line in text.splitlines() if line.strip().startswith("epoch"))
    assert header.split() == ["epoch", "loss", "val_loss", "time"]  # no accuracy columns for values
    assert "task regression: target 'y' from 2 features, weighted by 'w'" in text
    summary = next(line for line in text.splitlines() if line.startswith("test R²"))
    r2 = float(summary.split()[2])
    assert r2 >= 0.9 and "MSE" in summary and "MAE" in summary
    net = mlpkit.load(out / "model.mlpk")
    assert net.task == "regression" and net.output_activation == "identity" and net.sizes == [2, 32, 1]
    assert net.feature_names == ["x1", "x2"] and net.target_names == ["y"]  # the weights are not a feature
    assert net.metadata["test_metrics"]["r2"] == pytest.approx(r2, abs=5e-5)
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["label_column"] == "y" and config["sample_weight"] == "w" and config["cost"] == "quadratic"
    # evaluate rebuilds the same weighted test split from the recorded settings
    report = json.loads(run("evaluate", out / "model.mlpk", "--json").stdout)
    assert report["task"] == "regression" and report["n"] == 50 and report["targets"] == ["y"]
    assert report["r2"] == pytest.approx(net.metadata["test_metrics"]["r2"], rel=1e-9)
    assert set(report) >= {"loss", "mse", "mae", "r2"} and "accuracy" not in report
    text = run("evaluate", out / "model.mlpk").stdout
    assert "(test, 50 examples, weighted)" in text and "R² " in text and "MSE" in text


def test_predict_writes_the_rows_back_with_the_values(regression_run, tmp_path):
    out, _ = regression_run
    net = mlpkit.load(out / "model.mlpk")
    # new rows: the features in another order, an extra column, no target column
    new = _write(tmp_path / "new.csv", ["id", "x2", "x1"], [["a", "1", "0.5"], ["b", "-1", "2"]])
    target = tmp_path / "pred.csv"
    run("predict", out / "model.mlpk", new, "-o", target)
    header, rows = _read(target)
    assert header == ["id", "x2", "x1", "y"] and [r[:3] for r in rows] == [["a", "1", "0.5"], ["b", "-1", "2"]]
    values = np.array([float(r[3]) for r in rows])
    np.testing.assert_allclose(values, net.predict(np.array([[0.5, 1.0], [2.0, -1.0]]))[:, 0], rtol=1e-6)
    truth = np.sin([0.5, 2.0]) + 0.5 + 3.0
    np.testing.assert_allclose(values, truth, atol=0.15)
    assert not list(tmp_path.glob(".pred.csv*"))  # written through a temporary file, renamed
    other = _write(tmp_path / "other.csv", ["x1", "x2", "y"], [["0.5", "1", "3.979"], ["2", "-1", "4.409"],
                                                               ["0", "0", "3"]])
    report = json.loads(run("evaluate", out / "model.mlpk", "--data", other, "--json").stdout)
    assert report["split"] == "all" and report["n"] == 3 and report["mae"] < 0.15
    assert "no probabilities" in error("predict", out / "model.mlpk", new, "--proba")


def test_huber_and_mae_costs(regression_csv, tmp_path):
    out = tmp_path / "huber"
    run("train", "--data", regression_csv, "--target", "y", "--cost", "huber", "--huber-delta", "0.5", "--epochs",
        "2", "--out", out, *QUICK)
    net = mlpkit.load(out / "model.mlpk")
    assert net.loss.name == "huber" and net.loss.get_config()["delta"] == 0.5
    assert yaml.safe_load((out / "config.yaml").read_text())["huber_delta"] == 0.5
    run("train", "--data", regression_csv, "--target", "y", "--cost", "mae", "--epochs", "1", "--out",
        tmp_path / "mae", *QUICK)
    assert mlpkit.load(tmp_path / "mae" / "model.mlpk").loss.name == "mae"


# ------------------------------------------------------------------------------------------------ classes
@pytest.fixture(scope="module")
def classes_csv(tmp_path_factory):
    """Three named classes by the angle of (a, b), a 0/1 column 'big' (a + b > 0) and three 0/1 label
    columns l1 = a > 0, l2 = b > 0, l3 = a > b."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 2))
    angle = np.arctan2(X[:, 1], X[:, 0])
    kind = np.array(["cat", "dog", "eel"])[np.digitize(angle, [-np.pi / 3, np.pi / 3])]
    labels = np.column_stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 0] > X[:, 1]]).astype(int)
    big = (X.sum(axis=1) > 0.8).astype(int)
    path = tmp_path_factory.mktemp("data") / "kinds.csv"
    rows = [[f"{a:.5f}", f"{b:.5f}", k, str(g), *map(str, ls)]
            for (a, b), k, g, ls in zip(X, kind, big, labels, strict=True)]
    return _write(path, ["a", "b", "kind", "big", "l1", "l2", "l3"], rows)


def test_named_classes_train_evaluate_and_predict_by_name(classes_csv, tmp_path):
    out = tmp_path / "run"
    # a 0/1 column is a valid weight column (rows with 0 do not count); the other columns are features
    run("train", "--data", classes_csv, "--target", "kind", "--sample-weight", "big", "--epochs", "2", "--out", out,
        *QUICK)
    assert mlpkit.load(out / "model.mlpk").feature_names == ["a", "b", "l1", "l2", "l3"]
    out = tmp_path / "plain"
    # every column but the target is a feature: leave the others out of this file
    plain = _write(tmp_path / "plain.csv", ["a", "b", "kind"],
                   [r[:3] for r in _read(classes_csv)[1]])
    text = run("train", "--data", plain, "--target", "kind", "--layers", "auto,16,auto", "--epochs", "40",
               "--out", out, *QUICK).stdout
    accuracy = float(text.split("test accuracy ")[1].split("%")[0]) / 100
    assert accuracy >= 0.9
    net = mlpkit.load(out / "model.mlpk")
    assert net.task == "classification" and net.metadata["classes"] == ["cat", "dog", "eel"]
    report = json.loads(run("evaluate", out / "model.mlpk", "--json").stdout)
    assert report["accuracy"] == pytest.approx(accuracy, abs=5e-5)
    assert {"balanced_accuracy", "log_loss", "roc_auc", "confusion_matrix"} <= set(report)
    new = _write(tmp_path / "new.csv", ["b", "a"], [["0", "1"], ["1", "-0.1"], ["-1", "-0.1"]])
    header, rows = _read(run("predict", out / "model.mlpk", new, "--proba").stdout)
    assert header == ["b", "a", "kind", "p_cat", "p_dog", "p_eel"]
    assert [r[2] for r in rows] == ["dog", "eel", "cat"]
    np.testing.assert_allclose(np.array([r[3:] for r in rows], dtype=float).sum(axis=1), 1.0, atol=1e-5)
    # an input that holds the target column already: the predictions alone, as for any classifier
    header, rows = _read(run("predict", out / "model.mlpk", plain).stdout)
    assert header == ["prediction"] and len(rows) == 600 and {r[0] for r in rows} <= {"cat", "dog", "eel"}


def test_binary_task_with_class_weights_and_a_threshold(classes_csv, tmp_path):
    out = tmp_path / "run"
    plain = _write(tmp_path / "big.csv", ["a", "b", "big"], [[r[0], r[1], r[3]] for r in _read(classes_csv)[1]])
    text = run("train", "--data", plain, "--target", "big", "--task", "binary", "--class-weight", "0:1,1:2",
               "--threshold", "0.4", "--layers", "auto,8,auto", "--epochs", "30", "--out", out, *QUICK).stdout
    assert float(text.split("test accuracy ")[1].split("%")[0]) >= 85
    net = mlpkit.load(out / "model.mlpk")
    assert net.task == "binary" and net.sizes == [2, 8, 1] and net.threshold == 0.4
    assert net.output_activation == "sigmoid" and net.loss.name == "binary_crossentropy"
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["task"] == "binary" and config["class_weight"] == "0:1,1:2" and config["threshold"] == 0.4
    report = json.loads(run("evaluate", out / "model.mlpk", "--json").stdout)
    assert report["task"] == "binary" and report["classes"] == ["0", "1"]
    new = _write(tmp_path / "new.csv", ["a", "b"], [["3", "3"], ["-3", "-3"]])
    assert [r[2] for r in _read(run("predict", out / "model.mlpk", new).stdout)[1]] == ["1", "0"]
    run("train", "--data", plain, "--target", "big", "--class-weight", "balanced", "--epochs", "1", "--out",
        tmp_path / "balanced", *QUICK)
    assert mlpkit.load(tmp_path / "balanced" / "model.mlpk").task == "classification"  # two softmax units


def test_multilabel_columns(classes_csv, tmp_path):
    out = tmp_path / "run"
    table = _write(tmp_path / "labels.csv", ["a", "b", "l1", "l2", "l3"],
                   [[r[0], r[1], *r[4:]] for r in _read(classes_csv)[1]])
    text = run("train", "--data", table, "--target", "l1,l2,l3", "--layers", "auto,32,auto", "--epochs", "60",
               "--out", out, *QUICK).stdout
    summary = text.strip().splitlines()[-1]
    assert summary.startswith("test subset accuracy") and "Hamming loss" in summary
    assert float(summary.split("subset accuracy ")[1].split("%")[0]) >= 85
    net = mlpkit.load(out / "model.mlpk")
    assert net.task == "multilabel" and net.sizes == [2, 32, 3] and net.target_names == ["l1", "l2", "l3"]
    report = json.loads(run("evaluate", out / "model.mlpk", "--json").stdout)
    assert report["subset_accuracy"] >= 0.85 and report["hamming_loss"] <= 0.1
    new = _write(tmp_path / "new.csv", ["a", "b"], [["1", "2"], ["-1", "-2"], ["2", "-1"]])
    target = tmp_path / "pred.csv"
    run("predict", out / "model.mlpk", new, "--proba", "-o", target)
    header, rows = _read(target)
    assert header == ["a", "b", "l1", "l2", "l3", "p_l1", "p_l2", "p_l3"]
    assert [r[2:5] for r in rows] == [["1", "1", "0"], ["0", "0", "1"], ["1", "0", "1"]]


def test_the_run_data_of_a_regression_table(regression_csv):
    data = load_data(str(regression_csv), label_column="y", task="regression")
    assert data.task == "regression" and data.n_outputs == 1 and data.dataset.train.y.shape == (400, 1)
    assert data.dataset.train.sample_weight is None
    weighted = load_data(str(regression_csv), label_column="y", sample_weight="w")
    assert weighted.dataset.train.sample_weight.shape == (400,) and weighted.feature_names == ("x1", "x2")
    np.testing.assert_array_equal(weighted.dataset.test.y, data.dataset.test.y)  # the weights do not move rows


# ------------------------------------------------------------------------------------------------ bad input
def test_bad_tables_and_options_exit_2_with_one_line(tmp_path, regression_csv):
    nan = _write(tmp_path / "nan.csv", ["x", "y"], [["1", "2"], ["2", "nan"]])
    empty = _write(tmp_path / "empty.csv", ["x", "y"], [["1", "2"], ["2", ""]])
    floats = _write(tmp_path / "floats.csv", ["x", "y"], [["1", "0.5"], ["2", "1.5"]])
    negative = _write(tmp_path / "neg.csv", ["x", "y", "w"], [["1", "2", "1"], ["2", "3", "-1"]])
    short = tmp_path / "short.csv"
    short.write_text("x,y,w\n1,2,1\n2,3\n")
    train = ("train", "--epochs", "1", "--out", tmp_path / "never", *QUICK)
    assert f"{regression_csv}: no label column 'price'" in error(*train, "--data", regression_csv, "--target", "price")
    assert "line 3, column 'y': label 'nan' is not a finite number" in error(*train, "--data", nan, "--target", "y")
    assert "line 3: empty label in column 'y' (a missing value)" in error(*train, "--data", empty, "--target", "y")
    message = error(*train, "--data", floats, "--target", "y", "--task", "classification")
    assert "line 2, column 'y': label '0.5' is not a whole number" in message
    assert "line 3, column 'w': weight '-1' is negative" in error(*train, "--data", negative, "--target", "y",
                                                                   "--sample-weight", "w")
    assert "line 3: 2 fields, but the header has 3 columns" in error(*train, "--data", short, "--target", "y",
                                                                      "--sample-weight", "w")
    assert "--sample-weight names a column of a CSV file; digits has none" in error(*train, "--sample-weight", "w")
    assert "--class-weight applies to classification and binary tasks, not regression" in error(
        *train, "--data", regression_csv, "--target", "y", "--sample-weight", "w", "--class-weight", "balanced")
    assert "--threshold applies to binary and multilabel tasks, not regression" in error(
        *train, "--data", regression_csv, "--target", "y", "--sample-weight", "w", "--threshold", "0.3")
    assert "--threshold must be a number between 0 and 1" in error(*train, "--threshold", "1.5")
    assert "--huber-delta applies to --cost huber" in error(*train, "--huber-delta", "2")
    assert "--class-weight must be 'balanced' or class:weight pairs" in error(*train, "--class-weight", "0=1")
    assert "--class-weight names the class 'bird'" in error(*train, "--class-weight", "bird:2")
    assert "--task must be one of auto, classification, binary, multilabel, regression" in error(
        *train, "--task", "ranking")
    assert "--task regression does not fit digits" in error(*train, "--task", "regression")
    assert "--layers ends with 3 outputs but the dataset has 1 target columns (regression)" in error(
        *train, "--data", regression_csv, "--target", "y", "--sample-weight", "w", "--layers", "auto,4,3")
    assert not (tmp_path / "never").exists()


def test_a_dataframe_becomes_a_run(regression_csv):
    pd = pytest.importorskip("pandas")
    from mlpkit.datasets import load_dataframe
    from mlpkit.settings import build_run, resolve, table_data

    frame = pd.read_csv(regression_csv)
    whole = load_dataframe(frame, label_column="y", task="regression", weight_column="w")
    data = table_data(whole, "regression", seed=0, name="frame")
    training = build_run(resolve({"dataset": "frame", "layers": "auto,16,auto", "activation": "tanh",
                                  "optimizer": "adam", "lr": 0.01, "epochs": 40, "batch_size": 32}), data=data)
    training.fit()
    assert training.network.feature_names == ["x1", "x2"] and training.network.task == "regression"
    test = data.dataset.test
    assert training.network.evaluate(test.X, test.y, sample_weight=test.sample_weight)["r2"] >= 0.9
    # the same rows and split as the file itself
    np.testing.assert_allclose(test.y, load_data(str(regression_csv), label_column="y", sample_weight="w",
                                                 dtype="float64").dataset.test.y)
