"""Generated parts of the docs pages, and the check that keeps them true.

``python -m dlparity._docs`` rewrites the generated blocks in ``docs/*.md``;
``tests/test_docs.py`` fails when a page and its generator disagree.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path

from dlparity.catalogue import CATALOGUE, MODULES


def _plain_signature(obj: object) -> str:
    """``name(a, b, c=1)``: parameter names and defaults, without annotations."""
    sig = inspect.signature(obj)
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    return str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


def api_signatures() -> str:
    """Every catalogue name with the reference's signature, one table per module."""
    import dlparity.reference as ref

    out: list[str] = []
    for mod in MODULES:
        out += [f"### `{mod}`", "", "| name | signature |", "|---|---|"]
        out += [f"| `{e.name}` | `{e.name}{_plain_signature(getattr(ref, e.name))}` |"
                for e in CATALOGUE if e.module == mod]
        out.append("")
    return "\n".join(out).strip()


def _sci(x: float) -> str:
    """2e-05 -> '2e-5', 0.0001 -> '1e-4', 2.5e-05 -> '2.5e-5'."""
    mantissa, exponent = f"{x:e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def tolerance_tables() -> str:
    """The tolerance table of ``dlparity.oracle.tolerances``: the defaults, the
    function rows and the case rows, each with its measured reason."""
    from dlparity.oracle import tolerances as t

    def cell(key: str | tuple[str, ...]) -> str:
        if key not in t.REASONS:
            raise KeyError(f"dlparity/oracle/tolerances.py: no REASONS entry for row {key!r}")
        return t.REASONS[key].replace("|", "\\|")

    out = ["### Defaults (every function, every case)", "",
           "| dtype | rtol | atol | why |", "|---|---:|---:|---|"]
    out += [f"| {dtype} | {_sci(tol.rtol)} | {_sci(tol.atol)} | {cell(dtype)} |"
            for dtype, tol in t.DEFAULT.items()]
    out += ["", "### Function rows (replace the default for one function and dtype)", "",
            "| function | dtype | rtol | atol | why |", "|---|---|---:|---:|---|"]
    out += [f"| `{name}` | {dtype} | {_sci(tol.rtol)} | {_sci(tol.atol)} | "
            f"{cell((name, dtype))} |"
            for (name, dtype), tol in t.OVERRIDES.items()]
    out += ["", "### Case rows (one registry case; looked up before the function row)", "",
            "| function | dtype | case | rtol | atol | why |", "|---|---|---|---:|---:|---|"]
    out += [f"| `{name}` | {dtype} | `{case}` | {_sci(tol.rtol)} | {_sci(tol.atol)} | "
            f"{cell((name, dtype, case))} |"
            for (name, dtype, case), tol in t.CASE_OVERRIDES.items()]
    return "\n".join(out)


def coverage_table() -> str:
    """Function × implementation × dtype (imports torch and TensorFlow)."""
    from dlparity.oracle.coverage import table

    return table()


def fingerprint_files() -> str:
    """The files the oracle's fingerprint hashes (``dlparity.oracle.fingerprint_files()``),
    one line per folder."""
    from dlparity.oracle import fingerprint_files as files

    folders: dict[str, list[str]] = {}
    for label, _ in files():
        folder, name = label.rsplit("/", 1)
        folders.setdefault(folder, []).append(f"`{name}`")
    return "\n".join(f"- `{folder}/`: {', '.join(names)}" for folder, names in folders.items())


def fingerprint() -> str:
    from dlparity.oracle import fingerprint as current

    return current()


GENERATED: dict[str, dict[str, Callable[[], str]]] = {
    "api.md": {"signatures": api_signatures},
    "coverage.md": {"coverage": coverage_table},
    "oracle.md": {"fingerprint-files": fingerprint_files},
    "tolerances.md": {"tolerances": tolerance_tables},
}
#: Values quoted inside a page's text (no block of their own): the pattern's first group is
#: kept, what follows it is replaced by the generator's output.
INLINE: dict[str, tuple[tuple[re.Pattern[str], Callable[[], str]], ...]] = {
    "oracle.md": ((re.compile(r"(fingerprint[\" :]+)[0-9a-f]{12}\b"), fingerprint),),
}
NEEDS_FRAMEWORKS = frozenset({"coverage.md"})  # checked by parity_tests/test_coverage.py


def _block(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- {name}:begin[^\n]*-->\n)(.*?)\n?(<!-- {name}:end -->)", re.S)


def render(page: str, text: str) -> str:
    """``text`` with every generated block of ``page`` replaced by its generator's output."""
    for name, generate in GENERATED[page].items():
        pattern = _block(name)
        if not pattern.search(text):
            raise ValueError(f"docs/{page}: no '<!-- {name}:begin -->' block")
        text = pattern.sub(lambda m, g=generate: m.group(1) + g() + "\n" + m.group(3), text)
    for pattern, generate in INLINE.get(page, ()):
        value = generate()
        text = pattern.sub(lambda m, v=value: m.group(1) + v, text)
    return text


DOCS = Path(__file__).resolve().parents[2] / "docs"  # the checkout's docs/ (editable installs)


def main(docs: Path = DOCS) -> int:
    for page in GENERATED:
        path = docs / page
        path.write_text(render(page, path.read_text()))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
