"""The rubric: how many points each function is worth and what each outcome earns.

A rubric is a TOML file (``dlparity grade --rubric rubric.toml``)::

    # points per function; when given, the functions listed ARE the assignment
    [points]
    affine_forward = 2
    affine_backward = 3

    # or per recognised assignment ("cs231n", or a dlai one: "C1 W4 deep net", ...)
    [points."C1 W4 deep net"]
    linear_forward = 1
    L_model_backward = 4

    # what a function earns, as a fraction of its points, by its status
    [earns]
    PASS = 1.0
    via = 1.0           # fails only through a function it calls (that one is charged)
    float32_only = 0.5  # FAIL / error in float32 alone, PASS in float64
    FAIL = 0.0
    error = 0.0
    borrowed = 0.0      # its values come from dlparity's own implementation
    untested = 0.0
    missing = 0.0

Without a rubric (or for what it leaves out): one point per function of the recognised
assignment (:mod:`dlparity.grade.assignments`), earning :data:`DEFAULT_EARNS`. Tampering (a
report note containing "tamper") always earns 0, whatever the rubric says.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .assignments import CS231N, DLAI_NAMES, dlai_functions, known_group, normalise

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover -- Python 3.10
    import tomli as tomllib

__all__ = ["DEFAULT_EARNS", "EARN_KEYS", "Rubric", "load_rubric", "parse_rubric"]

#: What each outcome earns by default, as a fraction of the function's points.
DEFAULT_EARNS: dict[str, float] = {
    "PASS": 1.0, "via": 1.0, "float32_only": 0.5, "FAIL": 0.0, "error": 0.0,
    "borrowed": 0.0, "untested": 0.0, "missing": 0.0,
}
EARN_KEYS = tuple(DEFAULT_EARNS)
_TOP_KEYS = ("points", "earns")


def _catalogue_names() -> frozenset[str]:
    from dlparity.catalogue import NAMES

    return frozenset(NAMES)


def _number(where: str, value: Any, upper: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"rubric {where}: expected a number; received {value!r} "
                        f"({type(value).__name__})")
    x = float(value)
    if not math.isfinite(x) or x < 0 or (upper is not None and x > upper):
        bound = f"between 0 and {upper:g}" if upper is not None else "finite and >= 0"
        raise ValueError(f"rubric {where}: expected a number {bound}; received {value!r}")
    return x


def _function_points(where: str, table: Mapping[str, Any], allowed: frozenset[str],
                     what: str) -> dict[str, float]:
    unknown = sorted(k for k in table if k not in allowed)
    if unknown:
        raise ValueError(f"rubric {where}: not {what}: {', '.join(map(repr, unknown))} "
                         "(see `dlparity functions` and docs/grading.md)")
    return {name: _number(f"{where}.{name}", value) for name, value in table.items()}


@dataclass(frozen=True)
class Rubric:
    """Points per function (flat, or per assignment group) and what each outcome earns."""

    points: dict[str, float] = field(default_factory=dict)
    groups: dict[str, dict[str, float]] = field(default_factory=dict)  # normalised key
    earns: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_EARNS))
    source: str | None = None

    def functions_for(self, dialect: str | None, assignment: str | None,
                      class_functions: Sequence[str] = (),
                      report_functions: Sequence[str] = ()) -> dict[str, float]:
        """The functions graded for a submission read as ``dialect`` / ``assignment``, with
        their points: the rubric's group for that assignment (or for one of its " + "
        parts), else its flat ``[points]``, else one point each for the assignment's
        functions (dlai: DIALECTS.md §2, or ``report_functions`` for an assignment the table
        does not know; cs231n: ``class_functions``, what the class's cs231n submissions
        define)."""
        cs231n = (dialect or CS231N) == CS231N
        candidates = [CS231N] if cs231n else \
            [assignment or "", *str(assignment or "").split(" + ")]
        for candidate in candidates:
            if normalise(candidate) in self.groups:
                return dict(self.groups[normalise(candidate)])
        if self.points:
            return dict(self.points)
        if cs231n:
            return {name: 1.0 for name in class_functions}
        return {name: 1.0 for name in (dlai_functions(assignment) or report_functions)}

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "points": self.points, "groups": self.groups,
                "earns": self.earns}


def parse_rubric(data: Mapping[str, Any], source: str | None = None) -> Rubric:
    """A :class:`Rubric` from a parsed TOML document; ValueError / TypeError naming the key
    for anything that is not one."""
    if not isinstance(data, Mapping):
        raise TypeError(f"rubric: expected a table; received {type(data).__name__}")
    unknown = sorted(k for k in data if k not in _TOP_KEYS)
    if unknown:
        raise ValueError(f"rubric: unknown top-level key(s) {', '.join(map(repr, unknown))}; "
                         f"expected only {', '.join(map(repr, _TOP_KEYS))}")
    earns_table = data.get("earns", {})
    if not isinstance(earns_table, Mapping):
        raise TypeError(f"rubric [earns]: expected a table; received {earns_table!r}")
    bad = sorted(k for k in earns_table if k not in EARN_KEYS)
    if bad:
        raise ValueError(f"rubric [earns]: unknown key(s) {', '.join(map(repr, bad))}; "
                         f"expected some of {', '.join(EARN_KEYS)}")
    earns = dict(DEFAULT_EARNS)
    earns.update({k: _number(f"earns.{k}", v, upper=1.0) for k, v in earns_table.items()})

    points_table = data.get("points", {})
    if not isinstance(points_table, Mapping):
        raise TypeError(f"rubric [points]: expected a table; received {points_table!r}")
    catalogue = _catalogue_names()
    flat = {k: v for k, v in points_table.items() if not isinstance(v, Mapping)}
    points = _function_points("points", flat, catalogue | DLAI_NAMES,
                              "function names of the catalogue or of a dlai assignment")
    groups: dict[str, dict[str, float]] = {}
    for key, table in points_table.items():
        if not isinstance(table, Mapping):
            continue
        if not known_group(key):
            from .assignments import DLAI_ASSIGNMENTS

            raise ValueError(f"rubric [points.{key!r}]: not a recognised assignment; expected "
                             f"'cs231n' or one of {', '.join(map(repr, DLAI_ASSIGNMENTS))}")
        allowed = catalogue if normalise(key) == CS231N else \
            frozenset(dlai_functions(key) or ()) | DLAI_NAMES
        groups[normalise(key)] = _function_points(f"points.{key!r}", table, allowed,
                                                  f"functions of {key}")
        if not groups[normalise(key)]:
            raise ValueError(f"rubric [points.{key!r}]: lists no function")
    return Rubric(points, groups, earns, source)


def load_rubric(path: str | Path | None) -> Rubric:
    """The rubric in a TOML file, or the default one for None."""
    if path is None:
        return Rubric()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"rubric: cannot read {p}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"rubric {p}: not valid TOML: {exc}") from None
    return parse_rubric(data, str(p))
