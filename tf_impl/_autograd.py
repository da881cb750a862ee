"""The one autograd helper of ``dlparity.tf_impl``: record a forward, replay its VJP.

Every forward function of ``tf_impl`` runs its TF computation through ``record``, which
keeps a persistent ``tf.GradientTape`` together with the watched inputs and the output in
the (opaque) cache; every backward is ``vjp(fn, dout, cache)``, i.e.
``tape.gradient(out, inputs, output_gradients=dout)`` -- never a hand-written formula.
Losses use ``value_and_grad`` (the upstream gradient of a scalar loss is 1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf

from dlparity import validate as v

from . import _convert


class Recording(NamedTuple):
    """A forward pass on a persistent tape: the cache of every tf_impl layer."""

    tape: tf.GradientTape
    inputs: tuple[tf.Tensor, ...]  # the watched inputs, in the order backward returns them
    output: tf.Tensor


def record(
    fn: Callable[..., tf.Tensor], inputs: Sequence[Any], constants: Sequence[Any] = ()
) -> tuple[Any, Recording]:
    """Run ``fn(*inputs, *constants)`` on the current device with ``inputs`` watched.

    ``inputs`` and ``constants`` are NumPy arrays (converted here, each in its own dtype)
    or tensors. ``fn`` returns the output tensor, or a tuple whose FIRST entry is the output
    (the rest are side results, e.g. batch statistics). Returns what ``fn`` returned, as
    TENSORS (callers convert), and the recording.
    """
    with _convert.device():
        watched = tuple(_as_tensor(a) for a in inputs)
        fixed = tuple(_as_tensor(a) for a in constants)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(watched)
            result = fn(*watched, *fixed)
    out = result[0] if isinstance(result, tuple) else result
    return result, Recording(tape, watched, out)


def vjp(fn: str, dout: Any, cache: Recording) -> tuple[np.ndarray, ...]:
    """Gradients of ``cache.output`` w.r.t. every watched input, with upstream ``dout``.

    ``dout`` is checked against the forward output's shape (``validate.check_dout``, error
    messages name ``fn``) and cast to the output's dtype for the tape. Each gradient has its
    input's shape (zeros for an input the output does not depend on) and NumPy's promotion
    of its input's dtype and dout's (as the reference: float64 dout, float64 gradient).
    """
    dout = v.check_dout(fn, dout, tuple(cache.output.shape))
    with _convert.device():
        grads = cache.tape.gradient(
            cache.output,
            list(cache.inputs),
            output_gradients=_convert.to_tensor(dout, cache.output.dtype.as_numpy_dtype),
            unconnected_gradients=tf.UnconnectedGradients.ZERO,
        )
        grads = [tf.convert_to_tensor(g) for g in grads]  # dense (gather gives IndexedSlices)
        grads = [tf.cast(g, np.result_type(g.dtype.as_numpy_dtype, dout.dtype)) for g in grads]
    return tuple(_convert.to_numpy(g) for g in grads)


def value_and_grad(
    fn: Callable[..., tf.Tensor], inputs: Sequence[Any], constants: Sequence[Any] = ()
) -> tuple[Any, tuple[np.ndarray, ...]]:
    """A scalar ``fn(*inputs, *constants)`` and its gradients w.r.t. ``inputs`` (NumPy)."""
    out, cache = record(fn, inputs, constants)
    grads = vjp("value_and_grad", np.ones((), out.dtype.as_numpy_dtype), cache)
    return _convert.to_numpy(out), grads


def _as_tensor(a: Any) -> tf.Tensor:
    return a if isinstance(a, tf.Tensor) else _convert.to_tensor(a)
