"""Known values and numerical stability of activations and costs."""

import warnings

import numpy as np
import pytest

from mlpkit.activations import ACTIVATION_NAMES, Softmax, get_activation, sigmoid, softmax
from mlpkit.losses import BinaryCrossEntropy, CategoricalCrossEntropy, Quadratic, get_loss


def test_softmax_of_course_example():
    # Ng's lecture (shared/seeds/000): z = [5, 2, -1, 3] -> t = e^z = [148.4, 7.4, 0.4, 20.1], sum 176.3,
    # a = t / 176.3 = [0.842, 0.042, 0.002, 0.114]
    z = np.array([5.0, 2.0, -1.0, 3.0])
    a = softmax(z)
    np.testing.assert_allclose(a, [0.842, 0.042, 0.002, 0.114], atol=1e-3)
    t = np.exp(z)
    np.testing.assert_allclose(a, t / t.sum(), rtol=1e-14)
    assert a.argmax() == 0
    assert a.sum() == pytest.approx(1.0, abs=1e-15)


def test_softmax_with_two_classes_is_the_logistic_function_of_the_difference():
    z = np.random.default_rng(0).normal(scale=5.0, size=(100, 2))
    a = softmax(z)
    np.testing.assert_allclose(a[:, 0], sigmoid(z[:, 0] - z[:, 1]), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_softmax_do_not_overflow(dtype):
    z = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(z)
        p = softmax(z)
    assert s[0, 0] == 0.0 and s[0, -1] == 1.0 and s[0, 2] == 0.5
    assert np.isfinite(p).all() and p[0, -1] == pytest.approx(1.0)


def test_cross_entropies_are_finite_on_saturated_outputs():
    z = np.array([[1e4, -1e4], [-800.0, 800.0]])
    y = np.array([[0.0, 1.0], [1.0, 0.0]])  # maximally wrong
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cce = get_loss("categorical_crossentropy").bind(Softmax())
        bce = get_loss("binary_crossentropy").bind(get_activation("sigmoid"))
        v1 = cce.value(z, softmax(z), y)
        v2 = bce.value(z, sigmoid(z), y)
    # exact: the loss of the wrong class is the logit gap
    assert v1 == pytest.approx((2e4 + 1600.0) / 2)
    assert v2 == pytest.approx((2e4 + 1600.0) / 2)


def _jacobian_path_delta(loss, activation, z, y):
    """dL/dz formed the long way: dL/da (numerically) through g'(z) (numerically), for comparison."""
    m, n = z.shape
    eps = 1e-6
    delta = np.zeros_like(z)
    for i in range(m):
        for j in range(n):
            zp, zm = z.copy(), z.copy()
            zp[i, j] += eps
            zm[i, j] -= eps
            ap = activation.forward(zp, np.empty_like(zp))
            am = activation.forward(zm, np.empty_like(zm))
            delta[i, j] = (loss.value(zp, ap, y) - loss.value(zm, am, y)) / (2 * eps)
    return delta


@pytest.mark.parametrize(
    ("loss_name", "activation_name"),
    [("categorical_crossentropy", "softmax"), ("binary_crossentropy", "sigmoid")],
)
def test_fused_delta_is_a_minus_y_and_matches_the_chain_rule(loss_name, activation_name):
    rng = np.random.default_rng(1)
    z = rng.normal(size=(4, 3))
    y = np.eye(3)[rng.integers(0, 3, 4)]
    activation = get_activation(activation_name)
    loss = get_loss(loss_name).bind(activation)
    a = activation.forward(z, np.empty_like(z))
    delta = loss.delta(z, a, y, out=np.empty_like(z))
    np.testing.assert_allclose(delta, (a - y) / 4, rtol=1e-15)  # divided by the batch size
    np.testing.assert_allclose(delta, _jacobian_path_delta(loss, activation, z, y), atol=1e-9)


@pytest.mark.parametrize("activation_name", ACTIVATION_NAMES)
def test_quadratic_delta_matches_the_chain_rule(activation_name):
    rng = np.random.default_rng(2)
    z = rng.normal(size=(3, 4)) + 0.05  # keep ReLU away from its kink
    y = rng.normal(size=(3, 4))
    activation = get_activation(activation_name)
    loss = Quadratic().bind(activation)
    a = activation.forward(z, np.empty_like(z))
    delta = loss.delta(z, a, y, out=np.empty_like(z))
    np.testing.assert_allclose(delta, _jacobian_path_delta(loss, activation, z, y), atol=1e-8)


def test_quadratic_cost_value_is_nielsen_eq_6():
    a = np.array([[0.2, 0.9], [0.5, 0.5]])
    y = np.array([[0.0, 1.0], [1.0, 0.0]])
    expected = np.mean([0.5 * (0.04 + 0.01), 0.5 * (0.25 + 0.25)])
    assert Quadratic().bind(get_activation("sigmoid")).value(None, a, y) == pytest.approx(expected)


def test_binary_cross_entropy_value_is_nielsen_eq_63():
    z = np.array([[0.3, -1.2]])
    a = sigmoid(z)
    y = np.array([[1.0, 0.0]])
    expected = -(np.log(a[0, 0]) + np.log(1 - a[0, 1]))
    assert BinaryCrossEntropy().bind(get_activation("sigmoid")).value(z, a, y) == pytest.approx(expected, rel=1e-12)


def test_cost_and_output_mismatch_is_refused():
    with pytest.raises(ValueError, match="softmax output"):
        CategoricalCrossEntropy().bind(get_activation("sigmoid"))
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        BinaryCrossEntropy().bind(get_activation("relu"))


def test_unknown_names_list_the_choices():
    with pytest.raises(ValueError, match="expected one of"):
        get_activation("swish")
    with pytest.raises(ValueError, match="expected one of"):
        get_loss("hinge")


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activations_work_in_place(name):
    activation = get_activation(name)
    z = np.random.default_rng(3).normal(size=(5, 4))
    expected = activation.forward(z, np.empty_like(z))
    buffer = z.copy()
    activation.forward(buffer, out=buffer)
    np.testing.assert_array_equal(buffer, expected)
