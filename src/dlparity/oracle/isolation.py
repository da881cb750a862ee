"""Where the oracle runs a target: in a child process, so that no target can take it down.

``dlparity check`` loads the target and runs every registry record on it in a CHILD
process (``fork``), one record per request. The parent never imports the target. It waits
for each answer with a wall-clock limit, which needs neither SIGALRM nor the main thread;
inside the child, SIGALRM still stops a Python loop at the per-function budget. A child
that segfaults, calls ``os._exit``, sleeps in C with signals blocked, or runs out of the
address space it may use is replaced by a fresh one. The function it was running gets an
``error`` line saying why, and the run goes on with the next record.

* The child's file descriptors 1 and 2 point at ``/dev/null``, so megabytes printed by the
  target (from Python or from C) go nowhere. Python-level printing during a call is still
  noticed and reported as a note.
* The child's address space is capped (``RLIMIT_AS``) at what it uses after loading the
  target plus ``memory_mb``, so a wild allocation is a ``MemoryError`` in the target,
  not a machine that swaps.
* Before every target call the child writes ``owner|case`` into a shared buffer. That is
  how the parent names the function that was running when the child died.

Where ``fork`` does not exist (Windows), or the target is dlparity's own torch/TF twin
(trusted code, whose threads must not be forked), the records run in this process instead
(:class:`InProcess`), and the report says so.
"""

from __future__ import annotations

import contextlib
import faulthandler
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Default cap on the memory a target may add to its process (MiB).
MEMORY_MB = 4096
#: Wall-clock slack per request, on top of the per-function budgets (seconds).
GRACE_S = 3.0
#: How long loading the target may take (seconds).
LOAD_TIMEOUT_S = 120.0

_PROGRESS_BYTES = 512


@dataclass
class TargetInfo:
    """What the parent knows of a target: enough to plan the run and write repro
    snippets, without importing it."""

    spec: str
    label: str
    names: frozenset[str]
    borrowed: list[str] = field(default_factory=list)  # dlparity.reference's own functions
    framework: str | None = None

    def defines(self, name: str) -> bool:
        return name in self.names


def describe(target: Any) -> TargetInfo:
    """The :class:`TargetInfo` of a loaded ``oracle.Target``."""
    import dlparity.reference as ref

    borrowed = [n for n, f in target.functions.items() if f is getattr(ref, n, None)]
    return TargetInfo(target.spec, target.label, frozenset(target.functions), borrowed,
                      target.framework)


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class InProcess:
    """Runs records in this process (no isolation)."""

    isolated = False

    def __init__(self, target: Any, job: Callable[..., dict]) -> None:
        self.target = target
        self.job = job
        self.info = describe(target)

    def run(self, record_index: int, options: dict[str, Any], functions: int = 2) -> dict:
        return self.job(self.target, record_index, options, None)

    def close(self) -> None:
        pass


class Crash(Exception):
    """The child process died, hung or could not run a request."""

    def __init__(self, kind: str, message: str, owner: str, case: str) -> None:
        super().__init__(message)
        self.kind, self.message, self.owner, self.case = kind, message, owner, case


class ChildProcess:
    """Runs records in a forked child that loads the target itself."""

    isolated = True

    def __init__(self, target: Any, load: Callable[[str], Any], job: Callable[..., dict],
                 *, memory_mb: float = MEMORY_MB) -> None:
        self.source = target  # a TARGET string (loaded in the child) or a loaded Target
        self.load = load
        self.job = job
        self.memory_mb = memory_mb
        self.ctx = multiprocessing.get_context("fork")
        self.proc: Any = None
        self.conn: Any = None
        self.progress: Any = None
        self.info = self._start()

    # ---------------------------------------------------------------- lifecycle

    def _start(self) -> TargetInfo:
        self.progress = self.ctx.Array("c", _PROGRESS_BYTES, lock=False)
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(
            target=_child_main, daemon=True,
            args=(child, self.source, self.load, self.job, self.progress, self.memory_mb))
        self.proc.start()
        child.close()
        self.conn = parent
        try:
            kind, payload = self._receive(LOAD_TIMEOUT_S, "loading the target", "")
        except Crash as crash:
            self.close()
            from .targets import TargetError

            raise TargetError(f"cannot import {self._spec()}: {crash.message}") from None
        if kind == "load-error":
            self.close()
            from .targets import TargetError

            raise TargetError(payload)
        return payload

    def _spec(self) -> str:
        return self.source if isinstance(self.source, str) else self.source.spec

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.send(None)
            self.conn.close()
            self.conn = None
        if self.proc is not None:
            self.proc.join(timeout=1.0)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join()
            self.proc = None

    def _restart(self) -> None:
        self.close()
        self.info = self._start()

    # ---------------------------------------------------------------- requests

    def run(self, record_index: int, options: dict[str, Any], functions: int = 2) -> dict:
        """Run one record in the child; raise :class:`Crash` (after replacing the child)
        when it dies or overruns ``functions`` per-function budgets plus a grace."""
        if self.proc is None:
            self._restart()
        self.progress.value = b""
        limit = options["timeout"] * max(functions, 1) + GRACE_S
        try:
            self.conn.send((record_index, options))
            kind, payload = self._receive(limit, "", options.get("record", ""))
        except Crash:
            self._kill()
            raise
        except (OSError, EOFError) as exc:
            self._kill()
            raise Crash("crashed", f"the connection to the target's process failed: {exc}",
                        *self._running(options.get("record", ""))) from None
        if kind == "job-error":
            raise Crash("oracle", payload, *self._running(options.get("record", "")))
        return payload

    def _kill(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()
        self.close()

    def _running(self, default_owner: str) -> tuple[str, str]:
        raw = bytes(self.progress.value).decode("utf-8", "replace")
        owner, _, case = raw.partition("|")
        return (owner or default_owner), case

    def _receive(self, limit: float, doing: str, default_owner: str) -> tuple[str, Any]:
        if self.conn.poll(limit):
            try:
                return self.conn.recv()
            except (EOFError, OSError):
                pass  # the child died: its exit status says how
            self.proc.join(timeout=5.0)
            owner, case = self._running(default_owner)
            what = doing or (f"running {owner}" if owner else "running the target")
            raise Crash("crashed", f"the target's process died while {what}: "
                        f"{_exit_reason(self.proc.exitcode)}", owner, case)
        owner, case = self._running(default_owner)
        what = doing or (f"in {owner}" if owner else "in the target")
        raise Crash("timeout", f"no answer within {limit:g} s of wall-clock time {what} "
                    "(a hang the per-call alarm could not interrupt: C code, blocked "
                    "signals); the process was killed", owner, case)


def _exit_reason(code: int | None) -> str:
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


def _silence_fds() -> None:
    """Point file descriptors 1 and 2 at /dev/null (C-level output included)."""
    with contextlib.suppress(OSError):
        sys.stdout.flush()
        sys.stderr.flush()
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)


def _child_main(conn: Any, source: Any, load: Callable[[str], Any], job: Callable[..., dict],
                progress: Any, memory_mb: float) -> None:
    faulthandler.disable()  # a crash is the parent's to report (pytest enables it on a dup fd)
    _silence_fds()
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle

    def report(owner: str, case: str) -> None:
        progress.value = f"{owner}|{case}".encode()[: _PROGRESS_BYTES - 1]

    try:
        target = load(source) if isinstance(source, str) else source
        info = describe(target)
    except Exception as exc:  # noqa: BLE001 -- TargetError, or anything the import raised
        conn.send(("load-error", str(exc)))
        conn.close()
        return
    _limit_memory(memory_mb)
    conn.send(("loaded", info))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            break
        if request is None:
            break
        record_index, options = request
        try:
            result = job(target, record_index, options, report)
            conn.send(("done", result))
        except BaseException as exc:  # noqa: BLE001 -- the oracle's own failure, reported
            conn.send(("job-error", f"the oracle failed on this record: "
                       f"{type(exc).__name__}: {exc} "
                       f"({traceback.format_exc(limit=-2).strip().splitlines()[-1]})"))
    conn.close()
    os._exit(0)
