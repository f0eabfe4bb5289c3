"""Diagnosis: Ng's bias/variance verdicts, saturated and dead units, vanishing gradients, per-class report."""

import numpy as np
import pytest

from mlpkit import BatchNorm, Dense, Network
from mlpkit.datasets import load_digits
from mlpkit.diagnose import (
    BIAS_REMEDIES,
    VARIANCE_REMEDIES,
    bias_variance,
    classification_report,
    confusion_matrix,
    gradient_norms,
    gradient_verdict,
    saturation,
)


@pytest.fixture(scope="module")
def digits():
    return load_digits()


# ------------------------------------------------------------------------------------ bias / variance
@pytest.mark.parametrize(("train", "dev", "verdict"), [
    (0.01, 0.11, "high variance"),  # Ng week 1, "Bias / Variance": the four textbook cases
    (0.15, 0.16, "high bias"),
    (0.15, 0.30, "high bias and high variance"),
    (0.005, 0.01, "good fit"),
])
def test_ngs_four_textbook_cases(train, dev, verdict):
    result = bias_variance(train, dev, bayes_error=0.0)
    assert result.verdict == verdict
    assert result.avoidable_bias == pytest.approx(train)
    assert result.variance == pytest.approx(dev - train)
    assert result.high_bias == ("bias" in verdict)
    assert result.high_variance == ("variance" in verdict)


def test_remedies_follow_the_basic_recipe():
    assert bias_variance(0.15, 0.16).remedies == BIAS_REMEDIES
    assert bias_variance(0.01, 0.11).remedies == VARIANCE_REMEDIES
    both = bias_variance(0.15, 0.30).remedies
    assert both[:len(BIAS_REMEDIES)] == BIAS_REMEDIES and "more training data (or data augmentation)" in both
    assert bias_variance(0.005, 0.01).remedies == ()
    assert "bigger network" in str(bias_variance(0.15, 0.16))


def test_a_high_bayes_error_turns_high_bias_into_a_good_fit():
    # Ng: with blurry images (Bayes error ~15%), 15% train / 16% dev is fine
    assert bias_variance(0.15, 0.16, bayes_error=0.15).verdict == "good fit"


def test_tolerance_decides_what_counts_as_high():
    assert bias_variance(0.01, 0.04).verdict == "high variance"
    assert bias_variance(0.01, 0.04, tolerance=0.05).verdict == "good fit"


@pytest.mark.parametrize("kwargs", [
    {"train_error": -0.1, "dev_error": 0.1},
    {"train_error": 0.1, "dev_error": 1.5},
    {"train_error": 0.1, "dev_error": 0.2, "bayes_error": float("nan")},
    {"train_error": 5, "dev_error": 10},  # percents instead of fractions
])
def test_bad_error_rates_are_refused(kwargs):
    with pytest.raises(ValueError, match="must be"):
        bias_variance(**kwargs)


# ------------------------------------------------------------------------------------------ saturation
def test_a_network_with_huge_weights_is_flagged_as_saturated(digits):
    net = Network([64, 30, 10], seed=0)
    calm = saturation(net, digits.train.X)
    assert len(calm) == 1 and calm[0].saturated < 0.05 and calm[0].problem is None
    net.layers[0].params["W"][...] *= 50  # Nielsen ch.3: large weights push |z| up, sigma'(z) to ~0
    hot = saturation(net, digits.train.X)[0]
    assert hot.activation == "sigmoid" and hot.units == 30
    assert hot.saturated > 0.5
    assert hot.problem is not None and "saturated" in hot.problem


def test_tanh_saturation_and_the_output_layer_is_not_counted(digits):
    net = Network([64, 20, 20, 10], activation="tanh", seed=1)
    for layer in net.layers:
        layer.params["W"][...] *= 100
    result = saturation(net, digits.train.X)
    assert [s.layer for s in result] == [0, 1]  # the softmax output layer is not a hidden unit
    assert all(s.saturated > 0.8 for s in result)


def test_dead_relus_are_counted(digits):
    net = Network([64, 16, 10], activation="relu", init="he", seed=0)
    net.layers[0].params["b"][:8] = -1000.0  # half the units can never be active,
    net.layers[0].params["b"][8:] = 1000.0  # the other half always are
    result = saturation(net, digits.train.X)[0]
    assert result.stuck_units == pytest.approx(0.5)
    assert "dead" in result.problem


def test_saturation_after_batchnorm_reads_the_batchnorm_activation(digits):
    net = Network([Dense(16, use_bias=False), BatchNorm(activation="sigmoid"), Dense(10, "softmax")], input_dim=64)
    result = saturation(net, digits.train.X)
    assert [s.layer for s in result] == [1]


def test_saturation_threshold_is_checked(digits):
    net = Network([64, 10, 10])
    with pytest.raises(ValueError, match="threshold"):
        saturation(net, digits.train.X, threshold=0.6)


# ------------------------------------------------------------------------------------ gradient norms
@pytest.mark.parametrize("init", ["default", "large"])
def test_an_untrained_deep_sigmoid_network_has_vanishing_gradients(digits, init):
    # Nielsen ch.5: in [784, 30, 30, 30, 30, 10] the early layers learn far more slowly than the later ones
    net = Network([64, 30, 30, 30, 30, 10], init=init, seed=0)
    layers = gradient_norms(net, digits.train.X[:500], digits.train.y[:500])
    assert [g.layer for g in layers] == [0, 1, 2, 3, 4]
    speeds = [g.bias_gradient_norm for g in layers]
    assert speeds == sorted(speeds) and speeds[0] < speeds[-1] / 10  # decreasing towards the input
    rms = [g.rms for g in layers]
    assert rms == sorted(rms)
    assert gradient_verdict(layers).startswith("vanishing gradients")


def test_gradient_norms_match_the_gradient_and_leave_the_network_alone(digits):
    net = Network([Dense(16, use_bias=False), BatchNorm(activation="relu"), Dense(10, "softmax")], input_dim=64,
                  regularizer={"name": "l2", "lmbda": 5.0}, seed=0)
    before = net.get_weights()
    X, y = digits.train.X[:100], digits.train.y[:100]
    layers = gradient_norms(net, X, y)
    after = net.get_weights()
    assert all(np.array_equal(before[k], after[k]) for k in before)  # BatchNorm running stats untouched
    reference = net.astype(np.float64)
    reference.regularizer = None
    reference.compute_gradients(X.astype(np.float64), np.eye(10)[y])
    assert layers[0].gradient_norm == pytest.approx(np.linalg.norm(reference.layers[0].grads["W"]), rel=1e-9)
    assert layers[0].bias_gradient_norm is None  # Dense before BatchNorm has no bias
    assert layers[-1].weight_norm == pytest.approx(np.linalg.norm(net.layers[-1].params["W"]), rel=1e-6)
    assert layers[-1].ratio == pytest.approx(layers[-1].gradient_norm / layers[-1].weight_norm)


def test_gradient_verdict_reports_exploding_and_balanced_gradients(digits):
    layers = gradient_norms(Network([64, 30, 10], activation="relu", init="he", seed=0), digits.train.X[:200],
                            digits.train.y[:200])
    assert gradient_verdict(layers).startswith("gradients of similar size")
    flipped = list(reversed(gradient_norms(Network([64, 30, 30, 30, 30, 10], seed=0), digits.train.X[:200],
                                           digits.train.y[:200])))
    assert gradient_verdict(flipped).startswith("exploding gradients")
    assert gradient_verdict(layers[:1]).startswith("one weight layer")


# --------------------------------------------------------------------------------- per-class report
def test_confusion_matrix_and_report_agree_with_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, 300)
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.integers(0, 4, 300))
    y_pred[y_pred == 3] = 2  # class 3 is never predicted: precision 0/0 -> 0
    cm = confusion_matrix(y_true, y_pred, 4)
    np.testing.assert_array_equal(cm, metrics.confusion_matrix(y_true, y_pred, labels=range(4)))
    report = classification_report(cm)
    expected = metrics.classification_report(y_true, y_pred, labels=range(4), output_dict=True, zero_division=0)
    for row in report["per_class"]:
        reference = expected[str(row["class"])]
        assert row["precision"] == pytest.approx(reference["precision"])
        assert row["recall"] == pytest.approx(reference["recall"])
        assert row["f1"] == pytest.approx(reference["f1-score"])
        assert row["support"] == reference["support"]
    for key in ("macro avg", "weighted avg"):
        assert report[key]["f1"] == pytest.approx(expected[key]["f1-score"])
        assert report[key]["precision"] == pytest.approx(expected[key]["precision"])
    assert report["accuracy"] == pytest.approx(expected["accuracy"])


def test_confusion_matrix_checks_its_input():
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="class indices"):
        confusion_matrix([0, -1], [0, 1])
    with pytest.raises(ValueError, match="below n_classes"):
        confusion_matrix([0, 3], [0, 1], n_classes=2)
    assert confusion_matrix([0, 2], [2, 2]).shape == (3, 3)
