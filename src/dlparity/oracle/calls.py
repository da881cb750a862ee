"""Calls into an implementation: plain for the reference, guarded for a target.

A guarded call (:class:`Calls` with a :class:`Session`) snapshots every input array and
fails on a write (SPEC.md §1), turns an exception, a wrong return type or a timeout
(``SIGALRM``, in the process's main thread) into a :class:`Failure` of the function
called, records warnings and printing as notes, and notes which catalogue functions the
call reached (:func:`observe_calls`), for attribution.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

import dlparity.reference as ref

from .isolation import Crash, RemoteFunction, exception_type
from .registry import arrays_in

__all__ = ["Calls", "Failure", "Session", "describe", "observe_calls", "pair", "snapshot",
           "written"]


class _Timeout(BaseException):
    """Raised by SIGALRM inside a target call (BaseException: a target's ``except
    Exception`` does not swallow it)."""


@dataclass
class Failure(Exception):
    """A check of ``owner`` that failed in a way that stops the case."""

    owner: str
    kind: str  # raised | timeout | return type | mutation | oracle | <output label>
    message: str
    rel_error: float | None = None  # None: not a numeric comparison (type, mutation, ...)
    exc_type: type | None = None  # the exception class, for kind "raised"
    raised_in: str = ""  # the innermost OTHER catalogue function the exception came from


def timeouts_available() -> bool:
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


def param_names(name: str) -> list[str]:
    """Positional parameter names of the reference's ``name`` (labels for messages)."""
    obj = getattr(ref, name, None)
    try:
        return list(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        return []


def watch_args(name: str, args: Sequence[Any], suffix: str = "") -> list[tuple[str, Any]]:
    names = param_names(name)
    return [(f"{names[i] if i < len(names) else f'argument {i + 1}'}{suffix}", a)
            for i, a in enumerate(args)]


class Session:
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
        # (owner, case) -> every catalogue function the owner's calls reached in that case
        self.observed: dict[tuple[str, str], set[str]] = {}
        # Told (owner, case) before every target call: how an isolating parent learns which
        # function was running when its child process died (isolation.py).
        self.progress: Callable[[str, str], None] | None = None
        self.skip: set[str] = set()  # functions not to call (they crashed the process)
        # function -> dlparity functions it called (an isolated target's stand-ins)
        self.borrowed: dict[str, set[str]] = {}
        self.strict_state = False  # watch optimizer state arrays for writes too
        # None: a write into an input stops the case; a list: it is collected there, and
        # the call's result is still compared (the engine's cases)
        self.pending: list[Failure] | None = None

    @contextlib.contextmanager
    def alarms(self) -> Iterator[None]:
        """SIGALRM raises a timeout inside target calls while the run lasts (main thread
        only: elsewhere, and on platforms without SIGALRM, calls are not timed out)."""
        if not timeouts_available():
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


class Calls:
    """Calls into one implementation. For the reference: plain calls. For a target: each
    call guarded (exceptions, timeouts, warnings, printing) and its inputs watched."""

    def __init__(self, impl: Any, session: Session | None) -> None:
        self.impl = impl
        self.session = session

    def has(self, name: str) -> bool:
        if self.session is None:
            return hasattr(self.impl, name)
        return self.impl.defines(name) and name not in self.session.skip

    @property
    def strict_state(self) -> bool:
        """Whether optimizer state arrays are watched too (dlparity's own implementations:
        state is replaced by new arrays, never written in place)."""
        return self.session is not None and self.session.strict_state

    def fn(self, name: str) -> Callable[..., Any]:
        return getattr(self.impl, name)

    def __call__(self, owner: str, fn: Callable[..., Any], *args: Any,
                 watch: Sequence[tuple[str, Any]] | None = None) -> Any:
        if self.session is None:
            return fn(*args)
        watch = watch_args(owner, args) if watch is None else watch
        snap = [item for label, obj in watch for item in snapshot(obj, label)]
        result = self._guarded(owner, fn, args)
        changed = written(snap)
        if changed:
            failure = Failure(owner, "mutation", f"{owner} wrote into its input {changed[0]} "
                              f"(SPEC.md §1: no function mutates an input array)")
            if self.session.pending is None:
                raise failure
            # the engine records it and still compares the result: a write must not hide
            # a second bug of the same call (an inf, a wrong value)
            self.session.pending.append(failure)
        return result

    def _guarded(self, owner: str, fn: Callable[..., Any], args: Sequence[Any]) -> Any:
        s = self.session
        assert s is not None
        remaining = s.timeout - s.used.get(owner, 0.0)
        if remaining <= 0:
            raise Failure(owner, "timeout", f"{owner} used up its {s.timeout:g} s budget")
        if isinstance(fn, RemoteFunction):
            return self._remote(owner, fn, args, remaining)
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
            raise Failure(owner, "timeout", f"{owner} did not return within its "
                           f"{s.timeout:g} s budget (--timeout)") from None
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 -- anything the target raises
            raise Failure(owner, "raised", f"{owner} raised {type(exc).__name__}: "
                          f"{short(str(exc))}{_where(exc)}", exc_type=type(exc),
                          raised_in=_raised_in(exc, owner)) from None
        finally:
            s.used[owner] = s.used.get(owner, 0.0) + time.perf_counter() - start
            s.observed.setdefault((owner, s.case), set()).update(s.calling - {owner})
            s.calling = None
        for w in caught if s.collect_warnings else ():
            s.note(owner, f"warning on valid input [{s.case}]: {w.category.__name__}: "
                          f"{short(str(w.message))}")
        if out.getvalue() or err.getvalue():
            s.note(owner, "printed to stdout/stderr (suppressed by the oracle)")
        return result


    def _remote(self, owner: str, fn: RemoteFunction, args: Sequence[Any],
                remaining: float) -> Any:
        """The same guard, run in the target's process (``child.Server._guarded``): here
        only its outcome is read, and the arguments are mirrored (a write is seen here)."""
        s = self.session
        assert s is not None
        if s.progress is not None:
            s.progress(owner, s.case)
        try:
            outcome = fn.call(args, owner=owner, case=s.case, budget=remaining,
                              collect_warnings=s.collect_warnings)
        except Crash as crash:
            if not fn.target.crashes_are_failures:
                raise  # the runner replaces the process and runs the record again without it
            if crash.kind == "timeout":
                s.used[owner] = s.timeout
            raise Failure(owner, "crashed", crash.message) from None
        s.used[owner] = s.used.get(owner, 0.0) + float(outcome.get("elapsed", 0.0))
        s.observed.setdefault((owner, s.case), set()).update(
            {str(n) for n in outcome.get("observed", [])} - {owner})
        borrowed = [str(b) for b in outcome.get("borrowed", [])]
        if borrowed:
            s.borrowed.setdefault(owner, set()).update(borrowed)
        for category, message in outcome.get("warnings", []):
            s.note(owner, f"warning on valid input [{s.case}]: {category}: "
                          f"{short(str(message))}")
        if outcome.get("printed"):
            s.note(owner, "printed to stdout/stderr (suppressed by the oracle)")
        if outcome.get("timeout"):
            raise Failure(owner, "timeout", f"{owner} did not return within its "
                          f"{s.timeout:g} s budget (--timeout)")
        if outcome.get("ok"):
            return outcome["value"]
        info = outcome["exc"]
        if borrowed or info.get("borrowed"):
            raise Failure(owner, "borrowed", f"{owner} called "
                          f"{', '.join(borrowed) or 'dlparity'}: dlparity's own "
                          "implementation, not the target's")
        raise Failure(owner, "raised", f"{owner} raised {info['type']}: "
                      f"{short(str(info['message']))}{info.get('where', '')}",
                      exc_type=exception_type(info),
                      raised_in=_raised_in_frames(info.get("frames", []), owner))


@contextlib.contextmanager
def observe_calls(target: Any, session: Session) -> Iterator[int]:
    """Record which catalogue functions each target call reaches: every module-level
    binding of one of the target's catalogue functions (aliases included) is replaced, for
    the run, by a wrapper noting the name. Yields the number of bindings replaced (0: the
    calls cannot be observed, and the oracle falls back on :data:`DEPENDS_ON`). A target in
    its own process is observed there (``child.Server._observe``)."""
    if getattr(target, "remote", False):
        yield target.observable
        return
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


def _sibling_modules(target: Any) -> list[ModuleType]:
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


def short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _raised_in(exc: BaseException, owner: str) -> str:
    """The innermost catalogue function other than ``owner`` on the exception's traceback
    ("" when it arose in ``owner`` itself or in a helper ``owner`` called directly)."""
    return _raised_in_frames([f.name for f in traceback.extract_tb(exc.__traceback__)], owner)


def _raised_in_frames(frames: Sequence[str], owner: str) -> str:
    from dlparity.catalogue import NAMES

    for name in reversed(frames):
        if name == owner:
            return ""
        if name in NAMES:
            return name
    return ""


def _where(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    return f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""


def pair(owner: str, result: Any, what: str) -> tuple[Any, Any]:
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise Failure(owner, "return type", f"{owner} returned {describe(result)}; "
                       f"expected a tuple {what}")
    return result[0], result[1]


def describe(obj: Any) -> str:
    if isinstance(obj, np.ndarray):
        return f"an ndarray of shape {obj.shape}"
    if isinstance(obj, tuple | list):
        return f"a {type(obj).__name__} of length {len(obj)}"
    return f"{type(obj).__module__}.{type(obj).__name__}"
