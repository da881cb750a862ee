"""``dlparity grade --gradescope``: grade one submission in Gradescope's autograder layout.

Gradescope runs one container per submission, with the student's files in
``/autograder/submission/``, and reads ``/autograder/results/results.json``: a total
``score`` and one entry of ``tests`` per function of the recognised assignment (``name`` the
function's name, ``score``, ``max_score``, ``status``, ``output``, ``visibility``). The
submission is checked exactly as ``dlparity grade`` checks one entry of a class (a worker
process, the oracle's child with its time and memory limits, a wall-clock limit).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .gradebook import Row, build
from .rubric import Rubric
from .runner import CheckOptions, check_all
from .submissions import SUFFIXES, Submission, resolve_target

__all__ = ["VISIBILITIES", "find_submission", "results_json", "run_gradescope"]

VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
_OUTPUT_CHARS = 4000


def find_submission(root: Path) -> Submission:
    """The submission under ``root/submission``: its files (a folder of plain modules or
    a package), its one notebook, or the one folder it holds (an uploaded folder)."""
    folder = root / "submission"
    if not folder.is_dir():
        raise ValueError(f"dlparity grade --gradescope: no submission folder {folder} "
                         "(expected Gradescope's layout: ROOT/submission/ with the student's "
                         "files)")
    visible = [p for p in folder.iterdir() if not p.name.startswith(".")
               and p.name not in ("__pycache__", "__MACOSX")]
    code = [p for p in visible if p.is_file() and p.suffix in SUFFIXES]
    dirs = [p for p in visible if p.is_dir()]
    if not code and len(dirs) == 1:
        folder = dirs[0]
    return Submission("submission", folder, resolve_target(folder))


def _test_output(row: Row, name: str) -> str:
    g = row.functions[name]
    lines = [f"{name}: {g.label}; earned as {g.category}: {g.points:g} / {g.max_points:g}"]
    fn = next((f for f in (row.report or {}).get("functions") or [] if f.get("name") == name),
              None)
    if row.report is None:
        lines.append(row.reason)
    elif fn is not None and fn.get("status") in ("FAIL", "error"):
        findings = [f for f in fn.get("findings") or [] if f.get("status") == fn.get("status")]
        if findings:
            first = findings[0]
            lines += [f"first failed check: {first.get('check')} [case {first.get('case')}, "
                      f"{first.get('dtype')}]", str(first.get("message") or "")]
            if first.get("repro"):
                lines += ["Repro:", str(first["repro"])]
    elif fn is not None and fn.get("status") == "via":
        lines.append("fails only through " + ", ".join(map(str, fn.get("via") or []))
                     + " (charged there)")
    if fn is not None:
        lines += [f"note: {n}" for n in fn.get("notes") or []]
    text = "\n".join(lines)
    return text if len(text) <= _OUTPUT_CHARS else text[: _OUTPUT_CHARS - 20] + "\n[... cut]"


def results_json(row: Row, seconds: float, visibility: str = "visible",
                 note: str = "") -> dict[str, Any]:
    """Gradescope's results.json for one graded row."""
    read_as = (row.dialect or "unknown") + (f" ({row.assignment})" if row.assignment else "")
    head = [f"dlparity: {row.points:g} / {row.max_points:g} points; outcome {row.outcome}; "
            f"read as {read_as}"]
    if row.flags:
        head.append(f"FLAGGED: {', '.join(row.flags)} (those functions earn nothing)")
    if row.reason:
        head.append(row.reason)
    if note:
        head.append(note)
    tests = [{"name": name, "score": g.points, "max_score": g.max_points,
              "status": "passed" if g.max_points and g.points >= g.max_points else "failed",
              "output": _test_output(row, name), "visibility": visibility}
             for name, g in row.functions.items()]
    return {"score": row.points, "execution_time": round(seconds, 1),
            "output": "\n".join(head), "visibility": visibility,
            "stdout_visibility": "hidden", "tests": tests}


def run_gradescope(root: str | Path, rubric: Rubric, options: CheckOptions,
                   visibility: str = "visible") -> dict[str, Any]:
    """Check ``root/submission``, write ``root/results/results.json``, return its content."""
    from dlparity.oracle.report import fingerprint

    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}; received "
                         f"{visibility!r}")
    start = time.perf_counter()
    root = Path(root)
    sub = find_submission(root)
    outcomes = check_all([sub], options, jobs=1, cache_dir=None, progress=False)
    row = build(outcomes, rubric, fingerprint()).rows[0]
    note = ""
    if row.dialect in (None, "cs231n") and not rubric.points and "cs231n" not in rubric.groups:
        note = ("note: no rubric lists the cs231n functions, so only the functions this "
                "submission defines are graded (give --rubric to grade the assignment's)")
    results = results_json(row, time.perf_counter() - start, visibility, note)
    out = root / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return results
