"""HTTP-level tests of every endpoint of ``mlpkit serve`` (Starlette's TestClient, no browser, no socket)."""

from __future__ import annotations

import json
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
from mlpkit import Dense, Network
from mlpkit.optimizers import SGD
from mlpkit.web import runs as runs_module
from mlpkit.web.app import create_app
from mlpkit.web.epochs import MAX_IMAGES


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
def client(models_dir, tmp_path):
    app = create_app(models_dir=models_dir, max_upload=64 * 1024, upload_dir=tmp_path / "uploads")
    with TestClient(app) as c:
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
    events = []
    with client.stream("GET", path, headers=headers or {}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if events[-1]["type"] == "end":
                    break
    return events


# --------------------------------------------------------------------------------------- pages and health
@pytest.mark.parametrize("path", ["/", "/slowdown", "/softmax", "/dashboard", "/draw"])
def test_pages_are_html_with_their_scripts(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    scripts = ("charts.js", "slowdown.js", "softmax.js", "dashboard.js", "draw.js")
    for script in (s for s in scripts if s in response.text):
        assert client.get(f"/static/{script}").status_code == 200
    assert client.get("/static/style.css").status_code == 200


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
    # the same neuron, built and trained here with mlpkit's public API, one SGD step per epoch
    net = Network([Dense(1, "sigmoid")], input_dim=1, loss={"quadratic": "quadratic",
                                                            "cross_entropy": "binary_crossentropy"}[cost],
                  dtype="float64")
    net.set_weights({"layers.0.W": np.array([[w]]), "layers.0.b": np.array([b])})
    X, Y = np.array([[1.0]]), np.array([[0.0]])
    outputs, costs = [net.predict_proba(X)[0, 0]], [net.evaluate(X, Y)["loss"]]
    optimizer = SGD(eta)
    for _ in range(300):
        net.fit(X, Y, epochs=1, batch_size=1, optimizer=optimizer, verbose=0, shuffle=False)
        outputs.append(net.predict_proba(X)[0, 0])
        costs.append(net.evaluate(X, Y)["loss"])
    np.testing.assert_allclose(data["output"], outputs, rtol=1e-12)
    np.testing.assert_allclose(data["cost"], costs, rtol=1e-12)
    np.testing.assert_allclose(data["w"][-1], net.layers[0].params["W"][0, 0], rtol=1e-12)


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
    response = client.post("/api/predict", content=b" " * (3 * 1024 * 1024))
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
    response = client.post("/api/models?name=../../mine.mlpk", content=path.read_bytes())
    assert response.status_code == 201
    entry = response.json()
    assert entry["usable"] and entry["name"] == "mine.mlpk" and entry["source"] == "upload"
    assert (tmp_path / "uploads" / f"{entry['id']}.mlpk").is_file()
    answer = client.post("/api/predict", json={"model": entry["id"], "pixels": drawing_of_a_one()})
    assert answer.status_code == 200 and len(answer.json()["probabilities"]) == 10


def test_upload_refuses_non_models_and_oversized_files(client, tmp_path):
    bad = client.post("/api/models?name=x.mlpk", content=b"PK\x03\x04 not really a zip")
    assert bad.status_code == 400 and "not a usable mlpkit model file" in bad.json()["error"]
    assert list((tmp_path / "uploads").glob("*.mlpk")) == []  # the refused file is not kept
    assert client.post("/api/models", content=b"").status_code == 400
    big = client.post("/api/models?name=big.mlpk", content=b"0" * (64 * 1024 + 1))
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
        grid = event["misclassified"]
        assert grid["shape"] == [8, 8] and len(grid["images"]) == min(MAX_IMAGES, grid["count"])
        for image in grid["images"]:
            assert image["predicted"] != image["true"]
    assert epochs[-1]["logs"]["val_accuracy"] > epochs[0]["logs"]["val_accuracy"]
    end = events[-1]
    assert end["status"] == "completed"
    # the finished run's network is offered to the draw page, and its reported test accuracy is its own
    model = client.get("/api/models").json()["models"]
    entry = next(m for m in model if m["id"] == end["model_id"])
    network = client.app.state.models.get(entry["id"]).network
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
