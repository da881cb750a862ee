"""Weight initialisers drawing from torch's RNG (SPEC.md §2, §4).

Same names, arguments and distributions as ``dlparity.reference.init``: ``(shape, rng,
...)`` with a keyword-only ``dtype`` (float64 by default). The caller's
``numpy.random.Generator`` seeds a ``torch.Generator`` (one draw from ``rng``), so a seed
gives reproducible weights; they are NOT the reference's numbers (another RNG), which
only statistical tests can compare. Values are drawn in float64 on the CPU generator and
cast, so one seed gives the same weights, up to rounding, in every dtype and on every
device.

He and Xavier are torch's own ``nn.init.kaiming_normal_`` / ``xavier_normal_``, configured
to SPEC's formulas (``nonlinearity='relu'``: std sqrt(2 / fan_in); ``'linear'``:
sqrt(1 / fan_in); ``xavier_normal_``: sqrt(2 / (fan_in + fan_out))). torch reads the fans
from its (out, in, *kernel) layout, so the values are drawn into a tensor whose torch fans
are SPEC's (``dlparity.formulas.fans`` of the requested shape, (fan_in, fan_out) layout)
and then laid out in the requested shape, as ``nn.Linear.weight`` (out, in) is W.T.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from numpy.typing import DTypeLike

from dlparity import formulas
from dlparity.catalogue import names_in
from dlparity.contract import init as contract

from ._convert import to_numpy

__all__ = names_in("init")  # the catalogue's names (dlparity.catalogue)


def _blank(
    shape: tuple[int, ...], rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Generator]:
    """An uninitialised float64 CPU tensor of ``shape`` and a torch generator seeded by rng."""
    generator = torch.Generator().manual_seed(int(rng.integers(2**63)))
    return torch.empty(shape, dtype=torch.float64), generator


def _torch_fans_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape with as many entries as ``shape`` whose fans, as nn.init reads them
    ((out, in, *kernel): fan_in = in * prod(kernel), fan_out = out * prod(kernel)), are
    SPEC's fans of ``shape``."""
    fan_in, fan_out = formulas.fans(shape)
    if len(shape) == 1:
        return (1, 1, shape[0])  # fan_in = fan_out = n
    return (fan_out, fan_in)  # (out, in)


def _scaled_normal(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    dtype: np.dtype,
    init: Callable[[torch.Tensor, torch.Generator], object],
) -> np.ndarray:
    """``init`` (an nn.init normal initialiser) drawn in float64 into a tensor with SPEC's
    fans of ``shape``, laid out as ``shape`` (W = weight.T), returned in ``dtype``."""
    t, g = _blank(_torch_fans_shape(shape), rng)
    init(t, g)
    w = t.reshape(shape) if len(shape) == 1 else t.T.reshape(shape)  # shape
    return to_numpy(w).astype(dtype, copy=False)


def he_normal(
    shape: int | tuple[int, ...], rng: np.random.Generator, *, dtype: DTypeLike = np.float64
) -> np.ndarray:
    """He initialisation: normal with mean 0 and std sqrt(2 / fan_in).

    Inputs:
    - shape: tuple of positive ints (an int n means (n,)); for w (D, M), fan_in = D
    - rng: numpy.random.Generator (seeds torch's generator)
    - dtype: floating dtype of the result

    Returns:
    - w: array of the given shape and dtype
    """
    shape, rng, dtype = contract.he_normal(shape, rng, dtype=dtype)
    return _scaled_normal(shape, rng, dtype, lambda t, g: torch.nn.init.kaiming_normal_(
        t, mode="fan_in", nonlinearity="relu", generator=g))


def xavier_normal(
    shape: int | tuple[int, ...],
    rng: np.random.Generator,
    mode: str = "fan_in",
    *,
    dtype: DTypeLike = np.float64,
) -> np.ndarray:
    """Xavier initialisation: normal with mean 0 and std sqrt(1 / fan_in) (mode='fan_in'),
    or sqrt(2 / (fan_in + fan_out)) (mode='fan_avg', Glorot's form).

    Inputs:
    - shape: tuple of positive ints (an int n means (n,))
    - rng: numpy.random.Generator (seeds torch's generator)
    - mode: 'fan_in' or 'fan_avg'
    - dtype: floating dtype of the result

    Returns:
    - w: array of the given shape and dtype
    """
    shape, rng, mode, dtype = contract.xavier_normal(shape, rng, mode, dtype=dtype)
    if mode == "fan_in":
        return _scaled_normal(shape, rng, dtype, lambda t, g: torch.nn.init.kaiming_normal_(
            t, mode="fan_in", nonlinearity="linear", generator=g))
    return _scaled_normal(shape, rng, dtype,  # 'fan_avg'
                          lambda t, g: torch.nn.init.xavier_normal_(t, generator=g))


def truncated_normal(
    shape: int | tuple[int, ...],
    rng: np.random.Generator,
    std: float = 1.0,
    mean: float = 0.0,
    *,
    dtype: DTypeLike = np.float64,
) -> np.ndarray:
    """Normal(mean, std) restricted to [mean - 2 std, mean + 2 std], no rescaling (sample
    std about 0.88 * std, as TensorFlow's truncated_normal).

    nn.init.trunc_normal_ takes ABSOLUTE bounds a, b, so they are passed as mean -+ 2 std
    (its defaults -2, 2 cut nothing when std is small). It samples by the inverse CDF rather
    than by redrawing; the distribution is the same.

    Inputs:
    - shape: tuple of positive ints (an int n means (n,))
    - rng: numpy.random.Generator (seeds torch's generator)
    - std: float > 0, the std before truncation
    - mean: float
    - dtype: floating dtype of the result

    Returns:
    - w: array of the given shape and dtype, with |w - mean| <= 2 * std
    """
    shape, rng, std, mean, dtype = contract.truncated_normal(shape, rng, std, mean, dtype=dtype)
    t, g = _blank(shape, rng)
    torch.nn.init.trunc_normal_(t, mean, std, a=mean - 2 * std, b=mean + 2 * std, generator=g)
    return to_numpy(t).astype(dtype, copy=False)
