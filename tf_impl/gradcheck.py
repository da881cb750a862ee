"""Gradient-checking helpers with TensorFlow arithmetic (SPEC.md §2, §4).

Same names, arguments and errors as ``dlparity.reference.gradcheck``. ``f`` is a NumPy
function of ``x`` (the CS231n closure idiom, ``lambda _: model.loss(X, y)[0]``, must see
the caller's own array), so ``x`` is perturbed IN PLACE one entry at a time and restored
before returning; the central differences and the error measures are computed with TF ops
in float64.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import tensorflow as tf

from dlparity import validate as v

from . import _convert

__all__ = [
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "rel_error",
    "grad_check_distance",
]


def _perturbed(f: Callable[[np.ndarray], Any], x: np.ndarray, h: float) -> Iterator[tuple]:
    """For each entry of x (C order): (f(x + h e_i), f(x - h e_i)), x restored after each."""
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    for _ in it:
        ix = it.multi_index
        old = x[ix]
        try:
            x[ix] = old + h
            plus = np.array(f(x), dtype=np.float64, copy=True)  # a copy: f may return a view
            x[ix] = old - h
            minus = np.array(f(x), dtype=np.float64, copy=True)
        finally:
            x[ix] = old
        yield plus, minus


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Numerical gradient of a scalar function ``f`` at ``x`` by central differences.

    Inputs:
    - f: callable taking an array shaped like x and returning a scalar.
    - x: float array of any shape; perturbed in place entry by entry, then restored.
    - h: step size (> 0).

    Returns:
    - grad: array shaped like x (x's dtype), grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h).
    """
    fn = "eval_numerical_gradient"
    x = v.as_float_array(fn, "x", x)
    h = v.check_scalar(fn, "h", h, low=0.0, low_open=True)
    values = [(float(p), float(m)) for p, m in _perturbed(f, x, h)]
    values = np.array(values, dtype=np.float64).reshape(x.size, 2)  # (size, 2): f(x+h), f(x-h)

    def central(values: tf.Tensor) -> tf.Tensor:
        grad = (values[:, 0] - values[:, 1]) / (2 * h)  # (size,)
        return tf.cast(tf.reshape(grad, x.shape), x.dtype)

    return _convert.call(central, values)


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
    with _convert.device():
        df_t = _convert.to_tensor(df, np.float64)
        entries = []
        for plus, minus in _perturbed(f, x, h):
            plus, minus = _convert.to_tensor(plus), _convert.to_tensor(minus)
            if plus.shape != df_t.shape:
                raise ValueError(
                    f"{fn}: df must have the shape of f(x) {tuple(plus.shape)}; "
                    f"received df.shape={df.shape}"
                )
            entries.append(tf.reduce_sum((plus - minus) * df_t) / (2 * h))  # ()
        grad = tf.reshape(tf.stack(entries), x.shape) if entries else tf.zeros(x.shape)
        return _convert.to_numpy(tf.cast(grad, x.dtype))


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """max|a - b| / max(1e-8, |a| + |b|), elementwise, then the maximum (CS231n)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(
            f"rel_error: b must have the same shape as a {a.shape}; received b.shape={b.shape}"
        )
    if a.size == 0:
        return 0.0

    def rel(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
        return tf.reduce_max(tf.abs(a - b) / tf.maximum(1e-8, tf.abs(a) + tf.abs(b)))

    return float(_convert.call(rel, a.astype(np.float64), b.astype(np.float64)))


def grad_check_distance(approx: np.ndarray, analytic: np.ndarray) -> float:
    """‖approx − analytic‖ / (‖approx‖ + ‖analytic‖); 0 when both are zero.

    The document's threshold: below 1e-7 is great, above 1e-3 is a bug.
    """
    a, b = np.asarray(approx), np.asarray(analytic)
    if a.shape != b.shape:
        raise ValueError(
            "grad_check_distance: analytic must have the same shape as approx "
            f"{a.shape}; received analytic.shape={b.shape}"
        )

    def distance(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
        denom = tf.norm(a) + tf.norm(b)  # ()
        return tf.math.divide_no_nan(tf.norm(a - b), denom)  # 0 when both are zero

    return float(_convert.call(distance, a.astype(np.float64), b.astype(np.float64)))
