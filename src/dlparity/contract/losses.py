"""The argument contract of the losses and regularisers (SPEC.md §2 "Losses", §4).

One function per public function of the ``losses`` module, with the same name and the
same arguments. Each validates its arguments and returns them normalised, as
framework-neutral values (NumPy arrays, Python floats):

=====================================  ====================================================
``mse_loss(h, y)``                      ``(h, y)``: float (N,) or (N, K), same shape
``softmax_loss(x, y)``                  ``(x, y)``: x float (N, C), y int64 labels (N,)
``nll_loss(logp, y)``                   ``(logp, y)``: logp float (N, C), y int64 labels (N,)
``sigmoid_cross_entropy_loss(x, y)``    ``(x, y)``: float (N,) or (N, K), y in [0, 1]
``svm_loss(x, y)``                      ``(x, y)``: x float (N, C), y int64 labels (N,)
``kl_div_loss(log_q, p)``               ``(log_q, p)``: float (N,) or (N, K), p >= 0, finite
``l2_regularization(w, reg)``           ``(w, reg)``: w float, any rank; reg a float >= 0
``l1_regularization(w, reg)``           ``(w, reg)``: w float, any rank; reg a float >= 0
``l0_norm(w)``                          ``w``: any numeric (or bool) array
=====================================  ====================================================

Normalisation:

* every loss needs at least one sample (N >= 1): the loss is averaged over N;
* the two float arrays of a loss are returned in their COMMON dtype (NumPy's promotion,
  ``validate.result_dtype``): that is the dtype of the loss value and of the gradient.
  An array already in that dtype is returned as is (never copied, never written to);
* class labels must have an integer dtype (a float label array is a TypeError) and values
  in [0, C) (-1 and C are ValueErrors); they are returned as int64;
* ``reg`` is returned as a Python float.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlparity import validate as v
from dlparity.catalogue import names_in

__all__ = names_in("losses")  # the catalogue's names (dlparity.catalogue)

# --------------------------------------------------------------------------- helpers


def _check_batch(fn: str, name: str, x: np.ndarray) -> None:
    """At least one sample along the first axis (the loss divides by N)."""
    if x.shape[0] < 1:
        raise ValueError(
            f"{fn}: {name} must hold at least one sample (N >= 1), the loss is averaged "
            f"over N; received {name}.shape={x.shape}"
        )


def _scores_and_labels(
    fn: str, name: str, x: Any, y: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Float scores (N, C) with N >= 1 and integer labels (N,) in [0, C), as int64."""
    x = v.as_float_array(fn, name, x, ndim=2, shape_hint="(N, C)")
    _check_batch(fn, name, x)
    n, c = x.shape
    y = v.check_labels(fn, "y", y, n, c)
    return x, y.astype(np.int64, copy=False)


def _paired(
    fn: str, name_a: str, a: Any, name_b: str, b: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Two float arrays of one shape, (N,) or (N, K) with N >= 1, in their common dtype."""
    a = v.as_float_array(fn, name_a, a, ndim=(1, 2), shape_hint="(N,) or (N, K)")
    _check_batch(fn, name_a, a)
    b = v.as_float_array(fn, name_b, b)
    v.check_same_shape(fn, name_a, a, name_b, b)
    dtype = v.result_dtype(a, b)
    return a.astype(dtype, copy=False), b.astype(dtype, copy=False)


def _weights_and_reg(fn: str, w: Any, reg: Any) -> tuple[np.ndarray, float]:
    """A float array of any rank and a finite, non-negative regularisation strength."""
    w = v.as_float_array(fn, "w", w)
    reg = v.check_scalar(fn, "reg", reg, low=0.0)
    return w, reg


# ------------------------------------------------------------------ contract functions


def mse_loss(h: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``mse_loss``'s arguments; returns ``(h, y)`` in their common dtype.

    h: float predictions (N,) or (N, K), N >= 1; y: float targets of h's shape.
    """
    return _paired("mse_loss", "h", h, "y", y)


def softmax_loss(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``softmax_loss``'s arguments; returns ``(x, y)``.

    x: float logits (N, C), N >= 1; y: integer labels (N,) in [0, C), returned as int64.
    """
    return _scores_and_labels("softmax_loss", "x", x, y)


def nll_loss(logp: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``nll_loss``'s arguments; returns ``(logp, y)``.

    logp: float log-probabilities (N, C), N >= 1 (not checked to be normalised);
    y: integer labels (N,) in [0, C), returned as int64.
    """
    return _scores_and_labels("nll_loss", "logp", logp, y)


def sigmoid_cross_entropy_loss(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``sigmoid_cross_entropy_loss``'s arguments; returns ``(x, y)``.

    x: float logits (N,) or (N, K), N >= 1; y: float targets of x's shape with every value
    in [0, 1] (NaN is outside). Both are returned in their common dtype.
    """
    fn = "sigmoid_cross_entropy_loss"
    x, y = _paired(fn, "x", x, "y", y)
    outside = ~((y >= 0) & (y <= 1))  # True for NaN as well
    if np.any(outside):
        bad = float(y[outside][0])
        raise ValueError(f"{fn}: y must hold targets in [0, 1]; received a value {bad!r}")
    return x, y


def svm_loss(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``svm_loss``'s arguments; returns ``(x, y)``.

    x: float scores (N, C), N >= 1; y: integer labels (N,) in [0, C), returned as int64.
    """
    return _scores_and_labels("svm_loss", "x", x, y)


def kl_div_loss(log_q: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``kl_div_loss``'s arguments; returns ``(log_q, p)`` in their common dtype.

    log_q: float log-probabilities (N,) or (N, K), N >= 1 (-inf allowed: q = 0);
    p: float target probabilities of log_q's shape, finite and non-negative. p need not
    sum to 1 (the loss is the documents' formula, not a divergence of distributions).
    """
    fn = "kl_div_loss"
    log_q, p = _paired(fn, "log_q", log_q, "p", p)
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{fn}: p must be finite; received non-finite entries")
    if np.any(p < 0):
        low = float(p.min())
        raise ValueError(f"{fn}: p must be non-negative; received a minimum of {low!r}")
    return log_q, p


def l2_regularization(w: Any, reg: Any) -> tuple[np.ndarray, float]:
    """Validate ``l2_regularization``'s arguments; returns ``(w, reg)``.

    w: float array of any rank; reg: a finite real >= 0, returned as a float.
    """
    return _weights_and_reg("l2_regularization", w, reg)


def l1_regularization(w: Any, reg: Any) -> tuple[np.ndarray, float]:
    """Validate ``l1_regularization``'s arguments; returns ``(w, reg)``.

    w: float array of any rank; reg: a finite real >= 0, returned as a float.
    """
    return _weights_and_reg("l1_regularization", w, reg)


def l0_norm(w: Any) -> np.ndarray:
    """Validate ``l0_norm``'s argument; returns ``w``.

    w: a numpy array of any rank with a numeric (integer, floating, complex) or bool dtype.
    """
    fn = "l0_norm"
    if not isinstance(w, np.ndarray):
        raise TypeError(
            f"{fn}: w must be a numpy.ndarray of numbers; received {type(w).__name__}"
        )
    if not (np.issubdtype(w.dtype, np.number) or w.dtype == np.bool_):
        raise TypeError(
            f"{fn}: w must have a numeric or bool dtype; received w.dtype={w.dtype}"
        )
    return w
