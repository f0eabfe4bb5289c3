"""Exceptions raised by the data loaders.

Every error names the file (or argument) concerned and says what was expected, so that a user can fix the
data without reading a NumPy traceback.
"""

from __future__ import annotations


class DataFormatError(ValueError):
    """A data file's content does not follow its format (CSV, NPZ, IDX, ...)."""


class ChecksumError(DataFormatError):
    """A file's md5 digest differs from the published one: it is corrupt, truncated or another data set."""


class DataNotFoundError(FileNotFoundError):
    """A data set's files are not on disk and could not be downloaded; the message says where to put them."""
