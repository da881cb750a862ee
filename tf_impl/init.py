"""Weight initialisers drawing from TensorFlow's RNG (SPEC.md §2, §4).

Same names and arguments as ``dlparity.reference.init``: ``(shape, rng, ...)`` and a
keyword-only ``dtype`` (float64 by default). The caller's ``numpy.random.Generator``
seeds a ``tf.random.Generator`` (one draw of ``rng.integers(2**63)``), so one NumPy seed
gives reproducible weights, but NOT the reference's numbers: the two implementations
agree in distribution only (statistical tests). Values are drawn in float64 and cast, as
the reference does. The std of He and Xavier comes from ``dlparity.contract.init.std_for``
(fans as ``dlparity.contract.init.fans``).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from numpy.typing import DTypeLike

from dlparity.catalogue import names_in
from dlparity.contract import init as contract

from . import _convert

__all__ = names_in("init")  # the catalogue's names (dlparity.catalogue)


def _tf_generator(rng: np.random.Generator) -> tf.random.Generator:
    """A TF generator seeded from (and advancing) the caller's NumPy generator."""
    return tf.random.Generator.from_seed(int(rng.integers(2**63)))


def _normal(shape: tuple[int, ...], rng: np.random.Generator, std: float,
            dtype: np.dtype) -> np.ndarray:
    """Plain normal(0, std) from TF's RNG, drawn in float64, returned in ``dtype``."""
    with _convert.device():
        w = _tf_generator(rng).normal(shape, stddev=std, dtype=tf.float64)  # shape
        return _convert.to_numpy(tf.cast(w, dtype))


def he_normal(
    shape: int | tuple[int, ...], rng: np.random.Generator, *, dtype: DTypeLike = np.float64
) -> np.ndarray:
    """He initialisation: a plain normal with mean 0 and std sqrt(2 / fan_in).

    (Not keras.initializers.HeNormal, which is a TRUNCATED normal with a corrected std.)

    Inputs:
    - shape: tuple of positive ints (an int n means (n,)); for a weight w of shape (D, M),
      fan_in = D.
    - rng: numpy.random.Generator (seeds TF's generator).
    - dtype: floating dtype of the result.

    Returns:
    - w: array of the given shape and dtype.
    """
    shape, rng, dtype = contract.he_normal(shape, rng, dtype=dtype)
    return _normal(shape, rng, contract.std_for(shape, "he"), dtype)


def xavier_normal(
    shape: int | tuple[int, ...],
    rng: np.random.Generator,
    mode: str = "fan_in",
    *,
    dtype: DTypeLike = np.float64,
) -> np.ndarray:
    """Xavier initialisation: a plain normal with mean 0 and std
    - sqrt(1 / fan_in) for mode='fan_in' (the default);
    - sqrt(2 / (fan_in + fan_out)) for mode='fan_avg' (Glorot's form; not
      keras.initializers.GlorotNormal, which is truncated).

    Inputs:
    - shape: tuple of positive ints (an int n means (n,)).
    - rng: numpy.random.Generator (seeds TF's generator).
    - mode: 'fan_in' or 'fan_avg'.
    - dtype: floating dtype of the result.

    Returns:
    - w: array of the given shape and dtype.
    """
    shape, rng, mode, dtype = contract.xavier_normal(shape, rng, mode, dtype=dtype)
    return _normal(shape, rng, contract.std_for(shape, mode), dtype)


def truncated_normal(
    shape: int | tuple[int, ...],
    rng: np.random.Generator,
    std: float = 1.0,
    mean: float = 0.0,
    *,
    dtype: DTypeLike = np.float64,
) -> np.ndarray:
    """Normal(mean, std) with every value farther than 2 * std from the mean redrawn:
    tf.random.Generator.truncated_normal, which resamples beyond 2 std and does not
    rescale (sample std about 0.88 * std).

    Inputs:
    - shape: tuple of positive ints (an int n means (n,)).
    - rng: numpy.random.Generator (seeds TF's generator).
    - std: float > 0, the std of the normal before truncation.
    - mean: float.
    - dtype: floating dtype of the result.

    Returns:
    - w: array of the given shape and dtype, with |w - mean| <= 2 * std.
    """
    shape, rng, std, mean, dtype = contract.truncated_normal(shape, rng, std, mean, dtype=dtype)
    with _convert.device():
        w = _tf_generator(rng).truncated_normal(shape, mean=mean, stddev=std,
                                                dtype=tf.float64)  # shape
        return _convert.to_numpy(tf.cast(w, dtype))
