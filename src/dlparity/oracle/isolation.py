"""Where the oracle runs a target: in a process of its own that receives inputs and returns
outputs, nothing else.

``dlparity check`` starts a FRESH Python process for the target (``child.py``, started with
``python -c``: not a fork, so the reference and the engine are not in its memory) and keeps
everything that decides a verdict here: the cases' inputs, the reference's results, the
comparison, the tolerances, the attribution, the report. The engine calls the target's
functions through :class:`RemoteFunction` proxies; each call sends the arguments as plain
data, and receives the result, the arguments as they are after the call (mirrored into
this process's arrays and dicts, so a write into an input is seen here), the exception
raised, the warnings, whether it printed, which of the target's functions it reached and
which of dlparity's own functions it tried to borrow. The answer is decoded by an
unpickler that refuses every global (``child.plain_loads``): nothing the target made can
run code here.

* The per-function time budget is enforced in the child (SIGALRM, every second after the
  first), and here by a wall-clock limit (budget + :data:`GRACE_S`) that needs neither
  SIGALRM nor the main thread. A child that dies (segfault, ``os._exit``, out of the memory
  it may use) or hangs in C is killed and replaced; the function it was running gets an
  ``error`` line saying why (:class:`Crash`), and the run goes on.
* The child's file descriptors 1 and 2 point at ``/dev/null``; its address space is capped
  (``RLIMIT_AS``) at what it uses after loading the target plus ``memory_mb``.

Where there is no ``posix`` process model (Windows), or the target is dlparity's own
torch/TF twin (trusted code, computing with its framework), the target runs in this process
(:class:`InProcess`) and the report says so.
"""

from __future__ import annotations

import builtins
import math
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import child as wire

#: Default cap on the memory a target may add to its process (MiB).
MEMORY_MB = 4096
#: Wall-clock slack per call, on top of the function's remaining budget (seconds).
GRACE_S = 3.0
#: How long loading the target may take at least (seconds): importing torch or TensorFlow
#: in it takes a few; ``check()`` allows ``max(LOAD_TIMEOUT_S, 2 * timeout)``.
LOAD_TIMEOUT_S = 30.0


def available() -> bool:
    """Whether targets can run in a process of their own here (POSIX pipes and signals)."""
    return os.name == "posix"



class Crash(BaseException):
    """The target's process died, hung, or could not answer (BaseException: it passes the
    engine's ``except Exception`` up to the runner, which replaces the process)."""

    def __init__(self, kind: str, message: str, owner: str = "", case: str = "") -> None:
        super().__init__(message)
        self.kind, self.message, self.owner, self.case = kind, message, owner, case


class RemoteError(Exception):
    """An exception the target raised in its process (``info``: type, bases, message)."""

    def __init__(self, info: dict[str, Any]) -> None:
        super().__init__(f"{info.get('type')}: {info.get('message')}")
        self.info = info


_EXCEPTION_TYPES: dict[tuple[str, str], type] = {}


def exception_type(info: dict[str, Any]) -> type:
    """A class named like the target's exception, subclassing its nearest builtin
    exception (so ``issubclass(t, ValueError)`` answers as it would there)."""
    name = str(info.get("type", "Exception"))
    base = next((getattr(builtins, b) for b in info.get("bases", [])
                 if isinstance(getattr(builtins, b, None), type)
                 and issubclass(getattr(builtins, b), BaseException)), Exception)
    if getattr(builtins, name, None) is base:
        return base
    key = (name, base.__name__)
    if key not in _EXCEPTION_TYPES:
        _EXCEPTION_TYPES[key] = type(name, (base,), {"__module__": "target"})
    return _EXCEPTION_TYPES[key]


@dataclass
class TargetInfo:
    """What this process knows of a target: enough to plan the run and write repro
    snippets, without importing it."""

    spec: str
    label: str
    names: frozenset[str]
    borrowed: dict[str, str] = field(default_factory=dict)  # name -> dlparity's function
    framework: str | None = None
    imports_dlparity: list[str] = field(default_factory=list)
    tampered: list[str] = field(default_factory=list)
    defined: list[str] = field(default_factory=list)  # every public callable it defines
    signatures: dict[str, list[str]] = field(default_factory=dict)

    def defines(self, name: str) -> bool:
        return name in self.names


def describe(target: Any) -> TargetInfo:
    """The :class:`TargetInfo` of a target loaded in this process (``targets.Target``)."""
    return TargetInfo(target.spec, target.label, frozenset(target.functions),
                      framework=target.framework)


# ============================================================================ the child


class Child:
    """One target process: requests out, answers (and callbacks) in."""

    def __init__(self, memory_mb: float) -> None:
        self.memory_mb = memory_mb
        self.callbacks: dict[int, Any] = {}
        self.codec = wire.Codec(self._keep, self._resolve)
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        code = (f"import dlparity.oracle.child as c; c.main({to_child_r}, {from_child_w})")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code], pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=_child_env(), start_new_session=True)
        os.close(to_child_r)
        os.close(from_child_w)

    def _keep(self, obj: Any) -> tuple[str, int]:
        if isinstance(obj, RemoteObject) and obj._child is self:
            return "child", obj._ident  # one of the target's objects, going back to it
        self.callbacks[id(obj)] = obj
        return "parent", id(obj)

    def _resolve(self, kind: str, ident: int) -> Any:
        if kind != "child":
            raise ValueError("the target's process named a handle of the oracle's")
        return RemoteObject(self, ident)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def request(self, kind: str, payload: Any, limit: float, owner: str = "",
                case: str = "") -> tuple[str, Any]:
        """Send one request; answer the callbacks it makes; return the final answer.
        Raise :class:`Crash` (the process killed) when it dies or overruns ``limit``."""
        if not self.alive:
            raise Crash("crashed", "the target's process is not running", owner, case)
        try:
            wire.send(self.to_child, (kind, payload))
        except OSError as exc:
            raise self._died(owner, case, f"the pipe to the target's process failed: "
                             f"{exc}") from None
        deadline = time.monotonic() + limit
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.from_child], [], [], max(left, 0.0))
            if not ready:
                self.kill()
                what = f"in {owner}" if owner else "in the target"
                raise Crash("timeout", f"no answer within {limit:g} s of wall-clock time "
                            f"{what} (a hang the per-call alarm could not interrupt: C code, "
                            "blocked signals); the process was killed", owner, case)
            try:
                message = wire.plain_loads(wire.receive(self.from_child))
            except (EOFError, OSError):
                raise self._died(owner, case) from None
            except Exception as exc:  # noqa: BLE001 -- a malformed answer: not trusted
                self.kill()
                raise Crash("oracle", f"the target's process sent an answer that is not "
                            f"plain data ({type(exc).__name__}: {exc})", owner, case) from None
            if not isinstance(message, tuple) or not message:
                self.kill()
                raise Crash("oracle", "malformed answer from the target's process",
                            owner, case)
            if message[0] != "callback":
                return message[0], message[1] if len(message) > 1 else None
            self._answer_callback(message)

    def _answer_callback(self, message: tuple) -> None:
        _, ident, args, kwargs = message
        fn = self.callbacks.get(ident)
        try:
            if fn is None:
                raise ValueError("unknown callback")
            value = fn(*self.codec.decode(args), **self.codec.decode(kwargs))
            answer = ("callback-result", self.codec.encode(value))
        except Exception as exc:  # noqa: BLE001 -- reported to the target as an error
            answer = ("callback-error", f"{type(exc).__name__}: {exc}")
        wire.send(self.to_child, answer)

    def _died(self, owner: str, case: str, detail: str = "") -> Crash:
        code = None
        try:
            code = self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            self.kill()
        self.close()
        what = f"running {owner}" if owner else "running the target"
        return Crash("crashed", detail or f"the target's process died while {what}: "
                     f"{_exit_reason(code)}", owner, case)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.close()

    def close(self) -> None:
        for fd in ("to_child", "from_child"):
            value = getattr(self, fd, None)
            if value is not None:
                try:
                    if fd == "to_child" and self.proc is not None and self.proc.poll() is None:
                        wire.send(value, None)
                except OSError:
                    pass
                try:
                    os.close(value)
                except OSError:
                    pass
                setattr(self, fd, None)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _child_env() -> dict[str, str]:
    """The child's environment: the same, with the TF/absl logs quiet and one thread per
    library unless the user set otherwise."""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def _exit_reason(code: int | None) -> str:
    import signal

    if code is None:
        return "it did not exit"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return f"killed by {name}{hint}"
    return f"it exited with status {code} (os._exit or sys.exit in C)"


class RemoteObject:
    """An object that stays in the target's process (a cache of a class of its own, a
    model): passed back as an argument it is that object there; calling it calls it there."""

    def __init__(self, child: Child, ident: int) -> None:
        self._child, self._ident = child, ident

    def __repr__(self) -> str:
        return "<an object in the target's process>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("an object of the target's process cannot be called from the oracle")


# ============================================================================ the target


class RemoteFunction:
    """A function of the target, called in the target's process."""

    def __init__(self, target: RemoteTarget, what: tuple[str, Any], label: str) -> None:
        self.target, self.what, self.label = target, what, label
        self.__name__ = label

    def __repr__(self) -> str:
        return f"<{self.label} in the target's process>"

    def call(self, args: Sequence[Any], kwargs: dict[str, Any] | None = None, *,
             owner: str = "", case: str = "", budget: float = math.inf,
             collect_warnings: bool = True) -> dict[str, Any]:
        """Run it there; return the outcome (``ok``, ``value`` or ``exc``/``timeout``,
        ``warnings``, ``printed``, ``observed``, ``borrowed``, ``elapsed``), the arguments
        mirrored here. Raise :class:`Crash` when the process dies or hangs."""
        return self.target.call(self, tuple(args), kwargs or {}, owner=owner or self.label,
                                case=case, budget=budget, collect_warnings=collect_warnings)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        outcome = self.call(args, kwargs)
        if outcome.get("timeout"):
            raise TimeoutError(f"{self.label} did not return in time")
        if not outcome["ok"]:
            raise exception_type(outcome["exc"])(outcome["exc"]["message"])
        return outcome["value"]


class RemoteTarget:
    """The target, loaded in a process of its own: ``functions`` are proxies."""

    remote = True
    framework = None
    modules: list[Any] = []
    #: False: a crash propagates to the runner (cs231n: the record is run again without the
    #: function). True: it is that call's failure, and the next call starts a new process.
    crashes_are_failures = False

    def __init__(self, spec: str, names: Sequence[str], submodules: Sequence[str], *,
                 memory_mb: float = MEMORY_MB,
                 sources: Sequence[tuple[str, str]] = (), sys_path: Sequence[str] = (),
                 label: str | None = None, load_timeout: float = LOAD_TIMEOUT_S) -> None:
        self.request = {"spec": str(spec), "names": list(names),
                        "submodules": list(submodules), "memory_mb": memory_mb,
                        "sources": [list(s) for s in sources], "sys_path": list(sys_path)}
        self._label = label
        self.load_timeout = load_timeout
        self.load_notes: list[str] = []
        # function -> dlparity functions its calls reached (the stand-ins), over the run
        self.borrowed_calls: dict[str, set[str]] = {}
        self.memory_mb = memory_mb
        self.child: Child | None = None
        self.info = self._start()
        self.spec, self.label = self.info.spec, self.info.label
        self.functions = {n: RemoteFunction(self, ("name", n), n) for n in self.info.names}

    def _start(self) -> TargetInfo:
        from .targets import TargetError

        self.child = Child(self.memory_mb)
        try:
            kind, payload = self.child.request("load", self.request, self.load_timeout)
        except Crash as crash:
            self.close()
            raise TargetError(f"cannot import {self.request['spec']}: {crash.message}") \
                from None
        if kind != "loaded":
            self.close()
            raise TargetError(f"cannot import {self.request['spec']}: {payload}")
        spec = self.request["spec"]
        label = self._label or str(payload["label"])
        self.observable = int(payload["observable"])
        # what the dialect runner reads statically (dlai): the target's own call graph,
        # where each function comes from, what its definitions-only load could not import
        self.signatures = {str(k): [str(p) for p in v] for k, v in payload["signatures"].items()}
        self.graph = {str(k): {str(x) for x in v} for k, v in payload["graph"].items()}
        self.origins = {str(k): str(v) for k, v in payload["origins"].items()}
        self.missing = [str(m) for m in payload["missing"]]
        return TargetInfo(
            spec=label if os.path.exists(spec) else spec, label=label,
            names=frozenset(str(n) for n in payload["names"]),
            borrowed={str(k): str(v) for k, v in payload["borrowed"].items()},
            imports_dlparity=[str(m) for m in payload["imports_dlparity"]],
            tampered=[str(t) for t in payload["tampered"]],
            defined=[str(d) for d in payload["defined"]],
            signatures={str(k): [str(p) for p in v] for k, v in payload["signatures"].items()})

    def restart(self) -> None:
        """A fresh process with the target loaded again (after a crash)."""
        self.close()
        self._start()

    def close(self) -> None:
        if self.child is not None:
            self.child.close()
            self.child = None

    def defines(self, name: str) -> bool:
        return name in self.functions

    def __getattr__(self, name: str) -> Any:
        functions = self.__dict__.get("functions", {})
        if name in functions:
            return functions[name]
        raise AttributeError(f"{self.__dict__.get('label', 'target')} does not define {name!r}")

    def procedure(self, name: str) -> RemoteFunction:
        """One of ``child.PROCEDURES`` run there on the target's functions."""
        return RemoteFunction(self, ("procedure", name), name)

    def tampered(self) -> list[str]:
        """What the target replaced in NumPy, math or builtins in its process so far."""
        if self.child is None or not self.child.alive:
            return list(self.info.tampered)
        try:
            kind, payload = self.child.request("tampered", None, 10.0)
        except Crash:
            return list(self.info.tampered)
        return sorted(set(self.info.tampered) | set(payload if kind == "tampered" else []))

    def call(self, fn: RemoteFunction, args: tuple, kwargs: dict[str, Any], *, owner: str,
             case: str, budget: float, collect_warnings: bool) -> dict[str, Any]:
        if self.child is None or not self.child.alive:
            self.restart()
        child = self.child
        assert child is not None
        what = fn.what if fn.what[0] != "handle" else ("handle", fn.what[1])
        sent = child.codec.encode(args)
        request = {"fn": what, "args": sent,
                   "kwargs": child.codec.encode(kwargs),
                   "budget": budget if math.isfinite(budget) else None,
                   "warnings": collect_warnings}
        limit = (budget if math.isfinite(budget) else 600.0) + GRACE_S
        kind, outcome = child.request("call", request, limit, owner, case)
        if kind != "result" or not isinstance(outcome, dict):
            raise Crash("oracle", f"the target's process could not run {owner}: {outcome}",
                        owner, case)
        if outcome.get("borrowed"):
            self.borrowed_calls.setdefault(owner, set()).update(map(str, outcome["borrowed"]))
        if outcome.get("ok"):
            outcome["value"] = child.codec.decode(outcome["value"])
        if outcome.get("post") != sent:  # the same bytes came back: nothing was written
            mirror_arguments(args, child.codec, outcome.get("post"),
                             set(outcome.get("same", [])))
        return outcome


# ============================================================================ mirroring


def mirror_arguments(args: tuple, codec: wire.Codec, post: Any, same: set[str]) -> None:
    """Make this process's arguments what the target's are after the call: a write into
    an array is written here too (top-level arrays always: the caller's array cannot have
    been replaced); a dict or list entry the target replaced or added is replaced or added
    here (batch norm's running statistics); entries it removed are removed."""
    if not isinstance(post, tuple) or post[:1] != ("t",) or len(post[1]) != len(args):
        return
    for i, (arg, enc) in enumerate(zip(args, post[1], strict=True)):
        _mirror(arg, enc, f"[{i}]", codec, same, top=True)


def _mirror(obj: Any, enc: Any, path: str, codec: wire.Codec, same: set[str],
            top: bool = False) -> Any:
    """The value to keep at ``path``: ``obj`` updated in place where it can be."""
    tag = enc[0] if isinstance(enc, tuple) and enc else None
    if isinstance(obj, np.random.Generator) and tag == "g":
        if type(obj.bit_generator).__name__ == enc[1]:
            obj.bit_generator.state = enc[2]  # the draws the target made advance it here too
        return obj
    if isinstance(obj, np.ndarray):
        if tag != "a":
            return obj if top else codec.decode(enc)
        new = codec.decode(enc)
        if (top or path in same) and new.shape == obj.shape:
            if not _same_values(obj, new) and obj.flags.writeable:
                np.copyto(obj, new, casting="unsafe")
            return obj
        return obj if top else new
    if isinstance(obj, dict) and tag == "d":
        items = dict(enc[1])
        for key in [k for k in obj if k not in items]:
            del obj[key]
        for key, value in items.items():
            obj[key] = (_mirror(obj[key], value, f"{path}[{key!r}]", codec, same)
                        if key in obj else codec.decode(value))
        return obj
    if isinstance(obj, list) and tag == "l":
        values = enc[1]
        kept = [_mirror(obj[i], v, f"{path}[{i}]", codec, same) if i < len(obj)
                else codec.decode(v) for i, v in enumerate(values)]
        obj[:] = kept
        return obj
    if isinstance(obj, tuple) and tag == "t" and len(enc[1]) == len(obj):
        for i, (x, v) in enumerate(zip(obj, enc[1], strict=True)):
            _mirror(x, v, f"{path}[{i}]", codec, same, top=top)
        return obj
    if top or tag is None:
        return obj
    return codec.decode(enc)


def _same_values(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype != b.dtype:
        return False
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


# ============================================================================ runners


class InProcess:
    """Runs records in this process on a target loaded here (dlparity's own twins)."""

    isolated = False

    def __init__(self, target: Any, job: Callable[..., Any]) -> None:
        self.target = target
        self.job = job
        self.info = describe(target)

    def run(self, record_index: int, options: dict[str, Any], functions: int = 2) -> Any:
        return self.job(self.target, record_index, options, None)

    def tampered(self) -> list[str]:
        return []

    def close(self) -> None:
        pass


class Isolated:
    """Runs records HERE on a target that lives in its own process (:class:`RemoteTarget`):
    the reference and the comparison never share a process with the target."""

    isolated = True

    def __init__(self, target: RemoteTarget, job: Callable[..., Any]) -> None:
        self.target = target
        self.job = job
        self.info = target.info

    def run(self, record_index: int, options: dict[str, Any], functions: int = 2) -> Any:
        """Run one record; raise :class:`Crash` (after replacing the process) when the
        target's process dies or hangs."""
        if self.target.child is None or not self.target.child.alive:
            self.target.restart()
        try:
            return self.job(self.target, record_index, options, None)
        except Crash:
            self.target.close()
            raise

    def tampered(self) -> list[str]:
        return self.target.tampered()

    def close(self) -> None:
        self.target.close()

