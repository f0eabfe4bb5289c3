"""HTTP tests of the computation graph page of ``mlpkit serve``: GET /graph and POST /api/graph."""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the web extra (starlette) is not installed")
with warnings.catch_warnings():  # newer Starlette prefers the httpx2 package and warns about httpx
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from mlpkit.web.app import create_app

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with TestClient(create_app(upload_dir=tmp_path_factory.mktemp("uploads")), base_url="http://127.0.0.1") as c:
        yield c


def test_page_is_served(client):
    response = client.get("/graph")
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert "/static/graph.js" in response.text and "/static/nav.js" in response.text
    assert client.get("/static/graph.js").status_code == 200


def test_two_layer_graph_nodes_steps_and_shapes(client):
    response = client.post("/api/graph", json={"n_x": 3, "n_h": 5, "m": 4, "seed": 7})
    assert response.status_code == 200
    data = response.json()
    assert data["settings"] == {"example": "two-layer", "n_x": 3, "n_h": 5, "m": 4, "seed": 7}
    nodes = {n["name"]: n for n in data["nodes"]}
    shapes = {name: tuple(n["shape"]) for name, n in nodes.items()}
    assert shapes == {"X": (3, 4), "Y": (1, 4), "W1": (5, 3), "b1": (5, 1), "Z1": (5, 4), "A1": (5, 4),
                      "W2": (1, 5), "b2": (1, 1), "Z2": (1, 4), "A2": (1, 4), "J": ()}
    for node in data["nodes"]:  # every value and gradient has its node's shape
        assert np.shape(node["value"]) == tuple(node["shape"])
        if node["grad"] is not None:
            assert np.shape(node["grad"]) == tuple(node["shape"])
            np.testing.assert_allclose(node["grad"], node["closed_form"], rtol=1e-10, atol=1e-14)
    assert nodes["X"]["grad"] is None and nodes["Y"]["grad"] is None
    assert nodes["Z1"]["formula"]["shapes"] == "W1 (5, 3) · X (3, 4) + b1 (5, 1) → Z1 (5, 4)"
    assert nodes["Z1"]["parents"] == ["W1", "X", "b1"]
    # forward: every node once, after its parents; backward: the lecture's order
    key_name = {n["key"]: n["name"] for n in data["nodes"]}
    forward = [key_name[k] for k in data["forward"]]
    assert forward == [n["name"] for n in data["nodes"]]
    for node in data["nodes"]:
        assert all(forward.index(p) < forward.index(node["name"]) for p in node["parents"])
    assert [key_name[k] for k in data["backward"]] == ["J", "A2", "Z2", "W2", "b2", "A1", "Z1", "W1", "b1"]
    root = ET.fromstring(data["svg"])
    drawn = {g.get("data-key") for g in root.iter(f"{SVG}g") if g.get("data-key")}
    assert drawn == set(key_name)


def test_logistic_example(client):
    data = client.post("/api/graph", json={"example": "logistic", "n_x": 4}).json()
    assert {n["name"] for n in data["nodes"]} == {"x", "y", "w", "b", "z", "a", "L"}
    a = next(n for n in data["nodes"] if n["name"] == "a")
    assert a["formula"]["backward"] == "da = −y/a + (1−y)/(1−a)"


def test_same_settings_same_numbers(client):
    first = client.post("/api/graph", json={"seed": 3}).json()
    second = client.post("/api/graph", json={"seed": 3}).json()
    assert first == second
    assert client.post("/api/graph", json={"seed": 4}).json()["nodes"] != first["nodes"]


@pytest.mark.parametrize(("body", "message"), [
    ({"n_x": 0}, "n_x must be between 1 and 6"),
    ({"n_x": 7}, "n_x must be between 1 and 6"),
    ({"n_h": 9}, "n_h must be between 1 and 8"),
    ({"m": 1000000}, "m must be between 1 and 8"),
    ({"m": 2.5}, "m must be a whole number"),
    ({"n_h": "4"}, "n_h must be a whole number"),
    ({"n_x": True}, "n_x must be a whole number"),
    ({"seed": -1}, "seed must be between 0 and"),
    ({"seed": 2**40}, "seed must be between 0 and"),
    ({"seed": None}, "seed must be a whole number"),
    ({"example": "three-layer"}, "example must be one of two-layer, logistic"),
    ({"example": ["two-layer"]}, "example must be one of"),
    ({"layers": [2, 4, 1]}, "unknown field 'layers'"),
])
def test_bad_settings_are_400_with_a_message(client, body, message):
    response = client.post("/api/graph", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_bad_bodies_are_400(client):
    for raw in (b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"):
        response = client.post("/api/graph", content=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and response.json()["error"]
    assert client.post("/api/graph", content=b"{" + b" " * (3 * 1024 * 1024) + b"}",
                       headers={"Content-Type": "application/json"}).status_code == 413
    assert client.get("/api/graph").status_code == 405
