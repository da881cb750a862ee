"""The functions of each recognised assignment: what a grade counts by default.

A dlai report names its assignment (``report["assignment"]``: "C1 W4 deep net", or several
joined by " + ", e.g. "C1 W4 deep net + activations (dnn_utils)"); its functions are those of
the oracle's own table (``dlparity.oracle.dialects.ASSIGNMENTS``, DIALECTS.md §2), without the
course helper's activations when they only sit beside the assignment. A cs231n report names
none (SPEC.md's catalogue is one API, not one assignment): its assignment is, per class, the
catalogue functions that the class's cs231n submissions define
(:meth:`dlparity.grade.rubric.Rubric.functions_for`).
"""

from __future__ import annotations

from dlparity.oracle.dialects import ACTIVATIONS, ASSIGNMENTS

__all__ = ["CS231N", "DLAI_ASSIGNMENTS", "DLAI_NAMES", "dlai_functions", "known_group",
           "normalise"]

#: The cs231n dialect's group name (rubric ``[points.cs231n]``).
CS231N = "cs231n"

#: assignment -> its functions, in DIALECTS.md §2's order.
DLAI_ASSIGNMENTS: dict[str, tuple[str, ...]] = {a: tuple(fns) for a, fns in ASSIGNMENTS.items()}
DLAI_NAMES = frozenset(n for names in DLAI_ASSIGNMENTS.values() for n in names)


def normalise(name: str) -> str:
    """An assignment's key for matching: case and spacing do not matter."""
    return " ".join(str(name).lower().replace("_", " ").split())


def _one(name: str) -> tuple[str, ...] | None:
    key = normalise(name)
    for known, functions in DLAI_ASSIGNMENTS.items():
        if normalise(known) == key or normalise(known).split(" (")[0] == key:
            return functions
    return None


def dlai_functions(assignment: str | None) -> tuple[str, ...] | None:
    """The functions of a recognised dlai assignment (parts joined by " + " are united; the
    course helper's activations count only when they are the whole assignment); None when
    no part is known."""
    if not assignment:
        return None
    whole = _one(assignment)
    if whole is not None:
        return whole
    parts = [p.strip() for p in str(assignment).split(" + ") if p.strip()]
    if len(parts) > 1:
        parts = [p for p in parts if _one(p) != DLAI_ASSIGNMENTS[ACTIVATIONS]] or parts
    found = [_one(p) for p in parts]
    if not any(found):
        return None
    return tuple(dict.fromkeys(n for fns in found if fns for n in fns))


def known_group(name: str) -> bool:
    """Whether ``name`` names a group a rubric may give points for."""
    return normalise(name) == CS231N or dlai_functions(name) is not None
