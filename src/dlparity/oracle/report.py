"""The oracle's report: statuses, findings, one line per function, the JSON, the printout,
and the fingerprint that pins the oracle that produced it."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlparity.reference as ref
from dlparity import __version__
from dlparity.catalogue import BY_NAME

from .calls import short
from .tolerances import Tol

__all__ = ["BORROWED", "ERROR", "FAIL", "MISSING", "NOTE", "PASS", "STATUSES", "UNTESTED",
           "VIA", "Finding", "FunctionResult", "Report", "fingerprint", "fingerprint_files",
           "short"]

PASS, FAIL, ERROR, MISSING, VIA, UNTESTED = "PASS", "FAIL", "error", "missing", "via", "untested"
#: A function whose values come from dlparity's own implementations (it called
#: dlparity.reference, a twin, or a wrapper of them): never PASS, and the run does not match.
BORROWED = "borrowed"
STATUSES = (PASS, FAIL, ERROR, VIA, BORROWED, MISSING, UNTESTED)
#: A case's status where a case beyond SPEC.md's contract did not match: a note.
NOTE = "note"




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
    raised_in: str = ""  # kind "raised": the other catalogue function it came from

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
        """The finding the line shows: the first one of the line's own status."""
        same = [f for f in self.findings if f.status == self.status]
        return same[0] if same else (self.findings[0] if self.findings else None)

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


def _extension(name: str) -> bool:
    """A dlparity extension beyond SPEC.md (not owed; never counted when missing)."""
    entry = BY_NAME.get(name)
    return bool(entry is not None and entry.extension)


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
    dialect: str = "cs231n"  # the API the target was read in: cs231n (SPEC.md) or dlai
    assignment: str | None = None  # dlai: the assignment recognised ("C1 W4 deep net", ...)
    looked_for: list[str] = field(default_factory=list)  # nothing checked: what was sought

    def counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self.results) for s in STATUSES}

    @property
    def checked(self) -> bool:
        """Whether any function was actually run on a case (not only missing/untested)."""
        return any(r.status not in (MISSING, UNTESTED) for r in self.results)

    @property
    def exit_status(self) -> int:
        """0 every checked function matches; 1 a mismatch (or, with --strict, a missing
        or untested function); 2 nothing was checked at all."""
        if not self.checked:
            return 2
        bad = {FAIL, ERROR, VIA, BORROWED} | ({MISSING, UNTESTED} if self.strict else set())
        return 1 if any(r.status in bad and not (r.status == MISSING and _extension(r.name))
                        for r in self.results) else 0

    def summary(self) -> str:
        c = self.counts()
        parts = [f"{c[PASS]} PASS", f"{c[FAIL]} FAIL", f"{c[ERROR]} error"]
        if c[VIA]:
            parts.append(f"{c[VIA]} failing only via another function (not counted)")
        parts.append(f"{c[MISSING]} missing" + (" (counted: --strict)" if self.strict else ""))
        if c[UNTESTED]:
            parts.append(f"{c[UNTESTED]} untested")
        if c[BORROWED]:
            parts.append(f"{c[BORROWED]} borrowed from dlparity (not the target's own)")
        if not self.checked:
            sought = f" (looked for: {short('; '.join(self.looked_for), 400)})" \
                if self.looked_for else ""
            return (f"Summary: NOTHING WAS CHECKED in {self.target}: no function it defines "
                    f"could be run on a case{sought} (exit 2)")
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
            "dialect": self.dialect,
            "assignment": self.assignment,
            "checked": self.checked,
            "options": {"dtype": "both" if len(self.dtypes) > 1 else self.dtype,
                        "dtypes": self.dtypes, "seed": self.seed, "steps": self.steps,
                        "timeout": self.timeout, "strict": self.strict},
            "exit_status": self.exit_status,
            "summary": self.counts(),
            "notes": self.notes,
            "functions": [r.to_json() for r in self.results],
        }

    def _repr_html_(self) -> str:
        """The report as an HTML table (Jupyter shows it for ``dlparity.check(globals())``)."""
        from .html import render

        return render(self.to_json())

    def format(self, repro: bool = True, quiet: bool = False, verbose: bool = False) -> str:
        """The printed report: a table, the failures with repro snippets, notes, summary."""
        width = max([len(r.name) for r in self.results] + [8])
        read_as = f"read as {self.dialect}" + (f" ({self.assignment})" if self.assignment else "")
        lines = [f"dlparity oracle {__version__} (fingerprint {fingerprint()}): {self.target}, "
                 f"{read_as}",
                 f"dtype {self.dtype}, seed {self.seed}, optimizer steps {self.steps}, "
                 f"timeout {self.timeout:g} s per function", ""]
        if not self.checked:
            lines += ["Nothing was checked: no function the target defines could be run on a "
                      "case. The oracle looked for:"]
            lines += [f"  - {item}" for item in self.looked_for]
            lines += [f"  {r.name}: {r.status}" + (f" ({r.notes[0]})" if r.notes else "")
                      for r in self.results if r.status == UNTESTED]
            return "\n".join([*lines, "", self.summary()])
        lines += [f"{'function':<{width}}  {'status':<22}  {'worst rel.err':>13}  "
                  f"{'tolerance':>9}  failed check [case]"]
        for r in self.results:
            if quiet and r.status in (PASS, MISSING):
                continue
            status = r.status if r.status not in (VIA, BORROWED) else \
                f"{r.status} {', '.join(r.via)}"
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
                others = [g for g in r.findings if g is not f]
                if others:
                    lines.append("  also: " + short("; ".join(
                        f"{g.check} [{g.case}, {g.dtype}]" for g in others), 400))
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
                names = short(", ".join(r.name for r in lenient), 120)
                lines.append(f"  bad input: {len(lenient)} function(s) do not raise SPEC.md's "
                             f"ValueError/TypeError on some bad input ({names}); details "
                             "with --verbose or in the JSON report")
        lines += ["", self.summary()]
        return "\n".join(lines)




#: Oracle modules that present a report and cannot change a verdict (not fingerprinted, so
#: a change of layout keeps graded caches valid).
_PRESENTATION = ("html.py", "coverage.py")


def fingerprint_files() -> list[tuple[str, Path]]:
    """Every source file whose change can change a verdict, as (stable label, path): the
    reference, the argument contract (validation), the base classes, validate.py, the
    catalogue, the shared formulas, and the oracle's own modules (registry, protocols,
    tolerances, comparison, engine, attribution, isolation, report, options)."""
    import dlparity
    import dlparity.bases as bases
    import dlparity.contract as contract

    here = Path(__file__).resolve().parent
    package = Path(dlparity.__file__).resolve().parent
    files = [(f"reference/{p.name}", p)
             for p in sorted(Path(ref.__file__).resolve().parent.glob("*.py"))]
    files += [(f"contract/{p.name}", p)
              for p in sorted(Path(contract.__file__).resolve().parent.glob("*.py"))]
    files += [(f"bases/{p.name}", p)
              for p in sorted(Path(bases.__file__).resolve().parent.glob("*.py"))]
    files += [(f"dlparity/{n}", package / n)
              for n in ("validate.py", "catalogue.py", "formulas.py")]
    files += [(f"oracle/{p.relative_to(here).as_posix()}", p)
              for p in sorted([*here.glob("*.py"), *here.glob("*/*.py")])
              if not p.name.startswith("test_") and p.name not in _PRESENTATION]
    return files


def fingerprint(files: Sequence[tuple[str, Path]] | None = None) -> str:
    """A short hash of the oracle's sources (:func:`fingerprint_files`): cite it with the
    version to pin exactly the oracle that was used."""
    digest = hashlib.sha256()
    for label, path in fingerprint_files() if files is None else files:
        digest.update(label.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
