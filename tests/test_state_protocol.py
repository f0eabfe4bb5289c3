"""One save/restore protocol: optimizers, schedules and early stopping give their state with ``state_dict()``
and continue from it with ``load_state_dict()``, so that a run split in two learns exactly what the straight
run learns, and a checkpoint only stores those states (the schedules' own states: tests/test_schedules.py)."""

import copy
import inspect

import numpy as np
import pytest

from mlpkit import Adam, Callback, EarlyStopping, ExponentialDecay, History, Network
from mlpkit import checkpoint as checkpoint_module
from mlpkit.checkpoint import continue_history, continue_schedule
from mlpkit.datasets import load_digits


class _Interrupt(Callback):
    def __init__(self, after):
        self.after = after

    def on_epoch_end(self, epoch, logs):
        if epoch + 1 == self.after:
            raise KeyboardInterrupt


def test_early_stopping_continued_from_its_state_stops_where_the_straight_run_stops():
    data = load_digits(seed=0)
    X, y, X_val, y_val = data.train.X[:400], data.train.y[:400], data.validation.X, data.validation.y

    straight = EarlyStopping("val_loss", patience=3)
    net = Network([64, 30, 10], seed=0)
    history = net.fit(X, y, epochs=60, learning_rate=4.0, validation_data=(X_val, y_val), verbose=0,
                      seed=np.random.default_rng(5), batch_size=20, callbacks=[straight])
    assert straight.stopped_epoch is not None and straight.stopped_epoch < 59  # it did stop early

    split = straight.stopped_epoch - 2  # interrupt two epochs before the stop, after the best epoch or not
    first = EarlyStopping("val_loss", patience=3)
    net2, rng = Network([64, 30, 10], seed=0), np.random.default_rng(5)
    keeper = checkpoint_module.Checkpointer(Adam(), early_stopping=first)  # only for its snapshots of the state
    with pytest.raises(KeyboardInterrupt):
        net2.fit(X, y, epochs=60, learning_rate=4.0, validation_data=(X_val, y_val), verbose=0, seed=rng,
                 batch_size=20, callbacks=[first, keeper, _Interrupt(split)])
    state = keeper.latest.early_stopping_state
    assert state["best_params"] is not None and set(state) >= {"best", "wait", "best_epoch", "stopped_epoch"}

    second = EarlyStopping("val_loss", patience=3)
    second.load_state_dict(copy.deepcopy(state))
    rest = net2.fit(X, y, epochs=60 - split, learning_rate=4.0, validation_data=(X_val, y_val), verbose=0,
                    seed=rng, batch_size=20, callbacks=[second])
    assert (second.best_epoch, second.stopped_epoch, second.best) == \
        (straight.best_epoch, straight.stopped_epoch, straight.best)  # numbered over the whole run
    np.testing.assert_array_equal(net2.flat_parameters, net.flat_parameters)  # the best epoch's weights
    assert len(history) == split + len(rest)


def test_early_stopping_states_are_checked():
    with pytest.raises(ValueError, match="best_epoch"):
        EarlyStopping().load_state_dict({"best": 1.0, "wait": 0, "best_epoch": -2, "stopped_epoch": None})
    with pytest.raises(ValueError, match="wait"):
        EarlyStopping().load_state_dict({"best": 1.0, "wait": "x", "best_epoch": 0, "stopped_epoch": None})
    stopper = EarlyStopping()
    stopper.load_state_dict({"best": 1.0, "wait": 0, "best_epoch": 0, "stopped_epoch": None,
                             "best_params": np.zeros(3), "best_states": {}})
    with pytest.raises(ValueError, match="holds 3 best parameters, the network has"):
        Network([4, 3, 2]).fit(np.zeros((4, 4)), [0, 1, 0, 1], epochs=1, verbose=0, callbacks=[stopper])


def test_an_optimizer_refuses_a_state_for_another_network():
    small, big = Network([3, 2, 2]), Network([3, 4, 2])
    trained = Adam()
    trained.step(small.flat_parameters, np.ones_like(small.flat_parameters))
    moved = Adam()
    moved.load_state_dict(trained.state_dict())
    moved.bind(small.layout)  # the same layout: fine
    expected = f"holds state for {small.n_params} parameters, the network has {big.n_params}"
    with pytest.raises(ValueError, match=expected):
        moved.bind(big.layout)


def test_the_checkpoint_module_uses_the_protocol_not_private_fields():
    source = inspect.getsource(checkpoint_module)
    for private in ("._seen", ".tracker", "._best_params", "._best_states", "._slots", "._loaded"):
        assert private not in source, private


def test_continue_history_and_schedule_compose_a_split_run():
    schedule = ExponentialDecay(0.5)
    schedule.start(1.0)
    previous, current = History(), History()
    previous.append(0, {"loss": 0.1})
    previous.append(1, {"loss": 0.2})
    current.append(0, {"loss": 0.3})
    continued = continue_schedule(schedule, 2, previous)
    assert continued(0) == pytest.approx(0.25) and continued(1) == pytest.approx(0.125)
    merged = continue_history(previous, current, 2)
    assert merged.epochs == [0, 1, 2] and merged["loss"] == [0.1, 0.2, 0.3]
