"""The one backward of ``dlparity.torch_impl``: a vector-Jacobian product by autograd.

A forward builds its output from autograd leaves (``leaves``) and keeps the graph in its
cache (``Graph``); the matching backward is then one line, ``vjp(fn, dout, cache)``:
``torch.autograd.grad(out, inputs, grad_outputs=dout)``, never a hand-written formula.
``retain_graph=True`` lets a cache be used by several backward calls, as a NumPy cache can.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from dlparity import validate as v

from ._convert import to_numpy, to_tensor

__all__ = ["Graph", "leaves", "vjp"]


class Graph(NamedTuple):
    """An opaque cache: the forward output and the leaves it was computed from."""

    out: torch.Tensor
    inputs: tuple[torch.Tensor, ...]


def leaves(*arrays: np.ndarray) -> tuple[torch.Tensor, ...]:
    """Autograd leaves for ``arrays``, all in their common dtype (NumPy's promotion)."""
    dtype = v.result_dtype(*arrays)
    return tuple(to_tensor(a, requires_grad=True, dtype=dtype) for a in arrays)


def vjp(fn: str, dout: np.ndarray, cache: Graph) -> tuple[np.ndarray, ...]:
    """Gradients of ``sum(cache.out * dout)`` with respect to every input in the cache.

    Inputs:
    - fn: the calling backward's name (for the error message when dout is wrong).
    - dout: upstream gradient, the forward output's shape.
    - cache: the forward's ``Graph``.

    Returns:
    - one NumPy array per cached input, of that input's shape and dtype (zeros for an
      input the output does not depend on).
    """
    dout = v.check_dout(fn, dout, tuple(cache.out.shape))
    grads = torch.autograd.grad(
        cache.out,
        cache.inputs,
        grad_outputs=to_tensor(dout).to(cache.out.dtype),
        retain_graph=True,
        materialize_grads=True,
    )
    return tuple(to_numpy(g) for g in grads)
