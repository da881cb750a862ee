"""What a TARGET is, read before any of its code runs: its dialect, and how to load it.

``check()`` is given a module or package name, a ``.py`` file, a notebook, a folder, a
module object or a namespace dict (a notebook's ``globals()``). For everything that is
source text (files, notebooks, folders of them, a namespace rebuilt as source by
``sources.namespace_source``), the dialect (``cs231n`` = SPEC.md, ``dlai`` = DIALECTS.md)
and the dlai assignment are recognised from the names and signatures its ``def``s declare
(``ast``: nothing is executed here). A module name is recognised after it is imported in
its own process, from what it defines.

How the target's process loads it (:class:`Plan`):

* ``cs231n`` files, folders and packages are IMPORTED, as before;
* ``dlai`` files and notebooks (and notebooks in any dialect, and namespaces) run their
  DEFINITIONS ONLY (imports, functions, classes, constants: ``sources.definitions_only``),
  so exports full of top-level experiments load; a folder's course helper modules
  (``dnn_utils_v2.py``, ...) are imported from beside the learner's files when the
  learner's code imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from . import sources
from .targets import TargetError

__all__ = ["Plan", "plan"]


@dataclass
class Plan:
    """How to load a target, and what was recognised of it before loading."""

    spec: str
    label: str
    dialect: str | None  # 'cs231n', 'dlai', or None (recognised after import)
    forced: str | None = None  # what the caller forced (--dialect)
    sources: list[tuple[str, str]] = field(default_factory=list)  # (file, definitions)
    sys_path: list[str] = field(default_factory=list)
    signatures: dict[str, list[str] | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _is_helper(stem: str) -> bool:
    from .dlai.loader import _is_helper as helper

    return helper(stem)


def _definitions(path: Path, text: str | None = None) -> tuple[str, list[str]]:
    """A file's (or notebook's) definitions only, and a note on what was dropped."""
    source = sources.read_source(path) if text is None else text
    try:
        defs, dropped = sources.definitions_only(source, str(path))
    except SyntaxError as exc:
        raise TargetError(f"cannot read {path}: SyntaxError: {exc.msg} (line {exc.lineno})") \
            from None
    notes = []
    if dropped:
        notes.append(f"{path.name}: {len(dropped)} top-level statement(s) not run (experiments,"
                     f" kept out of the check): {'; '.join(dropped[:3])}"
                     + (" ..." if len(dropped) > 3 else ""))
    return defs, notes


def _signatures(texts: list[str]) -> dict[str, list[str] | None]:
    found: dict[str, list[str] | None] = {}
    for text in texts:
        try:
            for name, params in sources.signatures(text).items():
                found.setdefault(name, params)
        except SyntaxError:
            continue
    return found


def recognise(signatures: dict[str, Any], forced: str | None) -> Any:
    from .dialects import recognise as read

    return read(signatures, forced)


def plan(target: Any, dialect: str | None = None) -> Plan:
    """Read ``target`` (see the module docstring) without running it."""
    if isinstance(target, dict | ModuleType) and not _is_installed_module(target):
        text = sources.namespace_source(target)  # definitions only already
        label = ("the notebook's namespace" if isinstance(target, dict)
                 else getattr(target, "__name__", "module"))
        where = "<notebook namespace>" if isinstance(target, dict) else f"<{label}>"
        sigs = _signatures([text])
        return Plan(where, label, _dialect(sigs, dialect), dialect, [(where, text)],
                    [str(Path.cwd())], sigs)
    if isinstance(target, ModuleType):
        target = target.__name__
    spec = str(target)
    path = Path(spec)
    if path.is_file():
        path = path.resolve()
        text = sources.read_source(path)
        sigs = _signatures([text])
        chosen = _dialect(sigs, dialect)
        if chosen == "dlai" or path.suffix == ".ipynb":
            defs, notes = _definitions(path, text)
            return Plan(str(path), str(path), chosen, dialect, [(str(path), defs)],
                        [str(path.parent)], sigs, notes)
        return Plan(str(path), str(path), chosen, dialect, signatures=sigs)
    if path.is_dir() and not (path / "__init__.py").is_file():
        path = path.resolve()
        files = sorted(p for p in [*path.glob("*.py"), *path.glob("*.ipynb")]
                       if not p.name.startswith(("test_", "conftest", "setup", "__")))
        learner = [p for p in files if not _is_helper(p.stem)]
        texts = {p: sources.read_source(p) for p in learner}
        sigs = _signatures(list(texts.values()))
        chosen = _dialect(sigs, dialect)
        if chosen == "dlai" or (learner and all(p.suffix == ".ipynb" for p in learner)):
            loaded, notes = [], []
            for p, text in texts.items():
                defs, more = _definitions(p, text)
                loaded.append((str(p), defs))
                notes += more
            if not loaded:
                raise TargetError(f"cannot read {path}: no .py file or notebook of a learner's "
                                  "own (course helpers are only imported)")
            return Plan(str(path), str(path), chosen, dialect, loaded, [str(path)], sigs,
                        notes)
        return Plan(str(path), str(path), chosen, dialect, signatures=sigs)
    if path.suffix in (".py", ".ipynb") or any(c in spec for c in "/\\"):
        if not path.exists():
            raise TargetError(f"cannot import {spec}: no such file or directory")
        return Plan(str(path.resolve()), str(path.resolve()), dialect, dialect)  # a package
    return Plan(spec, spec, dialect, dialect)  # a module name: recognised once imported


def _dialect(signatures: dict[str, Any], forced: str | None) -> str:
    """'cs231n' or 'dlai': forced, else recognised (cs231n where neither is recognised:
    its report then says what was looked for)."""
    if forced in ("cs231n", "dlai"):
        return forced
    found = recognise(signatures, None).dialect
    return "dlai" if found == "dlai" else "cs231n"


def _is_installed_module(obj: Any) -> bool:
    """A module that is imported by name (a package), not a notebook's namespace."""
    if not isinstance(obj, ModuleType):
        return False
    name = getattr(obj, "__name__", "")
    return bool(name) and name != "__main__" and getattr(obj, "__file__", None) is not None
