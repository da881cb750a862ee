"""Learning-rate schedules with ``torch.optim.lr_scheduler`` (SPEC.md §2, §4).

Same names and results as ``dlparity.reference.schedules``: pure functions returning
Python floats. Each builds a one-parameter optimizer with lr = lr0 and a ``LambdaLR``
carrying the SPEC factor, resumed at the requested epoch, and reads its learning rate.

Why LambdaLR everywhere: ``ExponentialLR``, ``StepLR`` and ``MultiplicativeLR`` are
recursive (lr *= gamma per step), so reaching step k costs k steps and k roundings;
``LambdaLR`` is closed-form (lr0 * factor(k)) and takes fractional epochs. ``StepLR``
equals ``step_decay`` with start = 0; ``MultiStepLR(milestones=[k])`` changes lr AT
step k, like ``step_decay`` (TF's PiecewiseConstantDecay changes it one step later).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from dlparity.catalogue import names_in
from dlparity.contract import schedules as contract

__all__ = names_in("schedules")  # the catalogue's names (dlparity.catalogue)


def _lambda_lr(lr0: float, factor: Callable[[float], float], epoch: float) -> float:
    """lr0 * factor(epoch), read from a torch LambdaLR resumed at ``epoch``.

    The scheduler counts whole epochs; a fractional part rides in the lambda, so
    factor receives exactly ``epoch``.
    """
    whole = math.floor(epoch)
    frac = epoch - whole  # exact
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
    opt.param_groups[0]["initial_lr"] = lr0  # what a resumed scheduler starts from
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: factor(k + frac), last_epoch=whole - 1
    )  # its construction steps once, to last_epoch = whole
    return float(scheduler.get_last_lr()[0])


def time_based_decay(lr0: float, decay_rate: float, epoch: float) -> float:
    """lr = lr0 / (1 + decay_rate * epoch).

    Inputs: lr0 >= 0, decay_rate >= 0, epoch >= 0 (int or float).
    Returns: the learning rate, a Python float.
    """
    lr0, decay_rate, epoch = contract.time_based_decay(lr0, decay_rate, epoch)
    return _lambda_lr(lr0, lambda e: 1 / (1 + decay_rate * e), epoch)


def exponential_decay(lr0: float, epoch: float, base: float = 0.95) -> float:
    """lr = base**epoch * lr0 (ExponentialLR's closed form).

    Inputs: lr0 >= 0, epoch >= 0 (int or float), base > 0.
    Returns: the learning rate, a Python float.
    """
    lr0, epoch, base = contract.exponential_decay(lr0, epoch, base)
    return _lambda_lr(lr0, lambda e: base**e, epoch)


def inverse_sqrt_decay(lr0: float, epoch: float, k: float) -> float:
    """lr = k / sqrt(epoch) * lr0.

    Inputs: lr0 >= 0, epoch > 0 (int or float), k > 0.
    Returns: the learning rate, a Python float.
    """
    lr0, epoch, k = contract.inverse_sqrt_decay(lr0, epoch, k)
    return _lambda_lr(lr0, lambda e: k / math.sqrt(e), epoch)


def step_decay(lr0: float, step: int, factor: float, start: int, every: int) -> float:
    """lr = lr0 * factor**floor(max(step - start, 0) / every): a staircase whose first decay
    comes at step start + every (StepLR(step_size=every, gamma=factor) delayed by start).

    Inputs: lr0 >= 0, step >= 0 (int), factor > 0, start >= 0 (int), every >= 1 (int).
    Returns: the learning rate, a Python float.
    """
    lr0, step, factor, start, every = contract.step_decay(lr0, step, factor, start, every)
    return _lambda_lr(lr0, lambda s: factor ** (max(s - start, 0) // every), step)
