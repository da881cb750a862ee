"""Input checks shared by every implementation (SPEC.md §1, §4).

Every public function of ``dlparity.reference``, ``dlparity.torch_impl`` and
``dlparity.tf_impl`` validates its inputs through these helpers, so the three raise the
same error, worded the same way, for the same bad input. Messages follow the Keras
"Received:" style and always name the function and the argument::

    ValueError: affine_forward: w must have shape (D, M) with D = 3072 from x;
    received w.shape=(784, 10)

Conventions (see docs/api.md):

* a non-array where an array is expected, or a non-floating dtype where floats are
  needed, is a ``TypeError``;
* a wrong rank or shape, a label out of range, a non-finite or out-of-range
  hyper-parameter, an unknown ``mode`` is a ``ValueError``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "as_float_array",
    "check_labels",
    "check_same_shape",
    "check_shape",
    "check_scalar",
    "check_int",
    "check_mode",
    "check_dout",
    "check_probabilities",
    "check_dict",
    "result_dtype",
]


def _describe(value: Any) -> str:
    """Short description of a received value for an error message."""
    if isinstance(value, np.ndarray):
        return f"numpy.ndarray with shape={value.shape}, dtype={value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def as_float_array(
    fn: str,
    name: str,
    x: Any,
    *,
    ndim: int | Iterable[int] | None = None,
    min_ndim: int | None = None,
    shape_hint: str = "",
) -> np.ndarray:
    """Return ``x`` if it is a floating ``numpy.ndarray`` of an allowed rank, else raise.

    ``ndim`` is one rank or a collection of allowed ranks; ``min_ndim`` a lower bound.
    ``shape_hint`` (e.g. ``"(N, D)"``) is quoted in the rank error.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{fn}: {name} must be a numpy.ndarray of floats; received {_describe(x)}"
        )
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{fn}: {name} must have a floating dtype (float32 or float64); "
            f"received {name}.dtype={x.dtype}"
        )
    hint = f" {shape_hint}" if shape_hint else ""
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            ranks = " or ".join(f"{r}-D" for r in allowed)
            raise ValueError(
                f"{fn}: {name} must be {ranks}{hint}; received {name}.shape={x.shape}"
            )
    if min_ndim is not None and x.ndim < min_ndim:
        raise ValueError(
            f"{fn}: {name} must have at least {min_ndim} dimension(s){hint}; "
            f"received {name}.shape={x.shape}"
        )
    return x


def check_shape(
    fn: str, name: str, x: np.ndarray, expected: tuple[int, ...], why: str = ""
) -> None:
    """Raise ValueError unless ``x.shape == expected``; ``why`` explains where it comes from."""
    if tuple(x.shape) != tuple(expected):
        reason = f" {why}" if why else ""
        raise ValueError(
            f"{fn}: {name} must have shape {tuple(expected)}{reason}; "
            f"received {name}.shape={x.shape}"
        )


def check_same_shape(fn: str, name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    """Raise ValueError unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{fn}: {name_b} must have the same shape as {name_a} {a.shape}; "
            f"received {name_b}.shape={b.shape}"
        )


def check_dout(fn: str, dout: Any, expected_shape: tuple[int, ...]) -> np.ndarray:
    """Validate an upstream gradient against the shape of the forward output."""
    dout = as_float_array(fn, "dout", dout)
    check_shape(fn, "dout", dout, expected_shape, "(the forward output's shape)")
    return dout


def check_labels(fn: str, name: str, y: Any, n: int, num_classes: int) -> np.ndarray:
    """Integer class labels of shape (n,) with values in [0, num_classes)."""
    if not isinstance(y, np.ndarray):
        raise TypeError(
            f"{fn}: {name} must be a numpy.ndarray of integer labels; received {_describe(y)}"
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(
            f"{fn}: {name} must have an integer dtype (class labels); "
            f"received {name}.dtype={y.dtype}"
        )
    if y.shape != (n,):
        raise ValueError(
            f"{fn}: {name} must have shape ({n},), one label per sample; "
            f"received {name}.shape={y.shape}"
        )
    if n and (y.min() < 0 or y.max() >= num_classes):
        bad = y[(y < 0) | (y >= num_classes)][0]
        raise ValueError(
            f"{fn}: {name} must hold labels in [0, {num_classes}); received a label {int(bad)}"
        )
    return y


def check_scalar(
    fn: str,
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real hyper-parameter within optional bounds; returns it as a float.

    ``low_open``/``high_open`` make the bound strict. bools are rejected (``True`` is
    almost always a mistake where a number is expected).
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a real number; received {_describe(value)}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{fn}: {name} must be finite; received {name}={value!r}")
    lo_bad = low is not None and (v <= low if low_open else v < low)
    hi_bad = high is not None and (v >= high if high_open else v > high)
    if lo_bad or hi_bad:
        lo = "-inf" if low is None else repr(low)
        hi = "inf" if high is None else repr(high)
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        interval = f"{left}{lo}, {hi}{right}"
        raise ValueError(f"{fn}: {name} must be in {interval}; received {name}={value!r}")
    return v


def check_int(fn: str, name: str, value: Any, *, low: int | None = None) -> int:
    """An integer (Python or NumPy, not bool) no smaller than ``low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}: {name} must be an integer; received {_describe(value)}")
    if low is not None and value < low:
        raise ValueError(f"{fn}: {name} must be >= {low}; received {name}={value!r}")
    return int(value)


def check_mode(fn: str, name: str, mode: Any, allowed: tuple[str, ...]) -> str:
    """One of the ``allowed`` strings."""
    if mode not in allowed:
        raise ValueError(f"{fn}: {name} must be one of {allowed}; received {name}={mode!r}")
    return mode


def check_dict(fn: str, name: str, value: Any) -> dict:
    """A dict (``bn_param``, ``dropout_param``, an optimizer ``config``)."""
    if not isinstance(value, dict):
        raise TypeError(f"{fn}: {name} must be a dict; received {_describe(value)}")
    return value


def check_probabilities(fn: str, name: str, p: Any, atol: float = 1e-6) -> np.ndarray:
    """Non-negative entries summing to 1 along the last axis (within ``atol``)."""
    p = as_float_array(fn, name, p, min_ndim=1)
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{fn}: {name} must be finite; received non-finite entries")
    if np.any(p < 0):
        raise ValueError(f"{fn}: {name} must be non-negative; received a minimum of {p.min()!r}")
    sums = p.sum(axis=-1)
    if np.any(np.abs(sums - 1.0) > atol):
        worst = sums.flat[np.argmax(np.abs(sums - 1.0))]
        raise ValueError(
            f"{fn}: {name} must sum to 1 along the last axis (within {atol}); "
            f"received a sum of {float(worst)!r}"
        )
    return p


def result_dtype(*arrays: np.ndarray) -> np.dtype:
    """The dtype an output takes: NumPy's promotion of the floating inputs."""
    return np.result_type(*arrays)
