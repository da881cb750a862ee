"""oracle/html.py: a check report as an HTML fragment (Jupyter's view of a Report, and the
per-student page of ``dlparity grade``): one row per function, the failures with their
messages and repro snippets, the notes; everything from the report escaped."""

from __future__ import annotations

import textwrap
from html.parser import HTMLParser

import pytest

import dlparity
from dlparity.oracle.html import render

BUGGY = """\
    import numpy as np

    def relu_forward(x):
        return np.maximum(0, x), x

    def relu_backward(dout, cache):
        return dout * (cache >= 0)  # BUG: 1 at the kink
    """


class _Cells(HTMLParser):
    """The text of each table row, and whether every tag is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.open: list[str] = []
        self.pre: list[str] = []
        self._in_pre = False

    def handle_starttag(self, tag, attrs):
        if tag not in ("br", "img", "meta"):
            self.open.append(tag)
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th") and self.rows:
            self.rows[-1].append("")
        if tag == "pre":
            self._in_pre = True
            self.pre.append("")

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, (tag, self.open[-3:])
        self.open.pop()
        if tag == "pre":
            self._in_pre = False

    def handle_data(self, data):
        if self._in_pre:
            self.pre[-1] += data
        elif self.rows and self.rows[-1] and "td" in self.open:
            self.rows[-1][-1] += data


def _parse(fragment: str) -> _Cells:
    parser = _Cells()
    parser.feed(fragment)
    parser.close()
    assert parser.open == []
    return parser


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("html") / "student_layers.py"
    path.write_text(textwrap.dedent(BUGGY))
    return dlparity.check(str(path), only=["relu_forward", "relu_backward"], timeout=10)


def test_one_row_per_function_with_status_and_failed_check(report) -> None:
    page = _parse(render(report.to_json()))
    rows = {r[0]: r for r in page.rows if r}
    assert rows["relu_forward"][1] == "PASS"
    status, worst, tol, what = rows["relu_backward"][1:]
    assert status.startswith("FAIL")
    assert float(worst) > 0.1 and float(tol) > 0
    assert what.startswith("dx [")


def test_failures_carry_message_and_the_repro_snippet(report) -> None:
    fragment = render(report.to_json())
    page = _parse(fragment)
    assert any("relative error" in p for p in page.pre)
    assert any("replay(" in p and "student_layers.py" in p for p in page.pre)
    assert report.to_json()["oracle_fingerprint"] in fragment


def test_jupyter_shows_the_same_fragment(report) -> None:
    assert report._repr_html_() == render(report.to_json())


def test_everything_from_the_report_is_escaped() -> None:
    hostile = {"target": "<script>alert(1)</script>", "dialect": "cs231n", "notes": ["a<b"],
               "functions": [{"name": "relu_forward", "status": "FAIL", "via": [],
                              "check": "<img src=x>", "case": "c", "notes": [],
                              "findings": [{"status": "FAIL", "check": "<img src=x>",
                                            "case": "c", "dtype": "float64",
                                            "message": "</pre><script>x</script>",
                                            "repro": "a & b"}]}],
               "summary": {"FAIL": 1}, "exit_status": 1}
    fragment = render(hostile)
    assert "<script>" not in fragment and "<img" not in fragment
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fragment
    assert "a &amp; b" in fragment and "a&lt;b" in fragment
    _parse(fragment)


def test_missing_functions_are_counted_not_listed(report) -> None:
    data = report.to_json()
    data["functions"].append({"name": "sgd", "status": "missing"})
    assert "<code>sgd</code>" not in render(data)
    assert "1 catalogue function(s) not defined" in render(data)
    assert "<code>sgd</code>" in render(data, show_missing=True)


def test_bad_input_is_refused() -> None:
    with pytest.raises(TypeError, match="received str"):
        render("not a report")
    with pytest.raises(ValueError, match="no 'functions' key"):
        render({"target": "x"})

