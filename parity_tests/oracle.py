"""The oracle: hold ANY implementation of the SPEC.md catalogue to the NumPy reference.

    dlparity check --impl TARGET            (or python -m dlparity.parity_tests --impl TARGET)

TARGET is an importable module or package name, a ``.py`` file, or a directory (a package
with ``__init__.py``, or a folder of plain modules). Every registry record
(``registry.py``) whose function the target defines is run on the target and on the
reference with the same inputs; outputs are compared within the one tolerance table
(``tolerances.py``) by the one comparison helper (``compare.py``). Per function:

* forward values and every gradient (random upstream gradients, every registry case);
* output dtype and shape; that no input is written (``dout`` and the optimizers' ``w`` and
  ``dw`` included); finite outputs on extreme valid inputs;
* optimizer trajectories (``--steps`` steps, lr changing between calls, gradients down to
  1e-6), compared through ``next_w`` only, step by step;
* batch-norm running statistics (one step, and a sequence of batches then test mode),
  dropout through a given mask and its ``mode``; initialisers by the statistics of a draw.

Bad-input errors and warnings on valid input are NOTES, never failures. Every call into the
target is guarded: an exception, a wrong return type, a timeout is reported on that
function's line, and the oracle itself never crashes on a bad target.

Attribution. A record covers a forward and its backward: a forward mismatch fails the
forward; a gradient mismatch fails the backward, unless its forward fails too. A function
that fails while a catalogue function it CALLED fails on its own is reported ``via <part>``:
a status that is not its own failure, so one broken function gives one failing line. The
calls are observed (the target's module-level bindings are wrapped for the run); where they
cannot be, the explicit table :data:`DEPENDS_ON` says what may be built from what.

Nothing here imports torch or TensorFlow: checking a NumPy target needs NumPy alone.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import hashlib
import importlib
import importlib.util
import inspect
import io
import json
import math
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

import dlparity.reference as ref
from dlparity import __version__
from dlparity.catalogue import BY_NAME, CATALOGUE, NAMES

from .compare import compare_array
from .impls import FRAMEWORKS
from .oracle_cli import add_check_arguments as add_arguments
from .registry import (
    BY_FUNCTION,
    RECORDS,
    Case,
    OpRecord,
    arrays_in,
    cast,
    flatten,
    make_args,
    run,
    upstream_gradient,
)
from .tolerances import Tol, tolerance

__all__ = [
    "DEPENDS_ON",
    "FunctionResult",
    "Report",
    "Target",
    "TargetError",
    "add_arguments",
    "check",
    "dependents",
    "load_target",
    "main",
    "optimizer_inputs",
    "probe_target",
    "show",
    "snapshot",
    "with_reference_model",
    "written",
]

PASS, FAIL, ERROR, MISSING, VIA, UNTESTED = "PASS", "FAIL", "error", "missing", "via", "untested"
STATUSES = (PASS, FAIL, ERROR, VIA, MISSING, UNTESTED)
#: A case's status where a case beyond SPEC.md's contract did not match: a note.
NOTE = "note"
#: The dtypes a check runs by default (``dlparity check`` without ``--dtype``).
DTYPES = ("float64", "float32")

#: What each function may be built from: the ONE dependency table of the oracle, used when
#: the target's calls cannot be observed (and by ``--only`` to pick what else to run). A
#: function that fails while one of these (or, for a backward, its own forward) fails is
#: reported ``via`` that part. Transitive (a composite's backward depends on the composite's
#: forward, which depends on its parts).
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    # composites (SPEC.md §2 "composites", §4): the documents build them from the layers
    "affine_relu_forward": ("affine_forward", "relu_forward"),
    "affine_relu_backward": ("affine_backward", "relu_backward"),
    "affine_batchnorm_relu_forward": ("affine_forward", "batchnorm_forward", "relu_forward"),
    "affine_batchnorm_relu_backward": ("affine_backward", "batchnorm_backward",
                                       "relu_backward"),
    # log-softmax as the log of the softmax (the reverse, rarer, is not assumed: a cycle
    # could not say which of the two is broken)
    "log_softmax_forward": ("softmax_forward",),
    "log_softmax_backward": ("softmax_forward",),
    # losses that may reuse layers or each other
    "softmax_loss": ("log_softmax_forward", "log_softmax_backward", "softmax_forward",
                     "softmax_backward", "nll_loss"),
    "sigmoid_cross_entropy_loss": ("sigmoid_forward",),
    # information measures: H(p) = H(p, p); KL = cross-entropy - entropy
    "entropy": ("cross_entropy",),
    "kl_divergence": ("entropy", "cross_entropy"),
    "whiten": ("covariance",),
    # a staircase as an exponential decay of the step count
    "step_decay": ("exponential_decay",),
    # the model: its layers and losses
    "FullyConnectedNet": ("affine_forward", "affine_backward", "relu_forward", "relu_backward",
                          "affine_relu_forward", "affine_relu_backward", "batchnorm_forward",
                          "batchnorm_backward", "affine_batchnorm_relu_forward",
                          "affine_batchnorm_relu_backward", "dropout_forward",
                          "dropout_backward", "softmax_loss", "l2_regularization"),
    # the Solver is run on the REFERENCE model (so the target's model is no part of it)
    # with the update rule its registry case names, looked up in the target's own optim
    "Solver": ("sgd_momentum",),
}

# Checks whose failure is an "error" (the target cannot be compared) rather than a "FAIL".
_ERROR_KINDS = ("raised", "timeout", "return type", "oracle", "crashed")


def _is_state_check(kind: str) -> bool:
    """A check of the state a forward stores (batch norm's running statistics), not of
    its output."""
    return "bn_param[" in kind


#: A passing output whose error exceeds this fraction of the tolerance matched only loosely.
NEAR_MISS = 0.01


def _near_miss(err: float, tol: Tol, dtype: np.dtype) -> bool:
    """Whether an output that passed did so only loosely: its error is above NEAR_MISS of
    the tolerance, in a dtype whose tolerance leaves that room above rounding (float64:
    1e-10 against an eps of 2e-16; float32's 2e-5 is only ~170 eps, and a correct float32
    output may use 1 % of it)."""
    room = tol.rtol / float(np.finfo(dtype).eps)
    return room >= 1e4 and err > NEAR_MISS * tol.rtol


def _is_own_kind(kind: str) -> bool:
    """Failures that are always the function's own, whatever its forward did: the shape
    or dtype of its own outputs, a write into its inputs, the wrong number of outputs."""
    return kind.startswith(("shape:", "dtype:")) or kind in ("mutation", "return type")

#: Statistics of initialisers: this many standard errors (as parity_tests/test_statistics).
Z_STATISTICS = 5.0


# ============================================================================ target


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


_LOADED = 0


def _unique_name(stem: str) -> str:
    global _LOADED
    _LOADED += 1
    safe = "".join(c if c.isalnum() else "_" for c in stem)
    return f"_dlparity_target_{_LOADED}_{safe}"


def _import_error(spec: str, exc: BaseException) -> TargetError:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" ({tb[-1].filename}:{tb[-1].lineno})" if tb else ""
    return TargetError(f"cannot import {spec}: {type(exc).__name__}: {exc}{where}")


def _load_file(path: Path, package_dir: Path | None = None) -> ModuleType:
    """Import a .py file (or a package's __init__.py) under a fresh, unique name."""
    if package_dir is not None:
        spec = importlib.util.spec_from_file_location(
            _unique_name(package_dir.name), package_dir / "__init__.py",
            submodule_search_locations=[str(package_dir)])
    else:
        spec = importlib.util.spec_from_file_location(_unique_name(path.stem), path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(spec.name, None)
        raise
    return module


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
    """A folder of plain modules, imported as the submodules of a fresh package (so
    ``from .layers import x`` works) with the folder first on sys.path (so ``import
    layers`` works too)."""
    files = sorted(p for p in path.glob("*.py")
                   if not p.name.startswith(("test_", "conftest", "setup", "__")))
    if not files:
        raise TargetError(f"cannot import {path}: the directory has no .py files")
    name = _unique_name(path.name)
    package = ModuleType(name)
    package.__path__ = [str(path)]
    package.__spec__ = importlib.util.spec_from_loader(name, loader=None, is_package=True)
    package.__spec__.submodule_search_locations = [str(path)]
    sys.modules[name] = package
    with _on_path(path, [p.stem for p in files]):
        return [importlib.import_module(f"{name}.{p.stem}") for p in files]


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
    """The package's submodules named like catalogue modules (layers, optim, ...)."""
    found = []
    for mod in dict.fromkeys(e.module for e in CATALOGUE):
        if all(hasattr(package, e.name) for e in CATALOGUE if e.module == mod):
            continue
        name = f"{package.__name__}.{mod}"
        try:
            if importlib.util.find_spec(name) is None:
                continue
        except (ImportError, ValueError):
            continue
        found.append(importlib.import_module(name))  # an ImportError here is the target's
    return found


class _WithReferenceModel:
    """The target's functions, but the REFERENCE FullyConnectedNet: the Solver is checked
    on a model known to be right, so a model bug is never blamed on the Solver."""

    def __init__(self, impl: Any) -> None:
        self._impl = impl

    def __getattr__(self, name: str) -> Any:
        if name == "FullyConnectedNet":
            return ref.FullyConnectedNet
        return getattr(self._impl, name)


def with_reference_model(impl: Any) -> Any:
    """``impl`` with the reference's ``FullyConnectedNet`` (how the oracle runs a Solver)."""
    return _WithReferenceModel(impl)


# ============================================================================ guarded calls


class _Timeout(BaseException):
    """Raised by SIGALRM inside a target call (BaseException: a target's ``except
    Exception`` does not swallow it)."""


@dataclass
class _Failure(Exception):
    """A check of ``owner`` that failed in a way that stops the case."""

    owner: str
    kind: str  # raised | timeout | return type | mutation | oracle | <output label>
    message: str
    rel_error: float | None = None  # None: not a numeric comparison (type, mutation, ...)
    exc_type: type | None = None  # the exception class, for kind "raised"


def _timeouts_available() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def snapshot(obj: Any, name: str = "args") -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Every array reachable in ``obj`` with a copy of its values (see :func:`written`)."""
    return [(path, arr, arr.copy()) for path, arr in arrays_in(obj, name)]


def written(snap: list[tuple[str, np.ndarray, np.ndarray]]) -> list[str]:
    """Paths of the arrays of a :func:`snapshot` whose values changed since (a dict entry
    REPLACED by a new array, as batch norm does with its running statistics, is not a
    write: the array that was passed in keeps its values)."""
    return [path for path, arr, old in snap if not _same(old, arr)]


def _param_names(name: str) -> list[str]:
    """Positional parameter names of the reference's ``name`` (labels for messages)."""
    obj = getattr(ref, name, None)
    try:
        return list(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        return []


def _watch_args(name: str, args: Sequence[Any], suffix: str = "") -> list[tuple[str, Any]]:
    names = _param_names(name)
    return [(f"{names[i] if i < len(names) else f'argument {i + 1}'}{suffix}", a)
            for i, a in enumerate(args)]


class _Session:
    """Per-run bookkeeping of target calls: time budgets, warnings, printed output."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.alarm = False
        self.used: dict[str, float] = {}
        self.notes: dict[str, list[str]] = {}
        self.bad_input: dict[str, list[str]] = {}
        self.case = ""
        self.collect_warnings = True
        self.calling: set[str] | None = None  # catalogue functions called by the current call
        self.observed: dict[str, set[str]] = {}  # owner -> every catalogue function it called
        # Told (owner, case) before every target call: how an isolating parent learns which
        # function was running when its child process died (isolation.py).
        self.progress: Callable[[str, str], None] | None = None
        self.skip: set[str] = set()  # functions not to call (they crashed the process)

    @contextlib.contextmanager
    def alarms(self) -> Iterator[None]:
        """SIGALRM raises a timeout inside target calls while the run lasts (main thread
        only: elsewhere, and on platforms without SIGALRM, calls are not timed out)."""
        if not _timeouts_available():
            yield
            return
        previous = signal.signal(signal.SIGALRM, _raise_timeout)
        self.alarm = True
        try:
            yield
        finally:
            self.alarm = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def note(self, owner: str, text: str) -> None:
        notes = self.notes.setdefault(owner, [])
        if text not in notes:
            notes.append(text)


class _Calls:
    """Calls into one implementation. For the reference: plain calls. For a target: each
    call guarded (exceptions, timeouts, warnings, printing) and its inputs watched."""

    def __init__(self, impl: Any, session: _Session | None) -> None:
        self.impl = impl
        self.session = session

    def has(self, name: str) -> bool:
        return self.session is None or (self.impl.defines(name)
                                        and name not in self.session.skip)

    def fn(self, name: str) -> Callable[..., Any]:
        return getattr(self.impl, name)

    def __call__(self, owner: str, fn: Callable[..., Any], *args: Any,
                 watch: Sequence[tuple[str, Any]] | None = None) -> Any:
        if self.session is None:
            return fn(*args)
        watch = _watch_args(owner, args) if watch is None else watch
        snap = [item for label, obj in watch for item in snapshot(obj, label)]
        result = self._guarded(owner, fn, args)
        changed = written(snap)
        if changed:
            raise _Failure(owner, "mutation", f"{owner} wrote into its input {changed[0]} "
                           f"(SPEC.md §1: no function mutates an input array)")
        return result

    def _guarded(self, owner: str, fn: Callable[..., Any], args: Sequence[Any]) -> Any:
        s = self.session
        assert s is not None
        remaining = s.timeout - s.used.get(owner, 0.0)
        if remaining <= 0:
            raise _Failure(owner, "timeout", f"{owner} used up its {s.timeout:g} s budget")
        out, err = io.StringIO(), io.StringIO()
        if s.progress is not None:
            s.progress(owner, s.case)
        start = time.perf_counter()
        s.calling = set()
        try:
            with warnings.catch_warnings(record=True) as caught, \
                    contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                    np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"):
                warnings.simplefilter("always")
                if s.alarm:  # repeats every second: a target swallowing one alarm gets another
                    signal.setitimer(signal.ITIMER_REAL, remaining, 1.0)
                try:
                    result = fn(*args)
                finally:
                    if s.alarm:
                        signal.setitimer(signal.ITIMER_REAL, 0)
        except _Timeout:
            raise _Failure(owner, "timeout", f"{owner} did not return within its "
                           f"{s.timeout:g} s budget (--timeout)") from None
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 -- anything the target raises
            raise _Failure(owner, "raised", f"{owner} raised {type(exc).__name__}: "
                           f"{_short(str(exc))}{_where(exc)}", exc_type=type(exc)) from None
        finally:
            s.used[owner] = s.used.get(owner, 0.0) + time.perf_counter() - start
            s.observed.setdefault(owner, set()).update(s.calling - {owner})
            s.calling = None
        for w in caught if s.collect_warnings else ():
            s.note(owner, f"warning on valid input [{s.case}]: {w.category.__name__}: "
                          f"{_short(str(w.message))}")
        if out.getvalue() or err.getvalue():
            s.note(owner, "printed to stdout/stderr (suppressed by the oracle)")
        return result


@contextlib.contextmanager
def _observe_calls(target: Target, session: _Session) -> Iterator[int]:
    """Record which catalogue functions each target call reaches: every module-level
    binding of one of the target's catalogue functions (aliases included) is replaced, for
    the run, by a wrapper noting the name. Yields the number of bindings replaced (0: the
    calls cannot be observed, and the oracle falls back on :data:`DEPENDS_ON`)."""
    names = {id(obj): name for name, obj in target.functions.items()
             if inspect.isfunction(obj)}
    modules = list(dict.fromkeys(target.modules + _sibling_modules(target)))
    patched: list[tuple[ModuleType, str, Any]] = []

    def wrap(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def recording(*args: Any, **kwargs: Any) -> Any:
            if session.calling is not None:
                session.calling.add(name)
            return fn(*args, **kwargs)
        return recording

    try:
        for module in modules:
            for attr, value in list(vars(module).items()):
                if id(value) in names and inspect.isfunction(value):
                    patched.append((module, attr, value))
                    setattr(module, attr, wrap(names[id(value)], value))
        yield len(patched)
    finally:
        for module, attr, value in reversed(patched):
            setattr(module, attr, value)


def _sibling_modules(target: Target) -> list[ModuleType]:
    """Modules the target's modules imported from the target's own folder (a folder of
    plain modules importing each other with ``import layers``)."""
    folders = {str(Path(m.__file__).resolve().parent) for m in target.modules
               if getattr(m, "__file__", None)}
    found = [m for pkg in target.modules if hasattr(pkg, "__path__")
             for name, m in list(sys.modules.items()) if name.startswith(pkg.__name__ + ".")]
    for module in target.modules:
        for value in vars(module).values():
            path = getattr(value, "__file__", None) if isinstance(value, ModuleType) else None
            if path and str(Path(path).resolve().parent) in folders:
                found.append(value)
    return found


def _raise_timeout(signum: int, frame: Any) -> None:
    raise _Timeout


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _where(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    return f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""


# ============================================================================ protocols
#
# Each runner yields observations ``(owner, {label: value})`` in a fixed order; the oracle
# runs it once on the reference (plain calls) and once on the target (guarded calls) and
# compares the two streams observation by observation.

Obs = tuple[str, dict[str, Any]]


def _pair(owner: str, result: Any, what: str) -> tuple[Any, Any]:
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise _Failure(owner, "return type", f"{owner} returned {_describe(result)}; "
                       f"expected a tuple {what}")
    return result[0], result[1]


def _describe(obj: Any) -> str:
    if isinstance(obj, np.ndarray):
        return f"an ndarray of shape {obj.shape}"
    if isinstance(obj, tuple | list):
        return f"a {type(obj).__name__} of length {len(obj)}"
    return f"{type(obj).__module__}.{type(obj).__name__}"


def _layer_obs(calls: _Calls, record: OpRecord, args: Sequence[Any],
               dout_for: Callable[[Any], np.ndarray]) -> Iterator[Obs]:
    fwd, bwd = record.name, record.backward
    out, cache = _pair(fwd, calls(fwd, calls.fn(fwd), *args), "(out, cache)")
    yield fwd, {"forward": out}
    if record.state is not None:
        bn_param = args[-1]
        state = {}
        for key in ("running_mean", "running_var"):
            if not isinstance(bn_param, dict) or key not in bn_param:
                raise _Failure(fwd, f"bn_param[{key!r}]", f"{fwd} did not store "
                               f"bn_param[{key!r}] (SPEC.md §4 batchnorm)")
            state[f"bn_param[{key!r}]"] = bn_param[key]
        yield fwd, state
    if bwd is None or not calls.has(bwd):
        return
    dout = dout_for(out)
    watch = [("dout", dout), *_watch_args(fwd, args, " (through the cache)")]
    grads = calls(bwd, calls.fn(bwd), dout, cache, watch=watch)
    if not isinstance(grads, tuple | list):
        grads = (grads,)
    if len(grads) != len(record.grad_names):
        raise _Failure(bwd, "return type", f"{bwd} returned {len(grads)} value(s); expected "
                       f"{len(record.grad_names)}: {', '.join(record.grad_names)}")
    yield bwd, dict(zip(record.grad_names, grads, strict=True))


def _loss_obs(calls: _Calls, record: OpRecord, args: Sequence[Any]) -> Iterator[Obs]:
    name = record.name
    value, grad = _pair(name, calls(name, calls.fn(name), *args), "(loss, grad)")
    first = (_param_names(name) or ["x"])[0]
    yield name, {"loss": value, f"d{first}": grad}


def _value_obs(calls: _Calls, record: OpRecord, args: Sequence[Any]) -> Iterator[Obs]:
    yield record.name, flatten(calls(record.name, calls.fn(record.name), *args))


def _optimizer_obs(calls: _Calls, record: OpRecord,
                   inputs: tuple[np.ndarray, list, dict, list]) -> Iterator[Obs]:
    name = record.name
    w, grads, config, lrs = inputs
    for k, (dw, lr) in enumerate(zip(grads, lrs, strict=True), start=1):
        if lr is not None:
            if not isinstance(config, dict):
                raise _Failure(name, "return type", f"{name} returned config "
                               f"{_describe(config)}; expected the config dict")
            config["learning_rate"] = lr
        result = calls(name, calls.fn(name), w, dw, config, watch=[("w", w), ("dw", dw)])
        w, config = _pair(name, result, "(next_w, config)")
        yield name, {f"state after step {k}": w}


def _model_obs(calls: _Calls, record: OpRecord, case: Case, args: Sequence[Any],
               seed: int) -> Iterator[Obs]:
    name = record.name
    impl = calls.impl if record.protocol == "model" else with_reference_model(calls.impl)
    if record.protocol == "model":
        watch = [("X", args[1]), ("y", args[2])]
    else:
        watch = [("data", args[1])]
        args = (args[0], args[1], _accepted(calls.fn(name), args[2], optional=("verbose",)))
    outputs = calls(name, lambda: run(impl, record, case, args, seed=seed), watch=watch)
    yield name, outputs


def _accepted(fn: Any, kwargs: dict[str, Any], optional: Sequence[str]) -> dict[str, Any]:
    """``kwargs`` without the ``optional`` ones ``fn`` does not take (e.g. a Solver without
    ``verbose``): SPEC.md does not require them."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return kwargs
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in params or k not in optional}


def optimizer_inputs(record: OpRecord, case: Case, seed: int = 0, steps: int | None = None,
                     dtype: Any = np.float64) -> tuple[np.ndarray, list, dict, list]:
    """An optimizer case's ``(w, [dw_k], config, [lr_k])`` in ``dtype``; where the case
    clips, the gradients are clipped beforehand by the REFERENCE ``clip_by_global_norm``
    (so an optimizer is never blamed for the target's clipping)."""
    w, grads, config, lrs, clip_norm = make_args(record, case, seed, steps)
    if clip_norm is not None:
        grads = [ref.clip_by_global_norm([g], clip_norm)[0][0] for g in grads]
    return cast(w, dtype), cast(list(grads), dtype), copy.deepcopy(config), list(lrs)


# ============================================================================ comparison


def _kind_of(value: Any) -> str | None:
    """'array' for NumPy arrays/scalars, 'number' for Python numbers, None otherwise."""
    if isinstance(value, np.ndarray | np.generic):
        return "array"
    if isinstance(value, bool | int | float):
        return "number"
    return None


def _compare(owner: str, label: str, got: Any, want: Any, want_dtype: np.dtype | None,
             tol: Tol) -> tuple[_Failure | None, float]:
    """One output against the reference: type, shape, dtype, then values."""
    kind = _kind_of(got)
    if kind is None or (kind == "array" and np.asarray(got).dtype.kind not in "biuf"):
        return _Failure(owner, "return type", f"{label}: expected a NumPy array or number, "
                        f"received {_describe(got)}"), np.inf
    if isinstance(want, np.ndarray) and want.ndim > 0 and not isinstance(got, np.ndarray):
        return _Failure(owner, "return type", f"{label}: expected a NumPy array, received "
                        f"{_describe(got)}"), np.inf
    got_arr, want_arr = np.asarray(got), np.asarray(want)
    if got_arr.shape != want_arr.shape:
        return _Failure(owner, f"shape: {label}", f"{label} has shape {got_arr.shape}; the "
                        f"reference's is {want_arr.shape}"), np.inf
    if want_dtype is not None and got_arr.dtype != want_dtype:
        return _Failure(owner, f"dtype: {label}", f"{label} has dtype {got_arr.dtype}; "
                        f"expected {want_dtype} (output dtype follows input dtype)"), np.inf
    mismatch, err = compare_array(label, got_arr, want_arr, tol, check_dtype=False)
    if mismatch is None:
        return None, err
    a64 = got_arr.astype(np.float64)
    nonfinite = bool(np.any(~np.isfinite(a64) & np.isfinite(want_arr.astype(np.float64))))
    check = f"non-finite: {label}" if nonfinite else label
    return _Failure(owner, check, str(mismatch), err), err


def _statistics(owner: str, got: Any, want: np.ndarray) -> tuple[_Failure | None, float]:
    """An initialiser's draw against the reference's: mean, std and truncation."""
    if not isinstance(got, np.ndarray) or got.dtype.kind != "f":
        return _Failure(owner, "return type", f"expected a floating ndarray, received "
                        f"{_describe(got)}"), np.inf
    if got.shape != want.shape:
        return _Failure(owner, "shape: out", f"shape {got.shape}; the reference's is "
                        f"{want.shape}"), np.inf
    g, w = got.astype(np.float64), want.astype(np.float64)
    if not np.all(np.isfinite(g)):
        return _Failure(owner, "non-finite: out", "non-finite values in the draw"), np.inf
    n = g.size
    se_mean = math.sqrt(g.var() / n + w.var() / n)
    se_std = w.std() * math.sqrt(1.0 / n)
    std_err = abs(g.std() - w.std()) / max(w.std(), 1e-300)
    if abs(g.mean() - w.mean()) > Z_STATISTICS * se_mean:
        return _Failure(owner, "statistics: mean", f"sample mean {g.mean():.5g}, the "
                        f"reference's {w.mean():.5g} (> {Z_STATISTICS:g} standard errors)",
                        std_err), std_err
    if abs(g.std() - w.std()) > Z_STATISTICS * se_std:
        return _Failure(owner, "statistics: std", f"sample std {g.std():.5g}, the "
                        f"reference's {w.std():.5g} (> {Z_STATISTICS:g} standard errors)",
                        std_err), std_err
    spread = np.abs(w - w.mean()).max()
    if spread < 3 * w.std() and np.abs(g - g.mean()).max() > spread * 1.05:
        return _Failure(owner, "statistics: truncation", f"values reach "
                        f"{np.abs(g - g.mean()).max():.4g} from the mean; the reference's "
                        f"reach {spread:.4g}", std_err), std_err
    return None, std_err


# ============================================================================ results


@dataclass
class Finding:
    """One failed check of one function on one case."""

    function: str
    check: str
    case: str
    message: str
    rel_error: float | None
    status: str  # FAIL or error
    repro: str = ""
    dtype: str = ""  # the dtype of the run that found it

    def to_json(self) -> dict[str, Any]:
        return {"function": self.function, "check": self.check, "case": self.case,
                "dtype": self.dtype, "status": self.status, "message": self.message,
                "rel_error": _json_float(self.rel_error), "repro": self.repro}


@dataclass
class FunctionResult:
    """One line of the report."""

    name: str
    module: str
    status: str = UNTESTED
    worst: float | None = None
    tol: Tol | None = None
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cases: dict[str, str] = field(default_factory=dict)  # case -> PASS / FAIL / error
    via: list[str] = field(default_factory=list)
    dependency_only: bool = False  # shown only because a selected function depends on it
    bad_input: list[str] = field(default_factory=list)  # SPEC's errors not raised (notes)
    # A report over several dtypes: each dtype's own line, and the dtype that alone decides
    # the status (None where every dtype gives the same status).
    by_dtype: dict[str, FunctionResult] = field(default_factory=dict)
    dtype: str | None = None

    @property
    def first(self) -> Finding | None:
        return self.findings[0] if self.findings else None

    def to_json(self) -> dict[str, Any]:
        first = self.first
        return {
            "name": self.name, "module": self.module, "status": self.status,
            "via": self.via, "worst_rel_error": _json_float(self.worst),
            "tolerance": None if self.tol is None else {"rtol": self.tol.rtol,
                                                        "atol": self.tol.atol},
            "check": first.check if first else None, "case": first.case if first else None,
            "message": first.message if first else None,
            "cases": [{"case": c, "status": s} for c, s in self.cases.items()],
            "findings": [f.to_json() for f in self.findings],
            "notes": self.notes, "bad_input": self.bad_input,
            "dependency_only": self.dependency_only,
            "status_from_dtype": self.dtype,
            **({"by_dtype": {d: r.to_json() for d, r in self.by_dtype.items()}}
               if self.by_dtype else {}),
        }


def _json_float(x: float | None) -> float | str | None:
    if x is None:
        return None
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf"
    return float(x)


@dataclass
class Report:
    """The oracle's result: one FunctionResult per catalogue function reported."""

    target: str
    dtype: str
    seed: int
    steps: int
    timeout: float
    strict: bool
    results: list[FunctionResult]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    by_dtype: dict[str, Report] = field(default_factory=dict)  # several dtypes: each one's

    def counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self.results) for s in STATUSES}

    @property
    def exit_status(self) -> int:
        bad = {FAIL, ERROR, VIA} | ({MISSING, UNTESTED} if self.strict else set())
        return 1 if any(r.status in bad for r in self.results) else 0

    def summary(self) -> str:
        c = self.counts()
        parts = [f"{c[PASS]} PASS", f"{c[FAIL]} FAIL", f"{c[ERROR]} error"]
        if c[VIA]:
            parts.append(f"{c[VIA]} failing only via another function (not counted)")
        parts.append(f"{c[MISSING]} missing" + (" (counted: --strict)" if self.strict else ""))
        if c[UNTESTED]:
            parts.append(f"{c[UNTESTED]} untested")
        verdict = "MATCHES the reference" if self.exit_status == 0 else "DOES NOT MATCH"
        decided = sum(r.dtype is not None for r in self.results)
        if decided:
            parts.append(f"{decided} decided by one dtype alone")
        return (f"Summary: {', '.join(parts)} -- {self.target} {verdict} "
                f"({self.dtype}, seed {self.seed}; exit {self.exit_status}; "
                f"{self.seconds:.1f} s)")

    @property
    def dtypes(self) -> list[str]:
        return list(self.by_dtype) if self.by_dtype else [self.dtype]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "dlparity-oracle-report/1",
            "dlparity_version": __version__,
            "oracle_fingerprint": fingerprint(),
            "target": self.target,
            "options": {"dtype": "both" if len(self.dtypes) > 1 else self.dtype,
                        "dtypes": self.dtypes, "seed": self.seed, "steps": self.steps,
                        "timeout": self.timeout, "strict": self.strict},
            "exit_status": self.exit_status,
            "summary": self.counts(),
            "notes": self.notes,
            "functions": [r.to_json() for r in self.results],
        }

    def format(self, repro: bool = True, quiet: bool = False, verbose: bool = False) -> str:
        """The printed report: a table, the failures with repro snippets, notes, summary."""
        width = max([len(r.name) for r in self.results] + [8])
        lines = [f"dlparity oracle {__version__} (fingerprint {fingerprint()}): {self.target}",
                 f"dtype {self.dtype}, seed {self.seed}, optimizer steps {self.steps}, "
                 f"timeout {self.timeout:g} s per function", ""]
        lines += [f"{'function':<{width}}  {'status':<22}  {'worst rel.err':>13}  "
                  f"{'tolerance':>9}  failed check [case]"]
        for r in self.results:
            if quiet and r.status in (PASS, MISSING):
                continue
            status = r.status if r.status != VIA else f"via {', '.join(r.via)}"
            if r.dtype is not None:  # the dtypes disagree: say which one decided
                status += f" ({r.dtype})"
            worst = "" if r.worst is None else f"{r.worst:.2g}"
            tol = "" if r.tol is None or r.status in (MISSING, UNTESTED) else f"{r.tol.rtol:g}"
            first = r.first
            what = f"{first.check} [{first.case}]" if first else ""
            if first and len(self.dtypes) > 1 and r.dtype is None:
                what = f"{first.check} [{first.case}, {first.dtype}]"
            if r.status == UNTESTED and r.notes:
                what = r.notes[0]
            if r.dependency_only:
                what += " (a dependency of a selected function)"
            lines.append(f"{r.name:<{width}}  {status:<22}  {worst:>13}  {tol:>9}  {what}"
                         .rstrip())
        failing = [r for r in self.results if r.status in (FAIL, ERROR)]
        if failing:
            lines += ["", "Failures (each function's first failed check; "
                          "`via` lines fail only through these):"]
            for r in failing:
                f = r.first
                assert f is not None
                lines += ["", f"{r.name}: {f.status} in check {f.check!r}, case {f.case!r}, "
                              f"{f.dtype}", f"  {f.message}"]
                if repro and f.repro:
                    lines += ["  Repro:", *("    " + ln for ln in f.repro.splitlines())]
        noted = [(r.name, n) for r in self.results for n in r.notes if r.status != UNTESTED]
        lenient = [r for r in self.results if r.bad_input]
        if noted or self.notes or lenient:
            lines += ["", "Notes (not failures):"]
            lines += [f"  {n}" for n in self.notes]
            lines += [f"  {name}: {n}" for name, n in noted]
            if lenient and verbose:
                lines += [f"  {r.name}: bad input ({b})" for r in lenient for b in r.bad_input]
            elif lenient:
                names = _short(", ".join(r.name for r in lenient), 120)
                lines.append(f"  bad input: {len(lenient)} function(s) do not raise SPEC.md's "
                             f"ValueError/TypeError on some bad input ({names}); details "
                             "with --verbose or in the JSON report")
        lines += ["", self.summary()]
        return "\n".join(lines)


# ============================================================================ the engine


#: The parity_tests modules whose change can change a verdict.
_ORACLE_MODULES = ("registry.py", "tolerances.py", "compare.py", "oracle.py", "isolation.py",
                   "oracle_cli.py")


def fingerprint_files() -> list[tuple[str, Path]]:
    """Every source file whose change can change a verdict, as (stable label, path): the
    reference, the argument contract (validation and defaults), validate.py, the
    catalogue, and the oracle's own modules (registry, tolerances, comparison, engine,
    isolation, options)."""
    import dlparity
    import dlparity.contract as contract

    here = Path(__file__).resolve().parent
    package = Path(dlparity.__file__).resolve().parent
    files = [(f"reference/{p.name}", p)
             for p in sorted(Path(ref.__file__).resolve().parent.glob("*.py"))]
    files += [(f"contract/{p.name}", p)
              for p in sorted(Path(contract.__file__).resolve().parent.glob("*.py"))]
    files += [(f"dlparity/{n}", package / n) for n in ("validate.py", "catalogue.py")]
    files += [(f"parity_tests/{n}", here / n) for n in _ORACLE_MODULES]
    return files


def fingerprint(files: Sequence[tuple[str, Path]] | None = None) -> str:
    """A short hash of the oracle's sources (:func:`fingerprint_files`): cite it with the
    version to pin exactly the oracle that was used."""
    digest = hashlib.sha256()
    for label, path in fingerprint_files() if files is None else files:
        digest.update(label.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _closure(names: set[str]) -> set[str]:
    """``names`` with everything they depend on (a backward depends on its forward)."""
    todo, seen = list(names), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += list(_dependencies(name))
    return seen


def dependents(name: str) -> list[str]:
    """Catalogue names that may fail ``via`` ``name`` (the inverse of :data:`DEPENDS_ON`,
    transitively, plus a forward's backward)."""
    return [n for n in NAMES if n != name and name in _closure({n})]


def _dependencies(name: str) -> tuple[str, ...]:
    deps = list(DEPENDS_ON.get(name, ()))
    for record in BY_FUNCTION.get(name, []):
        if record.backward == name:
            deps.append(record.name)
    return tuple(dict.fromkeys(deps))


_REFERENCE_CACHE: dict[tuple, tuple[list[Obs], list[dict[str, np.dtype | None]], Any]] = {}


class _Checker:
    """Runs the records on a target and collects findings per function."""

    def __init__(self, target: Target, dtype: str, seed: int, steps: int, timeout: float):
        self.target = target
        self.dtype = np.dtype(dtype)
        self.seed = seed
        self.steps = steps
        self.session = _Session(timeout)
        self.findings: dict[str, list[Finding]] = {}
        self.worst: dict[str, float] = {}
        self.cases: dict[str, dict[str, str]] = {}
        self.tols: dict[str, Tol] = {}
        # function -> cases where its OUTPUT failed (not only the state it stores): a
        # backward failing in such a case may be explained by its forward (attribution).
        self.output_failed: dict[str, set[str]] = {}
        # function -> cases where its output passed, but loosely: see _near_miss.
        self.near_miss: dict[str, set[str]] = {}

    # -------------------------------------------------------------- inputs and reference

    def _args(self, record: OpRecord, case: Case) -> Any:
        args = make_args(record, case, self.seed, self.steps)
        if self.target.framework in record.conventions:
            args = record.conventions[self.target.framework][0](args)
        return args

    def _reference(self, record: OpRecord, case: Case):
        """The reference's observations in float64 on the target-dtype values, the expected
        output dtypes (from a run in the target dtype), and the upstream gradient."""
        key = (id(record), case.name, self.dtype.name, self.seed, self.steps,
               self.target.framework)
        if key not in _REFERENCE_CACHE:
            with np.errstate(all="ignore"):  # whatever a target set globally at import
                self._fill_reference(key, record, case)
        return _REFERENCE_CACHE[key]

    def _fill_reference(self, key: tuple, record: OpRecord, case: Case) -> None:
        """Run the reference on the case (float64, and the target dtype for output dtypes)."""
        douts: dict[str, np.ndarray] = {}

        def dout_for(out: Any) -> np.ndarray:
            d = upstream_gradient(record, case, out, self.seed).astype(self.dtype)
            douts["dout"] = d
            return d.astype(np.float64)

        plain = _Calls(ref, None)
        want = list(self._observations(plain, record, case, np.dtype(np.float64),
                                       dout_for))
        typed = want
        if self.dtype != np.float64:  # the output dtypes of a run in the target dtype
            typed = list(self._observations(plain, record, case, self.dtype,
                                            lambda out: douts["dout"]))
        dtypes = [{k: (np.asarray(v).dtype if _kind_of(v) == "array"
                       and np.asarray(v).dtype.kind == "f" else None)
                   for k, v in outs.items()} for _, outs in typed]
        _REFERENCE_CACHE[key] = (want, dtypes, douts.get("dout"))

    def _observations(self, calls: _Calls, record: OpRecord, case: Case, dtype: np.dtype,
                      dout_for: Callable[[Any], np.ndarray]) -> Iterator[Obs]:
        """The protocol's observation stream for ``calls`` on inputs of ``dtype`` (the
        float64 runs get the target-dtype values, so both see the same numbers)."""
        args = cast(cast(self._args(record, case), self.dtype), dtype)
        if record.protocol == "layer":
            return _layer_obs(calls, record, args, dout_for)
        if record.protocol == "loss":
            return _loss_obs(calls, record, args)
        if record.protocol == "value":
            return _value_obs(calls, record, args)
        if record.protocol == "optimizer":
            w, grads, config, lrs = optimizer_inputs(record, case, self.seed, self.steps,
                                                     self.dtype)
            return _optimizer_obs(calls, record, (cast(w, dtype), cast(grads, dtype),
                                                  config, lrs))
        if record.protocol in ("model", "solver"):
            return _model_obs(calls, record, case, args, self.seed)
        raise ValueError(f"no observation runner for protocol {record.protocol!r}")

    # -------------------------------------------------------------- running a case

    def _find(self, failure: _Failure, case: Case) -> None:
        if case.beyond:  # beyond SPEC.md's contract: a note, never a failure
            self.session.note(failure.owner, f"beyond SPEC.md's contract, case {case.name!r} "
                              f"({case.beyond}): {failure.kind}: {_short(failure.message, 160)}")
            self.cases.setdefault(failure.owner, {})[case.name] = NOTE
            return
        if not _is_state_check(failure.kind):
            self.output_failed.setdefault(failure.owner, set()).add(case.name)
        status = ERROR if failure.kind in _ERROR_KINDS else FAIL
        self.cases.setdefault(failure.owner, {})[case.name] = status
        found = self.findings.setdefault(failure.owner, [])
        if any(f.case == case.name for f in found):
            return  # the first failed check of a case is the informative one
        found.append(Finding(failure.owner, failure.kind, case.name, failure.message,
                             failure.rel_error, status))

    def _passed(self, owner: str, case: Case, err: float) -> None:
        self.worst[owner] = max(self.worst.get(owner, 0.0), err)
        self.cases.setdefault(owner, {}).setdefault(case.name, PASS)

    def run_case(self, record: OpRecord, case: Case) -> None:
        self.session.case = case.name
        for name in record.functions:  # initialisers: statistics, no tolerance entry
            if record.protocol != "random":
                self.tols[name] = tolerance(record.name, self.dtype.name)
        if record.protocol == "random":
            self._run_random(record, case)
            return
        try:
            want, dtypes, dout = self._reference(record, case)
        except Exception as exc:  # noqa: BLE001 -- e.g. a target that patched NumPy
            self._find(_Failure(record.name, "oracle", f"the reference itself failed on this "
                                f"case ({type(exc).__name__}: {_short(str(exc))}); was it "
                                f"patched by the target?"), case)
            return
        tol = tolerance(record.name, self.dtype.name, case.name)
        calls = _Calls(self.target, self.session)
        stream = self._observations(calls, record, case, self.dtype,
                                    lambda out: dout.astype(self.dtype))
        index = 0
        try:
            for owner, outs in stream:
                if index >= len(want):
                    raise _Failure(owner, "oracle", "more observations than the reference")
                w_owner, w_outs = want[index]
                expected_dtypes = dtypes[index]
                index += 1
                if owner != w_owner:
                    raise _Failure(owner, "oracle", f"observed {owner}, expected {w_owner}")
                self._compare_outputs(owner, case, outs, w_outs, expected_dtypes, tol, record)
        except _Failure as failure:
            self._find(failure, case)
        except Exception as exc:  # noqa: BLE001 -- never crash on a strange target
            owner = record.name
            self._find(_Failure(owner, "oracle", f"could not be checked: "
                                f"{type(exc).__name__}: {_short(str(exc))}"), case)

    def _compare_outputs(self, owner: str, case: Case, got: Any, want: dict[str, Any],
                         dtypes: dict[str, np.dtype | None], tol: Tol,
                         record: OpRecord) -> None:
        if not isinstance(got, dict) or set(got) != set(want):
            shape = (_short(", ".join(sorted(got)), 80) if isinstance(got, dict)
                     else _describe(got))
            raise _Failure(owner, "return type", f"{owner} returned the outputs {shape}; the "
                           f"reference returns {', '.join(sorted(want))} (see "
                           "registry.flatten: out, out0, out0.1, ...)")
        if record.align is not None:
            got = record.align(got, want)
        worst = 0.0
        failure = None
        for label, ref_value in want.items():
            f, err = _compare(owner, label, got[label], ref_value, dtypes.get(label), tol)
            if f is not None:
                if f.kind == "return type":
                    raise f
                # a shape or dtype failure is reported before a value failure: it is
                # always the function's own (attribution), a value may be inherited
                if failure is None or (_is_own_kind(f.kind) and not _is_own_kind(failure.kind)):
                    failure = f
                continue
            if math.isfinite(err) and err <= tol.rtol:  # not an output passing on atol only
                worst = max(worst, err)
        if failure is not None:
            self._find(failure, case)  # a value mismatch: later observations still run
        else:
            self._passed(owner, case, worst)
            outputs = [label for label in want if not _is_state_check(label)]
            if outputs and _near_miss(worst, tol, self.dtype):
                self.near_miss.setdefault(owner, set()).add(case.name)

    def _run_random(self, record: OpRecord, case: Case) -> None:
        name = record.name
        key = (id(record), case.name, "random", self.seed)
        if key not in _REFERENCE_CACHE:
            _REFERENCE_CACHE[key] = ([], [], getattr(ref, name)(*make_args(record, case,
                                                                           self.seed)))
        want = _REFERENCE_CACHE[key][2]
        args = make_args(record, case, self.seed)
        rng = next((a for a in args if isinstance(a, np.random.Generator)), None)
        state = copy.deepcopy(rng.bit_generator.state) if rng is not None else None
        calls = _Calls(self.target, self.session)
        try:
            got = calls(name, calls.fn(name), *args, watch=[])
        except _Failure as failure:
            self._find(failure, case)
            return
        if rng is not None and rng.bit_generator.state == state:
            self.session.note(name, f"did not draw from the given rng [{case.name}]: "
                                    "results are not reproducible from a seed")
        if isinstance(got, np.ndarray) and got.dtype.kind == "f" and got.dtype != want.dtype:
            self.session.note(name, f"returns {got.dtype}; the reference returns {want.dtype}")
        failure, err = _statistics(name, got, want)
        if failure is not None:
            self._find(failure, case)
        else:
            self._passed(name, case, err)

    # -------------------------------------------------------------- extra checks

    def batchnorm_sequence(self) -> None:
        """Running statistics over several train batches, then test mode on a new batch."""
        name = "batchnorm_forward"
        case = Case(SEQUENCE_CASE, lambda r: ())
        rng = np.random.default_rng(self.seed + 20_240)
        batches = [rng.standard_normal((6, 4)) * 3.0 + rng.standard_normal(4) for _ in range(4)]
        gamma, beta = 1.0 + 0.3 * rng.standard_normal(4), rng.standard_normal(4)
        batches, gamma, beta = cast((batches, gamma, beta), self.dtype)

        def sequence(calls: _Calls, dtype: np.dtype) -> Iterator[Obs]:
            bn_param: dict[str, Any] = {"mode": "train", "momentum": 0.8}
            xs, g, b = cast((batches, gamma, beta), dtype)
            for k, x in enumerate(xs[:-1]):
                out, _ = _pair(name, calls(name, calls.fn(name), x, g, b, bn_param,
                                           watch=[("x", x), ("gamma", g), ("beta", b)]),
                               "(out, cache)")
                yield name, {f"out of batch {k + 1}": out,
                             f"bn_param['running_mean'] after batch {k + 1}":
                                 bn_param.get("running_mean"),
                             f"bn_param['running_var'] after batch {k + 1}":
                                 bn_param.get("running_var")}
            bn_param["mode"] = "test"
            out, _ = _pair(name, calls(name, calls.fn(name), xs[-1], g, b, bn_param),
                           "(out, cache)")
            yield name, {"test-mode out after the sequence": out}

        want = list(sequence(_Calls(ref, None), np.dtype(np.float64)))
        dtypes = [{k: np.dtype(self.dtype) for k in outs} for _, outs in want]
        tol = tolerance(name, self.dtype.name)
        self.session.case = case.name
        try:
            for i, (owner, outs) in enumerate(sequence(_Calls(self.target, self.session),
                                                       self.dtype)):
                for key, value in outs.items():
                    if value is None:
                        raise _Failure(owner, key, f"{name} did not store {key.split(' ')[0]}")
                self._compare_outputs(owner, case, outs, want[i][1], dtypes[i], tol,
                                      BY_FUNCTION[name][0])
        except _Failure as failure:
            self._find(failure, case)
        except Exception as exc:  # noqa: BLE001
            self._find(_Failure(name, "oracle", f"could not be checked: {exc}"), case)

    def probe_bad_inputs(self, record: OpRecord) -> None:
        """SPEC's errors on bad input, as NOTES: where the reference raises, does the target
        raise the same exception class?"""
        case = next((c for c in record.cases if c.oracle), None)
        if case is None or record.protocol not in ("layer", "loss", "value", "optimizer"):
            return
        name = record.name
        base = cast(self._args(record, case), np.float64)
        if record.protocol == "optimizer":
            base = (base[0], base[1][0], dict(base[2], learning_rate=0.1))
        for what, args in _bad_inputs(name, base):
            try:
                getattr(ref, name)(*copy.deepcopy(args))
                continue  # the reference accepts it: not a bad input after all
            except (ValueError, TypeError) as exc:
                expected = ValueError if isinstance(exc, ValueError) else TypeError
            except Exception:  # noqa: BLE001
                continue
            calls = _Calls(self.target, self.session)
            self.session.case = f"bad input: {what}"
            self.session.collect_warnings = False
            try:
                calls(name, calls.fn(name), *copy.deepcopy(args), watch=[])
            except _Failure as failure:
                if failure.exc_type is not None and issubclass(failure.exc_type, expected):
                    continue
                got = (f"raised {failure.exc_type.__name__}" if failure.exc_type
                       else failure.kind)
                self.session.bad_input.setdefault(name, []).append(
                    f"{what}: {got}, SPEC.md asks for a {expected.__name__}")
                continue
            finally:
                self.session.collect_warnings = True
            self.session.bad_input.setdefault(name, []).append(
                f"{what}: accepted, SPEC.md asks for a {expected.__name__}")


def _bad_inputs(name: str, args: tuple) -> list[tuple[str, tuple]]:
    """A few inputs SPEC.md calls bad, derived from a valid call."""
    out: list[tuple[str, tuple]] = []
    params = _param_names(name)
    arrays = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    if arrays:
        i = arrays[0]
        out.append((f"{params[i] if i < len(params) else 'x'} given as a nested list",
                    args[:i] + (args[i].tolist(),) + args[i + 1:]))
        if args[i].ndim >= 1:
            out.append((f"{params[i] if i < len(params) else 'x'} with integer dtype",
                        args[:i] + (args[i].astype(np.int64),) + args[i + 1:]))
    if len(arrays) >= 2 and args[arrays[1]].ndim >= 1 and args[arrays[1]].shape[-1] > 1:
        j = arrays[1]
        out.append((f"{params[j] if j < len(params) else 'argument'} of a mismatched shape",
                    args[:j] + (args[j][..., :-1],) + args[j + 1:]))
    for j, a in enumerate(args):
        if isinstance(a, np.ndarray) and a.dtype.kind == "i" and j > 0 and arrays:
            bad = a.copy()
            bad[0] = args[arrays[0]].shape[-1]
            out.append(("a label out of range", args[:j] + (bad,) + args[j + 1:]))
        if isinstance(a, dict) and "p" in a:
            out.append(("dropout p = 1", args[:j] + ({**a, "p": 1.0},) + args[j + 1:]))
        if isinstance(a, dict) and "mode" in a:
            out.append(("an unknown mode", args[:j] + ({**a, "mode": "bogus"},) + args[j + 1:]))
        if isinstance(a, dict) and "learning_rate" in a:
            out.append(("a negative learning rate",
                        args[:j] + ({**a, "learning_rate": -1.0},) + args[j + 1:]))
    return out


# ============================================================================ one record


def run_record_job(target: Any, record_index: int, options: dict[str, Any],
                   progress: Callable[[str, str], None] | None) -> dict[str, Any]:
    """Run registry record ``RECORDS[record_index]`` on a loaded ``target``: every case
    the oracle runs, the bad-input probes, batch norm's sequence. Returns the findings as
    plain data (what a child process sends back to the parent, see isolation.py)."""
    record = RECORDS[record_index]
    checker = _Checker(target, options["dtype"], options["seed"], options["steps"],
                       options["timeout"])
    session = checker.session
    session.progress = progress
    session.skip = set(options.get("skip", ()))
    if record.name in session.skip:
        return _Collected().as_part()
    with session.alarms(), _observe_calls(target, session) as observable:
        for case in record.cases:
            if case.oracle:
                checker.run_case(record, case)
        if options["probes"]:
            checker.probe_bad_inputs(record)
        if record.name == "batchnorm_forward":
            checker.batchnorm_sequence()
    return {"findings": checker.findings, "cases": checker.cases, "worst": checker.worst,
            "tols": checker.tols, "notes": session.notes, "bad_input": session.bad_input,
            "observed": session.observed, "output_failed": checker.output_failed,
            "near_miss": checker.near_miss,
            "observable": observable, "timeouts": _timeouts_available()}


@dataclass
class _Collected:
    """The merged results of every record run for one dtype."""

    findings: dict[str, list[Finding]] = field(default_factory=dict)
    cases: dict[str, dict[str, str]] = field(default_factory=dict)
    worst: dict[str, float] = field(default_factory=dict)
    tols: dict[str, Tol] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    bad_input: dict[str, list[str]] = field(default_factory=dict)
    observed: dict[str, set[str]] = field(default_factory=dict)
    output_failed: dict[str, set[str]] = field(default_factory=dict)
    near_miss: dict[str, set[str]] = field(default_factory=dict)
    observable: int = 0
    timeouts: bool = True

    def add(self, part: dict[str, Any]) -> None:
        for name, found in part["findings"].items():
            self.findings.setdefault(name, []).extend(found)
        for name, cases in part["cases"].items():
            self.cases.setdefault(name, {}).update(cases)
        for name, err in part["worst"].items():
            self.worst[name] = max(self.worst.get(name, 0.0), err)
        self.tols.update(part["tols"])
        for name, notes in part["notes"].items():
            mine = self.notes.setdefault(name, [])
            mine += [n for n in notes if n not in mine]
        for name, bad in part["bad_input"].items():
            self.bad_input.setdefault(name, []).extend(bad)
        for key in ("observed", "output_failed", "near_miss"):
            for name, names in part[key].items():
                getattr(self, key).setdefault(name, set()).update(names)
        self.observable = max(self.observable, part["observable"])
        self.timeouts = self.timeouts and part["timeouts"]

    def as_part(self) -> dict[str, Any]:
        """Nothing found: the shape of :func:`run_record_job`'s result."""
        return {"findings": {}, "cases": {}, "worst": {}, "tols": {}, "notes": {},
                "bad_input": {}, "observed": {}, "output_failed": {}, "near_miss": {},
                "observable": 0, "timeouts": True}

    def crashed(self, record: OpRecord, crash: Any) -> str:
        """The record's run died (isolation.Crash): an error for the function running."""
        owner = crash.owner if crash.owner in record.functions else record.name
        case = crash.case or "(loading)"
        self.findings.setdefault(owner, []).append(
            Finding(owner, crash.kind, case, crash.message, None, ERROR))
        self.cases.setdefault(owner, {})[case] = ERROR
        self.output_failed.setdefault(owner, set()).add(case)
        return owner


# ============================================================================ public API


def _dtypes(dtype: str | Sequence[str] | None) -> tuple[str, ...]:
    """None or 'both': float64 and float32; a name; or a sequence of names."""
    if dtype is None or dtype == "both":
        return DTYPES
    names = (dtype,) if isinstance(dtype, str) else tuple(dtype)
    bad = [d for d in names if d not in DTYPES]
    if bad or not names:
        raise ValueError(f"dtype must be 'float64', 'float32', 'both' or a sequence of the "
                         f"first two; received {dtype!r}")
    return tuple(np.dtype(d).name for d in dict.fromkeys(names))


def _runner(target: Target | str, isolate: bool | None, memory_mb: float) -> Any:
    """Where the records run: a child process (isolation.py) or this process."""
    from . import isolation

    if isolate is None:
        own_twin = not isinstance(target, str) and target.framework is not None
        isolate = isolation.fork_available() and not own_twin
    if isolate:
        if not isolation.fork_available():
            raise ValueError("isolate=True needs the 'fork' start method, which this "
                             "platform does not have")
        return isolation.ChildProcess(target, load_target, run_record_job, memory_mb=memory_mb)
    return isolation.InProcess(load_target(target) if isinstance(target, str) else target,
                               run_record_job)


def probe_target(spec: str) -> Any:
    """Load TARGET the way :func:`check` would (in a child process where it can) and
    return what it defines (an ``isolation.TargetInfo``); raise TargetError if it cannot."""
    runner = _runner(spec, None, 4096)
    runner.close()
    return runner.info


def check(target: Target | str, *, dtype: str | Sequence[str] | None = None, seed: int = 0,
          steps: int = 100, timeout: float = 20.0, only: Sequence[str] | None = None,
          strict: bool = False, probes: bool = True, isolate: bool | None = None,
          memory_mb: float = 4096) -> Report:
    """Check ``target`` (a Target or a TARGET string) against the reference.

    ``dtype``: 'float64', 'float32', or None / 'both' (the default: both, each function
    reported by the worse of the two, the report keeping each in ``by_dtype``).
    ``isolate``: run the target in a child process (the default where ``fork`` exists,
    except for dlparity's own torch/TF twins); ``memory_mb`` caps what it may allocate.
    """
    start = time.perf_counter()
    dtypes = _dtypes(dtype)
    selected = set(only) if only else set(NAMES)
    unknown = sorted(selected - set(NAMES))
    if unknown:
        raise ValueError(f"--only: not catalogue names: {', '.join(unknown)}")
    runner = _runner(target, isolate, memory_mb)
    if not runner.info.names:
        runner.close()
        raise TargetError(f"{runner.info.label} defines none of the SPEC.md catalogue names "
                          "(see `dlparity functions`)")
    try:
        runs = {dt: _run_dtype(runner, dt, seed, steps, timeout, selected, probes)
                for dt in dtypes}
    finally:
        runner.close()
    # a function failing in any dtype may explain a near miss of its backward in another
    failing_any = {r.name for _, results in runs.values() for r in results
                   if r.status in (FAIL, ERROR)}
    reports = [_report(runner, dt, got, results, selected, seed, steps, timeout, strict,
                       failing_any) for dt, (got, results) in runs.items()]
    report = reports[0] if len(reports) == 1 else _merge_dtypes(reports)
    if not runner.isolated:
        report.notes.append("the target ran in the oracle's own process (isolate=False, no "
                            "fork on this platform, or dlparity's own framework twin)")
    report.seconds = time.perf_counter() - start
    return report


def _run_dtype(runner: Any, dtype: str, seed: int, steps: int, timeout: float,
               selected: set[str], probes: bool) -> tuple[_Collected, list[FunctionResult]]:
    """Run every record needed for ``selected`` in one dtype; one line per function."""
    from .isolation import Crash

    info = runner.info
    options = {"dtype": dtype, "seed": seed, "steps": steps, "timeout": timeout,
               "probes": probes}
    got = _Collected()
    wanted = _closure(selected)
    done: set[int] = set()
    ran: set[str] = set()
    while True:  # a second pass runs what the checked functions were SEEN to call
        todo = [i for i, rec in enumerate(RECORDS) if i not in done
                and set(rec.functions) & wanted and info.defines(rec.name)]
        if not todo:
            break
        for index in todo:
            record = RECORDS[index]
            done.add(index)
            ran.update(f for f in record.functions if info.defines(f))
            skip: list[str] = []
            while True:  # a crash: again without the function that crashed, for the others
                try:
                    if runner.isolated:
                        got.add(runner.run(index, dict(options, record=record.name, skip=skip),
                                           functions=len(record.functions)))
                    else:
                        got.add(runner.run(index, options))
                    break
                except Crash as crash:
                    skip.append(got.crashed(record, crash))
                    if record.name in skip or len(skip) >= len(record.functions):
                        break
        seen = {f for calls in got.observed.values() for f in calls}
        wanted |= _closure(seen & set(NAMES))

    results = [_function_result(entry.name, entry.module, info, ran, got)
               for entry in CATALOGUE if entry.name in wanted]
    return got, results


def _report(runner: Any, dtype: str, got: _Collected, results: list[FunctionResult],
            selected: set[str], seed: int, steps: int, timeout: float, strict: bool,
            failing_any: set[str]) -> Report:
    """One dtype's report: attribute, choose the lines shown, notes and repro snippets."""
    info = runner.info

    def parts(name: str) -> set[str]:
        """What ``name`` was built from: the calls seen (or, when calls cannot be observed,
        DEPENDS_ON); a backward's forward is handled per case by ``_attribute``."""
        found = set(got.observed.get(name, set())) if got.observable else \
            set(DEPENDS_ON.get(name, ()))
        return found & set(NAMES)

    _attribute(results, parts, got.output_failed, got.near_miss, failing_any)
    roots = {v for r in results if r.name in selected and r.status == VIA for v in r.via}
    shown = [r for r in results if r.name in selected or r.name in roots]
    for r in shown:
        r.dependency_only = r.name not in selected
    report = Report(info.label, dtype, seed, steps, timeout, strict, shown)
    borrowed = [r.name for r in shown if r.name in info.borrowed]
    if borrowed:
        report.notes.append(f"{len(borrowed)} of the functions checked are dlparity.reference's "
                            f"own (imported, not implemented): {_short(', '.join(borrowed), 160)}")
    if not got.timeouts and not runner.isolated:
        report.notes.append("timeouts are not enforced: the oracle is not running in the main "
                            "thread, or this platform has no SIGALRM")
    for r in shown:
        for f in r.findings:
            f.dtype = dtype
            f.repro = repro(info, f.function, f.case, dtype, seed, steps)
    return report


def _function_result(name: str, module: str, info: Any, ran: set[str],
                     got: _Collected) -> FunctionResult:
    r = FunctionResult(name, module, tol=got.tols.get(name))
    if not info.defines(name):
        r.status = MISSING
    elif name not in ran:
        forward = [rec.name for rec in BY_FUNCTION.get(name, []) if rec.backward == name]
        r.status = UNTESTED
        r.notes.append(f"cannot be checked without {forward[0]} (its cache)"
                       if forward else "no registry case the oracle runs")
    else:
        r.findings = got.findings.get(name, [])
        r.cases = got.cases.get(name, {})
        if any(f.status == ERROR for f in r.findings):
            r.status = ERROR
        elif r.findings:
            r.status = FAIL
        elif name in got.cases:
            r.status = PASS
        else:  # defined, but every case stopped before reaching it
            r.status = UNTESTED
            r.notes.append(f"never reached: {', '.join(_dependencies(name))} failed "
                           "first in every case")
        failing = [f.rel_error for f in r.findings if f.status == FAIL and f.rel_error is not None]
        r.worst = max(failing) if failing else got.worst.get(name)
        if r.findings and not failing:
            r.worst = None
    r.notes += got.notes.get(name, [])
    r.bad_input = got.bad_input.get(name, [])
    return r


def _forward_of(name: str) -> str | None:
    """The forward whose cache backward ``name`` reads (None: not a backward)."""
    return next((rec.name for rec in BY_FUNCTION.get(name, []) if rec.backward == name), None)


def _attribute(results: list[FunctionResult], parts: Callable[[str], set[str]],
               output_failed: dict[str, set[str]], near_miss: dict[str, set[str]],
               failing_any: set[str]) -> None:
    """Turn failures explained by another function's failure into ``via`` lines naming
    the root causes (one dtype's results; ``failing_any``: failing in any dtype checked).

    A finding of ``r`` in case c is explained when

    * ``r`` is a backward and the finding is not a shape, dtype, arity or mutation failure
      of ``r``'s own outputs, and its forward's OUTPUT failed in the same case c, or passed
      there only loosely (a near miss, float64) while failing in some case or dtype;
      a forward that failed only in the state it stores, or only in other cases, explains
      nothing: there the backward was fed by a forward that matched;
    * or a part ``r`` was built from (``parts``) fails.

    ``r`` is ``via`` when every one of its findings is explained; the roots named are the
    failing functions reached through the explanations that have a finding of their own.
    """
    by_name = {r.name: r for r in results}
    failing = {r.name for r in results if r.status in (FAIL, ERROR)}

    def explainers(r: FunctionResult, f: Finding) -> set[str]:
        found = parts(r.name) & failing - {r.name}
        forward = _forward_of(r.name)
        if forward is not None and not _is_own_kind(f.check):
            if forward in failing and f.case in output_failed.get(forward, set()):
                found.add(forward)
            elif forward in failing_any and f.case in near_miss.get(forward, set()):
                found.add(forward)
        return found

    causes: dict[str, set[str]] = {}
    own: set[str] = set()
    for name in failing:
        r = by_name[name]
        per_finding = [explainers(r, f) for f in r.findings]
        if not per_finding or not all(per_finding):
            own.add(name)
        causes[name] = set().union(*per_finding) if per_finding else set()

    for name in failing - own:
        roots, seen, todo = set(), {name}, list(causes[name])
        while todo:
            cause = todo.pop()
            if cause in seen:
                continue
            seen.add(cause)
            if cause in own or cause not in failing:  # fails on its own (here, or elsewhere)
                roots.add(cause)
            else:
                todo += list(causes.get(cause, ()))
        if roots:
            r = by_name[name]
            r.status = VIA
            r.via = sorted(roots, key=NAMES.index)


_RANK = {ERROR: 5, FAIL: 4, VIA: 3, UNTESTED: 2, PASS: 1, MISSING: 0}


def _merge_dtypes(reports: list[Report]) -> Report:
    """One report from one report per dtype: each function's line is the worse of its
    lines (ties: the first dtype), every line kept in ``by_dtype``."""
    first = reports[0]
    per_name: dict[str, dict[str, FunctionResult]] = {}
    for rep in reports:
        for r in rep.results:
            per_name.setdefault(r.name, {})[rep.dtype] = r
    merged: list[FunctionResult] = []
    for name in [n for n in NAMES if n in per_name]:
        lines = per_name[name]
        order = list(lines)
        worst_dtype = max(order, key=lambda d: (_RANK[lines[d].status], -order.index(d)))
        pick = lines[worst_dtype]
        line = FunctionResult(
            name, pick.module, pick.status, pick.worst, pick.tol,
            findings=[f for d in sorted(order, key=lambda d: d != worst_dtype)
                      for f in lines[d].findings],
            notes=list(dict.fromkeys(n for d in order for n in lines[d].notes)),
            cases=pick.cases, via=pick.via,
            dependency_only=all(x.dependency_only for x in lines.values()),
            bad_input=list(dict.fromkeys(b for d in order for b in lines[d].bad_input)))
        line.by_dtype = lines
        statuses = {x.status for x in lines.values()}
        line.dtype = worst_dtype if len(statuses) > 1 or len(lines) < len(reports) else None
        merged.append(line)
    report = Report(first.target, "+".join(rep.dtype for rep in reports), first.seed,
                    first.steps, first.timeout, first.strict, merged,
                    notes=list(dict.fromkeys(n for rep in reports for n in rep.notes)))
    report.by_dtype = {rep.dtype: rep for rep in reports}
    return report


# ============================================================================ repro

SEQUENCE_CASE = "sequence_3_batches_then_test"


def repro(target: Target, name: str, case_name: str, dtype: str, seed: int,
          steps: int) -> str:
    """A self-contained snippet: rebuild the exact inputs from the seed, call the target
    and the reference, print where they differ."""
    if case_name == SEQUENCE_CASE:
        return "\n".join([
            "# batch norm: 3 train batches (momentum 0.8), then test mode on a 4th batch;",
            "# the batches are drawn in dlparity.parity_tests.oracle._Checker.batchnorm_sequence",
            "from dlparity.parity_tests.oracle import check",
            f"print(check({target.spec!r}, only=[{name!r}], dtype={dtype!r}, seed={seed}, "
            "probes=False).format())"])
    record = next((r for r in BY_FUNCTION.get(name, []) for c in r.cases
                   if c.name == case_name), None)
    if record is None:
        return ""
    dt = f"np.{dtype}"
    oracle_names = ["load_target", "show"]
    registry_names = ["find_case"]
    load = f"load_target({target.spec!r})"
    body: list[str] = []
    p = record.protocol
    if p == "optimizer":
        oracle_names.append("optimizer_inputs")
        body += [
            f"w, grads, config, lrs = optimizer_inputs(record, case, seed={seed}, "
            f"steps={steps}, dtype={dt})",
            "w_ref, config_ref = w.astype(np.float64), dict(config)",
            "for k, (dw, lr) in enumerate(zip(grads, lrs), start=1):",
            "    if lr is not None:",
            "        config['learning_rate'] = config_ref['learning_rate'] = lr",
            "    w_before, dw_before = w.copy(), dw.copy()",
            f"    w, config = impl.{name}(w, dw, config)",
            f"    w_ref, config_ref = ref.{name}(w_ref, dw_before.astype(np.float64), config_ref)",
            f"    same = show(f'w after step {{k}}', w, w_ref, {name!r})",
            "    if not same:",
            "        break  # the first step that differs",
        ]
    elif p == "random":
        registry_names.append("make_args")
        body += [f"got = impl.{name}(*make_args(record, case, seed={seed}))",
                 f"want = ref.{name}(*make_args(record, case, seed={seed}))",
                 "print('mean', got.mean(), 'reference', want.mean())",
                 "print('std ', got.std(), 'reference', want.std())"]
    else:
        oracle_names += ["snapshot", "written"]
        registry_names += ["cast", "make_args"]
        body += [f"args = make_args(record, case, seed={seed})  # float64, as drawn",
                 f"a_impl = cast(args, {dt})  # the inputs of the dtype under test",
                 "a_ref = cast(a_impl, np.float64)  # the same values for the reference",
                 "inputs = snapshot(a_impl)"]
        if p == "layer":
            body += [f"out, cache = impl.{record.name}(*a_impl)",
                     f"out_ref, cache_ref = ref.{record.name}(*a_ref)",
                     "print('inputs written by the forward:', written(inputs))",
                     f"show('out', out, out_ref, {record.name!r})"]
            if record.state is not None:
                body += ["for key in ('running_mean', 'running_var'):",
                         "    show(f'bn_param[{key!r}]', a_impl[-1].get(key), a_ref[-1][key], "
                         f"{record.name!r})"]
            if record.backward and target.defines(record.backward):
                registry_names.append("upstream_gradient")
                body += [f"dout = upstream_gradient(record, case, out_ref, seed={seed})"
                         f".astype({dt})",
                         "douts = snapshot(dout, 'dout')",
                         f"grads = impl.{record.backward}(dout, cache)",
                         f"grads_ref = ref.{record.backward}(dout.astype(np.float64), "
                         "cache_ref)",
                         "print('written by the backward:', written(douts + inputs))",
                         f"show({record.grad_names!r}, grads, grads_ref, {record.name!r})"]
        elif p == "loss":
            body += [f"value, grad = impl.{name}(*a_impl)",
                     f"value_ref, grad_ref = ref.{name}(*a_ref)",
                     "print('inputs written:', written(inputs))",
                     f"show(('loss', 'grad'), (value, grad), (value_ref, grad_ref), {name!r})"]
        elif p == "value":
            body += [f"got = impl.{name}(*a_impl)",
                     f"want = ref.{name}(*a_ref)",
                     "print('inputs written:', written(inputs))",
                     f"show('out', got, want, {name!r})"]
        else:  # model, solver: the registry's runner, on the same inputs
            registry_names.append("run")
            if p == "solver":
                oracle_names.append("with_reference_model")
                load = f"with_reference_model({load})  # the Solver on the reference's model"
            body += [f"got = run(impl, record, case, a_impl, seed={seed})",
                     f"want = run(ref, record, case, a_ref, seed={seed})",
                     "print('inputs written:', written(inputs))",
                     "for key in want:",
                     f"    show(key, got.get(key), want[key], {name!r})"]
    head = ["import numpy as np", "",
            "import dlparity.reference as ref",
            f"from dlparity.parity_tests.oracle import {', '.join(sorted(oracle_names))}",
            f"from dlparity.parity_tests.registry import {', '.join(sorted(registry_names))}",
            "",
            f"impl = {load}",
            f"record, case = find_case({record.name!r}, {case_name!r})"]
    return "\n".join(head + body)


def show(label: Any, got: Any, want: Any, function: str = "") -> bool:
    """Print how ``got`` differs from ``want`` (tuples and lists are walked) within the
    tolerance of ``function`` at ``got``'s dtype; return True where they agree. Used by the
    repro snippets."""
    if isinstance(label, tuple | list):
        got = got if isinstance(got, tuple | list) else (got,)
        want = want if isinstance(want, tuple | list) else (want,)
        return all([show(lb, g, w, function) for lb, g, w in zip(label, got, want, strict=False)])
    if isinstance(want, tuple | list):
        g, w = flatten(got, label), flatten(want, label)
        return all([show(k, g.get(k), w[k], function) for k in w])
    if _kind_of(got) is None:
        print(f"{label}: got {_describe(got)}, reference {_describe(want)}")
        return False
    a, b = np.asarray(got), np.asarray(want)
    if a.shape != b.shape:
        print(f"{label}: shape {a.shape}, reference {b.shape}")
        return False
    dtype = "float32" if a.dtype == np.float32 else "float64"
    mismatch, err = compare_array(str(label), a, b, tolerance(function, dtype),
                                  check_dtype=False)
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    text = (f"{label}: dtype {a.dtype}, max |impl - ref| = {np.max(diff, initial=0.0):.3g}, "
            f"relative error {err:.3g}")
    if mismatch is not None:
        text += (f" -- DIFFERS; worst element {mismatch.index}: {mismatch.got!r} vs "
                 f"{mismatch.want!r}")
    print(text)
    return mismatch is None


# ============================================================================ command line


def run_cli(args: argparse.Namespace) -> int:
    """Run the oracle from parsed options; print the report; return the exit status."""
    only = [n.strip() for item in (args.only or []) for n in item.split(",") if n.strip()]
    unknown = [n for n in only if n not in BY_NAME]
    if unknown:
        print(f"dlparity check: error: --only: not catalogue names: {', '.join(unknown)} "
              "(see `dlparity functions`)", file=sys.stderr)
        return 2
    try:
        report = check(args.impl, dtype=args.dtype, seed=args.seed, steps=args.steps,
                       timeout=args.timeout, only=only or None, strict=args.strict,
                       isolate=False if args.no_isolation else None,
                       memory_mb=args.memory_mb)
    except TargetError as exc:
        print(f"dlparity check: error: {exc}", file=sys.stderr)
        return 2
    print(report.format(repro=not args.no_repro, quiet=args.quiet, verbose=args.verbose))
    if args.json:
        try:
            Path(args.json).write_text(json.dumps(report.to_json(), indent=2) + "\n")
        except OSError as exc:
            print(f"dlparity check: error: cannot write {args.json}: {exc}", file=sys.stderr)
            return 2
    return report.exit_status


def main(argv: Sequence[str] | None = None, prog: str = "dlparity check") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return run_cli(args)

