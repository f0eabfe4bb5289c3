"""HTTP-level tests of every endpoint of ``mlpkit serve`` (Starlette's TestClient, no browser, no socket)."""

from __future__ import annotations

import json
import math
import re
import time
import warnings

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the web extra (starlette) is not installed")
with warnings.catch_warnings():  # newer Starlette prefers the httpx2 package and warns about httpx
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

import mlpkit
import mlpkit.datasets
from mlpkit import Network
from mlpkit.cli import main
from mlpkit.optimizers import DEFAULT_LEARNING_RATES, OPTIMIZER_NAMES
from mlpkit.schedules import SCHEDULE_NAMES
from mlpkit.settings.options import BOOK_SGD_LEARNING_RATE
from mlpkit.web import rundirs
from mlpkit.web import runs as runs_module
from mlpkit.web.app import PAGES, create_app
from mlpkit.web.epochs import MAX_IMAGES

yaml = pytest.importorskip("yaml", reason="the web extra (PyYAML) is not installed")
JSON, RAW = {"Content-Type": "application/json"}, {"Content-Type": "application/octet-stream"}


@pytest.fixture
def models_dir(tmp_path):
    """A directory with one 8x8-digits model, one 784-input model and a file that is not a model."""
    directory = tmp_path / "models"
    directory.mkdir()
    rng = np.random.default_rng(0)
    data = mlpkit.datasets.load_digits(seed=0)
    digits = Network([64, 20, 10], seed=0)
    digits.fit(data.train.X, data.train.y, epochs=3, batch_size=10, learning_rate=0.5, verbose=0, seed=0)
    digits.save(directory / "digits.mlpk")
    Network([784, 10, 10], seed=1).save(directory / "sub" / "mnist_like.mlpk")
    Network([3, 2], output_activation="identity", seed=2).save(directory / "regressor.mlpk")
    (directory / "broken.mlpk").write_bytes(rng.bytes(100))
    return directory


@pytest.fixture
def runs_dir(tmp_path):
    return tmp_path / "runs"


@pytest.fixture
def client(models_dir, tmp_path, runs_dir):
    app = create_app(models_dir=models_dir, max_upload=64 * 1024, upload_dir=tmp_path / "uploads", runs_dir=runs_dir)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def wait_for(run_id: str, client: TestClient, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{run_id}").json()
        if run["status"] not in ("running",):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")


def sse_events(client: TestClient, path: str, headers: dict | None = None) -> list[dict]:
    """The run's events from its stream (the named "progress" events left out)."""
    events, named = [], False
    with client.stream("GET", path, headers=headers or {}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                named = True
            elif not line:
                named = False
            elif line.startswith("data: ") and not named:
                events.append(json.loads(line[6:]))
                if events[-1]["type"] == "end":
                    break
    return events


# --------------------------------------------------------------------------------------- pages and health
@pytest.mark.parametrize("path", sorted(PAGES))
def test_pages_are_html_with_their_scripts(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    scripts = [src for src in re.findall(r'<script src="([^"]+)"', response.text)]
    assert scripts[0] == "/static/nav.js"  # every page draws the same header, first thing in its body
    for script in scripts:
        assert client.get(script).status_code == 200, script
    assert "charts.js" not in response.text  # the hand-written SVG charts are gone
    assert client.get("/static/style.css").status_code == 200


def test_plotly_is_served_from_the_installed_package(client):
    plotly = pytest.importorskip("plotly")
    response = client.get("/vendor/plotly.min.js")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/javascript")
    assert len(response.content) > 1_000_000 and b"plotly" in response.content[:2000].lower()
    assert plotly.__version__


def test_health_and_unknown_paths(client):
    assert client.get("/api/health").json() == {"status": "ok", "version": mlpkit.__version__}
    missing = client.get("/api/nothing")
    assert missing.status_code == 404 and "error" in missing.json()
    assert client.get("/api/neuron").status_code == 405


# --------------------------------------------------------------------------------------- learning slowdown
@pytest.mark.parametrize(("w", "b", "cost", "eta"), [
    (0.6, 0.9, "quadratic", 0.15), (2.0, 2.0, "quadratic", 0.15),
    (0.6, 0.9, "cross_entropy", 0.005), (2.0, 2.0, "cross_entropy", 0.005),
])
def test_neuron_matches_mlpkit_run_directly(client, w, b, cost, eta):
    data = client.post("/api/neuron", json={"w": w, "b": b, "eta": eta, "cost": cost, "epochs": 300}).json()
    assert data["epoch"] == list(range(301))
    # the same neuron worked out by hand (Nielsen ch.3): a = sigma(w x + b); dC/dz = (a - y) sigma'(z) for the
    # quadratic cost C = (a - y)^2 / 2, (a - y) for cross-entropy; one SGD step w -= eta x dC/dz per epoch
    x, y, outputs, costs, ws = 1.0, 0.0, [], [], []
    for _ in range(301):
        a = 1 / (1 + np.exp(-(w * x + b)))
        outputs.append(a)
        costs.append((a - y) ** 2 / 2 if cost == "quadratic" else -(y * np.log(a) + (1 - y) * np.log(1 - a)))
        ws.append(w)
        delta = (a - y) * a * (1 - a) if cost == "quadratic" else a - y
        w, b = w - eta * x * delta, b - eta * delta
    np.testing.assert_allclose(data["output"], outputs, rtol=1e-10)
    np.testing.assert_allclose(data["cost"], costs, rtol=1e-10)
    np.testing.assert_allclose(data["w"], ws, rtol=1e-10)


def test_neuron_shows_the_slowdown(client):
    """Quadratic cost: from the badly wrong start (w = b = 2) the weight and the cost move far less in the first
    50 epochs than from the better start; cross-entropy: the other way round (Nielsen ch.3)."""
    def moved(w, b, cost, eta):
        data = client.post("/api/neuron", json={"w": w, "b": b, "cost": cost, "eta": eta}).json()
        return data["w"][0] - data["w"][50], data["cost"][0] - data["cost"][50]

    for bad, good in zip(moved(2, 2, "quadratic", 0.15), moved(0.6, 0.9, "quadratic", 0.15), strict=True):
        assert 0 < bad < 0.3 * good
    for bad, good in zip(moved(2, 2, "cross_entropy", 0.005), moved(0.6, 0.9, "cross_entropy", 0.005), strict=True):
        assert bad > good > 0


@pytest.mark.parametrize(("body", "message"), [
    ({"w": "two"}, "w must be a finite number"),
    ({"eta": 0}, "eta must be between"),
    ({"cost": "hinge"}, "cost must be one of quadratic, cross_entropy"),
    ({"epochs": 2.5}, "epochs must be a whole number"),
    ({"epochs": 10**6}, "epochs must be between"),
    ({"y": 2}, "y must be between 0 and 1"),
    ({"w": 1, "speed": 3}, "unknown field 'speed'"),
])
def test_neuron_rejects_bad_values(client, body, message):
    response = client.post("/api/neuron", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_malformed_json_is_400(client, raw):
    response = client.post("/api/neuron", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def test_oversized_json_is_413(client):
    response = client.post("/api/predict", content=b" " * (3 * 1024 * 1024), headers=JSON)
    assert response.status_code == 413
    assert "limit" in response.json()["error"]


# --------------------------------------------------------------------------------------- models and drawing
def drawing_of_a_one(size: int = 140) -> list[list[float]]:
    image = np.zeros((size, size))
    image[20:120, 65:78] = 1.0
    return image.tolist()


def test_models_lists_directory_models_and_marks_the_unusable(client):
    models = {m["name"]: m for m in client.get("/api/models").json()["models"]}
    assert set(models) == {"digits.mlpk", "sub/mnist_like.mlpk", "regressor.mlpk", "broken.mlpk"}
    assert models["digits.mlpk"]["usable"] and models["digits.mlpk"]["input_dim"] == 64
    assert models["sub/mnist_like.mlpk"]["usable"] and models["sub/mnist_like.mlpk"]["input_dim"] == 784
    assert not models["regressor.mlpk"]["usable"]
    assert not models["broken.mlpk"]["usable"] and "zip" in models["broken.mlpk"]["problem"]


def test_predict_gives_the_models_probabilities_of_the_preprocessed_drawing(client, models_dir):
    from mlpkit.web.digit import digits_image, mnist_image

    models = {m["name"]: m["id"] for m in client.get("/api/models").json()["models"]}
    drawing = drawing_of_a_one()
    for name, prepare in (("digits.mlpk", digits_image), ("sub/mnist_like.mlpk", mnist_image)):
        answer = client.post("/api/predict", json={"model": models[name], "pixels": drawing}).json()
        direct = mlpkit.load(models_dir / name).predict_proba(prepare(np.array(drawing)).reshape(1, -1))[0]
        np.testing.assert_allclose(answer["probabilities"], direct, rtol=1e-5)
        assert abs(sum(answer["probabilities"]) - 1) < 1e-5
        assert answer["prediction"] == int(np.argmax(direct))
        assert np.array(answer["input"]["pixels"]).shape == tuple(answer["input"]["shape"])


@pytest.mark.parametrize(("pixels", "status", "message"), [
    ("abc", 400, "pixels must be a 2-D array"),
    ([[0.1, 0.2], [0.3]], 400, "rectangular"),
    ([[0.5, 1.5], [0.0, 0.0]], 400, "pixel values must be in [0, 1]"),
    ([[0.5, -0.1]], 400, "pixel values must be in [0, 1]"),
    ([[0.5, "x"]], 400, "numbers only"),
    ([[0.0] * 5] * 5, 400, "empty"),
    ([[0.0] * 2000], 400, "at most 1024"),
])
def test_predict_rejects_bad_drawings(client, pixels, status, message):
    model = next(m["id"] for m in client.get("/api/models").json()["models"] if m["name"] == "digits.mlpk")
    response = client.post("/api/predict", json={"model": model, "pixels": pixels})
    assert response.status_code == status
    assert message in response.json()["error"]


def test_predict_with_unknown_or_unusable_model(client):
    assert client.post("/api/predict", json={"model": "nope", "pixels": drawing_of_a_one()}).status_code == 404
    regressor = next(m["id"] for m in client.get("/api/models").json()["models"] if m["name"] == "regressor.mlpk")
    response = client.post("/api/predict", json={"model": regressor, "pixels": drawing_of_a_one()})
    assert response.status_code == 400 and "takes 3 inputs" in response.json()["error"]


def test_upload_a_model_then_predict_with_it(client, tmp_path):
    path = Network([64, 10], seed=5).save(tmp_path / "mine.mlpk")
    response = client.post("/api/models?name=../../mine.mlpk", content=path.read_bytes(), headers=RAW)
    assert response.status_code == 201
    entry = response.json()
    assert entry["usable"] and entry["name"] == "mine.mlpk" and entry["source"] == "upload"
    assert (tmp_path / "uploads" / f"{entry['id']}.mlpk").is_file()
    answer = client.post("/api/predict", json={"model": entry["id"], "pixels": drawing_of_a_one()})
    assert answer.status_code == 200 and len(answer.json()["probabilities"]) == 10


def test_upload_refuses_non_models_and_oversized_files(client, tmp_path):
    bad = client.post("/api/models?name=x.mlpk", content=b"PK\x03\x04 not really a zip", headers=RAW)
    assert bad.status_code == 400 and "not a usable mlpkit model file" in bad.json()["error"]
    assert list((tmp_path / "uploads").glob("*.mlpk")) == []  # the refused file is not kept
    assert client.post("/api/models", content=b"", headers=RAW).status_code == 400
    big = client.post("/api/models?name=big.mlpk", content=b"0" * (64 * 1024 + 1), headers=RAW)
    assert big.status_code == 413 and "limit" in big.json()["error"]


# --------------------------------------------------------------------------------------- runs
def test_run_on_digits_streams_epochs_and_becomes_a_model(client):
    response = client.post("/api/runs", json={"dataset": "digits", "layers": "auto,16,auto", "epochs": 3,
                                              "lr": 0.5, "dropout": 0.9})
    assert response.status_code == 201
    run_id = response.json()["id"]
    events = sse_events(client, f"/api/runs/{run_id}/events")
    kinds = [e["type"] for e in events]
    assert kinds == ["start", "epoch", "epoch", "epoch", "end"]
    assert events[0]["sizes"] == [64, 16, 10]
    epochs = events[1:4]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    for event in epochs:
        assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(event["logs"])
        assert [g["name"] for g in event["gradients"]] == ["0: Dense(16, sigmoid)", "2: Dense(10, softmax)"]
    # a finished run keeps the images of its last epoch only (the page shows the latest grid)
    grid = epochs[-1]["misclassified"]
    assert grid["shape"] == [8, 8] and len(grid["images"]) == min(MAX_IMAGES, grid["count"])
    for image in grid["images"]:
        assert image["predicted"] != image["true"]
    assert all(e["misclassified"] is None for e in client.get(f"/api/runs/{run_id}").json()["events"][1:3])
    assert epochs[-1]["logs"]["val_accuracy"] > epochs[0]["logs"]["val_accuracy"]
    end = events[-1]
    assert end["status"] == "completed"
    # the finished run's network is offered to the draw page, and its reported test accuracy is its own
    model = client.get("/api/models").json()["models"]
    entry = next(m for m in model if m["id"] == end["model_id"])
    network = client.app.state.models.get(entry["id"]).load()
    data = mlpkit.datasets.load_digits(seed=0)
    assert end["test_accuracy"] == pytest.approx(network.evaluate(data.test.X, data.test.y)["accuracy"])
    # a late reader (reconnect with Last-Event-ID) gets the rest of the stream only
    rest = sse_events(client, f"/api/runs/{run_id}/events", headers={"Last-Event-ID": "2"})
    assert [e["type"] for e in rest] == ["epoch", "end"] and rest[0]["epoch"] == 3  # events 3 and 4 of 0..4
    listed = client.get("/api/runs").json()["runs"]
    assert listed[0]["id"] == run_id and listed[0]["epoch"] == 3


def test_stop_ends_a_run_early(client):
    run_id = client.post("/api/runs", json={"epochs": 200, "batch_size": 1}).json()["id"]
    assert client.post(f"/api/runs/{run_id}/stop").status_code == 200
    run = wait_for(run_id, client)
    assert run["status"] == "stopped"
    assert 1 <= run["epoch"] < 200


def test_a_failing_run_does_not_take_the_server_down(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(runs_module, "load_data", broken)
    run_id = client.post("/api/runs", json={"epochs": 2}).json()["id"]
    run = wait_for(run_id, client)
    assert run["status"] == "failed" and "disk on fire" in run["message"]
    monkeypatch.undo()
    assert client.get("/api/health").status_code == 200
    again = client.post("/api/runs", json={"epochs": 1}).json()["id"]
    assert wait_for(again, client)["status"] == "completed"


@pytest.mark.parametrize(("body", "message"), [
    ({"dataset": "/etc/passwd"}, "dataset must be one of digits, mnist"),
    ({"lr": -1}, "'lr' in the request must be a finite number > 0"),
    ({"layers": "auto,0,auto"}, "entries must be positive integers"),
    ({"optimizer": "lbfgs"}, "'optimizer' in the request must be one of"),
    ({"epochs": 501}, "at most 500"),
    ({"out": "/tmp/x"}, "unknown setting 'out'"),
    ({"dropout": 1.5}, "'dropout' in the request must be in (0, 1]"),
    ({"lr": "fast"}, "'lr' in the request must be a number"),
    ({"layers": "auto,5000,auto"}, "at most 4096 units a layer"),
    ({"layers": ",".join(["auto"] + ["8"] * 12 + ["auto"])}, "at most 12 layers"),
    ({"optimizer": "adam", "momentum": 0.9}, "applies to the momentum and nesterov optimizers, not adam"),
    ({"schedule": "step"}, "--schedule step needs 'step_size' in the request"),
    ({"schedule": "sometimes"}, "'schedule' in the request must be one of"),
    ({"augment": "blur"}, "takes shift, rotate, elastic, affine"),
    ({"batch_norm": "maybe"}, "'batch_norm' in the request must be true or false"),
    ({"init": "random"}, "'init' in the request must be one of"),
])
def test_run_settings_are_checked(client, body, message):
    response = client.post("/api/runs", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_too_many_active_runs_is_409(client):
    ids = [client.post("/api/runs", json={"epochs": 500, "batch_size": 1}).json()["id"]
           for _ in range(runs_module.MAX_ACTIVE)]
    response = client.post("/api/runs", json={"epochs": 1})
    assert response.status_code == 409 and "training already" in response.json()["error"]
    for run_id in ids:
        client.post(f"/api/runs/{run_id}/stop")
    for run_id in ids:
        wait_for(run_id, client)


def test_unknown_run_is_404(client):
    for method, path in (("GET", "/api/runs/nope"), ("POST", "/api/runs/nope/stop"), ("GET", "/api/runs/nope/events"),
                         ("POST", "/api/runs/nope/events")):
        response = client.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == 404 and "no run 'nope'" in response.json()["error"]


# --------------------------------------------------------------------------------------- attached runs
def epoch_event(epoch: int, **extra) -> dict:
    grey = np.arange(64, dtype=np.uint8).tobytes()
    import base64
    return {"type": "epoch", "epoch": epoch, "logs": {"loss": 1.0 / epoch, "val_accuracy": 0.5 + epoch / 100},
            "gradients": [{"name": "0: Dense(30, sigmoid)", "norm": 0.1, "rms": 0.01}],
            "misclassified": {"shape": [8, 8], "count": 3, "checked": 10,
                              "images": [{"pixels": base64.b64encode(grey).decode(), "predicted": 1, "true": 7}]},
            **extra}


def test_attached_run_receives_events_and_passes_stop_back(client):
    run_id = client.post("/api/runs/attach", json={"name": "cli run", "epochs": 5, "settings": {"dataset": "digits"}}
                         ).json()["id"]
    assert client.post(f"/api/runs/{run_id}/events", json=epoch_event(1)).json() == {"stop": False}
    client.post(f"/api/runs/{run_id}/stop")
    assert client.post(f"/api/runs/{run_id}/events", json=epoch_event(2)).json() == {"stop": True}
    client.post(f"/api/runs/{run_id}/events", json={"type": "end", "status": "stopped", "message": "stopped"})
    events = sse_events(client, f"/api/runs/{run_id}/events")
    assert [e["type"] for e in events] == ["start", "epoch", "epoch", "end"]
    assert events[2]["misclassified"]["images"][0]["true"] == 7
    summary = client.get(f"/api/runs/{run_id}").json()
    assert summary["source"] == "attached" and summary["status"] == "stopped" and summary["epoch"] == 2


@pytest.mark.parametrize(("event", "message"), [
    ({"type": "lunch"}, "type must be 'epoch' or 'end'"),
    ({"type": "epoch", "epoch": 0}, "epoch must be a whole number >= 1"),
    (epoch_event(1, secret=1), "unknown field 'secret'"),
    ({"type": "epoch", "epoch": 1, "gradients": [{"name": "x", "norm": "big"}]}, "each gradient must be"),
    ({"type": "epoch", "epoch": 1, "misclassified": {"shape": [8, 8], "images": [
        {"pixels": "AAAA", "predicted": 1, "true": 2}]}}, "has 3 pixels"),
    ({"type": "epoch", "epoch": 1, "misclassified": {"shape": [999, 8], "images": []}}, "sides 1..64"),
    ({"type": "end", "status": "exploded"}, "status must be"),
])
def test_attached_events_are_checked(client, event, message):
    run_id = client.post("/api/runs/attach", json={"name": "x", "epochs": 3}).json()["id"]
    response = client.post(f"/api/runs/{run_id}/events", json=event)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_attach_is_checked_and_server_runs_take_no_events(client):
    assert client.post("/api/runs/attach", json={"name": "x", "epochs": 0}).status_code == 400
    assert client.post("/api/runs/attach", json={"name": "", "epochs": 3}).status_code == 400
    run_id = client.post("/api/runs", json={"epochs": 1}).json()["id"]
    response = client.post(f"/api/runs/{run_id}/events", json=epoch_event(1))
    assert response.status_code == 400 and "only attached runs" in response.json()["error"]
    wait_for(run_id, client)


# --------------------------------------------------------------------------------------- the run form's options
def test_options_give_the_form_its_choices_and_each_optimizers_own_learning_rate(client):
    options = client.get("/api/options").json()
    assert options["fields"] == list(runs_module.RUN_FIELDS)
    assert {"init", "schedule", "batch_norm", "augment", "lr", "epochs"} <= set(options["options"])
    # SGD starts from the book's 0.5; every other optimizer from its own default, never SGD's
    expected = {name: DEFAULT_LEARNING_RATES[name] for name in OPTIMIZER_NAMES} | {"sgd": BOOK_SGD_LEARNING_RATE}
    assert options["learning_rates"] == expected
    assert options["learning_rates"]["adam"] == 0.001
    table = options["options"]
    assert table["schedule"]["choices"] == list(SCHEDULE_NAMES)
    assert table["optimizer"]["choices"] == list(OPTIMIZER_NAMES)
    assert table["augment"]["choices"] == ["shift", "rotate", "elastic", "affine"]
    assert table["batch_norm"]["kind"] == "bool"
    assert "he" in table["init"]["choices"]
    assert table["momentum"]["applies_to"] == ["momentum", "nesterov"]
    assert table["momentum"]["defaults"]["momentum"] == 0.9
    assert table["decay_rate"]["target"] == "schedule" and table["decay_rate"]["defaults"]["exponential"] == 0.95
    assert "step" not in table["step_size"]["defaults"]  # required: the form asks for it


@pytest.mark.parametrize(("optimizer", "expected"), [("adam", DEFAULT_LEARNING_RATES["adam"]),
                                                     ("sgd", BOOK_SGD_LEARNING_RATE)])
def test_a_run_without_a_learning_rate_uses_its_optimizers_default(client, runs_dir, optimizer, expected):
    run = client.post("/api/runs", json={"optimizer": optimizer, "epochs": 8}).json()
    assert run["settings"]["lr"] == expected
    done = wait_for(run["id"], client)
    assert done["status"] == "completed"
    # the run's directory holds the settings it used, as mlpkit train writes them
    config = yaml.safe_load((runs_dir / run["id"] / rundirs.CONFIG_FILE).read_text())
    assert config["optimizer"] == optimizer and config["lr"] == expected
    model = mlpkit.load(runs_dir / run["id"] / rundirs.MODEL_FILE)
    assert model.metadata["config"]["lr"] == expected
    assert model.metadata["test_accuracy"] == pytest.approx(done["test_accuracy"])
    assert done["test_accuracy"] > 0.5  # far above chance (0.1) on the ten digits


def test_runs_are_kept_and_a_new_server_lists_them(client, models_dir, tmp_path, runs_dir):
    requests = ({"epochs": 2, "optimizer": "sgd"}, {"epochs": 3, "optimizer": "adam"})
    ids = [client.post("/api/runs", json={"layers": "auto,12,auto", **body}).json()["id"] for body in requests]
    first = {run_id: wait_for(run_id, client) for run_id in ids}
    assert {p.name for p in runs_dir.iterdir()} == set(ids)
    assert sorted(p.name for p in (runs_dir / ids[0]).iterdir()) == ["config.yaml", "history.json", "model.mlpk",
                                                                      "run.json"]
    # a new server over the same runs directory: the same runs, their curves and their links
    again = create_app(models_dir=models_dir, upload_dir=tmp_path / "uploads2", runs_dir=runs_dir)
    with TestClient(again, base_url="http://127.0.0.1") as other:
        listing = other.get("/api/runs").json()
        assert listing["skipped"] == []
        assert [r["id"] for r in listing["runs"]] == ids[::-1]  # newest first
        for run_id, before in first.items():
            after = other.get(f"/api/runs/{run_id}").json()
            for key in ("name", "status", "epoch", "epochs", "test_accuracy", "test_loss", "url"):
                assert after[key] == pytest.approx(before[key]), key
            assert after["settings"]["optimizer"] == before["settings"]["optimizer"]
            assert [e["type"] for e in after["events"]] == ["start"] + ["epoch"] * before["epoch"] + ["end"]
            for kept, live in zip(after["events"][1:-1], before["events"][1:-1], strict=True):
                assert kept["logs"] == pytest.approx(live["logs"])
                assert kept["gradients"] == live["gradients"]
            assert sse_events(other, f"/api/runs/{run_id}/events")[-1]["status"] == "completed"
            page = other.get(after["url"])  # the run's link opens the dashboard, which opens the run
            assert after["url"] == f"/dashboard?run={run_id}" and page.status_code == 200
            assert "dashboard.js" in page.text


def test_a_run_directory_of_mlpkit_train_is_listed(client, models_dir, tmp_path, runs_dir):
    assert main(["train", "--epochs", "2", "--layers", "auto,10,auto", "--out", str(runs_dir / "from-cli"), "--quiet",
                 "--no-plots"]) == 0
    app = create_app(upload_dir=tmp_path / "uploads2", runs_dir=runs_dir)
    run = app.state.runs.get("from-cli").summary()
    model = mlpkit.load(runs_dir / "from-cli" / "model.mlpk")
    assert run["source"] == "train" and run["status"] == "completed" and run["epoch"] == 2 and run["epochs"] == 2
    assert run["test_accuracy"] == pytest.approx(model.metadata["test_accuracy"])
    assert run["settings"]["layers"] == [64, 10, 10]
    assert [e["type"] for e in app.state.runs.get("from-cli").events_from(0)] == ["start", "epoch", "epoch", "end"]


def test_broken_run_directories_are_skipped_with_the_reason(tmp_path, runs_dir):
    def directory(name: str, **files: bytes) -> None:
        (runs_dir / name).mkdir(parents=True)
        for file, data in files.items():
            (runs_dir / name / file.replace("_", ".", 1)).write_bytes(data)

    directory("not-json", history_json=b"{oops")
    directory("not-history", history_json=b"[1, 2, 3]")
    directory("uneven", history_json=json.dumps({"epochs": [0, 1], "history": {"loss": [1.0]}}).encode())
    directory("not-a-model", model_mlpk=b"PK\x03\x04 not a zip at all")
    directory("huge", history_json=b" " * (rundirs.SIZE_LIMITS["history.json"] + 1))
    directory("bad-yaml", config_yaml=b"layers: [1, 2\n")
    directory("bad name", history_json=b"{}")
    directory("empty")  # not a run: passed over in silence
    directory("notes", readme_txt=b"hello")
    # killed while training: settings and two epochs, no model
    directory("half-done", config_yaml=b"epochs: 5\ndataset: digits\nlayers: [64, 10, 10]\n",
              history_json=json.dumps({"epochs": [0, 1], "history": {"loss": [2.0, 1.5]}}).encode())
    # a YAML alias bomb: the listing keeps plain values only
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n"
    directory("alias", config_yaml=bomb.encode(), history_json=b'{"epochs": [], "history": {}}')
    app = create_app(upload_dir=tmp_path / "uploads", runs_dir=runs_dir)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        listing = client.get("/api/runs").json()
    problems = {s["directory"]: s["problem"] for s in listing["skipped"]}
    assert set(problems) == {"not-json", "not-history", "uneven", "not-a-model", "huge", "bad-yaml", "bad name"}
    assert "not valid JSON" in problems["not-json"]
    assert "must hold a JSON object" in problems["not-history"]
    assert "loss has 1 values for 2 epochs" in problems["uneven"]
    assert "zip" in problems["not-a-model"]
    assert "more than" in problems["huge"]
    assert "not valid YAML" in problems["bad-yaml"]
    assert "not a run id" in problems["bad name"]
    assert all(str(runs_dir) not in p for p in problems.values())  # no server paths in the answer
    runs = {r["id"]: r for r in listing["runs"]}
    assert set(runs) == {"half-done", "alias"}
    assert runs["half-done"]["status"] == "interrupted" and runs["half-done"]["epoch"] == 2
    assert runs["half-done"]["epochs"] == 5
    assert runs["alias"]["settings"] == {"a": ["x"] * 9}


def test_a_runs_root_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "runs"
    path.write_text("not a directory")
    with pytest.raises(ValueError, match="is a file"):
        create_app(upload_dir=tmp_path / "uploads", runs_dir=path)
    assert main(["serve", "--runs", str(path), "--port", "1"]) == 2


def test_progress_within_the_epoch(client):
    run_id = client.post("/api/runs", json={"epochs": 100, "batch_size": 1, "layers": "auto,30,auto"}).json()["id"]
    n_train = len(mlpkit.datasets.load_digits(seed=0).train.y)
    deadline, seen = time.monotonic() + 30, []
    while time.monotonic() < deadline and len(seen) < 3:
        progress = client.get(f"/api/runs/{run_id}").json()["progress"]
        if progress is not None and 0 < progress["batches"] < progress["total"]:
            seen.append(progress)
        time.sleep(0.02)
    assert seen and all(p["total"] == math.ceil(n_train / 1) for p in seen)
    assert all(1 <= p["epoch"] <= 100 for p in seen)
    # the event stream sends it too, as "progress" events without an id (a reconnect does not skip epochs)
    with client.stream("GET", f"/api/runs/{run_id}/events") as response:
        lines = []
        for line in response.iter_lines():
            lines.append(line)
            if line == "event: progress":
                break
    assert lines[-1] == "event: progress"
    client.post(f"/api/runs/{run_id}/stop")
    assert wait_for(run_id, client)["progress"] is None


def test_a_dashboard_run_on_a_generated_2d_set(client):
    """The planar sets of the course train from the page as from ``mlpkit train``: size and noise reach the
    data, and there are no images to show."""
    response = client.post("/api/runs", json={"dataset": "moons", "samples": 300, "noise": 0.2,
                                              "layers": "auto,8,auto", "activation": "tanh", "epochs": 3})
    assert response.status_code == 201, response.text
    run = wait_for(response.json()["id"], client)
    assert run["status"] == "completed", run
    start, epochs = run["events"][0], [e for e in run["events"] if e["type"] == "epoch"]
    assert start["sizes"] == [2, 8, 2]
    assert len(epochs) == 3 and all(e["misclassified"] is None or e["misclassified"]["images"] == []
                                    for e in epochs)
    data = client.app.state.runs.load_data(runs_module.run_config({"dataset": "moons", "samples": 300}))
    assert data.dataset.train.X.shape == (180, 2)


def test_a_dashboard_run_refuses_huge_generated_sets(client):
    response = client.post("/api/runs", json={"dataset": "moons", "samples": 10**6})
    assert response.status_code == 400
    assert "'samples' in the request must be at most" in response.json()["error"]
