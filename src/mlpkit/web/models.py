"""The models the draw-a-digit page can use: files in the ``--models`` directory, uploads, finished runs.

Every file goes through :func:`mlpkit.load_network`, the safe loader (a zip of JSON and .npz checked
against its own configuration; no pickle). Uploads are written atomically into a private directory owned
by the server, loaded, and deleted again if they do not load. Only classifiers whose input is a drawing
(784 = 28 x 28 MNIST pixels, or 64 = 8 x 8 UCI digits) can be chosen.

Memory stays bounded however many models come and go (each limit documented here, LRU = least recently used
dropped first):

- an upload is refused unless its arrays unpack to at most :data:`MAX_UPLOAD_ARRAY_BYTES` (checked from the
  zip directories before anything is decompressed); at most :data:`MAX_UPLOADS` uploads are kept, the oldest
  upload (file and entry) deleted when one more comes;
- networks with a file (the ``--models`` directory, uploads, runs kept in a runs root) are loaded on use and
  at most :data:`MAX_LOADED_MODELS` stay loaded (LRU); their descriptions are kept, so listing does not load;
- the networks of runs without a file (a server without a runs root) stay in memory, the latest
  :data:`MAX_RUN_MODELS` of them.
"""

from __future__ import annotations

import io
import re
import secrets
import threading
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_bytes
from ..network import Network
from ..serialization import ARRAYS_ENTRY, ModelFileError, load_network
from .digit import PREPROCESSORS

#: the ``--models`` directory is scanned for files ending in this
MODEL_SUFFIX = ".mlpk"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
#: uploads kept (the oldest is deleted beyond), and the bytes an upload's arrays may unpack to (8 million
#: float64 weights: [784, 4096, 1024, 10] fits)
MAX_UPLOADS, MAX_UPLOAD_ARRAY_BYTES = 8, 64 * 1024 * 1024
#: networks with a file kept loaded (LRU); networks of runs without a file kept in memory (the latest)
MAX_LOADED_MODELS, MAX_RUN_MODELS = 4, 16


@dataclass
class ModelEntry:
    """One model: a stable id, a display name, where it came from, and the network: ``network`` for one kept in
    memory (a run without a file), else loaded from ``path`` on use through the registry's cache."""

    id: str
    name: str
    source: str  # "directory", "upload" or "run"
    path: Path | None = None
    network: Network | None = field(default=None, repr=False)
    registry: ModelRegistry | None = field(default=None, repr=False)
    info: dict[str, Any] | None = field(default=None, repr=False)

    def load(self) -> Network:
        if self.network is not None:
            return self.network
        if self.registry is None:
            return load_network(self.path)
        return self.registry.load(self)

    def describe(self) -> dict[str, Any]:
        """What the page lists (worked out once per entry)."""
        if self.info is None:
            self.info = self._describe()
        return self.info

    def _describe(self) -> dict[str, Any]:
        try:
            network = self.load()
        except (ValueError, OSError) as exc:
            return {"id": self.id, "name": self.name, "source": self.source, "usable": False,
                    "problem": " ".join(str(exc).split())}
        return self._describe_network(network)

    def _describe_network(self, network: Network) -> dict[str, Any]:
        info: dict[str, Any] = {"id": self.id, "name": self.name, "source": self.source}
        meta = getattr(network, "metadata", None) or {}
        usable = network.is_classifier and network.input_dim in PREPROCESSORS and network.output_dim > 1
        info.update(input_dim=network.input_dim, classes=network.output_dim, dataset=meta.get("dataset"),
                    test_accuracy=meta.get("test_accuracy"), usable=usable)
        if not usable:
            info["problem"] = (f"takes {network.input_dim} inputs and gives {network.output_dim} outputs; a drawing "
                               "makes 784 (28x28) or 64 (8x8) inputs for a classifier of several classes")
        return info


def check_upload_size(path: Path, limit: int = MAX_UPLOAD_ARRAY_BYTES) -> None:
    """Refuse (ModelFileError) a model file whose parts or arrays would unpack to more than ``limit`` bytes,
    from the sizes the zip directories declare (the outer archive's, then the arrays' own .npz) and before
    anything large is decompressed. A corrupt archive raises zipfile.BadZipFile or another error of the zip
    reader; the caller refuses those too."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        if len(infos) > 16 or any(info.file_size > limit for info in infos):
            raise ModelFileError(f"{path.name}: its parts unpack to more than {limit:,} bytes, the limit of an upload")
        names = {info.filename for info in infos}
        if ARRAYS_ENTRY not in names:
            return  # load_network names what is missing
        with zipfile.ZipFile(io.BytesIO(archive.read(ARRAYS_ENTRY))) as arrays:
            if sum(info.file_size for info in arrays.infolist()) > limit:
                raise ModelFileError(f"{path.name}: its arrays unpack to more than {limit:,} bytes, the limit of an "
                                     "upload")


class ModelRegistry:
    """Thread-safe list of models by id, with the loaded networks of file models cached (LRU)."""

    def __init__(self, directory: Path | None, upload_dir: Path) -> None:
        self.directory = directory
        self.upload_dir = upload_dir
        self._entries: dict[str, ModelEntry] = {}
        self._lock = threading.Lock()
        self._loaded: OrderedDict[str, Network] = OrderedDict()
        self._counter = 0

    def load(self, entry: ModelEntry) -> Network:
        """``entry``'s network from its file, kept among the :data:`MAX_LOADED_MODELS` most recently used."""
        with self._lock:
            network = self._loaded.get(entry.id)
            if network is not None:
                self._loaded.move_to_end(entry.id)
                return network
        network = load_network(entry.path)
        with self._lock:
            self._loaded[entry.id] = network
            while len(self._loaded) > MAX_LOADED_MODELS:
                self._loaded.popitem(last=False)
        return network

    def loaded(self) -> int:
        """How many file models are loaded now."""
        return len(self._loaded)

    def scan(self) -> None:
        """Add the ``--models`` directory's files not seen yet (called on every listing)."""
        if self.directory is None or not self.directory.is_dir():
            return
        with self._lock:
            known = {e.path for e in self._entries.values() if e.source == "directory"}
            for path in sorted(self.directory.rglob(f"*{MODEL_SUFFIX}")):
                if path not in known and path.is_file():
                    name = str(path.relative_to(self.directory))
                    self._add(ModelEntry(self._new_id("dir"), name, "directory", path))

    def _new_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}-{self._counter}-{secrets.token_hex(3)}"

    def _add(self, entry: ModelEntry) -> ModelEntry:
        """Add ``entry`` (lock held) and forget the oldest uploads and in-memory run models beyond the limits."""
        entry.registry = self
        self._entries[entry.id] = entry
        for source, limit in (("upload", MAX_UPLOADS), ("run", MAX_RUN_MODELS)):
            kept = [e for e in self._entries.values() if e.source == source and (source == "upload" or e.path is None)]
            for old in kept[:max(0, len(kept) - limit)]:
                del self._entries[old.id]
                self._loaded.pop(old.id, None)
                if old.source == "upload" and old.path is not None:
                    old.path.unlink(missing_ok=True)
        return entry

    def list(self) -> list[dict[str, Any]]:
        self.scan()
        with self._lock:
            entries = list(self._entries.values())
        return [entry.describe() for entry in entries]

    def get(self, model_id: str) -> ModelEntry | None:
        with self._lock:
            return self._entries.get(model_id)

    def add_upload(self, name: str, data: bytes) -> ModelEntry:
        """Store an uploaded model file and check that it loads; ValueError (ModelFileError) when it is not a
        model, or any error of the zip reader for a corrupt one (the file is deleted again in every case)."""
        clean = _SAFE_NAME.sub("_", Path(name or "upload").name)[:80] or "upload"
        with self._lock:
            model_id = self._new_id("upload")
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        path = atomic_write_bytes(self.upload_dir / f"{model_id}{MODEL_SUFFIX}", data)
        entry = ModelEntry(model_id, clean, "upload", path)
        try:
            check_upload_size(path)
            entry.info = entry._describe_network(load_network(path))
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        with self._lock:
            return self._add(entry)

    def add_network(self, name: str, network: Network, path: Path | None = None) -> ModelEntry:
        """A model trained by a dashboard run: read back from ``path`` when it was saved there, else kept in
        memory (the latest :data:`MAX_RUN_MODELS`)."""
        entry = ModelEntry("", name, "run", path=path, network=None if path is not None else network)
        entry.info = entry._describe_network(network)
        with self._lock:
            entry.id = self._new_id("run")
            entry.info["id"] = entry.id
            return self._add(entry)
