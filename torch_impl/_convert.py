"""The NumPy <-> torch boundary of ``dlparity.torch_impl`` (dtype and device).

Every public function of the package takes and returns NumPy arrays; this module is the
only place that turns them into tensors and back. Tensors are made on the CURRENT device,
``cpu`` unless changed with ``set_device`` or the ``device`` context manager::

    with device("cuda"):
        out, cache = affine_forward(x, w, b)

``to_tensor`` always COPIES: ``torch.from_numpy`` alone would share memory, and an
in-place torch op would then write the caller's array.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

__all__ = [
    "cuda_available",
    "current_device",
    "set_tf32",
    "device",
    "on_device",
    "set_device",
    "to_float",
    "to_numpy",
    "to_scalar",
    "to_tensor",
    "torch_dtype",
]

_device = torch.device("cpu")


def cuda_available() -> bool:
    """Whether torch sees a CUDA device: THE probe of the project (parity suite, train,
    benchmarks, gpu-check, port all ask here)."""
    return torch.cuda.is_available()


def set_tf32(enabled: bool) -> None:
    """Allow (True) or forbid (False, what ``set_device('cuda')`` does) TF32 in CUDA
    matmuls and cuDNN: THE switch of the project (CONVENTIONS.md: on by default in cuDNN;
    off, float32 keeps its 23-bit mantissa)."""
    torch.backends.cuda.matmul.allow_tf32 = bool(enabled)
    torch.backends.cudnn.allow_tf32 = bool(enabled)


def current_device() -> torch.device:
    """The device new tensors are made on."""
    return _device


def set_device(name: str | torch.device) -> None:
    """Make ``name`` ('cpu', 'cuda', 'cuda:1', ...) the device of every new tensor.

    On CUDA, TF32 is turned off for matmuls and cuDNN, so float32 keeps its full
    23-bit mantissa (CONVENTIONS.md: cuDNN's TF32 is on by default).
    """
    global _device
    new = torch.device(name)
    if new.type == "cuda":
        set_tf32(False)
    _device = new


@contextmanager
def device(name: str | torch.device) -> Iterator[torch.device]:
    """Run a block with ``name`` as the current device, then restore the previous one."""
    previous = _device
    set_device(name)
    try:
        yield _device
    finally:
        set_device(previous)


def on_device(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` moved (in place) to the current device."""
    return module.to(_device)


def torch_dtype(dtype: np.dtype | type) -> torch.dtype:
    """The torch dtype of a NumPy dtype (np.float32 -> torch.float32, ...)."""
    return torch.from_numpy(np.empty(0, dtype=dtype)).dtype


def to_tensor(
    a: np.ndarray, requires_grad: bool = False, dtype: np.dtype | None = None
) -> torch.Tensor:
    """A NEW tensor on the current device holding a copy of ``a``.

    Inputs:
    - a: NumPy array (or scalar) of any shape and dtype.
    - requires_grad: make the tensor an autograd leaf.
    - dtype: NumPy dtype to cast to first (the common dtype of a function's inputs).

    Returns:
    - tensor of a's shape, with a's (or the given) dtype; never shares memory with a.
    """
    arr = np.array(a, dtype=dtype, copy=True)  # own, positive-strided copy
    t = torch.from_numpy(arr).to(_device)
    return t.requires_grad_(requires_grad)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """A NumPy array holding ``t``'s values (detached, on the host), dtype preserved."""
    return np.array(t.detach().cpu().numpy(), copy=True)


def to_scalar(t: torch.Tensor) -> np.generic:
    """A NumPy scalar of ``t``'s dtype from a one-element tensor (loss values)."""
    return to_numpy(t).reshape(())[()]


def to_float(t: torch.Tensor | float) -> float:
    """A Python float from a one-element tensor (norms, schedules, gradient checks)."""
    return float(t.item()) if isinstance(t, torch.Tensor) else float(t)
