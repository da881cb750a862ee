"""Weight initialisers (SPEC.md §2, §4), drawing from a caller's ``numpy.random.Generator``.

All take ``(shape, rng, ...)`` and a keyword-only ``dtype`` (float64 by default); values
are drawn in float64 and cast, so one seed gives the same weights, up to rounding, in
every dtype. Fans (``dlparity.formulas.fans``, shared by every implementation): a 2-D
shape is (fan_in, fan_out); 1-D (n,) has fan_in = fan_out = n; a k-D shape has
fan_in = prod(shape[:-1]), fan_out = shape[-1]. The std formulas are written here: the
parity tests hold torch's and Keras's own initialisers to these draws.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import DTypeLike

from dlparity import formulas
from dlparity.catalogue import names_in
from dlparity.contract import init as contract

__all__ = names_in("init")  # the catalogue's names (dlparity.catalogue)


def he_normal(
    shape: int | tuple[int, ...], rng: np.random.Generator, *, dtype: DTypeLike = np.float64
) -> np.ndarray:
    """He initialisation: a plain normal with mean 0 and std sqrt(2 / fan_in).

    Inputs:
    - shape: tuple of positive ints (an int n means (n,)); for a weight w of shape (D, M),
      fan_in = D.
    - rng: numpy.random.Generator.
    - dtype: floating dtype of the result.

    Returns:
    - w: array of the given shape and dtype.
    """
    shape, rng, dtype = contract.he_normal(shape, rng, dtype=dtype)
    fan_in, _ = formulas.fans(shape)
    std = math.sqrt(2.0 / fan_in)
    return rng.normal(0.0, std, size=shape).astype(dtype, copy=False)  # shape


def xavier_normal(
    shape: int | tuple[int, ...],
    rng: np.random.Generator,
    mode: str = "fan_in",
    *,
    dtype: DTypeLike = np.float64,
) -> np.ndarray:
    """Xavier initialisation: a plain normal with mean 0 and std

    - sqrt(1 / fan_in) for mode='fan_in' (the default);
    - sqrt(2 / (fan_in + fan_out)) for mode='fan_avg' (Glorot's form).

    Inputs:
    - shape: tuple of positive ints (an int n means (n,)).
    - rng: numpy.random.Generator.
    - mode: 'fan_in' or 'fan_avg'.
    - dtype: floating dtype of the result.

    Returns:
    - w: array of the given shape and dtype.
    """
    shape, rng, mode, dtype = contract.xavier_normal(shape, rng, mode, dtype=dtype)
    fan_in, fan_out = formulas.fans(shape)
    if mode == "fan_in":
        std = math.sqrt(1.0 / fan_in)
    else:  # 'fan_avg'
        std = math.sqrt(2.0 / (fan_in + fan_out))
    return rng.normal(0.0, std, size=shape).astype(dtype, copy=False)  # shape


def truncated_normal(
    shape: int | tuple[int, ...],
    rng: np.random.Generator,
    std: float = 1.0,
    mean: float = 0.0,
    *,
    dtype: DTypeLike = np.float64,
) -> np.ndarray:
    """Normal(mean, std) with every value farther than 2 * std from the mean redrawn.

    No rescaling afterwards, so the sample std is about 0.88 * std (as TensorFlow's
    ``truncated_normal``). Only the rejected entries are redrawn, all at once, until none
    is left.

    Inputs:
    - shape: tuple of positive ints (an int n means (n,)).
    - rng: numpy.random.Generator.
    - std: float > 0, the std of the normal before truncation.
    - mean: float.
    - dtype: floating dtype of the result.

    Returns:
    - w: array of the given shape and dtype, with |w - mean| <= 2 * std.
    """
    shape, rng, std, mean, dtype = contract.truncated_normal(shape, rng, std, mean, dtype=dtype)
    z = rng.standard_normal(size=math.prod(shape))  # (prod(shape),), standard normal
    redraw = np.flatnonzero(np.abs(z) > 2.0)  # indices beyond 2 std
    while redraw.size:
        z[redraw] = rng.standard_normal(size=redraw.size)
        redraw = redraw[np.abs(z[redraw]) > 2.0]
    w = mean + std * z.reshape(shape)  # shape
    return w.astype(dtype, copy=False)
