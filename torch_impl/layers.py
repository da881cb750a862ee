"""Layers and composites computed with PyTorch (SPEC.md §2 "Layers", §4).

Same names, arguments and results as ``dlparity.reference.layers``. Each forward validates
its arguments with ``dlparity.contract.layers``, computes with torch ops on autograd leaves
and keeps the graph as its (opaque) cache; each backward is ``vjp``: autograd with the
given ``dout`` as ``grad_outputs``. The composites build ONE graph from the private
tensor-level layers below.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from dlparity.catalogue import names_in
from dlparity.contract import layers as contract

from ._autograd import Graph, leaves, vjp
from ._convert import to_numpy, to_tensor

__all__ = names_in("layers")  # the catalogue's names (dlparity.catalogue)


# ------------------------------------------------------------- tensor-level building blocks


def _affine(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """x (N, d1..dk) flattened to (N, D), times w (D, M), plus b (M,) -> (N, M)."""
    x_flat = x.reshape(x.shape[0], math.prod(x.shape[1:]))  # (N, D)
    return x_flat @ w + b  # (N, M)


def _batchnorm(
    x: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    s: contract.BatchnormSettings,
    bn_param: dict,
) -> torch.Tensor:
    """gamma * (x - mean) / sqrt(var + eps) + beta for x (N, D); updates bn_param in train.

    Composed from torch ops rather than F.batch_norm: F.batch_norm refuses N = 1 in train
    mode (SPEC allows it) and its running variance is always the unbiased one.
    """
    if s.mode == "train":
        var, mean = torch.var_mean(x, dim=0, correction=0)  # (D,), (D,): biased variance
        n = x.shape[0]
        with torch.no_grad():
            var_r = var * (n / (n - 1)) if s.running_var_unbiased else var  # (D,)
            running_mean = to_tensor(s.running_mean).to(x.dtype)  # (D,)
            running_var = to_tensor(s.running_var).to(x.dtype)  # (D,)
            running_mean = s.momentum * running_mean + (1 - s.momentum) * mean  # (D,)
            running_var = s.momentum * running_var + (1 - s.momentum) * var_r  # (D,)
        bn_param["running_mean"] = to_numpy(running_mean).astype(s.running_mean.dtype, copy=False)
        bn_param["running_var"] = to_numpy(running_var).astype(s.running_var.dtype, copy=False)
    else:  # the running statistics are constants of the graph
        mean = to_tensor(s.running_mean).to(x.dtype)  # (D,)
        var = to_tensor(s.running_var).to(x.dtype)  # (D,)
    xhat = (x - mean) / torch.sqrt(var + s.eps)  # (N, D)
    return gamma * xhat + beta  # (N, D)


def _forward(out: torch.Tensor, *inputs: torch.Tensor) -> tuple[np.ndarray, Graph]:
    """The public result of a forward: ``out`` as NumPy, and the graph as the cache."""
    return to_numpy(out), Graph(out, inputs)


# ------------------------------------------------------------------------------ affine


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Graph]:
    """Fully connected layer: out = x.reshape(N, D) @ w + b.

    Inputs:
    - x: array (N, d1, ..., dk), flattened to (N, D) with D = d1 * ... * dk
    - w: weights (D, M)
    - b: biases (M,)

    Returns:
    - out: (N, M)
    - cache: for affine_backward
    """
    xt, wt, bt = leaves(*contract.affine_forward(x, w, b))
    return _forward(_affine(xt, wt, bt), xt, wt, bt)


def affine_backward(dout: np.ndarray, cache: Graph) -> tuple[np.ndarray, ...]:
    """Backward pass of affine_forward by autograd.

    Inputs:
    - dout: upstream gradient (N, M)
    - cache: from affine_forward

    Returns:
    - dx: x's shape; dw: (D, M); db: (M,)
    """
    return vjp("affine_backward", dout, cache)


# ------------------------------------------------------------------------- activations


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, Graph]:
    """ReLU: out = max(x, 0), element-wise; torch.relu, whose gradient at x == 0 is 0.

    Inputs:
    - x: array of any shape

    Returns:
    - out: x's shape
    - cache: for relu_backward
    """
    (xt,) = leaves(contract.relu_forward(x))
    return _forward(torch.relu(xt), xt)


def relu_backward(dout: np.ndarray, cache: Graph) -> np.ndarray:
    """Backward pass of relu_forward by autograd: dout where x > 0, else 0.

    Inputs:
    - dout: upstream gradient, x's shape
    - cache: from relu_forward

    Returns:
    - dx: x's shape
    """
    return vjp("relu_backward", dout, cache)[0]


def leaky_relu_forward(x: np.ndarray, alpha: float = 0.01) -> tuple[np.ndarray, Graph]:
    """Leaky ReLU: x where x > 0, alpha * x where x <= 0.

    F.leaky_relu with the slope passed explicitly (Keras defaults differ); its gradient at
    exactly 0 is alpha, as SPEC says.

    Inputs:
    - x: array of any shape
    - alpha: slope for x <= 0

    Returns:
    - out: x's shape
    - cache: for leaky_relu_backward
    """
    x, alpha = contract.leaky_relu_forward(x, alpha)
    (xt,) = leaves(x)
    return _forward(F.leaky_relu(xt, negative_slope=alpha), xt)


def leaky_relu_backward(dout: np.ndarray, cache: Graph) -> np.ndarray:
    """Backward pass of leaky_relu_forward by autograd.

    Inputs:
    - dout: upstream gradient, x's shape
    - cache: from leaky_relu_forward

    Returns:
    - dx: x's shape
    """
    return vjp("leaky_relu_backward", dout, cache)[0]


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, Graph]:
    """Logistic sigmoid 1 / (1 + exp(-x)) by torch.sigmoid (no overflow for finite x).

    Inputs:
    - x: array of any shape

    Returns:
    - out: x's shape, in [0, 1]
    - cache: for sigmoid_backward
    """
    (xt,) = leaves(contract.sigmoid_forward(x))
    return _forward(torch.sigmoid(xt), xt)


def sigmoid_backward(dout: np.ndarray, cache: Graph) -> np.ndarray:
    """Backward pass of sigmoid_forward by autograd.

    Inputs:
    - dout: upstream gradient, x's shape
    - cache: from sigmoid_forward

    Returns:
    - dx: x's shape
    """
    return vjp("sigmoid_backward", dout, cache)[0]


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, Graph]:
    """Hyperbolic tangent, element-wise.

    Inputs:
    - x: array of any shape

    Returns:
    - out: x's shape, in [-1, 1]
    - cache: for tanh_backward
    """
    (xt,) = leaves(contract.tanh_forward(x))
    return _forward(torch.tanh(xt), xt)


def tanh_backward(dout: np.ndarray, cache: Graph) -> np.ndarray:
    """Backward pass of tanh_forward by autograd.

    Inputs:
    - dout: upstream gradient, x's shape
    - cache: from tanh_forward

    Returns:
    - dx: x's shape
    """
    return vjp("tanh_backward", dout, cache)[0]


# ------------------------------------------------------------------------------ softmax


def softmax_forward(x: np.ndarray) -> tuple[np.ndarray, Graph]:
    """Softmax over the last axis (torch.softmax, max-subtracted inside).

    Inputs:
    - x: array (..., C), any rank >= 1

    Returns:
    - out: (..., C), each slice along the last axis sums to 1
    - cache: for softmax_backward
    """
    (xt,) = leaves(contract.softmax_forward(x))
    return _forward(torch.softmax(xt, dim=-1), xt)


def softmax_backward(dout: np.ndarray, cache: Graph) -> np.ndarray:
    """Backward pass of softmax_forward by autograd.

    Inputs:
    - dout: upstream gradient (..., C)
    - cache: from softmax_forward

    Returns:
    - dx: (..., C)
    """
    return vjp("softmax_backward", dout, cache)[0]


def log_softmax_forward(x: np.ndarray) -> tuple[np.ndarray, Graph]:
    """Log-softmax over the last axis (torch.log_softmax).

    Inputs:
    - x: array (..., C), any rank >= 1

    Returns:
    - out: (..., C), all <= 0
    - cache: for log_softmax_backward
    """
    (xt,) = leaves(contract.log_softmax_forward(x))
    return _forward(torch.log_softmax(xt, dim=-1), xt)


def log_softmax_backward(dout: np.ndarray, cache: Graph) -> np.ndarray:
    """Backward pass of log_softmax_forward by autograd.

    Inputs:
    - dout: upstream gradient (..., C)
    - cache: from log_softmax_forward

    Returns:
    - dx: (..., C)
    """
    return vjp("log_softmax_backward", dout, cache)[0]


# ------------------------------------------------------------------------------ dropout


def dropout_forward(x: np.ndarray, dropout_param: dict) -> tuple[np.ndarray, Graph]:
    """Inverted dropout; p is the DROP probability.

    x * mask / (1 - p) composed from torch ops: F.dropout draws its own mask from torch's
    RNG, while SPEC fixes the mask (a given one, or NumPy's default_rng(seed) stream) so
    that every implementation drops the same units.

    Inputs:
    - x: array of any shape
    - dropout_param: dict with p (required, 0 <= p < 1), mode ('train' default, or
      'test'), optional mask (unscaled keep-mask of x's shape, wins over seed), optional
      seed (keep-mask = numpy.random.default_rng(seed).random(x.shape) >= p)

    Returns:
    - out: x's shape; x * mask / (1 - p) in train mode, x in test mode
    - cache: for dropout_backward
    """
    p, mode, mask, seed = contract.dropout_forward(x, dropout_param)
    (xt,) = leaves(x)
    if mode == "test":
        return _forward(xt, xt)
    if mask is None:
        mask = np.random.default_rng(seed).random(x.shape) >= p  # x's shape, bool (SPEC §4)
    keep = to_tensor(mask).to(xt.dtype)  # x's shape, 0/1
    return _forward(xt * keep / (1 - p), xt)


def dropout_backward(dout: np.ndarray, cache: Graph) -> np.ndarray:
    """Backward pass of dropout_forward by autograd (test mode passes dout).

    Inputs:
    - dout: upstream gradient, x's shape
    - cache: from dropout_forward

    Returns:
    - dx: x's shape
    """
    return vjp("dropout_backward", dout, cache)[0]


# --------------------------------------------------------------------------- batch norm


def batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict
) -> tuple[np.ndarray, Graph]:
    """Batch normalisation over the batch axis, then scale and shift.

    Train mode normalises with the batch mean and BIASED batch variance and stores NEW
    running statistics into bn_param (running = momentum * running + (1 - momentum) *
    batch; the batch variance times N / (N - 1) with running_var_unbiased=True, torch's
    BatchNorm1d convention). Test mode normalises with the running statistics.

    Inputs:
    - x: (N, D)
    - gamma, beta: (D,)
    - bn_param: dict with the optional keys mode, eps (1e-5), momentum (0.9),
      running_mean (zeros), running_var (ones), running_var_unbiased (False)

    Returns:
    - out: (N, D)
    - cache: for batchnorm_backward
    """
    settings = contract.batchnorm_forward(x, gamma, beta, bn_param)
    xt, gt, bt = leaves(x, gamma, beta)
    return _forward(_batchnorm(xt, gt, bt, settings, bn_param), xt, gt, bt)


def batchnorm_backward(dout: np.ndarray, cache: Graph) -> tuple[np.ndarray, ...]:
    """Backward pass of batchnorm_forward by autograd (train- or test-mode cache).

    Inputs:
    - dout: upstream gradient (N, D)
    - cache: from batchnorm_forward

    Returns:
    - dx: (N, D); dgamma: (D,); dbeta: (D,)
    """
    return vjp("batchnorm_backward", dout, cache)


# ---------------------------------------------------------------------------- composites


def affine_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Graph]:
    """Affine layer followed by a ReLU, as one graph.

    Inputs:
    - x: (N, d1, ..., dk); w: (D, M); b: (M,) as in affine_forward

    Returns:
    - out: relu(x @ w + b), (N, M)
    - cache: for affine_relu_backward
    """
    xt, wt, bt = leaves(*contract.affine_relu_forward(x, w, b))
    return _forward(torch.relu(_affine(xt, wt, bt)), xt, wt, bt)


def affine_relu_backward(dout: np.ndarray, cache: Graph) -> tuple[np.ndarray, ...]:
    """Backward pass of affine_relu_forward by autograd.

    Inputs:
    - dout: upstream gradient (N, M)
    - cache: from affine_relu_forward

    Returns:
    - dx: x's shape; dw: (D, M); db: (M,)
    """
    return vjp("affine_relu_backward", dout, cache)


def affine_batchnorm_relu_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    bn_param: dict,
) -> tuple[np.ndarray, Graph]:
    """Affine layer, batch normalisation, ReLU, as one graph.

    Inputs:
    - x: (N, d1, ..., dk); w: (D, M); b: (M,) as in affine_forward
    - gamma, beta: (M,); bn_param: as in batchnorm_forward (updated in train mode)

    Returns:
    - out: relu(batchnorm(x @ w + b)), (N, M)
    - cache: for affine_batchnorm_relu_backward
    """
    settings = contract.affine_batchnorm_relu_forward(x, w, b, gamma, beta, bn_param)
    xt, wt, bt, gt, betat = leaves(x, w, b, gamma, beta)
    a = _affine(xt, wt, bt)  # (N, M)
    out = torch.relu(_batchnorm(a, gt, betat, settings, bn_param))  # (N, M)
    return _forward(out, xt, wt, bt, gt, betat)


def affine_batchnorm_relu_backward(dout: np.ndarray, cache: Graph) -> tuple[np.ndarray, ...]:
    """Backward pass of affine_batchnorm_relu_forward by autograd.

    Inputs:
    - dout: upstream gradient (N, M)
    - cache: from affine_batchnorm_relu_forward

    Returns:
    - dx: x's shape; dw: (D, M); db: (M,); dgamma: (M,); dbeta: (M,)
    """
    return vjp("affine_batchnorm_relu_backward", dout, cache)
