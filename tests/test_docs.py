"""The docs quote code: signatures, examples and error messages. These tests keep them true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dlparity import _docs

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("page", sorted(set(_docs.GENERATED) - _docs.NEEDS_FRAMEWORKS))
def test_generated_blocks_are_up_to_date(page: str) -> None:
    text = (ROOT / "docs" / page).read_text()
    assert _docs.render(page, text) == text, (
        f"docs/{page} is out of date: run `python -m dlparity._docs`")


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
