"""Information measures computed with TensorFlow (SPEC.md §2 "Information", §4).

Same names and conventions as ``dlparity.reference.info``: values only, in bits by
default (``base=2``), each distribution along the LAST axis ((K,) gives a scalar, (N, K)
gives N values), p the true distribution. ``tf.math.xlogy`` gives 0 * log 0 = 0.
Arguments are checked by ``dlparity.contract.info`` (no silent renormalisation).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from dlparity.catalogue import names_in
from dlparity.contract import info as contract

from . import _convert

__all__ = names_in("info")  # the catalogue's names (dlparity.catalogue)


def entropy(p: np.ndarray, base: float = 2) -> np.floating | np.ndarray:
    """Entropy H(p) = -sum_k p_k log(p_k), over the last axis.

    Inputs:
    - p: float array (..., K), a probability distribution along the last axis.
    - base: logarithm base, > 0 and != 1 (2: bits, e: nats).

    Returns:
    - h: array (...) of p's dtype (a scalar for a (K,) input).
    """
    p, base = contract.entropy(p, base)
    # "0.0 -" rather than a unary minus: a certain outcome has entropy 0.0, not -0.0
    return _convert.call(
        lambda p: 0.0 - tf.reduce_sum(tf.math.xlogy(p, p), axis=-1) / math.log(base), p
    )


def cross_entropy(p: np.ndarray, q: np.ndarray, base: float = 2) -> np.floating | np.ndarray:
    """Cross-entropy H(p, q) = -sum_k p_k log(q_k), over the last axis.

    Inputs:
    - p: float array (..., K), the true distribution along the last axis.
    - q: float array of p's shape, the distribution the code is built from.
    - base: logarithm base, > 0 and != 1.

    Returns:
    - h: array (...) in the common dtype of p and q (a scalar for (K,) inputs);
      +inf wherever some q_k == 0 while p_k > 0.
    """
    p, q, base = contract.cross_entropy(p, q, base)
    return _convert.call(
        lambda p, q: 0.0 - tf.reduce_sum(tf.math.xlogy(p, q), axis=-1) / math.log(base), p, q
    )


def kl_divergence(p: np.ndarray, q: np.ndarray, base: float = 2) -> np.floating | np.ndarray:
    """Kullback-Leibler divergence KL(p || q) = sum_k p_k (log(p_k) - log(q_k)).

    Inputs:
    - p: float array (..., K), the true distribution along the last axis.
    - q: float array of p's shape, the approximating distribution.
    - base: logarithm base, > 0 and != 1.

    Returns:
    - d: array (...) in the common dtype of p and q (a scalar for (K,) inputs), >= 0;
      +inf wherever some q_k == 0 while p_k > 0.
    """
    p, q, base = contract.kl_divergence(p, q, base)

    def kl(p: tf.Tensor, q: tf.Tensor) -> tf.Tensor:
        terms = tf.math.xlogy(p, p) - tf.math.xlogy(p, q)  # (..., K)
        return tf.reduce_sum(terms, axis=-1) / math.log(base)

    return _convert.call(kl, p, q)
