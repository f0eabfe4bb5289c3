"""Safe save/load: round trips, atomic writes, and refusal of anything that is not a valid model file."""

import io
import json
import zipfile

import numpy as np
import pytest

import mlpkit
from mlpkit import L2, Dense, ModelFileError, Network
from mlpkit.layers import Activation
from mlpkit.serialization import ARRAYS_ENTRY, CONFIG_ENTRY


def _trained(dtype="float32"):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(120, 5)), rng.integers(0, 3, 120)
    net = Network([Dense(7, "relu", init="he"), Dense(6, "tanh", use_bias=False), Dense(3), Activation("softmax")],
                  input_dim=5, regularizer=L2(0.5), dtype=dtype, seed=1)
    net.fit(X, y, epochs=2, verbose=0)
    return net, X, y


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_gives_identical_predictions(tmp_path, dtype):
    net, X, y = _trained(dtype)
    path = net.save(tmp_path / "model.mlpk")
    loaded = mlpkit.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    assert loaded.evaluate(X, y) == net.evaluate(X, y)
    assert loaded.get_config() == net.get_config()
    assert loaded.dtype == net.dtype


def test_metadata_is_kept(tmp_path):
    from mlpkit.serialization import save_network

    net, _, _ = _trained()
    save_network(net, tmp_path / "m.mlpk", metadata={"dataset": "digits", "epochs": 2})
    assert mlpkit.load(tmp_path / "m.mlpk").metadata == {"dataset": "digits", "epochs": 2}


def test_the_file_contains_no_pickle(tmp_path):
    net, _, _ = _trained()
    path = net.save(tmp_path / "m.mlpk")
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == [ARRAYS_ENTRY, CONFIG_ENTRY]
        json.loads(archive.read(CONFIG_ENTRY))
        with np.load(io.BytesIO(archive.read(ARRAYS_ENTRY)), allow_pickle=False) as npz:
            assert all(npz[name].dtype != object for name in npz.files)


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    net, _, _ = _trained()
    path = net.save(tmp_path / "m.mlpk")
    before = path.read_bytes()

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", explode)
    with pytest.raises(OSError, match="disk full"):
        net.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.mlpk"]


def _rewrite(path, *, config=None, arrays=None, extra=None):
    """Write a model file with a tampered config and/or arrays."""
    with zipfile.ZipFile(path) as archive:
        cfg = json.loads(archive.read(CONFIG_ENTRY))
        raw = archive.read(ARRAYS_ENTRY)
    if config is not None:
        cfg = config(cfg)
    if arrays is not None:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
        buffer = io.BytesIO()
        np.savez(buffer, **arrays(data))
        raw = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(CONFIG_ENTRY, json.dumps(cfg))
        archive.writestr(ARRAYS_ENTRY, raw)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)


def _with(cfg, **changes):
    cfg.update(changes)
    return cfg


def _set_units(cfg, units):
    cfg["network"]["layers"][0]["units"] = units
    return cfg


def _set_layer_type(cfg, kind):
    cfg["network"]["layers"][0]["type"] = kind
    return cfg


def _pickled(data):
    data["layers.0.W"] = np.array([object()], dtype=object)
    return data


@pytest.mark.parametrize(("tamper", "message"), [
    ({"config": lambda c: _with(c, format="something-else")}, "not an mlpkit model file"),
    ({"config": lambda c: _with(c, format_version=99)}, "format version 99"),
    ({"config": lambda c: _set_layer_type(c, "os.system")}, "unknown layer type 'os.system'"),
    ({"config": lambda c: _set_units(c, 10**9)}, "more than"),
    ({"config": lambda c: _set_units(c, 8)}, "larger than the model|has shape|needs float"),
    ({"arrays": lambda d: {k: v for k, v in d.items() if k != "layers.1.W"}}, r"missing \['layers.1.W'\]"),
    ({"arrays": lambda d: {**d, "evil": np.zeros(2)}}, r"unexpected \['evil'\]"),
    ({"arrays": lambda d: {**d, "layers.0.W": d["layers.0.W"].astype(np.float64)}}, "needs float32"),
    ({"arrays": _pickled}, "dtype object are not read|needs float32"),
    ({"extra": {"payload.pkl": b"x"}}, "expected entries"),
])
def test_tampered_files_are_refused(tmp_path, tamper, message):
    net, _, _ = _trained()
    path = net.save(tmp_path / "m.mlpk")
    _rewrite(path, **tamper)
    with pytest.raises(ModelFileError, match=message):
        mlpkit.load(path)


def test_non_model_files_are_refused(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ModelFileError, match="expected a zip archive"):
        mlpkit.load(text)
    with pytest.raises(FileNotFoundError, match="no model file"):
        mlpkit.load(tmp_path / "missing.mlpk")
    bad_json = tmp_path / "bad.mlpk"
    with zipfile.ZipFile(bad_json, "w") as archive:
        archive.writestr(CONFIG_ENTRY, "{not json")
        archive.writestr(ARRAYS_ENTRY, b"")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        mlpkit.load(bad_json)


def test_pickle_bytes_are_never_unpickled(tmp_path):
    """An .npz member holding a pickled object array must be refused without running it."""
    net, _, _ = _trained()
    path = net.save(tmp_path / "m.mlpk")
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (marker.write_text, ("oops",))

    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as archive:
        with np.load(io.BytesIO(archive.read(ARRAYS_ENTRY))) as npz:
            data = {k: npz[k] for k in npz.files}
        cfg = archive.read(CONFIG_ENTRY)
    data["layers.0.W"] = np.array([Exploit()], dtype=object)
    np.savez(buffer, **data)
    assert b"write_text" in buffer.getvalue()  # the payload really is in the file
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(CONFIG_ENTRY, cfg)
        archive.writestr(ARRAYS_ENTRY, buffer.getvalue())
    with pytest.raises(ModelFileError):
        mlpkit.load(path)
    assert not marker.exists()
