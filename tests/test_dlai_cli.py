"""The deeplearning.ai dialect through the public doors: ``dlparity check --impl FILE``
(recognised or ``--dialect dlai``), a notebook file, ``dlparity.check(namespace)``, with
the learner's code in a process of its own (crashes, hangs and borrowing included)."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

import dlparity
from dlparity.cli import main as cli_main
from dlparity.oracle import isolation
from dlparity.oracle.report import BORROWED, ERROR, FAIL, PASS

pytestmark = pytest.mark.skipif(not isolation.available(),
                                reason="targets run in a process of their own on POSIX only")

FIXTURES = Path(__file__).resolve().parent / "support" / "dlai"


def _copy(tmp_path: Path, *names: str) -> Path:
    for name in (*names, "dnn_utils.py"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    return tmp_path / names[0]


def _run(argv: list[str], capsys) -> tuple[int, str]:
    code = cli_main(["check", *argv])
    return code, capsys.readouterr().out


def test_a_course_file_is_recognised_checked_and_reported_in_json(tmp_path, capsys) -> None:
    path = _copy(tmp_path, "c1w4_2021.py")
    out_json = tmp_path / "report.json"
    code, out = _run(["--impl", str(path), "--no-repro", "--json", str(out_json)], capsys)
    assert code == 0, out
    assert "read as dlai (C1 W4 deep net" in out and "MATCHES" in out
    report = json.loads(out_json.read_text())
    assert report["dialect"] == "dlai" and report["assignment"].startswith("C1 W4 deep net")
    statuses = {f["name"]: f["status"] for f in report["functions"]}
    assert statuses["L_model_backward"] == PASS and statuses["linear_forward"] == PASS
    assert set(statuses.values()) == {PASS}


def test_the_seed_documents_adam_erratum_fails_and_is_diagnosed(tmp_path, capsys) -> None:
    """The course-style Adam dividing the second moment by 1 - beta1**t (the seed's own
    erratum): FAIL, exit 1, the diagnosis named; as cs231n nothing is checked (exit 2)."""
    path = _copy(tmp_path, "c2w2_opt_2021.py")
    text = path.read_text()
    assert "s[key] / (1 - beta2 ** t)" in text
    path.write_text(text.replace("s[key] / (1 - beta2 ** t)", "s[key] / (1 - beta1 ** t)"))
    code, out = _run(["--impl", str(path), "--dialect", "dlai", "--no-repro"], capsys)
    assert code == 1 and "MATCHES" not in out
    line = next(ln for ln in out.splitlines() if ln.startswith("update_parameters_with_adam"))
    assert FAIL in line
    assert "β1 in the second bias correction" in out
    code = cli_main(["check", "--impl", str(path), "--dialect", "cs231n", "--no-repro"])
    captured = capsys.readouterr()
    assert code == 2 and "MATCHES" not in captured.out  # imported as a module: it cannot be
    assert "NOTHING WAS CHECKED" in captured.out or "cannot import" in captured.err


def test_a_notebook_with_experiments_is_checked_from_its_definitions(tmp_path, capsys) -> None:
    nbformat = pytest.importorskip("nbformat")
    shutil.copy(FIXTURES / "dnn_utils.py", tmp_path / "dnn_utils.py")
    source = (FIXTURES / "c1w4_2021.py").read_text()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline\n!pip install h5py"),
                nbformat.v4.new_code_cell(source),
                nbformat.v4.new_code_cell("train_x, train_y = load_data('datasets/train.h5')\n"
                                          "parameters = L_layer_model(train_x, train_y)")]
    path = tmp_path / "Deep Neural Network - Step by Step.ipynb"
    nbformat.write(nb, path)
    code, out = _run(["--impl", str(path), "--no-repro"], capsys)
    assert code == 0, out
    assert "read as dlai" in out and "top-level statement(s) not run" in out


def test_check_of_a_namespace_runs_its_functions_in_their_own_process(tmp_path) -> None:
    """``dlparity.check(globals())``: the functions are rebuilt from their source and run
    in a process of their own; a buggy one fails, the others pass."""
    path = tmp_path / "learner_cells.py"
    path.write_text(textwrap.dedent("""
        import numpy as np
        def linear_forward(A, W, b):
            Z = np.dot(W, A) + b
            return Z, (A, W, b)
        def linear_backward(dZ, cache):
            A_prev, W, b = cache
            m = A_prev.shape[1]
            dW = np.dot(dZ, A_prev.T) / m
            db = np.sum(dZ, axis=1) / m          # keepdims missing: (n,) not (n, 1)
            return np.dot(W.T, dZ), dW, db
        """))
    namespace: dict = {"__name__": "__main__"}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102
    report = dlparity.check(namespace, dialect="dlai")
    status = {r.name: r.status for r in report.results}
    assert status["linear_forward"] == PASS and status["linear_backward"] == FAIL
    assert report.dialect == "dlai" and report.exit_status == 1
    assert "<table" in report._repr_html_() and "linear_backward" in report._repr_html_()


def test_crashing_hanging_and_borrowing_learner_functions(tmp_path) -> None:
    path = _copy(tmp_path, "c1w4_2021.py")
    text = path.read_text()
    text = text.replace("def linear_forward(A, W, b):\n",
                        "def linear_forward(A, W, b):\n    import os; os._exit(3)\n")
    text = text.replace("def compute_cost(AL, Y):\n",
                        "def compute_cost(AL, Y):\n    while True:\n        pass\n")
    text += textwrap.dedent("""
        import dlparity.reference as _ref
        def update_parameters(params, grads, learning_rate):
            out = {}
            for k, v in params.items():
                out[k] = _ref.sgd(v, grads["d" + k], {"learning_rate": learning_rate})[0]
            return out
        """)
    path.write_text(text)
    report = dlparity.check(str(path), timeout=2.0)
    status = {r.name: r.status for r in report.results}
    assert status["linear_forward"] == ERROR and status["compute_cost"] == ERROR
    assert status["update_parameters"] == BORROWED
    line = next(r for r in report.results if r.name == "update_parameters")
    assert line.via and line.via[0].startswith("dlparity.reference")
    assert status["linear_backward"] == PASS  # the rest is still checked
    assert report.exit_status == 1
