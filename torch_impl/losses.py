"""Data losses and weight regularisers computed with PyTorch (SPEC.md §2 "Losses", §4).

Same names and results as ``dlparity.reference.losses``: a data loss returns
``(loss, grad)``, the loss averaged over the N samples (a NumPy scalar of the input dtype)
and its gradient with respect to the FIRST argument, computed by autograd; the
regularisers return ``(value, dw)``; ``l0_norm`` returns a Python int. Arguments are
checked by ``dlparity.contract.losses``. torch's stock losses are used where they can be
configured to the SPEC formula; each deviation says why in one line.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from dlparity.catalogue import names_in
from dlparity.contract import losses as contract

from ._convert import to_numpy, to_scalar, to_tensor

__all__ = names_in("losses")  # the catalogue's names (dlparity.catalogue)

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _value_and_grad(loss_fn: LossFn, first: np.ndarray, second: object) -> tuple:
    """``loss_fn(first, second)`` and its gradient with respect to ``first`` by autograd.

    Returns (loss as a NumPy scalar of first's dtype, gradient of first's shape and dtype).
    """
    a = to_tensor(first, requires_grad=True)
    b = to_tensor(second) if isinstance(second, np.ndarray) else second
    loss = loss_fn(a, b)  # 0-d
    (grad,) = torch.autograd.grad(loss, a)
    return to_scalar(loss), to_numpy(grad)


# ------------------------------------------------------------------------ data losses


def mse_loss(h: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Mean square error: (1/N) * sum((h - y)**2), squared errors summed over K.

    F.mse_loss with reduction='sum', divided by N: its 'mean' divides by N*K.

    Inputs:
    - h: predictions (N,) or (N, K)
    - y: targets, h's shape

    Returns:
    - loss: scalar
    - dh: gradient with respect to h, h's shape
    """
    h, y = contract.mse_loss(h, y)
    return _value_and_grad(lambda a, b: F.mse_loss(a, b, reduction="sum") / a.shape[0], h, y)


def softmax_loss(x: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Softmax cross-entropy on logits, averaged over N: F.cross_entropy (mean).

    Inputs:
    - x: logits (N, C)
    - y: integer labels (N,), 0 <= y[i] < C

    Returns:
    - loss: scalar -(1/N) * sum_i log softmax(x)[i, y[i]]
    - dx: gradient with respect to x, (N, C)
    """
    x, y = contract.softmax_loss(x, y)
    return _value_and_grad(F.cross_entropy, x, y)


def nll_loss(logp: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Negative log-likelihood of log-probabilities, averaged over N: F.nll_loss (mean).

    Inputs:
    - logp: log-probabilities (N, C)
    - y: integer labels (N,), 0 <= y[i] < C

    Returns:
    - loss: scalar -(1/N) * sum_i logp[i, y[i]]
    - dlogp: gradient with respect to logp, (N, C)
    """
    logp, y = contract.nll_loss(logp, y)
    return _value_and_grad(F.nll_loss, logp, y)


def sigmoid_cross_entropy_loss(x: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Binary cross-entropy on logits: summed over K, averaged over N.

    F.binary_cross_entropy_with_logits with reduction='sum', divided by N: its 'mean'
    divides by N*K.

    Inputs:
    - x: logits (N,) or (N, K)
    - y: targets in [0, 1], x's shape

    Returns:
    - loss: scalar (1/N) * sum(max(x, 0) - x * y + log(1 + exp(-|x|)))
    - dx: gradient with respect to x, x's shape
    """
    x, y = contract.sigmoid_cross_entropy_loss(x, y)

    def loss_fn(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(a, b, reduction="sum") / a.shape[0]

    return _value_and_grad(loss_fn, x, y)


def svm_loss(x: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Multiclass hinge loss (1/N) * sum_i sum_{j != y_i} max(0, x_ij - x_{i,y_i} + 1).

    F.multi_margin_loss (margin 1, reduction='sum') times C / N: torch divides each
    sample's sum by the class count C. Its gradient at a margin of exactly 0 is 0.

    Inputs:
    - x: scores (N, C)
    - y: integer labels (N,), 0 <= y[i] < C

    Returns:
    - loss: scalar
    - dx: gradient with respect to x, (N, C)
    """
    x, y = contract.svm_loss(x, y)

    def loss_fn(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        n, c = a.shape
        return F.multi_margin_loss(a, b, margin=1.0, reduction="sum") * (c / n)

    return _value_and_grad(loss_fn, x, y)


def kl_div_loss(log_q: np.ndarray, p: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """KL-divergence loss (1/N) * sum(p * (log p - log_q)); terms with p == 0 are 0.

    F.kl_div with reduction='batchmean' (its 'mean' divides by N*K). log_q is zeroed
    where p == 0 first: F.kl_div computes 0 * log_q there, NaN for log_q = -inf.

    Inputs:
    - log_q: log-probabilities (N,) or (N, K)
    - p: target probabilities, log_q's shape

    Returns:
    - loss: scalar
    - dlog_q: gradient with respect to log_q, -p / N, log_q's shape
    """
    log_q, p = contract.kl_div_loss(log_q, p)

    def loss_fn(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return F.kl_div(torch.where(b > 0, a, 0.0), b, reduction="batchmean")

    return _value_and_grad(loss_fn, log_q, p)


# ------------------------------------------------------------------------ regularisers


def l2_regularization(w: np.ndarray, reg: float) -> tuple[np.floating, np.ndarray]:
    """L2 weight penalty 0.5 * reg * sum(w**2), gradient reg * w by autograd.

    Inputs:
    - w: weights, any shape
    - reg: strength >= 0

    Returns:
    - value: scalar
    - dw: w's shape
    """
    w, reg = contract.l2_regularization(w, reg)
    return _value_and_grad(lambda a, r: 0.5 * r * torch.sum(a * a), w, reg)


def l1_regularization(w: np.ndarray, reg: float) -> tuple[np.floating, np.ndarray]:
    """L1 weight penalty reg * sum(|w|), subgradient reg * sign(w) (0 at 0) by autograd.

    Inputs:
    - w: weights, any shape
    - reg: strength >= 0

    Returns:
    - value: scalar
    - dw: w's shape
    """
    w, reg = contract.l1_regularization(w, reg)
    return _value_and_grad(lambda a, r: r * torch.sum(torch.abs(a)), w, reg)


def l0_norm(w: np.ndarray) -> int:
    """The number of non-zero entries of w (torch.count_nonzero); no gradient.

    Inputs:
    - w: numeric or bool array, any shape

    Returns:
    - count: Python int
    """
    w = contract.l0_norm(w)
    return int(torch.count_nonzero(to_tensor(w)).item())
