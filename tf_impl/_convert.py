"""NumPy <-> TensorFlow at the boundary of ``dlparity.tf_impl``: dtype and device.

The only module of ``tf_impl`` that converts. Public functions take and return NumPy
arrays; inside they compute with TensorFlow tensors made by ``to_tensor`` on the current
device ('cpu' by default, 'cuda' maps to '/GPU:0'), and hand results back with
``to_numpy``. ``call`` does the whole round trip for functions without a backward.

TF32 is switched off so float32 matmuls on Ampere-class GPUs are true float32
(CONVENTIONS.md "Dtypes and precision").
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TF's first import: quiet logs

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

__all__ = ["call", "cuda_available", "device", "get_device", "set_device", "set_tf32",
           "to_numpy", "to_tensor"]


def cuda_available() -> bool:
    """Whether TensorFlow sees a GPU: THE probe of tf_impl (parity suite, train, port)."""
    return bool(tf.config.list_physical_devices("GPU"))


def set_tf32(enabled: bool) -> None:
    """Allow or forbid TF32 in float32 matmuls and convolutions on Ampere-class GPUs: THE
    switch of tf_impl (off from import on)."""
    tf.config.experimental.enable_tensor_float_32_execution(bool(enabled))


set_tf32(False)

_DEVICES = {"cpu": "/CPU:0", "cuda": "/GPU:0"}
_current = "cpu"


def set_device(name: str) -> None:
    """Make ``name`` ('cpu' or 'cuda') the device every later tf_impl computation uses."""
    global _current
    if name not in _DEVICES:
        raise ValueError(f"set_device: name must be one of {tuple(_DEVICES)}; received {name!r}")
    if name == "cuda" and not cuda_available():
        raise RuntimeError("set_device: 'cuda' requested but TensorFlow sees no GPU")
    _current = name


def get_device() -> str:
    """The current device name, 'cpu' or 'cuda'."""
    return _current


@contextlib.contextmanager
def device(name: str | None = None) -> Iterator[str]:
    """Run the enclosed TF ops on ``name`` (default: the current device); restore on exit."""
    global _current
    previous = _current
    if name is not None:
        set_device(name)
    try:
        with tf.device(_DEVICES[_current]):
            yield _current
    finally:
        _current = previous


def to_tensor(a: Any, dtype: Any = None) -> tf.Tensor:
    """A tensor on the current device holding a COPY of ``a`` (optionally cast to ``dtype``)."""
    with tf.device(_DEVICES[_current]):
        return tf.constant(np.array(a, dtype=dtype, copy=True))


def to_numpy(t: tf.Tensor) -> Any:
    """A NumPy copy of a tensor or variable ``t`` (a NumPy scalar for 0-d), same dtype."""
    return t.numpy()


def call(fn: Callable[..., Any], *arrays: Any) -> Any:
    """``fn(*tensors)`` on the current device: NumPy arrays in, NumPy arrays out.

    ``fn`` may return a tensor or a (nested) tuple/list of tensors.
    """
    with device():
        out = fn(*(to_tensor(a) for a in arrays))
    return tf.nest.map_structure(to_numpy, out)
