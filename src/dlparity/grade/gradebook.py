"""The gradebook: each submission's outcome scored by the rubric, as CSV and JSON.

One row per student: points, the most points, the flags (``tampered``: a report note says the
submission tampered with the oracle or NumPy; ``borrowed``: a function's values come from
dlparity's own implementation), the dialect and assignment it was read as, and one status per
graded function. Tampering earns 0 for the functions it touches (for all of them when the note
is the report's own); ``borrowed`` earns the rubric's ``earns.borrowed`` (0 by default).
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .assignments import CS231N
from .rubric import Rubric
from .runner import Outcome

__all__ = ["FunctionGrade", "Gradebook", "Row", "build", "diagnoses", "diagnosis_items",
           "failed_checks", "is_tamper_note"]

_TAMPER = re.compile(r"tamper", re.IGNORECASE)
_DIAGNOSIS = re.compile(r"^\s*diagnos(?:is|ed)\s*(?:\[[^\]]*\])?\s*[:\-]\s*(.+)$",
                        re.IGNORECASE)


def is_tamper_note(note: Any) -> bool:
    return bool(_TAMPER.search(str(note)))


@dataclass
class FunctionGrade:
    name: str
    status: str  # the report's status, or "missing" / "not run"
    category: str  # the rubric key it earned by (or "tampered" / "not run")
    points: float
    max_points: float
    label: str  # status as shown: "FAIL (float32)", "via affine_backward", ...

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "category": self.category, "label": self.label,
                "points": self.points, "max_points": self.max_points}


@dataclass
class Row:
    student: str
    entry: str
    outcome: str
    reason: str
    dialect: str | None
    assignment: str | None
    functions: dict[str, FunctionGrade]
    flags: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cached: bool = False
    report: dict[str, Any] | None = None

    @property
    def points(self) -> float:
        return round(sum(g.points for g in self.functions.values()), 6)

    @property
    def max_points(self) -> float:
        return round(sum(g.max_points for g in self.functions.values()), 6)

    def to_json(self) -> dict[str, Any]:
        return {"student": self.student, "submission": self.entry, "outcome": self.outcome,
                "reason": self.reason, "dialect": self.dialect, "assignment": self.assignment,
                "points": self.points, "max_points": self.max_points, "flags": self.flags,
                "seconds": round(self.seconds, 3), "cached": self.cached,
                "functions": {n: g.to_json() for n, g in self.functions.items()},
                "diagnoses": diagnoses(self.report) if self.report else [],
                "report": f"students/{self.student}.html"}


@dataclass
class Gradebook:
    rows: list[Row]
    rubric: Rubric
    fingerprint: str

    @property
    def functions(self) -> list[str]:
        """Every graded function, in the order first met."""
        return list(dict.fromkeys(n for r in self.rows for n in r.functions))

    def to_json(self) -> dict[str, Any]:
        return {"schema": "dlparity-gradebook/1", "oracle_fingerprint": self.fingerprint,
                "rubric": self.rubric.to_json(), "functions": self.functions,
                "students": [r.to_json() for r in self.rows]}

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    def write_csv(self, path: Path) -> None:
        names = self.functions
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["student", "points", "max_points", "flags", "outcome", "dialect",
                        "assignment", *names, "reason"])
            for r in self.rows:
                w.writerow([r.student, f"{r.points:g}", f"{r.max_points:g}", " ".join(r.flags),
                            r.outcome, r.dialect or "", r.assignment or "",
                            *(r.functions[n].label if n in r.functions else "" for n in names),
                            r.reason])


def _float32_only(fn: Mapping[str, Any]) -> bool:
    if fn.get("status_from_dtype") != "float32":
        return False
    f64 = (fn.get("by_dtype") or {}).get("float64")
    return f64 is None or f64.get("status") == "PASS"


def _label(fn: Mapping[str, Any]) -> str:
    status = str(fn.get("status"))
    label = status
    if status in ("via", "borrowed") and fn.get("via"):
        label += " " + ", ".join(map(str, fn["via"]))
    if fn.get("status_from_dtype"):
        label += f" ({fn['status_from_dtype']})"
    return label


def grade_function(name: str, fn: Mapping[str, Any] | None, points: float, rubric: Rubric,
                   tampered: bool) -> FunctionGrade:
    """One function's grade from its report line (None: not in the report)."""
    if fn is None:
        return FunctionGrade(name, "missing", "missing", points * rubric.earns["missing"],
                             points, "missing")
    status = str(fn.get("status"))
    label = _label(fn)
    if tampered or any(is_tamper_note(n) for n in fn.get("notes") or []):
        return FunctionGrade(name, status, "tampered", 0.0, points, label + " [tampered]")
    if status in ("FAIL", "error") and _float32_only(fn):
        category = "float32_only"
    else:
        category = status if status in rubric.earns else "error"
    return FunctionGrade(name, status, category, points * rubric.earns[category], points,
                         label)


def diagnosis_items(report: Mapping[str, Any] | None) -> list[tuple[str | None, str]]:
    """The named diagnoses in a report, as (function or None, diagnosis): a ``diagnosis``
    field of a function or finding, or a note that reads ``diagnosis: ...`` or
    ``diagnosis [case]: ...``."""
    if not report:
        return []
    found: list[tuple[str | None, str]] = []
    for fn in report.get("functions") or []:
        items: list[Any] = [fn.get("diagnosis"), *(fn.get("diagnoses") or [])]
        items += [f.get("diagnosis") for f in fn.get("findings") or []]
        items += [m.group(1) for m in map(_DIAGNOSIS.match, map(str, fn.get("notes") or []))
                  if m]
        found += [(fn.get("name"), str(item).strip()) for item in items if item]
    found += [(None, m.group(1).strip()) for m in
              map(_DIAGNOSIS.match, map(str, report.get("notes") or [])) if m]
    return list(dict.fromkeys(found))


def diagnoses(report: Mapping[str, Any] | None) -> list[str]:
    """:func:`diagnosis_items` as ``function: diagnosis`` lines."""
    return [f"{fn}: {text}" if fn else text for fn, text in diagnosis_items(report)]


def failed_checks(report: Mapping[str, Any] | None) -> list[str]:
    """``function: check`` for each function's own failure (FAIL / error) in a report."""
    if not report:
        return []
    return [f"{fn.get('name')}: {fn.get('check') or fn.get('status')}"
            for fn in report.get("functions") or [] if fn.get("status") in ("FAIL", "error")]


def _group(outcome: Outcome) -> tuple[str, str | None]:
    rep = outcome.report or {}
    dialect = rep.get("dialect") or CS231N
    return dialect, (rep.get("assignment") if dialect != CS231N else None)


def build(outcomes: Sequence[Outcome], rubric: Rubric, fingerprint: str) -> Gradebook:
    """Score every outcome. A cs231n submission is graded on the catalogue functions that
    the class's cs231n submissions define (unless the rubric lists its own); a submission
    with no report on the assignment most of the class was read as."""
    from dlparity.catalogue import NAMES

    checked = [o for o in outcomes if o.report is not None]
    defined = {fn.get("name") for o in checked if _group(o)[0] == CS231N
               for fn in o.report.get("functions") or [] if fn.get("status") != "missing"}
    class_functions = [n for n in NAMES if n in defined]
    groups = Counter(_group(o) for o in checked)
    usual = groups.most_common(1)[0][0] if groups else (CS231N, None)

    rows = []
    for o in outcomes:
        if o.report is None:
            dialect, assignment = usual
            graded = rubric.functions_for(dialect, assignment, class_functions)
            functions = {n: FunctionGrade(n, "not run", "not run", 0.0, p, o.outcome)
                         for n, p in graded.items()}
            rows.append(Row(o.student, o.entry, o.outcome, o.reason, None, None, functions,
                            seconds=o.seconds, cached=o.cached))
            continue
        rep = o.report
        dialect, assignment = _group(o)
        by_name = {fn.get("name"): fn for fn in rep.get("functions") or []}
        tampered_all = any(is_tamper_note(n) for n in rep.get("notes") or [])
        graded = rubric.functions_for(dialect, assignment, class_functions, list(by_name))
        functions = {n: grade_function(n, by_name.get(n), p, rubric, tampered_all)
                     for n, p in graded.items()}
        flags = []
        if tampered_all or any(is_tamper_note(n) for fn in by_name.values()
                               for n in fn.get("notes") or []):
            flags.append("tampered")
        if any(fn.get("status") == "borrowed" for fn in by_name.values()):
            flags.append("borrowed")
        reason = "" if rep.get("checked", True) else "nothing was checked"
        rows.append(Row(o.student, o.entry, o.outcome, reason, dialect,
                        rep.get("assignment"), functions, flags, o.seconds, o.cached, rep))
    return Gradebook(rows, rubric, fingerprint)
