"""Load a user's own data from a CSV file, a pandas DataFrame or an NPZ archive into a :class:`Split`.

CSV: the first line is a header naming the columns; the target column(s) are picked by name, an optional
weight column gives each example's weight, and every other column is a numeric feature. A DataFrame is read
the same way, by column name (pandas itself is never imported: any object with ``columns`` and columns with
``to_numpy()`` will do). NPZ: an archive from ``np.savez(path, X=X, y=y)``.

The targets are read for a task (:data:`TARGET_TASKS`, the tasks of :mod:`mlpkit.tasks`):

- ``classification``: one column of integer classes or class names (names are mapped to their index in the
  sorted list of distinct names, which ``Split.classes`` holds, so that ``split.classes[k]`` names class
  ``k``), or several 0/1 columns with exactly one 1 per row (one-hot; the column names become the classes);
  labels ``y`` (m,) int64;
- ``binary``: one column of 0/1 or of two class names (the second name, in sorted order, is the positive
  class); ``y`` (m,) int64;
- ``multilabel``: one or several 0/1 columns; ``y`` (m, k) int64 indicators;
- ``regression``: one or several numeric columns; ``y`` (m, k) float64 values;
- ``"auto"``: the targets as written, for :func:`mlpkit.tasks.infer_task` to decide: one column of names or
  whole numbers as classification labels, one column with a fractional value as (m, 1) values, several
  columns as an (m, k) matrix (int64 when every cell is 0 or 1, float64 else).

Every problem raises :class:`DataFormatError` (a ``ValueError``) naming the file and, for CSV, the line
and column (for a DataFrame, the row and column), rather than a parser traceback.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._bounded import Npz
from ..validation import resolve_dtype
from .containers import Split
from .errors import DataFormatError

__all__ = ["TARGET_TASKS", "load_csv", "load_dataframe", "load_npz"]

#: the tasks targets are read for (those of :data:`mlpkit.tasks.TASKS`; the loaders stand below that module)
TARGET_TASKS = ("classification", "binary", "multilabel", "regression")


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


def _check_task(task: object) -> str:
    if task not in (*TARGET_TASKS, "auto"):
        raise ValueError(f"task must be 'auto' or one of {', '.join(TARGET_TASKS)}, got {task!r}")
    return str(task)


def _column_names(label_column: object, weight_column: object) -> tuple[list[str], str | None]:
    """The target column names (one str, or a non-empty sequence of distinct str) and the weight column's."""
    names = [label_column] if isinstance(label_column, str) else label_column
    if not isinstance(names, Sequence) or not names or not all(isinstance(n, str) for n in names):
        raise TypeError(f"label_column must be the column's name (a str) or a list of names, got {label_column!r}")
    names = list(names)
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise ValueError(f"label_column names the column {twice!r} twice")
    if weight_column is not None:
        if not isinstance(weight_column, str):
            raise TypeError(f"weight_column must be the column's name (a str) or None, got {weight_column!r}")
        if weight_column in names:
            raise ValueError(f"weight_column {weight_column!r} is also a target column")
    return names, weight_column


# ------------------------------------------------------------------------------------------ targets
@dataclass
class _Column:
    """One target or weight column: each cell as written (``""`` for a missing value) and as a number
    (NaN where the cell is not a number)."""

    name: str
    text: list[str]
    number: np.ndarray

    @classmethod
    def from_cells(cls, name: str, cells: list[str]) -> _Column:
        numbers = [_parse_number(c) for c in cells]
        return cls(name, cells, np.array([math.nan if v is None else v for v in numbers], dtype=np.float64))

    def first(self, mask: np.ndarray) -> int | None:
        hits = np.flatnonzero(mask)
        return int(hits[0]) if hits.size else None

    def not_numbers(self) -> np.ndarray:
        """Cells that are not numbers at all (names); NaN and inf written as such are numbers."""
        return np.array([np.isnan(v) and _parse_number(t) is None for v, t in zip(self.number, self.text,
                                                                                   strict=True)], dtype=bool)


Locate = Callable[[int | None], str]


def _check_cells(column: _Column, where: Locate, what: str) -> None:
    """No missing and no NaN/infinite cells: every row needs a finite target (or weight)."""
    if (i := column.first(np.array([t == "" for t in column.text]))) is not None:
        raise DataFormatError(f"{where(i)}: empty {what} in column {column.name!r} (a missing value); every row "
                              f"needs one")
    written = np.array([_parse_number(t) is not None for t in column.text], dtype=bool)
    if (i := column.first(written & ~np.isfinite(column.number))) is not None:
        raise DataFormatError(f"{where(i)}, column {column.name!r}: {what} {column.text[i]!r} is not a finite number "
                              "(a missing value?)")


def _numbers(column: _Column, where: Locate, expected: str) -> np.ndarray:
    if (i := column.first(column.not_numbers())) is not None:
        raise DataFormatError(f"{where(i)}, column {column.name!r}: {column.text[i]!r} is not a number; {expected}")
    return column.number


def _indicators(column: _Column, where: Locate, expected: str) -> np.ndarray:
    values = _numbers(column, where, expected)
    if (i := column.first((values != 0) & (values != 1))) is not None:
        raise DataFormatError(f"{where(i)}, column {column.name!r}: {column.text[i]!r} is not 0 or 1; {expected}")
    return values.astype(np.int64)


def _class_labels(column: _Column, where: Locate) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """Integer labels as written when every cell is a number, else class names mapped to indices."""
    if column.not_numbers().any():
        return _labels_from_names(np.array(column.text))
    if (bad := _not_whole(column.number)).any():
        i = int(np.argmax(bad))
        raise DataFormatError(
            f"{where(i)}, column {column.name!r}: label {column.text[i]!r} is not a whole number; labels must be "
            "integer classes or class names (for numeric values use the task 'regression')"
        )
    return column.number.astype(np.int64), None


def _targets(columns: list[_Column], task: str, where: Locate) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """The targets of ``columns`` as ``task`` reads them, and the class names (see the module's docstring)."""
    for column in columns:
        _check_cells(column, where, "label")
    names = tuple(c.name for c in columns)
    listed = ", ".join(repr(n) for n in names)
    if task == "regression":
        return np.column_stack([_numbers(c, where, "regression targets are numbers") for c in columns]), None
    if task == "multilabel":
        expected = "multilabel targets are 0/1 indicator columns"
        return np.column_stack([_indicators(c, where, expected) for c in columns]), None
    if task == "binary":
        if len(columns) > 1:
            raise DataFormatError(f"{where(None)}: a binary task takes one target column, got {len(columns)} "
                                  f"({listed}); several 0/1 columns are a multilabel task")
        column = columns[0]
        if column.not_numbers().any():
            y, classes = _labels_from_names(np.array(column.text))
            if len(classes) != 2:
                shown = ", ".join(repr(c) for c in classes[:10])
                raise DataFormatError(f"{where(None)}: a binary task needs two classes; column {column.name!r} has "
                                      f"{len(classes)}: {shown}")
            return y, classes
        return _indicators(column, where, "binary targets are 0 or 1 (or two class names)"), None
    if len(columns) == 1:
        column = columns[0]
        if task == "auto" and not column.not_numbers().any() and _not_whole(column.number).any():
            return column.number.reshape(-1, 1), None
        return _class_labels(column, where)
    if task == "auto":
        values = np.column_stack([_numbers(c, where, "several target columns hold 0/1 indicators or values")
                                  for c in columns])
        return (values.astype(np.int64) if np.isin(values, (0, 1)).all() else values), None
    # classification from several columns: one-hot rows, the columns naming the classes
    Y = np.column_stack([_indicators(c, where, f"the target columns {listed} must be one-hot (one 1 per row)")
                         for c in columns])
    if (i := columns[0].first(Y.sum(axis=1) != 1)) is not None:
        row = ", ".join(str(v) for v in Y[i])
        raise DataFormatError(f"{where(i)}: the target columns {listed} must be one-hot (exactly one 1 per row) for "
                              f"classification; got {row}")
    return Y.argmax(axis=1).astype(np.int64), names


def _weights(column: _Column, where: Locate) -> np.ndarray:
    _check_cells(column, where, "weight")
    values = _numbers(column, where, "weights are non-negative numbers")
    if (i := column.first(values < 0)) is not None:
        raise DataFormatError(f"{where(i)}, column {column.name!r}: weight {column.text[i]!r} is negative; weights "
                              "are non-negative numbers")
    if not values.any():
        raise DataFormatError(f"{where(None)}: every weight in column {column.name!r} is 0; at least one example "
                              "must count")
    return values


# ------------------------------------------------------------------------------------------ CSV
def _parse_row(row: list[str], path: Path, line: int, names: list[str]) -> np.ndarray:
    try:
        return np.array(row, dtype=np.float64)
    except ValueError:
        col = next(i for i, cell in enumerate(row) if _parse_number(cell) is None)
        cell = row[col].strip()
        what = f"{cell!r} is not a number" if cell else "an empty cell (missing value)"
        raise DataFormatError(f"{path}, line {line}, column {names[col]!r}: {what}; feature columns hold "
                              "numbers") from None


@dataclass
class _Table:
    """A CSV file read: the feature names and rows, the target and weight cells, and each row's line."""

    names: list[str]
    rows: list[np.ndarray]
    targets: list[list[str]]
    weights: list[str]
    lines: list[int]


def _read_table(path: Path, targets: list[str], weight: str | None, delimiter: str, encoding: str) -> _Table:
    try:
        with path.open(newline="", encoding=encoding) as f:
            reader = csv.reader(f, delimiter=delimiter, strict=True)
            header = next(reader, None)
            if header is None:
                raise DataFormatError(f"{path}: the file is empty; expected a header line naming the columns")
            header = [name.strip() for name in header]
            target_at = [_find_column(path, header, name, "label") for name in targets]
            weight_at = [] if weight is None else [_find_column(path, header, weight, "weight")]
            taken = set(target_at + weight_at)
            feature_at = [i for i in range(len(header)) if i not in taken]
            names = [header[i] for i in feature_at]
            if not names:
                raise DataFormatError(f"{path}: no feature columns besides the label column"
                                      f"{'s' if len(targets) > 1 else ''} {', '.join(map(repr, targets))}")
            table = _Table(names, [], [[] for _ in targets], [], [])
            for row in reader:
                if not row:  # a blank line
                    continue
                line = reader.line_num
                if len(row) != len(header):
                    raise DataFormatError(
                        f"{path}, line {line}: {len(row)} fields, but the header has {len(header)} columns"
                    )
                table.rows.append(_parse_row([row[i] for i in feature_at], path, line, names))
                for cells, i in zip(table.targets, target_at, strict=True):
                    cells.append(row[i].strip())
                if weight_at:
                    table.weights.append(row[weight_at[0]].strip())
                table.lines.append(line)
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path}: not {encoding} text ({exc}); pass the file's encoding=") from exc
    except csv.Error as exc:
        raise DataFormatError(f"{path}, line {reader.line_num}: malformed CSV: {exc}") from exc
    return table


def _find_column(path: Path, header: list[str], column: str, what: str) -> int:
    matches = [i for i, name in enumerate(header) if name == column]
    if len(matches) > 1:
        raise DataFormatError(f"{path}: the header names {len(matches)} columns {column!r}; it must be unique")
    if matches:
        return matches[0]
    shown = ", ".join(repr(h) for h in header[:12]) + (", ..." if len(header) > 12 else "")
    hint = ""
    if folded := [h for h in header if h.casefold() == column.casefold()]:
        hint = f" (did you mean {folded[0]!r}?)"
    elif all(_parse_number(h) is not None for h in header):
        hint = " (the first line looks like data: the file needs a header line naming the columns)"
    raise DataFormatError(f"{path}: no {what} column {column!r}{hint}; the header's columns are {shown}")


def load_csv(
    path: str | os.PathLike[str],
    *,
    label_column: str | Sequence[str],
    task: str = "classification",
    weight_column: str | None = None,
    delimiter: str = ",",
    dtype: str | np.dtype = "float32",
    encoding: str = "utf-8-sig",
) -> Split:
    """Read a CSV file with a header line: the column(s) named by ``label_column`` give the targets, read
    for ``task`` (see the module's docstring), the column ``weight_column`` (if given) the examples'
    weights, and all other columns are numeric features. Blank lines are skipped; surrounding spaces in
    names and cells are ignored.

    Returns a :class:`Split` (``X, y = load_csv(...)`` works) with ``X`` of shape (m, n_features) in
    ``dtype``, the targets ``y``, ``classes`` (the names of named classes), ``feature_names``,
    ``target_names`` and ``sample_weight`` (float64, or None). Raises :class:`DataFormatError` naming the
    file, line and column for a missing column, a row with the wrong number of fields, a feature cell that
    is not a finite number, an empty or NaN target or weight, a target the task cannot read, a negative
    weight, an empty file, or no data rows.
    """
    path = _check_path(path)
    targets, weight = _column_names(label_column, weight_column)
    task = _check_task(task)
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise TypeError(f"delimiter must be a single character, got {delimiter!r}")
    float_dtype = resolve_dtype(dtype)
    table = _read_table(path, targets, weight, delimiter, encoding)
    if not table.rows:
        raise DataFormatError(f"{path}: no data rows after the header")
    X, lines = np.stack(table.rows), table.lines
    if not np.isfinite(X).all():
        r, c = np.argwhere(~np.isfinite(X))[0]
        raise DataFormatError(f"{path}, line {lines[r]}, column {table.names[c]!r}: {str(X[r, c])!r} is not a "
                              "finite number")

    def where(i: int | None) -> str:
        return str(path) if i is None else f"{path}, line {lines[i]}"

    y, classes = _targets([_Column.from_cells(n, c) for n, c in zip(targets, table.targets, strict=True)], task,
                          where)
    weights = None if weight is None else _weights(_Column.from_cells(weight, table.weights), where)
    return Split(X.astype(float_dtype), y, classes, tuple(table.names), tuple(targets), weights)


# ------------------------------------------------------------------------------------------ DataFrame
def _frame_column(frame: Any, name: str) -> np.ndarray:
    column = frame[name]
    values = column.to_numpy() if hasattr(column, "to_numpy") else np.asarray(column)
    if values.ndim != 1:
        raise DataFormatError(f"the DataFrame's column {name!r} is not one column (duplicate name?)")
    return values


def _frame_cells(frame: Any, name: str) -> _Column:
    """A target or weight column of a DataFrame as cells: numbers as numbers, anything else as its text;
    missing values (None, NaN, pandas.NA) as empty cells."""
    values = _frame_column(frame, name)
    if values.dtype.kind in "biuf":
        number = values.astype(np.float64)
        return _Column(name, ["" if math.isnan(v) else repr(float(v)) for v in number], number)
    missing = frame[name].isna().to_numpy() if hasattr(frame[name], "isna") else \
        np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in values])
    return _Column.from_cells(name, ["" if m else str(v).strip() for v, m in zip(values, missing, strict=True)])


def load_dataframe(
    frame: Any,
    *,
    label_column: str | Sequence[str],
    task: str = "classification",
    weight_column: str | None = None,
    dtype: str | np.dtype = "float32",
) -> Split:
    """Read a pandas DataFrame as :func:`load_csv` reads a file: the column(s) ``label_column`` are the
    targets (read for ``task``), ``weight_column`` the weights, every other column a numeric feature (bool
    columns count as 0/1). The column names are kept in ``feature_names`` and ``target_names``. pandas is
    not imported: any object with ``columns`` whose columns have ``to_numpy()`` is read. Errors name the
    row (0-based position) and column."""
    if not hasattr(frame, "columns") or not hasattr(frame, "__getitem__"):
        raise TypeError(f"frame must be a pandas DataFrame (an object with columns), got {type(frame).__name__}")
    targets, weight = _column_names(label_column, weight_column)
    task = _check_task(task)
    float_dtype = resolve_dtype(dtype)
    header = [str(c) for c in frame.columns]
    if len(set(header)) != len(header):
        twice = next(n for n in header if header.count(n) > 1)
        raise DataFormatError(f"the DataFrame has several columns named {twice!r}; names must be unique")
    for name, what in [(n, "label") for n in targets] + ([(weight, "weight")] if weight else []):
        if name not in header:
            shown = ", ".join(repr(h) for h in header[:12]) + (", ..." if len(header) > 12 else "")
            raise DataFormatError(f"the DataFrame has no {what} column {name!r}; its columns are {shown}")
    by_name = dict(zip(header, frame.columns, strict=True))
    names = [h for h in header if h not in targets and h != weight]
    if not names:
        raise DataFormatError(f"the DataFrame has no feature columns besides {', '.join(map(repr, targets))}")
    n = len(_frame_column(frame, by_name[names[0]]))
    if n == 0:
        raise DataFormatError("the DataFrame has no rows")

    def where(i: int | None) -> str:
        return "the DataFrame" if i is None else f"the DataFrame, row {i}"

    X = np.empty((n, len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        values = _frame_column(frame, by_name[name])
        if values.dtype.kind in "biuf":
            X[:, j] = values
        else:
            cells = _Column.from_cells(name, ["" if v is None else str(v).strip() for v in values])
            X[:, j] = _numbers(cells, where, "feature columns hold numbers")
        bad = np.flatnonzero(~np.isfinite(X[:, j]))
        if bad.size:
            raise DataFormatError(f"{where(int(bad[0]))}, column {name!r}: {values[bad[0]]!r} is not a finite number "
                                  "(a missing value?); feature columns hold numbers")
    y, classes = _targets([_frame_cells(frame, by_name[t]) for t in targets], task, where)
    weights = None if weight is None else _weights(_frame_cells(frame, by_name[weight]), where)
    return Split(X.astype(float_dtype), y, classes, tuple(names), tuple(targets), weights)


# ------------------------------------------------------------------------------------------ NPZ
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
    become class indices with the names in ``classes``. Never unpickles anything; the archive is read with
    the bounded reader of :mod:`mlpkit._bounded` (declared sizes checked against
    :func:`~mlpkit._bounded.max_file_bytes` and against each other before anything is allocated). Raises
    :class:`DataFormatError` naming the file and key when the archive or an array is not as described.
    """
    path = _check_path(path)
    for name, key in (("x_key", x_key), ("y_key", y_key)):
        if not isinstance(key, str):
            raise TypeError(f"{name} must be a str, got {key!r}")
    float_dtype = resolve_dtype(dtype)
    if not path.is_file():
        raise FileNotFoundError(f"no .npz file at {path}")
    with path.open("rb") as f:
        if f.read(6) == b"\x93NUMPY":
            raise DataFormatError(
                f"{path}: a .npy file with a single array, not a .npz archive; save with np.savez(path, X=X, y=y)"
            )
    with Npz(path, name=str(path), error=DataFormatError) as archive:
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


def _npz_array(path: Path, archive: Npz, key: str) -> np.ndarray:
    if key not in archive.headers:
        raise DataFormatError(f"{path}: no array {key!r} in the archive; it holds {_list(list(archive.headers)[:20])}")
    return archive.read(key)


def _list(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names) if names else "no arrays"
