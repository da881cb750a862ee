"""The IDX format of MNIST and Fashion-MNIST, read with nothing but the standard library.

An IDX file is a header then the data, all big-endian::

    bytes 0-1   0x00 0x00
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte  3     number of dimensions k
    4k bytes    each dimension as an unsigned 32-bit integer
    the data    prod(dims) values of the type, row-major

so the label files start with the "magic number" 0x00000801 (2049) and the image files with
0x00000803 (2051). The published files are gzip-compressed.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from dlparity.data.errors import DataFormatError

__all__ = ["gunzip", "parse_idx", "read_idx"]

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def gunzip(raw: bytes, name: str, fn: str = "gunzip") -> bytes:
    """Decompress gzip bytes, or raise :class:`DataFormatError` naming the file ``name``."""
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise DataFormatError(
            f"{fn}: {name} is not a complete gzip file ({type(err).__name__}: {err}); "
            f"received {len(raw):,} bytes: the file is truncated or corrupt") from err


def parse_idx(data: bytes, name: str = "<bytes>", fn: str = "parse_idx") -> np.ndarray:
    """Parse the (decompressed) bytes of an IDX file.

    Inputs:
    - data: the whole file, header included.
    - name: the file's name or path, quoted in errors.
    - fn: the public function's name, for the error message.

    Returns an array of shape ``dims`` from the header, in native byte order (uint8 for
    MNIST), writeable, not sharing memory with ``data``. Raises :class:`DataFormatError`
    for a bad magic number or a length that does not match the header.
    """
    if len(data) < 4:
        raise DataFormatError(f"{fn}: {name} is too short for an IDX header (4 bytes); "
                              f"received {len(data)} bytes")
    code, ndim = data[2], data[3]
    if data[:2] != b"\x00\x00" or code not in IDX_TYPES or ndim == 0:
        raise DataFormatError(
            f"{fn}: {name} is not an IDX file: bad magic number 0x{data[:4].hex()} (expected "
            f"0x0000, a type code in {sorted(hex(c) for c in IDX_TYPES)} and the number of "
            f"dimensions, e.g. 0x00000803 for images, 0x00000801 for labels)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFormatError(f"{fn}: {name} is truncated inside its header: expected "
                              f"{header} header bytes for {ndim} dimensions; received "
                              f"{len(data)} bytes")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_TYPES[code]
    expected = header + math.prod(dims) * dtype.itemsize
    if len(data) != expected:
        raise DataFormatError(
            f"{fn}: {name} has the wrong length for its header (shape {dims}, {dtype.name}): "
            f"expected {expected:,} bytes; received {len(data):,}: the file is truncated or "
            f"corrupt")
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return values.astype(dtype.newbyteorder("="))  # a native-order copy


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file from disk, gzip-compressed (``.gz``, by its magic bytes) or not.

    Returns the array (see :func:`parse_idx`).
    """
    path = Path(path)
    raw = path.read_bytes()
    data = gunzip(raw, str(path), "read_idx") if raw[:2] == b"\x1f\x8b" else raw
    return parse_idx(data, str(path), "read_idx")
