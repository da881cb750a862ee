"""Gradient-checking helpers computed with torch tensors (SPEC.md §2, §4).

Same names and results as the reference's ``gradcheck``. ``f`` is the caller's NumPy
function and is called with the caller's array ``x``, whose entries are perturbed in place
one at a time and restored (``dlparity.formulas.perturbed``), so x holds exactly
its original values on return and a closure over model parameters works (the CS231n
idiom). The values of f are taken into float64 tensors; differences, sums and norms are
torch ops.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from dlparity.catalogue import names_in
from dlparity.contract import gradcheck as contract
from dlparity.formulas import perturbed

from ._convert import to_float, to_numpy, to_tensor

__all__ = names_in("gradcheck")  # the catalogue's names (dlparity.catalogue)


def _central_differences(
    f: Callable[[np.ndarray], object],
    x: np.ndarray,
    h: float,
    reduce: Callable[[torch.Tensor], torch.Tensor],
) -> np.ndarray:
    """grad[i] = reduce(f(x + h e_i) - f(x - h e_i)) / (2h) for every entry i of x.

    ``reduce`` may raise (a shape check) after x has been restored.
    """
    grad = to_tensor(np.zeros(x.shape))  # x.shape, float64
    for ix, f_plus, f_minus in perturbed(f, x, h):
        grad[ix] = reduce(to_tensor(f_plus) - to_tensor(f_minus))
    return to_numpy(grad / (2 * h)).astype(x.dtype, copy=False)


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Numerical gradient of a scalar function f at x by central differences.

    Inputs:
    - f: callable taking an array shaped like x and returning a scalar
    - x: float array, perturbed in place entry by entry, then restored
    - h: step size (> 0)

    Returns:
    - grad: x's shape and dtype, grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h)
    """
    x, h = contract.eval_numerical_gradient(f, x, h)
    return _central_differences(f, x, h, lambda d: d.reshape(()))


def eval_numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Numerical vector-Jacobian product of an array-valued f with upstream df.

    Inputs:
    - f: callable taking an array shaped like x and returning an array shaped like df
    - x: float array, perturbed in place entry by entry, then restored
    - df: upstream gradient, shaped like f(x)
    - h: step size (> 0)

    Returns:
    - grad: x's shape and dtype, grad[i] = sum((f(x + h e_i) - f(x - h e_i)) * df) / (2h)
    """
    x, df, h = contract.eval_numerical_gradient_array(f, x, df, h)
    dft = to_tensor(df, dtype=np.float64)  # f(x)'s shape

    def vjp(diff: torch.Tensor) -> torch.Tensor:
        contract.check_output_shape(tuple(diff.shape), df)
        return torch.sum(diff * dft)

    return _central_differences(f, x, h, vjp)


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(1e-8, |a| + |b|), elementwise, then the maximum (CS231n)."""
    a, b = contract.rel_error(a, b)  # float64, one shape
    if a.size == 0:
        return 0.0
    at, bt = to_tensor(a), to_tensor(b)
    return to_float(torch.max(torch.abs(at - bt) / torch.clamp(at.abs() + bt.abs(), min=1e-8)))


def grad_check_distance(approx: np.ndarray, analytic: np.ndarray) -> float:
    """||approx - analytic|| / (||approx|| + ||analytic||); 0 when both are zero.

    The document's threshold: below 1e-7 is great, above 1e-3 is a bug.
    """
    a, b = contract.grad_check_distance(approx, analytic)  # float64, one shape
    at, bt = to_tensor(a), to_tensor(b)
    norm = torch.linalg.vector_norm
    denom = to_float(norm(at) + norm(bt))
    if denom == 0:
        return 0.0
    return to_float(norm(at - bt)) / denom
