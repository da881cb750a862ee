"""Gradient-checking helpers (SPEC.md §2 "gradient checking", §4).

Central differences in the CS231n style: ``f`` is evaluated at ``x + h`` and ``x - h``
one entry at a time. ``x`` is perturbed in place and restored before the function
returns, so a closure over model parameters (``lambda _: model.loss(X, y)[0]``) works;
on return ``x`` holds exactly the values it held on entry.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dlparity import validate as v

__all__ = [
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "rel_error",
    "grad_check_distance",
]


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Numerical gradient of a scalar function ``f`` at ``x`` by central differences.

    Inputs:
    - f: callable taking an array shaped like x and returning a scalar.
    - x: float array of any shape; perturbed in place entry by entry, then restored.
    - h: step size (> 0).

    Returns:
    - grad: array shaped like x, grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h).
    """
    fn = "eval_numerical_gradient"
    x = v.as_float_array(fn, "x", x)
    h = v.check_scalar(fn, "h", h, low=0.0, low_open=True)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        try:
            x[ix] = old + h
            fxph = float(f(x))
            x[ix] = old - h
            fxmh = float(f(x))
        finally:
            x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad


def eval_numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Numerical vector-Jacobian product of an array-valued ``f`` with upstream ``df``.

    Inputs:
    - f: callable taking an array shaped like x and returning an array shaped like df.
    - x: float array of any shape; perturbed in place entry by entry, then restored.
    - df: upstream gradient, shaped like f(x).
    - h: step size (> 0).

    Returns:
    - grad: array shaped like x, grad[i] = sum((f(x + h e_i) - f(x - h e_i)) * df) / (2h).
    """
    fn = "eval_numerical_gradient_array"
    x = v.as_float_array(fn, "x", x)
    df = v.as_float_array(fn, "df", df)
    h = v.check_scalar(fn, "h", h, low=0.0, low_open=True)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        try:
            x[ix] = old + h
            pos = np.array(f(x), dtype=np.float64, copy=True)
            x[ix] = old - h
            neg = np.array(f(x), dtype=np.float64, copy=True)
        finally:
            x[ix] = old
        if pos.shape != df.shape:
            raise ValueError(
                f"{fn}: df must have the shape of f(x) {pos.shape}; received df.shape={df.shape}"
            )
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """max|a - b| / max(1e-8, |a| + |b|), elementwise, then the maximum (CS231n)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(
            f"rel_error: b must have the same shape as a {a.shape}; received b.shape={b.shape}"
        )
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def grad_check_distance(approx: np.ndarray, analytic: np.ndarray) -> float:
    """‖approx − analytic‖ / (‖approx‖ + ‖analytic‖); 0 when both are zero.

    The document's threshold: below 1e-7 is great, above 1e-3 is a bug.
    """
    a = np.asarray(approx, dtype=np.float64)
    b = np.asarray(analytic, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(
            "grad_check_distance: analytic must have the same shape as approx "
            f"{a.shape}; received analytic.shape={b.shape}"
        )
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    if denom == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / denom)
