"""Information measures: entropy, cross-entropy, KL divergence (SPEC.md §2, §4).

Values only (no gradients), in bits by default (``base=2``). Each distribution lies
along the LAST axis: a (K,) input gives a scalar, an (N, K) input gives N values.
p is the true distribution; 0 * log 0 = 0. Arguments are checked by
``dlparity.contract.info``: p and q must be non-negative and sum to 1 along the last axis
(within 1e-6) -- there is no silent renormalisation.

Worked examples from the documents: a fair coin has 1 bit of entropy; the string "abcc"
(frequencies 1/4, 1/4, 1/2) has 1.5 bits per character.
"""

from __future__ import annotations

import math

import numpy as np

from dlparity.catalogue import names_in
from dlparity.contract import info as contract

__all__ = names_in("info")  # the catalogue's names (dlparity.catalogue)


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x * log(y) elementwise (natural log), with 0 wherever x == 0 (so 0 * log 0 = 0).

    Where x > 0 and y == 0 the entry is -inf; no warning is raised either way.
    """
    log_y = np.log(y, out=np.full_like(y, -np.inf), where=y > 0)  # y's shape
    return np.multiply(x, log_y, out=np.zeros_like(log_y), where=x > 0)  # y's shape


def entropy(p: np.ndarray, base: float = 2) -> np.floating | np.ndarray:
    """Entropy H(p) = -sum_k p_k log(p_k), over the last axis.

    Inputs:
    - p: float array (..., K), a probability distribution along the last axis.
    - base: logarithm base, > 0 and != 1 (2: bits, e: nats).

    Returns:
    - h: array (...) of p's dtype (a scalar for a (K,) input).
    """
    p, base = contract.entropy(p, base)
    # math.log gives a Python float, so a float32 p stays float32; "0.0 -" rather than a
    # unary minus, so a certain outcome has entropy 0.0, not -0.0
    return 0.0 - np.sum(_xlogy(p, p), axis=-1) / math.log(base)


def cross_entropy(p: np.ndarray, q: np.ndarray, base: float = 2) -> np.floating | np.ndarray:
    """Cross-entropy H(p, q) = -sum_k p_k log(q_k), over the last axis.

    Inputs:
    - p: float array (..., K), the true distribution along the last axis.
    - q: float array of p's shape, the distribution the code is built from.
    - base: logarithm base, > 0 and != 1.

    Returns:
    - h: array (...) in the common dtype of p and q (a scalar for (K,) inputs);
      +inf wherever some q_k == 0 while p_k > 0 (the code has no word for that symbol).
    """
    p, q, base = contract.cross_entropy(p, q, base)
    return 0.0 - np.sum(_xlogy(p, q), axis=-1) / math.log(base)


def kl_divergence(p: np.ndarray, q: np.ndarray, base: float = 2) -> np.floating | np.ndarray:
    """Kullback-Leibler divergence KL(p || q) = sum_k p_k (log(p_k) - log(q_k)).

    Equal to cross_entropy(p, q) - entropy(p): the extra bits paid for coding p with q.

    Inputs:
    - p: float array (..., K), the true distribution along the last axis.
    - q: float array of p's shape, the approximating distribution.
    - base: logarithm base, > 0 and != 1.

    Returns:
    - d: array (...) in the common dtype of p and q (a scalar for (K,) inputs), >= 0;
      +inf wherever some q_k == 0 while p_k > 0.
    """
    p, q, base = contract.kl_divergence(p, q, base)
    return np.sum(_xlogy(p, p) - _xlogy(p, q), axis=-1) / math.log(base)
