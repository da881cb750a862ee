"""Gradient-checking helpers (SPEC.md §2 "gradient checking", §4).

Central differences in the CS231n style: ``f`` is evaluated at ``x + h`` and ``x - h``
one entry at a time. ``x`` is perturbed in place and restored before the function
returns, so a closure over model parameters (``lambda _: model.loss(X, y)[0]``) works;
on return ``x`` holds exactly the values it held on entry. The walk over the entries
(perturb, call f, restore: ``dlparity.formulas.perturbed``) and the argument checks
(``dlparity.contract.gradcheck``) are shared by every implementation; the arithmetic below
is the reference's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dlparity.catalogue import names_in
from dlparity.contract import gradcheck as contract
from dlparity.formulas import perturbed

__all__ = names_in("gradcheck")  # the catalogue's names (dlparity.catalogue)


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
    x, h = contract.eval_numerical_gradient(f, x, h)
    grad = np.zeros_like(x)  # x's shape and dtype
    for ix, f_plus, f_minus in perturbed(f, x, h):
        grad[ix] = (float(f_plus) - float(f_minus)) / (2 * h)
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
    x, df, h = contract.eval_numerical_gradient_array(f, x, df, h)
    grad = np.zeros_like(x)  # x's shape and dtype
    for ix, f_plus, f_minus in perturbed(f, x, h):  # f_plus, f_minus: df's shape
        contract.check_output_shape(f_plus.shape, df)
        grad[ix] = np.sum((f_plus - f_minus) * df) / (2 * h)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """max|a - b| / max(1e-8, |a| + |b|), elementwise, then the maximum (CS231n)."""
    a, b = contract.rel_error(a, b)  # float64, one shape
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def grad_check_distance(approx: np.ndarray, analytic: np.ndarray) -> float:
    """‖approx − analytic‖ / (‖approx‖ + ‖analytic‖); 0 when both are zero.

    The document's threshold: below 1e-7 is great, above 1e-3 is a bug.
    """
    a, b = contract.grad_check_distance(approx, analytic)  # float64, one shape
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    if denom == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / denom)
