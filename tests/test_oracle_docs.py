"""docs/oracle.md and the README quote numbers and tables that the code decides: these
tests keep them true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.oracle_bugs import ATTRIBUTION_BUGS, BUGS, STUDENT_BUGS

from dlparity.oracle.registry import RECORDS
from dlparity.oracle.tolerances import CASE_OVERRIDES, OVERRIDES

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "oracle.md"


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text()


def test_planted_bug_counts_quoted_are_the_meta_tests(doc: str) -> None:
    total = len(BUGS) + len(STUDENT_BUGS) + len(ATTRIBUTION_BUGS)
    assert f"realistic bug at a time (`tests/support/oracle_bugs.py`: {len(BUGS)} bugs" in doc
    assert f"{len(STUDENT_BUGS)} more in the independently written module" in doc
    assert f"and {len(ATTRIBUTION_BUGS)} patterns of per-case attribution" in doc
    assert f"**{total} of {total} planted bugs detected, {total} of {total} attributed" in doc
    readme = (ROOT / "README.md").read_text()
    assert f"On {total}\nplanted bugs: {total} detected, {total} attributed exactly" in readme


def test_every_attribution_pattern_has_a_row(doc: str) -> None:
    rows = [ln for ln in doc.split("| pattern | expected report |")[1].split("\n\n")[0]
            .splitlines() if ln.startswith("| ") and "---" not in ln]
    assert len(rows) == len(ATTRIBUTION_BUGS)


def test_the_beyond_the_contract_table_is_the_registrys(doc: str) -> None:
    table = doc.split("| function | case | why it is beyond the contract |")[1].split("\n\n")[0]
    beyond = {(r.name, c.name) for r in RECORDS for c in r.cases if c.beyond}
    for name, case in beyond:
        row = next((ln for ln in table.splitlines() if f"`{name}`" in ln), None)
        assert row is not None and f"`{case}`" in row, (name, case)


def test_tolerance_rows_quoted_exist_in_the_table(doc: str) -> None:
    section = doc.split("## How the tolerances were chosen")[1].split("\n## ")[0]
    rtols = {t.rtol for t in (*OVERRIDES.values(), *CASE_OVERRIDES.values())}
    quoted = {float(q) for q in re.findall(r"\((\d(?:\.\d)?e-\d+):", section)}
    assert quoted and quoted <= rtols, (quoted, rtols)  # a loosened row quoted must exist
    large = CASE_OVERRIDES[("batchnorm_forward", "float32", "train_large_offset")]
    assert re.search(r"`train_large_offset` \((\S+):", section).group(1) == "2e-3"
    assert large.rtol == 2e-3


def test_tolerance_rejects_a_misspelt_name_or_dtype() -> None:
    from dlparity.oracle.tolerances import tolerance

    assert tolerance("softmax_loss", "float32").rtol == 1e-4  # a loosened row
    assert tolerance("training", "float64").rtol == 1e-10
    with pytest.raises(KeyError, match="softmax_los"):
        tolerance("softmax_los", "float32")  # would silently get the default row
    with pytest.raises(KeyError, match="float16"):
        tolerance("softmax_loss", "float16")


def test_every_fingerprint_shown_is_the_oracles(doc: str) -> None:
    """The report header, the JSON example and the citation example show the fingerprint
    of the oracle as it is (regenerate with `python -m dlparity._docs`)."""
    from dlparity.oracle import fingerprint

    shown = re.findall(r"fingerprint[\" :]+([0-9a-f]{12})\b", doc)
    assert len(shown) >= 3, shown
    assert set(shown) == {fingerprint()}, (
        f"docs/oracle.md shows {sorted(set(shown))}, the oracle's is {fingerprint()}: run "
        "`python -m dlparity._docs`")


def test_the_fingerprinted_files_listed_are_fingerprint_files(doc: str) -> None:
    from dlparity.oracle import fingerprint_files

    block = doc.split("<!-- fingerprint-files:begin")[1].split("<!-- fingerprint-files:end")[0]
    listed = [f"{folder}/{name}"
              for folder, names in re.findall(r"^- `([\w/]+)/`: (.*)$", block, re.M)
              for name in re.findall(r"`([\w.]+)`", names)]
    labels = [label for label, _ in fingerprint_files()]
    assert len(listed) == len(set(listed))
    assert sorted(listed) == sorted(labels), (
        f"not listed: {sorted(set(labels) - set(listed))}; listed, not fingerprinted: "
        f"{sorted(set(listed) - set(labels))}; run `python -m dlparity._docs`")


def test_the_engine_module_table_names_modules_that_exist(doc: str) -> None:
    import dlparity.oracle

    folder = Path(dlparity.oracle.__file__).parent
    table = doc.split("| module | what it does |")[1].split("\n\n")[0]
    named = {n for cell in re.findall(r"^\| ([^|]+) \|", table, re.M)
             for n in re.findall(r"`(\w+\.py)`", cell)}
    assert named, "no module table under 'One engine'"
    assert not sorted(n for n in named if not (folder / n).exists()), named
