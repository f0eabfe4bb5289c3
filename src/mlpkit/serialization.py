"""Safe model files: one zip holding ``config.json`` (architecture, cost, dtype, metadata) and
``arrays.npz`` (parameters and states), with no pickle anywhere.

Loading a file from a stranger is safe: the JSON is parsed as data, layer types come from a fixed
registry, arrays are read with ``allow_pickle=False``, and every array name, shape and dtype is checked
against the configuration before any of it is used. Sizes are checked before decompression, so a
crafted file cannot make the loader allocate more than the model it claims to be.
Saving is atomic: the file is written under a temporary name in the target directory and renamed
over the target only when complete.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ._atomic import atomic_write_bytes, zip_bytes
from .layers import LAYER_TYPES, Layer
from .network import Network

FORMAT_NAME = "mlpkit-model"
FORMAT_VERSION = 1
CONFIG_ENTRY = "config.json"
ARRAYS_ENTRY = "arrays.npz"
_MAX_CONFIG_BYTES = 16 * 1024 * 1024
_ARRAY_OVERHEAD_BYTES = 1024 * 1024  # npz/npy headers on top of the raw array bytes
_MAX_PARAMETERS = 2_000_000_000


class ModelFileError(ValueError):
    """A model file is missing, not an mlpkit model, corrupt, or does not match its own configuration."""


def save_network(network: Network, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Save ``network`` to ``path`` atomically. ``metadata`` (JSON-serializable) is stored alongside."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot save the model to {path}: it is a directory")
    config = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "network": network.get_config(),
        "metadata": metadata or {},
    }
    try:
        config_text = json.dumps(config, indent=2, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"metadata must be JSON-serializable (no NaN): {exc}") from exc
    arrays = io.BytesIO()
    np.savez(arrays, **network.get_weights())

    data = zip_bytes({CONFIG_ENTRY: config_text, ARRAYS_ENTRY: arrays.getvalue()})
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(path, data)


@contextmanager
def open_container(path: Path, json_entry: str, what: str,
                   error: type[ModelFileError] = ModelFileError) -> Iterator[tuple[zipfile.ZipFile, bytes]]:
    """Open an mlpkit zip file (model or checkpoint) after checking that it is a zip holding exactly
    ``json_entry`` and ``arrays.npz``, with a JSON part of sane size; yield the archive and the JSON bytes."""
    if not path.is_file():
        raise FileNotFoundError(f"no {what} at {path}")
    if not zipfile.is_zipfile(path):
        raise error(f"{path} is not an mlpkit {what} (expected a zip archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = {info.filename: info for info in archive.infolist()}
            if set(infos) != {json_entry, ARRAYS_ENTRY}:
                raise error(f"{path} is not an mlpkit {what}: expected entries {json_entry} and {ARRAYS_ENTRY}, "
                            f"found {sorted(infos)}")
            if infos[json_entry].file_size > _MAX_CONFIG_BYTES:
                raise error(f"{path}: {json_entry} is implausibly large")
            yield archive, archive.read(json_entry)
    except zipfile.BadZipFile as exc:
        raise error(f"{path} is a corrupt zip archive: {exc}") from exc


def read_arrays(archive: zipfile.ZipFile, limit: int, path: Path,
                error: type[ModelFileError] = ModelFileError) -> dict[str, np.ndarray]:
    """The arrays of an open container, refused unread when they would take more than ``limit`` bytes."""
    if archive.getinfo(ARRAYS_ENTRY).file_size > limit:
        raise error(f"{path}: {ARRAYS_ENTRY} is larger than the model its config describes")
    return read_npz_bounded(archive.read(ARRAYS_ENTRY), limit, path, error)


def load_network(path: str | Path) -> Network:
    """Load a model saved by :func:`save_network` / ``Network.save``; refuse anything that does not check."""
    path = Path(path)
    with open_container(path, CONFIG_ENTRY, "model file") as (archive, text):
        config = parse_document(text, path, entry=CONFIG_ENTRY, format_name=FORMAT_NAME,
                                max_version=FORMAT_VERSION, what="model file")
        network = network_from_file_config(config["network"], path)
        expected = dict(network.named_parameters())
        expected.update(network.named_states())
        arrays = read_arrays(archive, sum(a.nbytes for a in expected.values()) + _ARRAY_OVERHEAD_BYTES, path)
    missing = sorted(set(expected) - set(arrays))
    unexpected = sorted(set(arrays) - set(expected))
    if missing or unexpected:
        raise ModelFileError(f"{path}: arrays do not match the configuration: missing {missing}, "
                             f"unexpected {unexpected}")
    for name, target in expected.items():
        value = arrays[name]
        if value.shape != target.shape or value.dtype != target.dtype:
            raise ModelFileError(f"{path}: array {name} is {value.dtype}{list(value.shape)}, the configuration "
                                 f"needs {target.dtype}{list(target.shape)}")
    network.set_weights(arrays)
    network.metadata = config.get("metadata", {})
    return network


def read_npz_bounded(raw: bytes, limit: int, path: Path,
                     error: type[ModelFileError] = ModelFileError) -> dict[str, np.ndarray]:
    """The arrays of an in-memory .npz, refusing pickled objects and anything that would unpack to more
    than ``limit`` bytes (checked from the archive's directory before decompressing)."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as inner:
            if sum(info.file_size for info in inner.infolist()) > limit:
                raise error(f"{path}: the arrays unpack to more than the model its config describes")
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        if isinstance(exc, error):
            raise
        raise error(f"{path}: cannot read the arrays safely: {exc}") from exc


def parse_document(text: bytes, path: Path, *, entry: str, format_name: str, max_version: int, what: str,
                   error: type[ModelFileError] = ModelFileError) -> dict[str, Any]:
    """Parse the JSON part of an mlpkit zip file (model or checkpoint) and check its common header: the
    format name, a version this mlpkit reads, and a 'network' section with a list of layers."""
    try:
        document = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{path}: {entry} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != format_name:
        raise error(f"{path} is not an mlpkit {what} (format field is not {format_name!r})")
    version = document.get("format_version")
    if not isinstance(version, int) or version < 1 or version > max_version:
        raise error(f"{path} has {what} format version {version!r}; this mlpkit reads versions "
                    f"1..{max_version} (upgrade mlpkit to read newer files)")
    network = document.get("network")
    if not isinstance(network, dict) or not isinstance(network.get("layers"), list):
        raise error(f"{path}: {entry} has no valid 'network' section")
    if not isinstance(document.get("metadata") or {}, dict):
        raise error(f"{path}: metadata must be a JSON object")
    return document


def network_from_file_config(network_config: dict[str, Any], path: Path) -> Network:
    """Build the (untrained) network a configuration describes, after bounding its size from the config
    alone, so that a crafted file cannot make us allocate an absurd model."""
    try:
        width = int(network_config["input_dim"])
        count = 0
        for layer in network_config["layers"]:
            # only a registered class is asked (LAYER_TYPES); an unknown type is refused when it is built
            kind = LAYER_TYPES.get(layer.get("type")) if isinstance(layer, dict) else None
            size, width = (kind or Layer).declared_size(layer if isinstance(layer, dict) else {}, width)
            count += size
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{path}: invalid network configuration: {exc}") from exc
    if count > _MAX_PARAMETERS:
        raise ModelFileError(f"{path}: the configuration describes more than {_MAX_PARAMETERS:,} parameters")
    try:
        return Network.from_config(network_config)
    except (ValueError, TypeError, KeyError) as exc:
        raise ModelFileError(f"{path}: invalid network configuration: {exc}") from exc
