"""Every catalogue function has a registry record and an implementation in every package,
and docs/coverage.md (function × implementation × dtype) is up to date."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dlparity import _docs
from dlparity.catalogue import CATALOGUE, NAMES
from dlparity.implementations import FRAMEWORKS, require
from dlparity.oracle import coverage

PAGE = Path(__file__).resolve().parents[1] / "docs" / "coverage.md"


@pytest.mark.parametrize("impl_name", list(FRAMEWORKS))
@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.name)
def test_every_catalogue_function_is_defined_in_its_module(impl_name, entry) -> None:
    """Defined in <package>.<module>, as in the reference, not a same-named import. (That
    the package has the name, the import already guarantees: each module's ``__all__`` is
    the catalogue's names and the package star-imports every module.)"""
    require(impl_name)
    module = sys.modules[f"{FRAMEWORKS[impl_name]}.{entry.module}"]
    obj = getattr(module, entry.name)
    assert obj.__module__ == module.__name__, (
        f"{entry.name} must be defined in {FRAMEWORKS[impl_name]}.{entry.module}, as in the "
        f"reference; it comes from {obj.__module__}")


def test_no_cell_of_the_coverage_table_is_missing() -> None:
    if coverage.installed_frameworks() != list(FRAMEWORKS):
        pytest.skip("needs torch and TensorFlow installed")
    text = coverage.table()
    assert "MISSING" not in text and "NO RECORD" not in text
    assert len(text.splitlines()) == len(NAMES) + 2


def test_docs_coverage_page_is_up_to_date() -> None:
    if coverage.installed_frameworks() != list(FRAMEWORKS):
        pytest.skip("needs torch and TensorFlow installed")
    if not PAGE.exists():
        pytest.skip("docs/ is not shipped with an installed package")
    text = PAGE.read_text()
    assert _docs.render("coverage.md", text) == text, (
        "docs/coverage.md is out of date: run `python -m dlparity._docs`")
