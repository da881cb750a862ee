"""The oracle's power, tested: planted bugs are caught AND attributed to exactly the broken
function; correct code (an untouched copy of the reference, an independently written
module) passes; bad targets (raising, hanging, wrong types, import errors) are reported,
never crash the oracle; exit statuses, the JSON report and the repro snippets.

The planted bugs live in ``oracle_bugs.py`` (one text substitution each, in a copy of the
reference); the independent module is ``oracle_fixture_student.py``.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from support.oracle_bugs import (
    ATTRIBUTION_BUGS,
    BUGS,
    STUDENT_BUGS,
    AttributionBug,
    Bug,
    copy_reference,
    copy_student,
    plant,
    plant_all,
)

from dlparity import oracle
from dlparity.catalogue import BY_NAME, NAMES

STUDENT = Path(__file__).resolve().parents[1] / "tests" / "support" / "oracle_fixture_student.py"
STEPS = 60  # optimizer trajectories in these tests: >= 50 steps, shorter than the default


def _family(name: str) -> list[str]:
    """What a planted-bug run checks: the function's whole catalogue module, and every
    function that may fail via it (so a wrong "via" or a second FAIL would show)."""
    module = BY_NAME[name].module
    same_module = [n for n in NAMES if BY_NAME[n].module == module]
    return sorted({name, *same_module, *oracle.dependents(name)})


def _buggy(tmp_path: Path, bug: Bug) -> Path:
    """A copy of the reference (or of the student module) with ``bug`` planted."""
    if bug in STUDENT_BUGS:
        target = copy_student(tmp_path, bug.id)
    else:
        target = copy_reference(tmp_path, bug.id)
    plant(target, bug)
    return target


def _failing(report: oracle.Report) -> list[str]:
    return [r.name for r in report.results if r.status in (oracle.FAIL, oracle.ERROR)]


def _run_main(argv: list[str]) -> tuple[int, str, str]:
    """``dlparity check ARGV``: the one command line of the oracle."""
    from dlparity.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["check", *argv])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def _write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


# ----------------------------------------------------------------------- correct code passes


def test_untouched_copy_of_the_reference_passes_every_function(tmp_path) -> None:
    report = oracle.check(str(copy_reference(tmp_path)), steps=STEPS)
    assert report.exit_status == 0, report.format()
    assert [r.status for r in report.results] == [oracle.PASS] * len(NAMES)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_independently_written_module_passes_every_function(dtype) -> None:
    """oracle_fixture_student.py: other formulas, dict caches, other optimizer state keys and
    extra config keys, a CS231n Solver sampling from the global RNG -- all correct."""
    report = oracle.check(str(STUDENT), dtype=dtype, steps=STEPS)
    assert report.exit_status == 0, report.format(repro=False)
    assert {r.status for r in report.results} == {oracle.PASS}
    for r in report.results:  # a pass is a comparison within tolerance, not a skipped one
        assert r.cases and set(r.cases.values()) == {oracle.PASS}, r.name
        assert r.worst is not None, r.name
        assert r.tol is None or r.worst <= r.tol.rtol, r.name  # None: statistics


# ----------------------------------------------------------------------- planted bugs


@pytest.mark.parametrize("bug", BUGS + STUDENT_BUGS, ids=[b.id for b in BUGS + STUDENT_BUGS])
def test_planted_bug_is_caught_and_named_alone(tmp_path, bug: Bug) -> None:
    """In a copy of the reference, or in the independently written module (whose own
    structure -- its loss calling its log-softmax, its Solver its rules -- the oracle
    follows by watching the calls)."""
    report = oracle.check(str(_buggy(tmp_path, bug)), only=_family(bug.function),
                          steps=STEPS, probes=False)
    assert report.exit_status == 1, f"{bug.id} ({bug.family}) not caught:\n{report.format()}"
    assert _failing(report) == [bug.function], report.format(repro=False)
    for r in report.results:
        if r.status == oracle.VIA:
            assert r.via == [bug.function], (r.name, r.via)


def _line(r: oracle.FunctionResult) -> str:
    return f"via {', '.join(r.via)}" if r.status == oracle.VIA else r.status


@pytest.mark.parametrize("bug", ATTRIBUTION_BUGS, ids=[b.id for b in ATTRIBUTION_BUGS])
def test_attribution_is_per_case_and_names_every_broken_function(tmp_path,
                                                                 bug: AttributionBug) -> None:
    """A backward is `via` its forward only in the cases where the forward's output failed;
    its own shape/dtype failures are always its own; both dtypes run by default."""
    target = copy_reference(tmp_path, bug.id)
    plant_all(target, bug)
    names = sorted({n for name in bug.expected for n in _family(name)})
    report = oracle.check(str(target), only=names, steps=STEPS, probes=False)
    lines = {r.name: _line(r) for r in report.results if r.status != oracle.PASS}
    assert lines == bug.expected, report.format(repro=False)
    if bug.only_dtype is not None:  # a one-dtype run of the other dtype would not see it
        other = "float64" if bug.only_dtype == "float32" else "float32"
        for r in report.results:
            if r.status == oracle.FAIL:
                assert r.dtype == bug.only_dtype, r.name
                assert r.by_dtype[other].status == oracle.PASS, r.name


def test_planted_bugs_cover_at_least_15_families_and_every_module() -> None:
    assert len({b.family for b in BUGS}) >= 15
    assert len({b.function for b in BUGS}) >= 15
    modules = {BY_NAME[b.function].module for b in BUGS}
    assert modules == {e.module for e in BY_NAME.values()}


def test_full_run_of_a_buggy_copy_fails_one_line_and_explains_the_others(tmp_path) -> None:
    """No --only: batch norm's variance bug reaches the composites and the model, which
    are reported `via batchnorm_forward`, and nothing else fails."""
    bug = next(b for b in BUGS if b.id == "batchnorm_unbiased_normalisation")
    code, out, _ = _run_main(["--impl", str(_buggy(tmp_path, bug)), "--steps", str(STEPS)])
    assert code == 1
    table = [ln.split() for ln in out.splitlines() if len(ln.split()) > 1
             and not ln.split()[0].endswith(":")]
    failing = [" ".join(t) for t in table if t[1] in ("FAIL", "error")]
    assert len(failing) == 1 and failing[0].startswith("batchnorm_forward "), out
    via = [ln.split()[0] for ln in out.splitlines() if "via batchnorm_forward" in ln]
    assert set(via) >= {"batchnorm_backward", "affine_batchnorm_relu_forward",
                        "FullyConnectedNet"}, out
    assert f"Summary: {len(NAMES) - 5} PASS, 1 FAIL, 0 error" in out  # 4 via it


def test_dtype_bug_shows_only_in_float32(tmp_path) -> None:
    """A float64 constant upcasting float32 results (np.log(base) instead of math.log)."""
    bug = Bug("entropy_upcasts", "dtype", "entropy", "info.py", "/ math.log(base)",
              "/ np.log(np.float64(base))", occurrence=1)
    target = str(_buggy(tmp_path, bug))
    assert oracle.check(target, only=["entropy"], dtype="float64", probes=False).exit_status == 0
    report = oracle.check(target, only=["entropy"], dtype="float32", probes=False)
    assert _failing(report) == ["entropy"]
    assert report.results[0].first.check == "dtype: out"
    # the default checks both dtypes: the line is float32's, float64's is kept beside it
    both = oracle.check(target, only=["entropy"], probes=False)
    line = both.results[0]
    assert both.exit_status == 1 and line.status == oracle.FAIL and line.dtype == "float32"
    assert line.first.dtype == "float32" and line.first.check == "dtype: out"
    assert {d: r.status for d, r in line.by_dtype.items()} == {"float64": oracle.PASS,
                                                              "float32": oracle.FAIL}
    assert "FAIL (float32)" in both.format()


def test_optimizer_failure_names_the_first_step_that_differs(tmp_path) -> None:
    """A learning rate read once and cached: the trajectory departs at step 2, when the
    schedule first changes lr."""
    bug = Bug("rmsprop_caches_lr", "lr", "rmsprop", "optim.py",
              'lr, rho, eps = config["learning_rate"]',
              'lr, rho, eps = config.setdefault("lr0", config["learning_rate"])')
    report = oracle.check(str(_buggy(tmp_path, bug)), only=["rmsprop"], steps=STEPS,
                          probes=False)
    checks = {f.case: f.check for f in report.results[0].findings}
    assert checks["schedule_wide_grads_100_steps"] == "w after step 2", checks
    assert "constant_lr" not in checks  # lr never changes there: no failure


# ----------------------------------------------------------------------- bad targets


def test_missing_functions_are_reported_missing_not_failed(tmp_path) -> None:
    path = _write(tmp_path, "only_relu.py", """\
        import numpy as np

        def relu_forward(x):
            return np.maximum(x, 0), x

        def relu_backward(dout, cache):
            return np.where(cache > 0, dout, 0)
        """)
    code, out, _ = _run_main(["--impl", str(path)])
    assert code == 0, out
    report = oracle.check(str(path))
    statuses = {r.name: r.status for r in report.results}
    assert statuses["relu_forward"] == statuses["relu_backward"] == oracle.PASS
    assert statuses["adam"] == oracle.MISSING
    assert list(statuses.values()).count(oracle.MISSING) == len(NAMES) - 2
    assert _run_main(["--impl", str(path), "--strict"])[0] == 1


def test_forward_is_checked_without_its_backward_and_a_backward_needs_its_forward(
        tmp_path) -> None:
    path = _write(tmp_path, "halves.py", """\
        import numpy as np

        def affine_forward(x, w, b):
            return x.reshape(len(x), -1) @ w + b, None

        def tanh_backward(dout, cache):
            return dout
        """)
    report = oracle.check(str(path))
    statuses = {r.name: r.status for r in report.results}
    assert statuses["affine_forward"] == oracle.PASS
    assert statuses["affine_backward"] == oracle.MISSING
    assert statuses["tanh_backward"] == oracle.UNTESTED
    assert report.exit_status == 0


def test_a_target_that_raises_hangs_or_returns_the_wrong_type_gets_error_lines(
        tmp_path) -> None:
    path = _write(tmp_path, "bad.py", """\
        import time
        import numpy as np

        def relu_forward(x):
            raise RuntimeError("boom")

        def sigmoid_forward(x):
            return 1 / (1 + np.exp(-np.clip(x, -50, 50)))  # no cache

        def sgd(w, dw, config=None):
            while True:
                pass

        def adagrad(w, dw, config=None):
            time.sleep(60)

        def covariance(X):
            return (X - X.mean(axis=0)).T.tolist()

        def l0_norm(w):
            raise SystemExit(3)

        def mse_loss(h, y):
            d = h - y
            return np.sum(d * d) / len(h), 2 * d / len(h)
        """)
    code, out, err = _run_main(["--impl", str(path), "--timeout", "0.3", "--no-repro"])
    assert code == 1 and err == ""
    report = oracle.check(str(path), timeout=0.3)
    lines = {r.name: r for r in report.results}
    assert lines["relu_forward"].status == oracle.ERROR
    assert "raised RuntimeError: boom" in lines["relu_forward"].first.message
    assert lines["sigmoid_forward"].first.check == "return type"
    assert lines["sgd"].first.check == "timeout" and lines["adagrad"].first.check == "timeout"
    assert lines["covariance"].first.check == "return type"
    assert "SystemExit" in lines["l0_norm"].first.message
    assert lines["mse_loss"].status == oracle.PASS  # checked after all the others failed


def test_a_target_swallowing_the_timeout_or_raising_on_warnings_is_still_checked(
        tmp_path) -> None:
    """The alarm repeats until the call gives up; numpy's global error state set by the
    target at import turns neither the reference nor a warning into a failure."""
    path = _write(tmp_path, "stubborn.py", """\
        import numpy as np
        np.seterr(all="raise")

        def sgd(w, dw, config=None):
            try:
                while True:
                    pass
            except BaseException:  # swallows the first alarm
                pass
            while True:
                pass

        def sigmoid_forward(x):
            s = 1 / (1 + np.exp(-x))  # overflow at x = -1000: a warning, the right value
            return s, s
        """)
    try:
        report = oracle.check(str(path), timeout=0.3, probes=False)
    finally:
        np.seterr(all="warn", under="ignore")
    lines = {r.name: r for r in report.results}
    assert lines["sgd"].first.check == "timeout"
    assert lines["sigmoid_forward"].status == oracle.PASS


def test_mutation_of_inputs_is_a_failure_and_warnings_are_notes(tmp_path) -> None:
    path = _write(tmp_path, "sloppy.py", """\
        import numpy as np

        def softmax_forward(x):
            x -= x.max(axis=-1, keepdims=True)  # in place: writes the caller's x
            e = np.exp(x)
            return e / e.sum(axis=-1, keepdims=True), None

        def sigmoid_forward(x):
            s = 1 / (1 + np.exp(-x))  # overflows for x = -1000 (a warning, right value)
            return s, s
        """)
    report = oracle.check(str(path))
    lines = {r.name: r for r in report.results}
    assert lines["softmax_forward"].status == oracle.FAIL
    assert lines["softmax_forward"].first.check == "mutation"
    assert lines["sigmoid_forward"].status == oracle.PASS
    assert any("overflow" in n for n in lines["sigmoid_forward"].notes)


def test_a_write_into_an_input_does_not_hide_a_second_bug_of_the_same_call(tmp_path) -> None:
    """A student's softmax_loss shifting x in place AND taking the log of the probabilities:
    both the write and the inf at logits hundreds apart are reported, in the same case."""
    path = _write(tmp_path, "two_bugs.py", """\
        import numpy as np

        def softmax_loss(x, y):
            x -= x.max(axis=1, keepdims=True)  # writes the caller's logits
            p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
            with np.errstate(divide="ignore"):
                loss = -np.log(p[np.arange(len(y)), y]).mean()
            p[np.arange(len(y)), y] -= 1
            return loss.astype(x.dtype), p / len(y)
        """)
    report = oracle.check(str(path), dtype="float64", probes=False)
    line = next(r for r in report.results if r.name == "softmax_loss")
    checks = {(f.case, f.check) for f in line.findings}
    assert ("logits_hundreds_apart", "mutation") in checks
    assert ("logits_hundreds_apart", "non-finite: loss") in checks
    assert line.first.check == "mutation" and line.status == oracle.FAIL


@pytest.mark.parametrize(("source", "reason"), [
    ("def relu_forward(x:\n", "SyntaxError"),
    ("import not_a_module_anywhere\n", "ModuleNotFoundError"),
    ("raise RuntimeError('at import')\n", "RuntimeError: at import"),
])
def test_import_problems_exit_2_with_the_reason(tmp_path, source, reason) -> None:
    path = _write(tmp_path, "broken.py", source)
    code, out, err = _run_main(["--impl", str(path)])
    assert code == 2 and out == ""
    assert reason in err


@pytest.mark.parametrize("argv", [
    ["--impl", "/no/such/file.py"],
    ["--impl", "no_such_module_anywhere"],
    ["--impl", str(STUDENT), "--only", "relu_forward,not_a_function"],
    ["--impl", str(STUDENT), "--dtype", "float16"],
    ["--impl", str(STUDENT), "--timeout", "0"],
    [],
])
def test_usage_errors_exit_2(argv) -> None:
    code, out, err = _run_main(argv)
    assert code == 2
    assert err  # the reason


# ----------------------------------------------------------------------- report, repro, CLI


def test_json_report_has_the_documented_schema(tmp_path) -> None:
    bug = next(b for b in BUGS if b.id == "affine_backward_db_mean")
    target = _buggy(tmp_path, bug)
    path = tmp_path / "report.json"
    code, _, _ = _run_main(["--impl", str(target), "--json", str(path), "--only",
                            "affine_forward,affine_backward,affine_relu_backward", "--seed", "3",
                            "--steps", "55"])
    data = json.loads(path.read_text())
    assert code == data["exit_status"] == 1
    assert data["schema"] == "dlparity-oracle-report/1"
    assert data["options"] == {"dtype": "both", "dtypes": ["float64", "float32"], "seed": 3,
                               "steps": 55, "timeout": 20.0, "strict": False}
    assert len(data["oracle_fingerprint"]) == 12
    by_name = {f["name"]: f for f in data["functions"]}
    assert set(by_name) == {"affine_forward", "affine_backward", "affine_relu_backward"}
    assert by_name["affine_forward"]["status"] == "PASS"
    assert by_name["affine_forward"]["cases"] == [
        {"case": c, "status": "PASS"} for c in ("2d", "N1", "4d_input")]
    broken = by_name["affine_backward"]
    assert broken["status"] == "FAIL" and broken["check"] == "db" and broken["case"] == "2d"
    assert broken["tolerance"] == {"rtol": 1e-10, "atol": 1e-12}
    assert broken["worst_rel_error"] > 0.5  # mean instead of sum over N = 5: 80 % off
    assert set(broken["by_dtype"]) == {"float64", "float32"}  # the JSON keeps both
    assert broken["by_dtype"]["float32"]["status"] == "FAIL"
    assert broken["by_dtype"]["float32"]["tolerance"] == {"rtol": 2e-5, "atol": 1e-5}
    finding = broken["findings"][0]
    assert finding["function"] == "affine_backward" and finding["status"] == "FAIL"
    assert finding["dtype"] == "float64"
    assert "seed=3" in finding["repro"] and "affine_backward" in finding["repro"]
    assert by_name["affine_relu_backward"]["status"] == "via"
    assert by_name["affine_relu_backward"]["via"] == ["affine_backward"]
    assert data["summary"]["FAIL"] == 1 and data["summary"]["via"] == 1


@pytest.mark.parametrize("bug_id", ["relu_backward_in_place", "adam_beta1_in_v_hat",
                                    "svm_margin_ge", "model_forgets_reg_gradient",
                                    "whiten_centres_in_place"])
def test_repro_snippet_runs_and_shows_the_difference(tmp_path, bug_id) -> None:
    bug = next(b for b in BUGS if b.id == bug_id)
    report = oracle.check(str(_buggy(tmp_path, bug)), only=[bug.function], steps=STEPS,
                          probes=False)
    finding = next(r for r in report.results if r.name == bug.function).first
    assert finding is not None and finding.repro
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(finding.repro, "<repro>", "exec"), {})  # noqa: S102
    text = printed.getvalue()
    if finding.check == "mutation":
        assert "written" in text and "[]" not in text.split("written")[-1].splitlines()[0]
    else:
        assert "DIFFERS" in text, text


def test_oracle_imports_neither_torch_nor_tensorflow() -> None:
    code = textwrap.dedent(f"""\
        import sys
        from dlparity.cli import main
        rc = main(["check", "--impl", {str(STUDENT)!r}, "--only", "relu_forward,adam,Solver"])
        bad = [m for m in ("torch", "tensorflow") if m in sys.modules]
        assert rc == 0 and not bad, (rc, bad)
        """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/", capture_output=True)


def test_target_forms_module_name_file_and_directories(tmp_path) -> None:
    """A module name, a package directory, and a folder of plain modules that import each
    other (``import layers``) all load; two such folders in one process do not mix."""
    assert oracle.load_target("dlparity.reference").defines("adam")
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "layers.py").write_text(
            f"import numpy as np\nSCALE = {1.0 if name == 'a' else 2.0}\n"
            "def relu_forward(x):\n    return SCALE * np.maximum(x, 0), x\n")
        (folder / "losses.py").write_text(
            "import layers\ndef uses_layers():\n    return layers.SCALE\n")
    a, b = oracle.load_target(str(tmp_path / "a")), oracle.load_target(str(tmp_path / "b"))
    x = np.array([[1.0, -1.0]])
    assert a.relu_forward(x)[0][0, 0] == 1.0 and b.relu_forward(x)[0][0, 0] == 2.0
    assert oracle.check(str(tmp_path / "a"), only=["relu_forward"]).exit_status == 0
    assert oracle.check(str(tmp_path / "b"), only=["relu_forward"]).exit_status == 1


def test_pytest_plugin_reports_one_test_per_function(tmp_path) -> None:
    bug = next(b for b in BUGS if b.id == "relu_backward_in_place")
    target = _buggy(tmp_path, bug)
    registered = any(ep.value == "dlparity.oracle.plugin"
                     for ep in importlib.metadata.entry_points(group="pytest11"))
    plugin = [] if registered else ["-p", "dlparity.oracle.plugin"]
    cmd = [sys.executable, "-m", "pytest", *plugin, "--pyargs", "dlparity.oracle",
           "--impl", str(target), "--impl-only", "relu_forward,relu_backward,affine_relu_backward",
           "--impl-steps", str(STEPS), "-p", "no:cacheprovider", "-rA", "-q"]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    out = done.stdout
    outcome = {ln.split("[")[-1].split("]")[0]: ln.split()[0] for ln in out.splitlines()
               if "test_target.py::test_matches_reference[" in ln}
    assert done.returncode == 1, out
    assert outcome == {"relu_forward": "PASSED", "relu_backward": "FAILED",
                       "affine_relu_backward": "XFAIL"}, out
    assert "1 failed, 1 passed, 1 xfailed" in out, out


def test_citation_cff_is_cff_1_2_and_cites_this_version() -> None:
    from dlparity import __version__

    path = Path(__file__).resolve().parents[1] / "CITATION.cff"
    if not path.exists():
        pytest.skip("CITATION.cff is not shipped with an installed package")
    fields = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith((" ", "#", "-")) and ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip().strip('"')
    assert fields["cff-version"] == "1.2.0"
    assert {"message", "title", "authors", "type", "version", "license"} <= set(fields)
    assert fields["type"] == "software" and fields["version"] == __version__
    assert "  - name: " in path.read_text()  # authors: a non-empty list of persons/entities
