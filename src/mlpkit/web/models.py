"""The models the draw-a-digit page can use: files in the ``--models`` directory, uploads, finished runs.

Every file goes through :func:`mlpkit.load_network`, the safe loader (a zip of JSON and .npz checked
against its own configuration; no pickle). Uploads are written atomically into a private directory owned
by the server, loaded, and deleted again if they do not load. Only classifiers whose input is a drawing
(784 = 28 x 28 MNIST pixels, or 64 = 8 x 8 UCI digits) can be chosen.
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_bytes
from ..network import Network
from ..serialization import load_network
from .digit import PREPROCESSORS

#: the ``--models`` directory is scanned for files ending in this
MODEL_SUFFIX = ".mlpk"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class ModelEntry:
    """One model: a stable id, a display name, where it came from, and the network (loaded on first use)."""

    id: str
    name: str
    source: str  # "directory", "upload" or "run"
    path: Path | None = None
    network: Network | None = field(default=None, repr=False)

    def load(self) -> Network:
        if self.network is None:
            self.network = load_network(self.path)
        return self.network

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"id": self.id, "name": self.name, "source": self.source}
        try:
            network = self.load()
        except (ValueError, OSError) as exc:
            return {**info, "usable": False, "problem": " ".join(str(exc).split())}
        meta = getattr(network, "metadata", None) or {}
        usable = network.is_classifier and network.input_dim in PREPROCESSORS and network.output_dim > 1
        info.update(input_dim=network.input_dim, classes=network.output_dim, dataset=meta.get("dataset"),
                    test_accuracy=meta.get("test_accuracy"), usable=usable)
        if not usable:
            info["problem"] = (f"takes {network.input_dim} inputs and gives {network.output_dim} outputs; a drawing "
                               "makes 784 (28x28) or 64 (8x8) inputs for a classifier of several classes")
        return info


class ModelRegistry:
    """Thread-safe list of models by id."""

    def __init__(self, directory: Path | None, upload_dir: Path) -> None:
        self.directory = directory
        self.upload_dir = upload_dir
        self._entries: dict[str, ModelEntry] = {}
        self._lock = threading.Lock()

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
        return f"{prefix}-{len(self._entries) + 1}-{secrets.token_hex(3)}"

    def _add(self, entry: ModelEntry) -> ModelEntry:
        self._entries[entry.id] = entry
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
        """Store an uploaded model file and load it; ValueError (ModelFileError) when it is not a model."""
        clean = _SAFE_NAME.sub("_", Path(name or "upload").name)[:80] or "upload"
        with self._lock:
            model_id = self._new_id("upload")
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        path = atomic_write_bytes(self.upload_dir / f"{model_id}{MODEL_SUFFIX}", data)
        entry = ModelEntry(model_id, clean, "upload", path)
        try:
            entry.load()
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        with self._lock:
            return self._add(entry)

    def add_network(self, name: str, network: Network) -> ModelEntry:
        """A model trained by a dashboard run (kept in memory)."""
        with self._lock:
            return self._add(ModelEntry(self._new_id("run"), name, "run", network=network))
