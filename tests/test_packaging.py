"""The distribution installs every package folder under the dlparity namespace."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")


def _setuptools_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _package_folders() -> dict[str, Path]:
    """Every folder with an __init__.py, by the dotted name it installs as."""
    cfg = _setuptools_config()
    found = {}
    for top, folder in cfg["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            name = ".".join((top, *rel.parts)) if rel.parts else top
            if "__pycache__" not in rel.parts:
                found[name] = init.parent
    return found


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(_setuptools_config()["packages"])
    missing = sorted(set(_package_folders()) - listed)
    assert not missing, f"pyproject.toml [tool.setuptools] packages lacks {missing}"


def test_no_generic_top_level_names_are_installed() -> None:
    for name in _setuptools_config()["packages"]:
        assert name == "dlparity" or name.startswith("dlparity."), name


def test_reference_imports_without_frameworks() -> None:
    """`import dlparity.reference` needs NumPy only (run in a clean interpreter)."""
    import subprocess

    code = ("import sys; import dlparity.reference, dlparity.oracle.registry; "
            "bad = [m for m in ('torch', 'tensorflow') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/")
