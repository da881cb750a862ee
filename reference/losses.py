"""Data losses and weight regularisers (SPEC.md §2 "Losses", §4).

Every data loss takes the batch first and returns ``(loss, grad)``: the loss averaged over
the N samples (a NumPy scalar of the input dtype) and its gradient with respect to the
FIRST argument (an array of that argument's shape and dtype). The regularisers return
``(value, dw)`` summed over every entry of w; ``l0_norm`` returns a Python int.

Arguments are checked by ``dlparity.contract.losses`` (shared with torch_impl and
tf_impl): ranks, shapes, integer labels in [0, C), targets in [0, 1], reg >= 0, ...
"""

from __future__ import annotations

import numpy as np

from dlparity.catalogue import names_in
from dlparity.contract import losses as contract

__all__ = names_in("losses")  # the catalogue's names (dlparity.catalogue)


# ------------------------------------------------------------------------ data losses


def mse_loss(h: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Mean square error: squared errors summed over K, averaged over the N samples.

    Inputs:
    - h: predictions, float array of shape (N,) or (N, K).
    - y: targets, float array of h's shape.

    Returns a tuple of:
    - loss: scalar (1/N) * sum((h - y)**2).
    - dh: gradient of the loss with respect to h, 2 * (h - y) / N, of h's shape.
    """
    h, y = contract.mse_loss(h, y)
    n = h.shape[0]
    diff = h - y  # (N,) or (N, K)
    loss = np.sum(diff * diff) / n
    dh = 2 * diff / n  # h's shape
    return loss, dh


def softmax_loss(x: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Softmax cross-entropy on logits, averaged over the N samples.

    Inputs:
    - x: logits, float array of shape (N, C).
    - y: integer labels of shape (N,), 0 <= y[i] < C.

    Returns a tuple of:
    - loss: scalar -(1/N) * sum_i log softmax(x)[i, y[i]].
    - dx: gradient with respect to x, (softmax(x) - onehot(y)) / N, shape (N, C).

    The row maximum is subtracted before exponentiating, so any finite logits (+-1000
    included) give a finite loss and gradient.
    """
    x, y = contract.softmax_loss(x, y)
    n = x.shape[0]
    rows = np.arange(n)  # (N,)
    shifted = x - x.max(axis=1, keepdims=True)  # (N, C), each row's maximum is 0
    exp = np.exp(shifted)  # (N, C), in [0, 1]: cannot overflow
    sum_exp = exp.sum(axis=1, keepdims=True)  # (N, 1), in [1, C]
    log_probs = shifted - np.log(sum_exp)  # (N, C)
    loss = -np.sum(log_probs[rows, y]) / n
    dx = exp / sum_exp  # (N, C), the softmax probabilities
    dx[rows, y] -= 1
    dx /= n
    return loss, dx


def nll_loss(logp: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Negative log-likelihood of log-probabilities, averaged over the N samples.

    Inputs:
    - logp: log-probabilities, float array of shape (N, C) (e.g. a log-softmax output).
    - y: integer labels of shape (N,), 0 <= y[i] < C.

    Returns a tuple of:
    - loss: scalar -(1/N) * sum_i logp[i, y[i]].
    - dlogp: gradient with respect to logp, -1/N at (i, y[i]) and 0 elsewhere, (N, C).
    """
    logp, y = contract.nll_loss(logp, y)
    n = logp.shape[0]
    rows = np.arange(n)  # (N,)
    loss = -np.sum(logp[rows, y]) / n
    dlogp = np.zeros_like(logp)  # (N, C)
    dlogp[rows, y] = -1 / n
    return loss, dlogp


def sigmoid_cross_entropy_loss(x: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Binary cross-entropy on logits: summed over K, averaged over the N samples.

    Inputs:
    - x: logits, float array of shape (N,) or (N, K).
    - y: targets in [0, 1], float array of x's shape.

    Returns a tuple of:
    - loss: scalar (1/N) * sum(max(x, 0) - x * y + log(1 + exp(-|x|))), the stable form
      of -(1/N) * sum(y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x))).
    - dx: gradient with respect to x, (sigmoid(x) - y) / N, of x's shape.

    exp is only taken of -|x| <= 0, so no finite x overflows.
    """
    x, y = contract.sigmoid_cross_entropy_loss(x, y)
    n = x.shape[0]
    e = np.exp(-np.abs(x))  # x's shape, in [0, 1]
    per_entry = np.maximum(x, 0) - x * y + np.log1p(e)  # x's shape
    loss = np.sum(per_entry) / n
    sigmoid = np.where(x >= 0, 1 / (1 + e), e / (1 + e))  # x's shape
    dx = (sigmoid - y) / n
    return loss, dx


def svm_loss(x: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Multiclass hinge (SVM) loss, averaged over the N samples.

    Inputs:
    - x: class scores, float array of shape (N, C).
    - y: integer labels of shape (N,), 0 <= y[i] < C.

    Returns a tuple of:
    - loss: scalar (1/N) * sum_i sum_{j != y[i]} max(0, x[i, j] - x[i, y[i]] + 1).
    - dx: gradient with respect to x, shape (N, C): 1/N for every margin > 0, minus the
      count of those margins in row i at (i, y[i]). A margin of exactly 0 contributes 0.
    """
    x, y = contract.svm_loss(x, y)
    n = x.shape[0]
    rows = np.arange(n)  # (N,)
    correct = x[rows, y][:, None]  # (N, 1)
    margins = np.maximum(0, x - correct + 1)  # (N, C)
    margins[rows, y] = 0  # the true class is not a margin
    loss = np.sum(margins) / n
    active = (margins > 0).astype(x.dtype)  # (N, C), strict: a zero margin is inactive
    active[rows, y] = -active.sum(axis=1)
    dx = active / n  # (N, C)
    return loss, dx


def kl_div_loss(log_q: np.ndarray, p: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """KL-divergence loss of log-probabilities against targets, averaged over N samples.

    Inputs:
    - log_q: predicted log-probabilities, float array of shape (N,) or (N, K).
    - p: target probabilities, float array of log_q's shape, finite and non-negative
      (rows need not sum to 1).

    Returns a tuple of:
    - loss: scalar (1/N) * sum(p * (log(p) - log_q)), where entries with p == 0
      contribute 0 whatever log_q holds there (-inf included).
    - dlog_q: gradient with respect to log_q, -p / N, of log_q's shape.
    """
    log_q, p = contract.kl_div_loss(log_q, p)
    n = log_q.shape[0]
    present = p > 0  # log_q's shape; the terms with p == 0 are 0
    log_p = np.log(p, out=np.zeros_like(p), where=present)  # 0 where p == 0 (unused)
    terms = np.multiply(p, log_p - log_q, out=np.zeros_like(p), where=present)
    loss = np.sum(terms) / n
    dlog_q = -p / n  # log_q's shape
    return loss, dlog_q


# ------------------------------------------------------------------------ regularisers


def l2_regularization(w: np.ndarray, reg: float) -> tuple[np.floating, np.ndarray]:
    """L2 weight penalty 0.5 * reg * sum(w**2) (equal to ``reg * tf.nn.l2_loss(w)``).

    Inputs:
    - w: weights, float array of any shape.
    - reg: regularisation strength, a finite real >= 0.

    Returns a tuple of:
    - value: scalar 0.5 * reg * sum(w**2).
    - dw: gradient reg * w, of w's shape.
    """
    w, reg = contract.l2_regularization(w, reg)
    value = 0.5 * reg * np.sum(w * w)
    dw = np.asarray(reg * w)  # w's shape (asarray: a 0-d w still gets an array)
    return value, dw


def l1_regularization(w: np.ndarray, reg: float) -> tuple[np.floating, np.ndarray]:
    """L1 weight penalty reg * sum(|w|).

    Inputs:
    - w: weights, float array of any shape.
    - reg: regularisation strength, a finite real >= 0.

    Returns a tuple of:
    - value: scalar reg * sum(|w|).
    - dw: subgradient reg * sign(w) (0 where w == 0), of w's shape.
    """
    w, reg = contract.l1_regularization(w, reg)
    value = reg * np.sum(np.abs(w))
    dw = np.asarray(reg * np.sign(w))  # w's shape
    return value, dw


def l0_norm(w: np.ndarray) -> int:
    """The L0 "norm": how many entries of w are non-zero (no gradient).

    Inputs:
    - w: numeric (or bool) array of any shape.

    Returns:
    - count: Python int, the number of entries w != 0 (NaN counts as non-zero).
    """
    w = contract.l0_norm(w)
    return int(np.count_nonzero(w))
