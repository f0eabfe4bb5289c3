"""The regression costs mae and huber: values, gradients (numerical check in float64, weighted too), torch's
l1_loss / huber_loss, and the Huber delta through save and load."""

import numpy as np
import pytest

from mlpkit import Dense, Network, gradcheck
from mlpkit.activations import Identity, get_activation
from mlpkit.autodiff.custom import Huber as AutodiffHuber
from mlpkit.losses import LOSS_NAMES, Huber, MeanAbsoluteError, Quadratic, accepts_weights, get_loss
from mlpkit.serialization import load_network


def _residuals(seed=0, m=6, k=3):
    rng = np.random.default_rng(seed)
    a, y = rng.normal(size=(m, k)) * 2, rng.normal(size=(m, k))
    return a, y


def test_names_and_aliases():
    assert {"mae", "l1", "huber", "mse"} <= set(LOSS_NAMES)
    assert isinstance(get_loss("l1"), MeanAbsoluteError) and isinstance(get_loss("MSE"), Quadratic)
    assert get_loss({"name": "huber", "delta": 0.25}).threshold == 0.25
    # files saved when "huber" named the autodiff example still load
    assert get_loss({"name": "huber", "threshold": 3.0}).get_config() == {"name": "huber", "delta": 3.0}
    assert AutodiffHuber(2.0).get_config() == {"name": "autodiff_huber", "threshold": 2.0}
    with pytest.raises(ValueError, match=r"the Huber delta must be a finite number > 0, got -1\.0"):
        Huber(-1.0)


def test_mae_and_huber_values_follow_their_formulas():
    a, y = _residuals()
    r = a - y
    mae = MeanAbsoluteError().bind(Identity())
    assert mae.value(a, a, y) == pytest.approx(np.abs(r).sum(axis=1).mean(), rel=1e-15)
    huber = Huber(0.7).bind(Identity())
    pieces = np.where(np.abs(r) <= 0.7, 0.5 * r**2, 0.7 * (np.abs(r) - 0.35))
    assert huber.value(a, a, y) == pytest.approx(pieces.sum(axis=1).mean(), rel=1e-15)
    delta = huber.delta(a, a, y, np.empty_like(a))
    np.testing.assert_allclose(delta, np.clip(r, -0.7, 0.7) / a.shape[0], rtol=1e-15)
    np.testing.assert_allclose(mae.delta(a, a, y, np.empty_like(a)), np.sign(r) / a.shape[0], rtol=1e-15)


def test_huber_matches_the_autodiff_example_and_is_quadratic_inside_delta():
    a, y = _residuals(1)
    native, example = Huber(0.8).bind(Identity()), AutodiffHuber(0.8).bind(Identity())
    assert native.value(a, a, y) == pytest.approx(example.value(a, a, y), rel=1e-14)
    np.testing.assert_allclose(native.delta(a, a, y, np.empty_like(a)), example.delta(a, a, y, np.empty_like(a)),
                               rtol=1e-13)
    wide, quadratic = Huber(100.0).bind(Identity()), Quadratic().bind(Identity())
    assert wide.value(a, a, y) == pytest.approx(quadratic.value(a, a, y), rel=1e-14)


@pytest.mark.parametrize("cost", ["mae", "huber"])
def test_against_torch(cost):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    a, y = _residuals(2, m=8, k=2)
    loss = get_loss({"name": "huber", "delta": 0.6} if cost == "huber" else cost).bind(Identity())
    a_t = torch.tensor(a, requires_grad=True)
    if cost == "huber":
        total = functional.huber_loss(a_t, torch.tensor(y), delta=0.6, reduction="sum")
    else:
        total = functional.l1_loss(a_t, torch.tensor(y), reduction="sum")
    mean = total / a.shape[0]  # C = (1/m) sum_x C_x
    mean.backward()
    assert loss.value(a, a, y) == pytest.approx(mean.item(), rel=1e-14)
    np.testing.assert_allclose(loss.delta(a, a, y, np.empty_like(a)), a_t.grad.numpy(), rtol=1e-14)


@pytest.mark.parametrize("cost", ["quadratic", "mae", {"name": "huber", "delta": 0.5}])
@pytest.mark.parametrize("output", ["identity", "tanh"])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradients_pass_the_numerical_check(cost, output, weighted):
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(7, 4)), rng.normal(size=(7, 2)) * 1.5
    net = Network([Dense(5, "tanh"), Dense(2, output)], input_dim=4, loss=cost, seed=4)
    weights = rng.uniform(0.1, 3.0, size=7) if weighted else None
    result = gradcheck(net, X, y, sample_weight=weights, n_train=20)
    assert result.passed, str(result)


def test_weighted_value_and_delta_are_those_of_repeated_rows():
    a, y = _residuals(4, m=5, k=2)
    counts = np.array([1, 3, 2, 1, 4])
    repeated_a, repeated_y = np.repeat(a, counts, axis=0), np.repeat(y, counts, axis=0)
    for name in ("mae", "huber", "quadratic"):
        loss = get_loss(name).bind(Identity())
        assert accepts_weights(loss)
        assert loss.value(a, a, y, weights=counts.astype(float)) == pytest.approx(
            loss.value(repeated_a, repeated_a, repeated_y), rel=1e-14)
        weighted = loss.delta(a, a, y, np.empty_like(a), weights=counts.astype(float))
        plain = loss.delta(repeated_a, repeated_a, repeated_y, np.empty_like(repeated_a))
        summed = np.add.reduceat(plain, np.concatenate([[0], np.cumsum(counts)[:-1]]), axis=0)
        np.testing.assert_allclose(weighted, summed, rtol=1e-14)


def test_a_cost_without_weights_is_refused_for_weighted_training():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 1))
    net = Network([Dense(1)], input_dim=3, loss=AutodiffHuber(1.0))
    assert not accepts_weights(net.loss)
    with pytest.raises(ValueError, match="the autodiff_huber cost does not take sample weights"):
        net.fit(X, y, epochs=1, verbose=0, sample_weight=np.ones(10))


def test_huber_delta_is_saved_and_loaded(tmp_path):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 3.0
    net = Network([3, 8, 1], task="regression", loss={"name": "huber", "delta": 0.3}, activation="tanh", seed=0)
    net.fit(X, y, epochs=3, batch_size=8, verbose=0, seed=0)
    loaded = load_network(net.save(tmp_path / "huber.mlpk"))
    assert loaded.loss.get_config() == {"name": "huber", "delta": 0.3}
    assert isinstance(loaded.loss, Huber) and loaded.loss.threshold == 0.3
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))


def test_huber_resists_outliers_better_than_the_quadratic_cost():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 2))
    y = X @ np.array([1.5, -3.0]) + 0.1 * rng.normal(size=300)
    y[:30] += 40.0
    errors = {}
    for cost in ("huber", "quadratic", "mae"):
        net = Network([Dense(1)], input_dim=2, loss=cost, dtype="float64", seed=0)
        net.fit(X, y, epochs=30, batch_size=20, learning_rate=0.1, verbose=0, seed=0)
        errors[cost] = np.abs(net.layers[0].params["W"].ravel() - [1.5, -3.0]).max()
    assert errors["huber"] < 0.2 and errors["mae"] < 0.2
    assert errors["quadratic"] > 2 * max(errors["huber"], errors["mae"])


def test_mae_through_a_sigmoid_output_is_checked_the_long_way():
    rng = np.random.default_rng(6)
    loss = get_loss("mae").bind(get_activation("sigmoid"))
    z = rng.normal(size=(4, 3))
    a = 1 / (1 + np.exp(-z))
    y = rng.uniform(size=(4, 3))
    np.testing.assert_allclose(loss.delta(z, a, y, np.empty_like(a)), np.sign(a - y) * a * (1 - a) / 4, rtol=1e-14)
