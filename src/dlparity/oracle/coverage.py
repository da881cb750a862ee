"""The coverage table: every catalogue function × implementation × dtype, and how the
parity suite holds it to the reference (docs/coverage.md is generated from this)."""

from __future__ import annotations

from dlparity.catalogue import CATALOGUE
from dlparity.implementations import FRAMEWORKS, get, load
from dlparity.oracle.registry import BY_FUNCTION
from dlparity.oracle.tolerances import tolerance

DTYPES = ("float64", "float32")


def status(name: str, impl: str, dtype: str) -> str:
    """One cell: how ``name`` in ``impl`` at ``dtype`` is checked."""
    records = BY_FUNCTION.get(name, [])
    if not records:
        return "NO RECORD"
    if not hasattr(load(impl), name):
        return "MISSING"
    if any(r.protocol == "random" for r in records):
        return "statistics (float64 draw)" if dtype == "float64" else "n/a (float64 draw)"
    tol = tolerance(records[0].name, dtype)
    cell = f"parity, rtol {tol.rtol:g}"
    conventions = [r.conventions[impl][1] for r in records if impl in r.conventions]
    if conventions:
        cell += f"; convention: {conventions[0]}"
    cases = sum(len(r.cases) for r in records)
    return f"{cell} ({cases} case{'s' if cases != 1 else ''})"


def installed_frameworks() -> list[str]:
    return [fw for fw in FRAMEWORKS if get(fw).installed]


def table() -> str:
    """The markdown table of docs/coverage.md (needs torch and TensorFlow installed)."""
    impls = list(FRAMEWORKS)
    head = "| function | kind | " + " | ".join(f"{i} {d}" for i in impls for d in DTYPES) + " |"
    lines = [head, "|" + "---|" * (2 + len(impls) * len(DTYPES))]
    for entry in CATALOGUE:
        cells = [status(entry.name, i, d) for i in impls for d in DTYPES]
        lines.append(f"| `{entry.name}` | {entry.kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
