"""The torch side of ``dlparity bench --profile`` (``breakdown.py``): torch.profiler over a
few training steps, every event sorted into a part of the step.

Per event (``FunctionEvent``, its self time):

- **gemm**: ``aten::mm`` / ``addmm`` / ``bmm`` / ``baddbmm`` (eager, and the extern GEMM
  calls of a torch.compile graph); on CUDA, kernels named like GEMMs;
- **optimizer**: everything under ``Optimizer.step`` / ``Optimizer.zero_grad`` (eager: the
  whole record, the optimizer's Python included), and torch.compile kernels that compute
  Adam (their names carry ``lerp``, ``addcdiv`` or ``sqrt``);
- **conversion**: the top-level ``aten::to`` / ``lift_fresh`` / ``item`` of the boundary;
- **elementwise**: every other ``aten::`` compute op and compiled kernel (bias adds,
  ReLU and its backward, softmax cross-entropy, L2, gradient sums);
- the rest (views, autograd engine and dynamo bookkeeping, the Python in between) is left
  to the overhead.

torch.compile's fused C++ kernels are visible only when compiled with
``torch._inductor.config.cpp.enable_kernel_profile`` (``dlparity bench --profile`` sets
it before compiling).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

__all__ = ["classify_events", "conversion_call", "profile_steps"]

GEMM_OPS = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::matmul"}
OPTIMIZER_RECORDS = ("Optimizer.step", "Optimizer.zero_grad")
ADAM_KERNEL_MARKS = ("lerp", "addcdiv", "sqrt", "_foreach")
CONVERSION_OPS = {"aten::to", "aten::_to_copy", "aten::lift_fresh", "aten::item",
                  "aten::_local_scalar_dense", "aten::copy_"}
#: ops that only make views or metadata: framework overhead, not compute
META_OPS = {"aten::view", "aten::reshape", "aten::_reshape_alias", "aten::t",
            "aten::transpose", "aten::expand", "aten::as_strided", "aten::permute",
            "aten::unsqueeze", "aten::squeeze", "aten::detach", "aten::alias",
            "aten::resolve_conj", "aten::resolve_neg", "aten::empty", "aten::empty_like",
            "aten::empty_strided", "aten::contiguous", "aten::select", "aten::slice",
            "aten::numel", "aten::size", "aten::stride", "aten::is_nonzero", "detach"}
CUDA_GEMM_MARKS = ("gemm", "gemv", "xmma", "cutlass", "sm90", "sm80")


def _is_kernel(name: str) -> bool:
    return "cpp_fused" in name or "cpp_kernel" in name


def _ancestors(event: Any) -> list[str]:
    names, parent = [], event.cpu_parent
    while parent is not None:
        names.append(parent.name)
        parent = parent.cpu_parent
    return names


def classify_cpu(event: Any) -> str | None:
    """The part of the step a CPU event's self time belongs to (None: overhead)."""
    name = event.name
    ancestors = _ancestors(event)
    if any(a.startswith(OPTIMIZER_RECORDS) for a in [name, *ancestors]):
        return "optimizer"
    if name in GEMM_OPS:
        return "gemm"
    if _is_kernel(name):
        return "optimizer" if any(m in name for m in ADAM_KERNEL_MARKS) else "elementwise"
    if name in CONVERSION_OPS and all(a in CONVERSION_OPS for a in ancestors):
        return "conversion"
    if name.startswith("aten::") and name not in META_OPS:
        return "elementwise"
    return None


def classify_cuda(name: str) -> str:
    """The part of the step a CUDA kernel belongs to."""
    low = name.lower()
    if any(m in low for m in CUDA_GEMM_MARKS):
        return "gemm"
    if "multi_tensor_apply" in low or "adam" in low:
        return "optimizer"
    return "elementwise"


def classify_events(events: Iterable[Any], steps: int, cuda: bool = False) -> dict[str, float]:
    """Milliseconds per step per part ('gemm', 'elementwise', 'optimizer', 'conversion')
    of the profiler's ``events`` over ``steps`` steps. ``cuda``: sort the CUDA kernels'
    device time instead of the CPU ops'."""
    parts = {"gemm": 0.0, "elementwise": 0.0, "optimizer": 0.0, "conversion": 0.0}
    for e in events:
        if cuda:
            if str(getattr(e, "device_type", "")).endswith("CUDA"):
                parts[classify_cuda(e.name)] += e.self_device_time_total
            continue
        part = classify_cpu(e)
        if part is not None:
            parts[part] += e.self_cpu_time_total
    return {k: v / 1e3 / steps for k, v in parts.items()}  # us -> ms per step


def profile_steps(call: Callable[[], Any], steps: int, device: str = "cpu") -> dict[str, float]:
    """Run ``call`` (one training step) ``steps`` times under torch.profiler and return
    ``classify_events`` of what it recorded."""
    from torch.profiler import ProfilerActivity, profile

    cuda = device != "cpu"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        for _ in range(steps):
            call()
        if cuda:
            import torch

            torch.cuda.synchronize()
    return classify_events(prof.events(), steps, cuda=cuda)


def conversion_call(X: np.ndarray, y: np.ndarray, device: str) -> Callable[[], float]:
    """The torch Trainer's boundary alone: the batch to tensors (``_convert.to_tensor``,
    labels ``.long()``) and a loss back to a Python float (``_convert.to_float``)."""
    from dlparity.torch_impl import _convert

    with _convert.device(device):
        loss = _convert.to_tensor(np.float32(1.0))

    def call() -> float:
        with _convert.device(device):
            _convert.to_tensor(X), _convert.to_tensor(y).long()  # (N, D), (N,)
        return _convert.to_float(loss)

    return call
