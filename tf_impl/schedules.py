"""Learning-rate schedules with ``keras.optimizers.schedules`` (SPEC.md §2, §4).

Pure functions returning Python floats, same names and arguments as
``dlparity.reference.schedules``. The stock Keras schedules are used where one exists,
configured to compute in float64: their hyper-parameters are passed as ``np.float64``
(Keras converts a Python float to a float32 tensor, 2.5e-8 relative error).

Keras's ``PiecewiseConstantDecay([k], ...)`` changes the rate AFTER step k (one step later
than torch's ``MultiStepLR``); ``step_decay`` is ``ExponentialDecay(staircase=True)`` and
its first decay comes at step ``start + every`` as SPEC §4 says.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from keras.optimizers import schedules

from dlparity.catalogue import names_in
from dlparity.contract import schedules as contract

from . import _convert

__all__ = names_in("schedules")  # the catalogue's names (dlparity.catalogue)


def _evaluate(schedule: schedules.LearningRateSchedule, step: float) -> float:
    """The schedule's learning rate at ``step``, as a Python float."""
    with _convert.device():
        return float(_convert.to_numpy(schedule(np.float64(step))))


def time_based_decay(lr0: float, decay_rate: float, epoch: float) -> float:
    """lr = lr0 / (1 + decay_rate * epoch): InverseTimeDecay with decay_steps=1.

    Inputs: lr0 >= 0, decay_rate >= 0, epoch >= 0 (int or float).
    Returns: the learning rate, a Python float.
    """
    lr0, decay_rate, epoch = contract.time_based_decay(lr0, decay_rate, epoch)
    schedule = schedules.InverseTimeDecay(np.float64(lr0), 1, np.float64(decay_rate))
    return _evaluate(schedule, epoch)


def exponential_decay(lr0: float, epoch: float, base: float = 0.95) -> float:
    """lr = base**epoch * lr0: ExponentialDecay with decay_steps=1.

    Inputs: lr0 >= 0, epoch >= 0 (int or float), base > 0.
    Returns: the learning rate, a Python float.
    """
    lr0, epoch, base = contract.exponential_decay(lr0, epoch, base)
    schedule = schedules.ExponentialDecay(np.float64(lr0), 1, np.float64(base))
    return _evaluate(schedule, epoch)


def inverse_sqrt_decay(lr0: float, epoch: float, k: float) -> float:
    """lr = k / sqrt(epoch) * lr0, with tf ops in float64 (Keras has no such schedule).

    Inputs: lr0 >= 0, epoch > 0 (int or float), k > 0.
    Returns: the learning rate, a Python float.
    """
    lr0, epoch, k = contract.inverse_sqrt_decay(lr0, epoch, k)
    lr = _convert.call(lambda e: k / tf.sqrt(e) * lr0, np.float64(epoch))
    return float(lr)


def step_decay(lr0: float, step: int, factor: float, start: int, every: int) -> float:
    """A staircase: lr = lr0 * factor**floor(max(step - start, 0) / every).

    ExponentialDecay(decay_steps=every, staircase=True) evaluated at max(step - start, 0):
    lr0 up to step start + every - 1, the first decay at step start + every.

    Inputs: lr0 >= 0, step >= 0 (int), factor > 0, start >= 0 (int), every >= 1 (int).
    Returns: the learning rate, a Python float.
    """
    lr0, step, factor, start, every = contract.step_decay(lr0, step, factor, start, every)
    schedule = schedules.ExponentialDecay(np.float64(lr0), every, np.float64(factor),
                                          staircase=True)
    return _evaluate(schedule, max(step - start, 0))
