"""The Ray backend against a real local Ray head (ray start --head on 127.0.0.1, stopped afterwards).

Ray is an optional extra (``pip install '.[ray]'``); CI installs it, so this test runs there.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlpkit.cli._app import cli
from mlpkit.tuning import LogUniform, ResultsStore, search

ray = pytest.importorskip("ray", reason="the Ray backend needs the ray extra: pip install '.[ray]'")

SRC = Path(__file__).resolve().parents[1] / "src"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    """A Ray head with 2 CPUs on 127.0.0.1; its workers import this working tree's mlpkit."""
    executable = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
           "RAY_USAGE_STATS_ENABLED": "0"}
    start = [executable, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
             "--include-dashboard=false", "--disable-usage-stats"]
    try:
        subprocess.run(start, env=env, check=True, capture_output=True, timeout=180)
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([executable, "stop", "--force"], env=env, capture_output=True, timeout=120)


def test_ray_backend_matches_serial_on_a_real_cluster(ray_head, tmp_path):
    space = {"eta": LogUniform(0.05, 5.0), "lmbda": LogUniform(1e-3, 10.0)}
    options = {"dataset": "digits", "epochs": 2, "layers": "auto,16,auto"}
    serial = search(space, options, trials=4, backend="serial", seed=5)
    on_ray = search(space, options, trials=4, backend="ray", address=ray_head, seed=5,
                    storage=tmp_path / "ray.sqlite")
    assert not ray.is_initialized()  # the backend disconnected when done
    outcome = {t.id: (t.status, t.score, t.history["val_accuracy"]) for t in serial.trials}
    assert {t.id: (t.status, t.score, t.history["val_accuracy"]) for t in on_ray.trials} == outcome
    assert os.getpid() not in {t.pid for t in on_ray.trials}  # the trials ran in Ray's worker processes


def test_mlpkit_tune_with_backend_ray_and_address(ray_head, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[train]\ndataset = "digits"\nepochs = 1\nlayers = "auto,8,auto"\n'
                      '[space]\neta = [0.1, 1.0]\n[search]\nstrategy = "grid"\n', encoding="utf-8")
    storage = tmp_path / "c.sqlite"
    result = CliRunner().invoke(cli, ["tune", str(config), "--backend", "ray", "--address", ray_head,
                                      "--storage", str(storage), "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr
    assert "2 completed" in result.output
    with ResultsStore(storage) as store:
        assert {t.status for t in store.trials()} == {"completed"}
