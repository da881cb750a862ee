"""Weight initialisers drawing from torch's RNG (SPEC.md §2, §4).

Same names, arguments and distributions as ``dlparity.reference.init``: ``(shape, rng,
...)`` with a keyword-only ``dtype`` (float64 by default). The caller's
``numpy.random.Generator`` seeds a ``torch.Generator`` (one draw from ``rng``), so a seed
gives reproducible weights; they are NOT the reference's numbers (another RNG), which
only statistical tests can compare. Values are drawn in float64 on the CPU generator and
cast, so one seed gives the same weights, up to rounding, in every dtype and on every
device.

The std comes from ``dlparity.contract.init.std_for`` (SPEC's (fan_in, fan_out) layout):
``nn.init.kaiming_normal_`` / ``xavier_normal_`` would read the fans from torch's
(out, in, *kernel) layout, so the draws use ``nn.init.normal_`` with that std.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import DTypeLike

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


def _normal(shape: tuple[int, ...], rng: np.random.Generator, std: float,
            dtype: np.dtype) -> np.ndarray:
    """Plain normal(0, std) from torch's RNG (``nn.init.normal_``), drawn in float64,
    returned in ``dtype``."""
    t, g = _blank(shape, rng)
    torch.nn.init.normal_(t, 0.0, std, generator=g)
    return to_numpy(t).astype(dtype, copy=False)


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
    return _normal(shape, rng, contract.std_for(shape, "he"), dtype)


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
    return _normal(shape, rng, contract.std_for(shape, mode), dtype)


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
