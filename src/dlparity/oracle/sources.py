"""Where learners' code lives: ``.py`` files and Jupyter notebooks, read without running
their experiments.

A course notebook exported to ``.py`` (or the notebook itself) is full of top-level
experiments: calls into the course's ``testCases``, ``.h5`` files that are not there,
plots, ``%matplotlib`` and ``!pip`` lines. The oracle keeps the definitions (imports,
functions, classes, constants) and drops the rest, so a failing experiment never stops a
check. Line numbers are kept: a dropped statement becomes blank lines, so a traceback
into a learner's function names the line of the learner's file (of a notebook: the line
of its code cells joined, each cell preceded by a ``# In[N]`` line).

Standard library and nbformat only: the oracle's child process and the recogniser read
this before anything numeric is imported.
"""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["definitions_only", "namespace_source", "notebook_cells", "read_source",
           "signatures", "tolerant_exec"]

#: The name a loaded module lists its failed imports and kept statements under.
MISSING = "__dlparity_missing__"


def _strip_magics(cell: str) -> str | None:
    """A code cell without IPython syntax (None: a ``%%`` cell magic, not Python)."""
    if cell.lstrip().startswith("%%"):
        return None
    lines = []
    for line in cell.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or (stripped.endswith("?") and
                                               stripped[:-1].isidentifier()):
            indent = line[: len(line) - len(stripped)]
            lines.append(f"{indent}pass  # dlparity: IPython line dropped")
        else:
            lines.append(line)
    return "\n".join(lines)


def notebook_cells(path: str | Path) -> list[tuple[int, str]]:
    """The code cells of a notebook as (cell number from 1, source), IPython syntax
    removed; a cell that is not valid Python is left out (see :func:`read_source`)."""
    try:
        import nbformat

        nb = nbformat.read(str(path), as_version=4)
        cells = [c for c in nb.cells if c.cell_type == "code"]
        sources = [c.source for c in cells]
    except ImportError:  # nbformat absent: the notebook format is plain JSON
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                   for c in data.get("cells", []) if c.get("cell_type") == "code"]
    return [(i, s) for i, s in enumerate(sources, start=1)]


def read_source(path: str | Path) -> str:
    """A ``.py`` file's text, or a notebook's code cells joined (magics, ``%%`` cells and
    ``!shell`` lines removed; a cell that does not parse is replaced by a comment naming
    it, so one broken cell does not hide the others)."""
    path = Path(path)
    if path.suffix != ".ipynb":
        return path.read_text(encoding="utf-8", errors="replace")
    parts = []
    for number, cell in notebook_cells(path):
        code = _strip_magics(cell)
        if code is None:
            parts.append(f"# In[{number}]: a %% cell magic, dropped by dlparity")
            continue
        try:
            ast.parse(code)
        except SyntaxError as exc:
            parts.append(f"# In[{number}]: dropped by dlparity: SyntaxError: {exc.msg} "
                         f"(line {exc.lineno} of the cell)")
            continue
        parts.append(f"# In[{number}]\n{code}")
    return "\n".join(parts) + "\n"


_CONSTANT_NODES = (ast.Constant, ast.Name, ast.Load, ast.Attribute, ast.UnaryOp, ast.BinOp,
                   ast.Tuple, ast.List, ast.Dict, ast.Set, ast.operator, ast.unaryop,
                   ast.Lambda, ast.arguments, ast.arg, ast.Store, ast.Subscript, ast.Slice,
                   ast.BoolOp, ast.boolop, ast.Compare, ast.cmpop, ast.IfExp, ast.Call,
                   ast.keyword)


def _is_constant(node: ast.AST) -> bool:
    """An assignment of a constant: literals, names, arithmetic, lambdas (a call only
    into ``np``/``math``, such as ``np.sqrt(2)``: anything else may be an experiment)."""
    if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
        return False
    for sub in ast.walk(node.value):
        if not isinstance(sub, _CONSTANT_NODES):
            return False
        if isinstance(sub, ast.Call):
            root = sub.func
            while isinstance(root, ast.Attribute):
                root = root.value
            if not (isinstance(root, ast.Name) and root.id in {"np", "numpy", "math"}
                    and isinstance(sub.func, ast.Attribute)
                    and sub.func.attr not in {"load", "loadtxt", "genfromtxt", "fromfile"}):
                return False
    return True


def _bound(alias: ast.alias) -> str:
    """The name ``import a.b as c`` binds (``c``; ``a`` without ``as``)."""
    return alias.asname or alias.name.split(".")[0]


def _names_used(tree: ast.Module) -> set[str]:
    """Every name read in the definitions that are kept (functions, classes, constant
    assignments), so an import none of them reads can be left out."""
    kept = [n for n in tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            or _is_constant(n)]
    return {sub.id for node in kept for sub in ast.walk(node) if isinstance(sub, ast.Name)}


def _describe(node: ast.stmt, lines: list[str]) -> str:
    text = lines[node.lineno - 1].strip() if node.lineno - 1 < len(lines) else ""
    more = " ..." if (node.end_lineno or node.lineno) > node.lineno else ""
    return f"line {node.lineno}: {text[:80]}{more}"


def definitions_only(source: str, filename: str = "<source>") -> tuple[str, list[str]]:
    """``source`` reduced to its definitions, line numbers kept; and what was dropped.

    Kept: ``import`` statements (each made tolerant: a missing module is recorded in the
    module's ``__dlparity_missing__`` instead of stopping the load), ``def``, ``class``,
    and assignments of constants (made tolerant too). Dropped (blank lines): every other
    top-level statement (calls, loops, prints, ``if __name__ == "__main__":`` blocks).
    Raises SyntaxError when ``source`` does not parse.
    """
    tree = ast.parse(source, filename=filename)
    lines = source.splitlines()
    out = list(lines)
    dropped: list[str] = []
    calls: dict[int, list[str]] = {}  # line index -> the kept statements starting there
    used = _names_used(tree)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring or a bare string
        first, last = node.lineno, node.end_lineno or node.lineno
        if isinstance(node, ast.Import) and not {_bound(a) for a in node.names} & used:
            # plotting and data libraries only the experiments used (matplotlib, sklearn,
            # h5py, scipy...): importing them would cost seconds and check nothing
            dropped.append(_describe(node, lines) + " (not used by the definitions)")
        elif isinstance(node, ast.Import | ast.ImportFrom) or _is_constant(node):
            stmt = ast.get_source_segment(source, node) or ast.unparse(node)
            # one line (line numbers are kept); the statement runs tolerantly
            calls.setdefault(first - 1, []).append(
                f"__import__('dlparity.oracle.sources', fromlist=['_'])"
                f".tolerant_exec({stmt!r}, globals())")
        else:
            dropped.append(_describe(node, lines))
        for i in range(first - 1, last):
            out[i] = ""
    for i, kept in calls.items():
        out[i] = "; ".join(kept)
    return "\n".join(out) + "\n", dropped


def tolerant_exec(statement: str, namespace: dict[str, Any]) -> None:
    """Run one kept top-level statement; a failure (a missing module, a constant built
    from a dropped experiment) is recorded in ``namespace['__dlparity_missing__']``."""
    try:
        exec(compile(statement, "<dlparity kept statement>", "exec"), namespace)  # noqa: S102
    except Exception as exc:  # noqa: BLE001 -- any failure of the learner's statement
        missing = namespace.setdefault(MISSING, [])
        missing.append(f"{statement.splitlines()[0][:80]}: {type(exc).__name__}: {exc}")


def _params(args: ast.arguments) -> list[str]:
    names = [a.arg for a in args.posonlyargs + args.args]
    if args.vararg:
        names.append("*" + args.vararg.arg)
    names += [a.arg for a in args.kwonlyargs]
    return names


def signatures(source: str) -> dict[str, list[str]]:
    """Top-level function names -> parameter names, read with ``ast`` (nothing runs);
    ``{}`` when the source does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    return {node.name: _params(node.args) for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def _simple(value: Any, depth: int = 0) -> bool:
    if depth > 3:
        return False
    if value is None or isinstance(value, bool | int | float | str):
        return not isinstance(value, str) or len(value) < 1000
    if isinstance(value, tuple | list):
        return len(value) < 100 and all(_simple(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return len(value) < 100 and all(_simple(k, depth + 1) and _simple(v, depth + 1)
                                        for k, v in value.items())
    return False


_IPYTHON = {"In", "Out", "get_ipython", "exit", "quit", "open", "display"}


def namespace_source(ns: dict[str, Any] | ModuleType) -> str:
    """A module's source rebuilt from a namespace (a notebook's ``globals()``, a module):
    imported modules as ``import x as y``, names imported from importable modules as
    ``from m import f as g``, simple constants as literals, and the functions and
    classes defined there by their source (``inspect.getsource``, which finds notebook
    cells through linecache). What cannot be rebuilt is listed in a comment at the end."""
    if isinstance(ns, ModuleType):
        own, ns = ns.__name__, vars(ns)
    else:
        own = ns.get("__name__", "__main__")
    imports: list[str] = []
    constants: list[str] = []
    defs: list[tuple[int, str]] = []
    skipped: list[str] = []
    for name, value in list(ns.items()):
        if name.startswith("_") or name in _IPYTHON:
            continue
        if isinstance(value, ModuleType):
            imports.append(f"import {value.__name__}" if value.__name__ == name
                           else f"import {value.__name__} as {name}")
        elif inspect.isfunction(value) or inspect.isclass(value):
            module = getattr(value, "__module__", None)
            if module == own or module in (None, "__main__"):
                try:
                    code = textwrap.dedent(inspect.getsource(value))
                except (OSError, TypeError):
                    skipped.append(name)
                    continue
                first = getattr(getattr(value, "__code__", None), "co_firstlineno", 0)
                if value.__name__ != name:  # an alias: f = g
                    constants.append(f"{name} = {value.__name__}")
                defs.append((first, code))
            else:
                qual = value.__qualname__
                if "<" in qual or "." in qual:
                    skipped.append(name)
                    continue
                imports.append(f"from {module} import {qual}" if qual == name
                               else f"from {module} import {qual} as {name}")
        elif _simple(value):
            constants.append(f"{name} = {value!r}")
        elif callable(value) and getattr(value, "__module__", None) and \
                getattr(value, "__name__", None):  # a ufunc or builtin: np.exp as exp
            module, qual = value.__module__, value.__name__
            imports.append(f"from {module} import {qual} as {name}")
        else:
            skipped.append(name)
    # sources are dedented, ordered as defined (cells run top to bottom)
    body = [code for _, code in sorted(defs, key=lambda d: d[0])]
    tolerant = [f"__import__('dlparity.oracle.sources', fromlist=['_']).tolerant_exec("
                f"{stmt!r}, globals())" for stmt in imports]
    text = "\n".join(tolerant + constants) + "\n\n" + "\n\n".join(body)
    if skipped:
        text += "\n# not rebuilt by dlparity: " + ", ".join(sorted(skipped)[:40]) + "\n"
    return text
