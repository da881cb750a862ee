"""Layers and composites computed with TensorFlow (SPEC.md §2 "Layers", §4).

Same names, signatures and conventions as ``dlparity.reference.layers``. Each forward
validates its arguments with ``dlparity.contract.layers``, computes with TF ops on a
persistent ``tf.GradientTape`` (``_autograd.record``) and returns NumPy; each backward is
``_autograd.vjp``, TF's autograd with the given ``dout`` -- no hand-written gradient.
Caches are opaque ``_autograd.Recording``s. ``batchnorm_forward`` stores NEW running
statistics into ``bn_param``; no input array is written.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import tensorflow as tf

from dlparity import validate as v
from dlparity.catalogue import names_in
from dlparity.contract import layers as contract

from . import _autograd, _convert

__all__ = names_in("layers")  # the catalogue's names (dlparity.catalogue)

Cache = _autograd.Recording  # opaque: read only by the matching backward function below


# ---------------------------------------------------------------- TF math (tensors only)


def _affine(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, dtype: Any) -> tf.Tensor:
    """x (N, d1..dk) flattened to (N, D), then x @ w + b in ``dtype`` -> (N, M)."""
    x_flat = tf.reshape(x, (x.shape[0], math.prod(x.shape[1:])))  # (N, D)
    return tf.cast(x_flat, dtype) @ tf.cast(w, dtype) + tf.cast(b, dtype)  # (N, M)


def _leaky_relu(x: tf.Tensor, alpha: float) -> tf.Tensor:
    # Composed, not tf.nn.leaky_relu: that op's alpha is a float32 attribute (0.01 becomes
    # 0.009999999776), 2e-8 off in float64. tf.where takes the alpha branch at x == 0.
    return tf.where(x > 0, x, alpha * x)


def _dropout(x: tf.Tensor, mask: tf.Tensor, p: float) -> tf.Tensor:
    # Composed, not tf.nn.dropout: the keep-mask is given (SPEC §4), tf.nn.dropout draws its own.
    return x * tf.cast(mask, x.dtype) / (1 - p)  # x's shape


def _batchnorm(x, gamma, beta, running_mean, running_var, *, dtype, mode, eps):
    """(out (N, D), mean (D,), var (D,)) in ``dtype``: the batch statistics (biased
    variance) in train mode, the running ones (constants) in test mode."""
    x, gamma, beta = (tf.cast(t, dtype) for t in (x, gamma, beta))
    if mode == "train":
        mean, var = tf.nn.moments(x, axes=[0])  # (D,), (D,)
    else:
        mean, var = tf.cast(running_mean, dtype), tf.cast(running_var, dtype)  # (D,), (D,)
    out = tf.nn.batch_normalization(x, mean, var, beta, gamma, eps)  # (N, D)
    return out, mean, var


def _affine_batchnorm_relu(x, w, b, gamma, beta, running_mean, running_var, *, dtype,
                           mode, eps):
    """(relu(batchnorm(x @ w + b)) (N, M), mean (M,), var (M,)), as _batchnorm."""
    a = _affine(x, w, b, dtype)  # (N, M)
    h, mean, var = _batchnorm(a, gamma, beta, running_mean, running_var, dtype=dtype,
                              mode=mode, eps=eps)  # (N, M), (M,), (M,)
    return tf.nn.relu(h), mean, var


# ------------------------------------------------------------------ helpers (boundary)


def _forward(fn: Any, inputs: list, constants: list | tuple = ()) -> tuple[np.ndarray, Cache]:
    """Record ``fn`` and return (out as NumPy, cache) for a single-output layer."""
    out, cache = _autograd.record(fn, inputs, constants)
    return _convert.to_numpy(out), cache


def keep_mask(shape: tuple[int, ...], p: float, seed: int | None) -> np.ndarray:
    """SPEC §4's keep-mask without a given mask: default_rng(seed).random(shape) >= p (bool),
    the same in every implementation for a given seed (drawn at the boundary, in NumPy)."""
    return np.random.default_rng(seed).random(shape) >= p


def _store_running(bn_param: dict, settings: contract.BatchnormSettings, n: int,
                   mean: tf.Tensor, var: tf.Tensor) -> None:
    """Write NEW running statistics into ``bn_param`` (train mode only)."""
    if settings.mode != "train":
        return
    m = settings.momentum
    with _convert.device():
        running_mean = tf.cast(_convert.to_tensor(settings.running_mean), mean.dtype)  # (D,)
        running_var = tf.cast(_convert.to_tensor(settings.running_var), var.dtype)  # (D,)
        var_r = var * (n / (n - 1)) if settings.running_var_unbiased else var  # (D,)
        new_mean = m * running_mean + (1 - m) * mean  # (D,)
        new_var = m * running_var + (1 - m) * var_r  # (D,)
    bn_param["running_mean"] = _convert.to_numpy(new_mean)  # a new array
    bn_param["running_var"] = _convert.to_numpy(new_var)  # a new array


# ------------------------------------------------------------------------------ affine


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Fully connected layer: out = x.reshape(N, D) @ w + b.

    Inputs:
    - x: array (N, d1, ..., dk), flattened to (N, D) with D = d1 * ... * dk
    - w: weights (D, M)
    - b: biases (M,)

    Returns:
    - out: (N, M)
    - cache: for affine_backward
    """
    x, w, b = contract.affine_forward(x, w, b)
    fn = functools.partial(_affine, dtype=v.result_dtype(x, w, b))
    return _forward(fn, [x, w, b])


def affine_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of affine_forward (TF autograd).

    Inputs:
    - dout: upstream gradient (N, M)
    - cache: from affine_forward

    Returns:
    - dx: (N, d1, ..., dk), x's shape
    - dw: (D, M)
    - db: (M,)
    """
    return _autograd.vjp("affine_backward", dout, cache)


# ------------------------------------------------------------------------- activations


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """ReLU: out = max(x, 0) with tf.nn.relu (gradient 0 at exactly x == 0).

    Inputs:
    - x: array of any shape

    Returns:
    - out: x's shape
    - cache: for relu_backward
    """
    return _forward(tf.nn.relu, [contract.relu_forward(x)])


def relu_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Backward pass of relu_forward.

    Inputs:
    - dout: upstream gradient, x's shape
    - cache: from relu_forward

    Returns:
    - dx: x's shape
    """
    return _autograd.vjp("relu_backward", dout, cache)[0]


def leaky_relu_forward(x: np.ndarray, alpha: float = 0.01) -> tuple[np.ndarray, Cache]:
    """Leaky ReLU: out = x where x > 0, alpha * x where x <= 0 (slope alpha at 0).

    Inputs:
    - x: array of any shape
    - alpha: slope for x <= 0 (passed explicitly: TF's own default is 0.2)

    Returns:
    - out: x's shape
    - cache: for leaky_relu_backward
    """
    x, alpha = contract.leaky_relu_forward(x, alpha)
    return _forward(functools.partial(_leaky_relu, alpha=alpha), [x])


def leaky_relu_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Backward pass of leaky_relu_forward.

    Inputs:
    - dout: upstream gradient, x's shape
    - cache: from leaky_relu_forward

    Returns:
    - dx: x's shape
    """
    return _autograd.vjp("leaky_relu_backward", dout, cache)[0]


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Logistic sigmoid 1 / (1 + exp(-x)) with tf.sigmoid (no overflow for finite x).

    Inputs:
    - x: array of any shape

    Returns:
    - out: x's shape, in [0, 1]
    - cache: for sigmoid_backward
    """
    return _forward(tf.sigmoid, [contract.sigmoid_forward(x)])


def sigmoid_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Backward pass of sigmoid_forward.

    Inputs:
    - dout: upstream gradient, x's shape
    - cache: from sigmoid_forward

    Returns:
    - dx: x's shape
    """
    return _autograd.vjp("sigmoid_backward", dout, cache)[0]


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Hyperbolic tangent with tf.tanh.

    Inputs:
    - x: array of any shape

    Returns:
    - out: x's shape, in [-1, 1]
    - cache: for tanh_backward
    """
    return _forward(tf.tanh, [contract.tanh_forward(x)])


def tanh_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Backward pass of tanh_forward.

    Inputs:
    - dout: upstream gradient, x's shape
    - cache: from tanh_forward

    Returns:
    - dx: x's shape
    """
    return _autograd.vjp("tanh_backward", dout, cache)[0]


# ------------------------------------------------------------------------------ softmax


def softmax_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Softmax over the last axis with tf.nn.softmax (max-subtracted, stable).

    Inputs:
    - x: array (..., C), any rank >= 1

    Returns:
    - out: (..., C), each slice along the last axis sums to 1
    - cache: for softmax_backward
    """
    return _forward(tf.nn.softmax, [contract.softmax_forward(x)])


def softmax_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Backward pass of softmax_forward.

    Inputs:
    - dout: upstream gradient (..., C)
    - cache: from softmax_forward

    Returns:
    - dx: (..., C)
    """
    return _autograd.vjp("softmax_backward", dout, cache)[0]


def log_softmax_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Log-softmax over the last axis with tf.nn.log_softmax (stable).

    Inputs:
    - x: array (..., C), any rank >= 1

    Returns:
    - out: (..., C), all <= 0
    - cache: for log_softmax_backward
    """
    return _forward(tf.nn.log_softmax, [contract.log_softmax_forward(x)])


def log_softmax_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Backward pass of log_softmax_forward.

    Inputs:
    - dout: upstream gradient (..., C)
    - cache: from log_softmax_forward

    Returns:
    - dx: (..., C)
    """
    return _autograd.vjp("log_softmax_backward", dout, cache)[0]


# ------------------------------------------------------------------------------ dropout


def dropout_forward(x: np.ndarray, dropout_param: dict) -> tuple[np.ndarray, Cache]:
    """Inverted dropout; p is the DROP probability.

    Inputs:
    - x: array of any shape
    - dropout_param: dict with
      - p: drop probability, 0 <= p < 1 (required)
      - mode: 'train' (default) or 'test'
      - mask (optional): unscaled keep-mask of x's shape (bool or 0/1; True = keep);
        wins over seed
      - seed (optional): without a mask, the keep-mask is
        numpy.random.default_rng(seed).random(x.shape) >= p (SPEC §4: the same mask in
        every implementation for a given seed)

    Returns:
    - out: x's shape; x * mask / (1 - p) in train mode, a copy of x in test mode
    - cache: for dropout_backward
    """
    p, mode, mask, seed = contract.dropout_forward(x, dropout_param)
    if mode == "test":
        return _forward(tf.identity, [x])
    if mask is None:
        mask = keep_mask(x.shape, p, seed)  # x's shape, bool
    return _forward(functools.partial(_dropout, p=p), [x], [mask])


def dropout_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Backward pass of dropout_forward.

    Inputs:
    - dout: upstream gradient, x's shape
    - cache: from dropout_forward

    Returns:
    - dx: x's shape; dout * mask / (1 - p) in train mode, dout in test mode
    """
    return _autograd.vjp("dropout_backward", dout, cache)[0]


# --------------------------------------------------------------------------- batch norm


def batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict
) -> tuple[np.ndarray, Cache]:
    """Batch normalisation over the batch axis, then scale and shift.

    tf.nn.moments (biased batch variance) and tf.nn.batch_normalization. Train mode
    normalises with the batch statistics and stores NEW running statistics into bn_param:
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var  = momentum * running_var  + (1 - momentum) * var_r
    with var_r = var, or N / (N - 1) * var when running_var_unbiased=True. Test mode
    normalises with the running statistics and leaves bn_param unchanged.

    Inputs:
    - x: (N, D)
    - gamma: scale (D,)
    - beta: shift (D,)
    - bn_param: dict with the optional keys mode ('train' default, or 'test'), eps (1e-5),
      momentum (0.9), running_mean (D,) (zeros), running_var (D,) (ones),
      running_var_unbiased (False)

    Returns:
    - out: (N, D)
    - cache: for batchnorm_backward
    """
    settings = contract.batchnorm_forward(x, gamma, beta, bn_param)
    fn = functools.partial(_batchnorm, dtype=v.result_dtype(x, gamma, beta),
                           mode=settings.mode, eps=settings.eps)
    (out, mean, var), cache = _autograd.record(
        fn, [x, gamma, beta], [settings.running_mean, settings.running_var]
    )
    _store_running(bn_param, settings, x.shape[0], mean, var)
    return _convert.to_numpy(out), cache


def batchnorm_backward(
    dout: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of batchnorm_forward (train-mode or test-mode cache).

    Inputs:
    - dout: upstream gradient (N, D)
    - cache: from batchnorm_forward

    Returns:
    - dx: (N, D)
    - dgamma: (D,)
    - dbeta: (D,)
    """
    return _autograd.vjp("batchnorm_backward", dout, cache)


# ---------------------------------------------------------------------------- composites


def affine_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Affine layer followed by a ReLU, recorded on one tape.

    Inputs:
    - x: (N, d1, ..., dk); w: (D, M); b: (M,) as in affine_forward

    Returns:
    - out: relu(x @ w + b), (N, M)
    - cache: for affine_relu_backward
    """
    x, w, b = contract.affine_relu_forward(x, w, b)
    dtype = v.result_dtype(x, w, b)
    return _forward(lambda x, w, b: tf.nn.relu(_affine(x, w, b, dtype)), [x, w, b])


def affine_relu_backward(
    dout: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of affine_relu_forward.

    Inputs:
    - dout: upstream gradient (N, M)
    - cache: from affine_relu_forward

    Returns:
    - dx: x's shape; dw: (D, M); db: (M,)
    """
    return _autograd.vjp("affine_relu_backward", dout, cache)


def affine_batchnorm_relu_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    bn_param: dict,
) -> tuple[np.ndarray, Cache]:
    """Affine layer, batch normalisation, ReLU, recorded on one tape.

    Inputs:
    - x: (N, d1, ..., dk); w: (D, M); b: (M,) as in affine_forward
    - gamma, beta: (M,); bn_param: as in batchnorm_forward (its running statistics are
      updated in train mode)

    Returns:
    - out: relu(batchnorm(x @ w + b)), (N, M)
    - cache: for affine_batchnorm_relu_backward
    """
    settings = contract.affine_batchnorm_relu_forward(x, w, b, gamma, beta, bn_param)
    fn = functools.partial(_affine_batchnorm_relu, dtype=v.result_dtype(x, w, b),
                           mode=settings.mode, eps=settings.eps)
    (out, mean, var), cache = _autograd.record(
        fn, [x, w, b, gamma, beta], [settings.running_mean, settings.running_var]
    )
    _store_running(bn_param, settings, x.shape[0], mean, var)
    return _convert.to_numpy(out), cache


def affine_batchnorm_relu_backward(
    dout: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of affine_batchnorm_relu_forward.

    Inputs:
    - dout: upstream gradient (N, M)
    - cache: from affine_batchnorm_relu_forward

    Returns:
    - dx: x's shape; dw: (D, M); db: (M,); dgamma: (M,); dbeta: (M,)
    """
    return _autograd.vjp("affine_batchnorm_relu_backward", dout, cache)
