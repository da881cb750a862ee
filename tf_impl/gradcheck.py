"""Gradient-checking helpers with TensorFlow arithmetic (SPEC.md §2, §4).

Same names, arguments and errors as the reference's ``gradcheck``. ``f`` is a NumPy
function of ``x`` (the CS231n closure idiom, ``lambda _: model.loss(X, y)[0]``, must see
the caller's own array), so ``x`` is perturbed IN PLACE one entry at a time and restored
before returning (``dlparity.formulas.perturbed``); the central differences and
the error measures are computed with TF ops in float64.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from dlparity.catalogue import names_in
from dlparity.contract import gradcheck as contract
from dlparity.formulas import perturbed

from . import _convert

__all__ = names_in("gradcheck")  # the catalogue's names (dlparity.catalogue)


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Central-difference gradient of a scalar NumPy function ``f`` at ``x``.

    Inputs:
    - f: callable, f(array shaped like x) -> scalar
    - x: float array, any shape (its entries are perturbed in place, then restored)
    - h: step (> 0)

    Returns:
    - grad: x's shape and dtype, grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h), by TF ops
    """
    x, h = contract.eval_numerical_gradient(f, x, h)
    values = [(float(p), float(m)) for _, p, m in perturbed(f, x, h)]
    values = np.array(values, dtype=np.float64).reshape(x.size, 2)  # (size, 2): f(x+h), f(x-h)

    def central(values: tf.Tensor) -> tf.Tensor:
        grad = (values[:, 0] - values[:, 1]) / (2 * h)  # (size,)
        return tf.cast(tf.reshape(grad, x.shape), x.dtype)

    return _convert.call(central, values)


def eval_numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Central-difference vector-Jacobian product of an array-valued ``f`` with ``df``.

    Inputs:
    - f: callable, f(array shaped like x) -> array shaped like df
    - x: float array, any shape (its entries are perturbed in place, then restored)
    - df: upstream gradient, f(x)'s shape
    - h: step (> 0)

    Returns:
    - grad: x's shape and dtype, grad[i] = sum((f(x + h e_i) - f(x - h e_i)) * df) / (2h)
    """
    x, df, h = contract.eval_numerical_gradient_array(f, x, df, h)
    with _convert.device():
        df_t = _convert.to_tensor(df, np.float64)
        entries = []
        for _, plus, minus in perturbed(f, x, h):
            contract.check_output_shape(plus.shape, df)
            plus, minus = _convert.to_tensor(plus), _convert.to_tensor(minus)
            entries.append(tf.reduce_sum((plus - minus) * df_t) / (2 * h))  # ()
        grad = tf.reshape(tf.stack(entries), x.shape) if entries else tf.zeros(x.shape)
        return _convert.to_numpy(tf.cast(grad, x.dtype))


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """max|a - b| / max(1e-8, |a| + |b|), elementwise, then the maximum (CS231n)."""
    a, b = contract.rel_error(a, b)  # float64, one shape
    if a.size == 0:
        return 0.0

    def rel(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
        return tf.reduce_max(tf.abs(a - b) / tf.maximum(1e-8, tf.abs(a) + tf.abs(b)))

    return float(_convert.call(rel, a, b))


def grad_check_distance(approx: np.ndarray, analytic: np.ndarray) -> float:
    """‖approx − analytic‖ / (‖approx‖ + ‖analytic‖); 0 when both are zero.

    The document's threshold: below 1e-7 is great, above 1e-3 is a bug.
    """
    a, b = contract.grad_check_distance(approx, analytic)  # float64, one shape

    def distance(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
        denom = tf.norm(a) + tf.norm(b)  # ()
        return tf.math.divide_no_nan(tf.norm(a - b), denom)  # 0 when both are zero

    return float(_convert.call(distance, a, b))
