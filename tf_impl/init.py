"""Weight initialisers drawing from TensorFlow's RNG (SPEC.md §2, §4).

Same names and arguments as ``dlparity.reference.init``: ``(shape, rng, ...)`` and a
keyword-only ``dtype`` (float64 by default). One draw from the caller's
``numpy.random.Generator`` seeds TensorFlow's RNG (a Keras initialiser's seed, or a
``tf.random.Generator`` for ``truncated_normal``), so one NumPy seed gives reproducible
weights, but NOT the reference's numbers: the two implementations agree in distribution
only (statistical tests). Values are drawn in float64 and cast, as the reference does.

He and Xavier are Keras's own ``keras.initializers.VarianceScaling`` with
``distribution='untruncated_normal'`` (a plain normal of std sqrt(scale / n)) configured
to SPEC's formulas: scale 2, mode 'fan_in' (He); scale 1, mode 'fan_in' or 'fan_avg'
(Xavier). Keras reads the fans of a 1-D or 2-D shape as SPEC does; a k-D shape (Keras:
a convolution kernel) is drawn as its 2-D (fan_in, fan_out) matrix
(``dlparity.formulas.fans``) and reshaped. ``keras.initializers.HeNormal`` and
``GlorotNormal`` are TRUNCATED normals, not SPEC's plain ones.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from numpy.typing import DTypeLike

from dlparity import formulas
from dlparity.catalogue import names_in
from dlparity.contract import init as contract

from . import _convert

__all__ = names_in("init")  # the catalogue's names (dlparity.catalogue)


def _tf_generator(rng: np.random.Generator) -> tf.random.Generator:
    """A TF generator seeded from (and advancing) the caller's NumPy generator."""
    return tf.random.Generator.from_seed(int(rng.integers(2**63)))


def _variance_scaling(shape: tuple[int, ...], rng: np.random.Generator, scale: float,
                      mode: str, dtype: np.dtype) -> np.ndarray:
    """A plain normal of std sqrt(scale / n) (n: fan_in or the fans' mean), drawn by
    ``keras.initializers.VarianceScaling`` in float64 (seeded from ``rng``), in ``dtype``."""
    init = keras.initializers.VarianceScaling(
        scale=scale, mode=mode, distribution="untruncated_normal",
        seed=int(rng.integers(2**32)),  # Keras keeps a seed's low 32 bits
    )
    keras_shape = shape if len(shape) <= 2 else formulas.fans(shape)  # Keras's fans = SPEC's
    with _convert.device():
        w = tf.reshape(init(keras_shape, dtype="float64"), shape)  # shape
        return _convert.to_numpy(tf.cast(w, dtype))


def he_normal(
    shape: int | tuple[int, ...], rng: np.random.Generator, *, dtype: DTypeLike = np.float64
) -> np.ndarray:
    """He initialisation: a plain normal with mean 0 and std sqrt(2 / fan_in).

    keras.initializers.VarianceScaling(2.0, 'fan_in', 'untruncated_normal'): not
    keras.initializers.HeNormal, which is a TRUNCATED normal with a corrected std.

    Inputs:
    - shape: tuple of positive ints (an int n means (n,)); for a weight w of shape (D, M),
      fan_in = D.
    - rng: numpy.random.Generator (seeds TF's generator).
    - dtype: floating dtype of the result.

    Returns:
    - w: array of the given shape and dtype.
    """
    shape, rng, dtype = contract.he_normal(shape, rng, dtype=dtype)
    return _variance_scaling(shape, rng, 2.0, "fan_in", dtype)


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
    return _variance_scaling(shape, rng, 1.0, mode, dtype)


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
