"""Download a file once, from the first mirror that serves the expected bytes.

The body is streamed into a temporary file beside the destination while its md5 digest is computed; only a
file of the published size and md5 is moved into place (``os.replace``). A failed or interrupted download,
or one with the wrong checksum, leaves nothing behind. Standard library only (``urllib``).
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from .._atomic import atomic_write
from .errors import ChecksumError, DataNotFoundError

__all__ = ["check_mirrors", "download_file", "md5_of"]

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20
_TIMEOUT_S = 60.0
_USER_AGENT = "mlpkit-data-loader (Python urllib)"
_NETWORK_ERRORS = (OSError, http.client.HTTPException)


def md5_of(data: bytes) -> str:
    """Hex md5 digest of ``data`` (an integrity check against published sums, not a security measure)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def check_mirrors(mirrors: object) -> tuple[str, ...]:
    """Validate a list of base URLs (``http://`` or ``https://``); a single string counts as one mirror."""
    if isinstance(mirrors, str):
        mirrors = (mirrors,)
    if not isinstance(mirrors, Sequence) or not mirrors:
        raise TypeError(f"mirrors must be a non-empty list of base URLs, got {mirrors!r}")
    for url in mirrors:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"each mirror must be an http:// or https:// base URL, got {url!r}")
    return tuple(url if url.endswith("/") else url + "/" for url in mirrors)


class _MirrorFailed(Exception):
    """One mirror could not deliver the file: a network error, or bytes that are not the expected file."""

    def __init__(self, reason: str, *, bad_content: bool) -> None:
        super().__init__(reason)
        self.bad_content = bad_content


def _network_failure(exc: BaseException) -> _MirrorFailed:
    if isinstance(exc, urllib.error.HTTPError):
        exc.close()
        text = str(exc)  # "HTTP Error 404: Not Found"
    elif isinstance(exc, urllib.error.URLError):
        text = str(exc.reason)  # e.g. "[Errno 111] Connection refused"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return _MirrorFailed(text, bad_content=False)


def _fetch(url: str, dest: Path, *, md5: str, size: int) -> None:
    """Stream ``url`` into ``dest`` atomically. Network and content problems raise ``_MirrorFailed``; a
    local one (``dest`` not writable) propagates as the ``OSError`` it is, since another mirror won't help.
    """
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        response = urllib.request.urlopen(request, timeout=_TIMEOUT_S)
    except _NETWORK_ERRORS as exc:
        raise _network_failure(exc) from exc
    digest = hashlib.md5(usedforsecurity=False)
    received = 0
    with response:
        dest.parent.mkdir(parents=True, exist_ok=True)  # only once a mirror answers: no empty directories
        with atomic_write(dest) as out:
            while True:
                try:
                    # At most one byte more than expected: enough to tell "too long" without storing junk.
                    chunk = response.read(min(_CHUNK, size + 1 - received))
                except _NETWORK_ERRORS as exc:
                    raise _network_failure(exc) from exc
                if not chunk:
                    break
                received += len(chunk)
                if received > size:
                    raise _MirrorFailed(f"more than the expected {size} bytes", bad_content=True)
                digest.update(chunk)
                out.write(chunk)
            if received != size:
                raise _MirrorFailed(f"{received} bytes instead of {size}", bad_content=True)
            if digest.hexdigest() != md5:
                raise _MirrorFailed(f"md5 {digest.hexdigest()} instead of {md5}", bad_content=True)


def download_file(mirrors: Sequence[str], name: str, dest_dir: Path, *, md5: str, size: int) -> Path:
    """Fetch ``name`` from the first of ``mirrors`` (validated base URLs ending in ``/``) that serves it
    with the given size and md5, save it as ``dest_dir / name`` and return that path.

    Mirrors are tried in order; a network error or a wrong file moves on to the next. When all fail, raises
    :class:`ChecksumError` if some mirror served wrong bytes, else :class:`DataNotFoundError`; both list
    every attempt. A failed attempt leaves no file behind; ``dest_dir`` is created only once a mirror answers.
    """
    dest = dest_dir / name
    failures: list[str] = []
    bad_content = False
    for base in mirrors:
        url = base + name
        logger.info("downloading %s to %s", url, dest)
        try:
            _fetch(url, dest, md5=md5, size=size)
        except _MirrorFailed as exc:
            bad_content |= exc.bad_content
            failures.append(f"{url}: {exc}")
        else:
            return dest
    attempts = "\n  ".join(failures)
    if bad_content:
        raise ChecksumError(f"no mirror served a valid {name}; nothing was saved. Attempts:\n  {attempts}")
    raise DataNotFoundError(f"could not download {name}. Attempts:\n  {attempts}")
