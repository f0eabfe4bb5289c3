"""Safe model files: one zip holding ``config.json`` (architecture, cost, dtype, metadata) and
``arrays.npz`` (parameters and states), with no pickle anywhere.

Loading a file from a stranger is safe: the JSON is parsed as data, layer types come from a fixed
registry, arrays are never unpickled, and every array name, shape and dtype is checked against the
configuration before any of it is used. The file is read with the bounded readers of :mod:`mlpkit._bounded`
(a checked zip directory: no duplicate, encrypted, overlapping or unexpected member; members decompressed in
chunks, never past their declared size; .npy headers checked against their members), and sizes are
compared before anything is allocated: the zip's declared sizes against :func:`~mlpkit._bounded.max_file_bytes`
and against the size the configuration describes, and that size against the entries the arrays' headers
declare, before the network is built. A crafted file therefore cannot make the loader allocate more than
about twice the arrays it really holds; a valid model is decoded straight into the built network.
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
from ._bounded import MAX_FILE_BYTES_ENV, CheckedZip, Npz, max_file_bytes, quote
from .autodiff import custom as _library_layers  # noqa: F401  registers Maxout, FocalLoss...: their files load
from .layers import LAYER_TYPES, Layer, layer_from_config
from .network import Network

FORMAT_NAME = "mlpkit-model"
FORMAT_VERSION = 1
CONFIG_ENTRY = "config.json"
ARRAYS_ENTRY = "arrays.npz"
#: the most bytes the JSON part of a model or checkpoint file may hold
MAX_CONFIG_BYTES = 16 * 1024 * 1024
_ARRAY_OVERHEAD_BYTES = 1024 * 1024  # npz/npy headers on top of the raw array bytes
_MAX_PARAMETERS = 2_000_000_000
#: how many more entries than its arrays hold a configuration may describe before it is refused unbuilt:
#: layers declare (n_in + 1) x units for a Dense map, at most twice what one without bias holds, plus slack
#: for the rounding of small custom layers of old files
_BOUND_FACTOR, _BOUND_SLACK = 2, 1 << 20


class ModelFileError(ValueError):
    """A model file is missing, not an mlpkit model, corrupt, or does not match its own configuration."""


def save_network(network: Network, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Save ``network`` to ``path`` atomically. ``metadata`` (JSON-serializable) is stored alongside."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot save the model to {path}: it is a directory")
    data = network_bytes(network, metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(path, data)


def network_bytes(network: Network, metadata: dict[str, Any] | None = None) -> bytes:
    """The bytes of the model file of ``network`` (what :func:`save_network` writes), for a writer that
    renames several files together (a run directory: :func:`mlpkit.settings.rundir.commit`)."""
    config = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "network": file_network_config(network),
        "metadata": metadata or {},
    }
    try:
        config_text = json.dumps(config, indent=2, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"metadata must be JSON-serializable (no NaN): {exc}") from exc
    arrays = io.BytesIO()
    np.savez(arrays, **network.get_weights())

    return zip_bytes({CONFIG_ENTRY: config_text, ARRAYS_ENTRY: arrays.getvalue()})


@contextmanager
def open_container(path: Path, json_entry: str, what: str,
                   error: type[ModelFileError] = ModelFileError) -> Iterator[tuple[CheckedZip, bytes]]:
    """Open an mlpkit zip file (model or checkpoint) after checking that it is a zip holding exactly
    ``json_entry`` and ``arrays.npz`` (the checks of :class:`~mlpkit._bounded.CheckedZip`), with a JSON part
    of at most :data:`MAX_CONFIG_BYTES`; yield the checked archive and the JSON bytes."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {what} at {path}")
    if not zipfile.is_zipfile(path):
        raise error(f"{path} is not an mlpkit {what} (expected a zip archive)")
    with CheckedZip(path, name=str(path), error=error, limit=max_file_bytes(), what=f"mlpkit {what}") as archive:
        names = archive.names
        if sorted(names) != sorted({json_entry, ARRAYS_ENTRY}):
            raise error(f"{path} is not an mlpkit {what}: expected entries {json_entry} and {ARRAYS_ENTRY}, "
                        f"found {quote(ValueError(sorted(names)))}")
        yield archive, archive.read(json_entry, MAX_CONFIG_BYTES).getvalue()


@contextmanager
def open_arrays(archive: CheckedZip, limit: int, path: Path,
                error: type[ModelFileError] = ModelFileError) -> Iterator[Npz]:
    """The ``arrays.npz`` of an open container, its directory and headers checked (uncompressed ``NAME.npy``
    members whose headers match their sizes), decompressed once in bounded chunks (into a temporary file when
    large, so that memory holds only the arrays themselves, when asked for). Refused unread when it declares
    more than ``limit`` bytes."""
    size = archive.size(ARRAYS_ENTRY)
    if size > limit:
        raise error(f"{path}: {ARRAYS_ENTRY} declares {size:,} bytes, more than the {limit:,} the configuration "
                    f"describes (or {MAX_FILE_BYTES_ENV} allows)")
    with archive.read(ARRAYS_ENTRY, limit, spool=True) as stream, \
            Npz(stream, name=f"{path}: {ARRAYS_ENTRY}", error=error, limit=limit, stored_only=True) as npz:
        yield npz


def check_arrays(path: Path, targets: dict[str, np.ndarray], npz: Npz, error: type[ModelFileError],
                 what: str = "the configuration", prefix: str = "") -> None:
    """Refuse ``npz`` unless its arrays named ``prefix + name`` have exactly the names, shapes and dtypes of
    ``targets`` (their headers are compared; nothing is read)."""
    stored = {name[len(prefix):]: header for name, header in npz.headers.items() if name.startswith(prefix)}
    missing, unexpected = sorted(set(targets) - set(stored)), sorted(set(stored) - set(targets))
    if missing or unexpected:
        raise error(f"{path}: arrays do not match {what}: missing {quote(ValueError(missing))}, unexpected "
                    f"{quote(ValueError(unexpected))}")
    for name, target in targets.items():
        header = stored[name]
        if header.shape != target.shape or header.dtype != target.dtype:
            raise error(f"{path}: array {prefix}{name} is {header.dtype}{list(header.shape)}, {what} needs "
                        f"{target.dtype}{list(target.shape)}")


def stored_entries(npz: Npz, prefix: str = "") -> int:
    """The entries the arrays named ``prefix...`` declare in their headers."""
    return sum(header.size for name, header in npz.headers.items() if name.startswith(prefix))


def load_network(path: str | Path) -> Network:
    """Load a model saved by :func:`save_network` / ``Network.save``; refuse anything that does not check.

    The network is built only after the size its configuration describes has been compared with the entries
    its arrays' headers declare, and its arrays are then decoded straight into the built network."""
    path = Path(path)
    with open_container(path, CONFIG_ENTRY, "model file") as (archive, text):
        config = parse_document(text, path, entry=CONFIG_ENTRY, format_name=FORMAT_NAME,
                                max_version=FORMAT_VERSION, what="model file")
        count, itemsize = declared_entries(config["network"], path)
        with open_arrays(archive, count * itemsize + _ARRAY_OVERHEAD_BYTES, path) as npz:
            network = network_from_file_config(config["network"], path, stored=stored_entries(npz))
            targets = dict(network.named_parameters())
            targets.update(network.named_states())
            check_arrays(path, targets, npz, ModelFileError)
            for name, target in targets.items():
                npz.read(name, into=target)
                if not np.isfinite(target).all():  # a NaN weight makes every output NaN (every prediction class 0)
                    raise ModelFileError(f"{path}: array {name} has {np.count_nonzero(~np.isfinite(target))} NaN or "
                                         f"infinite value(s); a model's weights are finite")
    network.metadata = config.get("metadata", {})
    return network


def parse_document(text: bytes, path: Path, *, entry: str, format_name: str, max_version: int, what: str,
                   error: type[ModelFileError] = ModelFileError) -> dict[str, Any]:
    """Parse the JSON part of an mlpkit zip file (model or checkpoint) and check its common header: the
    format name, a version this mlpkit reads, and a 'network' section with a list of layers."""
    try:
        document = json.loads(text.decode("utf-8"))
    except RecursionError:
        raise error(f"{path}: {entry} is nested too deeply to be an mlpkit {what}") from None
    except ValueError as exc:  # UnicodeDecodeError, JSONDecodeError, an integer of too many digits
        raise error(f"{path}: {entry} is not valid JSON: {quote(exc)}") from None
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


def layer_size(layer: Layer) -> dict[str, int]:
    """One entry of a file's ``layer_sizes`` table: the layer's output width and its number of parameter
    and state entries."""
    entries = sum(v.size for v in layer.params.values()) + sum(v.size for v in layer.state.values())
    return {"n_out": int(layer.n_out), "size": int(entries)}


def file_network_config(network: Network) -> dict[str, Any]:
    """``network.get_config()`` plus the ``layer_sizes`` table (:func:`layer_size` of every layer), as
    model and checkpoint files store it: the loader bounds a layer whose class cannot tell its size from its
    configuration (:meth:`~mlpkit.layers.Layer.declared_size` is None, the case of custom layers) with it."""
    return {**network.get_config(), "layer_sizes": [layer_size(layer) for layer in network.layers]}


def _size_table(network_config: dict[str, Any], n_layers: int) -> list[tuple[int, int]] | None:
    """The file's ``layer_sizes`` as (size, n_out) pairs, checked; None for a file written without one."""
    table = network_config.get("layer_sizes")
    if table is None:
        return None
    if not isinstance(table, list) or len(table) != n_layers:
        raise ValueError(f"layer_sizes must be a list of {n_layers} entries, one per layer")
    pairs = []
    for i, entry in enumerate(table):
        values = [entry.get(k) if isinstance(entry, dict) else None for k in ("size", "n_out")]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values) or values[1] == 0:
            raise ValueError(f"layer_sizes[{i}] must be {{'n_out': positive int, 'size': int >= 0}}, got {entry!r}")
        pairs.append((values[0], values[1]))
    return pairs


def _legacy_size(config: dict[str, Any], n_in: int, index: int) -> tuple[int, int]:
    """The bound of a custom layer in a file written before ``layer_sizes`` existed, as such files were
    loaded then: a dense map of ``config["units"]`` outputs (``n_in`` without the key); a ``units`` that is
    not an int cannot be read that way."""
    units = config.get("units", n_in)
    if isinstance(units, bool) or not isinstance(units, int):
        raise ValueError(f"layers[{index}] ({config['type']!r}) cannot tell its size from its configuration and "
                         "the file has no layer_sizes table (save the model again with this mlpkit)")
    return (n_in + 5) * (units + 5), units


def _declared(network_config: dict[str, Any], path: Path) -> tuple[int, list[int], list[tuple[int, int]] | None]:
    """(a bound on the entries the configuration's layers allocate, the layers whose size the file's
    ``layer_sizes`` table gave, that table), read from the configuration without building anything.

    Each layer's size comes from its class's :meth:`~mlpkit.layers.Layer.declared_size` (built-in layers,
    Maxout: a bound read from the config), else from the file's ``layer_sizes`` table (custom layers); only
    registered layer types are considered."""
    try:
        layers = network_config["layers"]
        table = _size_table(network_config, len(layers))
        width = int(network_config["input_dim"])
        count = 0
        from_table = []  # the layers whose size the table gave: checked against it once built
        for i, layer in enumerate(layers):
            if not isinstance(layer, dict):
                raise ValueError(f"layers[{i}] is not a JSON object: {quote(ValueError(repr(layer)))}")
            kind = LAYER_TYPES.get(layer.get("type"))
            if kind is None:
                layer_from_config(layer)  # refuses the unknown type, naming the registered ones
            declared = kind.declared_size(layer, width)
            if declared is None and table is not None:
                declared = table[i]
                from_table.append(i)
            elif declared is None:
                declared = _legacy_size(layer, width, i)
            size, width = declared
            count += size
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError) as exc:
        raise ModelFileError(f"{path}: invalid network configuration: {quote(exc)}") from None
    if count > _MAX_PARAMETERS:
        raise ModelFileError(f"{path}: the configuration describes more than {_MAX_PARAMETERS:,} parameters")
    return count, from_table, table


def declared_entries(network_config: dict[str, Any], path: Path) -> tuple[int, int]:
    """(a bound on the parameter and state entries the configuration describes, the bytes of one entry in
    its dtype), without building anything: what bounds the arrays a file may hold."""
    count, _, _ = _declared(network_config, path)
    try:
        dtype = np.dtype(network_config.get("dtype", "float32"))
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: invalid network configuration: dtype {quote(exc)}") from None
    return max(count, 0), dtype.itemsize


def network_from_file_config(network_config: dict[str, Any], path: Path, stored: int | None = None) -> Network:
    """Build the (untrained) network a configuration describes, after bounding its size without allocating
    anything, so that a crafted file cannot make us allocate an absurd model: the bound must stay under
    2e9 entries and, given the ``stored`` entries the file's arrays declare, within about twice those
    (:data:`_BOUND_FACTOR`), so that a configuration of large layers beside tiny arrays is refused unbuilt.
    Once built, a layer sized by the file's ``layer_sizes`` table must match it exactly."""
    count, from_table, table = _declared(network_config, path)
    if stored is not None and count > _BOUND_FACTOR * stored + _BOUND_SLACK:
        raise ModelFileError(f"{path}: the configuration describes a network of up to {count:,} entries, but its "
                             f"arrays hold {stored:,}")
    try:
        network = Network.from_config(network_config)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
        raise ModelFileError(f"{path}: invalid network configuration: {quote(exc)}") from None
    for i in from_table:
        layer, built = network.layers[i], layer_size(network.layers[i])
        if (built["size"], built["n_out"]) != table[i]:
            raise ModelFileError(f"{path}: layers[{i}] ({type(layer).__name__}) has n_out={built['n_out']} and "
                                 f"{built['size']} entries, the file's layer_sizes says n_out={table[i][1]} and "
                                 f"{table[i][0]}")
    return network
