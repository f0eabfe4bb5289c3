"""Write a file so that readers never see it half-written, and a failed write leaves the previous file whole.

The bytes go to a temporary file in the destination's own directory (so the final rename never crosses a
file system), which replaces the destination with ``os.replace`` (atomic on POSIX and Windows) only once it
is complete and on disk. On any failure, including KeyboardInterrupt, the temporary file is removed and the
destination is left as it was. An ``OSError`` of the file system (a full disk, a read-only or forbidden
directory, a quota) comes out as :class:`WriteError`: still an ``OSError`` with the same ``errno``, whose
message names the destination (not the temporary name) and the errno's meaning in one line.

:func:`atomic_write_many` writes several files so that they change together: every one is written to its
temporary name first, and only when all are complete are they renamed, so a full disk leaves every previous
file in place (a crash between the renames is what a run directory's manifest detects; see
:mod:`mlpkit.settings.rundir`).
"""

from __future__ import annotations

import errno as errnos
import io
import os
import secrets
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

# O_EXCL: never clobber a file of the same name; mode 0o666 lets the process umask decide the permissions,
# as for any file opened with open(path, "wb") (tempfile.mkstemp would force 0o600 on the final file).
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


class WriteError(OSError):
    """A file could not be written; the previous file (if any) is unchanged.

    ``errno`` and ``strerror`` are those of the failure; ``filename`` is the destination. ``str()`` is one
    line: ``cannot write PATH: No space left on device (the previous file is unchanged)``.
    """

    def __init__(self, code: int | None, reason: str, path: str | os.PathLike[str], *, existed: bool) -> None:
        super().__init__(code, reason, os.fspath(path))
        self.existed = existed

    def __str__(self) -> str:
        kept = "the previous file is unchanged" if self.existed else "nothing was written there"
        return f"cannot write {self.filename}: {self.strerror} ({kept})"

    def __reduce__(self) -> tuple:  # picklable across process pools, like any OSError
        return (_rebuild_write_error, (self.errno, self.strerror, self.filename, self.existed))


def _rebuild_write_error(code: int | None, reason: str, path: str, existed: bool) -> WriteError:
    return WriteError(code, reason, path, existed=existed)


def write_error(exc: OSError, path: str | os.PathLike[str], *, existed: bool | None = None) -> WriteError:
    """``exc`` (an OSError from writing ``path`` or its temporary file) as a :class:`WriteError` naming
    ``path``; ``existed``: whether a previous file is kept (default: whether ``path`` exists now)."""
    if isinstance(exc, WriteError):
        return exc
    reason = exc.strerror or (os.strerror(exc.errno) if exc.errno else None) or " ".join(str(exc).split()) \
        or type(exc).__name__
    if existed is None:
        existed = os.path.lexists(path)
    return WriteError(exc.errno, reason, path, existed=existed)


class _DestinationFile(io.FileIO):
    """The temporary file, whose failed writes name the destination (:class:`WriteError`), so that the
    caller's own OSErrors (a network read, say) pass through unchanged."""

    def __init__(self, fd: int, destination: Path, existed: bool) -> None:
        super().__init__(fd, "wb")
        self.destination, self.existed = destination, existed

    def write(self, data: bytes) -> int | None:  # type: ignore[override]
        try:
            return super().write(data)
        except OSError as exc:
            raise write_error(exc, self.destination, existed=self.existed) from None


def _open_temporary(path: Path, existed: bool) -> tuple[Path, BinaryIO]:
    """(the temporary name, a buffered file open on it) for writing ``path``."""
    tmp = _temporary(path)
    try:
        fd = os.open(tmp, _FLAGS, 0o666)
    except OSError as exc:
        raise write_error(exc, path, existed=existed) from None
    return tmp, io.BufferedWriter(_DestinationFile(fd, path, existed))  # type: ignore[return-value]


def _finish(handle: BinaryIO, path: Path, existed: bool) -> None:
    """Flush and fsync ``handle``: the data is on disk before the name points at it, even after a crash."""
    try:
        handle.flush()
        os.fsync(handle.fileno())
    except OSError as exc:
        raise write_error(exc, path, existed=existed) from None


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Yield a binary file object whose content replaces ``path`` when the ``with`` block succeeds;
    :class:`WriteError` when the file system refuses (``path`` is then as it was)."""
    path = Path(path)
    existed = os.path.lexists(path)
    tmp, handle = _open_temporary(path, existed)
    try:
        with handle:
            yield handle
            _finish(handle, path, existed)
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise write_error(exc, path, existed=existed) from None
    except BaseException:
        _discard(tmp)
        raise
    _sync_directory(path.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically (see :func:`atomic_write`); return the path."""
    path = Path(path)
    with atomic_write(path) as handle:
        handle.write(data)
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Replace ``path`` with ``text`` atomically (see :func:`atomic_write`); return the path."""
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_many(files: Mapping[str | os.PathLike[str], bytes]) -> list[Path]:
    """Replace every path of ``files`` with its bytes, as nearly together as a file system allows: all are
    written to temporary names (and to disk) first, then renamed one after another. A failure while writing
    (a full disk, a read-only directory) removes every temporary file and leaves every previous file as it
    was (:class:`WriteError` naming the file that failed)."""
    staged: list[tuple[Path, Path]] = []
    try:
        for name, data in files.items():
            path = Path(name)
            existed = os.path.lexists(path)
            tmp, handle = _open_temporary(path, existed)
            staged.append((tmp, path))
            with handle:
                handle.write(data)
                _finish(handle, path, existed)
        for tmp, path in staged:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise write_error(exc, path, existed=True) from None
    except BaseException:
        for tmp, _ in staged:
            _discard(tmp)
        raise
    for directory in {path.parent for _, path in staged}:
        _sync_directory(directory)
    return [path for _, path in staged]


def _temporary(path: Path) -> Path:
    """A fresh hidden name beside ``path`` (readers of a directory skip names starting with a dot)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")


def _discard(tmp: Path) -> None:
    try:
        tmp.unlink(missing_ok=True)
    except OSError:  # a read-only directory that became so mid-write: nothing more can be done
        pass


def _sync_directory(directory: Path) -> None:
    """Make the renames in ``directory`` durable (POSIX); a file system that cannot is left alone."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errnos.EINVAL, errnos.EBADF, errnos.EROFS):
            raise write_error(exc, directory, existed=True) from None
    finally:
        os.close(fd)


def zip_bytes(entries: dict[str, bytes | str]) -> bytes:
    """A deflated zip archive of ``{name: content}``, built in memory (mlpkit's model and checkpoint files)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()
