"""The one registry of dlparity's implementations: name, aliases, package, framework.

Every command and test that names an implementation reads it here: ``dlparity train
--impl``, the benchmarks, the parity suite's parametrisation, the coverage table and the
oracle's "is this dlparity's own twin" question. Device handling stays in each framework's
``_convert`` module (``device(name)`` context manager, ``cuda_available()``); this module
only asks it, so the CUDA parametrisation runs the same code path as the CPU one wherever a
GPU is present.
"""

from __future__ import annotations

import importlib
import importlib.util
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import cache
from types import ModuleType


@dataclass(frozen=True)
class Implementation:
    """One implementation of the SPEC.md catalogue."""

    name: str                   # the canonical short name: 'reference', 'torch', 'tf'
    package: str                # the import name
    aliases: tuple[str, ...]    # other names users type ('numpy', 'torch_impl', ...)
    framework: str | None       # the framework module it computes with (None: NumPy)
    extra: str | None           # the pip extra that installs the framework

    def module(self, sub: str | None = None) -> ModuleType:
        """The package, or its submodule ``sub`` ('training', '_convert', ...)."""
        return importlib.import_module(f"{self.package}.{sub}" if sub else self.package)

    @property
    def installed(self) -> bool:
        """Whether the framework it needs is installed (NumPy always is)."""
        return self.framework is None or importlib.util.find_spec(self.framework) is not None


IMPLEMENTATIONS: tuple[Implementation, ...] = (
    Implementation("reference", "dlparity.reference", ("numpy",), None, None),
    Implementation("torch", "dlparity.torch_impl", ("torch_impl", "pytorch"), "torch", "torch"),
    Implementation("tf", "dlparity.tf_impl", ("tf_impl", "tensorflow", "keras"), "tensorflow",
                   "tf"),
)
_BY_NAME = {alias: impl for impl in IMPLEMENTATIONS
            for alias in (impl.name, impl.package, *impl.aliases)}

#: The framework twins, short name -> package (the parity suite's parametrisation).
FRAMEWORKS: dict[str, str] = {i.name: i.package for i in IMPLEMENTATIONS if i.framework}
DEVICES = ("cpu", "cuda")


def get(name: str) -> Implementation:
    """The implementation called ``name`` (canonical name, alias or package)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"implementation must be one of "
                         f"{', '.join(sorted(_BY_NAME))}; received {name!r}") from None


def find(name: str) -> Implementation | None:
    """Like :func:`get`, None for a name that is not one of dlparity's implementations."""
    return _BY_NAME.get(name)


@cache
def load(name: str) -> ModuleType:
    """Import an implementation package by name or alias ('torch', 'tf', ...)."""
    return get(name).module()


def cuda_available(name: str) -> bool:
    """Whether implementation ``name``'s framework sees a CUDA device (its ``_convert``
    module is the one probe); False for the NumPy reference."""
    impl = get(name)
    return bool(impl.framework and impl.installed and impl.module("_convert").cuda_available())


@cache
def device_skip_reason(name: str, device: str) -> str | None:
    """Why ``device`` cannot run implementation ``name`` here, or None if it can."""
    if device == "cpu":
        return None
    impl = get(name)
    if impl.framework is None:
        return f"{impl.name} has no device support"
    if cuda_available(name):
        return None
    return {"torch": "torch.cuda.is_available() is False",
            "tf": "TensorFlow sees no GPU (tf.config.list_physical_devices)"}[impl.name]


def require(name: str, device: str = "cpu") -> ModuleType:
    """The implementation ``name`` ready to run on ``device``, or skip the calling test with
    the reason. Only a framework that is NOT INSTALLED (or a missing device) skips: an
    implementation that is installed but broken (a syntax error inside) fails the test."""
    import pytest

    impl = get(name)
    if not impl.installed:
        pytest.skip(f"{impl.framework} is not installed (pip install 'dlparity[{impl.extra}]')")
    module = load(name)  # an ImportError here is a failure, never a skip
    reason = device_skip_reason(name, device)
    if reason:
        pytest.skip(f"{device}: {reason} (no GPU was available to this project)")
    return module


def on_device(impl: ModuleType, device: str) -> AbstractContextManager:
    """The implementation's own device context (``_convert.device``), if it has one."""
    convert = getattr(impl, "_convert", None)
    if convert is None or not hasattr(convert, "device"):
        return nullcontext()
    return convert.device(device)
