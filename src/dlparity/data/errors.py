"""The three ways loading a data set can fail, each with a message a person can act on.

* :class:`MissingDataError` -- the files are not on disk and could not be downloaded; the
  message lists every file, the directory to put it in and the URL to get it from.
* :class:`DataFormatError` -- a file is there but is not what it should be: bad magic
  number, wrong length for its header, truncated gzip or tar, missing archive member.
* :class:`ChecksumError` -- a file whose size or digests are not the official ones.
* :class:`UnsafePickleError` -- a CIFAR-10 batch that asks the unpickler for a global
  other than the few a real batch holds (e.g. ``os.system``): refused before it can run.

Every message starts with the function that raised it and names the file.
"""

from __future__ import annotations

import pickle

__all__ = ["ChecksumError", "DataFormatError", "MissingDataError", "UnsafePickleError"]


class MissingDataError(FileNotFoundError):
    """The data files are absent and could not be downloaded."""


class DataFormatError(ValueError):
    """A data file is corrupt, truncated or not in the expected format."""


class ChecksumError(DataFormatError):
    """A data file's size or digests differ from the official ones."""


class UnsafePickleError(DataFormatError, pickle.UnpicklingError):
    """A pickle asked for a global the restricted unpickler does not allow."""
