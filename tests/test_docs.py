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


def test_readme_function_table_lists_every_catalogue_name() -> None:
    """'What is in the reference': each catalogue name in its module's row (a layer as its
    stem: `affine` for affine_forward / affine_backward)."""
    from dlparity.catalogue import CATALOGUE

    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = line.split(" | ")
        if line.startswith("| `") and len(cells) == 2:
            for module in re.findall(r"`(\w+)`", cells[0]):
                rows[module] = cells[1]
    missing = []
    for e in CATALOGUE:
        stem = re.sub(r"_(forward|backward)$", "", e.name)
        if f"`{stem}`" not in rows.get(e.module, ""):
            missing.append(f"{e.module}.{e.name}")
    assert not missing, f"README.md's function table lacks {missing}"


# The README's example parity failure: torch's Adam given betas=(beta1, beta1), planted in a
# temporary copy of torch_impl that a pytest plugin installs as dlparity.torch_impl.
PLANT_PLUGIN = '''
import importlib.util, sys
from pathlib import Path
import dlparity
d = Path(__file__).with_name("torch_copy")
spec = importlib.util.spec_from_file_location("dlparity.torch_impl", d / "__init__.py",
                                              submodule_search_locations=[str(d)])
mod = importlib.util.module_from_spec(spec)
sys.modules["dlparity.torch_impl"] = mod
spec.loader.exec_module(mod)
dlparity.torch_impl = mod
'''


def test_readme_parity_failure_is_what_the_suite_prints(tmp_path) -> None:
    import os
    import shutil
    import subprocess

    pytest.importorskip("torch")
    import dlparity.torch_impl as torch_impl

    copy = tmp_path / "torch_copy"
    shutil.copytree(Path(torch_impl.__file__).parent, copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    optim = copy / "optim.py"
    right = "torch.optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)"
    assert optim.read_text().count(right) == 1, "torch_impl.adam changed: update this test"
    optim.write_text(optim.read_text().replace(right, right.replace("beta2)", "beta1)")))
    (tmp_path / "plant_plugin.py").write_text(PLANT_PLUGIN)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "plant_plugin", "-q", "-p", "no:cacheprovider",
         "-p", "no:xdist", str(ROOT / "parity_tests" / "test_parity.py"),
         "-k", "adam-optimizer-constant_lr-torch-float64-cpu"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert "1 failed" in run.stdout, run.stdout + run.stderr
    text = (ROOT / "README.md").read_text()
    shown = re.search(r"```text\n(adam \[constant_lr\].*?)```", text, re.S)
    assert shown, "README.md shows no parity failure of adam [constant_lr]"
    for line in shown.group(1).splitlines():
        assert line in run.stdout.splitlines(), (
            f"README.md's failure line is not what the suite prints:\n{line}\n"
            f"printed:\n{run.stdout}")


DOC_PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("page", DOC_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_name_the_current_layout(page: Path) -> None:
    """No page names the old layout (dlparity.parity_tests, tests/parity/, the engine's
    modules under parity_tests/), and every relative link points at a file that exists."""
    text = page.read_text()
    stale = [s for s in ("dlparity.parity_tests", "tests/parity/", "python -m dlparity.parity")
             if s in text]
    stale += [m for m in re.findall(r"parity_tests/(\w+\.py)", text)
              if not (ROOT / "parity_tests" / m).exists()]
    assert not stale, f"{page.name} names {stale}"
    broken = [link for link in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text)
              if not (page.parent / link).exists()]
    assert not broken, f"{page.name} links to missing {broken}"
