"""Hostile requests to ``mlpkit serve``, each built on the fly: every one gets its 4xx and a one-line message.

Classes (the ids start with the class): ``site`` (cross-site requests and DNS rebinding: Host, Origin,
Sec-Fetch-Site, Content-Type), ``token`` (a server off loopback), ``json`` (malformed and outsized bodies on
every JSON endpoint), ``ids`` (event numbers, ids and query values), ``upload`` (corrupt and outsized model
files), ``limits`` (work and memory bounds). A property test posts arbitrary JSON and bytes to every endpoint
and never sees a 5xx. The load test runs ``mlpkit serve`` in a subprocess: ten runs, concurrent requests and
event streams, its memory measured before and after.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the web extra (starlette) is not installed")
with warnings.catch_warnings():  # newer Starlette prefers the httpx2 package and warns about httpx
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

import mlpkit
import mlpkit.datasets
from cli_runner import error as cli_error
from mlpkit.web import app as app_module
from mlpkit.web import models as models_module
from mlpkit.web import runs as runs_module
from mlpkit.web._requests import MAX_INT_DIGITS, MAX_JSON_DEPTH
from mlpkit.web.app import MAX_STREAMS, create_app

PORT = 8000
BASE = f"http://127.0.0.1:{PORT}"
JSON = {"Content-Type": "application/json"}
RAW = {"Content-Type": "application/octet-stream"}
TOKEN = "s3cret-token-for-tests"


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("models")
    mlpkit.Network([64, 8, 10], seed=0).save(directory / "digits.mlpk")
    return directory / "digits.mlpk"


@pytest.fixture(scope="module")
def client(model_file, tmp_path_factory):
    """A loopback server on port 8000 (as ``mlpkit serve`` makes it) with one model, one attached run and one
    playground session; its runs never train (the checks before training are what is attacked here)."""
    app = create_app(models_dir=model_file.parent, upload_dir=tmp_path_factory.mktemp("uploads"),
                     runs_dir=tmp_path_factory.mktemp("runs"), port=PORT, max_upload=256 * 1024)
    with TestClient(app, base_url=BASE) as c:
        c.run_id = c.post("/api/runs/attach", json={"name": "target", "epochs": 5}).json()["id"]
        c.session_id = c.post("/api/playground", json={"n_samples": 40, "layers": [2]}).json()["id"]
        c.model_id = c.get("/api/models").json()["models"][0]["id"]
        yield c


def one_line_error(response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    message = body["error"]
    assert isinstance(message, str) and message and "\n" not in message and len(message) < 600, message
    return message


# ------------------------------------------------------------------------------------------ the cases
def _deep(depth: int) -> bytes:
    return b'{"epochs": ' + b"[" * depth + b"]" * depth + b"}"


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _bomb() -> bytes:
    """A model-shaped zip whose arrays.npz declares 200 MB of zeros (a few hundred kB compressed)."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as npz:
        with npz.open("W.npy", "w", force_zip64=True) as entry:
            chunk = bytes(1 << 20)
            for _ in range(200):
                entry.write(chunk)
    return _zip({"config.json": b"{}", "arrays.npz": inner.getvalue()}, zipfile.ZIP_STORED)


def _corrupt_crc(data: bytes) -> bytes:
    """``data`` (a zip) with one byte of its first member's compressed data flipped."""
    spoiled = bytearray(data)
    spoiled[60] ^= 0xFF
    return bytes(spoiled)


# (class-name, method, path, headers, body, status, a fragment of the message); "{run}", "{session}" and
# "{model}" in a path or body are the fixture's ids
Case = tuple[str, str, str, dict[str, str], bytes | None, int, str]
SITE: list[Case] = [
    ("site-simple-post-text-plain", "POST", "/api/runs", {"Content-Type": "text/plain"}, b'{"epochs": 1}', 415,
     "Content-Type must be application/json"),
    ("site-simple-post-foreign-origin", "POST", "/api/runs",
     {"Content-Type": "text/plain", "Origin": "http://evil.example"}, b'{"epochs": 1}', 403, "refused"),
    ("site-form-urlencoded", "POST", "/api/runs", {"Content-Type": "application/x-www-form-urlencoded"},
     b"epochs=1", 415, "Content-Type must be application/json"),
    ("site-multipart", "POST", "/api/runs", {"Content-Type": "multipart/form-data; boundary=x"},
     b"--x\r\n\r\n{}\r\n--x--", 415, "Content-Type"),
    ("site-no-content-type-with-body", "POST", "/api/neuron", {}, b'{"w": 1}', 415, "must say Content-Type"),
    ("site-upload-as-json", "POST", "/api/models", JSON, b"{}", 415, "application/octet-stream"),
    ("site-stop-from-foreign-origin", "POST", "/api/runs/{run}/stop", {"Origin": "http://evil.example"}, None,
     403, "refused"),
    ("site-origin-null", "POST", "/api/neuron", {**JSON, "Origin": "null"}, b"{}", 403, "refused"),
    ("site-origin-other-port", "POST", "/api/neuron", {**JSON, "Origin": "http://127.0.0.1:3000"}, b"{}", 403,
     "refused"),
    ("site-origin-other-scheme", "POST", "/api/neuron", {**JSON, "Origin": "ftp://127.0.0.1:8000"}, b"{}", 403,
     "refused"),
    ("site-origin-garbage", "POST", "/api/neuron", {**JSON, "Origin": "http://[::1"}, b"{}", 403, "refused"),
    ("site-fetch-cross-site", "GET", "/api/runs", {"Sec-Fetch-Site": "cross-site"}, None, 403, "own pages"),
    ("site-fetch-same-site", "GET", "/api/runs/{run}/events", {"Sec-Fetch-Site": "same-site"}, None, 403,
     "own pages"),
    ("site-rebinding-host", "GET", "/api/runs", {"Host": f"evil.example:{PORT}"}, None, 400, "answers to"),
    ("site-rebinding-host-post", "POST", "/api/runs", {**JSON, "Host": f"attacker.test:{PORT}"}, b"{}", 400,
     "answers to"),
    ("site-rebinding-subdomain", "GET", "/", {"Host": f"127.0.0.1.nip.io:{PORT}"}, None, 400, "answers to"),
    ("site-host-other-port", "GET", "/api/runs", {"Host": "127.0.0.1:9999"}, None, 400, "port 8000"),
    ("site-host-no-port", "GET", "/api/runs", {"Host": "localhost"}, None, 400, "port 8000"),
    ("site-host-garbage", "GET", "/api/runs", {"Host": "a:b:c"}, None, 400, "not a host name"),
    ("site-host-empty", "GET", "/api/runs", {"Host": ""}, None, 400, "not a host name"),
]

JSON_ENDPOINTS = ["/api/neuron", "/api/graph", "/api/predict", "/api/runs", "/api/runs/attach",
                  "/api/runs/{run}/events", "/api/playground", "/api/playground/{session}/step"]
BODIES: list[tuple[str, bytes, int, str]] = [
    ("400-digit-int", b'{"epochs": ' + b"9" * 400 + b"}", 400, "digits"),
    ("5000-digit-int", b'{"epochs": ' + b"9" * 5000 + b"}", 400, "digits"),
    ("19-digit-int", b'{"epochs": -' + b"1" * (MAX_INT_DIGITS + 1) + b"}", 400, "digits"),
    ("100k-deep", _deep(100_000), 400, "nests"),
    ("just-too-deep", _deep(MAX_JSON_DEPTH), 400, "nests"),
    ("nan", b'{"epochs": NaN}', 400, "NaN"),
    ("infinity", b'{"epochs": -Infinity}', 400, "Infinity"),
    ("1e400", b'{"epochs": 1e400}', 400, "finite double"),
    ("long-float", b'{"epochs": 0.' + b"1" * 5000 + b"}", 400, "finite double"),
    ("lone-surrogate-value", b'{"name": "\\ud800"}', 400, "not Unicode"),
    ("lone-surrogate-key", b'{"\\udfff": 1}', 400, "not Unicode"),
    ("invalid-utf8", b'{"name": "\xff\xfe"}', 400, "not valid JSON"),
    ("truncated", b'{"epochs": 1', 400, "not valid JSON"),
    ("array", b"[1, 2]", 400, "must be a JSON object"),
    ("string", b'"x"', 400, "must be a JSON object"),
    ("null", b"null", 400, "must be a JSON object"),
    ("nul-bytes", b"\x00" * 64, 400, "not valid JSON"),
    ("over-2mb", b'{"a": "' + b"x" * (2 * 1024 * 1024 + 10) + b'"}', 413, "limit"),
]
JSON_CASES: list[Case] = [(f"json-{name}-{path.strip('/').replace('/', '-')}", "POST", path, JSON, body, status,
                           fragment) for path in JSON_ENDPOINTS for name, body, status, fragment in BODIES]
# wrong values that reach the handlers' own checks
JSON_CASES += [
    ("json-neuron-bool-epochs", "POST", "/api/neuron", JSON, b'{"epochs": true}', 400, "whole number"),
    ("json-neuron-list-w", "POST", "/api/neuron", JSON, b'{"w": [1]}', 400, "finite number"),
    ("json-neuron-18-digits", "POST", "/api/neuron", JSON, b'{"w": 999999999999999999}', 400, "between"),
    ("json-graph-object-example", "POST", "/api/graph", JSON, b'{"example": {"a": 1}}', 400, "example must be"),
    ("json-predict-ragged", "POST", "/api/predict", JSON, b'{"model": "{model}", "pixels": [[0], [0, 1]]}', 400,
     "rectangular"),
    ("json-predict-strings", "POST", "/api/predict", JSON, b'{"model": "{model}", "pixels": [["a"]]}', 400,
     "numbers only"),
    ("json-predict-huge-side", "POST", "/api/predict", JSON,
     b'{"model": "{model}", "pixels": [' + b",".join([b"[0]"] * 1025) + b"]}", 400, "at most"),
    ("json-predict-no-model", "POST", "/api/predict", JSON, b'{"model": ["x"], "pixels": [[0]]}', 404, "no model"),
    ("json-runs-huge-layers", "POST", "/api/runs", JSON, b'{"dataset": "mnist", "layers": "auto,4000,4000,auto"}',
     400, "weights and biases"),
    ("json-runs-wide-layer", "POST", "/api/runs", JSON, b'{"layers": [64, 5000, 10]}', 400, "units a layer"),
    ("json-runs-deep", "POST", "/api/runs", JSON, b'{"layers": [64' + b", 4" * 13 + b", 10]}", 400, "layers"),
    ("json-runs-epochs-int-max", "POST", "/api/runs", JSON, b'{"epochs": 999999999999999999}', 400, "epochs"),
    ("json-runs-unknown-key", "POST", "/api/runs", JSON, b'{"rm -rf": 1}', 400, "unknown setting"),
    ("json-runs-nested-setting", "POST", "/api/runs", JSON, b'{"lr": {"a": [1, 2]}}', 400, "lr"),
    ("json-attach-epochs-huge", "POST", "/api/runs/attach", JSON, b'{"epochs": 999999999999999999}', 400,
     "epochs must be"),
    ("json-attach-name-object", "POST", "/api/runs/attach", JSON, b'{"epochs": 1, "name": {}}', 400, "name must"),
    ("json-event-bad-type", "POST", "/api/runs/{run}/events", JSON, b'{"type": ["epoch"]}', 400, "type must"),
    ("json-event-logs-not-object", "POST", "/api/runs/{run}/events", JSON, b'{"type": "epoch", "epoch": 1, '
     b'"logs": [1]}', 400, "logs must"),
    ("json-event-bad-image", "POST", "/api/runs/{run}/events", JSON, b'{"type": "epoch", "epoch": 1, '
     b'"misclassified": {"shape": [2, 2], "images": [{"predicted": 1, "true": 2, "pixels": "!!"}]}}', 400,
     "base64"),
    ("json-step-epochs-float", "POST", "/api/playground/{session}/step", JSON, b'{"epochs": 1.5}', 400,
     "whole number"),
    ("json-playground-layers-huge", "POST", "/api/playground", JSON, b'{"layers": [100000]}', 400, "layers[0]"),
]

LONG = "9" * 5000
IDS: list[Case] = [
    ("ids-last-event-id-5000-digits", "GET", "/api/runs/{run}/events", {"Last-Event-ID": LONG}, None, 400,
     "Last-Event-ID must be an event number"),
    ("ids-last-event-id-superscript", "GET", "/api/runs/{run}/events", {"Last-Event-ID": "²"}, None, 400,
     "Last-Event-ID must be"),
    ("ids-last-event-id-arabic-digit", "GET", "/api/runs/{run}/events", {"Last-Event-ID": "٣"}, None, 400,
     "Last-Event-ID must be"),
    ("ids-last-event-id-negative", "GET", "/api/runs/{run}/events", {"Last-Event-ID": "-1"}, None, 400,
     "Last-Event-ID must be"),
    ("ids-last-event-id-float", "GET", "/api/runs/{run}/events", {"Last-Event-ID": "1e3"}, None, 400,
     "Last-Event-ID must be"),
    ("ids-from-5000-digits", "GET", f"/api/runs/{{run}}/events?from={LONG}", {}, None, 400, "from must be"),
    ("ids-from-superscript", "GET", "/api/runs/{run}/events?from=%C2%B2", {}, None, 400, "from must be"),
    ("ids-since-superscript", "GET", "/api/playground/{session}?since=%C2%B2", {}, None, 400, "since must be"),
    ("ids-since-5000-digits", "GET", f"/api/playground/{{session}}?since={LONG}", {}, None, 400, "since must be"),
    ("ids-since-minus-two", "GET", "/api/playground/{session}?since=-2", {}, None, 400, "since must be"),
    ("ids-run-long", "GET", f"/api/runs/{'x' * 10_000}", {}, None, 404, "no run"),
    ("ids-run-percent-nul", "GET", "/api/runs/%00", {}, None, 404, "no run"),
    ("ids-run-invalid-utf8", "GET", "/api/runs/%ff%fe", {}, None, 404, "no run"),
    ("ids-run-traversal", "GET", "/api/runs/..%2F..%2Fetc", {}, None, 404, "Not Found"),
    ("ids-stop-unknown", "POST", "/api/runs/nope/stop", {}, None, 404, "no run"),
    ("ids-events-unknown", "POST", "/api/runs/nope/events", JSON, b"{}", 404, "no run"),
    ("ids-session-unknown", "POST", "/api/playground/nope/step", JSON, b"{}", 404, "no playground session"),
    ("ids-delete-unknown", "DELETE", "/api/playground/nope", {}, None, 404, "no playground session"),
    ("ids-unknown-path", "GET", "/api/nothing", {}, None, 404, "Not Found"),
    ("ids-wrong-method", "PUT", "/api/runs", JSON, b"{}", 405, "Method Not Allowed"),
    ("ids-server-run-takes-no-events", "POST", "/api/runs/{run}/events", JSON, b'{"type": "nothing"}', 400,
     "type must"),
]

UPLOADS: list[Case] = [
    ("upload-random-bytes", "POST", "/api/models", RAW, os.urandom(2000), 400, "not a usable mlpkit model file"),
    ("upload-zip-header-only", "POST", "/api/models", RAW, b"PK\x03\x04" + bytes(100), 400, "not a usable"),
    ("upload-empty-zip", "POST", "/api/models", RAW, _zip({}), 400, "not a usable"),
    ("upload-wrong-entries", "POST", "/api/models", RAW, _zip({"evil.py": b"import os"}), 400, "not a usable"),
    ("upload-config-not-json", "POST", "/api/models", RAW, _zip({"config.json": b"\xff", "arrays.npz": b"x"}), 400,
     "not a usable"),
    ("upload-arrays-not-npz", "POST", "/api/models", RAW,
     _zip({"config.json": b'{"format": "mlpkit-model"}', "arrays.npz": b"not a zip"}), 400, "not a usable"),
    ("upload-corrupt-crc", "POST", "/api/models", RAW,
     _corrupt_crc(_zip({"arrays.npz": b"A" * 5000, "config.json": b"{}"})), 400, "not a usable"),
    ("upload-zip-bomb", "POST", "/api/models", RAW, _bomb(), 400, "unpack to more than"),
    ("upload-empty", "POST", "/api/models", RAW, b"", 400, "empty"),
    ("upload-over-limit", "POST", "/api/models", RAW, b"0" * (256 * 1024 + 1), 413, "limit"),
]


def _model_cases(model_file: Path) -> list[Case]:
    """Uploads made from a real model file: truncated, and with its config swapped for a huge network."""
    data = model_file.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(parts["config.json"])
    config["network"]["layers"][0]["n_out"] = 4_000_000
    huge = _zip({**parts, "config.json": json.dumps(config).encode()})
    return [("upload-truncated-model", "POST", "/api/models", RAW, data[: len(data) // 2], 400, "not a usable"),
            ("upload-huge-config", "POST", "/api/models", RAW, huge, 400, "not a usable")]


ALL = SITE + JSON_CASES + IDS + UPLOADS


def _send(client, case: Case):
    _, method, path, headers, body, _, _ = case
    ids = {"{run}": client.run_id, "{session}": client.session_id, "{model}": client.model_id}
    for key, value in ids.items():
        path = path.replace(key, value)
        body = body.replace(key.encode(), value.encode()) if body is not None else None
    raw_headers = {k: v.encode("utf-8") for k, v in headers.items()}  # as sent on the wire: any bytes
    return client.request(method, path, headers=raw_headers, content=body)


@pytest.mark.parametrize("case", ALL, ids=[c[0] for c in ALL])
def test_hostile_request_gets_its_4xx_and_one_line(client, case):
    response = _send(client, case)
    assert response.status_code == case[5], response.text[:300]
    assert case[6] in one_line_error(response)


def test_hostile_uploads_from_a_real_model(client, model_file):
    for case in _model_cases(model_file):
        response = _send(client, case)
        assert response.status_code == case[5], (case[0], response.text[:300])
        assert case[6] in one_line_error(response)


def test_nothing_hostile_started_a_run_or_stored_a_file(client):
    """After every case above (module order): still only the attached target run, no stored upload."""
    runs = client.get("/api/runs").json()["runs"]
    assert [r["id"] for r in runs] == [client.run_id]
    assert not any(m["source"] == "upload" for m in client.get("/api/models").json()["models"])
    assert list(client.app.state.models.upload_dir.glob("*")) == []


def test_the_servers_own_pages_still_work(client):
    """What the page does is not refused: same Origin, JSON, localhost or 127.0.0.1, a stop without a body."""
    ok = client.post("/api/neuron", json={"epochs": 3}, headers={"Origin": BASE, "Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 200
    assert ok.headers["x-frame-options"] == "DENY" and ok.headers["x-content-type-options"] == "nosniff"
    assert client.get("/api/options", headers={"Host": f"localhost:{PORT}"}).status_code == 200
    assert client.get("/api/options", headers={"Host": f"[::1]:{PORT}"}).status_code == 200
    assert client.post(f"/api/runs/{client.run_id}/stop", headers={"Origin": BASE}).status_code == 200
    page = client.get("/dashboard", headers={"Sec-Fetch-Site": "cross-site"})  # a link from elsewhere opens it
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


# ------------------------------------------------------------------------------------------ token
@pytest.fixture(scope="module")
def exposed(tmp_path_factory):
    """A server bound to all interfaces with a token, as ``mlpkit serve --host 0.0.0.0`` makes it."""
    app = create_app(upload_dir=tmp_path_factory.mktemp("uploads"), host="0.0.0.0", port=PORT, token=TOKEN)
    with TestClient(app, base_url=f"http://192.168.1.20:{PORT}") as c:
        yield c


TOKEN_CASES = [
    ("token-missing-api", "GET", "/api/runs", {}, 401),
    ("token-missing-page", "GET", "/dashboard", {}, 401),
    ("token-missing-post", "POST", "/api/runs", JSON, 401),
    ("token-wrong-bearer", "GET", "/api/runs", {"Authorization": f"Bearer {TOKEN}x"}, 401),
    ("token-wrong-scheme", "GET", "/api/runs", {"Authorization": f"Basic {TOKEN}"}, 401),
    ("token-wrong-cookie", "GET", "/api/runs", {"Cookie": "mlpkit_token=guess"}, 401),
    ("token-broken-cookie", "GET", "/api/runs", {"Cookie": 'mlpkit_token="\\x'}, 401),
    ("token-empty-query", "GET", "/api/runs?token=", {}, 401),
    ("token-non-ascii", "GET", "/api/runs", {"Authorization": "Bearer \u00e9"}, 401),
]


@pytest.mark.parametrize("case", TOKEN_CASES, ids=[c[0] for c in TOKEN_CASES])
def test_token_is_required_off_loopback(exposed, case):
    _, method, path, headers, status = case
    response = exposed.request(method, path, headers={k: v.encode() if k == "Authorization" else v
                                                      for k, v in headers.items()})
    assert response.status_code == status
    assert "access token" in one_line_error(response)


def test_the_token_opens_the_server(exposed):
    assert exposed.get("/api/runs", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert exposed.get(f"/api/runs?token={TOKEN}").status_code == 200
    assert exposed.get("/api/health").status_code == 200 and exposed.get("/static/nav.js").status_code == 200
    # the printed address sets the cookie and drops the token from the address bar
    opened = exposed.get(f"/dashboard?run=abc&token={TOKEN}", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/dashboard?run=abc"
    cookie = opened.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert exposed.get("/api/runs", headers={"Cookie": f"mlpkit_token={TOKEN}"}).status_code == 200
    # bound to all interfaces: any Host, but the Origin must still be the server itself
    answer = exposed.post("/api/neuron", json={"epochs": 2}, headers={
        "Authorization": f"Bearer {TOKEN}", "Origin": "http://evil.example"})
    assert answer.status_code == 403


def test_serve_prints_a_token_off_loopback_only(monkeypatch, tmp_path, capsys):
    import uvicorn

    from mlpkit.cli import main

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    assert main(["serve", "--host", "0.0.0.0", "--port", "8123", "--runs", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    token = printed.split("?token=")[1].split()[0]
    assert len(token) >= 20 and "every request needs the access token" in printed
    with TestClient(seen["app"], base_url="http://10.0.0.5:8123") as c:
        assert c.get("/api/runs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with TestClient(seen["app"], base_url="http://10.0.0.5:8123") as c:
        assert c.get("/api/runs").status_code == 401
    assert seen["limit_concurrency"] and seen["host"] == "0.0.0.0"
    seen.clear()
    assert main(["serve", "--port", "8124", "--runs", str(tmp_path)]) == 0
    assert "?token=" not in capsys.readouterr().out
    with TestClient(seen["app"], base_url="http://127.0.0.1:8124") as c:
        assert c.get("/api/runs").status_code == 200
        assert c.get("/api/runs", headers={"Host": "10.0.0.5:8124"}).status_code == 400


# ------------------------------------------------------------------------------------------ --allow-host
ALLOWED = ["mybox.example", "proxy.example:443"]
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize("host, status", [
    (f"mybox.example:{PORT}", 200), (f"MyBox.Example.:{PORT}", 200), (f"127.0.0.1:{PORT}", 200),
    ("proxy.example:443", 200), ("proxy.example", 200),  # a proxy on https's port: no port in Host
    ("mybox.example:8001", 400), ("mybox.example", 400), ("proxy.example:8000", 400),
    (f"evil.example:{PORT}", 400), (f"mybox.example.evil.example:{PORT}", 400), (f"10.0.0.5:{PORT}", 400)])
def test_allow_host_adds_names_and_ports(tmp_path, host, status):
    app = create_app(upload_dir=tmp_path / "uploads", port=PORT, token=TOKEN, allow_hosts=ALLOWED)
    with TestClient(app, base_url=BASE) as c:
        answer = c.get("/api/runs", headers={"Host": host, **BEARER})
    assert answer.status_code == status
    if status == 400:
        assert "--allow-host" in one_line_error(answer) or "port" in one_line_error(answer)


def test_allow_host_on_all_interfaces_makes_them_the_only_names(tmp_path):
    app = create_app(upload_dir=tmp_path / "uploads", host="0.0.0.0", port=PORT, token=TOKEN,
                     allow_hosts=["mybox.example"])
    with TestClient(app, base_url=BASE) as c:
        for host, status in ((f"mybox.example:{PORT}", 200), (f"localhost:{PORT}", 200), (f"[::1]:{PORT}", 200),
                             (f"10.0.0.5:{PORT}", 400), (f"rebound.example:{PORT}", 400)):
            assert c.get("/api/runs", headers={"Host": host, **BEARER}).status_code == status, host
        # the Origin of a page behind the proxy is that page's own
        answer = c.post("/api/neuron", json={"epochs": 2}, headers={
            "Host": f"mybox.example:{PORT}", "Origin": f"http://mybox.example:{PORT}", **BEARER})
        assert answer.status_code == 200


@pytest.mark.parametrize("bad", ["", "a b", "*", "evil.example/", "http://x.example", "x.example:0",
                                 "x.example:70000", "x.example:port", "-x.example", "[::1", "a" * 300])
def test_a_bad_allow_host_is_one_line(tmp_path, bad):
    with pytest.raises(ValueError, match=r"--allow-host .* is not a host name or address"):
        create_app(upload_dir=tmp_path / "uploads", allow_hosts=[bad])
    assert not (tmp_path / "uploads").exists()
    line = cli_error("serve", "--allow-host", bad, "--runs", tmp_path / "runs")
    assert "--allow-host" in line


def test_serve_needs_the_token_when_an_allowed_name_is_off_loopback(monkeypatch, tmp_path, capsys):
    import uvicorn

    from mlpkit.cli import main

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    assert main(["serve", "--allow-host", "mybox.example", "--runs", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "?token=" in printed and "also answers to mybox.example" in printed
    with TestClient(seen["app"], base_url="http://mybox.example:8000") as c:
        assert c.get("/api/runs").status_code == 401
    assert main(["serve", "--allow-host", "localhost:8080", "--runs", str(tmp_path)]) == 0
    assert "?token=" not in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ limits
def test_stream_and_upload_slots_are_limited(client):
    streams = client.app.state.streams
    streams[0] += MAX_STREAMS
    try:
        response = client.get(f"/api/runs/{client.run_id}/events")
        assert response.status_code == 429 and "event streams are open" in one_line_error(response)
    finally:
        streams[0] -= MAX_STREAMS
    uploading = client.app.state.uploading
    taken = [uploading.acquire(blocking=False) for _ in range(app_module.MAX_UPLOADING)]
    try:
        response = client.post("/api/models", content=b"x", headers=RAW)
        assert response.status_code == 429 and "uploads are being checked" in one_line_error(response)
    finally:
        for _ in taken:
            uploading.release()


def test_a_stream_past_the_end_of_a_finished_run_ends(client):
    """A Last-Event-ID beyond a finished run's events does not hold a stream open forever."""
    run_id = client.post("/api/runs/attach", json={"name": "short", "epochs": 1}).json()["id"]
    client.post(f"/api/runs/{run_id}/events", json={"type": "end"})
    response = client.get(f"/api/runs/{run_id}/events", headers={"Last-Event-ID": "999999999"})
    assert response.status_code == 200 and response.text == "retry: 2000\n\n"
    assert client.app.state.streams == [0]


def test_attached_runs_are_bounded_least_recently_active_dropped(tmp_path, monkeypatch):
    monkeypatch.setattr(runs_module, "MAX_ATTACHED", 3)
    monkeypatch.setattr(runs_module, "MAX_ATTACHED_EPOCHS", 4)
    app = create_app(upload_dir=tmp_path / "uploads")
    with TestClient(app, base_url="http://127.0.0.1") as c:
        ids = [c.post("/api/runs/attach", json={"name": f"r{i}", "epochs": 9}).json()["id"] for i in range(3)]
        assert c.post(f"/api/runs/{ids[0]}/events", json={"type": "epoch", "epoch": 1}).status_code == 200
        fourth = c.post("/api/runs/attach", json={"name": "r3", "epochs": 9}).json()["id"]
        listed = [r["id"] for r in c.get("/api/runs").json()["runs"]]
        assert sorted(listed) == sorted([ids[0], ids[2], fourth])  # r1 was the quietest: dropped
        dropped = c.post(f"/api/runs/{ids[1]}/events", json={"type": "epoch", "epoch": 1})
        assert dropped.status_code == 404
        for epoch in range(2, 5):
            assert c.post(f"/api/runs/{ids[0]}/events", json={"type": "epoch", "epoch": epoch}).status_code == 200
        full = c.post(f"/api/runs/{ids[0]}/events", json={"type": "epoch", "epoch": 5})
        assert full.status_code == 409 and "keeps at most 4 epochs" in one_line_error(full)
        for i in range(20):
            c.post("/api/runs/attach", json={"name": f"more{i}", "epochs": 9})
        assert len(c.get("/api/runs").json()["runs"]) == 3


def test_only_the_latest_grid_of_misclassified_images_is_kept(client):
    run_id = client.post("/api/runs/attach", json={"name": "grids", "epochs": 5}).json()["id"]
    grid = {"shape": [2, 2], "images": [{"predicted": 1, "true": 2, "pixels": "AAAAAA=="}]}
    for epoch in (1, 2, 3):
        event = {"type": "epoch", "epoch": epoch, "misclassified": grid}
        assert client.post(f"/api/runs/{run_id}/events", json=event).status_code == 200
    events = client.get(f"/api/runs/{run_id}").json()["events"]
    assert [e["misclassified"] is not None for e in events[1:]] == [False, False, True]


def test_data_sets_are_keyed_by_what_shapes_them_and_bounded(monkeypatch):
    from mlpkit.settings import resolve

    def cfg(**values):
        return resolve({"dataset": "moons", "samples": 100, **values})

    assert runs_module.data_key(resolve({"dataset": "mnist", "seed": 1})) == \
        runs_module.data_key(resolve({"dataset": "mnist", "seed": 2}))
    assert runs_module.data_key(resolve({"seed": 1})) != runs_module.data_key(resolve({"seed": 2}))  # digits
    manager = runs_module.RunManager(models_module.ModelRegistry(None, Path(os.devnull)))
    first = manager.load_data(cfg(seed=1))
    assert manager.load_data(cfg(seed=1)) is first  # cached
    monkeypatch.setattr(runs_module, "MAX_LOADED_BYTES", runs_module.data_bytes(first) * 2 + 1)
    for seed in range(2, 8):
        manager.load_data(cfg(seed=seed))
    assert len(manager._data) == 2 and manager.loaded_bytes() <= runs_module.MAX_LOADED_BYTES


def test_uploads_and_loaded_networks_are_bounded(tmp_path, model_file, monkeypatch):
    monkeypatch.setattr(models_module, "MAX_UPLOADS", 2)
    monkeypatch.setattr(models_module, "MAX_LOADED_MODELS", 1)
    app = create_app(upload_dir=tmp_path / "uploads", models_dir=model_file.parent)
    data = model_file.read_bytes()
    with TestClient(app, base_url="http://127.0.0.1") as c:
        ids = [c.post(f"/api/models?name=m{i}.mlpk", content=data, headers=RAW).json()["id"] for i in range(4)]
        models = c.get("/api/models").json()["models"]
        assert [m["id"] for m in models if m["source"] == "upload"] == ids[2:]
        assert len(list((tmp_path / "uploads").iterdir())) == 2
        pixels = np.eye(8).tolist()  # a stroke: an empty drawing is refused
        assert c.post("/api/predict", json={"model": ids[0], "pixels": pixels}).status_code == 404
        for model_id in (ids[2], ids[3], models[0]["id"]):
            assert c.post("/api/predict", json={"model": model_id, "pixels": pixels}).status_code == 200
            assert app.state.models.loaded() == 1


@pytest.mark.slow
def test_stop_acts_within_a_mini_batch(tmp_path):
    """A run whose epochs take minutes stops within a second of the request (not at the epoch's end)."""
    app = create_app(upload_dir=tmp_path / "uploads")
    with TestClient(app, base_url="http://127.0.0.1") as c:
        run = c.post("/api/runs", json={"layers": "auto,1024,1024,auto", "batch_size": 1, "epochs": 2}).json()
        deadline = time.monotonic() + 60
        while not ((progress := c.get(f"/api/runs/{run['id']}").json()["progress"]) and progress["batches"] > 5):
            assert time.monotonic() < deadline, "the run did not start"
            time.sleep(0.05)
        asked = time.monotonic()
        c.post(f"/api/runs/{run['id']}/stop")
        while (summary := c.get(f"/api/runs/{run['id']}").json())["status"] == "running":
            assert time.monotonic() - asked < 10, "the run did not stop within 10 s"
            time.sleep(0.02)
        took = time.monotonic() - asked
    assert summary["status"] == "stopped" and summary["epoch"] == 1
    assert took < 5, f"stopping took {took:.1f} s"


# ------------------------------------------------------------------------------------------ properties
hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30)
KEYS = ["epochs", "layers", "dataset", "lr", "w", "b", "eta", "cost", "model", "pixels", "name", "settings", "type",
        "epoch", "logs", "gradients", "misclassified", "n_samples", "batch_size", "example", "status", "seed"]
BODY = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), JSON_VALUES, max_size=6)


@pytest.fixture(scope="module")
def quiet_client(tmp_path_factory, model_file):
    """A server whose runs end at once (what is tested is the answer to the request, not training)."""
    original = runs_module.RunManager._train
    runs_module.RunManager._train = lambda self, run, cfg: run.finish("stopped", "not trained in this test")
    try:
        app = create_app(upload_dir=tmp_path_factory.mktemp("uploads"), models_dir=model_file.parent)
        with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
            c.run_id = c.post("/api/runs/attach", json={"epochs": 3}).json()["id"]
            c.ended_id = c.post("/api/runs/attach", json={"epochs": 3}).json()["id"]
            c.post(f"/api/runs/{c.ended_id}/events", json={"type": "end"})  # its streams end at once
            c.session_id = c.post("/api/playground", json={"n_samples": 40, "layers": [2]}).json()["id"]
            c.model_id = c.get("/api/models").json()["models"][0]["id"]
            yield c
    finally:
        runs_module.RunManager._train = original


@hypothesis.settings(max_examples=120, deadline=None, database=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(path=st.sampled_from(JSON_ENDPOINTS), body=BODY)
def test_arbitrary_json_objects_never_give_a_5xx(quiet_client, path, body):
    raw = json.dumps(body).encode()  # NaN and Infinity included, as a hostile client may send them
    response = _send(quiet_client, ("p", "POST", path, JSON, raw, 0, ""))
    assert response.status_code < 500, (path, body, response.text[:300])
    if response.status_code >= 400:
        one_line_error(response)


@hypothesis.settings(max_examples=80, deadline=None, database=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(path=st.sampled_from(JSON_ENDPOINTS), raw=st.binary(max_size=200) | JSON_VALUES.map(
    lambda v: json.dumps(v).encode()))
def test_arbitrary_bodies_never_give_a_5xx(quiet_client, path, raw):
    response = _send(quiet_client, ("p", "POST", path, JSON, raw, 0, ""))
    assert response.status_code < 500, (path, raw, response.text[:300])
    if response.status_code >= 400:
        one_line_error(response)


@hypothesis.settings(max_examples=60, deadline=None, database=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(value=st.text(max_size=30), header=st.sampled_from(["Last-Event-ID", "from", "since"]))
def test_arbitrary_event_numbers_never_give_a_5xx(quiet_client, value, header):
    if header == "since":
        response = quiet_client.get(f"/api/playground/{quiet_client.session_id}", params={"since": value})
    elif header == "from":
        response = quiet_client.get(f"/api/runs/{quiet_client.ended_id}/events", params={"from": value})
    else:
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            value = value.encode("utf-8").decode("latin-1")  # as a raw header carries it
        if any(c in value for c in "\r\n\x00") or value != value.strip() or not value:
            return  # not a header value a client can send
        response = quiet_client.get(f"/api/runs/{quiet_client.ended_id}/events",
                                    headers={header: value.encode("latin-1")})
    assert response.status_code < 500, (header, value, response.text[:300])


# ------------------------------------------------------------------------------------------ load
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _call(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None,
          timeout: float = 30) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads the server's memory from /proc")
def test_load_ten_runs_concurrent_requests_and_streams_keep_memory_flat(tmp_path):
    """``mlpkit serve`` in a subprocess: two warm-up runs, then ten runs of different seeds, each followed to
    its end over an event stream, while 8 threads send ordinary and hostile requests; 40 streams of a live
    run are opened at once (MAX_STREAMS stay open, the rest get 429) and their slots come back when the readers
    leave. No 5xx; memory grows by less than 40 MB."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(Path(mlpkit.__file__).resolve().parents[1]),
                                          os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-m", "mlpkit.cli", "serve", "--port", str(port), "--runs",
                                str(tmp_path / "runs")], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _call(f"{url}/api/health", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "mlpkit serve did not start"
            time.sleep(0.1)
        statuses: list[int] = []

        def run(seed: int) -> None:
            body = json.dumps({"layers": "auto,32,auto", "epochs": 2, "seed": seed}).encode()
            status, answer = _call(f"{url}/api/runs", "POST", body, JSON)
            statuses.append(status)
            assert status == 201, answer
            status, stream = _call(f"{url}/api/runs/{json.loads(answer)['id']}/events", timeout=60)
            statuses.append(status)
            assert b'"type": "end"' in stream and b'"status": "completed"' in stream

        run(100)
        run(101)
        before = _rss_mb(process.pid)
        stop = threading.Event()

        def hammer(i: int) -> None:
            hostile = [("POST", "/api/runs", b'{"epochs": ' + b"9" * 400 + b"}", JSON),
                       ("POST", "/api/neuron", _deep(100_000), JSON),
                       ("POST", "/api/runs", b'{"epochs": 1}', {"Content-Type": "text/plain"}),
                       ("GET", "/api/runs", None, {"Host": "evil.example"}),
                       ("POST", "/api/models", os.urandom(3000), RAW),
                       ("GET", "/api/runs/nope/events", None, {"Last-Event-ID": "²".encode().decode("latin-1")}),
                       ("POST", "/api/neuron", b'{"epochs": 50}', JSON),
                       ("GET", "/api/runs", None, {}), ("GET", "/api/models", None, {})]
            k = i
            while not stop.is_set():
                method, path, body, headers = hostile[k % len(hostile)]
                statuses.append(_call(url + path, method, body, headers)[0])
                k += 1

        def stream(_: int) -> int:
            """Hold a stream of the live attached run open for 3 s (its reader then gives up): 200 or 429."""
            try:
                return _call(f"{url}/api/runs/{live_id}/events", timeout=3)[0]
            except OSError:  # a read timeout: the stream was open
                return 200

        live_id = json.loads(_call(f"{url}/api/runs/attach", "POST", b'{"epochs": 2}', JSON)[1])["id"]
        with ThreadPoolExecutor(8) as pool:
            workers = [pool.submit(hammer, i) for i in range(8)]
            with ThreadPoolExecutor(40) as streams:
                opened = list(streams.map(stream, range(40)))
            assert opened.count(429) >= 40 - MAX_STREAMS and opened.count(200) >= MAX_STREAMS // 2, opened
            time.sleep(1)  # the server notices the readers are gone and frees their slots
            _call(f"{url}/api/runs/{live_id}/events", "POST", b'{"type": "end"}', JSON)
            assert _call(f"{url}/api/runs/{live_id}/events", timeout=10)[0] == 200
            for seed in range(10):
                run(seed)
            stop.set()
            for worker in workers:
                worker.result()
        time.sleep(0.5)
        after = _rss_mb(process.pid)
        listing = json.loads(_call(f"{url}/api/runs")[1])
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
    print(f"\nserver memory: {before:.0f} MB after 2 warm-up runs, {after:.0f} MB after 10 more runs and "
          f"{len(statuses)} requests ({sorted(set(statuses))})")
    assert all(s < 500 for s in statuses), sorted(set(statuses))
    assert len(listing["runs"]) == 13 and all(r["status"] == "completed" for r in listing["runs"])
    assert after - before < 40, f"memory grew from {before:.0f} MB to {after:.0f} MB"
