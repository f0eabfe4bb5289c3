"""The fast path (mlpkit.fast): the step plan runs the reference step's operations (bit-identical), fused
plain SGD is the same step up to rounding, and fit decides once per run how to take its steps."""


import numpy as np
import pytest

import mlpkit
from mlpkit import _blas
from mlpkit.fast import choose_steps
from mlpkit.fast.plan import DenseStackPlan
from mlpkit.fast.threads import (
    FUSED_SGD_MAX_BATCH,
    SMALL_STEP_MACS,
    SPLIT_MAX_BATCH,
    SPLIT_MIN_MACS,
    largest_later_product,
    largest_step_product,
    resolve_blas_threads,
    update_blas_libraries,
)
from mlpkit.layers import Activation, BatchNorm, Dense, Dropout, Standardize
from mlpkit.optimizers import SGD, Adam, Momentum
from mlpkit.regularizers import L1, L2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blas_updates_are_in_place_and_match_numpy(dtype):
    rng = np.random.default_rng(0)
    flat = rng.standard_normal(7 * 5 + 5).astype(dtype)
    W, b = flat[:35].reshape(7, 5), flat[35:]
    x, dz = rng.standard_normal((4, 7)).astype(dtype), rng.standard_normal((4, 5)).astype(dtype)
    expected_W = 0.9 * W - 0.3 * x.T @ dz
    expected_b = b - 0.3 * dz.sum(axis=0)
    _blas.add_outer_product(W, x, dz, -0.3, 0.9)
    _blas.add_column_sums(b, dz, -0.3)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(flat[:35].reshape(7, 5), expected_W, rtol=tol, atol=tol)
    np.testing.assert_allclose(flat[35:], expected_b, rtol=tol, atol=tol)


def test_blas_update_of_a_non_contiguous_matrix_is_still_written_back():
    rng = np.random.default_rng(1)
    W = np.asfortranarray(rng.standard_normal((6, 3)))
    x, dz = rng.standard_normal((2, 6)), rng.standard_normal((2, 3))
    expected = W + 0.5 * x.T @ dz
    _blas.add_outer_product(W, x, dz, 0.5)
    np.testing.assert_allclose(W, expected, rtol=1e-13)


def _data(n_in, n_out, m=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, n_in)), np.eye(n_out)[rng.integers(0, n_out, m)]


NETWORKS = {
    "sigmoid": lambda dtype: mlpkit.Network([6, 5, 4, 3], dtype=dtype, seed=0),
    "relu, L2": lambda dtype: mlpkit.Network([6, 5, 3], activation="relu", regularizer=L2(3.0), dtype=dtype, seed=0),
    "L1": lambda dtype: mlpkit.Network([6, 5, 3], regularizer=L1(1.0), dtype=dtype, seed=0),
    "per-layer L2 and L1, no bias": lambda dtype: mlpkit.Network(
        [Dense(5, "relu", use_bias=False, regularizer=L2(2.0)), Dense(4, "tanh", regularizer=L1(0.5)),
         Dense(3, "softmax")], input_dim=6, regularizer=L2(0.5), dtype=dtype, seed=0),
    "standardized, dropout on the inputs and between Dense layers": lambda dtype: mlpkit.Network(
        [Standardize(), Dropout(0.8), Dense(5, "tanh", use_bias=False, regularizer=L2(2.0)), Dropout(0.7),
         Dense(4, "relu"), Dropout(0.6), Dense(3, "softmax")], input_dim=6, regularizer=L2(0.5), dtype=dtype, seed=0),
    "activation layers between Dense layers": lambda dtype: mlpkit.Network(
        [Dense(5), Activation("tanh"), Dense(3, "softmax")], input_dim=6, dtype=dtype, seed=0),
    "sigmoid output, quadratic cost": lambda dtype: mlpkit.Network([6, 4, 3], output_activation="sigmoid",
                                                                   loss="quadratic", dtype=dtype, seed=0),
}


def _pair(name, dtype, X):
    """Two identical networks, their input statistics adapted."""
    nets = NETWORKS[name](dtype), NETWORKS[name](dtype)
    for net in nets:
        net.adapt(X, only_new=True)
    return nets


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize("make_optimizer, fused", [(lambda: SGD(0.5), False), (lambda: Adam(0.01), True),
                                                    (lambda: Momentum(0.1), True)])
def test_plan_step_is_bit_identical_to_the_reference_step(dtype, name, make_optimizer, fused):
    X, Y = _data(6, 3, m=20)
    X, Y = X.astype(dtype), Y.astype(dtype)
    planned, reference = _pair(name, dtype, X)
    assert DenseStackPlan.applies_to(planned)
    planned_opt, reference_opt = make_optimizer(), make_optimizer()
    plan = DenseStackPlan(planned, planned_opt, fused)
    assert not plan.fused  # only plain SGD is fused
    with np.errstate(over="ignore"):
        for step, rows in enumerate((8, 8, 4, 8)):  # a partial batch in between: its own buffers, then back
            planned.training_rng = np.random.default_rng(step)  # the same dropout masks in both
            reference.training_rng = np.random.default_rng(step)
            plan.step(X[:rows], Y[:rows], 100)
            reference.train_batch(X[:rows], Y[:rows], reference_opt, 100)
    assert planned_opt.iterations == reference_opt.iterations == 4
    np.testing.assert_array_equal(planned.flat_parameters, reference.flat_parameters)
    assert not np.array_equal(planned.flat_parameters, NETWORKS[name](dtype).flat_parameters)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_fused_step_equals_gradients_then_sgd_step(name):
    X, Y = _data(6, 3)
    fused_net, reference = _pair(name, "float64", X)
    fused_opt, reference_opt = SGD(0.5), SGD(0.5)
    plan = DenseStackPlan(fused_net, fused_opt, fused=True)
    assert plan.fused
    for step in range(3):
        fused_net.training_rng = np.random.default_rng(step)  # the same dropout masks in both
        reference.training_rng = np.random.default_rng(step)
        plan.step(X, Y, 100)
        reference.train_batch(X, Y, reference_opt, 100)
    assert fused_opt.iterations == reference_opt.iterations == 3  # the optimizer counted the fused steps
    assert not np.array_equal(fused_net.flat_parameters, NETWORKS[name]("float64").flat_parameters)  # it learned
    np.testing.assert_allclose(fused_net.flat_parameters, reference.flat_parameters, rtol=1e-12, atol=1e-14)


def test_only_plain_sgd_takes_fused_steps():
    class Clipped(SGD):
        def _update(self, params, grads, slots, scratch, coefficients):
            np.clip(grads, -1, 1, out=grads)
            super()._update(params, grads, slots, scratch, coefficients)

    assert SGD(0.1).plain_sgd and not Clipped(0.1).plain_sgd and not Adam().plain_sgd
    assert not DenseStackPlan(mlpkit.Network([6, 5, 3]), Clipped(0.1), fused=True).fused
    with pytest.raises(RuntimeError, match="not plain gradient descent"):
        Adam().take_fused_step()
    sgd = SGD(0.3)
    assert sgd.take_fused_step() == 0.3 and sgd.iterations == 1


def test_networks_the_plan_does_not_serve_take_the_reference_step():
    X, Y = _data(6, 3)

    def make():
        return mlpkit.Network([Dense(5, use_bias=False), BatchNorm(activation="relu"), Dense(3, "softmax")],
                              input_dim=6, dtype="float64", seed=0)

    net, reference = make(), make()
    optimizer, twin = SGD(0.1), SGD(0.1)
    steps = choose_steps(net, optimizer, batch_size=12, blas_threads=1)
    assert not steps.planned and not steps.fused
    for _ in range(2):
        steps.step(X, Y, 50)
        reference.train_batch(X, Y, twin, 50)
    assert optimizer.iterations == twin.iterations == 2
    np.testing.assert_array_equal(net.flat_parameters, reference.flat_parameters)
    assert not np.array_equal(net.flat_parameters, make().flat_parameters)


def test_plans_serve_stacks_of_dense_layers_with_parameter_free_layers_between():
    assert DenseStackPlan.applies_to(mlpkit.Network([Dense(5), Dropout(0.5), Dense(3, "softmax")], input_dim=6))
    assert DenseStackPlan.applies_to(mlpkit.Network([Standardize(), Dense(3, "softmax")], input_dim=6))
    assert not DenseStackPlan.applies_to(mlpkit.Network([Dense(5), BatchNorm(), Dense(3, "softmax")], input_dim=6))
    assert not DenseStackPlan.applies_to(mlpkit.Network([Dense(5), Activation("softmax")], input_dim=6))

    class Scaled(Dense):
        pass

    assert not DenseStackPlan.applies_to(mlpkit.Network([Scaled(5), Dense(3, "softmax")], input_dim=6))
    with pytest.raises(ValueError, match="layers with parameters are all Dense"):
        DenseStackPlan(mlpkit.Network([Dense(5), BatchNorm(), Dense(3, "softmax")], input_dim=6), SGD(), True)


def test_fit_decides_once_and_fuses_on_one_thread_or_split_only_and_learns_the_same(monkeypatch):
    from threadpoolctl import threadpool_info

    import mlpkit.fast.plan as plan_module

    seen = []
    original_init, original_step = plan_module.DenseStackPlan.__init__, plan_module.DenseStackPlan.step

    def spy_init(self, network, optimizer, fused):
        original_init(self, network, optimizer, fused)
        seen.append(self.fused)

    def blas_threads_now():
        return {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    threads_in_step = []

    def spy_step(self, *args):
        threads_in_step.append(blas_threads_now())
        return original_step(self, *args)

    monkeypatch.setattr(plan_module.DenseStackPlan, "__init__", spy_init)
    monkeypatch.setattr(plan_module.DenseStackPlan, "step", spy_step)
    rng = np.random.default_rng(2)
    X, y = rng.random((120, 10)), rng.integers(0, 3, 120)
    weights = {}
    before = blas_threads_now()
    for threads in (1, 2, "split"):
        seen.clear()
        threads_in_step.clear()
        net = mlpkit.Network([10, 8, 3], regularizer=L2(1.0), dtype="float64", seed=0)
        net.fit(X, y, epochs=2, batch_size=16, learning_rate=0.5, verbose=0, seed=0, blas_threads=threads)
        weights[threads] = net.flat_parameters.copy()
        assert seen == [threads != 2], "one plan per fit, fused on one thread or split, not on two"
        assert len(threads_in_step) == 2 * 8
        if threads == "split":  # the update's library on one thread, NumPy's left as it was
            update = {lib.filepath for lib in update_blas_libraries()}
            expected = {path: 1 if path in update or not update else n for path, n in before.items()}
            assert all(counts == expected for counts in threads_in_step)
    np.testing.assert_allclose(weights[1], weights[2], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weights["split"], weights[2], rtol=1e-12, atol=1e-12)


def test_auto_threads_give_small_fusable_batches_one_thread():
    net = mlpkit.Network([784, 400, 10])  # one hidden layer: the products after the first are small
    assert largest_step_product(net, 10) > SMALL_STEP_MACS
    assert largest_later_product(net, SPLIT_MAX_BATCH) < SPLIT_MIN_MACS
    assert resolve_blas_threads("auto", net, 10) is None
    assert resolve_blas_threads("auto", net, FUSED_SGD_MAX_BATCH, fusable=True) == 1
    assert resolve_blas_threads("auto", net, FUSED_SGD_MAX_BATCH + 1, fusable=True) is None
    small = mlpkit.Network([784, 30, 10])
    assert resolve_blas_threads("auto", small, 32, fusable=True) == 1  # small products: one thread anyway


@pytest.mark.skipif(not update_blas_libraries(), reason="needs SciPy's own BLAS next to NumPy's (pip wheels)")
def test_auto_threads_split_deep_fusable_steps_up_to_the_split_batch():
    deep = mlpkit.Network([784, 800, 800, 10])
    assert largest_later_product(deep, 10) == 10 * 800 * 800 >= SPLIT_MIN_MACS
    for batch in (10, FUSED_SGD_MAX_BATCH, SPLIT_MAX_BATCH):
        assert resolve_blas_threads("auto", deep, batch, fusable=True) == "split"
    assert resolve_blas_threads("auto", deep, SPLIT_MAX_BATCH + 1, fusable=True) is None
    assert resolve_blas_threads("auto", deep, 10, fusable=False) is None  # nothing to fuse: BLAS left alone
    assert resolve_blas_threads("split", mlpkit.Network([4, 3, 2]), 10) == "split"  # asked for explicitly


def test_split_falls_back_to_one_thread_without_a_separate_update_library(monkeypatch):
    import mlpkit.fast.threads as threads

    monkeypatch.setattr(threads, "update_blas_libraries", lambda: [])
    deep = mlpkit.Network([784, 800, 800, 10])
    assert resolve_blas_threads("auto", deep, 10, fusable=True) == 1
    assert resolve_blas_threads("auto", deep, SPLIT_MAX_BATCH, fusable=True) is None
    assert resolve_blas_threads("split", deep, 10) == 1


def test_l2_decay_factor_is_nielsens_weight_decay():
    # Nielsen eq. (93): w -> (1 - eta lmbda / n) w - eta dC0/dw; eta 0.5, lmbda 5, n 50000
    assert L2(5.0).decay_factor(0.5, 50_000) == pytest.approx(1 - 0.5 * 5.0 / 50_000, rel=1e-15)
    assert L2(0.0).decay_factor(0.5, 10) == 1.0
