"""DIALECTS.md §5: another API (class-based layers with forward/backward methods) is checked
through a small adapter module. The adapter is the one docs/oracle.md shows, read from the
page, so the page stays true; its cache is an object of the learner's own class, which
stays in the learner's process and comes back to it for the backward."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import dlparity
from dlparity.oracle.report import FAIL, PASS

DOC = Path(__file__).resolve().parents[1] / "docs" / "oracle.md"

MYLIB = """
import numpy as np

class Linear:
    def __init__(self, W, b):
        self.W, self.b = W, b
    def forward(self, x):
        self.x = x
        return x.reshape(x.shape[0], -1) @ self.W + self.b
    def backward(self, dout):
        x2 = self.x.reshape(self.x.shape[0], -1)
        self.dW, self.db = x2.T @ dout, dout.sum(axis=0)
        return (dout @ self.W.T).reshape(self.x.shape)

class ReLU:
    def forward(self, x):
        self.mask = x > 0
        return np.where(self.mask, x, 0.0)
    def backward(self, dout):
        return np.where(self.mask, dout, 0.0)
"""


def _adapter_from_the_docs() -> str:
    section = DOC.read_text().split("## The deeplearning.ai dialect", 1)[1]
    block = re.search(r"```python\n(# adapter\.py.*?)```", section, re.S)
    assert block, "docs/oracle.md lost its worked adapter"
    return block.group(1)


def test_the_documented_adapter_checks_class_based_layers(tmp_path) -> None:
    (tmp_path / "mylib.py").write_text(textwrap.dedent(MYLIB))
    (tmp_path / "adapter.py").write_text(_adapter_from_the_docs())
    names = ["affine_forward", "affine_backward", "relu_forward", "relu_backward"]
    report = dlparity.check(str(tmp_path / "adapter.py"), only=names)
    assert {r.name: r.status for r in report.results} == dict.fromkeys(names, PASS)
    assert report.exit_status == 0


def test_a_bug_in_the_class_is_found_through_the_adapter(tmp_path) -> None:
    (tmp_path / "mylib.py").write_text(textwrap.dedent(MYLIB).replace(
        "self.dW, self.db = x2.T @ dout, dout.sum(axis=0)",
        "self.dW, self.db = x2.T @ dout, dout.sum(axis=1)"))
    (tmp_path / "adapter.py").write_text(_adapter_from_the_docs())
    report = dlparity.check(str(tmp_path / "adapter.py"), dtype="float64",
                            only=["affine_forward", "affine_backward"])
    status = {r.name: r.status for r in report.results}
    assert status == {"affine_forward": PASS, "affine_backward": FAIL}
