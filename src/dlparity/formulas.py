"""Shared arithmetic, not validation: what every implementation computes the same way on purpose.

``dlparity.contract`` checks arguments and fills defaults; it computes nothing. The few
rules below are arithmetic that the reference, torch_impl and tf_impl deliberately share,
because SPEC.md or the project fixes them to the bit (one seed must give one set of
weights everywhere) or because they are plumbing around each implementation's own ops:

- :func:`fans`: the (fan_in, fan_out) of a weight shape in SPEC's (fan_in, fan_out) layout.
  The initialisers' std formulas are NOT here: the reference writes sqrt(2 / fan_in) and
  friends itself, torch_impl and tf_impl configure their own library's initialisers, so a
  wrong formula in one of them fails the parity tests instead of hiding in a shared helper.
- :func:`perturbed`: the walk of central differences over the entries of the caller's
  array (perturb in place, call f, restore); each implementation does the differences,
  sums and norms with its own ops.
- :func:`seeded_params`: the seeded starting parameters of ``FullyConnectedNet`` and of
  the ``Trainer`` s, one seed giving the same weights in every implementation.
- :func:`dropout_keep_mask`: SPEC §4's seeded keep-mask, which the framework models apply
  so that they drop the reference's units.

Because one copy is shared, a parity test cannot catch a mistake here: the reference's own
tests (``tests/test_init.py``, ``tests/test_gradcheck.py``, ``tests/test_models.py``)
check each rule against values written out in the test from SPEC.md and the rules above.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

__all__ = ["dropout_keep_mask", "fans", "perturbed", "seeded_params"]


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a validated weight shape (SPEC.md §4 "Initialisers").

    - 1-D (n,): fan_in = fan_out = n.
    - 2-D (fan_in, fan_out): the affine layer's w of shape (D, M).
    - k-D (k > 2): fan_in = prod(shape[:-1]), fan_out = shape[-1].
    """
    if len(shape) == 1:
        return shape[0], shape[0]
    return math.prod(shape[:-1]), shape[-1]


def perturbed(
    f: Callable[[np.ndarray], Any], x: np.ndarray, h: float
) -> Iterator[tuple[tuple[int, ...], np.ndarray, np.ndarray]]:
    """For each entry ``ix`` of x in C order: ``(ix, f(x + h e_ix), f(x - h e_ix))``.

    x is perturbed IN PLACE (SPEC §4: the CS231n closure over model parameters must see the
    perturbation) and ``x[ix]`` is restored before the values are yielded, even if f
    raises: on return x holds exactly its original values. The values of f come as NEW
    float64 arrays (0-d for a scalar f; copies, because f may return a view it reuses).
    """
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    for _ in it:
        ix = it.multi_index
        old = x[ix]
        try:
            x[ix] = old + h
            plus = np.array(f(x), dtype=np.float64, copy=True)  # f(x)'s shape
            x[ix] = old - h
            minus = np.array(f(x), dtype=np.float64, copy=True)
        finally:
            x[ix] = old
        yield ix, plus, minus


def seeded_params(
    shapes: Mapping[str, tuple[int, ...]],
    dtype: np.dtype,
    seed: int | None,
    weight_scale: float,
) -> dict[str, np.ndarray]:
    """The seeded starting parameters: ONE rule for every implementation and Trainer.

    ``rng = numpy.random.default_rng(seed)``; for every name of ``shapes`` in order (W1, b1,
    [gamma1, beta1,] W2, ...: ``dlparity.bases.models.parameter_shapes``), a weight
    ``W*`` is ``weight_scale * rng.standard_normal(shape)`` drawn in float64 and then cast
    to dtype; ``gamma*`` are ones, ``b*`` and ``beta*`` zeros. ``seed=None`` draws fresh
    weights.
    """
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in shapes.items():
        if name.startswith("W"):
            w = weight_scale * rng.standard_normal(shape)  # (fan_in, fan_out), float64
            params[name] = w.astype(dtype)
        elif name.startswith("gamma"):
            params[name] = np.ones(shape, dtype=dtype)  # (d_i,)
        else:  # b, beta
            params[name] = np.zeros(shape, dtype=dtype)  # (d_i,)
    return params


def dropout_keep_mask(seed: int | None, shape: tuple[int, ...], p: float) -> np.ndarray:
    """SPEC §4's keep-mask without a given mask: ``default_rng(seed).random(shape) >= p``
    (bool, ``shape``; True = keep)."""
    return np.random.default_rng(seed).random(shape) >= p
