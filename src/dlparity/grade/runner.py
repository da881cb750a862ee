"""Checking a class: one worker process per submission, ``jobs`` at a time, each under a
wall-clock limit, with a cache keyed by content and oracle.

A submission that crashes, hangs or attacks its process costs only its own row: the oracle
already runs its code in a child with time and memory limits (``dlparity check``), and the
worker that calls the oracle is itself killed, with every process it started, when it
overruns ``submission_timeout``.

The cache (``OUT/.cache/``) holds one outcome per key: the student's name, the SHA-256 of the
submission's content, the oracle fingerprint (``dlparity.oracle.fingerprint()``) and the check
options. A re-run on the same directory checks only what changed; a new oracle checks all.
The oracle's own failures are not cached (they are retried).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .submissions import Submission, content_hash

__all__ = ["CheckOptions", "Outcome", "check_all"]

#: Outcomes that say something about the submission itself (cached).
CACHED_OUTCOMES = ("checked", "import error", "timeout", "crashed")
_STDERR_TAIL = 2000


@dataclass(frozen=True)
class CheckOptions:
    """What every submission is checked with (``dlparity check``'s limits by default)."""

    timeout: float = 20.0  # per function, as `dlparity check --timeout`
    memory_mb: float = 4096.0  # as `dlparity check --memory-mb`
    submission_timeout: float = 600.0  # wall clock for one whole submission
    dialect: str | None = None  # None: recognised per submission
    dtype: str | None = None  # None: the dialect's default (cs231n both, dlai float64)

    def check_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"timeout": self.timeout, "memory_mb": self.memory_mb}
        if self.dtype:
            kwargs["dtype"] = self.dtype
        if self.dialect:
            kwargs["dialect"] = self.dialect
        return kwargs


@dataclass
class Outcome:
    """One submission's check: its report, or why there is none."""

    student: str
    entry: str
    outcome: str  # checked | import error | timeout | crashed | oracle error
    reason: str = ""
    report: dict[str, Any] | None = None
    seconds: float = 0.0
    cached: bool = False
    key: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"student": self.student, "entry": self.entry, "outcome": self.outcome,
                "reason": self.reason, "report": self.report, "seconds": self.seconds,
                "key": self.key}


def cache_key(sub: Submission, fingerprint: str, options: CheckOptions) -> str:
    digest = hashlib.sha256()
    for part in (sub.student, sub.target.name, content_hash(sub.path), fingerprint,
                 json.dumps(options.check_kwargs(), sort_keys=True),
                 str(options.submission_timeout)):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:32]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")  # `jobs` processes side by side: one BLAS thread each
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ written into a submission
    return env


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError, OSError):
        proc.kill()


def run_one(sub: Submission, options: CheckOptions, workdir: Path) -> Outcome:
    """Check one submission in a worker process under the wall-clock limit."""
    out = workdir / f"{hashlib.sha256(sub.student.encode()).hexdigest()[:16]}.json"
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "dlparity.grade.worker", str(sub.target.resolve()), str(out),
           json.dumps(options.check_kwargs())]
    with tempfile.TemporaryFile(dir=workdir) as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, env=_child_env(), start_new_session=True,
                                cwd=workdir)
        try:
            code = proc.wait(timeout=options.submission_timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.wait()
            return Outcome(sub.student, sub.path.name, "timeout",
                           f"no result within {options.submission_timeout:g} s of wall-clock "
                           "time for the whole submission; its processes were killed",
                           seconds=time.perf_counter() - start)
        _kill_group(proc)  # anything it left behind
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")[-_STDERR_TAIL:].strip()
    seconds = time.perf_counter() - start
    if code == 0 and out.exists():
        data = json.loads(out.read_text())
        out.unlink()
        return Outcome(sub.student, sub.path.name, data["outcome"], data.get("reason", ""),
                       data.get("report"), seconds)
    last = stderr.splitlines()[-1] if stderr else ""
    if code is not None and code < 0:
        return Outcome(sub.student, sub.path.name, "crashed",
                       f"the grading process was killed by signal {-code}", seconds=seconds)
    return Outcome(sub.student, sub.path.name, "oracle error",
                   f"the oracle failed on this submission (exit {code}): {last}",
                   seconds=seconds)


def check_all(subs: Sequence[Submission], options: CheckOptions, *, jobs: int,
              cache_dir: Path | None, progress: bool = True, reuse: bool = True,
              on_done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Check every submission; outcomes in ``subs`` order. With a ``cache_dir``, outcomes
    are written there, and (``reuse``) read back instead of checking again."""
    from dlparity.oracle.report import fingerprint

    fp = fingerprint()
    results: dict[str, Outcome] = {}
    todo: list[tuple[Submission, str]] = []
    for sub in subs:
        key = cache_key(sub, fp, options)
        hit = cache_dir / f"{key}.json" if cache_dir is not None and reuse else None
        if hit is not None and hit.exists():
            try:
                data = json.loads(hit.read_text())
                results[sub.student] = Outcome(
                    sub.student, sub.path.name, data["outcome"], data.get("reason", ""),
                    data.get("report"), float(data.get("seconds", 0.0)), cached=True, key=key)
                continue
            except (ValueError, KeyError, OSError):
                pass  # a damaged entry: check again
        todo.append((sub, key))

    bar = _progress(len(subs), progress)
    bar.update(len(subs) - len(todo))
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dlparity-grade-") as tmp, \
            ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(run_one, sub, options, Path(tmp)): (sub, key)
                   for sub, key in todo}
        for future in as_completed(futures):
            sub, key = futures[future]
            outcome = future.result()
            outcome.key = key
            results[sub.student] = outcome
            if cache_dir is not None and outcome.outcome in CACHED_OUTCOMES:
                entry = cache_dir / f"{key}.json"
                tmp_entry = entry.with_suffix(".tmp")
                tmp_entry.write_text(json.dumps(outcome.to_json()))
                tmp_entry.replace(entry)
            if on_done is not None:
                on_done(outcome)
            bar.update(1)
    bar.close()
    return [results[sub.student] for sub in subs]


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, desc="dlparity grade", unit="submission", file=sys.stderr,
                leave=False, dynamic_ncols=True)
