"""Loading deeplearning.ai learners' code: a ``.py`` export, a notebook, a folder, a
package, or a namespace (a notebook's ``globals()``, a module), as a Target.

Files and notebooks are reduced to their definitions (``sources.definitions_only``): a
top-level experiment never runs. Course helper modules beside the file (``dnn_utils_v2``,
``reg_utils``, ``gc_utils``, ...) are imported when present; a missing one is a note, and a
function that needs a name it would have given is ``error`` naming that name. Everything
static the runner needs (signatures, the learner's own call graph, where each function
comes from) is read here, once, never while the learner's code runs.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import linecache
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from ..child import _signature
from ..dialects import DLAI_NAMES, Recognition, recognise
from ..sources import MISSING, definitions_only, read_source
from ..targets import Target, TargetError, _on_path

__all__ = ["COURSE_HELPERS", "DlaiTarget", "load"]

#: Course helper modules: imported by a learner's file, never checked as the learner's own.
COURSE_HELPERS = ("dnn_utils", "dnn_app_utils", "testCases", "testcases", "public_tests",
                  "reg_utils", "gc_utils", "opt_utils", "init_utils", "planar_utils",
                  "lr_utils", "test_utils", "outputs")


def _is_helper(stem: str) -> bool:
    return stem.startswith(COURSE_HELPERS)


@dataclass
class DlaiTarget(Target):
    """A Target with what was read statically: parameter names, the call graph (which of
    the target's functions each one references), origins, and the load's notes."""

    signatures: dict[str, list[str]] = field(default_factory=dict)
    graph: dict[str, set[str]] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    load_notes: list[str] = field(default_factory=list)

    def recognition(self, forced: str | None = None) -> Recognition:
        return recognise(self.signatures, forced)


_COUNT = 0


def _load_source_file(path: Path) -> tuple[ModuleType, list[str]]:
    """Run a file's (or notebook's) definitions in a fresh module; notes on what was
    dropped and what failed to import."""
    global _COUNT
    _COUNT += 1
    source = read_source(path)
    try:
        defs, dropped = definitions_only(source, str(path))
    except SyntaxError as exc:
        raise TargetError(f"cannot read {path}: SyntaxError: {exc.msg} (line {exc.lineno})") \
            from None
    name = f"_dlparity_dlai_{_COUNT}_{''.join(c if c.isalnum() else '_' for c in path.stem)}"
    module = ModuleType(name)
    module.__file__ = str(path)
    # inspect.getsource (the call graph, namespace_source) reads the source we ran
    linecache.cache[str(path)] = (len(defs), None, defs.splitlines(True), str(path))
    sys.modules[name] = module
    try:
        with _on_path(path.parent, [p.stem for p in path.parent.glob("*.py")]):
            exec(compile(defs, str(path), "exec"), module.__dict__)  # noqa: S102
    except Exception as exc:  # noqa: BLE001 -- a def or class that fails to define
        raise TargetError(f"cannot load the definitions of {path}: {type(exc).__name__}: "
                          f"{exc}") from None
    notes = []
    if dropped:
        notes.append(f"{path.name}: {len(dropped)} top-level statement(s) not run (experiments,"
                     f" kept out of the check): {'; '.join(dropped[:3])}"
                     + (" ..." if len(dropped) > 3 else ""))
    for failed in module.__dict__.get(MISSING, []):
        notes.append(f"{path.name}: not available: {failed}")
    return module, notes


def _callable_items(ns: dict[str, Any]) -> dict[str, Any]:
    return {n: v for n, v in ns.items()
            if not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v))}


def _graph(functions: dict[str, Any]) -> dict[str, set[str]]:
    """Which of ``functions`` each one references by name (its own call graph)."""
    graph = {}
    for name, fn in functions.items():
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
        except (OSError, TypeError, SyntaxError):
            graph[name] = set()
            continue
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        graph[name] = (used & set(functions)) - {name}
    return graph


def _target(spec: str, label: str, namespaces: list[tuple[str, dict[str, Any]]],
            modules: list[ModuleType], notes: list[str]) -> DlaiTarget:
    from dlparity.catalogue import NAMES

    known = set(DLAI_NAMES) | set(NAMES)
    everything: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for where, ns in namespaces:
        for name, value in _callable_items(ns).items():
            if name in everything:
                continue
            everything[name] = value
            module = getattr(value, "__module__", "") or ""
            own = module == ns.get("__name__") or module == "__main__"
            origins[name] = where if own else module
    functions = {n: v for n, v in everything.items() if n in known}
    signatures = {n: s for n, v in everything.items() if (s := _signature(v)) is not None}
    return DlaiTarget(spec=spec, label=label, functions=functions, modules=modules,
                      signatures=signatures, graph=_graph(functions), origins=origins,
                      load_notes=notes)


def load(spec: Any) -> DlaiTarget:
    """A Target from learners' code: a ``.py`` file, a ``.ipynb`` notebook, a folder (its
    files and notebooks, course helpers only imported), a package or module name, a module
    object, or a namespace dict (a notebook's ``globals()``). Raises TargetError."""
    if isinstance(spec, dict):
        module = next((m for m in list(sys.modules.values())
                       if isinstance(m, ModuleType) and getattr(m, "__dict__", None) is spec),
                      None)
        return _target("<namespace>", "the notebook's namespace", [("notebook", spec)],
                       [module] if module is not None else [], [])
    if isinstance(spec, ModuleType):
        return _target(spec.__name__, spec.__name__, [(spec.__name__, vars(spec))], [spec], [])
    path = Path(str(spec))
    if path.is_file():
        path = path.resolve()
        module, notes = _load_source_file(path)
        return _target(str(path), str(path), [(path.name, vars(module))], [module], notes)
    if path.is_dir() and not (path / "__init__.py").is_file():
        path = path.resolve()
        files = sorted(p for p in [*path.glob("*.py"), *path.glob("*.ipynb")]
                       if not _is_helper(p.stem)
                       and not p.name.startswith(("test_", "conftest", "setup", "__")))
        if not files:
            raise TargetError(f"cannot read {path}: no .py file or notebook of a learner's "
                              "own (course helpers are only imported)")
        namespaces, modules, notes = [], [], []
        for f in files:
            module, more = _load_source_file(f)
            namespaces.append((f.name, vars(module)))
            modules.append(module)
            notes += more
        return _target(str(path), str(path), namespaces, modules, notes)
    if path.suffix in (".py", ".ipynb") or any(c in str(spec) for c in "/\\"):
        raise TargetError(f"cannot read {spec}: no such file or directory")
    from ..targets import load_target

    if path.is_dir():  # a package directory
        base = load_target(str(spec))
        mods = base.modules
    else:
        try:
            mods = [importlib.import_module(str(spec))]
        except Exception as exc:  # noqa: BLE001 -- the target's import error
            raise TargetError(f"cannot import {spec}: {type(exc).__name__}: {exc}") from None
    return _target(str(spec), str(spec), [(m.__name__, vars(m)) for m in mods], mods, [])
