"""The TensorFlow side of ``dlparity bench --profile`` (``breakdown.py``): tf.profiler over a
few training steps of a fresh Trainer, its XPlane trace read back, every op sorted into a
part of the step.

The profiled Trainer is a new one of the same mode whose optimizer update runs under
``tf.name_scope('dlp_optimizer')`` and a ``tf.profiler.experimental.Trace('dlp_optimizer')``
(its ``update.apply`` wrapped before the first trace), so its ops can be told apart: by
node name in a tf.function graph, by the HLO op's ``op_name`` in an XLA cluster, by the
enclosing trace span in eager mode. Per op (its duration):

- **gemm**: op types containing ``MatMul`` (oneDNN's ``_MklMatMul``,
  ``_MklNativeFusedMatMul`` with its fused bias/ReLU; XLA's dot thunks);
- **optimizer**: the ops of ``dlp_optimizer``;
- **elementwise**: every other compute op;
- variable reads/assignments, identities and the executor's own events are left to the
  overhead; the boundary (``tf.constant`` of the batch) is timed alone in ``breakdown.py``.
"""

from __future__ import annotations

import glob
import re
import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["conversion_call", "instrument", "parse_xspace", "profile_steps"]

SCOPE = "dlp_optimizer"
BOOKKEEPING_OPS = {"ReadVariableOp", "AssignVariableOp", "AssignAddVariableOp",
                   "AssignSubVariableOp", "Identity", "IdentityN", "NoOp", "Const", "_Arg",
                   "_Retval", "VarHandleOp", "Shape", "Reshape", "StopGradient"}


def instrument(trainer: Any) -> Any:
    """Wrap ``trainer.update.apply`` so the update's ops carry the ``dlp_optimizer`` scope
    (call before the trainer's first step)."""
    import tensorflow as tf

    apply = trainer.update.apply

    def scoped_apply(grads: list) -> Any:
        with tf.name_scope(SCOPE), tf.profiler.experimental.Trace(SCOPE):
            return apply(grads)

    trainer.update.apply = scoped_apply
    return trainer


def _part(op_type: str, in_optimizer: bool) -> str | None:
    if "MatMul" in op_type or op_type.startswith("dot") or "matmul" in op_type:
        return "gemm"
    if op_type in BOOKKEEPING_OPS:
        return None
    return "optimizer" if in_optimizer else "elementwise"


def _hlo_op_names(trainer: Any, X: Any, y: Any) -> dict[str, str]:
    """HLO instruction name -> the TF op_name it came from, for an XLA-compiled step."""
    try:
        hlo = trainer._train_step.experimental_get_compiler_ir(X, y)(stage="optimized_hlo")
    except Exception:  # no IR for this mode or TF version: parts by op type only
        return {}
    out = {}
    for m in re.finditer(r"%?([\w.\-]+) = [^\n]*?op_name=\"([^\"]*)\"", hlo):
        out[m.group(1)] = m.group(2)
    return out


def parse_xspace(path: str, steps: int, hlo_names: dict[str, str] | None = None
                 ) -> dict[str, float]:
    """Milliseconds per step per part from an ``.xplane.pb`` written by tf.profiler."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    with open(path, "rb") as f:
        space.ParseFromString(f.read())
    parts = {"gemm": 0.0, "elementwise": 0.0, "optimizer": 0.0}
    hlo_names = hlo_names or {}
    for plane in space.planes:
        names = {k: v.name for k, v in plane.event_metadata.items()}
        stat_names = {k: v.name for k, v in plane.stat_metadata.items()}
        for line in plane.lines:
            events = sorted(line.events, key=lambda e: e.offset_ps)
            spans = [(e.offset_ps, e.offset_ps + e.duration_ps) for e in events
                     if names.get(e.metadata_id) == SCOPE]
            for e in events:
                part = _event_part(names.get(e.metadata_id, ""), e, stat_names, spans,
                                   hlo_names, line.name)
                if part is not None:
                    parts[part] += e.duration_ps / 1e9  # ps -> ms
    return {k: v / steps for k, v in parts.items()}


def _event_part(name: str, event: Any, stat_names: dict[int, str],
                spans: list[tuple[int, int]], hlo_names: dict[str, str],
                line: str) -> str | None:
    """The part of one XPlane event (None: not an op, or bookkeeping)."""
    in_span = any(a <= event.offset_ps < b for a, b in spans)
    if name.startswith("EagerLocalExecute: ") and not name.startswith(
            "EagerLocalExecute: __inference"):  # eager: one event per op
        return _part(name.split(": ", 1)[1], in_span)
    if line.startswith("tf_Compute") and ":" in name and "::" not in name:  # node:OpType
        node, op_type = name.rsplit(":", 1)
        return _part(op_type, node.startswith(SCOPE) or f"/{SCOPE}/" in node)
    if any(stat_names.get(s.metadata_id) == "hlo_op" for s in event.stats):  # XLA thunk
        op_name = hlo_names.get(name, "")
        if "MatMul" in name or name.startswith(("dot", "custom-call")):
            return "gemm"
        if name.startswith(("copy", "tuple", "parameter", "bitcast")):
            return None
        return "optimizer" if op_name.startswith(SCOPE) else "elementwise"
    return None


def profile_steps(trainer: Any, batch: tuple[np.ndarray, np.ndarray], steps: int,
                  device: str = "cpu") -> dict[str, float]:
    """Run ``steps`` training steps of an ``instrument``-ed ``trainer`` (already warm)
    under tf.profiler and return ``parse_xspace`` of its trace."""
    import tensorflow as tf

    from dlparity.tf_impl import _convert

    X, y = batch
    hlo_names: dict[str, str] = {}
    if trainer.compile == "xla":
        with _convert.device(device):
            hlo_names = _hlo_op_names(trainer, _convert.to_tensor(X),
                                      _convert.to_tensor(y, np.int64))
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        try:
            for _ in range(steps):
                trainer.step(X, y)
        finally:
            tf.profiler.experimental.stop()
        [path] = glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True)
        return parse_xspace(path, steps, hlo_names)


def conversion_call(X: np.ndarray, y: np.ndarray, device: str) -> Callable[[], float]:
    """The TF Trainer's boundary alone: the batch to tensors (``_convert.to_tensor``, labels
    as int64) and a loss back to a Python float (``_convert.to_numpy``)."""
    from dlparity.tf_impl import _convert

    with _convert.device(device):
        loss = _convert.to_tensor(np.float32(1.0))

    def call() -> float:
        with _convert.device(device):
            _convert.to_tensor(X), _convert.to_tensor(y, np.int64)  # (N, D), (N,)
            return float(_convert.to_numpy(loss))

    return call
