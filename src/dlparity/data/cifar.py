"""CIFAR-10 from either published archive, read in memory (nothing is extracted to disk).

* ``cifar-10-python.tar.gz``: ``cifar-10-batches-py/data_batch_1..5`` and ``test_batch``,
  each a pickled dict (Python 2, protocol 2) with ``data`` (10000, 3072) uint8 and
  ``labels`` (a list of 10000 ints). A pickle can run any code it names, so the batches are
  read by :class:`RestrictedUnpickler`, which hands out only the few globals such a batch
  holds (NumPy's array reconstructor, ``numpy.ndarray``, ``numpy.dtype``) and refuses any
  other (``os.system``, ``builtins.eval``, ...) before it can be called.
* ``cifar-10-binary.tar.gz``: ``cifar-10-batches-bin/data_batch_1..5.bin`` and
  ``test_batch.bin``, each 10000 records of 1 label byte then 3072 pixel bytes.

A row of 3072 pixels is the 1024 red values, then green, then blue, each 32x32 row-major;
the loader returns images as (N, 32, 32, 3), channels last (the CS231n layout).
"""

from __future__ import annotations

import io
import os
import pickle
import tarfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from dlparity.data.cache import Opener, check_checksums, fetch, locate
from dlparity.data.dataset import CIFAR10_CLASSES, Dataset, as_images, image_dtype
from dlparity.data.errors import DataFormatError, MissingDataError, UnsafePickleError
from dlparity.data.sources import CIFAR10_BINARY, CIFAR10_PYTHON, Source

__all__ = ["ALLOWED_GLOBALS", "RestrictedUnpickler", "load_cifar10", "restricted_loads"]

PIXELS = 3 * 32 * 32  # 3072 bytes per image
PYTHON_MEMBERS = tuple(f"cifar-10-batches-py/{b}" for b in
                       ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                        "data_batch_5", "test_batch"))
BINARY_MEMBERS = tuple(f"cifar-10-batches-bin/{b}.bin" for b in
                       ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                        "data_batch_5", "test_batch"))


def _latin1_encode(text: Any, encoding: Any = "latin1") -> bytes:
    """``_codecs.encode`` as Python 3 uses it to pickle bytes at protocol 2, and only that."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError(f"restricted_loads: _codecs.encode is allowed only as "
                                f"encode(str, 'latin1'); received encoding {encoding!r}")
    return text.encode("latin1")


#: The only globals a CIFAR-10 batch may name, and what each one resolves to.
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): np.empty(0).__reduce__()[0],
    ("numpy._core.multiarray", "_reconstruct"): np.empty(0).__reduce__()[0],
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :data:`ALLOWED_GLOBALS`; any other global (and so any
    callable a pickle could use to run code) raises :class:`UnsafePickleError`."""

    def __init__(self, file: io.BufferedIOBase, name: str = "<bytes>") -> None:
        super().__init__(file, encoding="bytes")
        self.name = name

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"restricted_loads: {self.name} asks for the global {module}.{name}, which a "
                f"CIFAR-10 batch never holds (allowed: "
                f"{', '.join(sorted(f'{m}.{n}' for m, n in ALLOWED_GLOBALS))}); refused "
                f"without calling it: the file is not a CIFAR-10 batch or has been tampered "
                f"with") from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"restricted_loads: {self.name} uses a persistent id, which a "
                                f"CIFAR-10 batch never holds; refused")


def restricted_loads(data: bytes, name: str = "<bytes>") -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler` (Python 2 strings become bytes).

    Raises :class:`UnsafePickleError` for a forbidden global, :class:`DataFormatError` for
    a corrupt or truncated pickle; both name ``name``.
    """
    try:
        return RestrictedUnpickler(io.BytesIO(data), name).load()
    except UnsafePickleError:
        raise
    except Exception as err:  # corrupt bytes raise anything from EOFError to KeyError
        raise DataFormatError(f"restricted_loads: {name} is not a valid pickle "
                              f"({type(err).__name__}: {err}): the file is truncated or "
                              f"corrupt") from err


def _python_batch(fn: str, data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(pixels (N, 3072) uint8, labels (N,) int64) of one pickled batch."""
    batch = restricted_loads(data, name)
    if not isinstance(batch, dict):
        raise DataFormatError(f"{fn}: {name} must hold a dict; received {type(batch).__name__}")
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: val for k, val in batch.items()}
    pixels, labels = batch.get("data"), batch.get("labels")
    if not (isinstance(pixels, np.ndarray) and pixels.dtype == np.uint8 and pixels.ndim == 2
            and pixels.shape[1] == PIXELS):
        got = (f"{pixels.dtype} array of shape {pixels.shape}" if isinstance(pixels, np.ndarray)
               else type(pixels).__name__)
        raise DataFormatError(f"{fn}: {name}['data'] must be a uint8 array of shape "
                              f"(N, {PIXELS}); received {got}")
    labels = np.asarray(labels if isinstance(labels, (list, tuple, np.ndarray)) else [None])
    if not np.issubdtype(labels.dtype, np.integer) or labels.shape != (len(pixels),):
        raise DataFormatError(f"{fn}: {name}['labels'] must be {len(pixels)} integers, one "
                              f"per row of data; received {labels.dtype} of shape "
                              f"{labels.shape}")
    return pixels, labels.astype(np.int64)


def _binary_batch(fn: str, data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(pixels (N, 3072) uint8, labels (N,) int64) of one binary batch."""
    record = 1 + PIXELS
    if not data or len(data) % record:
        raise DataFormatError(f"{fn}: {name} must hold records of {record} bytes (1 label, "
                              f"{PIXELS} pixels); received {len(data):,} bytes, not a "
                              f"positive multiple of {record}: the file is truncated or "
                              f"corrupt")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, record)  # (N, 3073)
    return records[:, 1:], records[:, 0].astype(np.int64)


def _read_members(fn: str, path: Path, raw: bytes, members: tuple[str, ...]) -> dict[str, bytes]:
    """The bytes of ``members`` of the tar.gz archive ``raw`` (read from ``path``)."""
    wanted, found = set(members), {}
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
            for info in tar:
                if info.name in wanted and info.isfile():
                    found[info.name] = tar.extractfile(info).read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        raise DataFormatError(f"{fn}: {path} is not a complete tar.gz archive "
                              f"({type(err).__name__}: {err}): the file is truncated or "
                              f"corrupt") from err
    missing = [m for m in members if m not in found]
    if missing:
        raise DataFormatError(f"{fn}: {path} lacks {missing}: it is not the CIFAR-10 archive "
                              f"it is named after")
    return found


def _load_archive(fn: str, source: Source, path: Path, verify: bool
                  ) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    """The six batches (pixels, labels) of an archive, and how it was verified."""
    raw = path.read_bytes()
    checked = "not verified (verify=False)"
    if verify:
        spec = source.files[0]
        checked = check_checksums(fn, path, spec, raw, url=source.urls(spec.name)[0])
    python = source is CIFAR10_PYTHON
    members = PYTHON_MEMBERS if python else BINARY_MEMBERS
    parse = _python_batch if python else _binary_batch
    found = _read_members(fn, path, raw, members)
    batches = [parse(fn, found[m], f"{path}:{m}") for m in members]
    for (_, labels), member in zip(batches, members, strict=True):
        if len(labels) and (labels.min() < 0 or labels.max() >= len(CIFAR10_CLASSES)):
            raise DataFormatError(f"{fn}: {path}:{member} must hold labels in [0, 10); "
                                  f"received a label {int(labels.max())}")
    return batches, checked


def _images(pixels: np.ndarray) -> np.ndarray:
    """(N, 3072) rows of R, G, B planes -> (N, 32, 32, 3) channels-last images."""
    return np.ascontiguousarray(pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


def load_cifar10(data_dir: str | os.PathLike[str] | None = None, *, archive: str = "auto",
                 download: bool = True, verify: bool = True, dtype: Any = None,
                 flatten: bool = False, opener: Opener | None = None,
                 progress: bool = True) -> Dataset:
    """CIFAR-10: 50,000 training and 10,000 test colour images, 32x32, 10 classes.

    Inputs:
    - data_dir: cache root; the archive is read from, or downloaded to, its ``cifar-10``
      folder.
    - archive: "python" (``cifar-10-python.tar.gz``), "binary"
      (``cifar-10-binary.tar.gz``) or "auto": whichever is present, python first, else
      download the python one.
    - download, verify, dtype, opener, progress: as in :func:`dlparity.data.load_mnist`.
    - flatten: images as (N, 3072) in (row, column, channel) order instead of
      (N, 32, 32, 3).

    Returns a :class:`Dataset`: X_train (50000, 32, 32, 3), y_train (50000,) int64,
    X_test (10000, 32, 32, 3), y_test (10000,) int64.
    """
    fn = "load_cifar10"
    if archive not in ("auto", "python", "binary"):
        raise ValueError(f"{fn}: archive must be one of ('auto', 'python', 'binary'); "
                         f"received archive={archive!r}")
    dt = image_dtype(fn, dtype)
    source = CIFAR10_BINARY if archive == "binary" else CIFAR10_PYTHON
    if archive == "auto" and locate(CIFAR10_PYTHON, data_dir) is None and locate(
            CIFAR10_BINARY, data_dir) is not None:
        source = CIFAR10_BINARY
    try:
        paths = fetch(source, data_dir, download=download, opener=opener, progress=progress,
                      fn=fn)
    except MissingDataError as err:
        if archive != "auto":
            raise
        alt = CIFAR10_BINARY.files[0]
        raise MissingDataError(f"{err}\n(archive='auto' also accepts the binary version in "
                               f"the same folder: {alt.name}, {alt.size:,} bytes, MD5 "
                               f"{alt.md5}, from {CIFAR10_BINARY.urls(alt.name)[0]})") from None
    path = paths[source.files[0].name]
    batches, checked = _load_archive(fn, source, path, verify)
    X_train = _images(np.concatenate([pixels for pixels, _ in batches[:5]]))
    y_train = np.concatenate([labels for _, labels in batches[:5]])
    X_test, y_test = _images(batches[5][0]), batches[5][1]
    return Dataset(
        name="cifar-10", source=str(path), synthetic=False, num_classes=10,
        image_shape=(32, 32, 3), class_names=CIFAR10_CLASSES,
        X_train=as_images(X_train, dt, flatten), y_train=y_train,
        X_test=as_images(X_test, dt, flatten), y_test=y_test, note=checked)
