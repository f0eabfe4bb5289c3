"""Browser tests of ``mlpkit serve``: a real server process and Debian's Chromium driven by Playwright.

The browser is the system's ``/usr/bin/chromium`` (``apt-get install chromium``); Playwright's own browser
downloads are never used. Screenshots of every page go to ``tests/artifacts/`` (or ``$MLPKIT_E2E_ARTIFACTS``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import mlpkit
import mlpkit.datasets

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("MLPKIT_E2E_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def package_env() -> dict[str, str]:
    """The environment for a child process that imports the same mlpkit as these tests."""
    source = str(Path(mlpkit.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            "OPENBLAS_NUM_THREADS": "1"}


@pytest.fixture(scope="session")
def child_env() -> dict[str, str]:
    return package_env()


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """A models directory with a [784, 30, 10] network trained briefly on 20,000 MNIST images (about 2 s)."""
    directory = tmp_path_factory.mktemp("models")
    data = mlpkit.datasets.load_mnist(split="book")
    net = mlpkit.Network([784, 30, 10], seed=0)
    net.fit(data.train.X[:20_000], data.train.y[:20_000], epochs=2, batch_size=10, learning_rate=0.5, verbose=0, seed=0)
    accuracy = net.evaluate(data.test.X, data.test.y)["accuracy"]
    net.save(directory / "mnist-30.mlpk")
    assert accuracy > 0.9, f"the test model only reached {accuracy:.2%}"
    return directory


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    """The runs root of the test server (``mlpkit serve --runs``)."""
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def server(models_dir, runs_dir) -> str:
    """``mlpkit serve`` on a free port, as a separate process; yields its base URL."""
    port = _free_port()
    command = [sys.executable, "-m", "mlpkit.cli", "serve", "--port", str(port), "--models", str(models_dir),
               "--runs", str(runs_dir)]
    process = subprocess.Popen(command, env=package_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stdout.read().decode(errors="replace")
                pytest.fail(f"mlpkit serve did not start: {output}")
            time.sleep(0.1)
    yield url
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (test extra) is not installed")
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run the tests with scripts/test, which installs Debian's chromium")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    assert errors == [], f"the page reported errors: {errors}"


@pytest.fixture
def screenshot(request):
    """``screenshot(page)`` saves a full-page PNG named after the test in ARTIFACTS."""
    def save(page, suffix: str = "") -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}{suffix}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path
    return save
