"""Downloading MNIST from mirrors, tested against a local HTTP server on 127.0.0.1 serving the real files."""

from __future__ import annotations

import functools
import hashlib
import shutil
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from mlpkit._atomic import atomic_write
from mlpkit.datasets import ChecksumError, DataNotFoundError, load_mnist
from mlpkit.datasets.download import check_mirrors, download_file

NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
SMALL = "t10k-labels-idx1-ubyte.gz"  # 4,542 bytes
SMALL_SIZE = 4542


class _Handler(SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, format, *args):  # keep test output clean
        pass

    def do_GET(self):
        self.requests.append(self.path)
        super().do_GET()


class Mirror:
    """A local HTTP server with ``good/`` (the real files), ``bad/`` (one corrupted, one too long)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        handler = type("Handler", (_Handler,), {"requests": self.requests})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def mirror(mnist_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("mirror")
    good, bad = root / "good", root / "bad"
    good.mkdir()
    bad.mkdir()
    for name in NAMES:
        shutil.copyfile(mnist_dir / name, good / name)
    data = bytearray((good / SMALL).read_bytes())
    data[2000] ^= 0xFF
    (bad / SMALL).write_bytes(bytes(data))
    (bad / "train-labels-idx1-ubyte.gz").write_bytes((good / "train-labels-idx1-ubyte.gz").read_bytes() + b"x")
    server = Mirror(root)
    yield server
    server.close()


@pytest.fixture
def target(tmp_path, monkeypatch):
    """An empty download directory named by MLPKIT_DATA, with the user cache moved out of $HOME."""
    monkeypatch.setenv("MLPKIT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "data"


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_downloads_once_verifies_and_loads(mirror, target, mnist_dir):
    mirror.requests.clear()
    data = load_mnist(mirrors=[mirror.url + "good/"])
    assert sorted(p.name for p in target.iterdir()) == sorted(NAMES)  # no temporary files left
    for name in NAMES:
        assert _md5(target / name) == MD5[name]
    assert sorted(mirror.requests) == sorted(f"/good/{name}" for name in NAMES)
    assert np.bincount(data.test.y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert not (target.parent / "cache").exists()  # downloaded into MLPKIT_DATA, not the cache

    mirror.requests.clear()
    load_mnist(mirrors=[mirror.url + "good/"])
    assert mirror.requests == []  # second call: files already there


def test_only_missing_files_are_fetched(mirror, target, mnist_dir):
    target.mkdir()
    for name in NAMES[:3]:
        shutil.copyfile(mnist_dir / name, target / name)
    mirror.requests.clear()
    data = load_mnist(target, mirrors=[mirror.url + "good/"])
    assert mirror.requests == [f"/good/{SMALL}"]
    assert len(data.test) == 10000


def test_bad_checksum_raises_and_leaves_nothing(mirror, target, mnist_dir):
    target.mkdir()
    for name in NAMES[:3]:
        shutil.copyfile(mnist_dir / name, target / name)
    with pytest.raises(ChecksumError) as info:
        load_mnist(mirrors=[mirror.url + "bad/"])
    message = str(info.value)
    assert SMALL in message and MD5[SMALL] in message and "nothing was saved" in message
    assert sorted(p.name for p in target.iterdir()) == sorted(NAMES[:3])  # no partial or final file


def test_next_mirror_is_tried_after_a_failure(mirror, target, mnist_dir):
    target.mkdir()
    for name in NAMES[:3]:
        shutil.copyfile(mnist_dir / name, target / name)
    mirror.requests.clear()
    load_mnist(mirrors=[_closed_port_url(), mirror.url + "bad/", mirror.url + "good/"])
    assert mirror.requests == [f"/bad/{SMALL}", f"/good/{SMALL}"]
    assert _md5(target / SMALL) == MD5[SMALL]


def test_unwritable_target_is_reported(mirror, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(DataNotFoundError, match=r"cannot be saved into .*a-file/mnist"):
        load_mnist(blocker / "mnist", mirrors=[mirror.url + "good/"])


def test_interrupted_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "file.gz"
    path.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_write(path) as f:
        f.write(b"half of the new")
        raise KeyboardInterrupt
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["file.gz"]
    with atomic_write(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["file.gz"]


# ---- download_file on its own (no decoding): the failure modes of one mirror ----


def _fetch(mirrors, dest_dir, name=SMALL, size=SMALL_SIZE):
    return download_file(check_mirrors(mirrors), name, dest_dir, md5=MD5[SMALL], size=size)


def test_download_file_success(mirror, tmp_path):
    path = _fetch(mirror.url + "good", tmp_path / "new" / "dir")
    assert path == tmp_path / "new" / "dir" / SMALL and _md5(path) == MD5[SMALL]


def test_download_file_too_long_is_refused(mirror, tmp_path):
    with pytest.raises(ChecksumError, match="more than the expected 4542 bytes"):
        download_file(
            check_mirrors([mirror.url + "bad/"]), "train-labels-idx1-ubyte.gz", tmp_path, md5=MD5[SMALL], size=4542
        )
    assert list(tmp_path.iterdir()) == []


def test_download_file_too_short_is_refused(mirror, tmp_path):
    with pytest.raises(ChecksumError, match=f"{SMALL_SIZE} bytes instead of {SMALL_SIZE + 10}"):
        _fetch([mirror.url + "good/"], tmp_path, size=SMALL_SIZE + 10)
    assert list(tmp_path.iterdir()) == []


def test_download_file_http_404(mirror, tmp_path):
    with pytest.raises(DataNotFoundError, match="HTTP Error 404"):
        _fetch([mirror.url + "nowhere/"], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_download_file_lists_every_attempt(mirror, tmp_path):
    closed = _closed_port_url()
    with pytest.raises(DataNotFoundError) as info:
        _fetch([closed, mirror.url + "nowhere/"], tmp_path)
    message = str(info.value)
    assert closed + SMALL in message and mirror.url + "nowhere/" + SMALL in message


@pytest.mark.parametrize(
    ("mirrors", "error"),
    [([], TypeError), (None, TypeError), (["ftp://x/"], ValueError), ([b"http://x/"], ValueError)],
)
def test_check_mirrors_refuses_bad_lists(mirrors, error):
    with pytest.raises(error, match="mirror"):
        check_mirrors(mirrors)


def test_check_mirrors_accepts_one_string_and_adds_slash():
    assert check_mirrors("http://127.0.0.1:8000/mnist") == ("http://127.0.0.1:8000/mnist/",)
