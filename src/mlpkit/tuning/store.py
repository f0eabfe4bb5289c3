"""The results of a search in one SQLite file: the search's settings and every trial.

Each finished trial is committed on its own, so a search killed at any moment keeps everything finished
before; restarted on the same file, it skips the trials already there (a trial is known by the hash of its
parameters and seed, :func:`~mlpkit.tuning.trial.trial_id`). A trial that was running when the search was
killed is stored as ``running`` and is run again. Only the process that drives the search writes the file;
workers return their results to it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._atomic import WriteError

__all__ = ["FINISHED", "ResultsStore", "Trial"]

#: statuses of a trial that is not run again when a search resumes
FINISHED = ("completed", "pruned", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id TEXT PRIMARY KEY,
    number INTEGER NOT NULL,
    round TEXT NOT NULL,
    params TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL,
    score REAL,
    epochs INTEGER NOT NULL DEFAULT 0,
    history TEXT NOT NULL DEFAULT '{}',
    stop_reason TEXT,
    error TEXT,
    duration REAL,
    pid INTEGER,
    host TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    started_at REAL,
    finished_at REAL
);
"""


@dataclass
class Trial:
    """One stored trial (``history`` maps each per-epoch metric to its values)."""

    id: str
    number: int
    round: str
    params: dict[str, Any]
    seed: int
    status: str
    score: float | None = None
    epochs: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    stop_reason: str | None = None
    error: str | None = None
    duration: float | None = None
    pid: int | None = None
    host: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    started_at: float | None = None
    finished_at: float | None = None


class ResultsStore:
    """A search's SQLite file (``path=None``: in memory, nothing kept)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = None if path is None else Path(path)
        if self.path is not None:
            if self.path.is_dir():
                raise ValueError(f"storage {self.path} is a directory; give a file such as search.sqlite")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        existed = self.path is not None and self.path.exists()
        try:
            self._db = sqlite3.connect(":memory:" if self.path is None else str(self.path))
            self._db.executescript(_SCHEMA)
        except sqlite3.OperationalError as exc:  # a full, read-only or forbidden disk
            if self.path is not None and not existed:  # the empty file SQLite may have created
                with contextlib.suppress(OSError):
                    self._db.close()
                    self.path.unlink(missing_ok=True)
            raise _write_error(exc, self.path, existed) from None
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"storage {self.path} is not an mlpkit search file (SQLite): {exc}") from None

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One transaction (committed, or rolled back on failure, so the file keeps what it held); a full or
        read-only disk is a :class:`~mlpkit._atomic.WriteError` naming the file."""
        try:
            with self._db:
                yield
        except sqlite3.OperationalError as exc:
            raise _write_error(exc, self.path, self.path is not None) from None

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ meta
    def settings(self) -> dict[str, Any] | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'settings'").fetchone()
        return None if row is None else json.loads(row[0])

    def save_settings(self, settings: dict[str, Any]) -> None:
        with self._writing():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('settings', ?)", (json.dumps(settings),))

    def clear(self) -> None:
        """Forget every trial and the settings (a fresh search on the same file)."""
        with self._writing():
            self._db.execute("DELETE FROM trials")
            self._db.execute("DELETE FROM meta")

    # ---------------------------------------------------------------------------------------- trials
    def mark_running(self, trial_id: str, number: int, round_name: str, params: dict[str, Any], seed: int) -> None:
        with self._writing():
            self._db.execute(
                "INSERT OR REPLACE INTO trials (id, number, round, params, seed, status, started_at) "
                "VALUES (?, ?, ?, ?, ?, 'running', ?)",
                (trial_id, number, round_name, json.dumps(params), seed, time.time()))

    def save_result(self, result: dict[str, Any], number: int, round_name: str) -> Trial:
        """Store a finished trial (a result of :func:`~mlpkit.tuning.trial.run_trial`), committed at once."""
        extra = {k: v for k, v in result.items() if k in ("initial_loss", "optuna_rungs")}
        with self._writing():
            self._db.execute(
                "INSERT OR REPLACE INTO trials (id, number, round, params, seed, status, score, epochs, history, "
                "stop_reason, error, duration, pid, host, extra, started_at, finished_at) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "(SELECT started_at FROM trials WHERE id = ?), ?)",
                (result["id"], number, round_name, json.dumps(result["params"]), result["seed"], result["status"],
                 result.get("score"), result.get("epochs", 0), json.dumps(result.get("history", {})),
                 result.get("stop_reason"), result.get("error"), result.get("duration"), result.get("pid"),
                 result.get("host"), json.dumps(extra), result["id"], time.time()))
        return self.get(result["id"])

    def get(self, trial_id: str) -> Trial:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM trials WHERE id = ?", (trial_id,)).fetchone()
        if row is None:
            raise KeyError(trial_id)
        return _trial(row)

    def trials(self, *, statuses: tuple[str, ...] | None = None, round_name: str | None = None) -> list[Trial]:
        """Stored trials in the order they were numbered."""
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM trials ORDER BY number, id").fetchall()
        found = [_trial(r) for r in rows]
        return [t for t in found if (statuses is None or t.status in statuses)
                and (round_name is None or t.round == round_name)]

    def finished_ids(self) -> set[str]:
        marks = ",".join("?" * len(FINISHED))
        return {r[0] for r in self._db.execute(f"SELECT id FROM trials WHERE status IN ({marks})", FINISHED)}


_COLUMNS = ("id, number, round, params, seed, status, score, epochs, history, stop_reason, error, duration, pid, "
            "host, extra, started_at, finished_at")


#: SQLite's result codes for a file system that refuses, as the errno whose meaning the error line gives
_SQLITE_ERRNO = {13: errno.ENOSPC, 8: errno.EROFS, 14: errno.EACCES, 23: errno.EACCES, 10: errno.EIO}


def _write_error(exc: sqlite3.OperationalError, path: Path | None, existed: bool) -> OSError:
    """SQLite's refusal to write ``path`` (``database or disk is full``, ``attempt to write a readonly
    database``, ``unable to open database file``) as a one-line :class:`~mlpkit._atomic.WriteError`."""
    code = _SQLITE_ERRNO.get(getattr(exc, "sqlite_errorcode", -1) & 0xFF)
    reason = os.strerror(code) if code is not None else "SQLite: " + " ".join(str(exc).split())
    where = path if path is not None else ":memory:"
    return WriteError(code, reason, where, existed=existed)


def _trial(row: tuple) -> Trial:
    (trial_id, number, round_name, params, seed, status, score, epochs, history, stop_reason, error, duration, pid,
     host, extra, started_at, finished_at) = row
    return Trial(trial_id, number, round_name, json.loads(params), seed, status, score, epochs, json.loads(history),
                 stop_reason, error, duration, pid, host, json.loads(extra), started_at, finished_at)
