"""Feature preprocessing computed with PyTorch (SPEC.md §2, §4).

Same names and results as ``dlparity.reference.preprocess``: feature scaling, running
mean, covariance (1/N) and PCA whitening (``torch.linalg.svd``). Data matrices are
(N, D), one sample per row; no function writes to its inputs.
"""

from __future__ import annotations

import numpy as np
import torch

from dlparity.catalogue import names_in
from dlparity.contract import preprocess as contract

from ._convert import to_numpy, to_tensor

__all__ = names_in("preprocess")  # the catalogue's names (dlparity.catalogue)


def _centred(X: torch.Tensor) -> torch.Tensor:
    """X minus its per-feature mean, (N, D)."""
    return X - X.mean(dim=0)


def _covariance(Xc: torch.Tensor) -> torch.Tensor:
    """(1/N) Xc^T Xc of a centred (N, D) matrix, (D, D)."""
    return Xc.T @ Xc / Xc.shape[0]


def normalize_features(X_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Scale every feature to zero mean and unit variance with the TRAINING statistics.

    z = (x - mu) / sigma with X_train's per-feature mean and population std (ddof 0);
    a feature constant in X_train (max == min) gets sigma = 1.

    Inputs:
    - X_train: (N, D), N >= 1
    - others: (N_i, D) each, e.g. X_val, X_test

    Returns:
    - (X_train_normalised, *others_normalised), new arrays of their inputs' shapes and dtypes
    """
    X_train, others = contract.normalize_features(X_train, *others)
    Xt = to_tensor(X_train)  # (N, D)
    sigma, mu = torch.std_mean(Xt, dim=0, correction=0)  # (D,), (D,)
    constant = Xt.amax(dim=0) == Xt.amin(dim=0)  # (D,)
    sigma = torch.where(constant, torch.ones_like(sigma), sigma)  # (D,)
    return tuple(
        to_numpy((to_tensor(X) - mu) / sigma).astype(X.dtype, copy=False)
        for X in (X_train, *others)
    )


def running_mean_update(mu: np.ndarray | float, x: np.ndarray | float,
                        k: float) -> np.ndarray | float:
    """One step of the running mean: mu + k * (x - mu).

    Inputs:
    - mu: the running mean so far, a Python number or an array of any shape
    - x: the new observation, of mu's form
    - k: float in (0, 1]

    Returns:
    - the updated mean: a Python float for Python numbers, else a new array of mu's shape
    """
    mu, x, k, as_float = contract.running_mean_update(mu, x, k)
    mu_t = to_tensor(mu)
    return contract.running_mean_result(to_numpy(mu_t + k * (to_tensor(x) - mu_t)), as_float)


def covariance(X: np.ndarray) -> np.ndarray:
    """Covariance of the features normalised by 1/N (the worked example gives 176).

    Inputs:
    - X: (N, D), rows are samples

    Returns:
    - cov: (D, D), symmetric, X's dtype
    """
    X = contract.covariance(X)
    return to_numpy(_covariance(_centred(to_tensor(X))))


def whiten(X: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """PCA whitening: Xc = X - mean; U, S = svd(Xc^T Xc / N); X_white = Xc U / sqrt(S + eps).

    Each column is unique only up to its sign (compare with that freedom).

    Inputs:
    - X: (N, D), rows are samples
    - eps: float >= 0

    Returns:
    - X_white: (N, D), X's dtype, columns in decreasing order of variance
    """
    X, eps = contract.whiten(X, eps)
    Xc = _centred(to_tensor(X))  # (N, D)
    U, S, _ = torch.linalg.svd(_covariance(Xc))  # (D, D), (D,)
    return to_numpy(Xc @ U / torch.sqrt(S + eps))  # (N, D)
