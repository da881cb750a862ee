"""The implementations the parity suite holds to the reference, and their devices.

Device handling stays in each framework's ``_convert`` module (``device(name)`` context
manager); this module only asks whether a device exists, so the CUDA parametrisation runs
the same code path as the CPU one wherever a GPU is present.
"""

from __future__ import annotations

import importlib
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from types import ModuleType

FRAMEWORKS: dict[str, str] = {
    "torch": "dlparity.torch_impl",
    "tf": "dlparity.tf_impl",
}
DEVICES = ("cpu", "cuda")


@cache
def load(name: str) -> ModuleType:
    """Import an implementation package by short name ('torch', 'tf') or module path."""
    return importlib.import_module(FRAMEWORKS.get(name, name))


@cache
def device_skip_reason(name: str, device: str) -> str | None:
    """Why ``device`` cannot run implementation ``name`` here, or None if it can."""
    if device == "cpu":
        return None
    if name not in FRAMEWORKS:
        return f"{name} has no device support"
    convert = importlib.import_module(f"{FRAMEWORKS[name]}._convert")  # the one probe
    if convert.cuda_available():
        return None
    return {"torch": "torch.cuda.is_available() is False",
            "tf": "TensorFlow sees no GPU (tf.config.list_physical_devices)"}[name]


def require(name: str, device: str = "cpu") -> ModuleType:
    """The implementation ``name`` ready to run on ``device``, or skip the calling test with
    the reason (framework not installed; no such device here)."""
    import pytest

    pytest.importorskip(FRAMEWORKS.get(name, name))
    reason = device_skip_reason(name, device)
    if reason:
        pytest.skip(f"{device}: {reason} (no GPU was available to this project)")
    return load(name)


def on_device(impl: ModuleType, device: str) -> AbstractContextManager:
    """The implementation's own device context (``_convert.device``), if it has one."""
    convert = getattr(impl, "_convert", None)
    if convert is None or not hasattr(convert, "device"):
        return nullcontext()
    return convert.device(device)
