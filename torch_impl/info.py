"""Information measures computed with PyTorch (SPEC.md §2 "Information", §4).

Same names and results as ``dlparity.reference.info``: values only, in bits by default,
each distribution along the LAST axis (a (K,) input gives a NumPy scalar, (N, K) gives N
values), 0 * log 0 = 0. Arguments are checked by ``dlparity.contract.info``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from dlparity.catalogue import names_in
from dlparity.contract import info as contract

from ._convert import to_numpy, to_tensor

__all__ = names_in("info")  # the catalogue's names (dlparity.catalogue)


def _result(t: torch.Tensor) -> np.floating | np.ndarray:
    """A NumPy scalar for a 0-d result, else an array."""
    return to_numpy(t)[()]


def entropy(p: np.ndarray, base: float = 2) -> np.floating | np.ndarray:
    """Entropy H(p) = -sum_k p_k log(p_k) over the last axis (torch.special.entr).

    Inputs:
    - p: (..., K), a distribution along the last axis
    - base: logarithm base, > 0 and != 1

    Returns:
    - h: (...) in p's dtype (a scalar for a (K,) input)
    """
    p, base = contract.entropy(p, base)
    h = torch.special.entr(to_tensor(p)).sum(dim=-1)  # (...), nats; entr(0) = 0
    return _result(h / math.log(base))


def cross_entropy(p: np.ndarray, q: np.ndarray, base: float = 2) -> np.floating | np.ndarray:
    """Cross-entropy H(p, q) = -sum_k p_k log(q_k) over the last axis (torch.special.xlogy).

    Inputs:
    - p: (..., K), the true distribution; q: p's shape
    - base: logarithm base, > 0 and != 1

    Returns:
    - h: (...) in the common dtype of p and q; +inf where q_k == 0 while p_k > 0
    """
    p, q, base = contract.cross_entropy(p, q, base)
    h = -torch.special.xlogy(to_tensor(p), to_tensor(q)).sum(dim=-1)  # (...), nats
    return _result(h / math.log(base))


def kl_divergence(p: np.ndarray, q: np.ndarray, base: float = 2) -> np.floating | np.ndarray:
    """KL(p || q) = sum_k p_k (log p_k - log q_k) over the last axis.

    Written with torch.special.xlogy rather than F.kl_div(log q, p), which gives
    0 * log 0 = NaN where p_k = q_k = 0 (SPEC: such a term is 0).

    Inputs:
    - p: (..., K), the true distribution; q: p's shape
    - base: logarithm base, > 0 and != 1

    Returns:
    - d: (...) in the common dtype of p and q, >= 0; +inf where q_k == 0 while p_k > 0
    """
    p, q, base = contract.kl_divergence(p, q, base)
    pt, qt = to_tensor(p), to_tensor(q)
    d = (torch.special.xlogy(pt, pt) - torch.special.xlogy(pt, qt)).sum(dim=-1)  # (...)
    return _result(d / math.log(base))
