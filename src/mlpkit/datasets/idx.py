"""Read and write the IDX format of the MNIST files, raw or gzip-compressed.

Format (LeCun, Cortes & Burges, "The MNIST database", section "The IDX file format"):

- a 4-byte magic number: two zero bytes, a type code, and the number of dimensions ``ndim``;
- ``ndim`` sizes, each a big-endian unsigned 32-bit integer;
- the data, big-endian, in C order (the last index changes fastest).

Type codes: 0x08 unsigned byte, 0x09 signed byte, 0x0B short (2 bytes), 0x0C int (4 bytes),
0x0D float (4 bytes), 0x0E double (8 bytes).

Reading is strict: a wrong magic number, an unknown type code, a file shorter or longer than its header
announces, a size above the limit (:func:`mlpkit._bounded.max_file_bytes`), and corrupt, truncated or
over-long gzip data all raise :class:`IDXFormatError` naming the file; gzip data is inflated in bounded chunks.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
from pathlib import Path

import numpy as np

from .._atomic import atomic_write
from .._bounded import MAX_FILE_BYTES_ENV, GunzipStream, max_file_bytes
from .errors import DataFormatError

__all__ = ["IDXFormatError", "parse_idx", "read_idx", "write_idx"]

_CODE_TO_DTYPE = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_KIND_TO_CODE = {dt.newbyteorder("=").str[1:]: code for code, dt in _CODE_TO_DTYPE.items()}
_GZIP_MAGIC = b"\x1f\x8b"
_MAX_DIM = 2**32 - 1


class IDXFormatError(DataFormatError):
    """An IDX file is malformed: bad magic number, unknown type, wrong length or corrupt gzip data."""


def parse_idx(data: bytes, *, name: str = "<bytes>", limit: int | None = None) -> np.ndarray:
    """Decode the bytes of an IDX file (gzip-compressed or not) into a native-endian array.

    ``name`` identifies the source in error messages. Compression is recognised by the gzip magic bytes
    (0x1f 0x8b), never by a file name: a raw IDX file always starts with two zero bytes. The header is
    decoded first and the size it declares checked against ``limit`` bytes (default
    :func:`~mlpkit._bounded.max_file_bytes`) before the data is; gzip data is inflated in chunks and never
    past what the header declares, so a gzip bomb costs no more than the array it claims to hold.
    """
    limit = max_file_bytes() if limit is None else limit
    if data[:2] == _GZIP_MAGIC:
        raw, read = None, GunzipStream(data, name=name, error=IDXFormatError).read
    else:
        raw = io.BytesIO(data)
        read = raw.read
    head = read(4)
    if len(head) < 4:
        raise IDXFormatError(f"{name}: too short for an IDX file ({len(head)} bytes, the magic number alone is 4)")
    zero, code, ndim = head[0] << 8 | head[1], head[2], head[3]
    magic = int.from_bytes(head, "big")
    if zero != 0 or code not in _CODE_TO_DTYPE:
        raise IDXFormatError(
            f"{name}: bad magic number 0x{magic:08X}; an IDX file starts with 0x0000TTNN where TT is a type "
            f"code ({', '.join(f'0x{c:02X}' for c in _CODE_TO_DTYPE)}) and NN the number of dimensions"
        )
    if ndim == 0:
        raise IDXFormatError(f"{name}: magic number 0x{magic:08X} declares 0 dimensions; IDX data has at least 1")
    header_len = 4 + 4 * ndim
    dims = read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise IDXFormatError(
            f"{name}: truncated header: {ndim} dimensions need {header_len} header bytes, the file has "
            f"{4 + len(dims)}"
        )
    shape = struct.unpack(f">{ndim}I", dims)
    dtype = _CODE_TO_DTYPE[code]
    expected = math.prod(shape) * dtype.itemsize
    if expected > limit:
        raise IDXFormatError(f"{name}: dimensions {shape} of {dtype.itemsize}-byte values declare {expected:,} data "
                             f"bytes, more than the {limit:,} allowed (raise {MAX_FILE_BYTES_ENV} for a larger file)")
    body = read(expected)
    extra = read(1)
    if len(body) != expected or extra:
        # raw data tells its length; gzip data is not inflated past one byte more than declared
        found = f"{len(data) - header_len}" if raw is not None else f"{len(body)}" if not extra else \
            f"more than {expected}"
        problem = "truncated" if len(body) < expected else "longer than its header says"
        raise IDXFormatError(
            f"{name}: {problem}: dimensions {shape} of {dtype.itemsize}-byte values need {expected} data bytes "
            f"after the {header_len}-byte header, found {found}"
        )
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, raw or gzip-compressed, into a native-endian NumPy array of the stored shape.

    Raises :class:`IDXFormatError` (a ``ValueError``) naming the file when it is malformed, and the usual
    ``FileNotFoundError`` when it does not exist.
    """
    path = Path(path)
    return parse_idx(path.read_bytes(), name=str(path))


def write_idx(path: str | os.PathLike[str], array: np.ndarray, *, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file; gzip-compressed when ``compress`` is true, or, when it is ``None``,
    when the file name ends in ``.gz``.

    The dtype must be one IDX can store: uint8, int8, int16, int32, float32 or float64 (cast first, e.g.
    ``labels.astype(np.uint8)``). The file appears only once fully written (temporary file + rename), and
    the gzip stream has no time stamp, so equal arrays give byte-identical files.
    """
    path = Path(path)
    if not isinstance(array, np.ndarray):
        raise TypeError(f"array must be a numpy.ndarray, got {type(array).__name__}")
    if compress is None:
        compress = path.name.endswith(".gz")
    elif not isinstance(compress, bool):
        raise TypeError(f"compress must be True, False or None, got {compress!r}")
    kind = array.dtype.newbyteorder("=").str[1:] if array.dtype.kind in "iuf" else None
    if kind not in _KIND_TO_CODE:
        raise TypeError(
            f"array has dtype {array.dtype}, which IDX cannot store; use uint8, int8, int16, int32, float32 "
            "or float64"
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"array must have 1 to 255 dimensions for IDX, got {array.ndim}")
    if max(array.shape) > _MAX_DIM:
        raise ValueError(f"array shape {array.shape} has a dimension above IDX's limit of {_MAX_DIM}")
    code = _KIND_TO_CODE[kind]
    header = bytes((0, 0, code, array.ndim)) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=_CODE_TO_DTYPE[code]).tobytes()
    with atomic_write(path) as f:
        if compress:
            with gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=6, mtime=0) as gz:
                gz.write(payload)
        else:
            f.write(payload)
