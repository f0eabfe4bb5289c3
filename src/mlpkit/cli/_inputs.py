"""The inputs of ``mlpkit predict``: the rows of a CSV, NPZ or NPY file, as one feature row each; a CSV's
header and cells are kept, so that its rows can be written back with the predictions beside them."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._bounded import Npz, read_npy_file
from ..datasets.errors import DataFormatError
from ..settings import SettingsError


def _parse_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@dataclass
class Inputs:
    """The feature rows ``X`` of an INPUT file and, for a CSV with a header, its column names and its rows'
    cells as written."""

    X: np.ndarray
    header: list[str] | None = None
    rows: list[list[str]] | None = None


def read_inputs(path: Path, *, label_column: str | None = None, key: str = "X",
                feature_names: Sequence[str] | None = None) -> Inputs:
    """Inputs to predict from: a CSV (header optional; ``label_column`` names a column to drop; when the
    header holds every one of the model's ``feature_names``, those columns are taken by name, in the model's
    order, and any other column is ignored), an NPZ archive (array ``key``) or an NPY array; images are
    flattened to one row each."""
    if not path.is_file():
        raise SettingsError(f"INPUT {path} does not exist" if not path.exists() else f"INPUT {path} is not a file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv_features(path, label_column, feature_names)
    if label_column is not None:
        raise SettingsError(f"--label-column applies to CSV input, not {path.name}")
    # the bounded readers: declared sizes checked against limits and the file before anything is allocated
    if suffix == ".npz":
        with Npz(path, name=str(path), error=DataFormatError) as archive:
            if key not in archive.headers:
                raise SettingsError(f"{path}: no array {key!r} in the archive (it holds "
                                    f"{', '.join(list(archive.headers)[:20])}); pass --key NAME")
            X = archive.read(key)
    elif suffix == ".npy":
        X = read_npy_file(path, error=DataFormatError)
    else:
        raise SettingsError(f"INPUT must be a .csv, .npz or .npy file, got {path.name}")
    if X.dtype.kind not in "biuf":
        raise SettingsError(f"{path}: the inputs must be numbers, got dtype {X.dtype}")
    if X.ndim == 1:
        X = X.reshape(1, -1)
    return Inputs(X.reshape(len(X), -1))


def _read_csv_features(path: Path, label_column: str | None, feature_names: Sequence[str] | None) -> Inputs:
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
    if label_column is not None and (header is None or label_column not in header):
        found = f"its columns are {', '.join(header[:12])}" if header else "it has no header line"
        raise SettingsError(f"{path}: no column {label_column!r} to ignore; {found}")
    if not rows:
        raise SettingsError(f"{path}: no data rows")
    width = len(rows[0]) if header is None else len(header)
    first_line = 2 if header is not None else 1
    for r, row in enumerate(rows):
        if len(row) != width:
            raise SettingsError(f"{path}, line {first_line + r}: {len(row)} fields, expected {width}")
    if header is not None and feature_names and set(feature_names) <= set(header):
        keep = [header.index(name) for name in feature_names]
    else:
        keep = [c for c in range(width) if header is None or header[c] != label_column]
    cells = [[row[c] for c in keep] for row in rows]
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
                    column = header[keep[c]] if header else keep[c] + 1
                    raise SettingsError(f"{path}, line {first_line + r}, column {column!r}: {cell.strip()!r} is "
                                        "not a finite number")
    return Inputs(X, header, rows if header is not None else None)
