"""HTTP tests of the playground of ``mlpkit serve`` (:mod:`mlpkit.web.playground`): sessions, steps, presets,
limits and the one-line errors of every bad request."""

from __future__ import annotations

import base64
import warnings

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the web extra (starlette) is not installed")
with warnings.catch_warnings():  # newer Starlette prefers the httpx2 package and warns about httpx
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from mlpkit.datasets import load_planar
from mlpkit.diagnose import gradient_norms
from mlpkit.reproduce import COURSE_RUNS
from mlpkit.web import playground
from mlpkit.web.app import create_app

MOONS = {"dataset": "moons", "n_samples": 200, "noise": 0.2, "layers": [6, 3], "activation": "tanh", "lr": 0.1}


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(upload_dir=tmp_path / "uploads"), base_url="http://127.0.0.1") as c:
        yield c


def create(client: TestClient, **body) -> dict:
    response = client.post("/api/playground", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def step(client: TestClient, session_id: str, epochs: int) -> dict:
    response = client.post(f"/api/playground/{session_id}/step", json={"epochs": epochs})
    assert response.status_code == 200, response.text
    return response.json()


def session_of(client: TestClient, session_id: str) -> playground.Session:
    return client.app.state.playground.get(session_id)


def grid(state: dict) -> np.ndarray:
    boundary = state["boundary"]
    values = np.frombuffer(base64.b64decode(boundary["values"]), dtype=np.uint8)
    return values.reshape(boundary["size"], boundary["size"], boundary["channels"])


# --------------------------------------------------------------------------------------- the page
def test_page_and_script_are_served(client):
    page = client.get("/playground")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for script in ("/static/playground.js", "/static/nav.js", "/static/plots.js"):
        assert script in page.text
        assert client.get(script).status_code == 200


def test_options_list_choices_limits_and_a_preset_per_course_experiment(client):
    options = client.get("/api/playground/options").json()
    assert options["datasets"] == ["circles", "moons", "flower", "spiral", "xor", "gaussian"]
    assert {"zeros", "scaled_normal", "he", "xavier"} <= set(options["inits"])
    assert {"sgd", "momentum", "adam"} <= set(options["optimizers"])
    assert options["limits"]["max_points"] == playground.MAX_POINTS
    names = {preset["name"] for preset in options["presets"]}
    # every course run is offered, the learning-rate decays included
    assert names == {run.name for run in COURSE_RUNS if run.sizes[0] == 2}
    assert options["decays"] == ["epoch", "interval"]
    assert {preset["experiment"] for preset in options["presets"]} == {"planar", "initialization", "optimization",
                                                                      "regularization"}


# --------------------------------------------------------------------------------------- a session's life
def test_create_step_state_reset_delete(client):
    state = create(client, **MOONS)
    sid = state["id"]
    assert state["epoch"] == 0 and state["status"] == "ready"
    assert state["history"]["epoch"] == [0]  # the costs before training
    data = state["data"]
    assert data["n_train"] + data["n_test"] == 200 and not data["test_is_train"]
    assert len(data["train"]["x"]) == data["n_train"] and set(data["train"]["label"]) == {0, 1}
    assert grid(state).shape == (playground.GRID, playground.GRID, 1)
    assert state["gradients"]["layers"] == ["0: Dense(6, tanh)", "1: Dense(3, tanh)", "2: Dense(1, sigmoid)"]
    initial = grid(state)

    after = step(client, sid, 5)
    assert after["epoch"] == 5 and "data" not in after  # a step sends what changed, not the points again
    assert after["history"]["epoch"] == [1, 2, 3, 4, 5]
    assert after["gradients"]["epoch"] == [5] and len(after["gradients"]["norm"][0]) == 3
    assert not np.array_equal(grid(after), initial)
    assert after["history"]["loss"][-1] < state["history"]["loss"][0]

    full = client.get(f"/api/playground/{sid}").json()
    assert full["history"]["epoch"] == [0, 1, 2, 3, 4, 5] and full["data"] == data
    assert full["history"]["loss"][1:] == after["history"]["loss"]
    assert client.get(f"/api/playground/{sid}?since=3").json()["history"]["epoch"] == [4, 5]

    again = client.post(f"/api/playground/{sid}/reset").json()
    assert again["epoch"] == 0 and again["history"] == state["history"]  # the same seed, the same start
    np.testing.assert_array_equal(grid(again), initial)

    assert client.delete(f"/api/playground/{sid}").json() == {"deleted": sid}
    assert client.get(f"/api/playground/{sid}").status_code == 404


def test_every_number_comes_from_the_sessions_mlpkit_network(client):
    state = step(client, create(client, **MOONS)["id"], 4)
    session = session_of(client, state["id"])
    network, train = session.network, session.data.train
    expected = np.rint(network.predict_proba(session.grid_points) * 255).astype(np.uint8).reshape(grid(state).shape)
    np.testing.assert_array_equal(grid(state), expected)
    assert state["history"]["loss"][-1] == pytest.approx(network.evaluate(*train)["loss"], rel=1e-12)
    norms = [g.gradient_norm for g in gradient_norms(network, *train, seed=4)]
    assert state["gradients"]["norm"][-1] == pytest.approx(norms, rel=1e-12)
    # the points are load_planar's, with its seeded split
    data = load_planar("moons", n_samples=200, noise=0.2, seed=0, dtype="float64")
    shown = client.get(f"/api/playground/{state['id']}").json()["data"]["test"]
    np.testing.assert_array_equal(shown["x"], np.round(data.test.X[:, 0], 5))
    np.testing.assert_array_equal(shown["label"], data.test.y)


def test_training_in_many_requests_equals_training_in_one(client):
    """The optimizer's state and the shuffling generator carry over from one step request to the next."""
    body = {**MOONS, "optimizer": "adam", "lr": 0.01, "dropout": 0.8, "batch_size": 16}
    one, many = create(client, **body)["id"], create(client, **body)["id"]
    step(client, one, 6)
    for epochs in (1, 2, 3):
        step(client, many, epochs)
    a, b = client.get(f"/api/playground/{one}").json(), client.get(f"/api/playground/{many}").json()
    assert a["history"] == b["history"]
    assert a["boundary"] == b["boundary"]


@pytest.mark.parametrize(("decay", "expected"), [
    # Ng course 2 week 2: lr0 / (1 + rate * epoch), the first epoch numbered 1 (the lecture's table)
    ("epoch", lambda e: 0.1 / (1 + 0.5 * (e + 1))),
    # lr0 / (1 + rate * floor(epoch / interval)), the first epoch numbered 0 (the assignment's rule)
    ("interval", lambda e: 0.1 / (1 + 0.5 * (e // 2))),
])
def test_learning_rate_decay_counts_the_sessions_epochs_across_requests(client, decay, expected):
    body = {**MOONS, "lr": 0.1, "decay": decay, "decay_rate": 0.5, "decay_interval": 2, "batch_size": None}
    one, many = create(client, **body), create(client, **body)
    assert one["learning_rate"] == pytest.approx(expected(0))
    rates = []
    for epochs in (1, 2, 3):
        rates.append(step(client, many["id"], epochs)["learning_rate"])
    assert rates == pytest.approx([expected(1), expected(3), expected(6)])
    assert step(client, one["id"], 6)["learning_rate"] == pytest.approx(expected(6))
    a, b = client.get(f"/api/playground/{one['id']}").json(), client.get(f"/api/playground/{many['id']}").json()
    assert a["history"] == b["history"]
    # the rate of the last epoch trained is the one the optimizer used
    assert session_of(client, many["id"]).optimizer.learning_rate == pytest.approx(expected(5))


def test_a_decay_preset_recreates_the_courses_schedule(client):
    name = next(run.name for run in COURSE_RUNS if run.schedule and run.schedule.get("staircase"))
    state = create(client, preset=name)
    assert (state["spec"]["decay"], state["spec"]["decay_rate"], state["spec"]["decay_interval"]) == \
        ("interval", 1.0, 1000)
    assert state["learning_rate"] == playground.PRESETS[name].learning_rate


def test_zeros_init_keeps_the_hidden_units_identical(client):
    """Ng course 2 week 1: zero weights never break the symmetry; every unit of a layer stays the same."""
    state = create(client, **{**MOONS, "init": "zeros", "activation": "sigmoid", "layers": [5, 4], "lr": 1.0})
    step(client, state["id"], 30)
    layers = [layer for layer in session_of(client, state["id"]).network.layers if "W" in layer.params]
    first, second = layers[0].params["W"], layers[1].params["W"]
    assert np.abs(first).max() > 0 and np.abs(second).max() > 0  # they learned something...
    np.testing.assert_array_equal(first, np.repeat(first[:, :1], 5, axis=1))  # ...the same for every unit
    np.testing.assert_array_equal(second, np.repeat(second[:1, :], 5, axis=0))
    np.testing.assert_array_equal(second, np.repeat(second[:, :1], 4, axis=1))


@pytest.mark.parametrize("name", list(playground.PRESETS))
def test_course_presets_load_and_step(client, name):
    run = playground.PRESETS[name]
    state = create(client, preset=name)
    spec = state["spec"]
    assert (spec["dataset"], spec["layers"], spec["activation"], spec["init"], spec["optimizer"]) == \
        (run.dataset, list(run.sizes[1:-1]), run.activation, run.init, run.optimizer)
    assert (spec["lr"], spec["l2"], spec["dropout"], spec["epochs"]) == (run.learning_rate, run.l2, run.keep_prob,
                                                                          run.epochs)
    assert state["network"]["sizes"] == list(run.sizes)
    assert state["batch_size"] == (run.batch_size or state["data"]["n_train"])
    assert state["preset"]["published_train"] == run.published_train
    assert state["data"]["test_is_train"] == (run.dataset in ("course_flower", "course_moons"))
    after = step(client, state["id"], 3)
    assert after["epoch"] == 3 and after["status"] == "ready"
    assert all(v is not None for v in after["history"]["loss"])


def test_a_preset_can_be_changed_field_by_field(client):
    state = create(client, preset="moons: Adam", lr=0.01, batch_norm=True)
    assert state["spec"]["optimizer"] == "adam" and state["spec"]["lr"] == 0.01 and state["spec"]["batch_norm"]
    assert "BatchNorm" in state["network"]["summary"]


def test_more_classes_get_one_channel_each(client):
    state = step(client, create(client, dataset="spiral", classes=3, layers=[8], n_samples=150)["id"], 2)
    assert grid(state).shape == (playground.GRID, playground.GRID, 3)
    assert state["gradients"]["layers"][-1] == "1: Dense(3, softmax)"


# --------------------------------------------------------------------------------------- limits
def test_a_session_stops_at_its_epochs(client):
    sid = create(client, **MOONS, epochs=4)["id"]
    assert step(client, sid, 10)["epoch"] == 4
    assert client.get(f"/api/playground/{sid}").json()["status"] == "done"
    refused = client.post(f"/api/playground/{sid}/step", json={"epochs": 1})
    assert refused.status_code == 409 and "trained its 4 epochs" in refused.json()["error"]
    assert client.post(f"/api/playground/{sid}/reset").json()["status"] == "ready"


def test_a_step_ends_after_its_time(client, monkeypatch):
    monkeypatch.setattr(playground, "STEP_SECONDS", 0.0)
    state = step(client, create(client, **MOONS)["id"], 1000)
    assert state["epoch"] == 1  # the deadline passed during the first epoch


def test_the_least_recently_used_session_is_dropped(client):
    client.app.state.playground.max_sessions = 2
    first, second = create(client, **MOONS)["id"], create(client, **MOONS)["id"]
    client.get(f"/api/playground/{first}")  # used: now the second is the oldest
    create(client, **MOONS)
    assert client.get(f"/api/playground/{first}").status_code == 200
    gone = client.get(f"/api/playground/{second}")
    assert gone.status_code == 404 and "least recently used" in gone.json()["error"]


def test_a_diverged_session_says_so_and_refuses_steps(client):
    body = {"init": "scaled_normal", "activation": "relu", "layers": [64] * 8, "lr": 10, "optimizer": "sgd"}
    state = step(client, create(client, **body)["id"], 5)
    assert state["status"] == "diverged" and state["epoch"] == 0 and "Try a smaller learning rate" in state["message"]
    refused = client.post(f"/api/playground/{state['id']}/step", json={"epochs": 1})
    assert refused.status_code == 409 and "diverged" in refused.json()["error"]


def test_too_many_training_steps_at_once_are_429(client, monkeypatch):
    monkeypatch.setattr(playground, "BUSY_WAIT_S", 0.0)
    sid = create(client, **MOONS)["id"]
    slots = client.app.state.playground.training
    for _ in range(playground.MAX_TRAINING):  # every training slot taken by another session's step
        assert slots.acquire(blocking=False)
    try:
        busy = client.post(f"/api/playground/{sid}/step", json={"epochs": 1})
    finally:
        for _ in range(playground.MAX_TRAINING):
            slots.release()
    assert busy.status_code == 429 and "try again" in busy.json()["error"]
    assert step(client, sid, 1)["epoch"] == 1


def test_gradient_samples_are_thinned_keeping_the_newest(client, monkeypatch):
    monkeypatch.setattr(playground, "MAX_GRADIENT_SAMPLES", 4)
    sid = create(client, **MOONS)["id"]
    for _ in range(6):
        step(client, sid, 1)
    gradients = client.get(f"/api/playground/{sid}").json()["gradients"]
    assert len(gradients["epoch"]) <= 4 and gradients["epoch"][-1] == 6
    assert gradients["epoch"] == sorted(gradients["epoch"]) and len(gradients["norm"]) == len(gradients["epoch"])


def test_a_session_takes_one_step_at_a_time(client):
    sid = create(client, **MOONS)["id"]
    with session_of(client, sid).lock:  # a step of this session is running
        for path in (f"/api/playground/{sid}/step", f"/api/playground/{sid}/reset"):
            busy = client.post(path, json={"epochs": 1} if path.endswith("step") else None)
            assert busy.status_code == 409 and "training" in busy.json()["error"]


# --------------------------------------------------------------------------------------- bad requests
BAD = [
    ({"colour": "red"}, "unknown field 'colour'"),
    ({"dataset": "mnist"}, "dataset must be one of circles"),
    ({"noise": -0.1}, "noise must be between 0 and 1"),
    ({"noise": "loud"}, "noise must be a finite number"),
    ({"n_samples": 10}, "n_samples must be between 20 and 2000"),
    ({"n_samples": 100_000}, "n_samples must be between 20 and 2000"),
    ({"n_samples": 100.5}, "n_samples must be a whole number"),
    ({"test_fraction": 0.99}, "test_fraction must be between"),
    ({"classes": 3}, "classes may exceed 2 for spiral and gaussian only; circles has 2, got 3"),
    ({"classes": 9, "dataset": "spiral"}, "classes must be between 2 and 4"),
    ({"dataset": "course_moons", "n_samples": 100}, "n_samples does not apply to course_moons"),
    ({"seed": -1}, "seed must be between 0 and"),
    ({"layers": "4,2"}, "layers must be a list of at most 8"),
    ({"layers": [4] * 9}, "layers must be a list of at most 8"),
    ({"layers": [4, 65]}, "layers[1] must be a whole number of units from 1 to 64"),
    ({"layers": [4, True]}, "layers[1] must be a whole number"),
    ({"activation": "softmax"}, "activation must be one of"),
    ({"init": "ones"}, "init must be one of"),
    ({"optimizer": "lbfgs"}, "optimizer must be one of"),
    ({"lr": 0}, "lr must be between"),
    ({"lr": float("inf")}, "the body holds Infinity, which is not JSON: numbers must be finite"),
    ({"lr": "fast"}, "lr must be a finite number"),
    ({"l2": -1}, "l2 must be between 0 and 100"),
    ({"decay": "cosine"}, "decay must be null (a constant learning rate) or one of epoch, interval"),
    ({"decay": "epoch", "decay_rate": -1}, "decay_rate must be between 0 and 100"),
    ({"decay": "interval", "decay_interval": 0}, "decay_interval must be"),
    ({"dropout": 0}, "dropout must be between 0.05 and 1"),
    ({"dropout": 0.5, "layers": []}, "dropout applies to hidden layers, and layers has none"),
    ({"batch_norm": "yes"}, "batch_norm must be true or false"),
    ({"batch_size": 0}, "batch_size must be between 1 and 2000"),
    ({"epochs": 0}, "epochs must be between 1 and 50000"),
    ({"momentum": 0.9, "optimizer": "adam"}, "'momentum' in the request applies to the momentum and nesterov"),
    ({"momentum": 1.5, "optimizer": "momentum"}, "momentum must be between 0 and 0.999"),
    ({"preset": "circles: ones init"}, "preset must be one of"),
    ({"preset": ["circles: He init"]}, "preset must be one of"),
    ({"dataset": {"name": "moons"}}, "dataset must be one of"),
]


@pytest.mark.parametrize(("body", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_settings_are_400_with_one_line(client, body, message):
    response = client.post("/api/playground", content=_json(body), headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert message in error and "\n" not in error


def _json(body: dict) -> str:
    import json

    return json.dumps(body)  # allows Infinity, which a hostile client can send


@pytest.mark.parametrize(("raw", "message"), [("[1, 2]", "must be a JSON object"), ("{oops", "not valid JSON")])
def test_bodies_that_are_not_objects_are_400(client, raw, message):
    response = client.post("/api/playground", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and message in response.json()["error"]


@pytest.mark.parametrize(("body", "message"), [
    ({"epochs": 0}, "epochs must be between 1 and 1000"),
    ({"epochs": 1001}, "epochs must be between 1 and 1000"),
    ({"epochs": "5"}, "epochs must be a whole number"),
    ({"epochs": 1, "lr": 3}, "unknown field 'lr'"),
])
def test_bad_steps_are_400(client, body, message):
    sid = create(client, **MOONS)["id"]
    response = client.post(f"/api/playground/{sid}/step", json=body)
    assert response.status_code == 400 and message in response.json()["error"]


@pytest.mark.parametrize("since", ["abc", "-2", "1.5", "9999999999"])
def test_bad_since_is_400(client, since):
    sid = create(client, **MOONS)["id"]
    response = client.get(f"/api/playground/{sid}?since={since}")
    assert response.status_code == 400 and "since must be" in response.json()["error"]


@pytest.mark.parametrize(("method", "path"), [("GET", ""), ("POST", "/step"), ("POST", "/reset"), ("DELETE", "")])
def test_unknown_sessions_are_404(client, method, path):
    response = client.request(method, f"/api/playground/feedfacecafe{path}", json={"epochs": 1})
    assert response.status_code == 404 and "no playground session 'feedfacecafe'" in response.json()["error"]


def test_random_hostile_settings_never_give_a_server_error(client):
    """Every field gets values of every JSON type; the answer is a session or a one-line 400, never a 500."""
    rng = np.random.default_rng(0)
    values = [None, True, False, -1, 0, 1, 3, 64, 65, 2**40, -0.5, 0.5, 1e308, "", "moons", "zeros", "adam",
              [], [4, 2], [[1]], {}, {"a": 1}]
    for _ in range(150):
        keys = rng.choice(playground.FIELDS, size=rng.integers(1, 4), replace=False)
        body = {str(k): values[rng.integers(len(values))] for k in keys}
        response = client.post("/api/playground", json=body)
        assert response.status_code in (201, 400), (body, response.text)
        if response.status_code == 400:
            assert "\n" not in response.json()["error"]
