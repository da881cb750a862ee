"""Initialisers by the statistics of a large draw: ONE check, read by the oracle's engine and
by the parity suite (``parity_tests/test_statistics.py``).

An initialiser draws from its framework's own RNG, so it cannot be compared element by
element with the reference. :func:`compare_draw` holds a draw to the REFERENCE's draw of the
same shape: a floating ndarray, finite, with the reference's mean and std within
:data:`Z` standard errors, and, where the reference is truncated, no value beyond the
reference's reach (plus 5 %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Z", "DrawMismatch", "compare_draw"]

#: Five standard errors: a false alarm about once in 1.7 million draws; a wrong variance
#: convention (1/fan_in for 2/fan_in, 41 % in std) is hundreds of standard errors off.
Z = 5.0

#: A reference draw whose values stay within this many stds of its mean is truncated (a
#: 2-std truncated normal reaches ~2.3 sample stds; an untruncated draw of 10^4 values ~4).
TRUNCATED_BELOW = 3.0

#: The slack on the reference's reach when a draw is held to its truncation.
REACH_SLACK = 1.05


@dataclass(frozen=True)
class DrawMismatch:
    """Why a draw is not the reference's distribution.

    - check: ``return type``, ``shape: out``, ``non-finite: out``, ``statistics: mean``,
      ``statistics: std`` or ``statistics: truncation``
    - message: what was received against what the reference gives
    - rel_error: the draw's relative std error for the three ``statistics:`` checks; None
      where no number was compared (type, shape, non-finite)
    """

    check: str
    message: str
    rel_error: float | None = None


def _describe(obj: Any) -> str:
    if isinstance(obj, np.ndarray):
        return f"an ndarray of dtype {obj.dtype} and shape {obj.shape}"
    return f"{type(obj).__module__}.{type(obj).__name__}"


def compare_draw(got: Any, want: np.ndarray) -> tuple[DrawMismatch | None, float]:
    """``got`` (a draw under test) against ``want`` (the reference's draw, same arguments).

    Returns ``(mismatch, rel_std_error)``: ``mismatch`` None when the draw passes;
    ``rel_std_error`` = |std(got) - std(want)| / std(want) (inf when nothing numeric could be
    compared). Dtype is not checked here: the engine notes a dtype difference, the parity
    suite asserts it.
    """
    if not isinstance(got, np.ndarray) or got.dtype.kind != "f":
        return DrawMismatch("return type", "expected a floating ndarray, received "
                            f"{_describe(got)}"), math.inf
    if got.shape != want.shape:
        return DrawMismatch("shape: out", f"shape {got.shape}; the reference's is "
                            f"{want.shape}"), math.inf
    g, w = got.astype(np.float64), want.astype(np.float64)
    if not np.all(np.isfinite(g)):
        return DrawMismatch("non-finite: out", "non-finite values in the draw"), math.inf
    n = g.size
    se_mean = math.sqrt(g.var() / n + w.var() / n)
    se_std = w.std() * math.sqrt(1.0 / n)  # std of a sample std ~ sigma / sqrt(2n), two samples
    err = float(abs(g.std() - w.std()) / max(w.std(), 1e-300))
    if abs(g.mean() - w.mean()) > Z * se_mean:
        return DrawMismatch("statistics: mean", f"sample mean {g.mean():.5g}, the "
                            f"reference's {w.mean():.5g} (> {Z:g} standard errors)", err), err
    if abs(g.std() - w.std()) > Z * se_std:
        return DrawMismatch("statistics: std", f"sample std {g.std():.5g}, the "
                            f"reference's {w.std():.5g} (> {Z:g} standard errors)", err), err
    spread = np.abs(w - w.mean()).max()
    reach = np.abs(g - g.mean()).max()
    if spread < TRUNCATED_BELOW * w.std() and reach > spread * REACH_SLACK:
        return DrawMismatch("statistics: truncation", f"values reach {reach:.4g} from the "
                            f"mean; the reference's reach {spread:.4g}", err), err
    return None, err
