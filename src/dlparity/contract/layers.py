"""The argument contract of the layer and composite functions (SPEC.md §2 "Layers", §4).

One function per public FORWARD function of the ``layers`` module, with the same name and
the same arguments. Each validates its arguments and returns what an implementation needs,
as framework-neutral values (NumPy arrays, Python floats/ints/strings/bools):

=================================  ==========================================================
``affine_forward(x, w, b)``         ``(x, w, b)`` checked: x (N, d1..dk), w (D, M), b (M,)
``relu_forward(x)``                 ``x``
``leaky_relu_forward(x, alpha)``    ``(x, alpha)`` with alpha a float
``sigmoid_forward(x)``              ``x``
``tanh_forward(x)``                 ``x``
``softmax_forward(x)``              ``x`` (rank >= 1, non-empty last axis)
``log_softmax_forward(x)``          ``x`` (rank >= 1, non-empty last axis)
``dropout_forward(x, dp)``          ``DropoutSettings(p, mode, mask, seed)``
``batchnorm_forward(...)``          ``BatchnormSettings(mode, eps, momentum, running_mean,
                                    running_var, running_var_unbiased)``
``affine_relu_forward(x, w, b)``    ``(x, w, b)``
``affine_batchnorm_relu_forward``   ``BatchnormSettings`` for the (N, M) affine output
=================================  ==========================================================

Backward functions take an opaque cache, so they have no contract function here: each
implementation checks ``dout`` against the forward output's shape with
``dlparity.validate.check_dout``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from dlparity import validate as v
from dlparity.catalogue import names_in

#: The two settings types and one contract function per forward of the catalogue's
#: ``layers`` module (dlparity.catalogue): a backward takes an opaque cache.
__all__ = ["BatchnormSettings", "DropoutSettings",
           *(n for n in names_in("layers") if n.endswith("_forward"))]

MODES = ("train", "test")

# SPEC.md §4 defaults, written down once for every implementation.
BN_EPS = 1e-5
BN_MOMENTUM = 0.9


class DropoutSettings(NamedTuple):
    """The validated ``dropout_param`` of ``dropout_forward``.

    - p: float, the DROP probability, 0 <= p < 1.
    - mode: 'train' (the default when the key is missing) or 'test'.
    - mask: bool array of x's shape (True = keep), the given ``dropout_param['mask']``
      converted to bool; None when no mask was given or in test mode (test mode does not
      use, and does not check, a mask).
    - seed: int >= 0 or None, the seed of ``numpy.random.default_rng`` for the keep-mask
      when no mask is given.
    """

    p: float
    mode: str
    mask: np.ndarray | None
    seed: int | None


class BatchnormSettings(NamedTuple):
    """The validated ``bn_param`` of ``batchnorm_forward``.

    - mode: 'train' (the default when the key is missing) or 'test'.
    - eps: float > 0 (default 1e-5).
    - momentum: float in [0, 1] (default 0.9); running = momentum*running + (1-momentum)*batch.
    - running_mean: array (D,) in x's dtype; zeros when missing. The array the user
      stored is returned as is when it already has x's dtype (never written to).
    - running_var: array (D,) in x's dtype, non-negative; ones when missing.
    - running_var_unbiased: bool (default False); True updates the running variance with
      N/(N-1) times the biased batch variance (torch's convention).
    """

    mode: str
    eps: float
    momentum: float
    running_mean: np.ndarray
    running_var: np.ndarray
    running_var_unbiased: bool


# --------------------------------------------------------------------------- helpers


def _elementwise(fn: str, x: Any) -> np.ndarray:
    """A floating array of rank >= 1, batch first (the element-wise layers).

    0-d arrays are refused: NumPy ufuncs return scalars for them, and every layer returns
    arrays.
    """
    return v.as_float_array(fn, "x", x, min_ndim=1, shape_hint="(N, ...)")


def _last_axis(fn: str, x: Any) -> np.ndarray:
    """A floating array of rank >= 1 whose last axis is not empty (softmax, log_softmax)."""
    x = v.as_float_array(fn, "x", x, min_ndim=1, shape_hint="(..., C)")
    if x.shape[-1] == 0:
        raise ValueError(
            f"{fn}: x must have at least one entry along its last axis (the classes); "
            f"received x.shape={x.shape}"
        )
    return x


def _affine(fn: str, x: Any, w: Any, b: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (N, d1..dk) with k >= 1, w (D, M) with D = d1*...*dk, b (M,)."""
    x = v.as_float_array(fn, "x", x, min_ndim=2, shape_hint="(N, d1, ..., dk)")
    w = v.as_float_array(fn, "w", w, ndim=2, shape_hint="(D, M)")
    b = v.as_float_array(fn, "b", b, ndim=1, shape_hint="(M,)")
    d = math.prod(x.shape[1:])
    if w.shape[0] != d:
        raise ValueError(
            f"{fn}: w must have shape (D, M) with D = {d} from x.shape={x.shape}; "
            f"received w.shape={w.shape}"
        )
    m = w.shape[1]
    v.check_shape(fn, "b", b, (m,), f"with M = {m} from w")
    return x, w, b


def _running_stat(
    fn: str, name: str, value: Any, d: int, dtype: np.dtype, fill: float, why: str
) -> np.ndarray:
    """A running statistic of shape (d,) in ``dtype``; ``fill`` everywhere when missing."""
    if value is None:
        return np.full(d, fill, dtype=dtype)  # (D,)
    value = v.as_float_array(fn, name, value, ndim=1, shape_hint="(D,)")
    v.check_shape(fn, name, value, (d,), why)
    return value.astype(dtype, copy=False)  # (D,), the user's array when dtypes agree


def _batchnorm(
    fn: str,
    n: int,
    d: int,
    dtype: np.dtype,
    gamma: Any,
    beta: Any,
    bn_param: Any,
    why: str,
) -> BatchnormSettings:
    """Validate gamma, beta (d,) and ``bn_param`` for a batch-norm input of shape (n, d).

    ``why`` says where d comes from in shape errors (e.g. "with D = 5 from x").
    """
    gamma = v.as_float_array(fn, "gamma", gamma, ndim=1, shape_hint="(D,)")
    v.check_shape(fn, "gamma", gamma, (d,), why)
    beta = v.as_float_array(fn, "beta", beta, ndim=1, shape_hint="(D,)")
    v.check_shape(fn, "beta", beta, (d,), why)
    bn_param = v.check_dict(fn, "bn_param", bn_param)

    mode = v.check_mode(fn, "bn_param['mode']", bn_param.get("mode", "train"), MODES)
    eps = v.check_scalar(fn, "bn_param['eps']", bn_param.get("eps", BN_EPS), low=0.0,
                         low_open=True)
    momentum = v.check_scalar(
        fn, "bn_param['momentum']", bn_param.get("momentum", BN_MOMENTUM), low=0.0, high=1.0
    )
    unbiased = bn_param.get("running_var_unbiased", False)
    if not isinstance(unbiased, (bool, np.bool_)):
        raise TypeError(
            f"{fn}: bn_param['running_var_unbiased'] must be True or False; "
            f"received {type(unbiased).__name__} {unbiased!r}"
        )
    unbiased = bool(unbiased)
    running_mean = _running_stat(
        fn, "bn_param['running_mean']", bn_param.get("running_mean"), d, dtype, 0.0, why
    )
    running_var = _running_stat(
        fn, "bn_param['running_var']", bn_param.get("running_var"), d, dtype, 1.0, why
    )
    if np.any(running_var < 0):
        raise ValueError(
            f"{fn}: bn_param['running_var'] must be non-negative; "
            f"received a minimum of {running_var.min()!r}"
        )
    if mode == "train" and n < 1:
        raise ValueError(
            f"{fn}: train mode needs at least one sample (N >= 1) for the batch statistics; "
            f"received N={n}"
        )
    if mode == "train" and unbiased and n < 2:
        raise ValueError(
            f"{fn}: bn_param['running_var_unbiased']=True needs N >= 2 (the unbiased "
            f"variance divides by N - 1); received N={n}"
        )
    return BatchnormSettings(mode, eps, momentum, running_mean, running_var, unbiased)


# ------------------------------------------------------------------ contract functions


def affine_forward(x: Any, w: Any, b: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate ``affine_forward``'s arguments; returns ``(x, w, b)`` unchanged.

    x: float array (N, d1, ..., dk), k >= 1; w: float array (D, M) with D = d1*...*dk;
    b: float array (M,).
    """
    return _affine("affine_forward", x, w, b)


def relu_forward(x: Any) -> np.ndarray:
    """Validate ``relu_forward``'s x (float array of rank >= 1); returns it."""
    return _elementwise("relu_forward", x)


def leaky_relu_forward(x: Any, alpha: Any = 0.01) -> tuple[np.ndarray, float]:
    """Validate ``leaky_relu_forward``'s arguments; returns ``(x, alpha)``.

    x: float array of rank >= 1; alpha: any finite real (the slope for x <= 0), as a float.
    """
    fn = "leaky_relu_forward"
    return _elementwise(fn, x), v.check_scalar(fn, "alpha", alpha)


def sigmoid_forward(x: Any) -> np.ndarray:
    """Validate ``sigmoid_forward``'s x (float array of rank >= 1); returns it."""
    return _elementwise("sigmoid_forward", x)


def tanh_forward(x: Any) -> np.ndarray:
    """Validate ``tanh_forward``'s x (float array of rank >= 1); returns it."""
    return _elementwise("tanh_forward", x)


def softmax_forward(x: Any) -> np.ndarray:
    """Validate ``softmax_forward``'s x (float array (..., C), C >= 1); returns it."""
    return _last_axis("softmax_forward", x)


def log_softmax_forward(x: Any) -> np.ndarray:
    """Validate ``log_softmax_forward``'s x (float array (..., C), C >= 1); returns it."""
    return _last_axis("log_softmax_forward", x)


def _dropout_mask(fn: str, mask: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A keep-mask of ``shape``: bool, or numbers that are all 0 or 1; returned as bool."""
    name = "dropout_param['mask']"
    if not isinstance(mask, np.ndarray):
        raise TypeError(
            f"{fn}: {name} must be a numpy.ndarray of bools or 0/1 numbers; "
            f"received {type(mask).__name__}"
        )
    if not (mask.dtype == np.bool_ or np.issubdtype(mask.dtype, np.integer)
            or np.issubdtype(mask.dtype, np.floating)):
        raise TypeError(
            f"{fn}: {name} must have a bool, integer or floating dtype; "
            f"received {name}.dtype={mask.dtype}"
        )
    v.check_shape(fn, name, mask, shape, "(x's shape)")
    if mask.dtype == np.bool_:
        return mask
    if not np.all((mask == 0) | (mask == 1)):
        bad = mask[~((mask == 0) | (mask == 1))][0]
        raise ValueError(
            f"{fn}: {name} must hold only 0 and 1 (an unscaled keep-mask); "
            f"received a value {bad!r}"
        )
    return mask == 1  # bool, x's shape


def dropout_forward(x: Any, dropout_param: Any) -> DropoutSettings:
    """Validate ``dropout_forward``'s arguments; returns ``DropoutSettings``.

    x: float array of rank >= 1. dropout_param: dict with
    - 'p' (required): drop probability, 0 <= p < 1;
    - 'mode': 'train' (default) or 'test';
    - 'seed' (optional): int >= 0 or None;
    - 'mask' (optional): unscaled keep-mask of x's shape, bool or 0/1 numbers; checked and
      returned (as bool) in train mode only, since test mode does not use it.
    """
    fn = "dropout_forward"
    x = _elementwise(fn, x)
    dropout_param = v.check_dict(fn, "dropout_param", dropout_param)
    if "p" not in dropout_param:
        raise ValueError(
            f"{fn}: dropout_param must have the key 'p' (the drop probability, 0 <= p < 1); "
            f"received keys {sorted(dropout_param)}"
        )
    p = v.check_scalar(fn, "dropout_param['p']", dropout_param["p"], low=0.0, high=1.0,
                       high_open=True)
    mode = v.check_mode(fn, "dropout_param['mode']", dropout_param.get("mode", "train"), MODES)
    seed = dropout_param.get("seed")
    if seed is not None:
        seed = v.check_int(fn, "dropout_param['seed']", seed, low=0)
    mask = dropout_param.get("mask")
    if mode == "test" or mask is None:
        mask = None
    else:
        mask = _dropout_mask(fn, mask, x.shape)
    return DropoutSettings(p, mode, mask, seed)


def batchnorm_forward(x: Any, gamma: Any, beta: Any, bn_param: Any) -> BatchnormSettings:
    """Validate ``batchnorm_forward``'s arguments; returns ``BatchnormSettings``.

    x: float array (N, D); gamma, beta: float arrays (D,); bn_param: dict with the optional
    keys 'mode' ('train' default, or 'test'), 'eps' (1e-5, > 0), 'momentum' (0.9, in
    [0, 1]), 'running_mean' (D,), 'running_var' (D,), 'running_var_unbiased' (False).
    Train mode needs N >= 1, and N >= 2 with running_var_unbiased=True.
    """
    fn = "batchnorm_forward"
    x = v.as_float_array(fn, "x", x, ndim=2, shape_hint="(N, D)")
    n, d = x.shape
    return _batchnorm(fn, n, d, x.dtype, gamma, beta, bn_param, f"with D = {d} from x")


def affine_relu_forward(x: Any, w: Any, b: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate ``affine_relu_forward``'s arguments (as ``affine_forward``); returns (x, w, b)."""
    return _affine("affine_relu_forward", x, w, b)


def affine_batchnorm_relu_forward(
    x: Any, w: Any, b: Any, gamma: Any, beta: Any, bn_param: Any
) -> BatchnormSettings:
    """Validate ``affine_batchnorm_relu_forward``'s arguments; returns ``BatchnormSettings``.

    x, w, b as in ``affine_forward``; gamma, beta (M,) and bn_param as in
    ``batchnorm_forward`` for the affine output of shape (N, M), whose dtype is NumPy's
    promotion of x, w and b.
    """
    fn = "affine_batchnorm_relu_forward"
    x, w, b = _affine(fn, x, w, b)
    dtype = v.result_dtype(x, w, b)
    m = w.shape[1]
    return _batchnorm(fn, x.shape[0], m, dtype, gamma, beta, bn_param, f"with M = {m} from w")
