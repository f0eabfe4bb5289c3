"""The inputs of ``mlpkit predict``: the rows of a CSV, NPZ or NPY file, as one feature row each."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np

from ..settings import SettingsError


def _parse_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def read_features(path: Path, *, label_column: str | None = None, key: str = "X") -> np.ndarray:
    """Inputs to predict from: a CSV (header optional; ``label_column`` names a column to drop), an NPZ
    archive (array ``key``) or an NPY array; images are flattened to one row each."""
    if not path.is_file():
        raise SettingsError(f"INPUT {path} does not exist" if not path.exists() else f"INPUT {path} is not a file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv_features(path, label_column)
    if label_column is not None:
        raise SettingsError(f"--label-column applies to CSV input, not {path.name}")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise SettingsError(f"{path}: not a readable {suffix} file ({' '.join(str(exc).split())})") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            if key not in loaded.files:
                raise SettingsError(f"{path}: no array {key!r} in the archive (it holds {', '.join(loaded.files)}); "
                                  "pass --key NAME")
            X = loaded[key]
    elif suffix == ".npy":
        X = loaded
    else:
        raise SettingsError(f"INPUT must be a .csv, .npz or .npy file, got {path.name}")
    if X.dtype.kind not in "biuf":
        raise SettingsError(f"{path}: the inputs must be numbers, got dtype {X.dtype}")
    if X.ndim == 1:
        X = X.reshape(1, -1)
    return X.reshape(len(X), -1)


def _read_csv_features(path: Path, label_column: str | None) -> np.ndarray:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if row]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SettingsError(f"{path}: not a readable CSV file ({exc})") from None
    if not rows:
        raise SettingsError(f"{path}: the file is empty")
    header = None
    if any(_parse_float(cell) is None for cell in rows[0]):
        header = [cell.strip() for cell in rows[0]]
        rows = rows[1:]
    drop = None
    if label_column is not None:
        if header is None or label_column not in header:
            found = f"its columns are {', '.join(header[:12])}" if header else "it has no header line"
            raise SettingsError(f"{path}: no column {label_column!r} to ignore; {found}")
        drop = header.index(label_column)
    if not rows:
        raise SettingsError(f"{path}: no data rows")
    width = len(rows[0]) if header is None else len(header)
    first_line = 2 if header is not None else 1
    for r, row in enumerate(rows):
        if len(row) != width:
            raise SettingsError(f"{path}, line {first_line + r}: {len(row)} fields, expected {width}")
    cells = [row[:drop] + row[drop + 1:] for row in rows] if drop is not None else rows
    try:
        X = np.array(cells, dtype=np.float64)
        bad = not np.isfinite(X).all()
    except ValueError:
        bad = True
    if bad:  # find the first offending cell for the message
        for r, row in enumerate(cells):
            for c, cell in enumerate(row):
                value = _parse_float(cell)
                if value is None or not np.isfinite(value):
                    column = header[c if drop is None or c < drop else c + 1] if header else c + 1
                    raise SettingsError(f"{path}, line {first_line + r}, column {column!r}: {cell.strip()!r} is "
                                      "not a finite number")
    return X
