"""Hostile files, each built on the fly: every reader (model files, checkpoints, .npz and .npy data, IDX/gzip,
settings files) refuses them with one line of its documented error class, and the inflating or huge ones
are refused within bounded memory (peak RSS of a child process).

Classes: ``zip`` (inflating members, lying sizes, bit flips, encrypted or unknown-method members,
duplicate, unexpected and overlapping members), ``npy`` (huge declared headers, object dtypes, headers that
disagree with their data), ``config`` (a configuration far larger than its arrays, deep nesting),
``idx`` (gzip bombs, huge declared dimensions), ``settings`` (YAML alias bombs, deep nesting, huge files),
``cli`` (``mlpkit predict``, ``evaluate``, ``train --dataset`` print one line and exit 2), and property
tests (arbitrary bytes and random mutations of valid files never raise anything but the documented errors).
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import textwrap
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.cli_runner import error

from mlpkit import Network
from mlpkit.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from mlpkit.datasets import load_npz
from mlpkit.datasets.errors import DataFormatError
from mlpkit.datasets.idx import IDXFormatError, parse_idx
from mlpkit.history import History
from mlpkit.serialization import ModelFileError, file_network_config, load_network
from mlpkit.settings import SettingsError
from mlpkit.settings.files import read_settings_file

SRC = Path(__file__).resolve().parents[2] / "src"
ONE_LINE_MAX = 600


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and len(text) < ONE_LINE_MAX, text[:1000]
    return text


def _network() -> Network:
    return Network([4, 8, 3], seed=0)


@pytest.fixture
def model(tmp_path) -> Path:
    return _network().save(tmp_path / "m.mlpk")


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    net = _network()
    ckpt = Checkpoint(network_config=file_network_config(net), weights=net.get_weights(), epoch=0, history=History())
    return save_checkpoint(tmp_path / "c.mlpkc", ckpt)


@pytest.fixture
def data_npz(tmp_path) -> Path:
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((6, 4)), y=np.array([0, 1, 2, 0, 1, 2]))
    return path


def _zip(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate names we write on purpose
        with zipfile.ZipFile(buffer, "w", compression=method) as archive:
            for name, data in entries:
                archive.writestr(name, data)
    return buffer.getvalue()


def _entries(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def _npy(shape: tuple[int, ...], dtype: str = "<f8", data: bytes = b"\0" * 64) -> bytes:
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def _patch_central(data: bytes, name: bytes, offset: int, fmt: str, value: int, local: int | None = None) -> bytes:
    """Set a field of ``name``'s central directory entry (and, at ``local``, of its local header)."""
    out = bytearray(data)
    at = out.index(b"PK\x01\x02")
    while True:
        n = struct.unpack_from("<H", out, at + 28)[0]
        if bytes(out[at + 46:at + 46 + n]) == name:
            struct.pack_into(fmt, out, at + offset, value)
            if local is not None:
                struct.pack_into(fmt, out, struct.unpack_from("<I", out, at + 42)[0] + local, value)
            return bytes(out)
        at = out.index(b"PK\x01\x02", at + 4)


def _refused(loader, path, error_class, match: str) -> str:
    with pytest.raises(error_class, match=match) as info:
        loader(path)
    return _one_line(info.value)


def _peak_rss_mb(code: str) -> tuple[float, str]:
    """Run ``code`` in a child Python; its peak RSS in MB beyond the imports, and its output."""
    program = f"import sys\nsys.path.insert(0, {str(SRC)!r})\n" + textwrap.dedent("""
        import resource
        import mlpkit, mlpkit.checkpoint, mlpkit.datasets
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    """) + textwrap.dedent(code) + textwrap.dedent("""
        print("PEAK", (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)
    """)
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    peak = float(result.stdout.strip().splitlines()[-1].split()[1])
    return peak, result.stdout


# ------------------------------------------------------------------------------------------------- zip
def _bomb(tmp_path: Path, template: Path, inflated: int, declared: int | None) -> Path:
    """``template`` with its arrays.npz replaced by ``inflated`` zero bytes deflated (1 MiB per ~1 KiB),
    declaring ``declared`` bytes (None: the truth)."""
    entries = dict(_entries(template))
    compressor, parts = zlib.compressobj(9, zlib.DEFLATED, -15), []
    chunk = bytes(1 << 20)
    for _ in range(inflated >> 20):
        parts.append(compressor.compress(chunk))
    parts.append(compressor.flush())
    raw = _zip([(name, data) for name, data in entries.items() if name != "arrays.npz"])
    body = b"".join(parts)
    # a deflated member of the right CRC for the declared content, the stream itself inflating further
    name = b"arrays.npz"
    size = inflated if declared is None else declared
    crc = zlib.crc32(bytes(size)) if size <= (1 << 26) else 0
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(body), size, len(name), 0) + name
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        first = archive.infolist()[0]
        head_end = archive.start_dir
        central = raw[head_end:]
    offset = head_end
    entry = struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(body), size, len(name), 0, 0, 0,
                        0, 0, offset) + name
    end = central.index(b"PK\x05\x06")
    old_dir = central[:end]
    new_dir = old_dir + entry
    eocd = bytearray(central[end:end + 22])
    struct.pack_into("<HHII", eocd, 8, 2, 2, len(new_dir), offset + len(local) + len(body))
    assert first.header_offset == 0
    path = tmp_path / f"bomb-{inflated}-{declared}.mlpk"
    path.write_bytes(raw[:head_end] + local + body + new_dir + bytes(eocd))
    return path


def test_zip_inflating_arrays_declared_honestly_are_refused_unread(tmp_path, model):
    bomb = _bomb(tmp_path, model, 64 << 20, None)
    assert bomb.stat().st_size < 200_000
    _refused(load_network, bomb, ModelFileError, "declares 67,108,864 bytes, more than the")


@pytest.mark.parametrize("kind", ["model", "checkpoint"])
def test_zip_inflating_arrays_with_a_lying_size_stop_at_the_declared_size(tmp_path, model, checkpoint, kind):
    """256 MiB of zeros in 256 KB of deflate, declaring 1,000 bytes: refused, the child's peak stays small."""
    template = model if kind == "model" else checkpoint
    bomb = _bomb(tmp_path, template, 256 << 20, 1000)
    assert bomb.stat().st_size < 300_000
    loader = "mlpkit.load_network" if kind == "model" else "mlpkit.checkpoint.load_checkpoint"
    peak, out = _peak_rss_mb(f"""
        try:
            {loader}({str(bomb)!r})
        except mlpkit.ModelFileError as exc:
            print("REFUSED", str(exc).count(chr(10)), str(exc)[:300])
    """)
    assert "REFUSED 0" in out, out
    assert peak < 100, f"peak {peak:.0f} MB beyond the imports"


def _flip_all(data: bytes, start: int, stop: int, step: int) -> list[bytes]:
    return [data[:i] + bytes([data[i] ^ 0x40]) + data[i + 1:] for i in range(start, stop, step)]


@pytest.mark.parametrize("kind", ["model", "checkpoint", "npz"])
def test_zip_bit_flips_anywhere_give_the_documented_error_or_a_valid_load(tmp_path, model, checkpoint, data_npz, kind):
    template, loader, error_class = {"model": (model, load_network, ModelFileError),
                                     "checkpoint": (checkpoint, load_checkpoint, CheckpointError),
                                     "npz": (data_npz, load_npz, DataFormatError)}[kind]
    data = template.read_bytes()
    tried = refused = 0
    for i, mutated in enumerate(_flip_all(data, 0, len(data), max(1, len(data) // 150))):
        path = tmp_path / f"flip{i}{template.suffix}"
        path.write_bytes(mutated)
        tried += 1
        try:
            loader(path)
        except error_class as exc:
            _one_line(exc)
            refused += 1
        except ModelFileError as exc:  # a checkpoint's network section is checked as a model's
            assert kind == "checkpoint", exc
            refused += 1
    assert tried >= 100 and refused >= tried // 2


def test_zip_flips_inside_the_deflate_stream_are_corrupt_member_errors(tmp_path, model):
    data = model.read_bytes()
    with zipfile.ZipFile(model) as archive:
        info = archive.getinfo("arrays.npz")
    start = info.header_offset + 30 + len("arrays.npz")
    for i, mutated in enumerate(_flip_all(data, start, start + info.compress_size, info.compress_size // 40)):
        path = tmp_path / f"d{i}.mlpk"
        path.write_bytes(mutated)
        _one_line(_refused_any(path))


def _refused_any(path: Path) -> ModelFileError:
    with pytest.raises(ModelFileError) as info:
        load_network(path)
    return info.value


@pytest.mark.parametrize(("field", "fmt", "value", "local", "match"), [
    (8, "<H", 1, 6, "is encrypted"),             # general purpose flag, bit 0
    (10, "<H", 99, 8, "compression method 99"),  # an unknown method
    (10, "<H", 12, 8, "compression method 12"),  # bzip2: real, but not one mlpkit writes
])
@pytest.mark.parametrize("member", [b"config.json", b"arrays.npz"])
def test_zip_encrypted_or_unknown_method_members_are_refused(tmp_path, model, field, fmt, value, local, match, member):
    path = tmp_path / "x.mlpk"
    path.write_bytes(_patch_central(model.read_bytes(), member, field, fmt, value, local))
    _refused(load_network, path, ModelFileError, match)


def test_zip_encrypted_npz_member_and_checkpoint_are_refused(tmp_path, checkpoint, data_npz):
    path = tmp_path / "x.npz"
    path.write_bytes(_patch_central(data_npz.read_bytes(), b"X.npy", 8, "<H", 1, 6))
    _refused(load_npz, path, DataFormatError, "encrypted")
    path = tmp_path / "x.mlpkc"
    path.write_bytes(_patch_central(checkpoint.read_bytes(), b"checkpoint.json", 10, "<H", 99, 8))
    _refused(load_checkpoint, path, CheckpointError, "compression method 99")


def test_zip_duplicate_and_unexpected_members_are_refused(tmp_path, model, data_npz):
    entries = _entries(model)
    config = dict(entries)["config.json"]
    cases = {
        "dup-config": [*entries, ("config.json", config)],
        "dup-arrays": [*entries, ("arrays.npz", dict(entries)["arrays.npz"])],
        "extra": [*entries, ("evil.txt", b"x")],
        "missing": entries[:1],
    }
    for name, members in cases.items():
        path = tmp_path / f"{name}.mlpk"
        path.write_bytes(_zip(members))
        _refused(load_network, path, ModelFileError, "appears twice" if name.startswith("dup") else "expected entries")
    npz_entries = _entries(data_npz)
    for name, members, match in [("dup", [*npz_entries, npz_entries[0]], "appears twice"),
                                 ("extra", [*npz_entries, ("notes.txt", b"hello")], "unexpected member 'notes.txt'")]:
        path = tmp_path / f"{name}.npz"
        path.write_bytes(_zip(members, zipfile.ZIP_STORED))
        _refused(load_npz, path, DataFormatError, match)
    # arrays.npz of a model: an unexpected array, and a compressed member (np.savez writes them stored)
    arrays = dict(entries)["arrays.npz"]
    inner = _entries_bytes(arrays)
    for members, method, match in [([*inner, ("extra.npy", _npy((1,), data=b"\0" * 8))], zipfile.ZIP_STORED,
                                    "unexpected"),
                                   (inner, zipfile.ZIP_DEFLATED, "compression method 8")]:
        path = tmp_path / "inner.mlpk"
        path.write_bytes(_zip([("config.json", config), ("arrays.npz", _zip(members, method))]))
        _refused(load_network, path, ModelFileError, match)


def _entries_bytes(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def test_zip_overlapping_members_are_refused(tmp_path, data_npz):
    """Two directory entries sharing one member's bytes (the overlapping zip bomb)."""
    data = data_npz.read_bytes()
    with zipfile.ZipFile(data_npz) as archive:
        first = archive.getinfo("X.npy").header_offset
    path = tmp_path / "overlap.npz"
    path.write_bytes(_patch_central(data, b"y.npy", 42, "<I", first))
    _refused(load_npz, path, DataFormatError, "overlaps|differ|cannot be read|not a valid")


def test_zip_garbage_and_truncated_files_are_refused(tmp_path, model):
    for i, data in enumerate([b"", b"PK\x05\x06" + bytes(18), model.read_bytes()[: model.stat().st_size // 2],
                              b"PK\x03\x04" + bytes(100)]):
        path = tmp_path / f"g{i}.mlpk"
        path.write_bytes(data)
        _refused(load_network, path, ModelFileError, "invalid|not|must|unknown|describes")


# ------------------------------------------------------------------------------------------------- npy
def test_npy_huge_declared_headers_are_refused_before_allocating(tmp_path, model):
    huge = _npy((10**12, 64))
    path = tmp_path / "x.npy"
    path.write_bytes(huge)
    from mlpkit._bounded import read_npy_file
    _refused(lambda p: read_npy_file(p, error=DataFormatError), path, DataFormatError, "more than the")
    npz = tmp_path / "h.npz"
    npz.write_bytes(_zip([("X.npy", huge), ("y.npy", _npy((2,), "<i8", b"\0" * 16))], zipfile.ZIP_STORED))
    _refused(load_npz, npz, DataFormatError, "more than the")
    entries = dict(_entries(model))
    inner = [(n, huge if n.endswith("W.npy") else d) for n, d in _entries_bytes(entries["arrays.npz"])]
    bad = tmp_path / "h.mlpk"
    bad.write_bytes(_zip([("config.json", entries["config.json"]), ("arrays.npz", _zip(inner, zipfile.ZIP_STORED))]))
    _refused(load_network, bad, ModelFileError, "more than the")


@pytest.mark.parametrize(("shape", "dtype", "data", "match"), [
    ((3, 2), "<f8", b"\0" * 40, "the file holds 40 bytes"),   # header and data disagree
    ((3, 2), "<f8", b"\0" * 56, "the file holds 56 bytes"),
    ((2,), "|O", b"\0" * 16, "dtype object"),
    ((2,), [("a", "<f8")], b"\0" * 16, "are not read"),
    ((-1, 2), "<f8", b"", "not a valid|invalid shape"),
    ((1,) * 40, "<f8", b"\0" * 8, "invalid shape"),
])
def test_npy_bad_headers_are_refused(tmp_path, shape, dtype, data, match):
    path = tmp_path / "x.npy"
    path.write_bytes(_npy(shape, dtype, data))
    from mlpkit._bounded import read_npy_file
    _refused(lambda p: read_npy_file(p, error=DataFormatError), path, DataFormatError, match)


def test_npy_huge_headers_cost_no_memory_in_a_child():
    peak, out = _peak_rss_mb("""
        import io, struct, tempfile, pathlib
        from mlpkit._bounded import read_npy_file
        from mlpkit.datasets.errors import DataFormatError
        header = repr({"descr": "<f8", "fortran_order": False, "shape": (10**6, 64)}).encode()
        header += b" " * (63 - (10 + len(header)) % 64) + b"\\n"
        with tempfile.TemporaryDirectory() as d:
            p = pathlib.Path(d) / "x.npy"
            p.write_bytes(b"\\x93NUMPY\\x01\\x00" + struct.pack("<H", len(header)) + header + bytes(64))
            try:
                read_npy_file(p, error=DataFormatError)
            except DataFormatError as exc:
                print("REFUSED", exc)
    """)
    assert "REFUSED" in out and "the file holds 64 bytes" in out and peak < 20


# ---------------------------------------------------------------------------------------------- config
def _with_config(model: Path, path: Path, change) -> Path:
    entries = dict(_entries(model))
    config = json.loads(entries["config.json"])
    change(config)
    path.write_bytes(_zip([("config.json", json.dumps(config).encode()), ("arrays.npz", entries["arrays.npz"])]))
    return path


def test_config_far_larger_than_its_arrays_is_refused_unbuilt(tmp_path, model):
    def huge(config):
        config["network"]["input_dim"] = 64
        config["network"]["layers"][0]["units"] = 12000
        config["network"]["layers"].insert(1, {**config["network"]["layers"][0], "units": 12000})
        config["network"].pop("layer_sizes", None)

    path = _with_config(model, tmp_path / "big.mlpk", huge)
    message = _refused(load_network, path, ModelFileError, "describes a network of up to .* but its arrays hold")
    peak, out = _peak_rss_mb(f"""
        try:
            mlpkit.load_network({str(path)!r})
        except mlpkit.ModelFileError as exc:
            print("REFUSED", exc)
    """)
    assert "REFUSED" in out and peak < 40, (peak, message)


@pytest.mark.parametrize("change", [
    lambda c: c.update(metadata=[1, 2]),
    lambda c: c["network"].update(input_dim=1e308 * 10),
    lambda c: c["network"].update(input_dim="64"),
    lambda c: c["network"].update(dtype="object"),
    lambda c: c["network"]["layers"][0].update(units=-5),
    lambda c: c["network"]["layers"][0].update(units=10**30),
    lambda c: c["network"].update(layers=[{"type": "dense"}]),
    lambda c: c["network"].update(layer_sizes=[{"size": -1, "n_out": 0}]),
])
def test_config_values_out_of_range_are_refused(tmp_path, model, change):
    path = _with_config(model, tmp_path / "c.mlpk", change)
    _refused(load_network, path, ModelFileError, "invalid|must|describes|metadata")


@pytest.mark.parametrize("text", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
                                  b'{"format": "mlpkit-model", "format_version": 1' + b"9" * 5000 + b"}",
                                  b"\xff\xfe garbage"])
def test_config_deep_nesting_huge_numbers_and_bad_encoding_are_refused(tmp_path, model, text):
    entries = dict(_entries(model))
    path = tmp_path / "deep.mlpk"
    path.write_bytes(_zip([("config.json", text), ("arrays.npz", entries["arrays.npz"])]))
    _refused(load_network, path, ModelFileError, "nested too deeply|not valid JSON|format")


# ------------------------------------------------------------------------------------------------- idx
def _gzip(payload_parts: list[bytes]) -> bytes:
    compressor, out = zlib.compressobj(9, zlib.DEFLATED, 31), []
    for part in payload_parts:
        out.append(compressor.compress(part))
    out.append(compressor.flush())
    return b"".join(out)


def test_idx_gzip_bomb_stops_after_the_declared_size():
    header = bytes((0, 0, 8, 3)) + struct.pack(">3I", 2, 3, 4)
    bomb = _gzip([header, *[bytes(1 << 20)] * 256])  # 256 MiB of zeros after a 24-byte array
    assert len(bomb) < 300_000
    with pytest.raises(IDXFormatError, match="longer than its header says") as info:
        parse_idx(bomb, name="bomb.gz")
    _one_line(info.value)


@pytest.mark.parametrize(("data", "match"), [
    (_gzip([bytes((0, 0, 8, 3)) + struct.pack(">3I", 2**32 - 1, 2**32 - 1, 2**32 - 1)]), "more than the"),
    (bytes((0, 0, 0x0E, 2)) + struct.pack(">2I", 10**9, 10**9), "more than the"),
    (_gzip([bytes((0, 0, 8, 1)) + struct.pack(">I", 10)])[:-12], "truncated|corrupt"),
    (_gzip([bytes((0, 0, 8, 1)) + struct.pack(">I", 4) + b"abcd"]) + b"garbage", "corrupt"),
    (b"\x1f\x8b" + bytes(30), "corrupt"),
])
def test_idx_declared_dims_and_corrupt_gzip_are_refused(data, match):
    with pytest.raises(IDXFormatError, match=match) as info:
        parse_idx(data, name="x.gz")
    _one_line(info.value)


# -------------------------------------------------------------------------------------------- settings
BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


@pytest.mark.parametrize(("name", "text", "match"), [
    ("bomb.yaml", BILLION_LAUGHS, "expands to more than"),
    ("bomb-value.yaml", BILLION_LAUGHS + "epochs: *i\n", "expands to more than"),
    ("cycle.yaml", "a: &a [*a]\n", "expands to more than|not valid YAML"),
    ("deep.yaml", "epochs: " + "[" * 50_000 + "]" * 50_000, "nested too deeply|not valid YAML"),
    ("deep.json", '{"epochs": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply|not valid JSON"),
    ("deep.toml", "epochs = " + "[" * 100_000 + "]" * 100_000, "nested too deeply|not valid TOML"),
    ("huge.toml", "# " + "x" * (2 << 20), "more than the"),
    ("long.yaml", "epochs: [" + "1," * 20_000 + "\n", "not valid YAML|expands"),
])
def test_settings_bombs_are_one_short_line(tmp_path, name, text, match):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SettingsError, match=match) as info:
        read_settings_file(path)
    assert len(_one_line(info.value)) < 400


# ------------------------------------------------------------------------------------------------- cli
def test_cli_prints_one_line_and_exits_2_on_hostile_files(tmp_path, model, monkeypatch):
    monkeypatch.chdir(tmp_path)
    huge = tmp_path / "huge.npy"
    huge.write_bytes(_npy((10**12, 64)))
    assert "more than the" in error("predict", model, huge)
    huge_npz = tmp_path / "huge.npz"
    huge_npz.write_bytes(_zip([("X.npy", _npy((10**12, 4))), ("y.npy", _npy((2,), "<i8", b"\0" * 16))],
                              zipfile.ZIP_STORED))
    assert "more than the" in error("predict", model, huge_npz)
    assert "more than the" in error("evaluate", model, "--dataset", huge_npz)
    assert "more than the" in error("train", "--dataset", huge_npz, "--epochs", "1")
    dup = tmp_path / "dup.npz"
    dup.write_bytes(_zip([("X.npy", _npy((2, 4), data=b"\0" * 64)), ("X.npy", _npy((2, 4), data=b"\0" * 64))],
                         zipfile.ZIP_STORED))
    assert "appears twice" in error("predict", model, dup)
    bomb = _bomb(tmp_path, model, 8 << 20, 1000)
    inputs = tmp_path / "in.npy"
    np.save(inputs, np.ones((2, 4)))
    assert "mlpkit: error:" in error("predict", bomb, inputs)
    dup_model = tmp_path / "dup.mlpk"
    dup_model.write_bytes(_zip([*_entries(model), _entries(model)[0]]))
    assert "appears twice" in error("evaluate", dup_model, "--dataset", huge_npz)


# -------------------------------------------------------------------------------------------- property
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])


def _mutations():
    return st.lists(st.tuples(st.sampled_from(["flip", "cut", "insert", "zero"]), st.floats(0, 1),
                              st.integers(0, 255)), min_size=1, max_size=4)


def _mutate(data: bytes, steps) -> bytes:
    for kind, where, value in steps:
        i = int(where * max(len(data) - 1, 0))
        if kind == "flip" and data:
            data = data[:i] + bytes([data[i] ^ (value or 1)]) + data[i + 1:]
        elif kind == "cut":
            data = data[:i]
        elif kind == "insert":
            data = data[:i] + bytes([value]) * (value % 7 + 1) + data[i:]
        elif kind == "zero":
            data = data[:i] + bytes(min(value, len(data) - i)) + data[i + value:]
    return data


@FAST
@given(st.binary(max_size=2000))
def test_property_arbitrary_bytes_give_only_documented_errors(tmp_path_factory, data):
    directory = tmp_path_factory.mktemp("bytes")
    for suffix, loader, allowed in [(".mlpk", load_network, ModelFileError),
                                    (".mlpkc", load_checkpoint, ModelFileError),
                                    (".npz", load_npz, DataFormatError)]:
        path = directory / f"x{suffix}"
        path.write_bytes(data)
        try:
            loader(path)
        except allowed as exc:
            _one_line(exc)
    try:
        parse_idx(data, name="x")
    except IDXFormatError as exc:
        _one_line(exc)
    try:
        parse_idx(b"\x1f\x8b" + data, name="x.gz")
    except IDXFormatError as exc:
        _one_line(exc)


@pytest.mark.parametrize("kind", ["model", "checkpoint", "npz", "npy"])
def test_property_mutated_valid_files_give_only_documented_errors(tmp_path, model, checkpoint, data_npz, kind):
    from mlpkit._bounded import read_npy_file
    npy = tmp_path / "v.npy"
    np.save(npy, np.arange(12.0).reshape(3, 4))
    template, loader, allowed = {
        "model": (model, load_network, ModelFileError), "checkpoint": (checkpoint, load_checkpoint, ModelFileError),
        "npz": (data_npz, load_npz, DataFormatError),
        "npy": (npy, lambda p: read_npy_file(p, error=DataFormatError), DataFormatError)}[kind]
    original = template.read_bytes()

    @FAST
    @given(_mutations())
    def check(steps):
        path = tmp_path / f"mutated{template.suffix}"
        path.write_bytes(_mutate(original, steps))
        try:
            loader(path)
        except allowed as exc:
            _one_line(exc)

    check()
