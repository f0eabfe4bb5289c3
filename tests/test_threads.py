"""The BLAS thread policy of fit (mlpkit.fast.threads)."""

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import mlpkit
from mlpkit.callbacks import Callback
from mlpkit.fast.threads import SMALL_STEP_MACS, largest_step_product, resolve_blas_threads


def blas_threads_now() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_largest_step_product_counts_batch_times_layer_shape():
    net = mlpkit.Network([784, 100, 10])
    assert largest_step_product(net, 32) == 32 * 784 * 100


def test_auto_uses_one_thread_for_small_steps_and_leaves_large_ones_alone():
    small = mlpkit.Network([784, 30, 10])
    assert largest_step_product(small, 32) < SMALL_STEP_MACS
    assert resolve_blas_threads("auto", small, 32) == 1
    assert resolve_blas_threads("auto", small, 128) is None
    big = mlpkit.Network([784, 800, 800, 10])
    assert resolve_blas_threads("auto", big, 10) is None


def test_explicit_counts_and_errors():
    net = mlpkit.Network([4, 3, 2])
    assert resolve_blas_threads(None, net, 10) is None
    assert resolve_blas_threads(3, net, 10) == 3
    for bad in (0, -1, 1.5, "two", True):
        with pytest.raises(ValueError, match="blas_threads must be 'auto', 'split', None or a positive int"):
            resolve_blas_threads(bad, net, 10)


class RecordThreads(Callback):
    """Records the BLAS thread count seen between epochs (outside the limited training steps)."""

    def __init__(self):
        self.seen = []

    def on_epoch_end(self, epoch, logs):
        self.seen.append(blas_threads_now())


def test_fit_limits_threads_only_during_the_steps_and_restores_them(monkeypatch):
    from mlpkit.fast.plan import DenseStackPlan

    before = blas_threads_now()
    inside = []
    original = DenseStackPlan.step

    def spy(self, *args, **kwargs):
        if not inside:
            inside.append(blas_threads_now())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DenseStackPlan, "step", spy)
    rng = np.random.default_rng(0)
    X, y = rng.random((40, 8)), rng.integers(0, 3, 40)
    recorder = RecordThreads()
    mlpkit.Network([8, 5, 3], seed=0).fit(X, y, epochs=2, batch_size=10, verbose=0, callbacks=[recorder],
                                          blas_threads=1)
    assert inside == [[1] * len(before)]
    assert recorder.seen == [before, before]
    assert blas_threads_now() == before


def test_thread_count_does_not_change_what_is_learned():
    rng = np.random.default_rng(1)
    X, y = rng.random((200, 20)), rng.integers(0, 4, 200)
    weights = []
    for threads in (1, 2, None):
        net = mlpkit.Network([20, 16, 4], dtype="float64", seed=0)
        net.fit(X, y, epochs=2, batch_size=50, verbose=0, seed=0, blas_threads=threads)
        weights.append(net.flat_parameters.copy())
    np.testing.assert_allclose(weights[0], weights[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weights[0], weights[2], rtol=1e-12, atol=1e-12)
