"""Learning-rate schedules (SPEC.md §2, §4): pure functions returning Python floats.

Use one between optimizer calls::

    config["learning_rate"] = exponential_decay(1e-3, epoch)
"""

from __future__ import annotations

import math

from dlparity.catalogue import names_in
from dlparity.contract import schedules as contract

__all__ = names_in("schedules")  # the catalogue's names (dlparity.catalogue)


def time_based_decay(lr0: float, decay_rate: float, epoch: float) -> float:
    """lr = lr0 / (1 + decay_rate * epoch).

    Inputs: lr0 >= 0, decay_rate >= 0, epoch >= 0 (int or float).
    Returns: the learning rate, a Python float.
    """
    lr0, decay_rate, epoch = contract.time_based_decay(lr0, decay_rate, epoch)
    return lr0 / (1 + decay_rate * epoch)


def exponential_decay(lr0: float, epoch: float, base: float = 0.95) -> float:
    """lr = base**epoch * lr0.

    Inputs: lr0 >= 0, epoch >= 0 (int or float), base > 0.
    Returns: the learning rate, a Python float.
    """
    lr0, epoch, base = contract.exponential_decay(lr0, epoch, base)
    return base**epoch * lr0


def inverse_sqrt_decay(lr0: float, epoch: float, k: float) -> float:
    """lr = k / sqrt(epoch) * lr0.

    Inputs: lr0 >= 0, epoch > 0 (int or float), k > 0.
    Returns: the learning rate, a Python float.
    """
    lr0, epoch, k = contract.inverse_sqrt_decay(lr0, epoch, k)
    return k / math.sqrt(epoch) * lr0


def step_decay(lr0: float, step: int, factor: float, start: int, every: int) -> float:
    """A staircase: lr = lr0 * factor**floor(max(step - start, 0) / every).

    lr0 is kept up to step start + every - 1; the first decay comes at step start + every,
    the next at start + 2 * every, ... (the document's "after 10,000 iterations decay by
    0.95 every 20,000": step_decay(lr0, step, 0.95, 10_000, 20_000)).

    Inputs: lr0 >= 0, step >= 0 (int), factor > 0, start >= 0 (int), every >= 1 (int).
    Returns: the learning rate, a Python float.
    """
    lr0, step, factor, start, every = contract.step_decay(lr0, step, factor, start, every)
    decays = max(step - start, 0) // every  # an int: the staircase's level
    return lr0 * factor**decays
