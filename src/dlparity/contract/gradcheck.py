"""Argument contract of the gradient-checking helpers (SPEC.md §2, §4).

One function per public function of the ``gradcheck`` module, with the same name and
arguments, returning them validated, in signature order (``f`` is only checked):

=========================================  =================================================
``eval_numerical_gradient(f, x, h)``        ``(x, h)``: x a floating ndarray (the caller's
                                            own array, NOT a copy), h a float > 0
``eval_numerical_gradient_array(f, x,      ``(x, df, h)``
df, h)``
``rel_error(a, b)``                         ``(a, b)`` as float64 ndarrays of one shape
``grad_check_distance(approx, analytic)``   ``(approx, analytic)`` likewise
=========================================  =================================================

and :func:`check_output_shape` (``f(x)`` must have ``df``'s shape), checked while the
differences are taken. The walk over x's entries (perturb in place, call f, restore) is
arithmetic every implementation shares on purpose: ``dlparity.formulas.perturbed``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlparity import validate as v

__all__ = [
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "rel_error",
    "grad_check_distance",
    "check_output_shape",
]


def _check_callable(fn: str, f: Any) -> None:
    if not callable(f):
        raise TypeError(f"{fn}: f must be a callable f(x); received {type(f).__name__}")


def _step(fn: str, h: Any) -> float:
    return v.check_scalar(fn, "h", h, low=0.0, low_open=True)


def _same_shape_float64(fn: str, names: tuple[str, str], a: Any, b: Any) -> tuple[np.ndarray, ...]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    v.check_same_shape(fn, names[0], a, names[1], b)
    return a, b


def eval_numerical_gradient(f: Any, x: Any, h: Any = 1e-5) -> tuple[np.ndarray, float]:
    """Validate ``eval_numerical_gradient``; return ``(x, h)``."""
    fn = "eval_numerical_gradient"
    _check_callable(fn, f)
    return v.as_float_array(fn, "x", x), _step(fn, h)


def eval_numerical_gradient_array(
    f: Any, x: Any, df: Any, h: Any = 1e-5
) -> tuple[np.ndarray, np.ndarray, float]:
    """Validate ``eval_numerical_gradient_array``; return ``(x, df, h)``."""
    fn = "eval_numerical_gradient_array"
    _check_callable(fn, f)
    return v.as_float_array(fn, "x", x), v.as_float_array(fn, "df", df), _step(fn, h)


def rel_error(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``rel_error``; return ``(a, b)`` as float64 arrays of the same shape."""
    return _same_shape_float64("rel_error", ("a", "b"), a, b)


def grad_check_distance(approx: Any, analytic: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``grad_check_distance``; return ``(approx, analytic)`` as float64 arrays of
    the same shape."""
    return _same_shape_float64("grad_check_distance", ("approx", "analytic"), approx, analytic)


def check_output_shape(out_shape: tuple[int, ...], df: np.ndarray) -> None:
    """``eval_numerical_gradient_array``: f(x) (of shape ``out_shape``) must be shaped like df."""
    if tuple(out_shape) != df.shape:
        raise ValueError(
            f"eval_numerical_gradient_array: df must have the shape of f(x) "
            f"{tuple(out_shape)}; received df.shape={df.shape}"
        )
