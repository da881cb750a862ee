"""The argument contract of the information measures (SPEC.md §2 "Information", §4).

One function per public function of the ``info`` module, with the same name and the same
arguments. Each validates its arguments and returns them normalised, as framework-neutral
values (NumPy arrays, Python floats):

=================================  ========================================================
``entropy(p, base=2)``              ``(p, base)``
``cross_entropy(p, q, base=2)``     ``(p, q, base)``, p and q in their common dtype
``kl_divergence(p, q, base=2)``     ``(p, q, base)``, p and q in their common dtype
=================================  ========================================================

* p (and q) are float arrays of rank >= 1 holding distributions along the LAST axis:
  finite, non-negative, summing to 1 within 1e-6 (``validate.check_probabilities``; no
  silent renormalisation). q must have p's shape.
* base is a finite real > 0 other than 1, returned as a Python float.
* p and q are returned in their common dtype (NumPy's promotion), the dtype of the result;
  an array already in that dtype is returned as is (never copied, never written to).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlparity import validate as v
from dlparity.catalogue import names_in

__all__ = names_in("info")  # the catalogue's names (dlparity.catalogue)

def _base(fn: str, base: Any) -> float:
    """A finite logarithm base > 0 and != 1, as a float."""
    base = v.check_scalar(fn, "base", base, low=0.0, low_open=True)
    if base == 1.0:
        raise ValueError(
            f"{fn}: base must not be 1 (log base 1 is undefined); received base={base!r}"
        )
    return base


def _two_distributions(
    fn: str, p: Any, q: Any, base: Any
) -> tuple[np.ndarray, np.ndarray, float]:
    """p and q of one shape, each a distribution along the last axis; and the base."""
    p = v.check_probabilities(fn, "p", p)
    q = v.as_float_array(fn, "q", q, min_ndim=1)
    v.check_same_shape(fn, "p", p, "q", q)
    q = v.check_probabilities(fn, "q", q)
    dtype = v.result_dtype(p, q)
    return p.astype(dtype, copy=False), q.astype(dtype, copy=False), _base(fn, base)


def entropy(p: Any, base: Any = 2) -> tuple[np.ndarray, float]:
    """Validate ``entropy``'s arguments; returns ``(p, base)``.

    p: float array (..., K), a distribution along the last axis; base: > 0, != 1.
    """
    fn = "entropy"
    return v.check_probabilities(fn, "p", p), _base(fn, base)


def cross_entropy(
    p: Any, q: Any, base: Any = 2
) -> tuple[np.ndarray, np.ndarray, float]:
    """Validate ``cross_entropy``'s arguments; returns ``(p, q, base)``.

    p: the true distribution (..., K); q: the coding distribution, p's shape; base: > 0, != 1.
    """
    return _two_distributions("cross_entropy", p, q, base)


def kl_divergence(
    p: Any, q: Any, base: Any = 2
) -> tuple[np.ndarray, np.ndarray, float]:
    """Validate ``kl_divergence``'s arguments; returns ``(p, q, base)``.

    p: the true distribution (..., K); q: the approximating one, p's shape; base: > 0, != 1.
    """
    return _two_distributions("kl_divergence", p, q, base)
