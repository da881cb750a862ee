"""The one registry of implementations (dlparity.implementations): names and aliases, and
the parity suite's rule that only a framework that is NOT INSTALLED skips -- an installed
implementation that is broken fails."""

from __future__ import annotations

import sys

import pytest

from dlparity import implementations
from dlparity.implementations import Implementation


def test_every_vocabulary_names_the_same_three() -> None:
    assert [i.name for i in implementations.IMPLEMENTATIONS] == ["reference", "torch", "tf"]
    for alias, name in [("numpy", "reference"), ("dlparity.reference", "reference"),
                        ("torch_impl", "torch"), ("dlparity.torch_impl", "torch"),
                        ("tf_impl", "tf"), ("keras", "tf")]:
        assert implementations.get(alias).name == name
    assert implementations.FRAMEWORKS == {"torch": "dlparity.torch_impl",
                                          "tf": "dlparity.tf_impl"}
    with pytest.raises(ValueError, match="received 'jax'"):
        implementations.get("jax")


def test_a_broken_installed_implementation_fails_and_never_skips(tmp_path, monkeypatch) -> None:
    (tmp_path / "broken_twin").mkdir()
    (tmp_path / "broken_twin" / "__init__.py").write_text("def relu_forward(x:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    broken = Implementation("broken", "broken_twin", (), "numpy", None)  # numpy: installed
    monkeypatch.setitem(implementations._BY_NAME, "broken", broken)
    with pytest.raises(SyntaxError):
        implementations.require("broken")
    sys.modules.pop("broken_twin", None)


def test_a_framework_that_is_not_installed_skips_with_the_reason(monkeypatch) -> None:
    missing = Implementation("ghost", "ghost_impl", (), "no_such_framework_xyz", "ghost")
    monkeypatch.setitem(implementations._BY_NAME, "ghost", missing)
    with pytest.raises(pytest.skip.Exception, match="no_such_framework_xyz is not installed"):
        implementations.require("ghost")
