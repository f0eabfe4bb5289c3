"""Signals and crashes, with real signals sent to ``mlpkit`` processes: SIGINT and SIGTERM during start-up end
with one line (130 / 143, no traceback); SIGTERM during training saves a checkpoint that ``--resume``
continues; ``kill -9`` after the checkpoint interval leaves a checkpoint that loads; the workers of ``mlpkit
tune`` die with it, whether it is killed (``kill -9``) or stopped (SIGTERM), and a resumed search runs no
finished trial again, for every strategy.

Every wait is for a marker (the SIGTERM handler installed, a row of the epoch table, a file, a finished trial
in the results file), never a fixed sleep. Linux only: the markers and the process tree are read from /proc.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from cli_runner import ctrl_c_as_typed
from mlpkit import SGD, Network, fit
from mlpkit.checkpoint import Checkpointer, CheckpointError, load_checkpoint
from mlpkit.cli._app import cli
from mlpkit.datasets import load_digits
from mlpkit.settings import resolve
from mlpkit.settings.options import CHECKPOINT_INTERVAL
from mlpkit.tuning import ResultsStore
from mlpkit.tuning.recipe import nielsen_recipe
from mlpkit.tuning.search import search

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads markers from /proc")

SRC = Path(__file__).resolve().parents[2] / "src"
WAIT = 60.0  # the longest any marker may take (a slow CI machine); the waits end as soon as it shows
# what the installed ``mlpkit`` script runs (``python -m mlpkit.cli`` adds runpy, which now and then ends a process
# whose Ctrl-C was handled with the signal itself, -2, instead of its status)
ENTRY_POINT = "import sys; from mlpkit.cli import main; sys.exit(main())"
#: a traceback frame of mlpkit.cli.main
IN_MAIN = re.compile(r'mlpkit[/\\]cli[/\\]__init__\.py", line \d+, in main')
WORKERS_GONE = 5.0  # seconds within which the workers of a killed search must be gone


# ------------------------------------------------------------------------------------------------ helpers
def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
            "PYTHONUNBUFFERED": "1", "COLUMNS": "120"}


def _mlpkit(*args: object, stdout: int = subprocess.DEVNULL, group: bool = False) -> subprocess.Popen:
    """``mlpkit ARGS`` in a subprocess; with ``group``, in a process group of its own (for a terminal's Ctrl-C,
    which reaches every process of the group)."""
    return subprocess.Popen([sys.executable, "-c", ENTRY_POINT, *map(str, args)], env=_env(), stdout=stdout,
                            stderr=subprocess.PIPE, text=True, start_new_session=group, preexec_fn=ctrl_c_as_typed)


def _until(condition: Callable[[], bool], process: subprocess.Popen | None = None, timeout: float = WAIT) -> None:
    """Poll ``condition`` until it holds; fail if ``process`` ends first or the time is up."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process ended first ({process.returncode}): {process.stderr.read()}")
        if time.monotonic() > deadline:
            pytest.fail("the marker never came")
        time.sleep(0.005)


def _catches_sigterm(pid: int) -> bool:
    """mlpkit.cli.main has installed its SIGTERM handler (the SigCgt mask of /proc/PID/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next((line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), "0")
    return bool(int(mask, 16) >> (signal.SIGTERM - 1) & 1)


def _alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def _invoke(*args: object):
    from click.testing import CliRunner

    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


# ------------------------------------------------------------------------------------------------ train
# a generated set of 100,000 points: a second of start-up (data, network) after the handler is installed,
# and 50 epochs: the run never ends before the signal
STARTUP = ("train", "--dataset", "moons", "--samples", "100000", "--epochs", "50", "--no-plots")


@pytest.mark.parametrize("sig, status, word", [(signal.SIGINT, 130, "interrupted"),
                                               (signal.SIGTERM, 143, "terminated")])
def test_a_stop_during_start_up_is_one_line_and_its_status(tmp_path, sig, status, word):
    for n, delay in enumerate((0.0, 0.15, 0.3)):  # imports, then reading and building
        out = tmp_path / f"run{n}"
        process = _mlpkit(*STARTUP, "--out", out)
        try:
            _until(lambda pid=process.pid: _catches_sigterm(pid), process)
            time.sleep(delay)
            process.send_signal(sig)
            _, err = process.communicate(timeout=WAIT)
        finally:
            process.kill()
        assert process.returncode == status, err
        line = _one_line(err)
        assert line.startswith((f"mlpkit: {word}", f"{word} before training started", f"{word}: checkpoint")), line
        if not line.startswith(f"{word}: checkpoint"):  # stopped before training: nothing written
            assert not out.exists() or not any(out.iterdir())


def test_ctrl_c_from_the_first_moment_never_prints_a_traceback(tmp_path):
    """``import mlpkit`` loads nothing heavy (its API is imported on first use), so ``mlpkit.cli.main`` starts a
    few milliseconds after Python itself. Ctrl-C at any moment from then on is one line and status 130. A Ctrl-C
    that lands earlier, while Python starts or imports the package (how early depends on the machine's load), is
    Python's own: its traceback then holds no frame of ``main``."""
    in_main = 0
    for n, delay in enumerate((0.06, 0.1, 0.15, 0.2, 0.3, 0.4)):
        process = _mlpkit(*STARTUP, "--out", tmp_path / f"run{n}")
        try:
            time.sleep(delay)
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=WAIT)
        finally:
            process.kill()
        if process.returncode != 130 and "KeyboardInterrupt" in err and not IN_MAIN.search(err):
            continue  # before main: Python's start-up
        in_main += 1
        assert process.returncode == 130, err
        assert _one_line(err) == "mlpkit: interrupted"
    assert in_main >= 3  # the later delays land in main even on a loaded machine


def test_ctrl_c_before_the_handler_is_installed_is_one_line(monkeypatch, capsys):
    """The window between entering ``main`` and installing the SIGTERM handler, hit deterministically."""
    from mlpkit.cli import _signals, main

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_signals, "install", interrupted)
    assert main(["train", "--no-plots"]) == 130
    assert capsys.readouterr().err == "mlpkit: interrupted\n"


def test_a_stop_that_c_code_swallowed_is_raised_before_the_command_goes_on(tmp_path, capsys):
    """SIGTERM during the import of a Cython module of SciPy was seen lost (the import cleared the exception and
    the run went on): the stop is remembered and raised where the command goes on to new work."""
    from mlpkit.cli import _signals, main

    with contextlib.suppress(KeyboardInterrupt):  # what the extension's import did with the exception
        _signals._raise_stop(signal.SIGTERM, None)
    assert main(["train", "--no-plots", "--out", str(tmp_path / "run")]) == 143
    assert capsys.readouterr().err == "mlpkit: terminated\n"
    assert not (tmp_path / "run").exists()


def test_a_stop_python_reports_as_ignored_prints_nothing_and_is_raised_again(monkeypatch):
    """Seen on CI: Ctrl-C landed in a weakref callback of the import system, where Python can only print
    "Exception ignored in ..." with a traceback and go on. The stop prints nothing there; it is raised again."""
    from mlpkit.cli import _signals

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    _signals.install()

    class Dropped:
        def __init__(self, error: Callable[[], None]) -> None:
            self.error = error

        def __del__(self) -> None:
            self.error()

    Dropped(lambda: _signals._raise_stop(signal.SIGINT, None))  # collected at once: its error is unraisable
    assert reported == []
    with pytest.raises(KeyboardInterrupt):
        _signals.raise_lost()
    Dropped(lambda: 1 / 0)  # anything else still reaches the hook
    assert [type(r.exc_value) for r in reported] == [ZeroDivisionError]


def test_a_stop_swallowed_during_training_ends_it_after_the_mini_batch():
    from mlpkit.cli import _signals
    from mlpkit.cli._train import LostStops

    data = load_digits()
    network = Network([64, 10, 10], seed=0)
    steps = []
    with contextlib.suppress(KeyboardInterrupt):
        _signals._raise_stop(signal.SIGINT, None)

    class Count(LostStops):
        def on_batch_end(self, batch: int, logs: dict) -> None:
            steps.append(batch)
            super().on_batch_end(batch, logs)

    with pytest.raises(KeyboardInterrupt) as stop:
        fit(network, data.train.X, data.train.y, epochs=3, batch_size=10, callbacks=[Count()], verbose=0)
    assert steps == [0] and not isinstance(stop.value, _signals.Terminated)
    _signals.raise_lost()  # raised once: nothing is left


def test_sigterm_during_training_saves_a_checkpoint_that_resume_continues(tmp_path):
    out = tmp_path / "run"
    process = _mlpkit("train", "--epochs", "500", "--no-plots", "--out", out, stdout=subprocess.PIPE)
    try:
        for line in process.stdout:
            if line.strip().startswith("2/500"):  # a printed row: that epoch is in the checkpoint
                break
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=WAIT)
    finally:
        process.kill()
    assert process.returncode == 143, err
    assert _one_line(err) == (f"terminated: checkpoint saved to {out / 'checkpoint.mlpkc'} (after epoch "
                              f"{load_checkpoint(out / 'checkpoint.mlpkc').epoch}); resume with mlpkit train "
                              f"--resume {out}")
    done = load_checkpoint(out / "checkpoint.mlpkc").epoch
    assert 2 <= done < 500
    result = _invoke("train", "--resume", out, "--epochs", done + 1, "--quiet", "--no-plots")
    assert result.exit_code == 0, result.output + result.stderr
    assert f"({done + 1} epochs" in result.output


def test_kill_9_after_the_interval_leaves_a_checkpoint_that_loads_and_resumes(tmp_path):
    out = tmp_path / "run"
    checkpoint = out / "checkpoint.mlpkc"
    # a checkpoint at nearly every epoch end: the files are read while being replaced, and the kill lands
    # at a random moment of a write
    process = _mlpkit("train", "--epochs", "100000", "--checkpoint-interval", "0.01", "--quiet", "--no-plots",
                      "--out", out)
    try:
        _until(checkpoint.exists, process)
        epochs = []
        for _ in range(20):  # a reader never sees a partial file
            try:
                epochs.append(load_checkpoint(checkpoint).epoch)
            except CheckpointError as exc:
                pytest.fail(f"a checkpoint being replaced did not load: {exc}")
        _until(lambda: load_checkpoint(checkpoint).epoch > epochs[-1], process)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=WAIT)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL
    assert epochs == sorted(epochs)
    done = load_checkpoint(checkpoint).epoch
    assert done > epochs[0]
    result = _invoke("train", "--resume", out, "--epochs", done + 1, "--quiet", "--no-plots")
    assert result.exit_code == 0, result.output + result.stderr


def test_the_checkpoint_interval_is_a_default_and_counts_training_time(tmp_path, monkeypatch):
    import mlpkit.checkpoint as module

    assert resolve({}, {}).checkpoint_interval == CHECKPOINT_INTERVAL == 30.0
    assert "[default: 30.0]" in " ".join(_invoke("train", "--help").output.split())
    assert "--checkpoint-interval must be a number of seconds >= 0" in _invoke(
        "train", "--checkpoint-interval", "-1", "--out", tmp_path / "bad").stderr
    with pytest.raises(ValueError, match="interval must be a number of seconds"):
        Checkpointer(SGD(), interval=float("nan"))

    clock = itertools.count(0, 4)  # every reading of the checkpointer's clock: 4 s later
    monkeypatch.setattr(module, "time", SimpleNamespace(monotonic=lambda: float(next(clock)),
                                                        strftime=time.strftime))
    data = load_digits()
    saved = []
    keeper = Checkpointer(SGD(0.5), path=tmp_path / "c.mlpkc", interval=30,
                          write=lambda path, ckpt: saved.append(ckpt.epoch) or path)
    fit(Network([64, 8, 10], seed=0), data.train.X, data.train.y, epochs=20, optimizer=keeper.optimizer,
        callbacks=[keeper], seed=0)
    # begin at 4 s; epoch k ends at 4 + 4k s: the first end 30 s on is epoch 8 (read again after the write:
    # 40 s), the next epoch 16
    assert saved == [8, 16]


# ------------------------------------------------------------------------------------------------ tune
# a grid of four trials on two workers: the two of one epoch finish at once, the two of 2,500 epochs then run
# for about ten seconds, far longer than a stopped search may take to end
TUNE = """
[train]
dataset = "digits"
layers = "auto,16,auto"

[space]
epochs = [1, 2500]
eta = [0.5, 1.0]

[search]
strategy = "grid"
backend = "process"
workers = 2
"""


def _rows(storage: Path) -> dict[str, tuple]:
    """{trial id: (status, started_at, finished_at)} as the results file holds them now."""
    if not storage.exists():
        return {}
    try:
        with sqlite3.connect(storage) as db:
            rows = db.execute("SELECT id, status, started_at, finished_at FROM trials").fetchall()
    except sqlite3.OperationalError:  # not created yet, or locked for a moment
        return {}
    return {r[0]: r[1:] for r in rows}


def _statuses(storage: Path) -> list[str]:
    return sorted(status for status, _, _ in _rows(storage).values())


def _tune(tmp_path: Path, *more: str, group: bool = False) -> tuple[subprocess.Popen, Path, Path]:
    config = tmp_path / "search.toml"
    config.write_text(TUNE, encoding="utf-8")
    storage = tmp_path / "search.sqlite"
    return _mlpkit("tune", config, "--storage", storage, "--quiet", *more, group=group), config, storage


def _workers_busy(process: subprocess.Popen, storage: Path, since: dict[str, tuple] | None = None) -> set[int]:
    """Wait until the short trials have finished and the long ones run in the workers (started again after
    the ``since`` rows, for a resumed search); the workers' pids."""
    def busy() -> bool:
        rows = _rows(storage)
        started = [row[1] for row in rows.values() if row[0] == "running"]
        return _statuses(storage) == ["completed", "completed", "running", "running"] and \
            not set(started) & {row[1] for row in (since or {}).values()}

    _until(busy, process)
    workers = _descendants(process.pid)
    assert len(workers) >= 2, workers  # two workers (and multiprocessing's resource tracker)
    return workers


def test_the_workers_of_a_killed_search_die_with_it(tmp_path):
    process, _, storage = _tune(tmp_path)
    workers: set[int] = set()
    try:
        workers = _workers_busy(process, storage)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=WAIT)
        _until(lambda: not any(map(_alive, workers)), timeout=WORKERS_GONE)
    finally:
        process.kill()
        for pid in filter(_alive, workers):  # only if the test failed: leave nothing running
            os.kill(pid, signal.SIGKILL)


def _terminate(process: subprocess.Popen, workers: set[int], ctrl_c: bool = False) -> str:
    """SIGTERM (or Ctrl-C to the whole process group): the search must end at once (not after its running
    trials), its workers with it, with one line."""
    sent = time.monotonic()
    try:
        if ctrl_c:
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=WAIT)
    finally:
        process.kill()
    assert time.monotonic() - sent < WORKERS_GONE, "the search waited for its running trials"
    assert process.returncode == (130 if ctrl_c else 143), err
    _until(lambda: not any(map(_alive, workers)), timeout=WORKERS_GONE)
    return _one_line(err)


def test_sigterm_stops_a_search_at_once_and_its_resume_repeats_no_finished_trial(tmp_path):
    process, config, storage = _tune(tmp_path)
    line = _terminate(process, _workers_busy(process, storage))
    assert line == (f"terminated: 2 finished trials kept in {storage} (one that was running runs again); continue "
                    f"with mlpkit tune {config} --storage {storage} --resume")
    before = _rows(storage)
    assert sorted(status for status, _, _ in before.values()) == ["completed", "completed", "running", "running"]

    # resumed, it starts the two unfinished trials again and leaves the finished ones alone
    process, _, _ = _tune(tmp_path, "--resume")
    workers = _workers_busy(process, storage, since=before)
    now = _rows(storage)
    for tid, (status, started, _) in before.items():
        if status == "completed":
            assert now[tid] == before[tid]  # not run again (a rerun is marked running, then finished anew)
        else:
            assert now[tid][0] == "running" and now[tid][1] > started
    assert _terminate(process, workers).startswith("terminated: 2 finished trials kept")
    assert {k: v for k, v in _rows(storage).items() if v[0] == "completed"} == \
        {k: v for k, v in before.items() if v[0] == "completed"}


def test_ctrl_c_while_workers_start_is_held_then_stops_the_search():
    """Seen on a loaded machine: the Ctrl-C landed while the search was starting a worker, when this process
    ignored Ctrl-C, and the search ran on. Now it is held for those milliseconds and raised after them, and a
    process started meanwhile begins with Ctrl-C blocked (its initializer ignores it)."""
    from mlpkit.tuning.backends import _spawning

    probe = "import signal; print(signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []))"
    # Python's handler, as in a terminal (a shell's background job, where the tests may run, ignores SIGINT)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            with _spawning():
                os.kill(os.getpid(), signal.SIGINT)
                started = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
                reached = True
        assert reached and started.stdout.strip() == "True"
        assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_in_a_terminal_stops_the_search_and_its_workers_quietly(tmp_path):
    process, _, storage = _tune(tmp_path, group=True)  # the workers share the group: they get SIGINT too
    line = _terminate(process, _workers_busy(process, storage), ctrl_c=True)  # no worker prints a traceback
    assert line.startswith("interrupted: 2 finished trials kept")


# ------------------------------------------------------------------------------- resume, every strategy
DIGITS = {"dataset": "digits", "layers": "auto,8,auto", "epochs": 1}
SPACE = {"eta": {"dist": "log-uniform", "low": 0.1, "high": 3.0}, "batch_size": [16, 32]}


def _stop_after(n: int) -> Callable:
    """An on_result that stops the search as SIGTERM would (a KeyboardInterrupt) after ``n`` trials."""
    seen = []

    def on_result(trial):
        seen.append(trial.id)
        if len(seen) == n:
            raise KeyboardInterrupt

    return on_result


@pytest.mark.parametrize("strategy", ["random", "grid", "coarse-to-fine", "optuna", "nielsen"])
def test_a_stopped_search_resumes_without_repeating_finished_trials(tmp_path, strategy):
    if strategy == "optuna":
        pytest.importorskip("optuna")
    storage = tmp_path / "s.sqlite"
    if strategy == "nielsen":
        def run(**kwargs):
            return nielsen_recipe({"dataset": "digits", "layers": "auto,8,auto"}, etas=[0.1, 1.0], lmbdas=[0.0, 1.0],
                                  probe_epochs=1, lmbda_epochs=1, max_epochs=2, patience=1, backend="serial",
                                  storage=storage, **kwargs)
    else:
        extra = {"grid": {"grid_points": 2}, "coarse-to-fine": {"trials": 2, "rounds": 2},
                 "optuna": {"trials": 4, "startup_trials": 2}}.get(strategy, {"trials": 4})

        def run(**kwargs):
            return search(SPACE, DIGITS, strategy=strategy, backend="serial", storage=storage, **extra, **kwargs)

    with pytest.raises(KeyboardInterrupt):
        run(on_result=_stop_after(2))
    with ResultsStore(storage) as store:
        before = {t.id: t.finished_at for t in store.trials(statuses=("completed", "pruned", "failed"))}
    assert len(before) == 2
    again: list = []
    run(resume=True, on_result=again.append)
    assert again and not {t.id for t in again} & set(before)  # nothing finished ran again
    with ResultsStore(storage) as store:
        trials = store.trials()
    assert {t.id: t.finished_at for t in trials if t.id in before} == before
    assert all(t.status != "running" for t in trials)
