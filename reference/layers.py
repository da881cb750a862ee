"""Layers and composites of the NumPy reference (SPEC.md §2 "Layers", §4).

Every layer is a pair in the CS231n style::

    out, cache = <layer>_forward(inputs...)
    grads = <layer>_backward(dout, cache)

Caches are opaque: only the backward function of this module reads them. Arguments are
validated by ``dlparity.contract.layers`` (forward) and ``validate.check_dout`` (backward),
so every implementation raises the same errors. No function writes into an input array;
``batchnorm_forward`` stores NEW running statistics into ``bn_param``, the one state
container of this module. Output dtypes follow the input dtypes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dlparity import validate as v
from dlparity.catalogue import names_in
from dlparity.contract import layers as contract

__all__ = names_in("layers")  # the catalogue's names (dlparity.catalogue)

Cache = Any  # opaque: read only by the matching backward function below


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
    n, d = x.shape[0], math.prod(x.shape[1:])
    x_flat = x.reshape(n, d)  # (N, D), a view: never written
    out = x_flat @ w + b  # (N, M)
    return out, (x, w, out.shape)


def affine_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of affine_forward.

    Inputs:
    - dout: upstream gradient (N, M)
    - cache: from affine_forward

    Returns:
    - dx: (N, d1, ..., dk), x's shape
    - dw: (D, M)
    - db: (M,)
    """
    x, w, out_shape = cache
    dout = v.check_dout("affine_backward", dout, out_shape)
    n, d = x.shape[0], math.prod(x.shape[1:])
    dx = (dout @ w.T).reshape(x.shape)  # (N, d1, ..., dk)
    dw = x.reshape(n, d).T @ dout  # (D, M)
    db = dout.sum(axis=0)  # (M,)
    return dx, dw, db


# ------------------------------------------------------------------------- activations


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """ReLU: out = max(x, 0), element-wise.

    Inputs:
    - x: array of any shape with rank >= 1 (batch first)

    Returns:
    - out: x's shape
    - cache: for relu_backward
    """
    x = contract.relu_forward(x)
    out = np.maximum(x, 0)  # x's shape
    return out, x


def relu_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Backward pass of relu_forward: dout where x > 0, else 0 (also at exactly x == 0).

    Inputs:
    - dout: upstream gradient, x's shape
    - cache: from relu_forward

    Returns:
    - dx: x's shape (a new array; dout is not modified)
    """
    x = cache
    dout = v.check_dout("relu_backward", dout, x.shape)
    return np.where(x > 0, dout, 0)  # x's shape


def leaky_relu_forward(x: np.ndarray, alpha: float = 0.01) -> tuple[np.ndarray, Cache]:
    """Leaky ReLU: out = x where x > 0, alpha * x where x <= 0.

    Inputs:
    - x: array of any shape with rank >= 1 (batch first)
    - alpha: slope for x <= 0 (any finite real; torch's default 0.01)

    Returns:
    - out: x's shape
    - cache: for leaky_relu_backward
    """
    x, alpha = contract.leaky_relu_forward(x, alpha)
    out = np.where(x > 0, x, alpha * x)  # x's shape
    return out, (x, alpha)


def leaky_relu_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Backward pass of leaky_relu_forward: slope 1 where x > 0, alpha where x <= 0.

    Inputs:
    - dout: upstream gradient, x's shape
    - cache: from leaky_relu_forward

    Returns:
    - dx: x's shape
    """
    x, alpha = cache
    dout = v.check_dout("leaky_relu_backward", dout, x.shape)
    return np.where(x > 0, dout, alpha * dout)  # x's shape


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Logistic sigmoid 1 / (1 + exp(-x)), computed without overflow for any finite x.

    With z = exp(-|x|) in (0, 1]: sigmoid(x) = 1 / (1 + z) for x >= 0, z / (1 + z) for x < 0.

    Inputs:
    - x: array of any shape with rank >= 1 (batch first)

    Returns:
    - out: x's shape, in [0, 1]
    - cache: for sigmoid_backward
    """
    x = contract.sigmoid_forward(x)
    z = np.exp(-np.abs(x))  # x's shape, never overflows
    out = np.where(x >= 0, 1 / (1 + z), z / (1 + z))  # x's shape
    return out, out


def sigmoid_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Backward pass of sigmoid_forward: dx = dout * s * (1 - s), s = sigmoid(x).

    Inputs:
    - dout: upstream gradient, x's shape
    - cache: from sigmoid_forward

    Returns:
    - dx: x's shape
    """
    s = cache
    dout = v.check_dout("sigmoid_backward", dout, s.shape)
    return dout * s * (1 - s)  # x's shape


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Hyperbolic tangent, element-wise.

    Inputs:
    - x: array of any shape with rank >= 1 (batch first)

    Returns:
    - out: x's shape, in [-1, 1]
    - cache: for tanh_backward
    """
    x = contract.tanh_forward(x)
    out = np.tanh(x)  # x's shape
    return out, out


def tanh_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Backward pass of tanh_forward: dx = dout * (1 - tanh(x)^2).

    Inputs:
    - dout: upstream gradient, x's shape
    - cache: from tanh_forward

    Returns:
    - dx: x's shape
    """
    t = cache
    dout = v.check_dout("tanh_backward", dout, t.shape)
    return dout * (1 - t * t)  # x's shape


# ------------------------------------------------------------------------------ softmax


def softmax_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Softmax over the last axis: exp(x - max) / sum(exp(x - max)).

    Inputs:
    - x: array (..., C), any rank >= 1

    Returns:
    - out: (..., C), each slice along the last axis sums to 1
    - cache: for softmax_backward
    """
    x = contract.softmax_forward(x)
    shifted = x - x.max(axis=-1, keepdims=True)  # (..., C), a new array, all <= 0
    e = np.exp(shifted)  # (..., C)
    out = e / e.sum(axis=-1, keepdims=True)  # (..., C)
    return out, out


def softmax_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Backward pass of softmax_forward: dx = s * (dout - sum(dout * s, last axis)).

    Inputs:
    - dout: upstream gradient (..., C)
    - cache: from softmax_forward

    Returns:
    - dx: (..., C)
    """
    s = cache
    dout = v.check_dout("softmax_backward", dout, s.shape)
    return s * (dout - (dout * s).sum(axis=-1, keepdims=True))  # (..., C)


def log_softmax_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Log-softmax over the last axis: (x - max) - log(sum(exp(x - max))).

    Inputs:
    - x: array (..., C), any rank >= 1

    Returns:
    - out: (..., C), all <= 0; exp(out) sums to 1 along the last axis
    - cache: for log_softmax_backward
    """
    x = contract.log_softmax_forward(x)
    shifted = x - x.max(axis=-1, keepdims=True)  # (..., C), a new array, all <= 0
    out = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))  # (..., C)
    return out, out


def log_softmax_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Backward pass of log_softmax_forward: dx = dout - softmax(x) * sum(dout, last axis).

    Inputs:
    - dout: upstream gradient (..., C)
    - cache: from log_softmax_forward

    Returns:
    - dx: (..., C)
    """
    log_s = cache
    dout = v.check_dout("log_softmax_backward", dout, log_s.shape)
    return dout - np.exp(log_s) * dout.sum(axis=-1, keepdims=True)  # (..., C)


# ------------------------------------------------------------------------------ dropout


def dropout_forward(x: np.ndarray, dropout_param: dict) -> tuple[np.ndarray, Cache]:
    """Inverted dropout; p is the DROP probability.

    Inputs:
    - x: array of any shape with rank >= 1 (batch first)
    - dropout_param: dict with
      - p: drop probability, 0 <= p < 1 (required)
      - mode: 'train' (default) or 'test'
      - mask (optional): unscaled keep-mask of x's shape (bool or 0/1; True = keep);
        wins over seed
      - seed (optional): without a mask, the keep-mask is
        numpy.random.default_rng(seed).random(x.shape) >= p

    Returns:
    - out: x's shape; x * mask / (1 - p) in train mode, a copy of x in test mode
    - cache: for dropout_backward
    """
    p, mode, mask, seed = contract.dropout_forward(x, dropout_param)
    if mode == "test":
        return x.copy(), (mode, None, p, x.shape)
    if mask is None:
        mask = np.random.default_rng(seed).random(x.shape) >= p  # x's shape, bool
    out = x * mask / (1 - p)  # x's shape
    return out, (mode, mask, p, x.shape)


def dropout_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Backward pass of dropout_forward.

    Inputs:
    - dout: upstream gradient, x's shape
    - cache: from dropout_forward

    Returns:
    - dx: x's shape; dout * mask / (1 - p) in train mode, a copy of dout in test mode
    """
    mode, mask, p, x_shape = cache
    dout = v.check_dout("dropout_backward", dout, x_shape)
    if mode == "test":
        return dout.copy()
    return dout * mask / (1 - p)  # x's shape


# --------------------------------------------------------------------------- batch norm


def batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict
) -> tuple[np.ndarray, Cache]:
    """Batch normalisation over the batch axis, then scale and shift.

    Train mode: xhat = (x - mean) / sqrt(var + eps) with the batch mean and the BIASED
    batch variance; bn_param's running statistics are replaced by NEW arrays
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var  = momentum * running_var  + (1 - momentum) * var_r
    where var_r = var, or N / (N - 1) * var with running_var_unbiased=True.
    Test mode: xhat = (x - running_mean) / sqrt(running_var + eps); bn_param is unchanged.

    Inputs:
    - x: (N, D)
    - gamma: scale (D,)
    - beta: shift (D,)
    - bn_param: dict with the optional keys mode ('train' default, or 'test'), eps (1e-5),
      momentum (0.9), running_mean (D,) (zeros), running_var (D,) (ones),
      running_var_unbiased (False)

    Returns:
    - out: gamma * xhat + beta, (N, D)
    - cache: for batchnorm_backward
    """
    mode, eps, momentum, running_mean, running_var, unbiased = contract.batchnorm_forward(
        x, gamma, beta, bn_param
    )
    if mode == "train":
        n = x.shape[0]
        mean = x.mean(axis=0)  # (D,)
        centred = x - mean  # (N, D)
        var = (centred * centred).mean(axis=0)  # (D,), biased
        var_r = var * (n / (n - 1)) if unbiased else var  # (D,)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean  # (D,)
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var_r  # (D,)
    else:
        centred = x - running_mean  # (N, D)
        var = running_var  # (D,)
    std = np.sqrt(var + eps)  # (D,)
    xhat = centred / std  # (N, D)
    out = gamma * xhat + beta  # (N, D)
    return out, (mode, xhat, gamma, std)


def batchnorm_backward(
    dout: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of batchnorm_forward (train-mode or test-mode cache).

    Train mode (batch statistics depend on x):
        dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / std, dxhat = dout * gamma,
    means over the batch axis. Test mode (running statistics are constants):
        dx = dout * gamma / sqrt(running_var + eps).

    Inputs:
    - dout: upstream gradient (N, D)
    - cache: from batchnorm_forward

    Returns:
    - dx: (N, D)
    - dgamma: (D,)
    - dbeta: (D,)
    """
    mode, xhat, gamma, std = cache
    dout = v.check_dout("batchnorm_backward", dout, xhat.shape)
    dbeta = dout.sum(axis=0)  # (D,)
    dgamma = (dout * xhat).sum(axis=0)  # (D,)
    dxhat = dout * gamma  # (N, D)
    if mode == "test":
        return dxhat / std, dgamma, dbeta
    dx = (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0)) / std  # (N, D)
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------- composites


def affine_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Affine layer followed by a ReLU.

    Inputs:
    - x: (N, d1, ..., dk); w: (D, M); b: (M,) as in affine_forward

    Returns:
    - out: relu(x @ w + b), (N, M)
    - cache: for affine_relu_backward
    """
    contract.affine_relu_forward(x, w, b)
    a, fc_cache = affine_forward(x, w, b)  # (N, M)
    out, relu_cache = relu_forward(a)  # (N, M)
    return out, (fc_cache, relu_cache)


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
    fc_cache, relu_cache = cache
    v.check_dout("affine_relu_backward", dout, relu_cache.shape)
    da = relu_backward(dout, relu_cache)  # (N, M)
    return affine_backward(da, fc_cache)


def affine_batchnorm_relu_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    bn_param: dict,
) -> tuple[np.ndarray, Cache]:
    """Affine layer, batch normalisation, ReLU.

    Inputs:
    - x: (N, d1, ..., dk); w: (D, M); b: (M,) as in affine_forward
    - gamma, beta: (M,); bn_param: as in batchnorm_forward (its running statistics are
      updated in train mode)

    Returns:
    - out: relu(batchnorm(x @ w + b)), (N, M)
    - cache: for affine_batchnorm_relu_backward
    """
    contract.affine_batchnorm_relu_forward(x, w, b, gamma, beta, bn_param)
    a, fc_cache = affine_forward(x, w, b)  # (N, M)
    h, bn_cache = batchnorm_forward(a, gamma, beta, bn_param)  # (N, M)
    out, relu_cache = relu_forward(h)  # (N, M)
    return out, (fc_cache, bn_cache, relu_cache)


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
    fc_cache, bn_cache, relu_cache = cache
    v.check_dout("affine_batchnorm_relu_backward", dout, relu_cache.shape)
    dh = relu_backward(dout, relu_cache)  # (N, M)
    da, dgamma, dbeta = batchnorm_backward(dh, bn_cache)  # (N, M), (M,), (M,)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db, dgamma, dbeta
