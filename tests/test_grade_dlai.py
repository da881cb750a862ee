"""``dlparity grade`` on a deeplearning.ai class (tests/support/grade/dlai_class): a correct
C1 W4 deep net notebook, a buggy one in a folder of plain modules (db squeezed to (n,), a
mistake the oracle names), a buggy notebook. Graded on the assignment's nine functions
(DIALECTS.md §2), one point each by default."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dlparity.grade import CheckOptions, grade
from dlparity.grade.assignments import DLAI_ASSIGNMENTS, normalise
from dlparity.oracle import isolation

pytestmark = pytest.mark.skipif(not isolation.available(),
                                reason="the oracle's isolation needs 'fork' (POSIX)")

CLASS = Path(__file__).resolve().parent / "support" / "grade" / "dlai_class"
DEEP_NET = list(DLAI_ASSIGNMENTS["C1 W4 deep net"])


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("dlai_grades")
    book = grade(CLASS, out=out, jobs=2, options=CheckOptions(timeout=10.0,
                                                               submission_timeout=120.0))
    return out, {r.student: r for r in book.rows}


@pytest.fixture(scope="module")
def rows(graded) -> dict:
    return graded[1]


def test_each_submission_is_read_as_the_c1_w4_deep_net(rows) -> None:
    assert sorted(rows) == ["heidi", "ivan", "judy"]
    for student, row in rows.items():
        assert row.outcome == "checked", (student, row.reason)
        assert row.dialect == "dlai", student
        # the course helper's activations, defined beside it, may be named with it
        assert normalise(row.assignment or "").startswith(normalise("C1 W4 deep net")), student
        assert list(row.functions) == DEEP_NET
        assert row.max_points == 9.0


def test_a_correct_notebook_earns_every_point(rows) -> None:
    heidi = rows["heidi"]
    assert (heidi.points, heidi.flags) == (9.0, []), {
        n: g.label for n, g in heidi.functions.items()}


def test_a_squeezed_db_costs_linear_backward_and_is_diagnosed(graded) -> None:
    out, rows = graded
    ivan = rows["ivan"]  # a folder of plain modules
    g = ivan.functions["linear_backward"]
    assert (g.status, g.points) == ("FAIL", 0.0)
    assert ivan.functions["linear_forward"].points == 1.0
    assert ivan.points < 9.0
    # the class summary counts the named diagnosis once for the student
    index = (out / "index.html").read_text()
    section = index.split("Most common named diagnoses", 1)[1].split("</table>", 1)[0]
    assert "db squeezed" in section
    assert '<td class="num">1</td>' in section


def test_a_forgotten_bias_costs_linear_forward(rows) -> None:
    judy = rows["judy"]  # a notebook
    g = judy.functions["linear_forward"]
    assert (g.status, g.points) == ("FAIL", 0.0)
    assert judy.functions["linear_backward"].points == 1.0


def test_a_mixed_class_grades_each_submission_on_its_own_assignment(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    klass.mkdir()
    shutil.copy(CLASS / "heidi.ipynb", klass / "heidi.ipynb")
    shutil.copy(CLASS.parent / "cs231n_class" / "alice.py", klass / "alice.py")
    book = grade(klass, out=tmp_path / "out", jobs=2, options=CheckOptions(timeout=10.0))
    rows = {r.student: r for r in book.rows}
    assert (rows["alice"].dialect, rows["alice"].points, rows["alice"].max_points) == (
        "cs231n", 6.0, 6.0)
    assert (rows["heidi"].dialect, rows["heidi"].points, list(rows["heidi"].functions)) == (
        "dlai", 9.0, DEEP_NET)
    assert book.functions == [*rows["alice"].functions, *DEEP_NET]
