"""docs/conventions.md quotes the divergence of every stock framework default; these tests
re-measure each one and fail when the page and the measurement disagree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dlparity import framework_defaults as defaults

PAGE = Path(__file__).resolve().parents[1] / "docs" / "conventions.md"
ROW = re.compile(r"^\| `(?P<key>[^`]+)` \| (?P<fw>torch|tf) \| .* \| (?P<value>[^|]+) \|$")


def _page_values() -> dict[str, str]:
    if not PAGE.exists():
        pytest.skip("docs/conventions.md is not shipped with an installed package")
    text = PAGE.read_text()
    block = text.split("<!-- measured:begin", 1)[1].split("<!-- measured:end", 1)[0]
    return {m["key"]: m["value"].strip() for line in block.splitlines()
            if (m := ROW.match(line.strip()))}


@pytest.fixture(scope="module")
def measured(request) -> dict[str, float]:
    frameworks = tuple(fw for fw, mod in (("torch", "torch"), ("tf", "tensorflow"))
                       if __import__("importlib.util").util.find_spec(mod))
    if not frameworks:
        pytest.skip("neither torch nor tensorflow is installed")
    return {d.key: d.value for d in defaults.measure(frameworks)}


def test_page_lists_every_probe(measured) -> None:
    page = _page_values()
    assert sorted(page) == sorted(measured), (
        "docs/conventions.md and src/dlparity/framework_defaults.py list different probes; "
        "regenerate the table with `dlparity conventions`")


def test_page_numbers_match_measurement(measured) -> None:
    page = _page_values()
    wrong = []
    for key, value in measured.items():
        quoted = page.get(key)
        if quoted is None:
            continue
        if quoted.startswith("agrees"):
            ok = value < defaults.AGREES
        else:
            # The page rounds to three significant digits; the probes are seeded, so a
            # difference beyond 1 % means the framework (or the reference) changed.
            ok = value >= defaults.AGREES and abs(value - float(quoted)) <= 0.01 * float(quoted)
        if not ok:
            wrong.append(f"{key}: page says {quoted}, measured {defaults.format_value(value)}")
    assert not wrong, "docs/conventions.md is out of date:\n  " + "\n  ".join(wrong)


def test_every_divergence_on_the_page_is_explained() -> None:
    """Each measured key also has a row in the explanation table above the numbers."""
    text = PAGE.read_text() if PAGE.exists() else pytest.skip("no docs")
    explained = text.split("<!-- measured:begin", 1)[0]
    missing = [k for k in _page_values() if f"`{k}`" not in explained]
    assert not missing, f"no explanation on docs/conventions.md for {missing}"
