"""The layout of a run directory, shared by ``mlpkit train --out DIR`` and the runs of ``mlpkit serve``.

A run directory holds ``model.mlpk`` (the trained network; its metadata holds the effective settings, the data
set and the test result), ``history.json`` (:class:`mlpkit.history.History`), ``config.yaml`` (the effective
settings, usable as ``mlpkit train --config``) and, as each writer adds, ``checkpoint.mlpkc``, the plots and the
dashboard's ``run.json``. Every file is written to a temporary name and renamed (:mod:`mlpkit._atomic`).

The files must belong together: a model of epoch 30 beside a checkpoint of epoch 20 (what a full disk left
between two writes) mixes two states of the run. ``mlpkit train`` therefore saves through :func:`commit`: the
files of one save (the checkpoint and history of an epoch; at the end the model, history, config and
checkpoint) and ``manifest.json`` are all written to temporary names first, and only then renamed, the manifest
last. A full or read-only disk fails before any rename, leaving every previous file and the previous manifest
as they were. The manifest lists every file of the run with its size, SHA-256 and the epoch it was saved at;
a reader (:func:`check_file`, :func:`check_directory`: ``evaluate``, ``predict``, ``--resume``, the dashboard's
runs listing) trusts it, and a file that disagrees with it (a crash between two renames, a file changed by
hand) or one it does not list (left from an earlier run in an ``--overwrite`` directory) is a one-line
:class:`RunDirectoryError`. A directory without a manifest (written before manifests, or by another writer) is
read as it is.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_bytes, atomic_write_many
from ..checkpoint import Checkpoint, load_checkpoint
from ..network import Network
from ..serialization import ModelFileError, load_network

MODEL_FILE = "model.mlpk"
HISTORY_FILE = "history.json"
CONFIG_FILE = "config.yaml"
CHECKPOINT_FILE = "checkpoint.mlpkc"
MANIFEST_FILE = "manifest.json"
#: the files a manifest must list when they are present (a run's state); plots are listed when written
RUN_FILES = (MODEL_FILE, HISTORY_FILE, CONFIG_FILE, CHECKPOINT_FILE)
#: the largest manifest read (bytes): a few hundred bytes per file
MAX_MANIFEST_BYTES = 1024 * 1024
MANIFEST_FORMAT = "mlpkit-run-manifest"
_HASH_CHUNK = 1024 * 1024


class RunDirectoryError(ModelFileError):
    """A run directory's files disagree with its manifest (or the manifest does not read)."""


@dataclass(frozen=True)
class Manifest:
    """What ``manifest.json`` says: the epoch of the latest save and, per file, its size, SHA-256 and epoch."""

    epoch: int
    files: dict[str, dict[str, Any]]


def config_bytes(settings: dict[str, Any], *, writer: str) -> bytes:
    """The text of ``config.yaml`` with the effective ``settings``, headed by which command (``writer``)
    wrote it."""
    import yaml

    header = f"# {writer}: the effective settings of this run; reuse with mlpkit train --config {CONFIG_FILE}\n"
    return (header + yaml.safe_dump(settings, sort_keys=False, allow_unicode=True)).encode("utf-8")


def write_config(directory: Path, settings: dict[str, Any], *, writer: str) -> Path:
    """``config.yaml`` with the effective ``settings``, headed by which command (``writer``) wrote it."""
    return atomic_write_bytes(Path(directory) / CONFIG_FILE, config_bytes(settings, writer=writer))


# ------------------------------------------------------------------------------------------------ writing
def _entry(data: bytes, epoch: int) -> dict[str, Any]:
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "epoch": int(epoch)}


def _manifest_bytes(epoch: int, files: dict[str, dict[str, Any]]) -> bytes:
    document = {"format": MANIFEST_FORMAT, "version": 1, "epoch": int(epoch),
                "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "files": dict(sorted(files.items()))}
    return json.dumps(document, indent=1).encode("utf-8")


def _previous_entries(directory: Path, fresh: bool) -> dict[str, dict[str, Any]]:
    """The entries a save keeps: those of the current manifest whose files are still there (none when
    ``fresh`` or when the manifest does not read: the save then lists only its own files)."""
    if fresh:
        return {}
    try:
        manifest = read_manifest(directory)
    except RunDirectoryError:
        return {}
    if manifest is None:
        return {}
    return {name: entry for name, entry in manifest.files.items() if (directory / name).is_file()}


def commit(directory: str | Path, files: Mapping[str, bytes], *, epoch: int, fresh: bool = False) -> list[Path]:
    """Save ``files`` (``{name: bytes}``) of the run in ``directory`` at ``epoch`` together with an updated
    ``manifest.json``: every file is written to a temporary name before any is renamed, the manifest renamed
    last (:func:`mlpkit._atomic.atomic_write_many`). The manifest keeps the entries of the files this save
    does not replace, unless ``fresh`` (the first save of a new run: files of an earlier run are left out).
    A full or read-only disk raises :class:`mlpkit._atomic.WriteError` with every previous file unchanged.
    Returns the paths of ``files``."""
    directory = Path(directory)
    entries = _previous_entries(directory, fresh)
    entries.update({name: _entry(data, epoch) for name, data in files.items()})
    staged = {directory / name: data for name, data in files.items()}
    staged[directory / MANIFEST_FILE] = _manifest_bytes(epoch, entries)
    return atomic_write_many(staged)[:-1]


def record(directory: str | Path, names: Iterable[str], *, epoch: int) -> Path:
    """Add the files ``names`` already written in ``directory`` (the plots, each renamed into place on its
    own) to its manifest, as saved at ``epoch``."""
    directory = Path(directory)
    entries = _previous_entries(directory, fresh=False)
    for name in names:
        entries[name] = {**_file_digest(directory / name), "epoch": int(epoch)}
    latest = max((int(e.get("epoch", epoch)) for e in entries.values()), default=epoch)
    return atomic_write_bytes(directory / MANIFEST_FILE, _manifest_bytes(latest, entries))


# ------------------------------------------------------------------------------------------------ reading
def _file_digest(path: Path) -> dict[str, Any]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


def read_manifest(directory: str | Path) -> Manifest | None:
    """The manifest of the run in ``directory``; None when it has none; :class:`RunDirectoryError` when it
    does not read (too large, not JSON, not a manifest)."""
    path = Path(directory) / MANIFEST_FILE
    if not path.is_file():
        return None
    size = path.stat().st_size
    if size > MAX_MANIFEST_BYTES:
        raise RunDirectoryError(f"{path} is {size} bytes, more than the {MAX_MANIFEST_BYTES} a manifest may have")
    try:
        document = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunDirectoryError(f"{path} is not valid JSON: {' '.join(str(exc).split())}") from None
    if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
        raise RunDirectoryError(f"{path} is not an mlpkit run manifest (format {MANIFEST_FORMAT!r})")
    files, epoch = document.get("files"), document.get("epoch")
    if not isinstance(files, dict) or isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise RunDirectoryError(f"{path}: expected an integer 'epoch' >= 0 and a 'files' object")
    for name, entry in files.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("size"), int) and isinstance(entry.get("sha256"), str)
                and "/" not in name and "\\" not in name and name not in ("", ".", "..")):
            raise RunDirectoryError(f"{path}: the entry of {name[:100]!r} must be a plain file name with an integer "
                                    "'size' and a 'sha256'")
    return Manifest(epoch, files)


def _check_entry(path: Path, entry: dict[str, Any], manifest: Manifest) -> None:
    if not path.is_file():
        raise RunDirectoryError(f"{path} is missing: the run directory's {MANIFEST_FILE} (epoch {manifest.epoch}) "
                                "lists it; the directory was changed after the run saved it")
    size = path.stat().st_size
    found = {"size": size} if size != entry["size"] else _file_digest(path)
    if found["size"] != entry["size"] or found["sha256"] != entry["sha256"]:
        what = f"{found['size']} bytes, the manifest says {entry['size']}" if found["size"] != entry["size"] \
            else "its SHA-256 differs from the manifest's"
        raise RunDirectoryError(
            f"{path} does not match the run directory's {MANIFEST_FILE} ({what}): it is not the file saved with the "
            f"others at epoch {entry.get('epoch', manifest.epoch)} (a save cut short between its renames, or a file "
            "changed by hand); train again, or resume from a checkpoint that matches")


def check_file(path: str | Path) -> None:
    """Check ``path`` against the manifest of its directory, when it has one: a listed file must have the
    size and SHA-256 listed; a run file (model, history, config, checkpoint) that is not listed is left from
    another run. :class:`RunDirectoryError` otherwise; nothing to check without a manifest."""
    path = Path(path)
    manifest = read_manifest(path.parent)
    if manifest is None:
        return
    entry = manifest.files.get(path.name)
    if entry is not None:
        _check_entry(path, entry, manifest)
    elif path.name in RUN_FILES and path.is_file():
        raise RunDirectoryError(
            f"{path} is not part of the run in {path.parent}: its {MANIFEST_FILE} (epoch {manifest.epoch}) lists "
            f"{', '.join(sorted(manifest.files)) or 'no files'}; the file is left from an earlier run (or this run "
            "has not saved one yet)")


def check_directory(directory: str | Path) -> Manifest | None:
    """Check every file the manifest of ``directory`` lists (:func:`check_file`); returns the manifest
    (None when there is none). A run file the manifest does not list is to be ignored by the reader."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    if manifest is not None:
        for name, entry in manifest.files.items():
            _check_entry(directory / name, entry, manifest)
    return manifest


def load_model(path: str | Path) -> Network:
    """:func:`mlpkit.serialization.load_network`, after checking ``path`` against its run directory's manifest
    (:func:`check_file`), so that a model never comes from a different save than the files beside it."""
    check_file(path)
    return load_network(path)


def load_run_checkpoint(path: str | Path) -> Checkpoint:
    """:func:`mlpkit.checkpoint.load_checkpoint`, after checking ``path`` against its run directory's manifest."""
    check_file(path)
    return load_checkpoint(path)
