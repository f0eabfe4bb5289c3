"""``mlpkit train --dashboard URL``: epochs reach a real server over HTTP; training never depends on it."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import urllib.request

import pytest

pytest.importorskip("uvicorn", reason="the web extra (uvicorn) is not installed")
import uvicorn

import mlpkit
import mlpkit.datasets
from mlpkit.callbacks import Callback
from mlpkit.cli import main
from mlpkit.web.app import create_app
from mlpkit.web.reporter import DashboardReporter, check_dashboard_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """A real mlpkit serve app on a free port in a thread; yields (url, app)."""
    app = create_app(upload_dir=tmp_path / "uploads")
    port = free_port()
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", app
    instance.should_exit = True
    thread.join(10)


def test_train_command_posts_its_epochs(server, tmp_path):
    url, app = server
    code = main(["train", "--epochs", "3", "--layers", "auto,12,auto", "--dashboard", url + "/", "--out",
                 str(tmp_path / "run"), "--quiet", "--no-plots"])
    assert code == 0
    (run,) = app.state.runs.list()
    assert run["source"] == "attached" and run["status"] == "completed" and run["epochs"] == 3
    events = app.state.runs.get(run["id"]).events_from(0)
    assert [e["type"] for e in events] == ["start", "epoch", "epoch", "epoch", "end"]
    history = json.loads((tmp_path / "run" / "history.json").read_text())["history"]
    for event, val_loss in zip(events[1:4], history["val_loss"], strict=True):
        assert event["logs"]["val_loss"] == pytest.approx(val_loss)  # the same numbers as the run's history
        assert [g["name"] for g in event["gradients"]] == ["0: Dense(12, sigmoid)", "1: Dense(10, softmax)"]
    assert events[3]["misclassified"]["shape"] == [8, 8]  # a finished run keeps its last epoch's images


def test_a_diverged_command_line_run_is_marked_diverged_on_the_dashboard(server, tmp_path):
    url, app = server
    code = main(["train", "--lr", "50", "--epochs", "3", "--dashboard", url, "--out", str(tmp_path / "run"), "--quiet",
                 "--no-plots"])
    assert code == 3
    (run,) = app.state.runs.list()
    assert run["status"] == "diverged"
    assert run["message"].startswith("training diverged in epoch 1:") and "smaller learning rate" in run["message"]


def test_a_resumed_run_can_report_to_a_dashboard(server, tmp_path):
    url, app = server
    out = tmp_path / "run"
    assert main(["train", "--epochs", "2", "--layers", "auto,12,auto", "--out", str(out), "--quiet", "--no-plots"]) == 0
    assert not app.state.runs.list()
    assert main(["train", "--resume", str(out), "--epochs", "4", "--dashboard", url, "--quiet", "--no-plots"]) == 0
    (run,) = app.state.runs.list()
    events = app.state.runs.get(run["id"]).events_from(0)
    assert [e["type"] for e in events] == ["start", "epoch", "epoch", "end"]
    history = json.loads((out / "history.json").read_text())["history"]
    assert len(history["val_loss"]) == 4
    for event, val_loss in zip(events[1:3], history["val_loss"][2:], strict=True):  # epochs 3 and 4
        assert event["logs"]["val_loss"] == pytest.approx(val_loss)


class _PressStop(Callback):
    """Presses the page's stop button (POST /api/runs/<id>/stop) after the second epoch."""

    def __init__(self, reporter: DashboardReporter) -> None:
        self.reporter = reporter

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if epoch == 1:
            request = urllib.request.Request(f"{self.reporter.url}/api/runs/{self.reporter.run_id}/stop", method="POST")
            urllib.request.urlopen(request, timeout=5).close()


def test_stop_button_ends_a_cli_run(server):
    url, app = server
    data = mlpkit.datasets.load_digits(seed=0)
    net = mlpkit.Network([64, 10, 10], seed=0)
    reporter = DashboardReporter(url, name="stoppable", epochs=20, validation=(data.validation.X, data.validation.y),
                                 image_shape=(8, 8))
    history = net.fit(data.train.X, data.train.y, epochs=20, verbose=0, callbacks=[reporter, _PressStop(reporter)])
    assert len(history) == 3 and history.stop_reason == "stopped from the dashboard"
    assert app.state.runs.get(reporter.run_id).status == "stopped"


def test_training_goes_on_when_the_server_is_gone():
    data = mlpkit.datasets.load_digits(seed=0)
    stream = io.StringIO()
    reporter = DashboardReporter(f"http://127.0.0.1:{free_port()}", name="lonely", epochs=2, stream=stream)
    history = mlpkit.Network([64, 10, 10], seed=0).fit(data.train.X, data.train.y, epochs=2, verbose=0,
                                                       callbacks=[reporter])
    assert len(history) == 2 and history.stop_reason == "completed"
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and "unavailable" in lines[0] and "training goes on" in lines[0]


@pytest.mark.parametrize("url", ["localhost:8000", "ftp://host", "http://", "http://h:1/?q=1"])
def test_bad_dashboard_addresses(url):
    with pytest.raises(ValueError, match="--dashboard must be the address"):
        check_dashboard_url(url)
    assert main(["train", "--dashboard", url, "--epochs", "1"]) == 2
