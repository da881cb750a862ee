"""``check()``: a dlai target held to the column-layout reference, one line per function.

For each function of the recognised assignment(s), each case of ``cases.py`` runs on the
learner's function (guarded calls: ``calls.Calls``) and on the reference, and the
observations are compared within the one tolerance table. A mismatch is then:

* diagnosed, where re-running the reference with one known mistake (``mistakes.py``)
  reproduces the learner's output within tolerance;
* attributed, where the function references (its own call graph, read when loading) a
  function that fails on its own and re-running the reference with the learner's failing
  part(s) in place reproduces the learner's output: the line is ``via`` that part.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..calls import Calls, Failure, Session, snapshot, written
from ..compare import compare_array
from ..report import ERROR, FAIL, MISSING, PASS, UNTESTED, VIA, Finding, FunctionResult, Report
from ..targets import TargetError
from . import cases as C
from .loader import DlaiTarget, load
from .mistakes import MISTAKES

__all__ = ["DTYPES", "check", "replay"]

DTYPES = ("float64", "float32")
ERROR_KINDS = ("raised", "timeout", "return type", "oracle", "crashed")
_RANK = {ERROR: 5, FAIL: 4, VIA: 3, UNTESTED: 2, PASS: 1, MISSING: 0}


def _dtypes(dtype: str | Sequence[str] | None) -> tuple[str, ...]:
    """None: float64 (the course's); 'both'; a name; a sequence of names."""
    if dtype is None:
        return ("float64",)
    if dtype == "both":
        return DTYPES
    names = (dtype,) if isinstance(dtype, str) else tuple(dtype)
    if not names or any(d not in DTYPES for d in names):
        raise ValueError(f"dtype must be 'float64', 'float32', 'both' or a sequence of the "
                         f"first two; received {dtype!r}")
    return tuple(dict.fromkeys(names))


def compare_obs(owner: str, got: dict, want: dict, tol: Any) -> float:
    """Raise a Failure at the first observation that does not match; the worst error."""
    worst = 0.0
    for key, w in want.items():
        if key.startswith("_"):
            continue
        if key not in got:
            raise Failure(owner, key, f"{key}: output missing")
        mm, err = compare_array(key, got[key], w, tol, check_dtype=False)
        if mm is not None:
            raise Failure(owner, key.split(": ")[-1], str(mm), rel_error=err)
        worst = max(worst, err if np.isfinite(err) else 0.0)
    return worst


class _Run:
    """One dtype: every function of the recognised assignment(s) on its cases."""

    def __init__(self, target: Any, dtype: str, seed: int, steps: int, timeout: float):
        self.target, self.dtype, self.seed, self.steps = target, dtype, seed, steps
        self.session = Session(timeout)
        self.calls = Calls(target, self.session)
        self.results: dict[str, FunctionResult] = {}
        self.failed: dict[str, list[tuple[C.Case, str, dict | None]]] = {}
        self.assignment_of: dict[str, str] = {}
        self.cases: dict[str, list[C.Case]] = {}

    # ---------------------------------------------------------------- calling the learner

    def learner(self, owner: str, case: C.Case) -> C.Call:
        def call(name: str, *args: Any) -> Any:
            fn = self.calls.fn(name)
            if case.updates:  # rebinding or -= on the caller's dicts: a note (DIALECTS §3)
                snap = snapshot(args, "args")
                result = self.calls(name, fn, *args, watch=[])
                if written(snap):
                    self.session.note(owner, "updates the caller's arrays in place (-=): "
                                      "a note, the course rebinds them (DIALECTS.md §3)")
                return result
            labels = [f"argument {i + 1}" for i in range(len(args))]
            return self.calls(name, fn, *args, watch=list(zip(labels, args, strict=True)))
        return call

    def arity(self, name: str) -> int | None:
        sig = getattr(self.target, "signatures", {}).get(name)
        return None if sig is None else len([p for p in sig if not p.startswith("*")])

    # ---------------------------------------------------------------- one function

    def run_function(self, assignment: str, name: str, cases: list[C.Case]) -> None:
        r = FunctionResult(name, getattr(self.target, "origins", {}).get(name, ""))
        self.results[name] = r
        self.assignment_of[name] = assignment
        self.cases[name] = cases
        worst = 0.0
        for case in cases:
            tol = C.tol_for(case, self.dtype)
            r.tol = tol
            self.session.case = case.name
            self.session.pending = []
            got = None
            try:
                got = case.observe(self.learner(name, case))
                if case.note is not None and (text := case.note(got)):
                    self.session.note(name, text)
                if not case.judge:
                    want = self.expected(assignment, case, got)
                    worst = max(worst, compare_obs(name, got, want, tol))
                r.cases[case.name] = PASS
            except Failure as failure:
                self._find(r, case, failure, got, assignment)
            for failure in self.session.pending:  # a write into an input: FAIL, still compared
                r.cases[case.name] = FAIL
                r.findings.insert(0, Finding(name, "mutation", case.name, failure.message
                                             + " (DIALECTS.md §3: a forward or backward "
                                             "writing into an input is a FAIL)", None, FAIL,
                                             dtype=self.dtype))
            self.session.pending = None
            self._dtype_note(name, got)
        r.notes += self.session.notes.get(name, [])
        if r.findings:
            r.status = ERROR if any(f.status == ERROR for f in r.findings) else FAIL
            failing = [f.rel_error for f in r.findings if f.rel_error is not None]
            r.worst = max(failing) if failing else None
        else:
            r.status = PASS
            r.worst = worst

    def expected(self, assignment: str, case: C.Case, got: dict | None) -> dict:
        call = C.reference_call(assignment)
        return case.expect(got or {}, call) if case.expect else case.observe(call)

    def _find(self, r: FunctionResult, case: C.Case, failure: Failure, got: dict | None,
              assignment: str) -> None:
        status = ERROR if failure.kind in ERROR_KINDS else FAIL
        message = failure.message
        if status == FAIL and got is not None and not case.judge:
            diagnosis = self.diagnose(r.name, assignment, case, got)
            if diagnosis:
                message += (f". Diagnosis (confirmed: the reference with this one mistake "
                            f"reproduces your output within tolerance): {diagnosis}")
                r.notes.append(f"diagnosis [{case.name}]: {diagnosis}")
        r.cases[case.name] = status
        r.findings.append(Finding(r.name, failure.kind, case.name, message,
                                  failure.rel_error, status, dtype=self.dtype,
                                  repro=repro(r.name, case.name, self.dtype, self.seed,
                                              self.steps, assignment)))
        self.failed.setdefault(r.name, []).append((case, status, got))

    def diagnose(self, name: str, assignment: str, case: C.Case, got: dict) -> str:
        tol = C.tol_for(case, self.dtype)
        for mistake in MISTAKES.get(name, []):
            try:
                with C.patched(mistake.patch):
                    want = self.expected(assignment, case, got)
                compare_obs(name, got, want, tol)
            except Exception:  # noqa: BLE001 -- the variant does not reproduce it
                continue
            return mistake.text
        return ""

    def _dtype_note(self, name: str, got: dict | None) -> None:
        if not got or self.dtype == "float64":
            return
        wider = [k for k, v in got.items() if isinstance(v, np.ndarray)
                 and v.dtype.kind == "f" and v.dtype != np.dtype(self.dtype)]
        if wider:
            self.session.note(name, f"returns {got[wider[0]].dtype} for {self.dtype} inputs "
                              f"({wider[0]}): values compared at {self.dtype}'s tolerance")

    # ---------------------------------------------------------------- attribution

    def attribute(self) -> None:
        """``via``: a failing function whose failing parts, put into the reference in place
        of the reference's own, reproduce its output on every failing case."""
        graph = getattr(self.target, "graph", {})

        def closure(name: str) -> set[str]:
            seen: set[str] = set()
            todo = list(graph.get(name, ()))
            while todo:
                n = todo.pop()
                if n not in seen:
                    seen.add(n)
                    todo += graph.get(n, ())
            return seen

        own_fail = {n for n, r in self.results.items() if r.status in (FAIL, ERROR)}
        via: dict[str, list[str]] = {}
        for name in own_fail:
            parts = sorted(closure(name) & own_fail)
            if parts and self._explained(name, parts):
                via[name] = parts
        for name, parts in via.items():
            r = self.results[name]
            roots = [p for p in parts if p not in via] or parts
            r.status, r.via = VIA, roots
            r.notes.append(f"fails only through {', '.join(roots)}: with the reference's "
                           f"{'/'.join(roots)} in place of yours it reproduces your output "
                           "(confirmed by re-running)")

    def _explained(self, name: str, parts: list[str]) -> bool:
        assignment = self.assignment_of[name]
        for case, status, got in self.failed.get(name, []):
            self.session.case = case.name
            swap = {C.ref_name(self.assignment_of.get(p, assignment), p):
                    self._guarded_part(p) for p in parts}
            try:
                with C.patched(swap):
                    want = self.expected(assignment, case, got)
            except Failure:
                if status == ERROR:
                    continue  # the part raises inside the composite too
                return False
            except Exception:  # noqa: BLE001
                return False
            if got is None or case.judge:
                return False
            try:
                compare_obs(name, got, want, C.tol_for(case, self.dtype))
            except Failure:
                return False
        return True

    def _guarded_part(self, part: str) -> Any:
        fn = self.calls.fn(part)
        return lambda *args: self.calls(part, fn, *args, watch=[])


def _merge(reports: list[Report]) -> Report:
    first = reports[0]
    merged = []
    for i, r0 in enumerate(first.results):
        lines = {rep.dtype: rep.results[i] for rep in reports}
        order = list(lines)
        pick_dtype = max(order, key=lambda d: (_RANK[lines[d].status], -order.index(d)))
        pick = lines[pick_dtype]
        line = FunctionResult(
            r0.name, pick.module, pick.status, pick.worst, pick.tol,
            findings=[f for d in sorted(order, key=lambda d: d != pick_dtype)
                      for f in lines[d].findings],
            notes=list(dict.fromkeys(n for d in order for n in lines[d].notes)),
            cases=pick.cases, via=pick.via)
        line.by_dtype = lines
        line.dtype = pick_dtype if len({x.status for x in lines.values()}) > 1 else None
        merged.append(line)
    report = Report(first.target, "+".join(rep.dtype for rep in reports), first.seed,
                    first.steps, first.timeout, False, merged,
                    notes=list(dict.fromkeys(n for rep in reports for n in rep.notes)),
                    dialect="dlai", assignment=first.assignment, looked_for=first.looked_for)
    report.by_dtype = {rep.dtype: rep for rep in reports}
    return report


def check(target: Any, *, assignment: str | None = None, dtype: Any = None, seed: int = 0,
          steps: int = 100, timeout: float = 20.0, only: Sequence[str] | None = None) -> Report:
    """Check deeplearning.ai learners' code (DIALECTS.md) against the column-layout reference.

    ``target``: a Target-like object (``dlai.load``), or anything ``dlai.load`` reads (a
    file, a notebook, a folder, a module, a namespace dict). ``assignment``: force one
    (``"C1 W4 deep net"``, ...); by default it is recognised. ``dtype``: None (float64, the
    course's), 'float32', 'both' or a sequence. ``only``: function names to check.
    """
    start = time.perf_counter()
    dtypes = _dtypes(dtype)
    if steps < 1:
        raise ValueError(f"steps must be >= 1; received {steps!r}")
    if not isinstance(target, DlaiTarget) and not hasattr(target, "functions"):
        target = load(target)
    sigs = getattr(target, "signatures", None) or {n: None for n in target.functions}
    from ..dialects import ASSIGNMENTS, recognise

    rec = recognise(sigs, forced=assignment or "dlai")
    wanted = set(only) if only else None
    reports = []
    for dt in dtypes:
        run = _Run(target, dt, seed, steps, timeout)
        lines: list[FunctionResult] = []
        with run.session.alarms():
            for a in [rec.assignment, *rec.also]:
                if a is None:
                    continue
                all_cases = C.cases_for(a, dt, seed, steps, run.arity)
                fitting = set(rec.names.get(a, []))
                for name in ASSIGNMENTS[a]:
                    if name in run.results or (wanted and name not in wanted):
                        continue
                    if a != rec.assignment and name not in fitting:
                        continue
                    if name in fitting:
                        run.run_function(a, name, all_cases[name])
                        lines.append(run.results[name])
                        continue
                    r = FunctionResult(name, getattr(target, "origins", {}).get(name, ""))
                    if target.defines(name):
                        r.status = UNTESTED
                        r.notes.append(f"its parameters {sigs.get(name)} are not those of "
                                       f"{a}'s {name} {list(ASSIGNMENTS[a][name][0])}")
                    else:
                        r.status = MISSING
                    lines.append(r)
            run.attribute()
        report = Report(getattr(target, "label", str(target)), dt, seed, steps, timeout,
                        False, lines, dialect="dlai", assignment=rec.label)
        report.notes += list(getattr(target, "load_notes", []))
        if rec.near_misses:
            report.notes.append("names close to dlai/cs231n names, not checked: " + ", ".join(
                f"{k} (did you mean {v}?)" for k, v in rec.near_misses.items()))
        if not report.checked:
            report.looked_for = [f"{a}: {', '.join(ASSIGNMENTS[a])}" for a in ASSIGNMENTS]
        reports.append(report)
    report = reports[0] if len(reports) == 1 else _merge(reports)
    report.seconds = time.perf_counter() - start
    return report


def repro(name: str, case: str, dtype: str, seed: int, steps: int, assignment: str) -> str:
    """A notebook cell that replays one case on the learner's own function."""
    return (f"# in your notebook (or after `from your_file import *`):\n"
            f"from dlparity.oracle.dlai import replay\n"
            f"replay({name}, {case!r}, dtype={dtype!r}, seed={seed}, steps={steps}, "
            f"assignment={assignment!r})")


def replay(fn: Any, case: str, *, dtype: str = "float64", seed: int = 0, steps: int = 100,
           assignment: str | None = None, show: bool = True) -> dict[str, Any]:
    """Run one case on ``fn`` (the learner's own function, called directly) and on the
    reference; print the inputs' shapes, the first output that differs, both values."""
    from ..dialects import ASSIGNMENTS

    name = fn.__name__
    found = [a for a in ASSIGNMENTS if name in ASSIGNMENTS[a]
             and (assignment is None or a == assignment)]
    if not found:
        raise ValueError(f"replay: {name!r} is not a dlai function (DIALECTS.md §2)")
    a = found[0]
    cases = {c.name: c for c in C.cases_for(a, dtype, seed, steps, lambda n: None)[name]}
    if case not in cases:
        raise ValueError(f"replay: {name} has no case {case!r}; cases: {sorted(cases)}")
    c = cases[case]
    seen: list[tuple] = []

    def call(n: str, *args: Any) -> Any:
        seen.append(args)
        return fn(*args)
    got = c.observe(call)
    out: dict[str, Any] = {"got": got, "inputs": seen[0] if seen else ()}
    if not c.judge:
        want = c.expect(got, C.reference_call(a)) if c.expect else \
            c.observe(C.reference_call(a))
        out["want"] = want
        try:
            compare_obs(name, got, want, C.tol_for(c, dtype))
            out["mismatch"] = None
        except Failure as f:
            out["mismatch"] = f.message
            label = f.kind
            key = next((k for k in want if k.endswith(label)), None)
            if key is not None:
                out["first"] = (key, got.get(key), want[key])
    if show:
        shapes = [getattr(x, "shape", type(x).__name__) for x in out["inputs"]]
        print(f"{name} [{case}] inputs (first call): {shapes}")
        print("matches the reference" if out.get("mismatch") is None
              else f"differs: {out['mismatch']}")
        if "first" in out:
            print(f"{out['first'][0]}:\n  yours     = {out['first'][1]!r}\n"
                  f"  reference = {out['first'][2]!r}")
    return out


def _ensure(target: Any) -> Any:
    if isinstance(target, str | dict):
        return load(target)
    if not hasattr(target, "functions"):
        raise TargetError(f"not a target: {type(target).__name__}")
    return target
