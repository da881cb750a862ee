"""``dlparity grade`` on a small CS231n class written for it (tests/support/grade/
cs231n_class): a correct file, a buggy folder, a crashing, a hanging, a tampering, a
borrowing (package folder) and a process-killing submission. Every row is there, each scored
by the rubric; the crash, the hang and the kill cost only their own rows; tampering and
borrowing earn nothing and are flagged; the outputs are written; a re-run reads the cache."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from dlparity.grade import CheckOptions, grade
from dlparity.grade.rubric import parse_rubric
from dlparity.oracle import isolation

pytestmark = pytest.mark.skipif(not isolation.available(),
                                reason="the oracle's isolation needs 'fork' (POSIX)")

CLASS = Path(__file__).resolve().parent / "support" / "grade" / "cs231n_class"
STUDENTS = ["alice", "bob", "carol", "dave", "eve", "frank", "mallory"]
SIX = ["affine_forward", "affine_backward", "relu_forward", "relu_backward",
       "affine_relu_forward", "affine_relu_backward"]
# timeout per function as `dlparity check`'s, shorter; dave hangs at import: the wall clock
OPTIONS = CheckOptions(timeout=5.0, submission_timeout=20.0)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("cs231n_grades")
    book = grade(CLASS, out=out, jobs=2, options=OPTIONS)
    return out, book


def _rows(book) -> dict:
    return {r.student: r for r in book.rows}


def test_every_student_has_a_row_graded_on_the_classs_functions(graded) -> None:
    _, book = graded
    assert [r.student for r in book.rows] == STUDENTS
    assert book.functions == SIX  # what the class's cs231n submissions define
    for r in book.rows:
        assert r.max_points == 6.0, r.student


def test_a_correct_submission_earns_every_point(graded) -> None:
    alice = _rows(graded[1])["alice"]
    assert (alice.outcome, alice.points, alice.flags) == ("checked", 6.0, [])
    assert {g.status for g in alice.functions.values()} == {"PASS"}


def test_bugs_cost_their_functions_and_a_float32_only_failure_half(graded) -> None:
    bob = _rows(graded[1])["bob"]  # a folder of plain modules
    assert bob.outcome == "checked" and bob.dialect == "cs231n"
    f = bob.functions
    assert (f["affine_backward"].status, f["affine_backward"].points) == ("FAIL", 0.0)
    assert (f["relu_forward"].category, f["relu_forward"].points) == ("float32_only", 0.5)
    assert f["relu_forward"].label == "FAIL (float32)"
    assert (f["affine_forward"].points, f["relu_backward"].points) == (1.0, 1.0)
    # the row is the rubric's sum of its lines
    earns = {"PASS": 1.0, "via": 1.0, "float32_only": 0.5}
    assert bob.points == sum(earns.get(g.category, 0.0) for g in f.values())
    assert bob.points < 6.0


def test_crash_hang_and_kill_cost_only_their_own_rows(graded) -> None:
    rows = _rows(graded[1])
    carol = rows["carol"]  # relu_forward segfaults: that function, not the row
    assert carol.outcome == "checked"
    assert carol.functions["relu_forward"].status == "error"
    assert carol.functions["relu_forward"].points == 0.0
    assert carol.functions["affine_forward"].points == 1.0
    dave = rows["dave"]  # hangs at import with the alarm blocked: the wall clock
    assert (dave.outcome, dave.points) == ("timeout", 0.0)
    assert "20 s" in dave.reason
    mallory = rows["mallory"]  # kills the process that imports her
    assert mallory.outcome in ("crashed", "import error") and mallory.points == 0.0
    assert rows["alice"].points == 6.0  # graded beside them, untouched


def test_tampering_earns_nothing_and_is_flagged(graded) -> None:
    eve = _rows(graded[1])["eve"]  # a wrong relu_forward that patches np and the reference
    assert eve.functions["relu_forward"].points == 0.0
    assert eve.functions["relu_forward"].status != "PASS"
    assert "tampered" in eve.flags


def test_borrowing_earns_nothing_and_is_flagged(graded) -> None:
    frank = _rows(graded[1])["frank"]  # a package folder
    g = frank.functions["relu_forward"]
    assert (g.status, g.points) == ("borrowed", 0.0)
    assert "dlparity.reference.relu_forward" in g.label
    assert "borrowed" in frank.flags
    assert frank.functions["affine_forward"].points == 1.0


def test_gradebook_csv_and_json(graded) -> None:
    out, book = graded
    with (out / "gradebook.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert [r["student"] for r in table] == STUDENTS
    assert list(table[0])[:7] == ["student", "points", "max_points", "flags", "outcome",
                                  "dialect", "assignment"]
    by = {r["student"]: r for r in table}
    assert by["bob"]["points"] == f"{_rows(book)['bob'].points:g}"
    assert by["bob"]["relu_forward"] == "FAIL (float32)"
    assert by["dave"]["outcome"] == "timeout" and by["dave"]["relu_forward"] == "timeout"
    assert "borrowed" in by["frank"]["flags"]
    data = json.loads((out / "gradebook.json").read_text())
    assert data["schema"] == "dlparity-gradebook/1"
    assert data["functions"] == SIX
    alice = data["students"][0]
    assert (alice["student"], alice["points"], alice["max_points"]) == ("alice", 6.0, 6.0)
    assert alice["functions"]["relu_forward"] == {
        "status": "PASS", "category": "PASS", "label": "PASS", "points": 1.0,
        "max_points": 1.0}


def test_html_reports_and_summary_page(graded) -> None:
    out, _ = graded
    for student in STUDENTS:
        assert (out / "students" / f"{student}.html").exists()
    bob = (out / "students" / "bob.html").read_text()
    assert "<pre>" in bob and "replay(" in bob  # the failures' repro snippets
    assert "affine_backward" in bob and "float32_only" in bob
    dave = (out / "students" / "dave.html").read_text()
    assert "timeout" in dave and "no result within 20 s" in dave
    index = (out / "index.html").read_text()
    assert 'src="summary.png"' in index
    for student in STUDENTS:
        assert f'href="students/{student}.html"' in index
    # affine_backward: bob alone fails it himself
    assert ("<tr><td><code>affine_backward</code></td><td class=\"num\">1</td>") in index
    png = (out / "summary.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_a_rubric_rescores_from_the_cache(graded) -> None:
    out, _ = graded
    rubric = parse_rubric({"points": {"affine_backward": 3, "relu_forward": 2},
                           "earns": {"float32_only": 0.25}})
    book = grade(CLASS, out=out, jobs=2, options=OPTIONS, rubric=rubric)
    rows = _rows(book)  # read back from the cache (unless the oracle changed meanwhile)
    assert book.functions == ["affine_backward", "relu_forward"]
    assert (rows["alice"].points, rows["alice"].max_points) == (5.0, 5.0)
    assert rows["bob"].points == 0.0 + 2 * 0.25
    assert rows["frank"].points == 3.0
    assert rows["dave"].points == 0.0


def test_only_a_changed_or_new_submission_is_checked_again(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    klass.mkdir()
    shutil.copy(CLASS / "alice.py", klass / "alice.py")
    shutil.copytree(CLASS / "bob", klass / "bob")
    out = tmp_path / "out"
    first = grade(klass, out=out, jobs=2, options=OPTIONS)
    assert [r.cached for r in first.rows] == [False, False]
    # bob fixes his bug; a late submission arrives
    layers = klass / "bob" / "layers.py"
    layers.write_text(layers.read_text().replace("dout.mean(axis=0)", "dout.sum(axis=0)"))
    shutil.copy(CLASS / "alice.py", klass / "zoe.py")
    second = grade(klass, out=out, jobs=2, options=OPTIONS)
    assert [(r.student, r.cached) for r in second.rows] == [
        ("alice", True), ("bob", False), ("zoe", False)]
    assert _rows(second)["bob"].functions["affine_backward"].status == "PASS"
    assert _rows(second)["zoe"].points == 6.0
    # --no-cache: everything checked again
    assert not any(r.cached for r in grade(klass, out=out, jobs=2, options=OPTIONS,
                                           cache=False).rows)


def test_bad_arguments_are_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must not be inside SUBMISSIONS_DIR"):
        grade(CLASS, out=CLASS / "grades")
    with pytest.raises(ValueError, match="jobs must be a positive integer; received 0"):
        grade(CLASS, out=tmp_path, jobs=0)
    with pytest.raises(ValueError, match="must be a directory"):
        grade(CLASS / "alice.py", out=tmp_path)
    assert not (CLASS / "grades").exists()
