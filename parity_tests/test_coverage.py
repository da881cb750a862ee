"""Every catalogue function has a registry record and an implementation in every package,
and docs/coverage.md (function × implementation × dtype) is up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlparity import _docs
from dlparity.catalogue import CATALOGUE, NAMES
from dlparity.implementations import FRAMEWORKS, require
from dlparity.oracle import coverage

PAGE = Path(__file__).resolve().parents[1] / "docs" / "coverage.md"


@pytest.mark.parametrize("impl_name", list(FRAMEWORKS))
@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.name)
def test_every_catalogue_function_is_implemented(impl_name, entry) -> None:
    package = require(impl_name)
    module = __import__(f"{FRAMEWORKS[impl_name]}.{entry.module}", fromlist=["__all__"])
    assert hasattr(package, entry.name), f"{FRAMEWORKS[impl_name]} lacks {entry.name}"
    obj = getattr(module, entry.name, None)
    assert obj is not None and obj.__module__ == module.__name__, (
        f"{entry.name} must be defined in {FRAMEWORKS[impl_name]}.{entry.module}, as in the "
        "reference")


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
