"""MNIST and Fashion-MNIST from their four published IDX ``.gz`` files.

Files are looked for in the cache folder (``<data home>/mnist/``, ``<data home>/fashion-mnist/``,
see :mod:`dlparity.data.cache`), then, for Fashion-MNIST, in Debian's
``dataset-fashion-mnist`` install (``/usr/share/datasets/fashion-mnist``, used in place), and
downloaded into the cache when ``download=True`` and the network allows it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dlparity.data.cache import Opener, check_checksums, fetch
from dlparity.data.dataset import CLASS_NAMES, Dataset, as_images, image_dtype
from dlparity.data.errors import DataFormatError
from dlparity.data.idx import gunzip, parse_idx
from dlparity.data.sources import FASHION_MNIST, MNIST, Source

__all__ = ["SYSTEM_DIRS", "load_fashion_mnist", "load_mnist"]

#: Read-only folders searched after the cache, per data set: Debian's package.
SYSTEM_DIRS: dict[str, tuple[Path, ...]] = {
    "fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),),
}
SYSTEM_PACKAGES = {"fashion-mnist": "Debian package dataset-fashion-mnist"}

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"


def _read_member(fn: str, source: Source, path: Path, verify: bool) -> tuple[np.ndarray, str]:
    """One IDX .gz file: (array, how it was verified)."""
    raw = path.read_bytes()
    content = gunzip(raw, str(path), fn)
    checked = "not verified (verify=False)"
    if verify:
        spec = source.file(path.name)
        checked = check_checksums(fn, path, spec, raw, content, source.urls(spec.name)[0])
    return parse_idx(content, str(path), fn), checked


def _images_and_labels(fn: str, images: np.ndarray, labels: np.ndarray, image_path: Path,
                       label_path: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Check an (images, labels) pair from IDX files; labels as int64."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataFormatError(f"{fn}: {image_path} must hold uint8 images of shape (N, 28, 28); "
                              f"received {images.dtype} values of shape {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataFormatError(f"{fn}: {label_path} must hold uint8 labels of shape (N,); "
                              f"received {labels.dtype} values of shape {labels.shape}")
    if len(labels) != len(images):
        raise DataFormatError(f"{fn}: {label_path} must hold one label per image of "
                              f"{image_path} ({len(images)}); received {len(labels)} labels")
    if len(labels) and labels.max() >= num_classes:
        raise DataFormatError(f"{fn}: {label_path} must hold labels in [0, {num_classes}); "
                              f"received a label {int(labels.max())}")
    return images, labels.astype(np.int64)


def _load_idx_source(fn: str, source: Source, data_dir: Any, download: bool, verify: bool,
                     dtype: Any, flatten: bool, opener: Opener | None, progress: bool,
                     extra_dirs: Sequence[Path]) -> Dataset:
    dt = image_dtype(fn, dtype)
    paths = fetch(source, data_dir, download=download, opener=opener, progress=progress,
                  extra_dirs=extra_dirs, fn=fn)
    arrays, checks = {}, set()
    for name, path in paths.items():
        arrays[name], checked = _read_member(fn, source, path, verify)
        checks.add(checked)
    classes = CLASS_NAMES[source.key]
    splits = [_images_and_labels(fn, arrays[img], arrays[lab], paths[img], paths[lab],
                                 len(classes))
              for img, lab in ((TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS))]
    (X_train, y_train), (X_test, y_test) = splits
    folder = paths[TRAIN_IMAGES].parent
    where = str(folder)
    if folder in extra_dirs:
        where += f" ({SYSTEM_PACKAGES.get(source.key, 'system-wide install')}, read in place)"
    return Dataset(
        name=source.key, source=where, synthetic=False,
        num_classes=len(classes), image_shape=(28, 28), class_names=classes,
        X_train=as_images(X_train, dt, flatten), y_train=y_train,
        X_test=as_images(X_test, dt, flatten), y_test=y_test,
        note="; ".join(sorted(checks)))


def load_mnist(data_dir: str | os.PathLike[str] | None = None, *, download: bool = True,
               verify: bool = True, dtype: Any = None, flatten: bool = False,
               opener: Opener | None = None, progress: bool = True) -> Dataset:
    """MNIST: 60,000 training and 10,000 test handwritten digits, 28x28 grey.

    Inputs:
    - data_dir: cache root (default ``$DLPARITY_DATA`` or ``~/.cache/dlparity``); the
      files are read from, or downloaded to, its ``mnist`` folder.
    - download: fetch missing files (with a progress bar); False never uses the network.
    - verify: check every file against its official size, MD5 and SHA-256.
    - dtype: None/numpy.uint8 for raw pixels, or a float dtype for pixel / 255.
    - flatten: images as (N, 784) instead of (N, 28, 28).
    - opener, progress: see :func:`dlparity.data.cache.fetch`.

    Returns a :class:`Dataset`: X_train (60000, 28, 28), y_train (60000,) int64,
    X_test (10000, 28, 28), y_test (10000,) int64.
    Raises MissingDataError (absent, no network), ChecksumError, DataFormatError.
    """
    return _load_idx_source("load_mnist", MNIST, data_dir, download, verify, dtype, flatten,
                            opener, progress, ())


def load_fashion_mnist(data_dir: str | os.PathLike[str] | None = None, *,
                       download: bool = True, verify: bool = True, dtype: Any = None,
                       flatten: bool = False, opener: Opener | None = None,
                       progress: bool = True) -> Dataset:
    """Fashion-MNIST: 60,000 training and 10,000 test clothing images, 28x28 grey.

    Looks in the cache's ``fashion-mnist`` folder, then in Debian's install
    (``SYSTEM_DIRS["fashion-mnist"]``, read in place; its recompressed ``.gz`` files are
    verified by the SHA-256 of their decompressed bytes), then downloads.
    Inputs and outputs as :func:`load_mnist`.
    """
    return _load_idx_source("load_fashion_mnist", FASHION_MNIST, data_dir, download, verify,
                            dtype, flatten, opener, progress, SYSTEM_DIRS["fashion-mnist"])
