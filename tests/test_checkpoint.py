"""Checkpoints: an interrupted run resumes bit-identically; the file format is safe and checked."""

import io
import json
import zipfile

import numpy as np
import pytest

from mlpkit import Adam, BatchNorm, Callback, Dense, Dropout, EarlyStopping, HalveOnPlateau, Network, Standardize, fit
from mlpkit.checkpoint import (
    Checkpoint,
    Checkpointer,
    CheckpointError,
    continue_history,
    continue_schedule,
    load_checkpoint,
    save_checkpoint,
)
from mlpkit.datasets import RandomShift, load_digits


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return data.train.X[:300], data.train.y[:300], data.validation.X, data.validation.y


def _network():
    layers = [Standardize(), Dense(20, use_bias=False), BatchNorm(activation="relu"), Dropout(0.8),
              Dense(10, "softmax")]
    return Network(layers, input_dim=64, regularizer={"name": "l2", "lmbda": 1.0}, seed=3)


class StopAfter(Callback):
    """Simulates Ctrl-C at the end of an epoch (after the checkpointer has taken its snapshot)."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def _run(net, data, epochs, *, offset=0, checkpoint=None, stop_after=None):
    """One fit call with every piece of state a resume must carry: Adam slots, a HalveOnPlateau schedule,
    early stopping, dropout masks and augmentation drawn from the generator."""
    X, y, X_val, y_val = data
    optimizer = checkpoint.restore_optimizer() if checkpoint else Adam(0.01)
    schedule = HalveOnPlateau(patience=1, monitor="val_loss", min_delta=0.2, factor=0.5)
    schedule.start(optimizer.learning_rate)
    previous = None
    if checkpoint:
        checkpoint.restore_schedule(schedule)
        previous = checkpoint.history
    stopper = EarlyStopping(monitor="val_loss", patience=50)
    if checkpoint:
        stopper.load_state_dict(checkpoint.early_stopping_state)
    keeper = Checkpointer(optimizer, schedule=schedule, early_stopping=stopper, epoch_offset=offset,
                          previous_history=previous, config={"note": "test"})
    callbacks = [stopper, keeper] + ([StopAfter(stop_after)] if stop_after is not None else [])
    rng = checkpoint.restore_rng() if checkpoint else np.random.default_rng(7)
    history = None
    try:
        history = fit(net, X, y, epochs=epochs, batch_size=16, optimizer=optimizer, validation_data=(X_val, y_val),
                      callbacks=callbacks, seed=rng, verbose=0, augment=RandomShift(1, (8, 8), n_jobs=1),
                      schedule=continue_schedule(schedule, offset, previous))
    except KeyboardInterrupt:
        pass
    return history, keeper


def test_interrupted_and_resumed_run_equals_the_straight_run(tmp_path, digits):
    straight = _network()
    history, _ = _run(straight, digits, 6)

    interrupted = _network()
    _, keeper = _run(interrupted, digits, 6, stop_after=2)
    path = keeper.save(tmp_path / "run.mlpkc")
    checkpoint = load_checkpoint(path)
    assert checkpoint.epoch == 3 and len(checkpoint.history) == 3 and checkpoint.config == {"note": "test"}

    resumed = checkpoint.restore_network()
    more, _ = _run(resumed, digits, 3, offset=3, checkpoint=checkpoint)
    np.testing.assert_array_equal(resumed.flat_parameters, straight.flat_parameters)
    for name, value in straight.named_states():
        np.testing.assert_array_equal(dict(resumed.named_states())[name], value)
    merged = continue_history(checkpoint.history, more, 3)
    assert merged.epochs == history.epochs == list(range(6))
    for key in ("loss", "val_loss", "val_accuracy", "learning_rate"):
        assert merged[key] == history[key]
    assert len(set(history["learning_rate"])) > 1  # the schedule did act, so its state mattered


def test_checkpoint_round_trip_keeps_every_piece(tmp_path, digits):
    net = _network()
    _, keeper = _run(net, digits, 2)
    original = keeper.latest
    loaded = load_checkpoint(save_checkpoint(tmp_path / "c.mlpkc", original))
    assert loaded.epoch == 2 and loaded.network_config == original.network_config
    for name, value in original.weights.items():
        np.testing.assert_array_equal(loaded.weights[name], value)
        assert loaded.weights[name].dtype == value.dtype
    assert loaded.optimizer_state["iterations"] == original.optimizer_state["iterations"] > 0
    for name, slot in original.optimizer_state["slots"].items():
        np.testing.assert_array_equal(loaded.optimizer_state["slots"][name], slot)
    assert loaded.rng_state == original.rng_state
    assert loaded.schedule_state == original.schedule_state
    assert loaded.early_stopping_state["best_epoch"] == original.early_stopping_state["best_epoch"]
    np.testing.assert_array_equal(loaded.early_stopping_state["best_params"],
                                  original.early_stopping_state["best_params"])
    assert loaded.history.history == original.history.history
    restored = loaded.restore_network()
    np.testing.assert_array_equal(restored.flat_parameters, net.flat_parameters)
    assert loaded.restore_rng().random() == np.random.Generator(np.random.PCG64()).__class__(
        _pcg(original.rng_state)).random()


def _pcg(state):
    bit_generator = np.random.PCG64()
    bit_generator.state = state
    return bit_generator


def test_snapshot_before_the_first_epoch_and_without_optional_parts(tmp_path):
    net = Network([4, 3, 2], seed=0)
    keeper = Checkpointer(Adam())
    X, y = np.random.default_rng(0).normal(size=(20, 4)), np.arange(20) % 2

    class Stop(Callback):
        def on_train_begin(self, network, history):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(net, X, y, epochs=3, optimizer=keeper.optimizer, callbacks=[keeper, Stop()], verbose=0, seed=0)
    assert keeper.latest.epoch == 0 and len(keeper.latest.history) == 0
    loaded = load_checkpoint(keeper.save(tmp_path / "c.mlpkc"))
    assert loaded.epoch == 0 and loaded.schedule_state is None and loaded.early_stopping_state is None
    assert loaded.restore_optimizer().iterations == 0


def test_saving_is_atomic(tmp_path, digits, monkeypatch):
    _, keeper = _run(_network(), digits, 1)
    path = keeper.save(tmp_path / "c.mlpkc")
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("mlpkit.checkpoint.os.replace", broken)
    with pytest.raises(OSError, match="disk full"):
        keeper.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.mlpkc"]


def _rewrite(path, *, document=None, arrays=None):
    """Rewrite a checkpoint's entries, changing the JSON document and/or the arrays."""
    with zipfile.ZipFile(path) as archive:
        doc = json.loads(archive.read("checkpoint.json"))
        raw = archive.read("arrays.npz")
    with np.load(io.BytesIO(raw)) as npz:
        arrs = {k: npz[k] for k in npz.files}
    if document:
        document(doc)
    if arrays:
        arrays(arrs)
    buffer = io.BytesIO()
    np.savez(buffer, **arrs)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("checkpoint.json", json.dumps(doc))
        archive.writestr("arrays.npz", buffer.getvalue())


@pytest.fixture
def saved(tmp_path, digits):
    _, keeper = _run(_network(), digits, 1)
    return keeper.save(tmp_path / "c.mlpkc")


@pytest.mark.parametrize(("change", "message"), [
    (lambda p: p.write_bytes(b"not a zip"), "not an mlpkit checkpoint"),
    (lambda p: _rewrite(p, document=lambda d: d.update(format="other")), "format field"),
    (lambda p: _rewrite(p, document=lambda d: d.update(format_version=99)), "format version 99"),
    (lambda p: _rewrite(p, document=lambda d: d.update(epoch=-1)), "'epoch' must be"),
    (lambda p: _rewrite(p, document=lambda d: d.update(rng={"bit_generator": "Evil"})), "unknown random generator"),
    (lambda p: _rewrite(p, document=lambda d: d["rng"]["state"].update(state="x")), "random generator state"),
    (lambda p: _rewrite(p, arrays=lambda a: a.pop("network/layers.1.W")), "missing"),
    (lambda p: _rewrite(p, arrays=lambda a: a.update({"network/layers.1.W": np.zeros((2, 2), np.float32)})),
     "the network needs"),
    (lambda p: _rewrite(p, arrays=lambda a: a.update({"optimizer/exp_avg": np.zeros(3)})), "float vector"),
    (lambda p: _rewrite(p, arrays=lambda a: a.update(extra=np.zeros(1))), "unexpected"),
    (lambda p: _rewrite(p, arrays=lambda a: a.update({"optimizer/exp_avg": np.array([object()] * 3)})),
     "dtype object are not read"),
])
def test_damaged_or_foreign_files_are_refused(saved, change, message):
    change(saved)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(saved)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint file"):
        load_checkpoint(tmp_path / "nothing.mlpkc")


def test_continue_schedule_passes_absolute_epochs_and_the_whole_history():
    from mlpkit import History

    seen = []

    def schedule(epoch, history):
        seen.append((epoch, len(history), list(history["val_accuracy"]) if "val_accuracy" in history else []))
        return 0.1

    previous = History()
    previous.append(0, {"val_accuracy": 0.5})
    current = History()
    current.append(0, {"val_accuracy": 0.6})
    scheduled = continue_schedule(schedule, 1, previous)
    scheduled(1, current)
    assert seen == [(2, 2, [0.5, 0.6])]
    assert continue_schedule(None, 3) is None


def test_checkpoint_dataclass_without_optimizer():
    net = Network([3, 2], seed=0)
    from mlpkit import History

    ckpt = Checkpoint(network_config=net.get_config(), weights=net.get_weights(), epoch=0, history=History())
    assert ckpt.restore_optimizer() is None and ckpt.restore_rng() is None
    ckpt.restore_schedule(None)


def test_fit_augment_hook_draws_from_the_training_generator_and_checks_its_output():
    # fit(augment=...) (added for --augment and exact resumes): applied to the training inputs each epoch
    X, y = np.random.default_rng(0).random((40, 4)), np.arange(40) % 2
    calls = []

    def augment(batch, rng):
        calls.append(batch.shape)
        return batch + rng.normal(scale=0.01, size=batch.shape)

    nets = [Network([4, 3, 2], seed=0) for _ in range(3)]
    fit(nets[0], X, y, epochs=3, verbose=0, seed=1, augment=augment)
    fit(nets[1], X, y, epochs=3, verbose=0, seed=1, augment=augment)
    fit(nets[2], X, y, epochs=3, verbose=0, seed=1)
    assert calls == [(40, 4)] * 6
    np.testing.assert_array_equal(nets[0].flat_parameters, nets[1].flat_parameters)
    assert not np.array_equal(nets[0].flat_parameters, nets[2].flat_parameters)
    with pytest.raises(ValueError, match="augment must return an array of the shape of X"):
        fit(Network([4, 3, 2]), X, y, epochs=1, verbose=0, augment=lambda b, rng: b[:5])
    with pytest.raises(TypeError, match="augment must be a function"):
        fit(Network([4, 3, 2]), X, y, epochs=1, verbose=0, augment="shift")
