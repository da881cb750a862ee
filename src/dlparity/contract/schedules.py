"""Argument contract of the learning-rate schedules (SPEC.md §2, §4).

Each function validates the arguments of the schedule of the same name and returns them
normalised, in signature order: real numbers as Python ``float``, counts as Python ``int``.

- ``lr0``: finite, >= 0.
- ``decay_rate``: finite, >= 0.
- ``epoch``: a real number (int or float), finite, >= 0; > 0 for ``inverse_sqrt_decay``.
- ``base``, ``factor``, ``k``: finite, > 0.
- ``step``, ``start``: integers >= 0; ``every``: an integer >= 1.
"""

from __future__ import annotations

from typing import Any

from dlparity import validate as v
from dlparity.catalogue import names_in

__all__ = names_in("schedules")  # the catalogue's names (dlparity.catalogue)


def _lr0(fn: str, lr0: Any) -> float:
    return v.check_scalar(fn, "lr0", lr0, low=0.0)


def _positive(fn: str, name: str, value: Any) -> float:
    return v.check_scalar(fn, name, value, low=0.0, low_open=True)


def time_based_decay(lr0: Any, decay_rate: Any, epoch: Any) -> tuple[float, float, float]:
    """Validate ``time_based_decay``; return ``(lr0, decay_rate, epoch)`` as floats."""
    fn = "time_based_decay"
    return (
        _lr0(fn, lr0),
        v.check_scalar(fn, "decay_rate", decay_rate, low=0.0),
        v.check_scalar(fn, "epoch", epoch, low=0.0),
    )


def exponential_decay(lr0: Any, epoch: Any, base: Any = 0.95) -> tuple[float, float, float]:
    """Validate ``exponential_decay``; return ``(lr0, epoch, base)`` as floats."""
    fn = "exponential_decay"
    return _lr0(fn, lr0), v.check_scalar(fn, "epoch", epoch, low=0.0), _positive(fn, "base", base)


def inverse_sqrt_decay(lr0: Any, epoch: Any, k: Any) -> tuple[float, float, float]:
    """Validate ``inverse_sqrt_decay``; return ``(lr0, epoch, k)`` as floats (epoch > 0)."""
    fn = "inverse_sqrt_decay"
    return _lr0(fn, lr0), _positive(fn, "epoch", epoch), _positive(fn, "k", k)


def step_decay(
    lr0: Any, step: Any, factor: Any, start: Any, every: Any
) -> tuple[float, int, float, int, int]:
    """Validate ``step_decay``; return ``(lr0, step, factor, start, every)`` with lr0 and
    factor as floats and step, start, every as ints."""
    fn = "step_decay"
    return (
        _lr0(fn, lr0),
        v.check_int(fn, "step", step, low=0),
        _positive(fn, "factor", factor),
        v.check_int(fn, "start", start, low=0),
        v.check_int(fn, "every", every, low=1),
    )
