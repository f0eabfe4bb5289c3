"""Run directories: where the dashboard's runs are kept, so that they outlive the server.

A run started from the page writes the layout of ``mlpkit train --out DIR`` under the runs root
(``mlpkit serve --runs``, default ``runs``, the root ``mlpkit train`` writes to by default):

- ``config.yaml``: the effective settings (usable as ``mlpkit train --config``), written at the start;
- ``history.json``: the per-epoch costs and accuracies (:class:`mlpkit.history.History`), after every epoch;
- ``model.mlpk``: the trained network, its metadata holding the settings and the test result, at the end;
- ``run.json``: what only the dashboard shows: the run's name, status and message, the test result and the
  per-layer gradient norms of every epoch, at the start (status ``running``) and at the end. A directory whose
  record still says ``running`` when the server starts again lost its server mid-run: it is listed as
  ``interrupted``, with the epochs of its ``history.json``.

When ``mlpkit serve`` starts it reads every directory of the root back (:func:`scan`), newest first: its own
runs and those of ``mlpkit train`` (which have no ``run.json``). Each file is size-checked before it is read
and its content checked before it is used; a directory that does not read is reported with the reason and
skipped, never fatal. A directory holding none of these files is not a run and is passed over in silence.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_bytes
from ..history import History
from ..serialization import CONFIG_ENTRY, open_container
from ..settings.rundir import CONFIG_FILE, HISTORY_FILE, MODEL_FILE, check_directory

RUN_FILE = "run.json"
#: largest file read back, by name (bytes)
SIZE_LIMITS = {RUN_FILE: 4 * 1024 * 1024, HISTORY_FILE: 16 * 1024 * 1024, CONFIG_FILE: 256 * 1024}
#: directories read back at start (the newest); epochs read back per run
MAX_SAVED_RUNS = 200
MAX_SAVED_EPOCHS = 10_000
#: settings entries kept from a file, and items of a list setting
MAX_SETTINGS, MAX_LIST = 100, 100
#: the names a run directory (and so a run id) may have
RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
STATUSES = ("completed", "stopped", "diverged", "failed", "interrupted")


@dataclass
class SavedRun:
    """A run read back from its directory: what the dashboard lists and replays."""

    id: str
    name: str
    source: str  # "server" (a run of this page) or "train" (a run directory of mlpkit train)
    status: str
    message: str
    epochs: int
    settings: dict[str, Any]
    created: float
    events: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)


def new_directory(root: Path) -> Path:
    """A fresh run directory ``root/<YYYYmmdd-HHMMSS>-<4 hex digits>`` (never one that exists)."""
    root.mkdir(parents=True, exist_ok=True)
    while True:
        path = root / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def write_record(directory: Path, record: dict[str, Any]) -> Path:
    """``run.json``: the dashboard's record of the run (JSON, written atomically)."""
    text = json.dumps({"format": "mlpkit-dashboard-run", "version": 1, **record}, allow_nan=False)
    return atomic_write_bytes(directory / RUN_FILE, text.encode("utf-8"))


# ------------------------------------------------------------------------------------------ reading back
def _read(path: Path) -> str | None:
    """The text of ``path``, None when it is missing; ValueError when it is over its size limit."""
    if not path.is_file():
        return None
    limit = SIZE_LIMITS[path.name]
    size = path.stat().st_size
    if size > limit:
        raise ValueError(f"{path.name} is {size} bytes, more than the {limit} a run's {path.name} may have")
    return path.read_text(encoding="utf-8")


def _json_object(text: str, name: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{name} must hold a JSON object, not a {type(value).__name__}")
    return value


def _plain(value: Any) -> Any:
    """``value`` if it is a JSON scalar or a short flat list of them, else None (a settings value to drop)."""
    if value is None or isinstance(value, (bool, str)):
        return value if not isinstance(value, str) else value[:500]
    if isinstance(value, (int, float)):
        return value if math.isfinite(value) else None
    if isinstance(value, list) and len(value) <= MAX_LIST and all(
            v is None or isinstance(v, (bool, int, str)) or (isinstance(v, float) and math.isfinite(v)) for v in value):
        return value
    return None


def clean_settings(raw: Any) -> dict[str, Any]:
    """The scalar and flat-list entries of a settings mapping (at most ``MAX_SETTINGS``); anything else is
    dropped, so that a hostile file cannot make the listing large (YAML aliases) or unreadable."""
    if not isinstance(raw, dict):
        return {}
    out = {}
    for key, value in list(raw.items())[:MAX_SETTINGS]:
        kept = _plain(value)
        if isinstance(key, str) and (kept is not None or value is None):
            out[key[:100]] = kept
    return out


def _settings(directory: Path, record: dict[str, Any]) -> dict[str, Any]:
    if isinstance(record.get("settings"), dict):
        return clean_settings(record["settings"])
    text = _read(directory / CONFIG_FILE)
    if text is None:
        return {}
    import yaml

    try:
        return clean_settings(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise ValueError(f"{CONFIG_FILE} is not valid YAML: {' '.join(str(exc).split())}") from None


def _history(directory: Path) -> History | None:
    text = _read(directory / HISTORY_FILE)
    if text is None:
        return None
    history = History.from_dict(_json_object(text, HISTORY_FILE))
    if len(history) > MAX_SAVED_EPOCHS:
        raise ValueError(f"{HISTORY_FILE} holds {len(history)} epochs; at most {MAX_SAVED_EPOCHS} are read back")
    for key, values in history.history.items():
        if len(values) != len(history):
            raise ValueError(f"{HISTORY_FILE}: {key} has {len(values)} values for {len(history)} epochs")
    return history


def _model_metadata(path: Path) -> dict[str, Any]:
    """The metadata of a model file, read from its JSON part only (its arrays are not loaded)."""
    if not path.is_file():
        return {}
    with open_container(path, CONFIG_ENTRY, "model file") as (_, text):
        metadata = _json_object(text.decode("utf-8"), f"{MODEL_FILE}'s {CONFIG_ENTRY}").get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _gradients(record: dict[str, Any], n_epochs: int) -> list[list[dict[str, Any]]]:
    """The per-epoch gradient norms of ``run.json`` (well-formed entries only), one list per epoch."""
    raw = record.get("gradients")
    if not isinstance(raw, list):
        return [[] for _ in range(n_epochs)]
    out = []
    for epoch in raw[:n_epochs]:
        layers = epoch if isinstance(epoch, list) else []
        out.append([{"name": g["name"][:100], "norm": float(g["norm"]), "rms": float(g["rms"])} for g in layers[:100]
                    if isinstance(g, dict) and isinstance(g.get("name"), str)
                    and all(isinstance(g.get(k), (int, float)) and not isinstance(g.get(k), bool)
                            and math.isfinite(g[k]) for k in ("norm", "rms"))])
    return out + [[] for _ in range(n_epochs - len(out))]


def _number(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def read_run(directory: Path) -> SavedRun | None:
    """The run kept in ``directory``; None when the directory holds no run; ValueError or OSError saying
    what is wrong when it holds a broken one."""
    if not RUN_NAME.fullmatch(directory.name):
        raise ValueError("the directory's name is not a run id (letters, digits, '.', '_', '-')")
    present = [name for name in (RUN_FILE, HISTORY_FILE, CONFIG_FILE, MODEL_FILE) if (directory / name).is_file()]
    if not present:
        return None
    manifest = check_directory(directory)  # files that disagree with the run's manifest: skipped with the reason
    # a model the manifest does not list, or lists from an earlier save, is not this run's result (yet)
    stale_model = manifest is not None and manifest.files.get(MODEL_FILE, {}).get("epoch") != manifest.epoch
    text = _read(directory / RUN_FILE)
    record = _json_object(text, RUN_FILE) if text is not None else {}
    settings = _settings(directory, record)
    history = _history(directory)
    metadata = {} if stale_model else _model_metadata(directory / MODEL_FILE)
    n_epochs = len(history) if history is not None else 0

    status = record.get("status")
    if status not in STATUSES:  # a run of mlpkit train, or one whose server stopped while it trained
        if stale_model or not (directory / MODEL_FILE).is_file():
            status = "interrupted"
        else:
            status = "diverged" if history is not None and history.diverged else "completed"
    message = record.get("message") if isinstance(record.get("message"), str) else None
    if message is None:
        message = (history.message or history.stop_reason) if history is not None else ""
    if status == "interrupted" and not message:
        message = "training ended before the run finished"
    total = settings.get("epochs")
    total = total if isinstance(total, int) and not isinstance(total, bool) and total > 0 else max(n_epochs, 1)

    result = {key: value for key in ("test_loss", "test_accuracy")
              if (value := _number(record.get(key, metadata.get(key)))) is not None}
    dataset = settings.get("dataset") or metadata.get("dataset")
    created = _number(record.get("created"))
    if created is None:
        created = min((directory / name).stat().st_mtime for name in present)
    name = record.get("name") if isinstance(record.get("name"), str) else \
        f"mlpkit train {dataset or ''} {settings.get('layers', '')}".replace("  ", " ").strip()

    events: list[dict[str, Any]] = [{"type": "start", "epochs": total, "dataset": dataset,
                                     "sizes": settings.get("layers")}]
    if history is not None:
        gradients = _gradients(record, n_epochs)
        for i, epoch in enumerate(history.epochs):
            logs = {key: values[i] for key, values in history.history.items() if math.isfinite(values[i])}
            events.append({"type": "epoch", "epoch": epoch + 1, "logs": logs, "gradients": gradients[i],
                           "misclassified": None})
    events.append({"type": "end", "status": status, "message": message[:500], **result})
    source = "server" if record.get("source") == "server" else "train"
    return SavedRun(directory.name, name[:200], source, status, message[:500], total, settings, created, events,
                    result)


def scan(root: Path) -> tuple[list[SavedRun], list[dict[str, str]]]:
    """The runs kept under ``root`` (its newest ``MAX_SAVED_RUNS`` subdirectories), oldest first, and the
    directories that could not be read, as ``{"directory": name, "problem": one line}``."""
    if not root.is_dir():
        return [], []
    try:
        directories = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
        directories.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError as exc:
        return [], [{"directory": str(root), "problem": f"cannot list the runs root: {exc.strerror or exc}"}]
    runs, skipped = [], []
    for directory in directories[:MAX_SAVED_RUNS]:
        try:
            run = read_run(directory)
        except (ValueError, OSError, UnicodeDecodeError) as exc:  # ModelFileError is a ValueError
            problem = " ".join(str(exc).split()).replace(str(directory), directory.name)
            skipped.append({"directory": directory.name[:100], "problem": problem[:300]})
            continue
        if run is not None:
            runs.append(run)
    runs.sort(key=lambda r: r.created)
    return runs, skipped
