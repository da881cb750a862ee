"""``dlparity grade --gradescope``: a directory laid out like Gradescope's autograder
(ROOT/submission/ with the student's files) gets ROOT/results/results.json in Gradescope's
documented format: a total ``score`` and one test per graded function (``name``, ``score``,
``max_score``, ``output``, ``visibility``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dlparity.cli import main
from dlparity.oracle import isolation

pytestmark = pytest.mark.skipif(not isolation.available(),
                                reason="the oracle's isolation needs 'fork' (POSIX)")

SUPPORT = Path(__file__).resolve().parent / "support" / "grade"
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def _check_format(results: dict) -> None:
    """Gradescope's results.json: the keys and types its specification documents."""
    assert set(results) <= {"score", "execution_time", "output", "output_format",
                            "visibility", "stdout_visibility", "extra_data", "tests",
                            "leaderboard"}
    assert isinstance(results["score"], (int, float))
    assert isinstance(results["execution_time"], (int, float))
    assert results["visibility"] in VISIBILITIES
    assert results["stdout_visibility"] in VISIBILITIES
    for test in results["tests"]:
        assert set(test) <= {"score", "max_score", "status", "name", "name_format", "number",
                             "output", "output_format", "tags", "visibility", "extra_data"}
        assert {"name", "score", "max_score", "output", "visibility"} <= set(test)
        assert isinstance(test["score"], (int, float))
        assert isinstance(test["max_score"], (int, float))
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert isinstance(test["output"], str) and test["output"]
        assert test["visibility"] in VISIBILITIES
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))


def _layout(tmp_path: Path, *entries: Path) -> Path:
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    for entry in entries:
        if entry.is_dir():
            for p in entry.iterdir():
                shutil.copy(p, root / "submission" / p.name)
        else:
            shutil.copy(entry, root / "submission" / entry.name)
    return root


def test_results_json_for_a_cs231n_submission_with_a_rubric(tmp_path: Path, capsys) -> None:
    root = _layout(tmp_path, SUPPORT / "cs231n_class" / "bob")
    rubric = tmp_path / "rubric.toml"
    rubric.write_text("[points]\naffine_forward = 1\naffine_backward = 2\nrelu_forward = 1\n"
                      "relu_backward = 1\naffine_relu_forward = 1\naffine_relu_backward = 1\n"
                      "sgd = 3\n")
    code = main(["grade", "--gradescope", "--root", str(root), "--rubric", str(rubric),
                 "--timeout", "5", "--visibility", "after_published"])
    assert code == 0
    results = json.loads((root / "results" / "results.json").read_text())
    _check_format(results)
    tests = {t["name"]: t for t in results["tests"]}
    assert list(tests) == ["affine_forward", "affine_backward", "relu_forward",
                           "relu_backward", "affine_relu_forward", "affine_relu_backward",
                           "sgd"]
    assert tests["affine_backward"] | {"output": ""} == {
        "name": "affine_backward", "score": 0.0, "max_score": 2.0, "status": "failed",
        "output": "", "visibility": "after_published"}
    assert "replay(" in tests["affine_backward"]["output"]  # the repro snippet
    assert (tests["relu_forward"]["score"], tests["relu_forward"]["max_score"]) == (0.5, 1.0)
    assert (tests["affine_forward"]["score"], tests["affine_forward"]["status"]) == (1.0,
                                                                                  "passed")
    assert (tests["sgd"]["score"], tests["sgd"]["max_score"]) == (0.0, 3.0)  # not written
    assert sum(t["max_score"] for t in results["tests"]) == 10.0
    assert str(root / "results" / "results.json") in capsys.readouterr().out


def test_an_unimportable_submission_still_gets_results(tmp_path: Path) -> None:
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "submission" / "layers.py").write_text("import not_a_module_anywhere\n")
    rubric = tmp_path / "rubric.toml"
    rubric.write_text("[points]\nrelu_forward = 2\n")
    assert main(["grade", "--gradescope", "--root", str(root), "--rubric", str(rubric),
                 "-q"]) == 0
    results = json.loads((root / "results" / "results.json").read_text())
    _check_format(results)
    assert results["score"] == 0
    assert results["tests"][0]["max_score"] == 2.0
    assert "not_a_module_anywhere" in results["tests"][0]["output"]
    assert "import error" in results["output"]


def test_results_json_for_a_dlai_notebook(tmp_path: Path) -> None:
    root = _layout(tmp_path, SUPPORT / "dlai_class" / "judy.ipynb")
    assert main(["grade", "--gradescope", "--root", str(root), "--timeout", "10", "-q"]) == 0
    results = json.loads((root / "results" / "results.json").read_text())
    _check_format(results)
    tests = {t["name"]: t for t in results["tests"]}
    assert len(tests) == 9 and "L_model_backward" in tests
    assert tests["linear_forward"]["score"] == 0.0
    assert results["score"] < 9.0


def test_usage_errors_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["grade", "--gradescope", "--root", str(tmp_path)]) == 2
    assert "no submission folder" in capsys.readouterr().err
    assert main(["grade"]) == 2
    assert "SUBMISSIONS_DIR" in capsys.readouterr().err
    assert main(["grade", str(tmp_path / "absent")]) == 2
    assert "must be a directory" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[earns]\nvia = 2\n")
    assert main(["grade", str(tmp_path), "--rubric", str(bad)]) == 2
    assert "earns.via" in capsys.readouterr().err
