"""Early stopping: any monitored metric, patience, min_delta, and the best epoch's weights restored exactly."""

import numpy as np
import pytest

from mlpkit import BatchNorm, Callback, Dense, EarlyStopping, Network


class Script(Callback):
    """Writes a scripted value of ``score`` into the logs and snapshots the weights after every epoch."""

    def __init__(self, scores, key="score"):
        self.scores, self.key = scores, key
        self.params, self.states = [], []

    def on_epoch_end(self, epoch, logs):
        logs[self.key] = self.scores[epoch]
        self.params.append(self.network.flat_parameters.copy())
        self.states.append({k: v.copy() for k, v in self.network.named_states()})


def data(n=80, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), rng.integers(0, 3, n)


def net_with_bn():
    return Network([Dense(8, use_bias=False), BatchNorm(activation="relu"), Dense(3, "softmax")], input_dim=4, seed=0)


def test_stops_after_patience_and_restores_the_best_epoch_exactly():
    X, y = data()
    net = net_with_bn()
    script = Script([5.0, 3.0, 1.0, 2.0, 1.5, 1.2, 0.9, 4.0])
    stopper = EarlyStopping(monitor="score", patience=3, mode="min")
    history = net.fit(X, y, epochs=8, callbacks=[script, stopper], verbose=0)
    assert len(history) == 6 and stopper.stopped_epoch == 5
    assert stopper.best_epoch == 2 and stopper.best == 1.0
    assert history.stop_reason.startswith("early stopping: score did not improve for 3 epochs")
    np.testing.assert_array_equal(net.flat_parameters, script.params[2])
    for name, value in net.named_states():  # BatchNorm running statistics too
        np.testing.assert_array_equal(value, script.states[2][name])


def test_restores_even_when_training_runs_to_the_end():
    X, y = data()
    net = net_with_bn()
    script = Script([3.0, 1.0, 2.0, 2.5])
    history = net.fit(X, y, epochs=4, callbacks=[script, EarlyStopping(monitor="score", patience=10)], verbose=0)
    assert history.stop_reason == "completed"
    np.testing.assert_array_equal(net.flat_parameters, script.params[1])


def test_without_restore_the_last_weights_stay():
    X, y = data()
    net = net_with_bn()
    script = Script([1.0, 2.0, 3.0])
    net.fit(X, y, epochs=3, callbacks=[script, EarlyStopping("score", patience=2, restore_best_weights=False)],
            verbose=0)
    np.testing.assert_array_equal(net.flat_parameters, script.params[-1])


def test_min_delta_and_mode():
    X, y = data()
    # accuracy-like names are maximized in "auto" mode; gains over the best below min_delta do not count
    script = Script([0.50, 0.55, 0.56, 0.565, 0.568, 0.9], key="score_acc")
    stopper = EarlyStopping(monitor="score_acc", patience=3, min_delta=0.02)
    history = Network([4, 3], seed=0).fit(X, y, epochs=6, callbacks=[script, stopper], verbose=0)
    assert stopper.tracker.mode == "max"
    assert stopper.best_epoch == 1 and len(history) == 5


def test_real_validation_loss_best_epoch_is_restored():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 10)), rng.integers(0, 2, 40)  # random labels: validation loss soon rises
    Xv, yv = rng.normal(size=(40, 10)), rng.integers(0, 2, 40)
    net = Network([10, 50, 2], activation="relu", seed=0)
    stopper = EarlyStopping(patience=3)
    history = net.fit(X, y, epochs=100, learning_rate=0.5, validation_data=(Xv, yv), callbacks=[stopper], verbose=0)
    best = int(np.argmin(history["val_loss"]))
    assert stopper.best_epoch == best and len(history) == best + 4
    assert net.evaluate(Xv, yv)["loss"] == pytest.approx(history["val_loss"][best], rel=1e-6)


def test_a_metric_the_run_does_not_log_is_named():
    X, y = data()
    with pytest.raises(ValueError, match=r"monitors 'val_loss'.*pass validation_data"):
        Network([4, 3], seed=0).fit(X, y, epochs=2, callbacks=[EarlyStopping()], verbose=0)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"patience": 0}, ValueError, "patience must be"),
    ({"min_delta": -0.1}, ValueError, "min_delta must be"),
    ({"mode": "best"}, ValueError, "mode must be"),
    ({"monitor": ""}, TypeError, "monitor must be"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        EarlyStopping(**kwargs)
