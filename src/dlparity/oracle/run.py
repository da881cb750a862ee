"""The oracle: hold ANY implementation of the SPEC.md catalogue to the NumPy reference.

    dlparity check --impl TARGET            (or dlparity.check(TARGET) from Python)

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
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import dlparity.reference as ref
from dlparity.catalogue import CATALOGUE, NAMES

from .attribution import DEPENDS_ON, attribute, closure, dependencies, dependents
from .cli import add_check_arguments as add_arguments
from .cli import parse_only
from .engine import Collected, run_record_job
from .protocols import optimizer_inputs
from .registry import BY_FUNCTION, RECORDS
from .report import (
    BORROWED,
    ERROR,
    FAIL,
    MISSING,
    NOTE,
    PASS,
    STATUSES,
    UNTESTED,
    VIA,
    Finding,
    FunctionResult,
    Report,
    fingerprint,
    fingerprint_files,
    short,
)
from .repro import repro, show
from .targets import Target, TargetError, load_target

__all__ = [
    "DEPENDS_ON", "DTYPES", "ERROR", "FAIL", "MISSING", "NOTE", "PASS", "STATUSES",
    "UNTESTED", "VIA", "Finding", "FunctionResult", "Report", "Target", "TargetError",
    "add_arguments", "check", "dependents", "fingerprint", "fingerprint_files",
    "load_target", "optimizer_inputs", "probe_target", "ref", "repro", "run_cli",
    "show",
]

#: The dtypes a check runs by default (``dlparity check`` without ``--dtype``).
DTYPES = ("float64", "float32")




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


#: The catalogue modules a package target is searched in (``layers``, ``optim``, ...).
SUBMODULES = tuple(dict.fromkeys(e.module for e in CATALOGUE))


def probe_target(spec: str) -> Any:
    """Load TARGET the way :func:`check` would (in a process of its own where it can) and
    return what it defines (an ``isolation.TargetInfo``); raise TargetError if it cannot."""
    from . import isolation

    if _own_twin(spec) or not isolation.available():
        return _in_process(spec).info
    remote = _open(_plan(spec, None), isolation.MEMORY_MB, 20.0)
    remote.close()
    return remote.info


def _open(plan: Any, memory_mb: float, timeout: float) -> Any:
    """The target of ``plan`` loaded in a process of its own, with both dialects' names."""
    from . import isolation

    return isolation.RemoteTarget(plan.spec, (*NAMES, *_dlai_names()), SUBMODULES,
                                  memory_mb=memory_mb, sources=plan.sources,
                                  sys_path=plan.sys_path, label=plan.label,
                                  load_timeout=max(isolation.LOAD_TIMEOUT_S, 2 * timeout))


def check(target: Any, *, dialect: str | None = None,
          dtype: str | Sequence[str] | None = None, seed: int = 0, steps: int = 100,
          timeout: float = 20.0, only: Sequence[str] | None = None, strict: bool = False,
          probes: bool = True, isolate: bool | None = None, memory_mb: float = 4096) -> Report:
    """Check ``target`` against the reference and return the report.

    ``target``: a module or package name, a ``.py`` file, a notebook, a folder, a module
    object, a namespace dict (a notebook's ``globals()``), or a loaded Target.
    ``dialect``: 'cs231n' (SPEC.md) or 'dlai' (DIALECTS.md); None recognises it.
    ``dtype``: 'float64', 'float32', or 'both'; None is both for cs231n, float64 for dlai
    (each function reported by the worse dtype, the report keeping each in ``by_dtype``).
    ``isolate``: run the target in a process of its own, which receives inputs and returns
    outputs only (the default wherever POSIX processes exist, except for dlparity's own
    torch/TF twins); ``memory_mb`` caps what it may allocate there.
    """
    if dialect not in (None, "cs231n", "dlai"):
        raise ValueError(f"dialect must be 'cs231n', 'dlai' or None (recognised); "
                         f"received {dialect!r}")
    start = time.perf_counter()
    report = _check(target, dialect, dtype, seed, steps, timeout, only, strict, probes,
                    isolate, memory_mb)
    report.seconds = time.perf_counter() - start  # loading the target included
    return report


def _check(target: Any, dialect: str | None, dtype: Any, seed: int, steps: int,
           timeout: float, only: Sequence[str] | None, strict: bool, probes: bool,
           isolate: bool | None, memory_mb: float) -> Report:
    from . import isolation

    if _own_twin(target) or isolate is False or (isolate is None and not isolation.available()):
        if isolate and not isolation.available():
            raise ValueError("isolate=True needs POSIX processes, which this platform "
                             "does not have")
        if dialect == "dlai" or (dialect is None and not _own_twin(target)
                                 and _plan(target, None).dialect == "dlai"):
            from . import dlai

            report = dlai.check(dlai.load(target), dtype=dtype, seed=seed, steps=steps,
                                timeout=timeout, only=only)
            report.notes.append("the target ran in the oracle's own process (isolate=False)")
            return report
        return _check_cs231n(_in_process(target), dtype, seed, steps, timeout, only, strict,
                             probes)
    plan = _plan(target, dialect)
    remote = _open(plan, memory_mb, timeout)
    chosen = plan.dialect or _recognised(remote.signatures)
    if chosen == "dlai":
        return _check_dlai(remote, plan, dtype, seed, steps, timeout, only)
    _keep_only(remote, set(NAMES))
    return _check_cs231n(isolation.Isolated(remote, run_record_job), dtype, seed, steps,
                         timeout, only, strict, probes, notes=plan.notes)


def _plan(target: Any, dialect: str | None) -> Any:
    from .plan import plan

    return plan(target, dialect)


def _dlai_names() -> tuple[str, ...]:
    from .dialects import DLAI_NAMES

    return DLAI_NAMES


def _recognised(signatures: dict[str, Any]) -> str:
    from .dialects import recognise

    return "dlai" if recognise(signatures).dialect == "dlai" else "cs231n"


def _keep_only(remote: Any, names: set[str]) -> None:
    """The remote target's functions restricted to one dialect's names."""
    remote.functions = {n: f for n, f in remote.functions.items() if n in names}
    remote.info.names = frozenset(n for n in remote.info.names if n in names)


def _own_twin(target: Any) -> bool:
    from dlparity import implementations

    if isinstance(target, Target):
        return target.framework is not None
    impl = implementations.find(target) if isinstance(target, str) else None
    return impl is not None and impl.framework is not None


def _in_process(target: Any) -> Any:
    from . import isolation

    return isolation.InProcess(load_target(target) if isinstance(target, str) else target,
                               run_record_job)


def _check_dlai(remote: Any, plan: Any, dtype: Any, seed: int, steps: int, timeout: float,
                only: Sequence[str] | None) -> Report:
    """The deeplearning.ai dialect (``dlai/``) on a target in its own process."""
    from . import dlai

    remote.crashes_are_failures = True
    remote.load_notes = plan.notes + [f"not available: {m}" for m in remote.missing]
    try:
        report = dlai.check(remote, dtype=dtype, seed=seed, steps=steps, timeout=timeout,
                            only=only)
        tampered = remote.tampered()
    finally:
        remote.close()
    for r in report.results:  # the runner sees failures; whose values were dlparity's:
        borrowed = sorted(remote.borrowed_calls.get(r.name, set())
                          | ({remote.info.borrowed[r.name]} if r.name in remote.info.borrowed
                             else set()))
        if borrowed:
            r.status, r.via = BORROWED, borrowed
    report.notes += _process_notes(remote.info, tampered)
    return report


def _check_cs231n(runner: Any, dtype: Any, seed: int, steps: int, timeout: float,
                  only: Sequence[str] | None, strict: bool, probes: bool,
                  notes: Sequence[str] = ()) -> Report:
    """SPEC.md's catalogue on a target (in its own process, or this one)."""
    start = time.perf_counter()
    dtypes = _dtypes(dtype)
    try:
        selected = set(parse_only(only, NAMES) or NAMES)
    except ValueError:
        runner.close()
        raise
    if not runner.info.names:
        runner.close()
        report = Report(runner.info.label, "+".join(dtypes), seed, steps, timeout, strict, [],
                        looked_for=looked_for(runner.info))
        report.seconds = time.perf_counter() - start
        return report
    try:
        runs = {dt: _run_dtype(runner, dt, seed, steps, timeout, selected, probes)
                for dt in dtypes}
        tampered = runner.tampered()
    finally:
        runner.close()
    # a function failing in any dtype may explain a near miss of its backward in another
    failing_any = {r.name for _, results in runs.values() for r in results
                   if r.status in (FAIL, ERROR)}
    reports = [_report(runner, dt, got, results, selected, seed, steps, timeout, strict,
                       failing_any) for dt, (got, results) in runs.items()]
    report = reports[0] if len(reports) == 1 else _merge_dtypes(reports)
    if not report.checked:
        report.looked_for = looked_for(runner.info)
    report.notes += [*notes, *_process_notes(runner.info, tampered)]
    if not runner.isolated:
        report.notes.append("the target ran in the oracle's own process (isolate=False, no "
                            "POSIX processes on this platform, or dlparity's own framework "
                            "twin)")
    report.seconds = time.perf_counter() - start
    return report


def _run_dtype(runner: Any, dtype: str, seed: int, steps: int, timeout: float,
               selected: set[str], probes: bool) -> tuple[Collected, list[FunctionResult]]:
    """Run every record needed for ``selected`` in one dtype; one line per function."""
    from .isolation import Crash

    info = runner.info
    options = {"dtype": dtype, "seed": seed, "steps": steps, "timeout": timeout,
               "probes": probes}
    got = Collected()
    wanted = closure(selected)
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
                    got.add(runner.run(index, dict(options, record=record.name, skip=skip),
                                       functions=len(record.functions)))
                    break
                except Crash as crash:
                    skip.append(got.crashed(record, crash))
                    if record.name in skip or len(skip) >= len(record.functions):
                        break
        seen = {f for calls in got.observed.values() for f in calls}
        wanted |= closure(seen & set(NAMES))

    results = [_function_result(entry.name, entry.module, info, ran, got)
               for entry in CATALOGUE if entry.name in wanted]
    return got, results


def _report(runner: Any, dtype: str, got: Collected, results: list[FunctionResult],
            selected: set[str], seed: int, steps: int, timeout: float, strict: bool,
            failing_any: set[str]) -> Report:
    """One dtype's report: attribute, choose the lines shown, notes and repro snippets."""
    info = runner.info

    def parts(name: str, case: str) -> set[str]:
        """What ``name`` was built from in ``case``: the calls seen there (or, when calls
        cannot be observed, DEPENDS_ON); its forward is handled by ``attribute``."""
        found = set(got.observed.get((name, case), set())) if got.observable else \
            set(DEPENDS_ON.get(name, ()))
        return found & set(NAMES)

    attribute(results, parts, got.output_failed, got.near_miss, failing_any)
    roots = {v for r in results if r.name in selected and r.status == VIA for v in r.via}
    shown = [r for r in results if r.name in selected or r.name in roots]
    for r in shown:
        r.dependency_only = r.name not in selected
    report = Report(info.label, dtype, seed, steps, timeout, strict, shown)
    if not got.timeouts and not runner.isolated:
        report.notes.append("timeouts are not enforced: the oracle is not running in the main "
                            "thread, or this platform has no SIGALRM")
    for r in shown:
        for f in r.findings:
            f.dtype = dtype
            f.repro = repro(info, f.function, f.case, dtype, seed, steps)
    return report


def _function_result(name: str, module: str, info: Any, ran: set[str],
                     got: Collected) -> FunctionResult:
    r = FunctionResult(name, module, tol=got.tols.get(name))
    borrowed = sorted(set(got.borrowed.get(name, ())) |
                      ({info.borrowed[name]} if name in getattr(info, "borrowed", {}) else set()))
    if borrowed:  # its values are dlparity's: never PASS, whatever they compared like
        r.status, r.via = BORROWED, borrowed
        r.findings = got.findings.get(name, [])
        r.notes.append(f"calls {', '.join(borrowed)}: dlparity's own implementation; the "
                       "oracle checks the target's code, not dlparity's")
        return r
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
            unreached = [c for c in contract_cases(name) if c not in got.cases[name]]
            if unreached:  # PASS is owed on every contract case: these never reached it
                r.status, r.via = VIA, _failed_first(name, unreached, got)
                r.notes.append(f"not run on the contract case(s) {', '.join(unreached)}: "
                               f"{', '.join(r.via)} failed there first")
            else:
                r.status = PASS
        else:  # defined, but every case stopped before reaching it
            r.status = UNTESTED
            r.notes.append(f"never reached: {', '.join(dependencies(name))} failed "
                           "first in every case")
        failing = [f.rel_error for f in r.findings if f.status == FAIL and f.rel_error is not None]
        r.worst = max(failing) if failing else got.worst.get(name)
        if r.findings and not failing:
            r.worst = None
    r.notes += got.notes.get(name, [])
    r.bad_input = got.bad_input.get(name, [])
    return r


def contract_cases(name: str) -> list[str]:
    """The cases of ``name``'s records that SPEC.md's contract covers (PASS is owed on
    each of them)."""
    return [case.name for rec in BY_FUNCTION.get(name, []) for case in rec.cases
            if case.oracle and not case.beyond]


def _failed_first(name: str, cases: Sequence[str], got: Collected) -> list[str]:
    """The functions that failed in ``cases`` before ``name`` was reached there (its
    forward, or a part it is built from); the record's forward where none is recorded."""
    parts = [p for p in [*dependencies(name)] + [rec.name for rec in BY_FUNCTION.get(name, [])
                                               if rec.name != name]
             if any(got.cases.get(p, {}).get(c) in (FAIL, ERROR) for c in cases)]
    if parts:
        return list(dict.fromkeys(parts))
    return [rec.name for rec in BY_FUNCTION.get(name, []) if rec.name != name][:1] or [name]


def looked_for(info: Any) -> list[str]:
    """What the oracle looked for in a target where it checked nothing: the dialects it
    reads, and the names the target defines that nearly match a known name of either
    (``dialects.recognise``'s near misses)."""
    from .dialects import recognise

    defined = dict.fromkeys(getattr(info, "defined", []) or [])
    near = recognise({**defined, **getattr(info, "signatures", {})}, "cs231n").near_misses
    found = [f"the SPEC.md (cs231n) catalogue names (`dlparity functions`) and the "
             f"deeplearning.ai (dlai) functions of DIALECTS.md; found "
             f"{', '.join(sorted(info.names)) or 'none'}"]
    if near:
        found.append("names that nearly match: "
                     + ", ".join(f"{name} -> {known}?" for name, known in sorted(near.items())))
    untestable = sorted(n for n in info.names if n.endswith("_backward"))
    if untestable:
        found.append(f"{', '.join(untestable)} cannot run without their forward (the cache "
                     "comes from it)")
    return found


def _process_notes(info: Any, tampered: Sequence[str]) -> list[str]:
    """Notes on what the target did in its own process (none of it can change a verdict)."""
    notes = []
    if getattr(info, "imports_dlparity", None):
        notes.append(f"the target imports {', '.join(info.imports_dlparity)}: in its process "
                     "that is a stand-in, and a function calling it is reported borrowed")
    if tampered:
        notes.append(f"tampering: the target replaced {short(', '.join(tampered), 300)} in its "
                     "own process; verdicts are computed outside it, from the values it "
                     "returned")
    return notes


_RANK = {ERROR: 6, BORROWED: 5, FAIL: 4, VIA: 3, UNTESTED: 2, PASS: 1, MISSING: 0}


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




def run_cli(args: argparse.Namespace) -> int:
    """Run the oracle from parsed options; print the report; return the exit status."""
    try:
        report = check(args.impl, dtype=args.dtype, seed=args.seed, steps=args.steps,
                       timeout=args.timeout, only=parse_only(args.only) or None,
                       strict=args.strict, isolate=False if args.no_isolation else None,
                       memory_mb=args.memory_mb, dialect=getattr(args, "dialect", None))
    except (TargetError, ValueError) as exc:
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
