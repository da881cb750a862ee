"""Gradient-checking helpers computed with torch tensors (SPEC.md §2, §4).

Same names and results as ``dlparity.reference.gradcheck``. ``f`` is the caller's NumPy
function and is called with the caller's array ``x``, whose entries are perturbed in place
one at a time and restored, so x holds exactly its original values on return and a
closure over model parameters works (the CS231n idiom). The values of f are taken into
float64 tensors; differences, sums and norms are torch ops.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import torch

from dlparity import validate as v

from ._convert import to_float, to_numpy, to_tensor

__all__ = [
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "rel_error",
    "grad_check_distance",
]


def _central_differences(
    x: np.ndarray,
    h: float,
    evaluate: Callable[[], torch.Tensor],
    reduce: Callable[[torch.Tensor], torch.Tensor],
) -> np.ndarray:
    """grad[i] = reduce(f(x + h e_i) - f(x - h e_i)) / (2h) for every entry i of x.

    ``evaluate`` returns f at the caller's x with the current perturbation in place (as a
    float64 tensor); x is restored after each entry, even if f raises.
    """
    grad = to_tensor(np.zeros(x.shape))  # x.shape, float64
    for ix in itertools.product(*(range(n) for n in x.shape)):
        old = x[ix]
        try:
            x[ix] = old + h  # the caller's array: f reads it
            plus = evaluate()
            x[ix] = old - h
            minus = evaluate()
        finally:
            x[ix] = old
        grad[ix] = reduce(plus - minus)
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
    fn = "eval_numerical_gradient"
    x = v.as_float_array(fn, "x", x)
    h = v.check_scalar(fn, "h", h, low=0.0, low_open=True)
    return _central_differences(
        x, h, lambda: to_tensor(float(f(x)), dtype=np.float64), lambda d: d
    )


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
    fn = "eval_numerical_gradient_array"
    x = v.as_float_array(fn, "x", x)
    df = v.as_float_array(fn, "df", df)
    h = v.check_scalar(fn, "h", h, low=0.0, low_open=True)
    dft = to_tensor(df, dtype=np.float64)  # f(x)'s shape

    def evaluate() -> torch.Tensor:
        out = to_tensor(f(x), dtype=np.float64)  # a copy: f may return a view it reuses
        if tuple(out.shape) != df.shape:
            raise ValueError(
                f"{fn}: df must have the shape of f(x) {tuple(out.shape)}; "
                f"received df.shape={df.shape}"
            )
        return out

    return _central_differences(x, h, evaluate, lambda d: torch.sum(d * dft))


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(1e-8, |a| + |b|), elementwise, then the maximum (CS231n)."""
    at, bt = to_tensor(a, dtype=np.float64), to_tensor(b, dtype=np.float64)
    if at.shape != bt.shape:
        raise ValueError(
            f"rel_error: b must have the same shape as a {tuple(at.shape)}; "
            f"received b.shape={tuple(bt.shape)}"
        )
    if at.numel() == 0:
        return 0.0
    return to_float(torch.max(torch.abs(at - bt) / torch.clamp(at.abs() + bt.abs(), min=1e-8)))


def grad_check_distance(approx: np.ndarray, analytic: np.ndarray) -> float:
    """||approx - analytic|| / (||approx|| + ||analytic||); 0 when both are zero.

    The document's threshold: below 1e-7 is great, above 1e-3 is a bug.
    """
    at, bt = to_tensor(approx, dtype=np.float64), to_tensor(analytic, dtype=np.float64)
    if at.shape != bt.shape:
        raise ValueError(
            "grad_check_distance: analytic must have the same shape as approx "
            f"{tuple(at.shape)}; received analytic.shape={tuple(bt.shape)}"
        )
    norm = torch.linalg.vector_norm
    denom = to_float(norm(at) + norm(bt))
    if denom == 0:
        return 0.0
    return to_float(norm(at - bt)) / denom
