"""Feature preprocessing with TensorFlow ops (SPEC.md §2, §4).

Same names and conventions as ``dlparity.reference.preprocess``: data matrices are
(N, D), one sample per row; no function writes to its inputs. Arguments are checked by
``dlparity.contract.preprocess``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from dlparity import validate as v
from dlparity.catalogue import names_in
from dlparity.contract import preprocess as contract

from . import _convert

__all__ = names_in("preprocess")  # the catalogue's names (dlparity.catalogue)


def _centred(X: tf.Tensor) -> tf.Tensor:
    return X - tf.reduce_mean(X, axis=0)  # (N, D)


def _covariance(Xc: tf.Tensor) -> tf.Tensor:
    """(1/N) Xc^T Xc of a centred (N, D) matrix -> (D, D)."""
    return tf.matmul(Xc, Xc, transpose_a=True) / Xc.shape[0]


def normalize_features(X_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Scale every feature to zero mean and unit variance with the TRAINING statistics.

    z = (x - mu) / sigma, mu and sigma the per-feature mean and population std (ddof 0)
    of X_train (tf.nn.moments), applied to X_train and to every other split; a feature
    constant in X_train (max == min) gets sigma = 1.

    Inputs:
    - X_train: float array (N, D), N >= 1.
    - others: float arrays (N_i, D), e.g. X_val, X_test.

    Returns:
    - a tuple (X_train_normalised, *others_normalised), each a new array with its input's
      shape and dtype.
    """
    X_train, others = contract.normalize_features(X_train, *others)
    splits = (X_train, *others)
    dtypes = [v.result_dtype(X_train, X) for X in splits]  # each split's working dtype

    def normalise(X_train: tf.Tensor, *splits: tf.Tensor) -> list[tf.Tensor]:
        mu, var = tf.nn.moments(X_train, axes=[0])  # (D,), (D,)
        constant = tf.reduce_max(X_train, axis=0) == tf.reduce_min(X_train, axis=0)  # (D,)
        sigma = tf.where(constant, tf.ones_like(var), tf.sqrt(var))  # (D,)
        return [
            tf.cast((tf.cast(X, dt) - tf.cast(mu, dt)) / tf.cast(sigma, dt), X.dtype)
            for X, dt in zip(splits, dtypes, strict=True)
        ]

    return tuple(_convert.call(normalise, X_train, *splits))


def running_mean_update(mu: np.ndarray | float, x: np.ndarray | float,
                        k: float) -> np.ndarray | float:
    """One step of the running mean: mu_n = mu_{n-1} + k * (x - mu_{n-1}).

    Inputs:
    - mu: the running mean so far: a Python number, or a float array of any shape.
    - x: the new observation, of mu's form.
    - k: float in (0, 1].

    Returns:
    - the updated mean: a Python float for Python numbers, else a new array of mu's shape.
    """
    mu, x, k, as_float = contract.running_mean_update(mu, x, k)
    dtype = v.result_dtype(mu, x)
    out = _convert.call(lambda mu, x: mu + k * (x - mu), mu.astype(dtype, copy=False),
                        x.astype(dtype, copy=False))
    return contract.running_mean_result(out, as_float)


def covariance(X: np.ndarray) -> np.ndarray:
    """Covariance matrix of the features, normalised by 1/N.

    Inputs:
    - X: float array (N, D), rows are samples, N >= 1.

    Returns:
    - cov: array (D, D), symmetric, of X's dtype.
    """
    X = contract.covariance(X)
    return _convert.call(lambda X: _covariance(_centred(X)), X)


def whiten(X: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """PCA whitening by SVD of the covariance (tf.linalg.svd):
        Xc = X - mean(X);  cov = Xc.T @ Xc / N;  S, U, _ = svd(cov)
        X_white = (Xc @ U) / sqrt(S + eps)
    Columns in decreasing order of variance, each unique only up to its sign.

    Inputs:
    - X: float array (N, D), rows are samples, N >= 1.
    - eps: float >= 0, added to the variances before the square root.

    Returns:
    - X_white: array (N, D) of X's dtype.
    """
    X, eps = contract.whiten(X, eps)

    def white(X: tf.Tensor) -> tf.Tensor:
        Xc = _centred(X)  # (N, D)
        s, u, _ = tf.linalg.svd(_covariance(Xc))  # (D,), (D, D)
        return (Xc @ u) / tf.sqrt(s + eps)  # (N, D)

    return _convert.call(white, X)
