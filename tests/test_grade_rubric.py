"""The rubric and the gradebook's arithmetic, on report dicts written here (no oracle run):
points per function, what each status earns, tampering and borrowing flagged and worth 0,
bad rubrics rejected with the key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlparity.grade.gradebook import build, diagnoses, grade_function
from dlparity.grade.rubric import DEFAULT_EARNS, Rubric, load_rubric, parse_rubric
from dlparity.grade.runner import Outcome


def _fn(name: str, status: str, *, via=(), dtype=None, f64=None, notes=()) -> dict:
    fn = {"name": name, "status": status, "via": list(via), "status_from_dtype": dtype,
          "notes": list(notes), "findings": [], "check": None, "case": None}
    if f64 is not None:
        fn["by_dtype"] = {"float64": {"status": f64}, "float32": {"status": status}}
    return fn


def _report(*functions: dict, notes=(), dialect="cs231n", assignment=None) -> dict:
    return {"functions": list(functions), "notes": list(notes), "dialect": dialect,
            "assignment": assignment, "checked": True, "exit_status": 1}


def _outcome(student: str, report: dict | None, outcome: str = "checked") -> Outcome:
    return Outcome(student, f"{student}.py", outcome, "" if report else "why", report)


def test_default_rubric_is_the_documented_one() -> None:
    assert DEFAULT_EARNS == {"PASS": 1.0, "via": 1.0, "float32_only": 0.5, "FAIL": 0.0,
                             "error": 0.0, "borrowed": 0.0, "untested": 0.0, "missing": 0.0}
    doc = (Path(__file__).resolve().parents[1] / "docs" / "grading.md").read_text()
    for key, value in DEFAULT_EARNS.items():
        assert f"{key} = {value}" in doc, f"docs/grading.md does not state earns.{key}"


def test_each_status_earns_its_fraction_of_the_functions_points() -> None:
    rubric = parse_rubric({"earns": {"via": 0.25, "float32_only": 0.75, "FAIL": 0.1}})
    cases = {
        "PASS": (_fn("a", "PASS"), 4.0),
        "via": (_fn("a", "via", via=["b"]), 1.0),
        "float32_only": (_fn("a", "FAIL", dtype="float32", f64="PASS"), 3.0),
        "FAIL": (_fn("a", "FAIL", dtype="float64"), 0.4),
        "error": (_fn("a", "error", dtype="float32", f64="error"), 0.0),
        "borrowed": (_fn("a", "borrowed", via=["dlparity.reference.a"]), 0.0),
        "untested": (_fn("a", "untested"), 0.0),
    }
    for category, (fn, points) in cases.items():
        g = grade_function("a", fn, 4.0, rubric, tampered=False)
        assert (g.category, g.points, g.max_points) == (category, points, 4.0), category
    assert grade_function("a", None, 4.0, rubric, False).category == "missing"


def test_a_failure_in_float64_too_is_not_float32_only() -> None:
    g = grade_function("a", _fn("a", "FAIL", dtype="float32", f64="FAIL"), 1.0, Rubric(), False)
    assert (g.category, g.points) == ("FAIL", 0.0)


def test_tampering_earns_nothing_whatever_the_rubric_says() -> None:
    generous = parse_rubric({"earns": {k: 1.0 for k in DEFAULT_EARNS}})
    report = _report(_fn("relu_forward", "PASS", notes=["the target tampered with numpy"]),
                     _fn("relu_backward", "PASS"))
    row = build([_outcome("eve", report)], generous, "fp").rows[0]
    assert row.flags == ["tampered"]
    assert row.functions["relu_forward"].points == 0.0
    assert row.functions["relu_forward"].category == "tampered"
    assert row.functions["relu_backward"].points == 1.0
    # a note of the report itself: every function earns nothing
    report = _report(_fn("relu_forward", "PASS"), _fn("relu_backward", "PASS"),
                     notes=["Tampering detected: np.allclose was replaced"])
    row = build([_outcome("eve", report)], generous, "fp").rows[0]
    assert (row.points, row.max_points, row.flags) == (0.0, 2.0, ["tampered"])


def test_borrowing_is_flagged_and_earns_the_rubrics_borrowed() -> None:
    report = _report(_fn("relu_forward", "borrowed", via=["dlparity.reference.relu_forward"]),
                     _fn("relu_backward", "PASS"))
    row = build([_outcome("frank", report)], Rubric(), "fp").rows[0]
    assert row.flags == ["borrowed"]
    assert (row.points, row.max_points) == (1.0, 2.0)
    assert row.functions["relu_forward"].label == "borrowed dlparity.reference.relu_forward"


def test_cs231n_default_grades_what_the_class_defines_and_rubric_points_replace_it() -> None:
    a = _report(_fn("affine_forward", "PASS"), _fn("relu_forward", "PASS"),
                _fn("sgd", "missing"))
    b = _report(_fn("affine_forward", "FAIL"), _fn("relu_forward", "missing"),
                _fn("sgd", "PASS"))
    outcomes = [_outcome("a", a), _outcome("b", b), _outcome("c", None, "import error")]
    rows = build(outcomes, Rubric(), "fp").rows
    assert [list(r.functions) for r in rows] == [["affine_forward", "relu_forward", "sgd"]] * 3
    assert [(r.points, r.max_points) for r in rows] == [(2.0, 3.0), (1.0, 3.0), (0.0, 3.0)]
    assert rows[2].functions["sgd"].label == "import error"

    rubric = parse_rubric({"points": {"affine_forward": 2, "sgd": 3.5}})
    rows = build(outcomes, rubric, "fp").rows
    assert [(r.points, r.max_points) for r in rows] == [(2.0, 5.5), (3.5, 5.5), (0.0, 5.5)]


def test_dlai_default_is_the_assignments_functions_and_groups_take_precedence() -> None:
    rep = _report(_fn("linear_forward", "PASS"), _fn("linear_backward", "FAIL"),
                  dialect="dlai", assignment="C1 W4 deep net")
    row = build([_outcome("heidi", rep)], Rubric(), "fp").rows[0]
    assert len(row.functions) == 9 and row.max_points == 9.0 and row.points == 1.0
    assert row.functions["L_model_backward"].status == "missing"
    rubric = parse_rubric({"points": {"relu_forward": 1,
                                      "c1 w4 deep net": {"linear_forward": 5}}})
    row = build([_outcome("heidi", rep)], rubric, "fp").rows[0]
    assert (row.points, row.max_points, list(row.functions)) == (5.0, 5.0, ["linear_forward"])
    # the oracle names the helper activations beside the assignment: not graded by default,
    # and the assignment's group still applies
    rep["assignment"] = "C1 W4 deep net + activations (dnn_utils)"
    rep["functions"].append(_fn("sigmoid", "PASS"))
    row = build([_outcome("heidi", rep)], Rubric(), "fp").rows[0]
    assert len(row.functions) == 9 and "sigmoid" not in row.functions
    row = build([_outcome("heidi", rep)], rubric, "fp").rows[0]
    assert list(row.functions) == ["linear_forward"]
    # an assignment the table does not know: the functions its report lists
    rep["assignment"] = "C9 W9 something new"
    row = build([_outcome("heidi", rep)], Rubric(), "fp").rows[0]
    assert list(row.functions) == ["linear_forward", "linear_backward", "sigmoid"]


@pytest.mark.parametrize(("data", "error", "words"), [
    ({"point": {}}, ValueError, ["'point'", "expected only 'points', 'earns'"]),
    ({"points": {"relu_fwd": 1}}, ValueError, ["'relu_fwd'"]),
    ({"points": {"relu_forward": -1}}, ValueError, ["points.relu_forward", "-1"]),
    ({"points": {"relu_forward": "2"}}, TypeError, ["points.relu_forward", "'2'", "str"]),
    ({"points": {"relu_forward": True}}, TypeError, ["points.relu_forward"]),
    ({"earns": {"pass": 1.0}}, ValueError, ["'pass'", "PASS, via, float32_only"]),
    ({"earns": {"via": 1.5}}, ValueError, ["earns.via", "between 0 and 1", "1.5"]),
    ({"points": {"C9 W9": {"x": 1}}}, ValueError, ["'C9 W9'", "'C1 W4 deep net'"]),
    ({"points": {"cs231n": {"linear_forward": 1}}}, ValueError, ["'linear_forward'"]),
    ({"points": []}, TypeError, ["[points]"]),
])
def test_bad_rubrics_name_what_was_received_and_expected(data, error, words) -> None:
    with pytest.raises(error) as info:
        parse_rubric(data)
    for word in words:
        assert word in str(info.value)


def test_load_rubric_reads_toml_and_reports_bad_files(tmp_path: Path) -> None:
    good = tmp_path / "rubric.toml"
    good.write_text('[points]\naffine_forward = 2\n\n[points."C1 W4 deep net"]\n'
                    'linear_forward = 3\n\n[earns]\nvia = 0.5\n')
    rubric = load_rubric(good)
    assert rubric.points == {"affine_forward": 2.0}
    assert rubric.groups == {"c1 w4 deep net": {"linear_forward": 3.0}}
    assert rubric.earns["via"] == 0.5 and rubric.earns["PASS"] == 1.0
    bad = tmp_path / "bad.toml"
    bad.write_text("[points\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_rubric(bad)
    with pytest.raises(ValueError, match="cannot read"):
        load_rubric(tmp_path / "absent.toml")


def test_named_diagnoses_are_read_from_fields_and_notes() -> None:
    fn = _fn("update_parameters_with_adam", "FAIL",
             notes=["diagnosis [t=2]: epsilon inside the square root", "an ordinary note"])
    fn["findings"] = [{"status": "FAIL", "diagnosis": "beta1 in the second bias correction"}]
    found = diagnoses(_report(fn))
    assert found == ["update_parameters_with_adam: beta1 in the second bias correction",
                     "update_parameters_with_adam: epsilon inside the square root"]
