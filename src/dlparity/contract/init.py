"""Argument contract of the weight initialisers (SPEC.md §2, §4).

Every initialiser takes ``(shape, rng, ...)`` and a keyword-only ``dtype``:

- ``shape``: a tuple (or list) of positive ints; a bare int ``n`` means ``(n,)``.
- ``rng``: a ``numpy.random.Generator`` (``numpy.random.default_rng(seed)``); anything
  else, including None and the legacy ``RandomState``, is a TypeError: an initialiser never
  falls back on the global NumPy RNG.
- ``dtype``: a floating dtype (default float64).

The validators return the normalised arguments in signature order: ``shape`` as a tuple of
Python ints, ``rng`` unchanged, numbers as floats, ``dtype`` as a ``numpy.dtype``. The
(fan_in, fan_out) rule is arithmetic, in ``dlparity.formulas.fans``; the std formulas are
each implementation's own.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from dlparity import validate as v
from dlparity.catalogue import names_in

__all__ = names_in("init")  # the catalogue's names (dlparity.catalogue)

XAVIER_MODES = ("fan_in", "fan_avg")


def _shape(fn: str, shape: Any) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(
            f"{fn}: shape must be a tuple of positive ints; "
            f"received {type(shape).__name__} {shape!r}"
        )
    if len(shape) == 0:
        raise ValueError(f"{fn}: shape must have at least one dimension; received shape=()")
    dims = tuple(v.check_int(fn, f"shape[{i}]", d) for i, d in enumerate(shape))
    if min(dims) < 1:
        raise ValueError(f"{fn}: shape must hold positive ints; received shape={dims}")
    return dims


def _rng(fn: str, rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{fn}: rng must be a numpy.random.Generator (numpy.random.default_rng(seed)); "
            f"received {type(rng).__name__}"
        )
    return rng


def _dtype(fn: str, dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or not np.issubdtype(dt, np.floating):
        raise TypeError(
            f"{fn}: dtype must be a floating dtype (float32 or float64); received dtype={dtype!r}"
        )
    return dt


def he_normal(
    shape: Any, rng: Any, *, dtype: Any = np.float64
) -> tuple[tuple[int, ...], np.random.Generator, np.dtype]:
    """Validate ``he_normal``; return ``(shape, rng, dtype)``."""
    fn = "he_normal"
    return _shape(fn, shape), _rng(fn, rng), _dtype(fn, dtype)


def xavier_normal(
    shape: Any, rng: Any, mode: Any = "fan_in", *, dtype: Any = np.float64
) -> tuple[tuple[int, ...], np.random.Generator, str, np.dtype]:
    """Validate ``xavier_normal``; return ``(shape, rng, mode, dtype)``, mode one of
    ``'fan_in'``, ``'fan_avg'``."""
    fn = "xavier_normal"
    shape, rng = _shape(fn, shape), _rng(fn, rng)
    return shape, rng, v.check_mode(fn, "mode", mode, XAVIER_MODES), _dtype(fn, dtype)


def truncated_normal(
    shape: Any, rng: Any, std: Any = 1.0, mean: Any = 0.0, *, dtype: Any = np.float64
) -> tuple[tuple[int, ...], np.random.Generator, float, float, np.dtype]:
    """Validate ``truncated_normal``; return ``(shape, rng, std, mean, dtype)`` with std
    finite > 0 and mean finite."""
    fn = "truncated_normal"
    shape, rng = _shape(fn, shape), _rng(fn, rng)
    std = v.check_scalar(fn, "std", std, low=0.0, low_open=True)
    mean = v.check_scalar(fn, "mean", mean)
    return shape, rng, std, mean, _dtype(fn, dtype)
