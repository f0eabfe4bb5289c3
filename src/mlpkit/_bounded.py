"""Bounded readers for the files mlpkit opens from strangers: zip archives (model and checkpoint files, .npz
data), .npy arrays and gzip streams (IDX files).

A crafted file can declare anything: a member of 1 KiB that inflates to 1 GiB, an .npy header of 10^12 x 64
entries, two members of the same name, an encrypted member or one compressed with a method we do not read.
These readers check what a file declares against explicit limits and against itself (the zip directory
against the members' sizes, an .npy header against its member's size) before allocating, decompress in
chunks so that no member yields more than it declared, and turn every failure of the underlying readers
(zipfile, zlib, NumPy's header parser) into one line of the caller's error class. What they allocate is
therefore bounded by what the file really holds, never by what it claims.

Limits (each a constant here; the byte limit is settable):

- :func:`max_file_bytes`: the most one file (all its members together, or one gzip stream) may unpack to,
  :data:`DEFAULT_MAX_FILE_BYTES` unless the environment variable :data:`MAX_FILE_BYTES_ENV` sets another
  number of bytes (for a model or data set larger than 8 GiB);
- :data:`MAX_ZIP_MEMBERS` members in a zip archive; :data:`MAX_NPY_HEADER_BYTES` bytes of .npy header
  (NumPy's own default); :data:`MAX_NDIM` dimensions of an array.
"""

from __future__ import annotations

import io
import math
import os
import struct
import tempfile
import tokenize
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

#: the environment variable that sets :func:`max_file_bytes` (a number of bytes, e.g. 17179869184)
MAX_FILE_BYTES_ENV = "MLPKIT_MAX_FILE_BYTES"
#: what one file may unpack to unless :data:`MAX_FILE_BYTES_ENV` says otherwise: 8 GiB
DEFAULT_MAX_FILE_BYTES = 8 * 2**30
#: members of one zip archive (a checkpoint of a 100-layer network holds a few hundred arrays)
MAX_ZIP_MEMBERS = 10_000
#: bytes of an .npy header (NumPy's own default limit for files it does not trust)
MAX_NPY_HEADER_BYTES = 10_000
#: dimensions of one array (NumPy's own limit is 64)
MAX_NDIM = 32
#: the compression methods of the zip files mlpkit writes (np.savez, np.savez_compressed, model files)
ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
#: dtype kinds an array may have: booleans, numbers and (for class names) strings; never objects
ARRAY_KINDS = "biufcUS"
#: a member read with ``spool`` (a model's arrays) stays in memory up to this size, beyond in a temporary file
SPOOL_BYTES = 64 * 2**20
_CHUNK = 1 << 20
#: every way the standard readers report a malformed archive, stream or header
_FORMAT_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError, KeyError,
                  NotImplementedError, RuntimeError, struct.error, OverflowError, IndexError, OSError,
                  SyntaxError, tokenize.TokenError)  # the last two: NumPy parses .npy headers as Python
#: the longest message quoted from an underlying reader
_QUOTE = 200


def max_file_bytes() -> int:
    """The most one file may unpack to: :data:`MAX_FILE_BYTES_ENV` when set, else
    :data:`DEFAULT_MAX_FILE_BYTES`. Read on each call, so a test or a session can raise it."""
    text = os.environ.get(MAX_FILE_BYTES_ENV)
    if text is None or not text.strip():
        return DEFAULT_MAX_FILE_BYTES
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{MAX_FILE_BYTES_ENV} must be a positive number of bytes, got {text[:40]!r}")
    return value


def quote(exc: BaseException) -> str:
    """An underlying reader's message on one line, cut to a sane length."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _QUOTE else text[:_QUOTE] + "..."


@contextmanager
def reading(name: str, error: type[Exception], what: str = "cannot be read") -> Iterator[None]:
    """Turn any failure of the standard readers inside the block into ``error("NAME: WHAT (reason)")``;
    errors of class ``error`` pass through."""
    try:
        yield
    except error:
        raise
    except MemoryError:
        raise error(f"{name}: {what} (not enough memory)") from None
    except RecursionError:
        raise error(f"{name}: {what} (nested too deeply)") from None
    except _FORMAT_ERRORS as exc:
        raise error(f"{name}: {what} ({quote(exc)})") from None


def _fmt(n: int) -> str:
    return f"{n:,} bytes"


# ------------------------------------------------------------------------------------------------- zip
class CheckedZip:
    """A zip archive (a path or in-memory bytes) whose directory has been checked: at most
    :data:`MAX_ZIP_MEMBERS` members, no name twice, no encrypted member, only the methods in
    :data:`ZIP_METHODS`, members that do not overlap, and declared sizes that add up to at most ``limit``
    bytes. Members are read with :meth:`read`, which never decompresses more than a member declares."""

    def __init__(self, source: Path | BinaryIO, *, name: str, error: type[Exception], limit: int,
                 what: str = "zip archive", methods: dict[int, str] = ZIP_METHODS) -> None:
        self.name, self.error, self.limit, self.methods = name, error, limit, methods
        with reading(name, error, f"not a valid {what}"):
            self.archive = zipfile.ZipFile(source)
        try:
            self._check()
        except BaseException:
            self.archive.close()
            raise

    def _check(self) -> None:
        infos = self.archive.infolist()
        name, error = self.name, self.error
        if len(infos) > MAX_ZIP_MEMBERS:
            raise error(f"{name}: {len(infos):,} zip members, more than the {MAX_ZIP_MEMBERS:,} allowed")
        seen: set[str] = set()
        for info in infos:
            if info.filename in seen:
                raise error(f"{name}: the zip member {info.filename[:100]!r} appears twice (readers would "
                            "disagree on which counts)")
            seen.add(info.filename)
            if info.flag_bits & 0x1:
                raise error(f"{name}: the zip member {info.filename[:100]!r} is encrypted; mlpkit reads only "
                            "plain members")
            if info.compress_type not in self.methods:
                raise error(f"{name}: the zip member {info.filename[:100]!r} uses compression method "
                            f"{info.compress_type}; mlpkit reads only {' and '.join(self.methods.values())} "
                            "members here")
        total = sum(info.file_size for info in infos)
        if total > self.limit:
            raise error(f"{name}: the archive declares {_fmt(total)} of content, more than the {_fmt(self.limit)} "
                        f"allowed (raise {MAX_FILE_BYTES_ENV} for a larger file)")
        # Members sharing compressed bytes (the "overlapping" zip bomb) or running into the directory.
        spans = sorted((info.header_offset, info.header_offset + 30 + len(info.orig_filename.encode("utf-8",
                        "replace")) + info.compress_size, info.filename) for info in infos)
        end_of_data = self.archive.start_dir
        followers = [span[0] for span in spans[1:]] + [end_of_data]
        for (start, stop, member), following in zip(spans, followers[:len(spans)], strict=True):
            if start < 0 or stop > following:
                raise error(f"{name}: the zip member {member[:100]!r} overlaps the next member or the directory")

    @property
    def names(self) -> list[str]:
        """The members' names, in the archive's order."""
        return [info.filename for info in self.archive.infolist()]

    def size(self, member: str) -> int:
        """The size ``member`` declares once unpacked."""
        return self.archive.getinfo(member).file_size

    def open(self, member: str) -> BinaryIO:
        """A stream of ``member``'s content; it ends (with an error on a wrong checksum) after the declared
        size, whatever the compressed data would inflate to."""
        with reading(self.name, self.error, f"the zip member {member[:100]!r} cannot be read"):
            return self.archive.open(member)

    def read(self, member: str, limit: int | None = None, spool: bool = False) -> BinaryIO:
        """``member``'s content, refused unread when it declares more than ``limit`` bytes (default: the
        archive's limit), decompressed in chunks into memory or, with ``spool``, into a temporary file once
        past :data:`SPOOL_BYTES` (an archive nested in a member is then read with free seeks and no copy in
        memory)."""
        size = self.size(member)
        limit = self.limit if limit is None else limit
        if size > limit:
            raise self.error(f"{self.name}: {member[:100]} declares {_fmt(size)}, more than the {_fmt(limit)} "
                             "it may hold")
        out: BinaryIO = tempfile.SpooledTemporaryFile(SPOOL_BYTES) if spool else io.BytesIO()  # type: ignore[assignment]
        with reading(self.name, self.error, f"the zip member {member[:100]!r} is corrupt"):
            with self.archive.open(member) as stream:
                while chunk := stream.read(_CHUNK):
                    out.write(chunk)
        if out.tell() != size:
            raise self.error(f"{self.name}: {member[:100]} holds {_fmt(out.tell())}, its directory says {_fmt(size)}")
        out.seek(0)
        return out

    def close(self) -> None:
        self.archive.close()

    def __enter__(self) -> CheckedZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------------------------------------- npy
@dataclass(frozen=True)
class ArrayHeader:
    """What an .npy header declares, checked: shape, dtype, memory order and the bytes of header and data."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    header_bytes: int

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def read_npy_header(stream: BinaryIO, *, name: str, error: type[Exception]) -> ArrayHeader:
    """Parse and check the header of an .npy stream (positioned at its start): a known format version, at
    most :data:`MAX_NPY_HEADER_BYTES` of header, a dtype of :data:`ARRAY_KINDS` without fields, and a
    shape of at most :data:`MAX_NDIM` non-negative dimensions. Nothing is allocated from the declared shape."""
    fmt = np.lib.format
    with reading(name, error, "not a valid .npy array"):
        version = fmt.read_magic(stream)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise error(f"{name}: .npy format version {version} is not one mlpkit reads")
        parse = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran, dtype = parse(stream, max_header_size=MAX_NPY_HEADER_BYTES)
        header_bytes = stream.tell()
    if dtype.kind not in ARRAY_KINDS or dtype.names is not None or dtype.subdtype is not None or dtype.hasobject:
        raise error(f"{name}: arrays of dtype {str(dtype)[:60]} are not read (numbers, booleans or strings only; "
                    "never pickled objects)")
    if len(shape) > MAX_NDIM or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise error(f"{name}: invalid shape {str(shape)[:100]} in the .npy header")
    return ArrayHeader(tuple(shape), dtype, bool(fortran), header_bytes)


def read_npy_data(stream: BinaryIO, header: ArrayHeader, *, name: str, error: type[Exception],
                  into: np.ndarray | None = None) -> np.ndarray:
    """The data that follows ``header`` in ``stream``, read in chunks into a new array, or into ``into``
    (an array of the header's shape: directly when it has the header's dtype and memory order)."""
    order = "F" if header.fortran_order else "C"
    layout_fits = into is not None and into.flags[f"{order}_CONTIGUOUS"] and into.dtype == header.dtype
    target = into if layout_fits else np.empty(header.shape, dtype=header.dtype, order=order)
    if header.nbytes:
        _fill(stream, target.reshape(-1, order=order).view(np.uint8), header.nbytes, name, error)
    if into is not None and not layout_fits:
        into[...] = target
        return into
    return target


def _fill(stream: BinaryIO, buffer: np.ndarray, nbytes: int, name: str, error: type[Exception]) -> None:
    view, done = memoryview(buffer), 0
    with reading(name, error, "the array data cannot be read"):
        while done < nbytes:
            got = stream.readinto(view[done:done + _CHUNK])
            if not got:
                raise error(f"{name}: the array data stops after {_fmt(done)}, its header declares {_fmt(nbytes)}")
            done += got


def read_npy_file(path: Path, *, error: type[Exception], limit: int | None = None) -> np.ndarray:
    """An .npy file, its header checked against ``limit`` (default :func:`max_file_bytes`) and against the
    file's length before the array is allocated."""
    limit = max_file_bytes() if limit is None else limit
    name = str(path)
    with path.open("rb") as stream:
        header = read_npy_header(stream, name=name, error=error)
        size = os.fstat(stream.fileno()).st_size
        _check_declared(header, size - header.header_bytes, limit, name, error)
        return read_npy_data(stream, header, name=name, error=error)


def _check_declared(header: ArrayHeader, available: int, limit: int, name: str, error: type[Exception]) -> None:
    if header.nbytes > limit:
        raise error(f"{name}: the array header declares {header.dtype}{list(header.shape)} = {_fmt(header.nbytes)}, "
                    f"more than the {_fmt(limit)} allowed (raise {MAX_FILE_BYTES_ENV} for a larger file)")
    if header.nbytes != available:
        raise error(f"{name}: the array header declares {header.dtype}{list(header.shape)} = {_fmt(header.nbytes)} "
                    f"of data, the file holds {_fmt(max(available, 0))}")


# ------------------------------------------------------------------------------------------------- npz
class Npz:
    """An .npz archive (a path or a seekable stream) checked as a whole before any array is read: the zip
    checks of :class:`CheckedZip`, every member an ``NAME.npy`` array, and every header's declared size
    equal to its member's size. :attr:`headers` maps each array's name to its :class:`ArrayHeader`.

    With ``stored_only`` (the arrays of model and checkpoint files, which ``np.savez`` writes uncompressed)
    a compressed member is refused, so that the sizes the headers declare are bytes the archive holds."""

    def __init__(self, source: Path | BinaryIO, *, name: str, error: type[Exception], limit: int | None = None,
                 stored_only: bool = False) -> None:
        self.name, self.error = name, error
        methods = {zipfile.ZIP_STORED: "stored"} if stored_only else ZIP_METHODS
        self.zip = CheckedZip(source, name=name, error=error, limit=max_file_bytes() if limit is None else limit,
                              what=".npz archive", methods=methods)
        try:
            self.headers = self._read_headers()
        except BaseException:
            self.zip.close()
            raise

    def _read_headers(self) -> dict[str, ArrayHeader]:
        headers: dict[str, ArrayHeader] = {}
        for member in self.zip.names:
            if not member.endswith(".npy") or member == ".npy":
                raise self.error(f"{self.name}: unexpected member {member[:100]!r} in an .npz archive (it holds "
                                 "NAME.npy arrays only)")
            where = f"{self.name}: array {member[:-4][:100]!r}"
            with self.zip.open(member) as stream, reading(self.name, self.error, f"array {member[:-4][:100]!r} "
                                                                                 "cannot be read"):
                header = read_npy_header(stream, name=where, error=self.error)
            _check_declared(header, self.zip.size(member) - header.header_bytes, self.zip.limit, where, self.error)
            headers[member[:-4]] = header
        return headers

    def read(self, key: str, into: np.ndarray | None = None) -> np.ndarray:
        """The array ``key`` (see :func:`read_npy_data` for ``into``)."""
        header = self.headers[key]
        where = f"{self.name}: array {key[:100]!r}"
        with self.zip.open(f"{key}.npy") as stream, reading(self.name, self.error, f"array {key[:100]!r} is corrupt"):
            stream.read(header.header_bytes)
            array = read_npy_data(stream, header, name=where, error=self.error, into=into)
            if stream.read(1):
                raise self.error(f"{where}: more data than its header declares")
        return array

    def read_all(self) -> dict[str, np.ndarray]:
        """Every array, by name."""
        return {key: self.read(key) for key in self.headers}

    def close(self) -> None:
        self.zip.close()

    def __enter__(self) -> Npz:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------------------------------------ gzip
class GunzipStream:
    """The decompressed content of gzip data (one or more members, as ``gzip.decompress`` reads them),
    produced on demand by :meth:`read` so that a caller reads a declared header first and stops at what it
    declares, however much the data would inflate to."""

    def __init__(self, data: bytes, *, name: str, error: type[Exception]) -> None:
        self.name, self.error = name, error
        self._input: bytes = data
        self._decompressor = zlib.decompressobj(wbits=31)
        self._pending = b""
        self._done = False

    def _more(self, want: int) -> bytes:
        """Up to ``want`` more bytes (at least one), b"" at the end of the data."""
        while not self._done:
            d = self._decompressor
            if d.eof:
                rest = d.unused_data
                if not rest.strip(b"\0"):  # gzip allows zero padding after the last member
                    self._done = True
                    break
                self._decompressor, self._input = zlib.decompressobj(wbits=31), rest
                continue
            source = d.unconsumed_tail or self._input
            self._input = b""
            with reading(self.name, self.error, "corrupt or truncated gzip data"):
                out = d.decompress(source, want)
            if out:
                return out
            if not source and not d.eof:
                raise self.error(f"{self.name}: corrupt or truncated gzip data (it ends inside a member)")
        return b""

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer only at the end of the data)."""
        parts, have = [self._pending], len(self._pending)
        while have < n:
            more = self._more(min(n - have, _CHUNK))
            if not more:
                break
            parts.append(more)
            have += len(more)
        data = b"".join(parts)
        self._pending = data[n:]
        return data[:n]
