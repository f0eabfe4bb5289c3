"""The layout of a run directory, shared by ``mlpkit train --out DIR`` and the runs of ``mlpkit serve``.

A run directory holds ``model.mlpk`` (the trained network; its metadata holds the effective settings, the data
set and the test result), ``history.json`` (:class:`mlpkit.history.History`), ``config.yaml`` (the effective
settings, usable as ``mlpkit train --config``) and, as each writer adds, ``checkpoint.mlpkc``, the plots and the
dashboard's ``run.json``. Every file is written to a temporary name and renamed (:mod:`mlpkit._atomic`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._atomic import atomic_write_bytes

MODEL_FILE = "model.mlpk"
HISTORY_FILE = "history.json"
CONFIG_FILE = "config.yaml"


def write_config(directory: Path, settings: dict[str, Any], *, writer: str) -> Path:
    """``config.yaml`` with the effective ``settings``, headed by which command (``writer``) wrote it."""
    import yaml

    header = f"# {writer}: the effective settings of this run; reuse with mlpkit train --config {CONFIG_FILE}\n"
    text = header + yaml.safe_dump(settings, sort_keys=False, allow_unicode=True)
    return atomic_write_bytes(Path(directory) / CONFIG_FILE, text.encode("utf-8"))
