"""The divergence guard of fit: a NaN/inf value or an exploding cost stops training, every state of the last
good epoch comes back (parameters, BatchNorm statistics, optimizer slots), and the run says so in one line:
in its History, on the command line (exit status 3, run directory marked) and on the dashboard."""

import json
import time
import warnings

import numpy as np
import pytest

import mlpkit
from mlpkit import SGD, Adam, BatchNorm, Callback, Dense, Dropout, Network
from mlpkit.datasets import load_digits


@pytest.fixture(scope="module")
def digits():
    data = load_digits(seed=0)
    return data.train.X, data.train.y, data.validation.X, data.validation.y


def _batchnorm_network():
    return Network([Dense(20, use_bias=False), BatchNorm(activation="relu"), Dropout(0.9), Dense(10, "softmax")],
                   input_dim=64, seed=1)


def _blow_up_in_the_second_epoch(epoch, history):
    """A schedule that trains normally for one epoch, then takes a step that overflows the weights."""
    return 0.01 if epoch == 0 else 1e38


class EpochsSeen(Callback):
    def __init__(self):
        self.epochs = []

    def on_epoch_end(self, epoch, logs):
        self.epochs.append(epoch)


@pytest.mark.parametrize("optimizer", [SGD, Adam])
def test_a_diverged_run_keeps_every_state_of_its_last_good_epoch(digits, optimizer):
    X, y, X_val, y_val = digits
    reference, reference_optimizer = _batchnorm_network(), optimizer(0.01)
    reference.fit(X, y, epochs=1, batch_size=32, optimizer=reference_optimizer, verbose=0, seed=0,
                  validation_data=(X_val, y_val))

    net, opt, seen = _batchnorm_network(), optimizer(0.01), EpochsSeen()
    with pytest.warns(RuntimeWarning, match="training diverged in epoch 2"):
        history = net.fit(X, y, epochs=4, batch_size=32, optimizer=opt, verbose=0, seed=0, callbacks=[seen],
                          schedule=_blow_up_in_the_second_epoch, validation_data=(X_val, y_val))
    assert history.diverged and history.stop_reason == "diverged" and len(history) == 1 and seen.epochs == [0]
    assert history.message.startswith("training diverged in epoch 2: a parameter became NaN or infinite")
    assert "epoch 1's weights and layer states kept" in history.message and "smaller learning rate" in history.message
    np.testing.assert_array_equal(net.flat_parameters, reference.flat_parameters)
    for (name, value), (_, expected) in zip(net.named_states(), reference.named_states(), strict=True):
        assert np.isfinite(value).all(), name
        np.testing.assert_array_equal(value, expected, err_msg=name)  # the BatchNorm running statistics
    state, expected = opt.state_dict(), reference_optimizer.state_dict()
    assert state["iterations"] == expected["iterations"] > 0
    for name, slot in expected["slots"].items():
        np.testing.assert_array_equal(state["slots"][name], slot)
    np.testing.assert_array_equal(net.predict_proba(X_val), reference.predict_proba(X_val))
    assert np.isfinite(net.predict_proba(X_val)).all()


def test_a_cost_that_explodes_without_going_non_finite_is_divergence(digits):
    X, y, _, _ = digits
    net = Network([64, 30, 10], seed=0)
    initial = net.flat_parameters.copy()
    with pytest.warns(RuntimeWarning) as caught:
        history = net.fit(X, y, epochs=5, learning_rate=50, verbose=0, seed=0)
    assert history.diverged and len(history) == 0
    assert len(caught) == 1 and str(caught[0].message) == history.message
    assert history.message.startswith("training diverged in epoch 1: the training cost ")
    assert "more than 10 times its" in history.message and "before training" in history.message
    assert "the initial weights and layer states kept" in history.message and "(it was 50)" in history.message
    np.testing.assert_array_equal(net.flat_parameters, initial)


def test_the_exploding_cost_limit_is_settable_and_can_be_switched_off(digits):
    X, y, _, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divergence warning
        history = Network([64, 30, 10], seed=0).fit(X, y, epochs=3, learning_rate=50, verbose=0, seed=0,
                                                    divergence_factor=None)
    assert history.stop_reason == "completed" and len(history) == 3
    with pytest.warns(RuntimeWarning, match="more than 1000 times"):
        Network([64, 30, 10], seed=0).fit(X, y, epochs=3, learning_rate=1e6, verbose=0, seed=0,
                                          divergence_factor=1000)
    with pytest.raises(ValueError, match="divergence_factor must be a finite number > 0"):
        Network([64, 30, 10], seed=0).fit(X, y, epochs=1, verbose=0, divergence_factor=0)


def test_without_a_monitored_training_cost_the_validation_cost_is_watched(digits):
    X, y, X_val, y_val = digits
    with pytest.warns(RuntimeWarning, match="the validation cost .* is more than 10 times"):
        history = Network([64, 30, 10], seed=0).fit(X, y, epochs=3, learning_rate=50, verbose=0, seed=0,
                                                    monitor_training=False, validation_data=(X_val, y_val))
    assert history.diverged
    # nothing monitored: only non-finite parameters count, so this run completes
    history = Network([64, 30, 10], seed=0).fit(X, y, epochs=2, learning_rate=50, verbose=0, seed=0,
                                                monitor_training=False)
    assert history.stop_reason == "completed"


def test_healthy_runs_are_not_stopped(digits):
    X, y, X_val, y_val = digits
    for lr in (0.1, 0.5, 3.0):  # the book's range of learning rates, and an aggressive one
        history = Network([64, 30, 10], seed=0).fit(X, y, epochs=10, learning_rate=lr, verbose=0, seed=0,
                                                    validation_data=(X_val, y_val))
        assert history.stop_reason == "completed" and not history.message, lr


# ----------------------------------------------------------------------------------------------- the CLI
def test_the_command_says_so_in_one_line_marks_the_run_and_exits_3(tmp_path, capsys):
    from mlpkit.cli import main

    out = tmp_path / "run"
    code = main(["train", "--lr", "50", "--epochs", "3", "--out", str(out), "--quiet", "--no-plots"])
    assert code == 3
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("mlpkit: error: training diverged in epoch 1: "), errors
    assert "smaller learning rate" in errors[0]
    history = json.loads((out / "history.json").read_text())
    assert history["stop_reason"] == "diverged" and history["message"] == errors[0][len("mlpkit: error: "):]
    model = mlpkit.load(out / "model.mlpk")
    assert model.metadata["stop_reason"] == "diverged"
    assert "[diverged]" in captured.out


def test_a_completed_run_still_exits_0(tmp_path):
    from mlpkit.cli import main

    assert main(["train", "--epochs", "2", "--out", str(tmp_path / "ok"), "--quiet", "--no-plots"]) == 0


# ----------------------------------------------------------------------------------------- the dashboard
def test_a_dashboard_run_that_diverges_is_marked_diverged():
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from mlpkit.web.app import create_app

    with TestClient(create_app(), base_url="http://127.0.0.1") as client:
        run_id = client.post("/api/runs", json={"epochs": 3, "lr": 1000}).json()["id"]
        run = None
        for _ in range(600):
            run = client.get(f"/api/runs/{run_id}").json()
            if run["status"] != "running":
                break
            time.sleep(0.05)
    assert run["status"] == "diverged"
    assert run["message"].startswith("training diverged in epoch 1:") and "smaller learning rate" in run["message"]
