"""Loading an implementation under test (a TARGET): a module or package name, a ``.py``
file, a package directory or a folder of plain modules; the catalogue names it defines.

Used by the oracle's engine (in the child process of ``isolation.py``), the parity suite
(dlparity's own twins are targets too) and the repro snippets.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.util
import sys
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from dlparity.catalogue import CATALOGUE, NAMES
from dlparity.implementations import FRAMEWORKS

from .child import _exec_file
from .child import _load_folder as _load_plain_folder
from .child import _submodules as _child_submodules

__all__ = ["Target", "TargetError", "framework_target", "load_target"]


class TargetError(Exception):
    """The target cannot be imported or defines nothing to check (exit status 2)."""


@dataclass
class Target:
    """An implementation under test: the catalogue names it defines, by name.

    Attribute access gives the target's function (``target.relu_forward``), so a Target
    is an implementation module for ``registry.run`` and for repro snippets.
    """

    spec: str
    label: str
    functions: dict[str, Any]
    modules: list[ModuleType]
    framework: str | None = None  # 'torch' / 'tf' for dlparity's own twins (conventions)

    def __getattr__(self, name: str) -> Any:
        functions = self.__dict__.get("functions", {})
        if name in functions:
            return functions[name]
        raise AttributeError(f"{self.__dict__.get('label', 'target')} does not define {name!r}")

    def defines(self, name: str) -> bool:
        return name in self.functions


def _import_error(spec: str, exc: BaseException) -> TargetError:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" ({tb[-1].filename}:{tb[-1].lineno})" if tb else ""
    return TargetError(f"cannot import {spec}: {type(exc).__name__}: {exc}{where}")


def _load_file(path: Path, package_dir: Path | None = None) -> ModuleType:
    """Import a .py file (or a package's __init__.py) under a fresh, unique name (the
    target's process loads it the same way: ``child._exec_file``)."""
    return _exec_file(path, package_dir=package_dir)


@contextlib.contextmanager
def _on_path(folder: Path, stems: Sequence[str]) -> Iterator[None]:
    """``folder`` first on sys.path, and its plain modules not shadowed by (nor leaking
    into) sys.modules entries of the same names (several targets in one process)."""
    saved = {s: sys.modules.pop(s) for s in stems if s in sys.modules}
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(folder))
        for s in stems:
            sys.modules.pop(s, None)
        sys.modules.update(saved)


def _load_folder(path: Path) -> list[ModuleType]:
    """A folder of plain modules (``child._load_folder``: the submodules of a fresh package,
    ``import layers`` between them giving the same module), the folder first on sys.path
    while it loads."""
    files = [p for p in path.glob("*.py")
             if not p.name.startswith(("test_", "conftest", "setup", "__"))]
    if not files:
        raise TargetError(f"cannot import {path}: the directory has no .py files")
    with _on_path(path, [p.stem for p in files]):
        return _load_plain_folder(path)


def _catalogue_names(module: ModuleType) -> dict[str, Any]:
    return {n: getattr(module, n) for n in NAMES if hasattr(module, n)}


def load_target(spec: str) -> Target:
    """Import TARGET: a module or package name, a ``.py`` file, or a directory.

    A package (name or directory with ``__init__.py``) is searched at the top level and,
    for names it does not export, in its submodules named like the catalogue modules
    (``layers``, ``losses``, ``optim``, ...). A directory without ``__init__.py`` is a set
    of plain modules: every ``*.py`` in it is imported (the folder first on sys.path, so
    ``import layers`` between them works). Raises :class:`TargetError` with the reason.
    """
    spec = str(spec)
    path = Path(spec)
    modules: list[ModuleType] = []
    try:
        if path.suffix == ".py" or path.is_file():
            if not path.is_file():
                raise TargetError(f"cannot import {spec}: no such file")
            path = path.resolve()
            with _on_path(path.parent, [p.stem for p in path.parent.glob("*.py")]):
                modules.append(_load_file(path))
            label = str(path)
        elif path.is_dir() or any(c in spec for c in "/\\"):
            if not path.is_dir():
                raise TargetError(f"cannot import {spec}: no such directory")
            path = path.resolve()
            label = str(path)
            if (path / "__init__.py").is_file():
                package = _load_file(path / "__init__.py", package_dir=path)
                modules.append(package)
                modules += _submodules(package)
            else:
                modules += _load_folder(path)
        else:
            label = spec
            package = importlib.import_module(spec)
            modules.append(package)
            if hasattr(package, "__path__"):
                modules += _submodules(package)
    except TargetError:
        raise
    except BaseException as exc:  # noqa: BLE001 -- any failure to import is the target's
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise _import_error(spec, exc) from None
    functions: dict[str, Any] = {}
    for module in modules:
        for name, obj in _catalogue_names(module).items():
            functions.setdefault(name, obj)
    framework = next((k for k, v in FRAMEWORKS.items() if v == spec), None)
    return Target(spec=spec if not path.exists() else label, label=label,
                  functions=functions, modules=modules, framework=framework)


def _submodules(package: ModuleType) -> list[ModuleType]:
    """The package's submodules named like catalogue modules (layers, optim, ...) whose
    names it does not export at the top level."""
    wanted = [mod for mod in dict.fromkeys(e.module for e in CATALOGUE)
              if not all(hasattr(package, e.name) for e in CATALOGUE if e.module == mod)]
    return _child_submodules(package, wanted)


def framework_target(name: str) -> Target:
    """dlparity's own framework twin (``'torch'``, ``'tf'``) as a Target: the parity suite
    holds it to the reference through the same engine as any third-party target."""
    return load_target(FRAMEWORKS[name])
