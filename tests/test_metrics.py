"""mlpkit.metrics against scikit-learn's metrics, with and without sample weights, ties included."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from mlpkit import metrics

RNG = np.random.default_rng(7)
N = 200


def _weights(kind: str) -> np.ndarray | None:
    return None if kind == "none" else RNG.uniform(0.0, 3.0, N)


@pytest.fixture(params=["none", "weighted"])
def weights(request: pytest.FixtureRequest) -> np.ndarray | None:
    return _weights(request.param)


def _proba(k: int) -> np.ndarray:
    logits = RNG.normal(size=(N, k))
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def test_accuracy_and_balanced_accuracy(weights: np.ndarray | None) -> None:
    y = RNG.integers(0, 4, N)
    yhat = np.where(RNG.random(N) < 0.6, y, RNG.integers(0, 4, N))
    assert metrics.accuracy(y, yhat, weights) == pytest.approx(skm.accuracy_score(y, yhat, sample_weight=weights),
                                                               abs=1e-12)
    assert metrics.balanced_accuracy(y, yhat, weights) == pytest.approx(
        skm.balanced_accuracy_score(y, yhat, sample_weight=weights), abs=1e-12)


def test_log_loss_softmax_and_independent(weights: np.ndarray | None) -> None:
    proba = _proba(3)
    y = RNG.integers(0, 3, N)
    onehot = np.eye(3)[y]
    assert metrics.log_loss(onehot, proba, weights) == pytest.approx(
        skm.log_loss(y, proba, sample_weight=weights), abs=1e-12)
    p = RNG.uniform(0.01, 0.99, N)
    b = RNG.integers(0, 2, N)
    assert metrics.log_loss(b[:, None], p[:, None], weights, independent=True) == pytest.approx(
        skm.log_loss(b, p, sample_weight=weights), abs=1e-12)


def test_roc_auc_binary_with_ties(weights: np.ndarray | None) -> None:
    y = RNG.integers(0, 2, N)
    scores = np.round(RNG.random(N) + 0.3 * y, 1)  # rounded: many tied scores
    assert metrics.roc_auc(y, scores, weights) == pytest.approx(skm.roc_auc_score(y, scores, sample_weight=weights),
                                                                abs=1e-12)


def test_roc_auc_one_vs_rest(weights: np.ndarray | None) -> None:
    y = RNG.integers(0, 4, N)
    proba = _proba(4)
    expected = skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", sample_weight=weights)
    assert metrics.roc_auc(y, proba, weights) == pytest.approx(expected, abs=1e-12)


def test_roc_auc_undefined_for_one_class() -> None:
    with pytest.raises(ValueError, match="only one class"):
        metrics.roc_auc(np.ones(5, int), np.arange(5.0))


def test_multilabel_metrics(weights: np.ndarray | None) -> None:
    Y = RNG.integers(0, 2, (N, 5))
    Yhat = np.where(RNG.random((N, 5)) < 0.8, Y, 1 - Y)
    assert metrics.subset_accuracy(Y, Yhat, weights) == pytest.approx(
        skm.accuracy_score(Y, Yhat, sample_weight=weights), abs=1e-12)
    assert metrics.hamming_loss(Y, Yhat, weights) == pytest.approx(
        skm.hamming_loss(Y, Yhat, sample_weight=weights), abs=1e-12)


def test_regression_metrics(weights: np.ndarray | None) -> None:
    y = RNG.normal(size=(N, 3))
    yhat = y + RNG.normal(scale=0.5, size=(N, 3))
    for ours, theirs in ((metrics.mean_squared_error, skm.mean_squared_error),
                         (metrics.mean_absolute_error, skm.mean_absolute_error), (metrics.r2_score, skm.r2_score)):
        assert ours(y, yhat, weights) == pytest.approx(theirs(y, yhat, sample_weight=weights), abs=1e-12)
        assert ours(y[:, 0], yhat[:, 0], weights) == pytest.approx(theirs(y[:, 0], yhat[:, 0], sample_weight=weights),
                                                                   abs=1e-12)


def test_r2_of_constant_targets_follows_scikit_learn() -> None:
    y = np.full(10, 3.0)
    assert metrics.r2_score(y, y) == skm.r2_score(y, y) == 1.0
    assert metrics.r2_score(y, y + 1) == skm.r2_score(y, y + 1) == 0.0


def test_task_metrics_keys_and_values(weights: np.ndarray | None) -> None:
    proba = _proba(3)
    y = RNG.integers(0, 3, N)
    result = metrics.task_metrics("classification", np.eye(3)[y], proba, proba.argmax(1), weights)
    assert set(result) == set(metrics.METRIC_NAMES["classification"])
    assert result["accuracy"] == pytest.approx(skm.accuracy_score(y, proba.argmax(1), sample_weight=weights))

    p = RNG.random((N, 1))
    b = RNG.integers(0, 2, (N, 1))
    binary = metrics.task_metrics("binary", b, p, (p[:, 0] > 0.5).astype(int), weights)
    assert binary["roc_auc"] == pytest.approx(skm.roc_auc_score(b[:, 0], p[:, 0], sample_weight=weights))

    P = RNG.random((N, 4))
    Y = RNG.integers(0, 2, (N, 4))
    multi = metrics.task_metrics("multilabel", Y, P, (P >= 0.5).astype(int), weights)
    assert set(multi) == set(metrics.METRIC_NAMES["multilabel"])
    assert multi["roc_auc"] == pytest.approx(skm.roc_auc_score(Y, P, average="macro", sample_weight=weights))
    assert multi["accuracy"] == multi["subset_accuracy"]

    t = RNG.normal(size=(N, 2))
    reg = metrics.task_metrics("regression", t, None, t * 0.9, weights)
    assert reg["r2"] == pytest.approx(skm.r2_score(t, t * 0.9, sample_weight=weights))


def test_undefined_auc_is_left_out() -> None:
    result = metrics.task_metrics("binary", np.ones((4, 1)), np.full((4, 1), 0.7), np.ones(4, int))
    assert "roc_auc" not in result and result["accuracy"] == 1.0


@pytest.mark.parametrize(("weights", "message"), [
    (np.ones(3), r"shape \(4,\)"), (np.array([1.0, -1.0, 1.0, 1.0]), ">= 0"),
    (np.zeros(4), "all zero"), (np.array([1.0, np.nan, 1.0, 1.0]), "finite"),
])
def test_bad_weights_are_one_line_errors(weights: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        metrics.accuracy(np.zeros(4), np.zeros(4), weights)


def test_bad_shapes_and_task() -> None:
    with pytest.raises(ValueError, match="must be equal"):
        metrics.mean_squared_error(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="unknown task"):
        metrics.task_metrics("ranking", np.zeros((2, 1)), None, np.zeros(2))
