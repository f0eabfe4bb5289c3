"""Tracking callbacks: the CSV log, TensorBoard event files (read back with TensorBoard's own reader), model
checkpoints (best / every k, atomic), ReduceLROnPlateau against hand-computed rates, and ``--log-dir``."""

import csv
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import mlpkit
from cli_runner import run
from mlpkit import (
    SGD,
    Callback,
    CSVLogger,
    Dense,
    History,
    ModelCheckpoint,
    Network,
    ReduceLROnPlateau,
    TensorBoardLogger,
)
from mlpkit.tracking import tensorboard_available

N, BATCH = 40, 10  # 4 mini-batches per epoch


class Script(Callback):
    """Writes scripted values of ``score`` into the logs (before the callbacks after it see them)."""

    def __init__(self, scores, key="score"):
        self.scores, self.key = scores, key

    def on_epoch_end(self, epoch, logs):
        logs[self.key] = self.scores[epoch]


def data(n=N, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), rng.integers(0, 3, n)


def net(seed=0):
    return Network([Dense(6, "relu"), Dense(3, "softmax")], input_dim=4, seed=seed)


def train(callbacks, epochs=3, validation=True, **options):
    X, y = data()
    network = net()
    history = network.fit(X, y, epochs=epochs, batch_size=BATCH, callbacks=callbacks, verbose=0, seed=0,
                          validation_data=data(20, seed=1) if validation else None, **options)
    return network, history


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


# ------------------------------------------------------------------------------------------------ CSV
def test_csv_has_a_row_per_epoch_with_every_key_exactly(tmp_path):
    path = tmp_path / "logs" / "log.csv"
    _, history = train([CSVLogger(path)])
    header, *rows = read_csv(path)
    assert header[0] == "epoch" and set(header[1:]) == set(history.history)
    assert [int(r[0]) for r in rows] == history.epochs == [0, 1, 2]
    for column, key in enumerate(header[1:], start=1):
        assert [float(r[column]) for r in rows] == history[key]  # repr round-trips exactly
    assert not [p for p in path.parent.iterdir() if p.name != "log.csv"]  # no temporary files left


def test_csv_columns_stay_stable_when_a_key_appears_later(tmp_path):
    class Late(Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch >= 1:
                logs["late"] = 10.0 + epoch

    path = tmp_path / "log.csv"
    train([Late(), CSVLogger(path)], validation=False)
    header, *rows = read_csv(path)
    assert header[-1] == "late" and len(rows) == 3 and all(len(r) == len(header) for r in rows)
    assert [r[-1] for r in rows] == ["", "11.0", "12.0"]


def test_csv_rows_are_on_disk_after_each_epoch(tmp_path):
    path = tmp_path / "log.csv"
    seen = []

    class Reader(Callback):
        def on_epoch_end(self, epoch, logs):
            seen.append(len(read_csv(path)) - 1)

    train([CSVLogger(path), Reader()])
    assert seen == [1, 2, 3]


def test_csv_append_continues_and_drops_a_torn_line(tmp_path):
    path = tmp_path / "log.csv"
    train([CSVLogger(path)], epochs=2)
    with open(path, "ab") as handle:
        handle.write(b"2,0.5")  # a row cut short (no newline), as a power cut could leave
    train([CSVLogger(path, append=True)], epochs=2)
    _, *rows = read_csv(path)
    assert [int(r[0]) for r in rows] == [0, 1, 2, 3] and all(r[1] for r in rows)
    # a resumed run (epoch_offset) replaces the rows the interrupted run logged after its checkpoint
    train([CSVLogger(path, append=True, epoch_offset=1)], epochs=1)
    assert [int(r[0]) for r in read_csv(path)[1:]] == [0, 1]
    # without append the file starts over
    train([CSVLogger(path)], epochs=1)
    assert [int(r[0]) for r in read_csv(path)[1:]] == [0]


def test_csv_append_refuses_a_foreign_file(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a CSVLogger file: its first column is \\['a'\\]"):
        train([CSVLogger(path, append=True)], epochs=1)
    assert path.read_text() == "a,b\n1,2\n"


# --------------------------------------------------------------------------------------- TensorBoard
def scalars(log_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}


needs_tensorboard = pytest.mark.skipif(not tensorboard_available(), reason="tensorboard is not installed")


@needs_tensorboard
def test_tensorboard_scalars_per_epoch_read_back(tmp_path):
    _, history = train([TensorBoardLogger(tmp_path / "tb")], epochs=3)
    events = scalars(tmp_path / "tb")
    assert set(events) == set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy",
                                                     "learning_rate", "time"}
    for key, values in history.history.items():
        assert [s for s, _ in events[key]] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in events[key]], values, rtol=1e-6)  # stored as float32


@needs_tensorboard
def test_tensorboard_batch_level_scalars(tmp_path):
    _, history = train([TensorBoardLogger(tmp_path / "tb", batch_level=True)], epochs=3)
    events = scalars(tmp_path / "tb")
    per_epoch = math.ceil(N / BATCH)
    assert [s for s, _ in events["batch/learning_rate"]] == list(range(per_epoch * 3))
    assert [v for _, v in events["batch/size"]] == [BATCH] * per_epoch * 3
    np.testing.assert_allclose([v for _, v in events["batch/learning_rate"]], history["learning_rate"][0])
    assert [s for s, _ in events["loss"]] == [0, 1, 2]


@needs_tensorboard
def test_tensorboard_resumed_run_continues_the_steps(tmp_path):
    train([TensorBoardLogger(tmp_path, batch_level=True)], epochs=2)
    train([TensorBoardLogger(tmp_path, batch_level=True, epoch_offset=2)], epochs=1)
    events = scalars(tmp_path)
    assert [s for s, _ in events["loss"]] == [0, 1, 2]
    assert [s for s, _ in events["batch/learning_rate"]] == list(range(12))


def test_tensorboard_missing_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard.summary.writer.event_file_writer", None)
    with pytest.raises(ImportError) as info:
        TensorBoardLogger("unused")
    assert str(info.value) == "TensorBoard logging needs the tensorboard package: pip install 'mlpkit[tensorboard]'"
    assert not tensorboard_available()


def test_import_mlpkit_does_not_import_tensorboard():
    code = "import sys, mlpkit, mlpkit.tracking; print(sorted(m for m in sys.modules if m.startswith('tensorboard')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------------------------------ checkpoints
def test_checkpoint_keeps_the_best_model(tmp_path):
    saved = []

    class Snap(Callback):
        def on_epoch_end(self, epoch, logs):
            saved.append(self.network.flat_parameters.copy())

    checkpoint = ModelCheckpoint(tmp_path / "best.mlpk", monitor="score")
    train([Script([3.0, 1.0, 2.0, 0.5, 0.7]), Snap(), checkpoint], epochs=5, validation=False)
    assert checkpoint.saved == [tmp_path / "best.mlpk"] * 3 and checkpoint.best_epoch == 4 and checkpoint.best == 0.5
    model = mlpkit.load(tmp_path / "best.mlpk")
    np.testing.assert_array_equal(model.flat_parameters, saved[3])


def test_checkpoint_every_k_epochs_with_the_epoch_in_the_name(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "m-{epoch:02d}-{loss:.3f}.mlpk", save_best_only=False, every=2)
    _, history = train([checkpoint], epochs=5, validation=False)
    assert [p.name for p in checkpoint.saved] == [f"m-{e:02d}-{history['loss'][e - 1]:.3f}.mlpk" for e in (2, 4)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in checkpoint.saved]


def test_checkpoint_best_only_at_every_k(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "m{epoch}.mlpk", monitor="score", every=2)
    # checks after epochs 2, 4, 6 see 5, 6, 4: saves at 2 and 6 (epoch 3's 1.0 is never checked)
    train([Script([9.0, 5.0, 1.0, 6.0, 7.0, 4.0]), checkpoint], epochs=6, validation=False)
    assert [p.name for p in checkpoint.saved] == ["m2.mlpk", "m6.mlpk"]


def test_checkpoint_state_continues_a_resumed_run(tmp_path):
    first = ModelCheckpoint(tmp_path / "best.mlpk", monitor="score")
    train([Script([2.0, 1.0]), first], epochs=2, validation=False)
    second = ModelCheckpoint(tmp_path / "best.mlpk", monitor="score", epoch_offset=2)
    second.load_state_dict(first.state_dict())
    train([Script([1.5]), second], epochs=1, validation=False)  # worse than 1.0: the saved best stays
    assert second.saved == [] and second.best_epoch == 2
    with pytest.raises(ValueError, match="best_epoch must be an integer >= 0"):
        second.load_state_dict({"best": 1.0, "wait": 0, "best_epoch": -1})


def test_a_failing_write_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    path = tmp_path / "best.mlpk"
    network, _ = train([ModelCheckpoint(path, save_best_only=False)], epochs=2, validation=False)
    before = path.read_bytes()

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        train([Script([0.0]), ModelCheckpoint(path, monitor="score")], epochs=1, validation=False)
    assert path.read_bytes() == before and sorted(tmp_path.iterdir()) == [path]  # no partial file left
    np.testing.assert_array_equal(mlpkit.load(path).flat_parameters, network.flat_parameters)


def test_checkpoint_errors_are_one_line(tmp_path):
    with pytest.raises(ValueError, match="field \\{0\\} must name 'epoch' or a log key"):
        ModelCheckpoint(tmp_path / "m{0}.mlpk")
    with pytest.raises(ValueError, match="does not format with epoch and the logs"):
        train([ModelCheckpoint(tmp_path / "m{nothing}.mlpk", save_best_only=False)], epochs=1)
    with pytest.raises(ValueError, match="ModelCheckpoint monitors 'val_loss', which this run does not log"):
        train([ModelCheckpoint(tmp_path / "m.mlpk")], epochs=1, validation=False)


# ---------------------------------------------------------------------------------- ReduceLROnPlateau
# lr 1.0, factor 0.5, patience 2, cooldown 1, min_lr 0.2, scores below; by hand (wait after each epoch):
# e0 5 best | e1 4 best | e2 4 w1 | e3 4 w2 -> lr 0.5, cooldown | e4 3 best (cooldown ends) | e5 w1 |
# e6 w2 -> 0.25, cooldown | e7 cooldown ends | e8 w1 | e9 w2 -> max(0.125, 0.2) = 0.2, cooldown | e10 | e11 w1 |
# e12 w2 -> already at min_lr: stays 0.2 | e13 w1
SCORES = [5.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0]
RATES = [1.0] * 4 + [0.5] * 3 + [0.25] * 3 + [0.2] * 4  # the rate each epoch trained with


def test_reduce_lr_on_plateau_against_hand_computed_rates():
    reducer = ReduceLROnPlateau("score", factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    _, history = train([Script(SCORES), reducer], epochs=len(SCORES), validation=False, learning_rate=1.0)
    assert history["learning_rate"] == RATES
    assert reducer.reductions == [(3, 0.5), (6, 0.25), (9, 0.2)]


def test_reduce_lr_min_delta_and_max_mode():
    # accuracy (max): 0.5, 0.55 (+0.05 > min_delta 0.01: best), 0.555 (+0.005: not), 0.556 (w2 -> 0.1)
    reducer = ReduceLROnPlateau("acc", factor=0.1, patience=2, min_delta=0.01)
    _, history = train([Script([0.5, 0.55, 0.555, 0.556, 0.6], key="acc"), reducer], epochs=5, validation=False,
                       learning_rate=1.0)
    np.testing.assert_allclose(history["learning_rate"], [1.0, 1.0, 1.0, 1.0, 0.1])


def test_reduce_lr_state_continues_a_resumed_run():
    whole = ReduceLROnPlateau("score", factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    _, straight = train([Script(SCORES), whole], epochs=len(SCORES), validation=False, learning_rate=1.0)
    first = ReduceLROnPlateau("score", factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    _, head = train([Script(SCORES[:6]), first], epochs=6, validation=False, learning_rate=1.0)
    second = ReduceLROnPlateau("score", factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    second.load_state_dict(first.state_dict())
    _, tail = train([Script(SCORES[6:]), second], epochs=len(SCORES) - 6, validation=False,
                    learning_rate=first.optimizer.learning_rate)
    assert head["learning_rate"] + tail["learning_rate"] == straight["learning_rate"]


def test_reduce_lr_rejects_bad_arguments():
    with pytest.raises(ValueError, match="factor must be below 1"):
        ReduceLROnPlateau(factor=1.0)
    with pytest.raises(ValueError, match="cooldown must be an integer >= 0, got -1"):
        ReduceLROnPlateau(cooldown=-1)
    with pytest.raises(ValueError, match="cooldown_counter must be an integer >= 0"):
        ReduceLROnPlateau().load_state_dict({"best": 1.0, "wait": 0})
    with pytest.raises(ValueError, match="ReduceLROnPlateau monitors 'val_loss', which this run does not log"):
        train([ReduceLROnPlateau()], epochs=1, validation=False)


# ------------------------------------------------------------------------------------------ the CLI
def test_train_log_dir_writes_csv_and_tensorboard(tmp_path):
    logs = tmp_path / "logs"
    run("train", "--epochs", "2", "--quiet", "--no-plots", "--out", tmp_path / "run", "--log-dir", logs)
    history = mlpkit.History.from_json(tmp_path / "run" / "history.json")
    header, *rows = read_csv(logs / "log.csv")
    assert [int(r[0]) for r in rows] == [0, 1]
    assert [float(r[header.index("val_loss")]) for r in rows] == history["val_loss"]
    if tensorboard_available():
        assert [s for s, _ in scalars(logs)["val_loss"]] == [0, 1]
    assert "log_dir" not in (tmp_path / "run" / "config.yaml").read_text()  # not a hyper-parameter
    # a resumed run continues the same log
    run("train", "--resume", tmp_path / "run", "--epochs", "3", "--quiet", "--no-plots", "--log-dir", logs)
    assert [int(r[0]) for r in read_csv(logs / "log.csv")[1:]] == [0, 1, 2]
    if tensorboard_available():
        assert [s for s, _ in scalars(logs)["val_loss"]] == [0, 1, 2]


def test_train_log_dir_without_tensorboard_is_a_note(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard.summary.writer.event_file_writer", None)
    result = run("train", "--epochs", "1", "--quiet", "--no-plots", "--out", tmp_path / "run", "--log-dir",
                 tmp_path / "logs")
    assert result.stderr.strip() == ("mlpkit: warning: --log-dir: tensorboard is not installed, so only log.csv is "
                                     "written (pip install 'mlpkit[tensorboard]')")
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["log.csv"]


def test_reduce_lr_matches_pytorch():
    """PyTorch's ReduceLROnPlateau (threshold_mode "abs", eps 0) with patience p - 1 is this rule with patience p."""
    torch = pytest.importorskip("torch")
    rng, network = np.random.default_rng(0), net()
    for _ in range(50):
        patience, cooldown = int(rng.integers(1, 5)), int(rng.integers(0, 3))
        factor, min_lr, min_delta = float(rng.choice([0.1, 0.5])), float(rng.choice([0.0, 0.01])), \
            float(rng.choice([0.0, 0.05]))
        parameter = torch.nn.Parameter(torch.zeros(1))
        reference = torch.optim.SGD([parameter], lr=1.0)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            reference, factor=factor, patience=patience - 1, threshold=min_delta, threshold_mode="abs",
            cooldown=cooldown, min_lr=min_lr, eps=0.0)
        reducer = ReduceLROnPlateau("score", factor, patience, min_delta, cooldown, min_lr)
        reducer.optimizer = SGD(learning_rate=1.0)  # as fit sets it; fit's part is tested above
        reducer.on_train_begin(network, History())
        for epoch, score in enumerate(np.round(np.cumsum(rng.normal(0, 0.1, 40)), 2).tolist()):
            reducer.on_epoch_end(epoch, {"score": score})
            scheduler.step(score)
            assert reducer.optimizer.learning_rate == pytest.approx(reference.param_groups[0]["lr"], rel=1e-12)
