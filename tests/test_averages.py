"""Exponentially weighted averages and their bias correction (Ng week 2)."""

import numpy as np
import pytest

from mlpkit import ExponentialMovingAverage, ewa
from mlpkit.averages import correction_weight


def test_ngs_bias_correction_example():
    # Ng, beta = 0.98: v1 = 0.02 theta1, v2 = 0.0196 theta1 + 0.02 theta2; corrected v2 / (1 - 0.98^2)
    average = ExponentialMovingAverage(0.98)
    assert average.update(40.0) == pytest.approx(40.0)   # corrected v1 = 0.8 / 0.02 = theta1
    assert average.value == pytest.approx(0.8)
    average.update(49.0)
    assert average.value == pytest.approx(0.0196 * 40 + 0.02 * 49)
    assert average.corrected == pytest.approx((0.0196 * 40 + 0.02 * 49) / 0.0396)
    assert average.count == 2


def test_three_steps_by_hand():
    # beta = 0.9: v1 = 1, v2 = 0.9 + 2 = 2.9, v3 = 2.61 + 3 = 5.61 for x = 10, 20, 30
    np.testing.assert_allclose(ewa([10.0, 20.0, 30.0], 0.9, bias_correction=False), [1.0, 2.9, 5.61], rtol=1e-15)
    np.testing.assert_allclose(ewa([10.0, 20.0, 30.0], 0.9), [10.0, 2.9 / 0.19, 5.61 / 0.271], rtol=1e-14)


def test_constant_series_is_exact_after_correction():
    np.testing.assert_allclose(ewa(np.full(50, 3.5), 0.99), 3.5, rtol=1e-12)
    assert ewa(np.full(50, 3.5), 0.99, bias_correction=False)[0] == pytest.approx(0.035)


def test_class_and_function_agree_and_arrays_work():
    rng = np.random.default_rng(0)
    series = rng.normal(size=(30, 3))
    average = ExponentialMovingAverage(0.8)
    for row in series:
        last = average.update(row)
    for k in range(3):
        np.testing.assert_allclose(last[k], ewa(series[:, k], 0.8)[-1], rtol=1e-12)
        np.testing.assert_allclose(average.value[k], ewa(series[:, k], 0.8, bias_correction=False)[-1], rtol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        average.update(np.zeros(4))


def test_correction_weight_recurrence_equals_the_definition():
    beta, x = 0.95, np.random.default_rng(1).normal(size=20)
    c = 0.0
    for t, value in enumerate(x, start=1):
        c += correction_weight(beta, t) * (value - c)
    assert c == pytest.approx(ewa(x, beta)[-1], rel=1e-12)
    assert correction_weight(beta, 1) == 1.0


def test_zero_beta_is_the_last_value_and_empty_state():
    average = ExponentialMovingAverage(0.0)
    assert average.corrected == 0.0 and average.value == 0.0
    average.update(2.0)
    average.update(5.0)
    assert average.corrected == 5.0 == average.value
    np.testing.assert_array_equal(ewa([1.0, 4.0], 0.0), [1.0, 4.0])


def test_smooths_a_noisy_curve():
    rng = np.random.default_rng(2)
    curve = np.linspace(2.0, 0.1, 400) + rng.normal(scale=0.2, size=400)
    smooth = ewa(curve, 0.9)
    assert np.std(np.diff(smooth)) < 0.2 * np.std(np.diff(curve))


@pytest.mark.parametrize("beta", [1.0, -0.1, 1.5])
def test_beta_must_be_in_unit_interval(beta):
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\)"):
        ExponentialMovingAverage(beta)
    with pytest.raises(ValueError, match="beta must be in"):
        ewa([1.0], beta)


def test_bad_series():
    with pytest.raises(ValueError, match="1-D"):
        ewa(np.ones((2, 2)))
    with pytest.raises(TypeError, match="beta must be a number"):
        ExponentialMovingAverage("0.9")
