"""The dlai oracle's meta-test: clean implementations of every assignment (each course
generation) match in both dtypes; every planted bug is detected, blamed on the right
function, and, for DIALECTS.md §4's mistakes, diagnosed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.dlai_bugs import BUGS, DIAGNOSED

from dlparity.oracle import dlai

FIXTURES = Path(__file__).parent / "support" / "dlai"
CLEAN = sorted(p.name for p in FIXTURES.glob("c*.py"))
OWN_FAIL = ("FAIL", "error")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", CLEAN)
def test_clean_fixture_matches_in_both_dtypes(name: str, dtype: str) -> None:
    report = dlai.check(str(FIXTURES / name), dtype=dtype)
    assert report.dialect == "dlai" and report.assignment
    bad = [(r.name, r.status, r.first and r.first.message) for r in report.results
           if r.status not in ("PASS", "missing")]
    assert not bad, bad
    assert report.exit_status == 0
    assert sum(r.status == "PASS" for r in report.results) >= 3


def test_assignments_are_recognised_by_signature_and_companions() -> None:
    expected = {"c1w3_planar_2017.py": "C1 W3 planar net", "c1w4_2017.py": "C1 W4 deep net",
                "c2w1_gradcheck.py": "C2 W1 gradient checking",
                "c2w1_reg.py": "C2 W1 regularisation", "c2w1_init.py": "C2 W1 initialisation",
                "c2w2_opt_2021.py": "C2 W2 optimisation"}
    for name, assignment in expected.items():
        rec = dlai.load(str(FIXTURES / name)).recognition()
        assert rec.assignment == assignment, (name, rec)


@pytest.mark.parametrize("bug", BUGS, ids=[b[0] for b in BUGS])
def test_planted_bug_is_detected_and_attributed(bug: tuple, tmp_path: Path) -> None:
    bug_id, fixture, old, new, blamed = bug
    for p in FIXTURES.glob("*.py"):
        shutil.copy(p, tmp_path / p.name)
    src = (tmp_path / fixture).read_text()
    for o, n in zip(*((old, new) if isinstance(old, tuple) else ((old,), (new,))),
                    strict=True):
        assert src.count(o) >= 1, f"{bug_id}: the text to replace is not in {fixture}"
        src = src.replace(o, n)
    (tmp_path / fixture).write_text(src)
    target = fixture if not fixture.startswith("dnn_utils") else "c1w4_2021.py"
    report = dlai.check(str(tmp_path / target))
    lines = {r.name: r for r in report.results}
    assert report.exit_status == 1, report.format()
    assert lines[blamed].status in OWN_FAIL, report.format()
    others = [r.name for r in report.results if r.status in OWN_FAIL and r.name != blamed]
    assert not others, f"{bug_id}: also blamed {others}\n{report.format()}"
    if bug_id in DIAGNOSED:
        text = " ".join(f.message for f in lines[blamed].findings)
        assert DIAGNOSED[bug_id] in text, text


def test_composite_is_via_its_failing_part(tmp_path: Path) -> None:
    for p in FIXTURES.glob("*.py"):
        shutil.copy(p, tmp_path / p.name)
    f = tmp_path / "c1w4_2021.py"
    f.write_text(f.read_text().replace("db = np.sum(dZ, axis=1, keepdims=True) / m",
                                       "db = np.sum(dZ, axis=1, keepdims=True) / m * 0.5"))
    lines = {r.name: r for r in dlai.check(str(f)).results}
    assert lines["linear_backward"].status == "FAIL"
    assert lines["L_model_backward"].status == "via"
    assert lines["L_model_backward"].via == ["linear_backward"]
    assert lines["linear_activation_backward"].via == ["linear_backward"]


def test_a_missing_helper_is_an_error_naming_it_and_the_rest_is_checked(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "c1w4_2021.py", tmp_path / "c1w4_2021.py")  # no dnn_utils.py
    report = dlai.check(str(tmp_path / "c1w4_2021.py"))
    lines = {r.name: r for r in report.results}
    assert lines["linear_activation_forward"].status == "error"
    assert "is not defined" in lines["linear_activation_forward"].first.message
    assert any(h in lines["linear_activation_forward"].first.message for h in ("relu", "sigmoid"))
    assert lines["linear_backward"].status == "PASS"
    assert any("dnn_utils" in n for n in report.notes)


def test_json_report_schema(tmp_path: Path) -> None:
    import json

    report = dlai.check(str(FIXTURES / "c2w2_opt_2017.py"))
    data = json.loads(json.dumps(report.to_json()))
    assert data["dialect"] == "dlai" and data["assignment"] == "C2 W2 optimisation"
    names = [f["name"] for f in data["functions"]]
    assert "update_parameters_with_adam" in names and "update_lr" in names
    assert {f["status"] for f in data["functions"]} <= {"PASS", "FAIL", "error", "missing",
                                                       "untested", "via"}
    assert data["options"]["dtype"] == "float64"
