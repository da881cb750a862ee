"""Who is to blame: turning failures explained by another function's failure into ``via``.

A record covers a forward and its backward; a composite, a loss or a model may be built
from other catalogue functions (observed in the target's calls, or :data:`DEPENDS_ON`
where calls cannot be observed). :func:`attribute` decides, finding by finding and case
by case, which failures are a function's own (see docs/oracle.md, "Attribution").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dlparity.catalogue import CATALOGUE, NAMES

from .registry import BY_FUNCTION

__all__ = ["DEPENDS_ON", "attribute", "dependents", "is_own_kind", "is_state_check"]

#: What each function may be built from: the oracle's fallback where the target's calls
#: cannot be observed (and what ``--only`` runs alongside), from the catalogue's records
#: (``Entry.depends_on``). A function that fails while one of these (or, for a backward, its
#: own forward) fails is reported ``via`` that part. Transitive.
DEPENDS_ON: dict[str, tuple[str, ...]] = {e.name: e.depends_on for e in CATALOGUE
                                          if e.depends_on}


def is_state_check(kind: str) -> bool:
    """A check of the state a forward stores (batch norm's running statistics), not of
    its output."""
    return "bn_param[" in kind


def is_own_kind(kind: str) -> bool:
    """Failures that are always the function's own, whatever its forward did: the shape
    or dtype of its own outputs, a write into its inputs, the wrong number of outputs."""
    return kind.startswith(("shape:", "dtype:")) or kind in ("mutation", "return type")


def closure(names: set[str]) -> set[str]:
    """``names`` with everything they depend on (a backward depends on its forward)."""
    todo, seen = list(names), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += list(dependencies(name))
    return seen


def dependents(name: str) -> list[str]:
    """Catalogue names that may fail ``via`` ``name`` (the inverse of :data:`DEPENDS_ON`,
    transitively, plus a forward's backward)."""
    return [n for n in NAMES if n != name and name in closure({n})]


def dependencies(name: str) -> tuple[str, ...]:
    deps = list(DEPENDS_ON.get(name, ()))
    for record in BY_FUNCTION.get(name, []):
        if record.backward == name:
            deps.append(record.name)
    return tuple(dict.fromkeys(deps))


def forward_of(name: str) -> str | None:
    """The forward whose cache backward ``name`` reads (None: not a backward)."""
    return next((rec.name for rec in BY_FUNCTION.get(name, []) if rec.backward == name), None)


def _category(kind: str) -> str:
    """The family of an own-kind check: 'shape', 'dtype', 'mutation', 'return type'."""
    return kind.split(":")[0]


def attribute(results: list[Any], parts: Callable[[str, str], set[str]],
              output_failed: dict[str, set[str]], near_miss: dict[str, set[str]],
              failing_any: set[str]) -> None:
    """Turn failures explained by another function's failure into ``via`` lines naming
    the root causes (one dtype's results; ``failing_any``: failing in any dtype checked).

    A finding of ``r`` in case c is explained when

    * ``r`` is a backward and the finding is not a shape, dtype, arity or mutation failure
      of ``r``'s own outputs, and its forward's OUTPUT failed in the same case c, or passed
      there only loosely (a near miss, float64) while failing in some case or dtype;
      a forward that failed only in the state it stores, or only in other cases, explains
      nothing: there the backward was fed by a forward that matched;
    * or a failing part ``r`` called in that case c (``parts(name, case)``) explains it:
      an exception only by the part it was raised in; a shape, dtype or mutation failure
      only by a part failing the same way; a wrong number of outputs by none; a value by
      any failing part.

    ``r`` is ``via`` when every one of its findings is explained; the roots named are the
    failing functions reached through the explanations that have a finding of their own.
    """
    by_name = {r.name: r for r in results}
    failing = {r.name for r in results if r.status in ("FAIL", "error")}

    def kinds(name: str) -> set[str]:
        return {_category(f.check) for f in by_name[name].findings}

    def explainers(r: Any, f: Any) -> set[str]:
        called = parts(r.name, f.case) & failing - {r.name}
        if f.check == "raised":
            found = {p for p in called if p == f.raised_in}
        elif f.check == "return type":
            found = set()
        elif is_own_kind(f.check):
            found = {p for p in called if _category(f.check) in kinds(p)}
        else:
            found = called
        forward = forward_of(r.name)
        if forward is not None and not is_own_kind(f.check):
            if forward in failing and f.case in output_failed.get(forward, set()):
                found.add(forward)
            elif forward in failing_any and f.case in near_miss.get(forward, set()):
                found.add(forward)
        return found

    causes: dict[str, set[str]] = {}
    own: set[str] = set()
    for name in failing:
        r = by_name[name]
        per_finding = [explainers(r, f) for f in r.findings]
        if not per_finding or not all(per_finding):
            own.add(name)
            # the report leads with a finding that is the function's own
            r.findings = ([f for f, e in zip(r.findings, per_finding, strict=True) if not e]
                          + [f for f, e in zip(r.findings, per_finding, strict=True) if e])
        causes[name] = set().union(*per_finding) if per_finding else set()

    for name in failing - own:
        roots, seen, todo = set(), {name}, list(causes[name])
        while todo:
            cause = todo.pop()
            if cause in seen:
                continue
            seen.add(cause)
            if cause in own or cause not in failing:  # fails on its own (here, or elsewhere)
                roots.add(cause)
            else:
                todo += list(causes.get(cause, ()))
        if roots:
            r = by_name[name]
            r.status = "via"
            r.via = sorted(roots, key=NAMES.index)
