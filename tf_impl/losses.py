"""Data losses and weight regularisers computed with TensorFlow (SPEC.md §2 "Losses", §4).

Same names and conventions as ``dlparity.reference.losses``: every data loss returns
``(loss, grad)``, the loss averaged over the N samples (a NumPy scalar of the input dtype)
and its gradient with respect to the FIRST argument -- here from ``tf.GradientTape``
(``_autograd.value_and_grad``), never a hand-written formula. The regularisers return
``(value, dw)``; ``l0_norm`` returns a Python int. Arguments are checked by
``dlparity.contract.losses``.

Where a stock TF/Keras loss has another convention (Keras averages MSE and binary
cross-entropy over N*K, CategoricalHinge is the max form, KLDivergence clips its inputs),
the SPEC formula is composed from ``tf`` ops instead; each place says so.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from dlparity.catalogue import names_in
from dlparity.contract import losses as contract

from . import _autograd, _convert

__all__ = names_in("losses")  # the catalogue's names (dlparity.catalogue)


def _per_sample_mean(total: tf.Tensor, x: tf.Tensor) -> tf.Tensor:
    """A sum over every entry, averaged over the N samples (not over N*K, Keras's mean)."""
    return total / x.shape[0]


def _first_grad(fn, inputs, constants=()) -> tuple[np.floating, np.ndarray]:
    """(loss, gradient w.r.t. inputs[0]) of a scalar TF loss, from the tape."""
    loss, (grad,) = _autograd.value_and_grad(fn, inputs, constants)
    return loss, grad


# ------------------------------------------------------------------------ data losses


def mse_loss(h: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Mean square error: squared errors summed over K, averaged over the N samples.

    Composed (keras.losses.MeanSquaredError averages over K as well).

    Inputs:
    - h: predictions, float array of shape (N,) or (N, K).
    - y: targets, float array of h's shape.

    Returns a tuple of:
    - loss: scalar (1/N) * sum((h - y)**2).
    - dh: gradient with respect to h, of h's shape.
    """
    h, y = contract.mse_loss(h, y)
    return _first_grad(
        lambda h, y: _per_sample_mean(tf.reduce_sum(tf.math.squared_difference(h, y)), h),
        [h], [y],
    )


def softmax_loss(x: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Softmax cross-entropy on logits, averaged over the N samples.

    tf.nn.sparse_softmax_cross_entropy_with_logits (stable for any finite logits).

    Inputs:
    - x: logits, float array of shape (N, C).
    - y: integer labels of shape (N,), 0 <= y[i] < C.

    Returns a tuple of:
    - loss: scalar -(1/N) * sum_i log softmax(x)[i, y[i]].
    - dx: gradient with respect to x, shape (N, C).
    """
    x, y = contract.softmax_loss(x, y)

    def loss(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        per_sample = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x)  # (N,)
        return _per_sample_mean(tf.reduce_sum(per_sample), x)

    return _first_grad(loss, [x], [y])


def nll_loss(logp: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Negative log-likelihood of log-probabilities, averaged over the N samples.

    Inputs:
    - logp: log-probabilities, float array of shape (N, C).
    - y: integer labels of shape (N,), 0 <= y[i] < C.

    Returns a tuple of:
    - loss: scalar -(1/N) * sum_i logp[i, y[i]].
    - dlogp: gradient with respect to logp, (N, C).
    """
    logp, y = contract.nll_loss(logp, y)

    def loss(logp: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        picked = tf.gather(logp, y[:, None], batch_dims=1)  # (N, 1): logp[i, y[i]]
        return _per_sample_mean(-tf.reduce_sum(picked), logp)

    return _first_grad(loss, [logp], [y])


def sigmoid_cross_entropy_loss(x: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Binary cross-entropy on logits: summed over K, averaged over the N samples.

    tf.nn.sigmoid_cross_entropy_with_logits (the stable form
    max(x, 0) - x * y + log(1 + exp(-|x|))), then summed and divided by N (TF and Keras
    average over N*K).

    Inputs:
    - x: logits, float array of shape (N,) or (N, K).
    - y: targets in [0, 1], float array of x's shape.

    Returns a tuple of:
    - loss: scalar.
    - dx: gradient with respect to x, of x's shape.
    """
    x, y = contract.sigmoid_cross_entropy_loss(x, y)

    def loss(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        per_entry = tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=x)  # x's shape
        return _per_sample_mean(tf.reduce_sum(per_entry), x)

    return _first_grad(loss, [x], [y])


def svm_loss(x: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Multiclass hinge (SVM) loss, averaged over the N samples.

    Composed: keras.losses.CategoricalHinge is the max form max(0, 1 + max_{j!=y} x_j - x_y),
    not the sum over j != y. tf.nn.relu gives a zero-margin term the gradient 0.

    Inputs:
    - x: class scores, float array of shape (N, C).
    - y: integer labels of shape (N,), 0 <= y[i] < C.

    Returns a tuple of:
    - loss: scalar (1/N) * sum_i sum_{j != y[i]} max(0, x[i, j] - x[i, y[i]] + 1).
    - dx: gradient with respect to x, shape (N, C).
    """
    x, y = contract.svm_loss(x, y)

    def loss(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        correct = tf.gather(x, y[:, None], batch_dims=1)  # (N, 1)
        margins = tf.nn.relu(x - correct + 1)  # (N, C)
        is_label = tf.range(x.shape[1], dtype=y.dtype) == y[:, None]  # (N, C)
        margins = tf.where(is_label, tf.zeros_like(margins), margins)  # (N, C)
        return _per_sample_mean(tf.reduce_sum(margins), x)

    return _first_grad(loss, [x], [y])


def kl_div_loss(log_q: np.ndarray, p: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """KL-divergence loss of log-probabilities against targets, averaged over N samples.

    Composed: keras.losses.KLDivergence takes probabilities and clips them to [1e-7, 1].
    tf.math.xlogy and tf.math.multiply_no_nan make the terms with p == 0 exactly 0
    (whatever log_q holds there, -inf included).

    Inputs:
    - log_q: predicted log-probabilities, float array of shape (N,) or (N, K).
    - p: target probabilities, float array of log_q's shape, finite and non-negative.

    Returns a tuple of:
    - loss: scalar (1/N) * sum(p * (log(p) - log_q)).
    - dlog_q: gradient with respect to log_q, of log_q's shape.
    """
    log_q, p = contract.kl_div_loss(log_q, p)

    def loss(log_q: tf.Tensor, p: tf.Tensor) -> tf.Tensor:
        terms = tf.math.xlogy(p, p) - tf.math.multiply_no_nan(log_q, p)  # log_q's shape
        return _per_sample_mean(tf.reduce_sum(terms), log_q)

    return _first_grad(loss, [log_q], [p])


# ------------------------------------------------------------------------ regularisers


def l2_regularization(w: np.ndarray, reg: float) -> tuple[np.floating, np.ndarray]:
    """L2 weight penalty 0.5 * reg * sum(w**2) = reg * tf.nn.l2_loss(w).

    Inputs:
    - w: weights, float array of any shape.
    - reg: regularisation strength, a finite real >= 0.

    Returns a tuple of:
    - value: scalar.
    - dw: gradient, of w's shape.
    """
    w, reg = contract.l2_regularization(w, reg)
    return _first_grad(lambda w: reg * tf.nn.l2_loss(w), [w])


def l1_regularization(w: np.ndarray, reg: float) -> tuple[np.floating, np.ndarray]:
    """L1 weight penalty reg * sum(|w|); TF's gradient of |w| is sign(w), 0 at 0.

    Inputs:
    - w: weights, float array of any shape.
    - reg: regularisation strength, a finite real >= 0.

    Returns a tuple of:
    - value: scalar.
    - dw: subgradient, of w's shape.
    """
    w, reg = contract.l1_regularization(w, reg)
    return _first_grad(lambda w: reg * tf.reduce_sum(tf.abs(w)), [w])


def l0_norm(w: np.ndarray) -> int:
    """The L0 "norm": how many entries of w are non-zero (no gradient).

    Inputs:
    - w: numeric (or bool) array of any shape.

    Returns:
    - count: Python int, the number of entries w != 0 (NaN counts as non-zero).
    """
    w = contract.l0_norm(w)
    return int(_convert.call(tf.math.count_nonzero, w))
