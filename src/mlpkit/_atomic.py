"""Write a file so that readers never see it half-written.

The bytes go to a temporary file in the destination's own directory (so the final rename never crosses a
file system), which replaces the destination with ``os.replace`` (atomic on POSIX and Windows) only once it
is complete. On any failure, including KeyboardInterrupt, the temporary file is removed and the destination
is left as it was.
"""

from __future__ import annotations

import io
import os
import secrets
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

# O_EXCL: never clobber a file of the same name; mode 0o666 lets the process umask decide the permissions,
# as for any file opened with open(path, "wb") (tempfile.mkstemp would force 0o600 on the final file).
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Yield a binary file object whose content replaces ``path`` when the ``with`` block succeeds."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
    fd = os.open(tmp, _FLAGS, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before the name points at it, even after a crash
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically (see :func:`atomic_write`); return the path."""
    path = Path(path)
    with atomic_write(path) as handle:
        handle.write(data)
    return path


def zip_bytes(entries: dict[str, bytes | str]) -> bytes:
    """A deflated zip archive of ``{name: content}``, built in memory (mlpkit's model and checkpoint files)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()
