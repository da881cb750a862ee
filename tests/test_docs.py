"""The docs quote code: signatures, examples and error messages. These tests keep them true."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from dlparity import _docs

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("page", sorted(set(_docs.GENERATED) - _docs.NEEDS_FRAMEWORKS))
def test_generated_blocks_are_up_to_date(page: str) -> None:
    text = (ROOT / "docs" / page).read_text()
    assert _docs.render(page, text) == text, (
        f"docs/{page} is out of date: run `python -m dlparity._docs`")


def test_docs_spec_is_a_byte_identical_copy_of_the_shared_spec() -> None:
    """docs/SPEC.md (what README and api.md point third parties at) is ../shared/SPEC.md."""
    shared = ROOT.parent / "shared" / "SPEC.md"
    if not shared.exists():
        pytest.skip(f"no {shared} beside this checkout to compare docs/SPEC.md with")
    assert (ROOT / "docs" / "SPEC.md").read_bytes() == shared.read_bytes(), (
        f"docs/SPEC.md differs from {shared}: copy it again (cp {shared} docs/SPEC.md)")


@pytest.mark.parametrize(("page", "link"), [("README.md", "](docs/SPEC.md)"),
                                          ("docs/api.md", "](SPEC.md)")])
def test_readme_and_api_point_third_parties_at_docs_spec(page: str, link: str) -> None:
    assert link in (ROOT / page).read_text(), f"{page} does not link docs/SPEC.md"


def test_every_tolerance_row_carries_one_reason() -> None:
    """docs/tolerances.md prints a measured reason for every row of the table, and no
    reason outlives its row."""
    from dlparity.oracle import tolerances as t

    rows = {*t.DEFAULT, *t.OVERRIDES, *t.CASE_OVERRIDES}
    assert set(t.REASONS) == rows, (
        f"rows without a reason: {sorted(map(str, rows - set(t.REASONS)))}; reasons "
        f"without a row: {sorted(map(str, set(t.REASONS) - rows))}")
    assert all(reason.strip() for reason in t.REASONS.values())


def test_readme_maps_every_package_folder_to_its_import_name() -> None:
    """The README's folder table says where each installed package lives (pyproject's
    package-dir), so a reader of `ls` finds `import dlparity.<name>`."""
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    package_dir = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-dir"]
    readme = (ROOT / "README.md").read_text()
    missing = [f"| `{folder}/` | `{name}`" for name, folder in package_dir.items()
               if f"| `{folder}/` | `{name}`" not in readme]
    assert not missing, f"README.md's folder table lacks the rows {missing}"


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_readme_example_runs() -> None:
    blocks = _python_blocks((ROOT / "README.md").read_text())
    assert blocks, "README.md has no python example"
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102
    assert set(namespace["config"]) >= {"m", "v", "t"}
    assert namespace["config"]["t"] == 1


def test_readme_error_message_is_the_real_one() -> None:
    import numpy as np

    from dlparity.reference import affine_forward

    text = (ROOT / "README.md").read_text()
    with pytest.raises(ValueError) as err:
        affine_forward(np.ones((2, 3)), np.ones((4, 5)), np.ones(5))
    assert f"ValueError: {err.value}" in text
    assert str(err.value) in (ROOT / "docs" / "api.md").read_text()


def test_readme_starts_with_install_then_test_command() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    block = lines[lines.index("```bash") + 1: lines.index("```bash") + 3]
    assert "pip install torch==2.13.0" in block[0]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert block[1] in ci, "the README's test command must be the one .ci/run runs"
