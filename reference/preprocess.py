"""Feature preprocessing (SPEC.md §2, §4): scaling, running mean, covariance, whitening.

Data matrices are (N, D), one sample per row. No function writes to its inputs (one
source document centres X in place before whitening; the reference does not).
"""

from __future__ import annotations

import numpy as np

from dlparity.catalogue import names_in
from dlparity.contract import preprocess as contract

__all__ = names_in("preprocess")  # the catalogue's names (dlparity.catalogue)


def normalize_features(X_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Scale every feature to zero mean and unit variance with the TRAINING statistics.

    z = (x - mu) / sigma, with mu and sigma the per-feature mean and population std
    (ddof 0) of X_train, applied to X_train and to every other split. A feature that is
    constant in X_train (zero std) gets sigma = 1, so it is only centred. Constancy is
    tested exactly (max == min) because the floating std of a constant column can come out
    as ~1e-17 instead of 0.

    Inputs:
    - X_train: float array (N, D), N >= 1.
    - others: float arrays (N_i, D), e.g. X_val, X_test.

    Returns:
    - a tuple (X_train_normalised, *others_normalised), each a new array with its input's
      shape and dtype.
    """
    X_train, others = contract.normalize_features(X_train, *others)
    mu = X_train.mean(axis=0)  # (D,)
    sigma = X_train.std(axis=0)  # (D,)
    sigma[np.ptp(X_train, axis=0) == 0] = 1.0  # constant features: only centre them
    return tuple(((X - mu) / sigma).astype(X.dtype, copy=False) for X in (X_train, *others))


def running_mean_update(mu: np.ndarray | float, x: np.ndarray | float,
                        k: float) -> np.ndarray | float:
    """One step of the running mean: mu_n = mu_{n-1} + k * (x - mu_{n-1}).

    Inputs:
    - mu: the running mean so far: a Python number, or a float array of any shape.
    - x: the new observation, of mu's form (a number, or an array of mu's shape).
    - k: float in (0, 1], a small constant.

    Returns:
    - the updated mean: a Python float for Python numbers, else a new array of mu's shape.
    """
    mu, x, k, as_float = contract.running_mean_update(mu, x, k)
    return contract.running_mean_result(mu + k * (x - mu), as_float)  # mu.shape


def covariance(X: np.ndarray) -> np.ndarray:
    """Covariance matrix of the features, normalised by 1/N:

        cov[i, j] = (1/N) * sum_n (X[n, i] - mu_i) * (X[n, j] - mu_j)

    (the document's samples (10, 20), (32, 52) give cov[1, 0] = 176).

    Inputs:
    - X: float array (N, D), rows are samples, N >= 1.

    Returns:
    - cov: array (D, D), symmetric, of X's dtype.
    """
    X = contract.covariance(X)
    Xc = X - X.mean(axis=0)  # (N, D), centred
    return Xc.T @ Xc / X.shape[0]  # (D, D)


def whiten(X: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """PCA whitening by SVD of the covariance:

        Xc = X - mean(X);  cov = Xc.T @ Xc / N;  U, S, _ = svd(cov)
        X_white = (Xc @ U) / sqrt(S + eps)

    The columns come in decreasing order of variance; each is unique only up to its sign.
    The covariance of the result is diag(S / (S + eps)), the identity as eps -> 0.

    Inputs:
    - X: float array (N, D), rows are samples, N >= 1.
    - eps: float >= 0, added to the variances before the square root.

    Returns:
    - X_white: array (N, D) of X's dtype.
    """
    X, eps = contract.whiten(X, eps)
    Xc = X - X.mean(axis=0)  # (N, D), a new array: X itself is never centred
    cov = Xc.T @ Xc / X.shape[0]  # (D, D)
    U, S, _ = np.linalg.svd(cov)  # U (D, D), S (D,) in decreasing order
    X_rot = Xc @ U  # (N, D), decorrelated
    return X_rot / np.sqrt(S + eps)  # (N, D)
