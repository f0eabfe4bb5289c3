"""Load a user's own labelled data from CSV or NPZ files into a :class:`Split`.

CSV: the first line is a header naming the columns; the label column is picked by name and every other
column is a numeric feature. NPZ: an archive from ``np.savez(path, X=X, y=y)``.

Labels are returned as integer classes. Integer labels are kept as they are (``classes`` is ``None``);
any other labels (names such as ``"cat"``) are mapped to their index in the sorted list of distinct names,
which ``Split.classes`` holds, so that ``split.classes[k]`` names class ``k``.

Every problem raises :class:`DataFormatError` (a ``ValueError``) naming the file and, for CSV, the line
and column, rather than a parser traceback.
"""

from __future__ import annotations

import csv
import math
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..validation import resolve_dtype
from .containers import Split
from .errors import DataFormatError

__all__ = ["load_csv", "load_npz"]


def _check_path(path: object, name: str = "path") -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path (str or os.PathLike), got {type(path).__name__}")
    return Path(path)


def _not_whole(values: np.ndarray) -> np.ndarray:
    """Mask of the numeric labels that are not whole, finite numbers (and so cannot be class indices)."""
    if values.dtype.kind in "biu":
        return np.zeros(values.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        return ~np.isfinite(values) | (values != np.round(values))


def _labels_from_names(names: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    classes, y = np.unique(names, return_inverse=True)
    return y.astype(np.int64).ravel(), tuple(str(c) for c in classes)


def _parse_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _labels_from_cells(
    cells: list[str], lines: list[int], path: Path, column: str
) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """Integer labels (as written) when every cell is a number, else class names mapped to indices."""
    numbers = [_parse_number(c) for c in cells]
    if any(v is None for v in numbers):
        return _labels_from_names(np.array(cells))
    values = np.array(numbers)
    if (bad := _not_whole(values)).any():
        i = int(np.argmax(bad))
        raise DataFormatError(
            f"{path}, line {lines[i]}, column {column!r}: label {cells[i]!r} is not a whole number; labels must "
            "be integer classes or class names"
        )
    return values.astype(np.int64), None


def _parse_row(row: list[str], path: Path, line: int, names: list[str]) -> np.ndarray:
    try:
        return np.array(row, dtype=np.float64)
    except ValueError:
        col = next(i for i, cell in enumerate(row) if _parse_number(cell) is None)
        cell = row[col].strip()
        what = f"{cell!r} is not a number" if cell else "an empty cell (missing value)"
        raise DataFormatError(f"{path}, line {line}, column {names[col]!r}: {what}") from None


def _read_table(
    path: Path, label_column: str, delimiter: str, encoding: str
) -> tuple[list[str], list[np.ndarray], list[str], list[int]]:
    """The feature names, one float64 array of features per data row, the label cells, and the file line
    number of each data row."""
    try:
        with path.open(newline="", encoding=encoding) as f:
            reader = csv.reader(f, delimiter=delimiter, strict=True)
            header = next(reader, None)
            if header is None:
                raise DataFormatError(f"{path}: the file is empty; expected a header line naming the columns")
            header = [name.strip() for name in header]
            label_at = _find_label_column(path, header, label_column)
            names = header[:label_at] + header[label_at + 1 :]
            if not names:
                raise DataFormatError(f"{path}: no feature columns besides the label column {label_column!r}")
            rows, labels, lines = [], [], []
            for row in reader:
                if not row:  # a blank line
                    continue
                line = reader.line_num
                if len(row) != len(header):
                    raise DataFormatError(
                        f"{path}, line {line}: {len(row)} fields, but the header has {len(header)} columns"
                    )
                label = row.pop(label_at).strip()
                if not label:
                    raise DataFormatError(f"{path}, line {line}: empty label in column {label_column!r}")
                rows.append(_parse_row(row, path, line, names))
                labels.append(label)
                lines.append(line)
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path}: not {encoding} text ({exc}); pass the file's encoding=") from exc
    except csv.Error as exc:
        raise DataFormatError(f"{path}, line {reader.line_num}: malformed CSV: {exc}") from exc
    return names, rows, labels, lines


def _find_label_column(path: Path, header: list[str], label_column: str) -> int:
    matches = [i for i, name in enumerate(header) if name == label_column]
    if len(matches) > 1:
        raise DataFormatError(f"{path}: the header names {len(matches)} columns {label_column!r}; it must be unique")
    if matches:
        return matches[0]
    shown = ", ".join(repr(h) for h in header[:12]) + (", ..." if len(header) > 12 else "")
    hint = ""
    if folded := [h for h in header if h.casefold() == label_column.casefold()]:
        hint = f" (did you mean {folded[0]!r}?)"
    elif all(_parse_number(h) is not None for h in header):
        hint = " (the first line looks like data: the file needs a header line naming the columns)"
    raise DataFormatError(f"{path}: no label column {label_column!r}{hint}; the header's columns are {shown}")


def load_csv(
    path: str | os.PathLike[str],
    *,
    label_column: str,
    delimiter: str = ",",
    dtype: str | np.dtype = "float32",
    encoding: str = "utf-8-sig",
) -> Split:
    """Read a CSV file with a header line: the column named ``label_column`` gives the labels, all others
    are numeric features. Blank lines are skipped; surrounding spaces in names and cells are ignored.

    Returns a :class:`Split` (``X, y = load_csv(...)`` works) with ``X`` of shape (m, n_columns - 1) in
    ``dtype`` and integer labels ``y``; ``classes`` holds the names when the labels are not integers.
    Raises :class:`DataFormatError` naming the file, line and column for a missing label column, a row
    with the wrong number of fields, a cell that is not a finite number, an empty file, or no data rows.
    """
    path = _check_path(path)
    if not isinstance(label_column, str):
        raise TypeError(f"label_column must be the column's name (a str), got {label_column!r}")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise TypeError(f"delimiter must be a single character, got {delimiter!r}")
    float_dtype = resolve_dtype(dtype)
    names, rows, label_cells, lines = _read_table(path, label_column, delimiter, encoding)
    if not rows:
        raise DataFormatError(f"{path}: no data rows after the header")
    X = np.stack(rows)
    if not np.isfinite(X).all():
        r, c = np.argwhere(~np.isfinite(X))[0]
        raise DataFormatError(f"{path}, line {lines[r]}, column {names[c]!r}: {str(X[r, c])!r} is not a finite number")
    y, classes = _labels_from_cells(label_cells, lines, path, label_column)
    return Split(X.astype(float_dtype), y, classes)


def load_npz(
    path: str | os.PathLike[str],
    *,
    x_key: str = "X",
    y_key: str = "y",
    dtype: str | np.dtype = "float32",
) -> Split:
    """Read features ``X`` and labels ``y`` from a ``.npz`` archive (``np.savez(path, X=X, y=y)``).

    ``X`` must be numeric with one example per row; extra dimensions (images) are flattened to
    (m, n_features). ``y`` must be 1-D: integers (or whole numbers stored as floats) are kept, strings
    become class indices with the names in ``classes``. Never unpickles anything. Raises
    :class:`DataFormatError` naming the file and key when the archive or an array is not as described.
    """
    path = _check_path(path)
    for name, key in (("x_key", x_key), ("y_key", y_key)):
        if not isinstance(key, str):
            raise TypeError(f"{name} must be a str, got {key!r}")
    float_dtype = resolve_dtype(dtype)
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataFormatError(f"{path}: not a valid .npz archive ({exc})") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataFormatError(
            f"{path}: a .npy file with a single array, not a .npz archive; save with np.savez(path, X=X, y=y)"
        )
    with archive:
        X = _npz_array(path, archive, x_key)
        y = _npz_array(path, archive, y_key)

    if X.dtype.kind not in "biuf":
        raise DataFormatError(f"{path}: array {x_key!r} must be numeric, got dtype {X.dtype}")
    if X.ndim < 2:
        raise DataFormatError(
            f"{path}: array {x_key!r} must have one example per row (2-D or more), got shape {X.shape}; "
            "for a single feature save X.reshape(-1, 1)"
        )
    if y.ndim != 1:
        raise DataFormatError(f"{path}: array {y_key!r} must be 1-D (one label per example), got shape {y.shape}")
    if len(X) != len(y):
        raise DataFormatError(f"{path}: {x_key!r} has {len(X)} examples but {y_key!r} has {len(y)} labels")
    if len(X) == 0:
        raise DataFormatError(f"{path}: {x_key!r} and {y_key!r} are empty")
    X = X.reshape(len(X), math.prod(X.shape[1:])).astype(float_dtype)
    if not np.isfinite(X).all():
        row = int(np.argwhere(~np.isfinite(X))[0, 0])
        raise DataFormatError(f"{path}: array {x_key!r} holds NaN or infinite values (first in row {row})")

    if y.dtype.kind in "US":
        labels, classes = _labels_from_names(y.astype(str))
        return Split(X, labels, classes)
    if y.dtype.kind not in "biuf":
        raise DataFormatError(f"{path}: array {y_key!r} must hold integer labels or strings, got dtype {y.dtype}")
    if (bad := _not_whole(y)).any():
        i = int(np.argmax(bad))
        raise DataFormatError(
            f"{path}: array {y_key!r} must hold integer class labels, but y[{i}] = {y[i]!r} is not a whole number"
        )
    return Split(X, y.astype(np.int64))


def _npz_array(path: Path, archive: np.lib.npyio.NpzFile, key: str) -> np.ndarray:
    if key not in archive.files:
        raise DataFormatError(f"{path}: no array {key!r} in the archive; it holds {_list(archive.files)}")
    try:
        return archive[key]
    except (ValueError, EOFError, zipfile.BadZipFile, OSError) as exc:
        raise DataFormatError(f"{path}: array {key!r} cannot be read ({exc})") from exc


def _list(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names) if names else "no arrays"
