"""The target's own process: it receives inputs and returns outputs, nothing else.

``dlparity check`` starts this module as a FRESH Python process (``python -c``, not a fork
of the oracle), so the reference, the engine, the tolerances and the comparison are not in
its memory at all. It loads the target, then answers requests from the oracle's process
(``isolation.py``): call this function (or one of the fixed procedures below) with these
arguments, and send back what it returned, the arguments as they are after the call (a
write into an input is then seen by the oracle), the exception it raised, its warnings,
whether it printed, and which of the target's functions it reached. Whatever the target
does to this process (patching NumPy or builtins, writing to stdout, changing the RNG) can
change a verdict only through the values it returns.

Everything that crosses the boundary is plain data (:func:`encode`): numeric arrays as
bytes, numbers, strings, tuples, lists and dicts of those. Any other object stays where it
was made and crosses as a handle; a callable of the oracle's (the ``f`` of a gradient check)
crosses as a callback the target calls back through the pipe. The oracle decodes with an
unpickler that refuses every global, so no object of the target's can run code there.

``dlparity``'s implementations are not importable here: ``dlparity.reference``, the
torch / TF twins, the oracle and the other value-producing modules are stand-ins whose
functions record the call and raise :class:`BorrowedFromDlparity`, so a target that
borrows its values from dlparity is reported ``borrowed``, never PASS. dlparity's shared
plumbing (``catalogue``, ``validate``, ``contract``, ``bases``, ``formulas``, ``data``)
stays importable: argument checks and seeded helpers compute no verdict.

This module imports only the standard library and NumPy.
"""

from __future__ import annotations

import contextlib
import faulthandler
import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import io
import math
import os
import pickle
import signal
import struct
import sys
import time
import traceback
import types
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

# ============================================================================ framing

_HEADER = struct.Struct("!Q")


def send(fd: int, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def receive_bytes(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other process closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(fd: int) -> bytes:
    """One framed message's bytes (decoded by the receiver as it trusts the sender)."""
    (size,) = _HEADER.unpack(receive_bytes(fd, _HEADER.size))
    return receive_bytes(fd, size)


class PlainUnpickler(pickle.Unpickler):
    """Refuses every global: only builtin containers, strings, bytes and numbers load."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused: {module}.{name} (only plain data crosses "
                                     "from the target's process)")


def plain_loads(data: bytes) -> Any:
    return PlainUnpickler(io.BytesIO(data)).load()


# ============================================================================ values

_ARRAY_KINDS = "biufc"
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class Codec:
    """Plain-data encoding of values, with handles for everything else.

    ``keep(obj) -> int`` stores an object that must not cross and returns its handle id;
    ``resolve(tag, ident)`` turns a handle that comes back into the object (or a proxy)."""

    def __init__(self, keep: Callable[[Any], tuple[str, int]],
                 resolve: Callable[[str, int], Any]) -> None:
        self.keep, self.resolve = keep, resolve

    def encode(self, obj: Any, depth: int = 0) -> tuple:
        if depth > 50:
            return self._handle(obj)
        if obj is None or type(obj) in (bool, int, float, str, bytes):
            return ("v", obj)
        if type(obj) is complex:
            return ("cx", obj.real, obj.imag)
        if isinstance(obj, np.ndarray) and type(obj) is np.ndarray \
                and obj.dtype.kind in _ARRAY_KINDS and not obj.dtype.fields:
            return ("a", obj.dtype.str, obj.shape, np.ascontiguousarray(obj).tobytes())
        if isinstance(obj, np.generic) and np.dtype(type(obj)).kind in _ARRAY_KINDS:
            return ("s", obj.dtype.str, obj.tobytes())
        if isinstance(obj, np.dtype) and obj.kind in _ARRAY_KINDS:
            return ("dt", obj.str)
        if isinstance(obj, type) and issubclass(obj, np.generic) \
                and np.dtype(obj).kind in _ARRAY_KINDS:
            return ("st", np.dtype(obj).str)
        if isinstance(obj, np.random.Generator) \
                and type(obj.bit_generator).__name__ in _BIT_GENERATORS:
            return ("g", type(obj.bit_generator).__name__, obj.bit_generator.state)
        if type(obj) is tuple:
            return ("t", [self.encode(x, depth + 1) for x in obj])
        if type(obj) is list:
            return ("l", [self.encode(x, depth + 1) for x in obj])
        if type(obj) is dict and all(isinstance(k, str | int) for k in obj):
            return ("d", [(k, self.encode(v, depth + 1)) for k, v in obj.items()])
        return self._handle(obj)

    def _handle(self, obj: Any) -> tuple:
        kind, ident = self.keep(obj)
        return ("h", kind, ident)

    def decode(self, enc: Any) -> Any:
        if not isinstance(enc, tuple) or not enc or not isinstance(enc[0], str):
            raise ValueError(f"malformed value from the other process: {type(enc).__name__}")
        tag = enc[0]
        if tag == "v":
            value = enc[1]
            if value is not None and type(value) not in (bool, int, float, str, bytes):
                raise ValueError("malformed scalar")
            return value
        if tag == "cx":
            return complex(float(enc[1]), float(enc[2]))
        if tag == "a":
            dtype = _dtype(enc[1])
            shape = tuple(int(n) for n in enc[2])
            return np.frombuffer(enc[3], dtype=dtype).reshape(shape).copy()
        if tag == "s":
            return np.frombuffer(enc[2], dtype=_dtype(enc[1]))[0]
        if tag == "dt":
            return _dtype(enc[1])
        if tag == "st":
            return _dtype(enc[1]).type
        if tag == "g":
            if enc[1] not in _BIT_GENERATORS:
                raise ValueError(f"unknown bit generator {enc[1]!r}")
            bitgen = getattr(np.random, enc[1])()
            bitgen.state = enc[2]
            return np.random.Generator(bitgen)
        if tag == "t":
            return tuple(self.decode(x) for x in enc[1])
        if tag == "l":
            return [self.decode(x) for x in enc[1]]
        if tag == "d":
            return {k: self.decode(v) for k, v in enc[1]}
        if tag == "h":
            return self.resolve(str(enc[1]), int(enc[2]))
        raise ValueError(f"unknown tag {tag!r} from the other process")


def _dtype(text: Any) -> np.dtype:
    dtype = np.dtype(str(text))
    if dtype.kind not in _ARRAY_KINDS or dtype.fields:
        raise ValueError(f"refused dtype {dtype} from the other process")
    return dtype


def walk(obj: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, object) of the mutable containers and arrays reachable in ``obj``."""
    yield path, obj
    if isinstance(obj, tuple | list):
        for i, x in enumerate(obj):
            yield from walk(x, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for k, x in obj.items():
            yield from walk(x, f"{path}[{k!r}]")


# ============================================================================ procedures
# Fixed calling sequences run here as ONE call (a model built, loaded and run): the same
# functions run in the oracle's process for the reference and for dlparity's own twins.


def model_outputs(impl: Any, args: Any) -> dict[str, Any]:
    """FullyConnectedNet built with ``kwargs`` and the given weights loaded (so only the
    computation is compared): the loss, the test-mode scores and every gradient."""
    kwargs, X, y, params = args
    kwargs = dict(kwargs)
    unbiased = kwargs.pop("running_var_unbiased", None)
    model = impl.FullyConnectedNet(**kwargs, dtype=X.dtype)
    if unbiased is not None:
        for bn_param in getattr(model, "bn_params", []):
            bn_param["running_var_unbiased"] = unbiased
    model.params.update({k: v.copy() for k, v in params.items()})
    loss, grads = model.loss(X, y)
    scores = model.loss(X)
    return {"loss": loss, "scores": scores, **{f"d{k}": g for k, g in sorted(grads.items())}}


class ReferenceModel:
    """The model a Solver under test trains: its parameters live here, its loss is the
    REFERENCE FullyConnectedNet's, computed by the oracle (``loss`` is a callback). A
    Solver is checked on a model known to be right, so a model bug is never its own."""

    def __init__(self, loss: Callable[..., Any], params: dict[str, np.ndarray]) -> None:
        self.params = dict(params)
        self._loss = loss

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        return self._loss(self.params, X, y)


def solver_outputs(impl: Any, args: Any, reference_loss: Callable[..., Any]) -> dict[str, Any]:
    """A short training run of ``impl.Solver`` on the reference model with the given
    weights: the loss history and the final parameters."""
    model_kwargs, data, solver_kwargs, params = args
    dtype = data["X_train"].dtype
    model = ReferenceModel(reference_loss, {k: v.copy() for k, v in params.items()})
    solver = impl.Solver(model, data, **solver_kwargs)
    solver.train()
    return {"loss_history": np.asarray(solver.loss_history, dtype=dtype),
            **{k: v for k, v in sorted(model.params.items())}}


PROCEDURES: dict[str, Callable[..., Any]] = {"model_outputs": model_outputs,
                                             "solver_outputs": solver_outputs}


# ============================================================================ borrowing


class BorrowedFromDlparity(BaseException):
    """Raised by a stand-in of dlparity's implementations (BaseException: a target's
    ``except Exception`` does not swallow it; the call is recorded before it is raised)."""


#: Importable here: dlparity's shared plumbing, which computes no verdict.
ALLOWED = ("dlparity", "dlparity.catalogue", "dlparity.validate", "dlparity.contract",
           "dlparity.bases", "dlparity.formulas", "dlparity.data", "dlparity.oracle.child",
           "dlparity.oracle.sources")
BORROWS: list[str] = []  # dlparity functions called during the current call


def _allowed(fullname: str) -> bool:
    """``dlparity`` and ``dlparity.oracle`` themselves (lazy packages: what they give by
    attribute is imported through the blocker) and the :data:`ALLOWED` modules."""
    return fullname in ("dlparity", "dlparity.oracle") or any(
        fullname == a or fullname.startswith(a + ".") for a in ALLOWED[1:])


class _StandIn(types.ModuleType):
    """A dlparity module that is not importable in the target's process: every attribute
    is a callable (or sub-module) that records its use and raises."""

    def __init__(self, name: str, names: list[str]) -> None:
        super().__init__(name)
        self.__path__: list[str] = []
        self.__all__ = list(names)
        self.__dlparity_stand_in__ = True

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Borrowed(f"{self.__name__}.{attr}")


class _Borrowed:
    """A function (or sub-module) of a stand-in: calling it records the call and raises."""

    def __init__(self, qualname: str) -> None:
        self.__dlparity_borrowed__ = qualname
        self.__name__ = self.__qualname__ = qualname.rsplit(".", 1)[-1]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        BORROWS.append(self.__dlparity_borrowed__)
        raise BorrowedFromDlparity(f"{self.__dlparity_borrowed__} is dlparity's own "
                                   "implementation: the oracle checks the target's code")

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Borrowed(f"{self.__dlparity_borrowed__}.{attr}")


class _Blocker(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Gives a stand-in for every ``dlparity.*`` module outside :data:`ALLOWED`."""

    def __init__(self, names: list[str]) -> None:
        self.names = names

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname.startswith("dlparity.") and not _allowed(fullname):
            return importlib.util.spec_from_loader(fullname, self, is_package=True)
        return None

    def create_module(self, spec: Any) -> types.ModuleType:
        return _StandIn(spec.name, self.names)

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def block_dlparity(names: list[str]) -> None:
    """Install the stand-ins (before the target is imported)."""
    for name in [m for m in sys.modules if m.startswith("dlparity.") and not _allowed(m)]:
        del sys.modules[name]
    sys.meta_path.insert(0, _Blocker(names))


# ============================================================================ tampering

_WATCHED = ("numpy", "numpy.linalg", "numpy.testing", "numpy.random", "math", "builtins")


def _watched_bindings() -> dict[str, int]:
    found = {}
    for mod_name in _WATCHED:
        module = sys.modules.get(mod_name)
        if module is None:
            continue
        for attr, value in list(vars(module).items()):
            if callable(value) and not attr.startswith("_"):
                found[f"{mod_name}.{attr}"] = id(value)
    return found


# ============================================================================ loading


def _unique(stem: str, counter: list[int] = [0]) -> str:  # noqa: B006 -- a process counter
    counter[0] += 1
    safe = "".join(c if c.isalnum() else "_" for c in stem)
    return f"_dlparity_target_{counter[0]}_{safe}"


def _exec_file(path: Path, source: str | None = None,
               package_dir: Path | None = None) -> types.ModuleType:
    if source is not None:  # a notebook's code cells, or a file's definitions only
        module = types.ModuleType(_unique(path.stem))
        module.__file__ = str(path)
        sys.modules[module.__name__] = module
        exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102
        return module
    if package_dir is not None:
        spec = importlib.util.spec_from_file_location(
            _unique(package_dir.name), package_dir / "__init__.py",
            submodule_search_locations=[str(package_dir)])
    else:
        spec = importlib.util.spec_from_file_location(_unique(path.stem), path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(spec.name, None)
        raise
    return module


class _PlainNames(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """While a folder of plain modules loads, ``import layers`` between them gives THE
    module loaded as ``<package>.layers`` (one object per function, every call seen)."""

    def __init__(self, package: str, stems: set[str]) -> None:
        self.package, self.stems = package, stems

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname in self.stems:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec: Any) -> types.ModuleType:
        return importlib.import_module(f"{self.package}.{spec.name}")

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def _load_folder(path: Path) -> list[types.ModuleType]:
    files = sorted(p for p in path.glob("*.py")
                   if not p.name.startswith(("test_", "conftest", "setup", "__")))
    if not files:
        raise ImportError(f"the directory {path} has no .py files")
    name = _unique(path.name)
    package = types.ModuleType(name)
    package.__path__ = [str(path)]
    package.__spec__ = importlib.util.spec_from_loader(name, loader=None, is_package=True)
    package.__spec__.submodule_search_locations = [str(path)]
    sys.modules[name] = package
    alias = _PlainNames(name, {p.stem for p in files})
    sys.meta_path.insert(0, alias)
    try:
        return [importlib.import_module(f"{name}.{p.stem}") for p in files]
    finally:
        sys.meta_path.remove(alias)


def _submodules(package: types.ModuleType, submodules: list[str]) -> list[types.ModuleType]:
    """The package's submodules of these names that exist (an ImportError in one is the
    target's)."""
    found = []
    for mod in submodules:
        name = f"{package.__name__}.{mod}"
        try:
            if importlib.util.find_spec(name) is None:
                continue
        except (ImportError, ValueError):
            continue
        found.append(importlib.import_module(name))
    return found


def load(request: dict[str, Any]) -> tuple[str, list[types.ModuleType]]:
    """Import the target as ``request`` says: ``spec`` (module name, file, folder), or
    ``source`` (text to run as the file ``spec``: a notebook, definitions only)."""
    spec = str(request["spec"])
    path = Path(spec)
    for folder in request.get("sys_path", []):
        sys.path.insert(0, folder)
    if request.get("sources"):  # learners' files or notebooks, definitions only
        import linecache

        modules = []
        for file, text in request["sources"]:
            linecache.cache[str(file)] = (len(text), None, text.splitlines(True), str(file))
            modules.append(_exec_file(Path(file), text))
        return spec, modules
    if path.suffix == ".py" or path.is_file():
        path = path.resolve()
        sys.path.insert(0, str(path.parent))
        return str(path), [_exec_file(path)]
    if path.is_dir():
        path = path.resolve()
        if (path / "__init__.py").is_file():
            package = _exec_file(path / "__init__.py", package_dir=path)
            return str(path), [package, *_submodules(package, request["submodules"])]
        sys.path.insert(0, str(path))
        return str(path), _load_folder(path)
    package = importlib.import_module(spec)
    modules = [package]
    if hasattr(package, "__path__"):
        modules += _submodules(package, request["submodules"])
    return spec, modules


# ============================================================================ the server


class _Timeout(BaseException):
    pass


def _raise_timeout(signum: int, frame: Any) -> None:
    raise _Timeout


class Server:
    """The request loop of the target's process."""

    def __init__(self, fd_in: int, fd_out: int) -> None:
        self.fd_in, self.fd_out = fd_in, fd_out
        self.objects: dict[int, Any] = {}
        self.functions: dict[str, Any] = {}
        self.modules: list[types.ModuleType] = []
        self.calling: set[str] | None = None
        self.codec = Codec(self._keep, self._resolve)
        self.watched: dict[str, int] = {}

    # ------------------------------------------------------------ handles, callbacks

    def _keep(self, obj: Any) -> tuple[str, int]:
        self.objects[id(obj)] = obj
        return "child", id(obj)

    def _resolve(self, kind: str, ident: int) -> Any:
        if kind == "child":
            if ident not in self.objects:
                raise ValueError(f"unknown handle {ident}")
            return self.objects[ident]
        return functools.partial(self._callback, ident)  # the oracle's callable

    def _callback(self, ident: int, *args: Any, **kwargs: Any) -> Any:
        send(self.fd_out, ("callback", ident, self.codec.encode(args),
                           self.codec.encode(kwargs)))
        kind, payload = pickle.loads(receive(self.fd_in))
        if kind == "callback-error":
            raise RuntimeError(f"the oracle's callback failed: {payload}")
        return self.codec.decode(payload)

    # ------------------------------------------------------------ requests

    def serve(self) -> None:
        while True:
            try:
                request = pickle.loads(receive(self.fd_in))  # the oracle: trusted
            except EOFError:
                return
            if request is None:
                return
            kind, payload = request
            try:
                answer = getattr(self, f"do_{kind}")(payload)
            except BaseException as exc:  # noqa: BLE001 -- the server's own failure
                answer = ("server-error", f"{type(exc).__name__}: {exc}")
            send(self.fd_out, answer)

    def do_load(self, request: dict[str, Any]) -> tuple:
        names = list(request["names"])
        block_dlparity(names)
        before = self.watched = _watched_bindings()
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                label, self.modules = load(request)
            except BaseException as exc:  # noqa: BLE001 -- any failure to import
                tb = traceback.extract_tb(exc.__traceback__)
                where = f" ({tb[-1].filename}:{tb[-1].lineno})" if tb else ""
                return ("load-error", f"{type(exc).__name__}: {exc}{where}")
        for module in self.modules:
            for name in names:
                if name in vars(module) or hasattr(module, name):
                    self.functions.setdefault(name, getattr(module, name))
        borrowed = {n: b for n, f in self.functions.items() if (b := _borrows(f, names))}
        stand_ins = sorted({m for m in sys.modules
                            if getattr(sys.modules[m], "__dlparity_stand_in__", False)})
        after = _watched_bindings()
        tampered = sorted(k for k, v in before.items() if after.get(k) != v)
        observable = self._observe(names)
        _limit_memory(request["memory_mb"])
        defined = sorted({n for m in self.modules for n, v in vars(m).items()
                          if callable(v) and not n.startswith("_")
                          and getattr(v, "__module__", None) == m.__name__})
        everything = {n: v for m in self.modules for n, v in vars(m).items()
                      if not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v))}
        signatures = {n: sig for n, v in everything.items() if (sig := _signature(v)) is not None}
        graph = {n: sorted((set(_code_names(f.__code__)) & set(self.functions)) - {n})
                 for n, f in self.functions.items() if hasattr(f, "__code__")}
        origins = {n: _origin(f, self.modules) for n, f in self.functions.items()}
        missing = [str(x) for m in self.modules for x in vars(m).get("__dlparity_missing__", [])]
        return ("loaded", {"label": label, "names": sorted(self.functions),
                           "borrowed": borrowed, "imports_dlparity": stand_ins,
                           "tampered": tampered, "observable": observable,
                           "defined": defined, "signatures": signatures, "graph": graph,
                           "origins": origins, "missing": missing})

    def _observe(self, names: list[str]) -> int:
        """Wrap every module-level binding of the target's functions, for good, with a
        recorder of the calls each call reaches (attribution)."""
        by_id = {id(f): n for n, f in self.functions.items() if inspect.isfunction(f)}
        modules = list(self.modules)
        folders = {str(Path(m.__file__).resolve().parent) for m in self.modules
                   if getattr(m, "__file__", None)}
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if path and str(Path(path).resolve().parent) in folders and module not in modules:
                modules.append(module)
        count = 0
        for module in modules:
            for attr, value in list(vars(module).items()):
                if id(value) in by_id and inspect.isfunction(value):
                    setattr(module, attr, self._recording(by_id[id(value)], value))
                    count += 1
        return count

    def _recording(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def recording(*args: Any, **kwargs: Any) -> Any:
            if self.calling is not None:
                self.calling.add(name)
            return fn(*args, **kwargs)
        return recording

    def do_call(self, request: dict[str, Any]) -> tuple:
        what, ref = request["fn"]
        if what == "name":
            fn = self.functions[ref]
        elif what == "procedure":
            procedure = PROCEDURES[ref]
            target = types.SimpleNamespace(**self.functions)
            fn = functools.partial(procedure, target)
        else:
            fn = self.objects[ref]
        args = self.codec.decode(request["args"])
        kwargs = self.codec.decode(request["kwargs"])
        before = {p: id(o) for p, o in walk(args)}
        outcome = self._guarded(fn, args, kwargs, request["budget"], request["warnings"])
        if outcome.get("ok"):
            outcome["value"] = self.codec.encode(outcome.pop("result"))
        # the arguments after the call, and which arrays are still the ones passed there
        outcome["post"] = self.codec.encode(args)
        outcome["same"] = [p for p, o in walk(args)
                           if isinstance(o, np.ndarray) and before.get(p) == id(o)]
        return ("result", outcome)

    def _guarded(self, fn: Callable[..., Any], args: Any, kwargs: Any, budget: float,
                 collect_warnings: bool) -> dict[str, Any]:
        out, err = io.StringIO(), io.StringIO()
        self.calling = set()
        BORROWS.clear()
        alarm = budget is not None and math.isfinite(budget)
        start = time.perf_counter()
        outcome: dict[str, Any] = {"ok": False}
        try:
            with warnings.catch_warnings(record=True) as caught, \
                    contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                    np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"):
                warnings.simplefilter("always")
                if alarm:  # repeats every second: a target swallowing one alarm gets another
                    signal.setitimer(signal.ITIMER_REAL, max(budget, 1e-3), 1.0)
                try:
                    result = fn(*args, **kwargs)
                finally:
                    if alarm:
                        signal.setitimer(signal.ITIMER_REAL, 0)
            outcome = {"ok": True, "result": result}
        except _Timeout:
            outcome = {"ok": False, "timeout": True}
        except BaseException as exc:  # noqa: BLE001 -- anything the target raises
            caught = []
            outcome = {"ok": False, "exc": _describe_exception(exc)}
        outcome["elapsed"] = time.perf_counter() - start
        outcome["observed"] = sorted(self.calling)
        outcome["borrowed"] = list(dict.fromkeys(BORROWS))
        outcome["warnings"] = ([(w.category.__name__, str(w.message)) for w in caught]
                               if collect_warnings else [])
        outcome["printed"] = bool(out.getvalue() or err.getvalue())
        self.calling = None
        return outcome

    def do_tampered(self, payload: Any) -> tuple:
        """What the target has replaced in NumPy, math and builtins since it was loaded."""
        after = _watched_bindings()
        return ("tampered", sorted(k for k, v in self.watched.items() if after.get(k) != v))


def _stand_in_name(obj: Any) -> str | None:
    if isinstance(obj, types.ModuleType) and getattr(obj, "__dlparity_stand_in__", False):
        return obj.__name__
    return getattr(obj, "__dlparity_borrowed__", None)


def _signature(fn: Any) -> list[str] | None:
    """Parameter names (``*args`` as '*args'; ``**kwargs`` left out), None if unreadable."""
    try:
        return [("*" + p.name if p.kind == p.VAR_POSITIONAL else p.name)
                for p in inspect.signature(fn).parameters.values()
                if p.kind != p.VAR_KEYWORD]
    except (TypeError, ValueError):
        return None


def _origin(fn: Any, modules: list[types.ModuleType]) -> str:
    """The file that defines ``fn`` (a target module's), else the module it came from."""
    module = getattr(fn, "__module__", "") or ""
    for m in modules:
        if m.__name__ == module:
            return Path(getattr(m, "__file__", "") or module).name
    return module


def _code_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_names(const)


def _borrows(fn: Any, names: list[str]) -> str | None:
    """What of dlparity's ``fn`` is, or names in its body (read without running it): a
    stand-in function, or a stand-in module (with the catalogue name it reads from it)."""
    own = _stand_in_name(fn)
    if own:
        return own
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    used = list(_code_names(code))
    for name in used:
        found = _stand_in_name(getattr(fn, "__globals__", {}).get(name))
        if found:
            attr = next((u for u in used if u in names), None)
            return f"{found}.{attr}" if attr and "." in found or attr else found
    return None


def _describe_exception(exc: BaseException) -> dict[str, Any]:
    """The exception as plain data (the oracle names where it was raised from ``frames``)."""
    tb = traceback.extract_tb(exc.__traceback__)
    return {"type": type(exc).__name__,
            "bases": [c.__name__ for c in type(exc).__mro__
                      if c.__module__ == "builtins"],
            "message": str(exc),
            "where": f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "",
            "frames": [f.name for f in tb],
            "borrowed": isinstance(exc, BorrowedFromDlparity)}


def _limit_memory(memory_mb: float) -> None:
    """Cap the address space at what the process maps now plus ``memory_mb``."""
    try:
        import resource

        with open("/proc/self/statm") as fh:
            mapped = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = mapped + int(memory_mb * 2**20)
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):
        pass  # not Linux: no cap


def main(fd_in: int, fd_out: int) -> None:
    """The child's entry point (``python -c``): silence fds 1 and 2, serve requests."""
    faulthandler.disable()
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the oracle's to handle
    signal.signal(signal.SIGALRM, _raise_timeout)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    if sys.path and sys.path[0] in ("", os.getcwd()):
        sys.path.pop(0)
    Server(fd_in, fd_out).serve()
    os._exit(0)
