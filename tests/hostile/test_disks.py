"""Full and read-only disks: every write ends in one line naming the path and the errno's meaning (exit status
2), the previous files stay byte-identical, and a run directory's files never mix two saves.

Each case runs on a simulated disk that fails on demand (always: a writer that raises ENOSPC after a budget
of bytes, or EROFS/EACCES for every file created under a directory), and, where this process is root and
may mount a small tmpfs, again on a real one (full, or remounted read-only); that variant is skipped
otherwise. Not root, a read-only directory is a ``chmod 555`` one.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

import mlpkit._atomic as atomic
from cli_runner import error, run
from mlpkit._atomic import WriteError
from mlpkit.history import History
from mlpkit.settings.rundir import MANIFEST_FILE, check_file, read_manifest
from mlpkit.tracking import CSVLogger
from mlpkit.tuning.store import ResultsStore
from mlpkit.web.rundirs import scan

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False
TRAIN = ("train", "--dataset", "digits", "--layers", "auto,6,auto", "--batch-size", "100", "--quiet", "--no-plots")
RUN_FILES = ("model.mlpk", "history.json", "config.yaml", "checkpoint.mlpkc", MANIFEST_FILE)


def snapshot(directory: Path) -> dict[str, str]:
    """Every file of ``directory`` (temporary ones included) with the SHA-256 of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()}


def assert_one_line(line: str, path: Path | str, reason: str) -> None:
    assert f"cannot write {path}" in line and reason in line, line


# ------------------------------------------------------------------------------------------------ disks
@contextlib.contextmanager
def full_after(monkeypatch, budget: int):
    """A disk that takes ``budget`` more bytes through mlpkit's writers, then answers ENOSPC."""
    left = [budget]

    class Filling(atomic._DestinationFile):
        def write(self, data):
            if len(data) > left[0]:
                left[0] = 0
                try:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                except OSError as exc:
                    raise atomic.write_error(exc, self.destination, existed=self.existed) from None
            left[0] -= len(data)
            return super().write(data)

    with monkeypatch.context() as patch:
        patch.setattr(atomic, "_DestinationFile", Filling)
        yield


@contextlib.contextmanager
def read_only(monkeypatch, directory: Path, code: int = errno.EROFS):
    """``directory`` refuses new files and directories: chmod 555 when not root, else every os.open with
    O_CREAT and every mkdir under it fails with ``code`` (root ignores permissions)."""
    if not ROOT and code == errno.EACCES:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)
        return
    real_open, real_mkdir = os.open, os.mkdir

    def refuse(path):
        raise OSError(code, os.strerror(code), os.fspath(path))

    def fake_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and Path(path).resolve().is_relative_to(directory.resolve()):
            refuse(path)
        return real_open(path, flags, *args, **kwargs)

    def fake_mkdir(path, *args, **kwargs):
        if Path(path).resolve().is_relative_to(directory.resolve()):
            refuse(path)
        return real_mkdir(path, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, "open", fake_open)
        patch.setattr(os, "mkdir", fake_mkdir)
        yield


def _can_mount() -> bool:
    if not ROOT:
        return False
    with tempfile.TemporaryDirectory() as where:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", where], capture_output=True)
        if done.returncode != 0:
            return False
        subprocess.run(["umount", where], check=True)
        return True


CAN_MOUNT = _can_mount()
real_disk = pytest.mark.skipif(not CAN_MOUNT, reason="needs root and a tmpfs mount")


@pytest.fixture
def tmpfs(tmp_path):
    """A 2 MiB tmpfs mounted on a fresh directory (unmounted afterwards)."""
    where = tmp_path / "disk"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> None:
    """Fill the file system of ``disk`` to the last byte."""
    with open(disk / "filler", "wb", buffering=0) as f:
        with contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * 65536)
        with contextlib.suppress(OSError):
            while True:
                f.write(b"\0")


# ------------------------------------------------------------------------------------------ train's run directory
@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A run directory of 2 epochs, written once (copied by each test)."""
    out = tmp_path_factory.mktemp("run") / "run"
    run(*TRAIN, "--epochs", "2", "--out", out)
    return out


def copy_run(source: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for p in source.iterdir():
        (target / p.name).write_bytes(p.read_bytes())
    return target


def test_a_finished_run_has_a_manifest_that_lists_its_files(finished_run):
    manifest = read_manifest(finished_run)
    assert manifest.epoch == 2 and set(manifest.files) == set(RUN_FILES) - {MANIFEST_FILE}
    assert all(entry["epoch"] == 2 for entry in manifest.files.values())
    for name in manifest.files:
        check_file(finished_run / name)


@pytest.mark.parametrize("budget", [0, 3000, 8000, 15_000])
def test_resume_on_a_full_disk_leaves_the_run_whole(finished_run, tmp_path, monkeypatch, budget):
    out = copy_run(finished_run, tmp_path / "run")
    before = snapshot(out)
    with full_after(monkeypatch, budget):  # 0, 3000: the first save fails; 8000, 15000: a later one
        line = error("train", "--resume", out, "--epochs", "5", "--quiet", "--no-plots", "--checkpoint-every", "1")
    assert "No space left on device" in line and "(the previous file is unchanged)" in line
    manifest = read_manifest(out)
    if budget < 5000:
        assert snapshot(out) == before  # byte-identical, and no temporary file left behind
    else:  # the epochs saved before the disk filled: checkpoint and history together, the model of epoch 2
        assert manifest.epoch > 2 and manifest.files["model.mlpk"]["epoch"] == 2
        assert {n: e["epoch"] for n, e in manifest.files.items() if n != "model.mlpk" and n != "config.yaml"} == \
            {"checkpoint.mlpkc": manifest.epoch, "history.json": manifest.epoch}
        assert snapshot(out)["model.mlpk"] == before["model.mlpk"]
    for name in manifest.files:
        check_file(out / name)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    run("evaluate", out / "model.mlpk")  # still consistent and readable
    run("train", "--resume", out, "--epochs", "6", "--quiet", "--no-plots")


def test_a_new_run_on_a_disk_that_fills_mid_run_keeps_its_last_whole_save(tmp_path, monkeypatch):
    out = tmp_path / "run"
    with full_after(monkeypatch, 8000):  # room for the first epoch's save, not for the second's
        line = error(*TRAIN, "--epochs", "5", "--checkpoint-every", "1", "--out", out)
    assert "No space left on device" in line
    manifest = read_manifest(out)
    assert set(manifest.files) == {"checkpoint.mlpkc", "history.json"} and not (out / "model.mlpk").exists()
    for name in manifest.files:
        check_file(out / name)
    assert len(History.from_json(out / "history.json")) == manifest.epoch >= 1
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]
    run("train", "--resume", out, "--quiet", "--no-plots")
    check_file(out / "model.mlpk")


def test_an_overwritten_run_never_passes_off_the_old_model_as_its_own(finished_run, tmp_path, monkeypatch):
    out = copy_run(finished_run, tmp_path / "run")
    with full_after(monkeypatch, 8000):
        error(*TRAIN, "--epochs", "5", "--checkpoint-every", "1", "--out", out, "--overwrite", "--seed", "3")
    line = error("evaluate", out / "model.mlpk")  # the old model beside the new checkpoint
    assert "is not part of the run" in line and "left from an earlier run" in line
    runs, skipped = scan(tmp_path)
    assert not skipped and runs[0].status == "interrupted" and runs[0].result == {}


def test_a_save_cut_between_its_renames_is_detected_by_every_reader(finished_run, tmp_path, monkeypatch):
    out = copy_run(finished_run, tmp_path / "run")
    real_replace, renamed = os.replace, []

    def crash_after_first(src, dst):
        if renamed:
            raise OSError(errno.EIO, os.strerror(errno.EIO), dst)
        renamed.append(dst)
        return real_replace(src, dst)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", crash_after_first)
        line = error("train", "--resume", out, "--epochs", "3", "--quiet", "--no-plots")
    assert "Input/output error" in line
    assert Path(renamed[0]).name == "model.mlpk"  # the new model beside the old checkpoint and manifest
    assert "does not match the run directory's manifest.json" in error("evaluate", out / "model.mlpk")
    runs, skipped = scan(tmp_path)
    assert not runs and "does not match" in skipped[0]["problem"]
    run("train", "--resume", out, "--epochs", "3", "--quiet", "--no-plots")  # the checkpoint still matches
    for name in read_manifest(out).files:
        check_file(out / name)


def test_a_model_changed_by_hand_is_refused(finished_run, tmp_path):
    out = copy_run(finished_run, tmp_path / "run")
    data = bytearray((out / "model.mlpk").read_bytes())
    data[-30] ^= 1
    (out / "model.mlpk").write_bytes(bytes(data))
    assert "its SHA-256 differs" in error("predict", out / "model.mlpk", out / "config.yaml")


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
def test_train_into_a_read_only_directory_is_one_line(tmp_path, monkeypatch, code):
    parent = tmp_path / "ro"
    parent.mkdir()
    with read_only(monkeypatch, parent, code):
        line = error(*TRAIN, "--epochs", "1", "--out", parent / "run")
    assert_one_line(line, parent / "run", os.strerror(code))


def test_plots_on_a_full_disk_keep_the_run_and_say_so(tmp_path, monkeypatch):
    out = tmp_path / "run"
    import mlpkit.plotting as plotting

    def no_room(path, data):
        raise WriteError(errno.ENOSPC, os.strerror(errno.ENOSPC), path, existed=False)

    monkeypatch.setattr(plotting, "atomic_write_bytes", no_room)
    result = run("train", "--dataset", "digits", "--layers", "auto,6,auto", "--epochs", "1", "--quiet",
                 "--out", out, ok=False)
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line and "cost.png: No space left on device" in line and "are saved in" in line
    for name in read_manifest(out).files:
        check_file(out / name)


def test_log_dir_on_a_read_only_directory_is_one_line(tmp_path, monkeypatch):
    logs = tmp_path / "logs"
    logs.mkdir()
    with read_only(monkeypatch, logs, errno.EROFS):
        line = error(*TRAIN, "--epochs", "1", "--out", tmp_path / "run", "--log-dir", logs / "new")
    assert_one_line(line, logs / "new", "Read-only file system")


# ------------------------------------------------------------------------------------------------ predict, export
@pytest.fixture(scope="module")
def model_and_rows(finished_run, tmp_path_factory):
    where = tmp_path_factory.mktemp("rows")
    X = np.random.default_rng(0).random((300, 64))
    np.savez(where / "rows.npz", X=X)
    return finished_run / "model.mlpk", where / "rows.npz"


def test_predict_over_an_existing_file_on_a_full_disk_keeps_it_whole(model_and_rows, tmp_path, monkeypatch):
    model, rows = model_and_rows
    output = tmp_path / "predictions.csv"
    output.write_text("prediction\n" + "7\n" * 20_000)
    before = output.read_bytes()
    with full_after(monkeypatch, 100):
        line = error("predict", model, rows, "-o", output)
    assert_one_line(line, output, "No space left on device")
    assert output.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["predictions.csv"]


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.EDQUOT])
def test_predict_and_export_into_a_refusing_directory(model_and_rows, tmp_path, monkeypatch, code):
    model, rows = model_and_rows
    target = tmp_path / "out"
    target.mkdir()
    with read_only(monkeypatch, target, code):
        assert_one_line(error("predict", model, rows, "-o", target / "p.csv"), target / "p.csv", os.strerror(code))
        pytest.importorskip("torch")
        line = error("export", model, "--format", "torch", "-o", target / "net.pt")
    assert_one_line(line, target / "net.pt", os.strerror(code))
    assert list(target.iterdir()) == []


def test_predict_onto_a_directory_is_one_line(model_and_rows, tmp_path):
    model, rows = model_and_rows
    line = error("predict", model, rows, "-o", tmp_path)
    assert str(tmp_path) in line and "is a directory" in line.lower()


# ------------------------------------------------------------------------------------------------ tune, library
TUNE = """
[train]
dataset = "digits"
layers = "auto,6,auto"
epochs = 1

[space]
eta = {dist = "log-uniform", low = 0.05, high = 5}

[search]
trials = 2
backend = "serial"
"""


def test_tune_with_a_read_only_results_directory_is_one_line(tmp_path, monkeypatch):
    config = tmp_path / "t.toml"
    config.write_text(TUNE)
    target = tmp_path / "ro"
    target.mkdir()
    with read_only(monkeypatch, target, errno.EROFS):
        result = run("tune", config, "--storage", tmp_path / "s.sqlite", "--out", target / "report", "--quiet",
                     ok=False)
    assert result.exit_code == 2 and "Traceback" not in result.stderr  # the ranked trials are printed first
    assert result.stderr.strip() == f"mlpkit: error: {target / 'report'}: Read-only file system"
    with ResultsStore(tmp_path / "s.sqlite") as store:  # the trials are kept for --resume
        assert len(store.trials()) == 2


@pytest.mark.parametrize(("code", "message", "reason"), [(13, "database or disk is full", "No space left on device"),
                                                         (8, "attempt to write a readonly database",
                                                          "Read-only file system")])
def test_a_results_store_that_cannot_write_says_so(tmp_path, code, message, reason):
    path = tmp_path / "s.sqlite"
    store = ResultsStore(path)
    store.save_settings({"a": 1})

    class Refusing:
        def __init__(self, db):
            self.db = db

        def __enter__(self):
            return self.db.__enter__()

        def __exit__(self, *exc):
            self.db.__exit__(*exc)

        def execute(self, *args):
            error = sqlite3.OperationalError(message)
            error.sqlite_errorcode = code
            raise error

    store._db = Refusing(store._db)
    with pytest.raises(WriteError) as caught:
        store.save_settings({"a": 2})
    assert str(caught.value) == f"cannot write {path}: {reason} (the previous file is unchanged)"
    store._db = store._db.db
    assert store.settings() == {"a": 1}
    store.close()


def test_library_writers_keep_the_previous_file(tmp_path, monkeypatch):
    history = History()
    history.append(0, {"loss": 1.0})
    saved = history.to_json(tmp_path / "history.json").read_bytes()
    log = tmp_path / "log.csv"
    logger = CSVLogger(log)
    logger.path, logger.columns, logger.rows = log, ["epoch", "loss"], []
    logger._start = 0
    logger._rewrite()
    logger.on_epoch_end(0, {"loss": 0.5})
    rows = log.read_bytes()
    history.append(1, {"loss": 0.5})
    with full_after(monkeypatch, 0):
        with pytest.raises(WriteError, match="No space left on device"):
            history.to_json(tmp_path / "history.json")
    assert (tmp_path / "history.json").read_bytes() == saved

    real_open = open

    class Short:  # a disk with room for 3 bytes: the row is cut, then cut off again
        def __init__(self, handle):
            self.handle, self.room = handle, 3

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def seek(self, *args):
            return self.handle.seek(*args)

        def truncate(self, size):
            return self.handle.truncate(size)

        def write(self, data):
            if not self.room:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            n, self.room = self.handle.write(bytes(data[:self.room])), 0
            return n

    monkeypatch.setattr("builtins.open", lambda *a, **k: Short(real_open(*a, **k)))
    with pytest.raises(WriteError, match=r"cannot write .*log.csv: No space left on device"):
        logger.on_epoch_end(1, {"loss": 0.25})
    monkeypatch.undo()
    assert log.read_bytes() == rows


def test_write_error_is_an_oserror_with_the_destination():
    exc = WriteError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/x/model.mlpk", existed=False)
    assert isinstance(exc, OSError) and exc.errno == errno.ENOSPC and exc.filename == "/x/model.mlpk"
    assert str(exc) == "cannot write /x/model.mlpk: No space left on device (nothing was written there)"
    import pickle

    assert str(pickle.loads(pickle.dumps(exc))) == str(exc)


# ------------------------------------------------------------------------------------------------ a real disk
@real_disk
def test_real_full_disk_resume_and_predict(finished_run, model_and_rows, tmpfs):
    out = copy_run(finished_run, tmpfs / "run")
    model, rows = model_and_rows
    output = tmpfs / "p.csv"
    output.write_text("prediction\n" + "7\n" * 20_000)
    fill(tmpfs)
    before, kept = snapshot(out), output.read_bytes()
    line = error("train", "--resume", out, "--epochs", "4", "--quiet", "--no-plots", "--checkpoint-every", "1")
    assert "No space left on device (the previous file is unchanged)" in line
    assert snapshot(out) == before
    assert_one_line(error("predict", model, rows, "-o", output), output, "No space left on device")
    assert output.read_bytes() == kept
    assert_one_line(error("predict", model, rows, "-o", tmpfs / "new.csv"), tmpfs / "new.csv", "No space left")
    tuned = run("tune", _tune_config(tmpfs.parent), "--storage", tmpfs / "s.sqlite", "--out", tmpfs / "r", ok=False)
    assert tuned.exit_code == 2 and tuned.stderr.strip() == \
        f"mlpkit: error: cannot write {tmpfs / 's.sqlite'}: No space left on device (nothing was written there)"
    assert not (tmpfs / "s.sqlite").exists()
    (tmpfs / "filler").unlink()
    run("train", "--resume", out, "--epochs", "3", "--quiet", "--no-plots")


@real_disk
def test_real_read_only_disk(finished_run, model_and_rows, tmpfs):
    out = copy_run(finished_run, tmpfs / "run")
    model, rows = model_and_rows
    before = snapshot(out)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    assert_one_line(error("predict", model, rows, "-o", tmpfs / "p.csv"), tmpfs / "p.csv", "Read-only file system")
    assert "Read-only file system" in error("train", "--resume", out, "--epochs", "3", "--quiet", "--no-plots")
    pytest.importorskip("onnx")
    assert_one_line(error("export", out / "model.mlpk", "--format", "onnx"), out / "model.onnx", "Read-only file")
    assert "Read-only file system" in error(*TRAIN, "--epochs", "1", "--out", tmpfs / "new", "--log-dir", tmpfs / "l")
    assert snapshot(out) == before


def _tune_config(where: Path) -> Path:
    config = where / "t.toml"
    config.write_text(TUNE)
    return config


def test_a_torch_export_on_a_full_disk_keeps_both_previous_files(model_and_rows, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    model, _ = model_and_rows
    run("export", model, "--format", "torch", "-o", tmp_path / "net.pt")
    before = snapshot(tmp_path)
    with full_after(monkeypatch, 2000):  # room for the state dict, not for the .py beside it
        line = error("export", model, "--format", "torch", "-o", tmp_path / "net.pt")
    assert "No space left on device" in line and snapshot(tmp_path) == before
