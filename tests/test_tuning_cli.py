"""mlpkit tune: a search from a config file, its reports, one-line errors, and a search killed mid-way that
resumes without repeating its finished trials."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlpkit.cli._app import cli
from mlpkit.tuning import ResultsStore

SRC = Path(__file__).resolve().parents[1] / "src"

CONFIG = """
[train]
dataset = "digits"
layers = "auto,16,auto"
epochs = {epochs}

[space]
eta = {{dist = "log-uniform", low = 0.05, high = 5}}
lmbda = {{dist = "log-uniform", low = 0.001, high = 10}}
batch_size = {{dist = "int", low = 8, high = 32, log = true}}

[search]
trials = {trials}
backend = "serial"
"""


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def error(*args):
    result = invoke(*args)
    assert result.exit_code == 2, (result.exit_code, result.output, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlpkit: error: "), result.stderr
    return lines[0]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_tune_runs_a_search_and_writes_its_reports(tmp_path):
    config = write(tmp_path / "digits.toml", CONFIG.format(epochs=2, trials=4))
    storage = tmp_path / "s.sqlite"
    result = invoke("tune", config, "--storage", storage, "--out", tmp_path / "report")
    assert result.exit_code == 0, result.output + result.stderr
    assert result.output.count("completed") >= 4 and "best: eta = " in result.output
    assert {p.name for p in (tmp_path / "report").iterdir()} == {"trials.csv", "scores.png", "curves.png",
                                                           "best_config.yaml"}
    with ResultsStore(storage) as store:
        trials = store.trials()
    assert len(trials) == 4 and all(t.status == "completed" for t in trials)
    assert all(isinstance(t.params["batch_size"], int) for t in trials)
    again = invoke("tune", config, "--storage", storage, "--out", tmp_path / "report", "--resume")
    assert again.exit_code == 0 and "4 finished trials were found" in again.output
    assert "[1/4]" in result.output and "[1/4]" not in again.output  # nothing ran again


def test_tune_yaml_config_and_grid(tmp_path):
    config = write(tmp_path / "grid.yaml", "train: {dataset: digits, epochs: 1, layers: 'auto,8,auto'}\n"
                                           "space: {eta: [0.1, 1.0], activation: [sigmoid, tanh]}\n"
                                           "search: {strategy: grid, backend: serial}\n")
    result = invoke("tune", config, "--storage", tmp_path / "g.sqlite", "--quiet")
    assert result.exit_code == 0, result.output + result.stderr
    assert "4 completed" in result.output
    assert (tmp_path / "g_results" / "trials.csv").is_file()


@pytest.mark.parametrize(("text", "args", "message"), [
    ("[train]\n[space]\neta = [0.1]\n[serach]\n", (), "unknown table 'serach'"),
    ("[train]\n[search]\n", (), "needs a [space] table"),
    ("[space]\neta = [0.1]\n[search]\nstrategy = 'bayes'\n", (), "strategy must be one of"),
    ("[space]\neta = [0.1]\n[search]\ntrails = 3\n", (), "unknown [search] key 'trails'"),
    ("[space]\neta = [0.1]\n", ("--address", "127.0.0.1:1"), "--address applies to --backend ray"),
    ("[space]\neta = {dist = 'log-uniform', low = 0, high = 1}\n", (), "0 < low"),
    ("[train]\nepochs = 'many'\n[space]\neta = [0.1]\n", (), "must be an integer"),
    ("[space]\nseed = [1, 2]\n", (), "'seed' cannot be searched"),
    ("[space]\neta = [0.1]\n", ("--resume", "--overwrite"), "choose one"),
    ("[space]\neta = [0.1]\n", ("--resume",), "there is no search to continue"),
    ("[space]\neta = [0.1]\n[search]\nstrategy = 'random'\npatience = 3\n", (), "applies to strategy nielsen"),
    ("[space\n", (), "not valid TOML"),
])
def test_tune_errors_are_one_line(tmp_path, text, args, message):
    config = write(tmp_path / "c.toml", text)
    line = error("tune", config, "--storage", tmp_path / "x.sqlite", *args)
    assert message in line


def test_tune_refuses_a_used_storage_without_resume_and_overwrite_starts_again(tmp_path):
    config = write(tmp_path / "c.toml", CONFIG.format(epochs=1, trials=2))
    storage = tmp_path / "s.sqlite"
    assert invoke("tune", config, "--storage", storage, "--quiet").exit_code == 0
    assert "already holds 2 trials" in error("tune", config, "--storage", storage)
    changed = write(tmp_path / "c.toml", CONFIG.format(epochs=2, trials=2))
    assert "other settings (options differ)" in error("tune", changed, "--storage", storage, "--resume")
    assert invoke("tune", changed, "--storage", storage, "--overwrite", "--quiet").exit_code == 0
    with ResultsStore(storage) as store:
        assert {t.epochs for t in store.trials()} == {2}
    assert "a file such as" in error("tune", config, "--storage", tmp_path)
    assert "does not exist" in error("tune", tmp_path / "missing.toml")


def _finished(storage: Path) -> dict[str, tuple]:
    if not storage.exists():
        return {}
    with sqlite3.connect(storage) as db:
        try:
            rows = db.execute("SELECT id, finished_at, pid FROM trials WHERE status = 'completed'").fetchall()
        except sqlite3.OperationalError:  # the tables are not created yet
            return {}
    return {r[0]: (r[1], r[2]) for r in rows}


def test_a_killed_search_resumes_without_repeating_finished_trials(tmp_path):
    config = write(tmp_path / "c.toml", CONFIG.format(epochs=8, trials=10))
    storage = tmp_path / "s.sqlite"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "mlpkit.cli", "tune", str(config), "--storage", str(storage), "--quiet"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while len(_finished(storage)) < 3 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, process.stderr.read()
    before = _finished(storage)
    assert 3 <= len(before) < 10, "the search should be killed mid-way"
    assert {pid for _, pid in before.values()} == {process.pid}

    result = invoke("tune", config, "--storage", storage, "--resume", "--quiet")
    assert result.exit_code == 0, result.output + result.stderr
    assert f"{len(before)} finished trials were found" in result.output
    after = _finished(storage)
    assert len(after) == 10
    assert {k: after[k] for k in before} == before  # untouched: not run again
    assert {pid for k, (_, pid) in after.items() if k not in before} == {os.getpid()}
