"""Nothing beyond SPEC.md's contract is a failure, and the fingerprint pins everything that
can change a verdict.

* An implementation that does exactly what SPEC.md asks and nothing more
  (``oracle_fixture_spec_exact.py``: 2-D-only element-wise layers, (N, K)-only
  kl_div_loss, scalar-only running mean, its own per-layer dropout seeds) gets exit 0 in
  both dtypes; what it declines shows as notes.
* Every registry case the oracle runs either stays inside SPEC.md §2/§4 or says why not
  (``Case.beyond``), and a mismatch there is a note.
* ``oracle_fingerprint`` changes when any file that can change a verdict changes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import dlparity.contract
import dlparity.oracle
import dlparity.reference
from dlparity import oracle
from dlparity.catalogue import BY_NAME, NAMES
from dlparity.oracle.registry import RECORDS

SPEC_EXACT = Path(__file__).resolve().parent / "support" / "oracle_fixture_spec_exact.py"


@pytest.fixture(scope="module")
def spec_exact_report() -> oracle.Report:
    return oracle.check(str(SPEC_EXACT), steps=60)


def test_a_spec_exact_implementation_passes_in_both_dtypes(spec_exact_report) -> None:
    report = spec_exact_report
    assert report.exit_status == 0, report.format(repro=False)
    assert report.dtypes == ["float64", "float32"]
    # every SPEC name passes; dlparity's extensions (adamw) it need not define
    assert {r.status for r in report.results if not BY_NAME[r.name].extension} == {oracle.PASS}
    assert {r.status for r in report.results if BY_NAME[r.name].extension} <= {oracle.MISSING}
    assert oracle.check(str(SPEC_EXACT), steps=60, strict=True).exit_status == 0
    for dtype, rep in report.by_dtype.items():
        assert rep.exit_status == 0, (dtype, rep.format(repro=False))
        assert len(rep.results) == len(NAMES)


def test_what_it_declines_beyond_the_contract_is_a_note_naming_the_case(
        spec_exact_report) -> None:
    lines = {r.name: r for r in spec_exact_report.results}
    expected = {"relu_forward": "'3d_kinks'", "kl_div_loss": "'1d'",
                "running_mean_update": "'vector'", "FullyConnectedNet": "'batchnorm_dropout'",
                "dropout_forward": "'given_01_mask_3d'"}
    for name, case in expected.items():
        notes = [n for n in lines[name].notes if n.startswith("beyond SPEC.md's contract")]
        assert any(case in n for n in notes), (name, lines[name].notes)
        assert lines[name].cases  # and its in-contract cases were compared
        assert set(lines[name].cases.values()) <= {oracle.PASS, oracle.NOTE}


def test_a_beyond_the_contract_mismatch_never_fails_even_when_wrong(tmp_path) -> None:
    """A kl_div_loss that is right on (N, K) and wrong on 1-D input passes with a note."""
    path = tmp_path / "kl.py"
    path.write_text(
        "import numpy as np\n"
        "def kl_div_loss(log_q, p):\n"
        "    n = log_q.shape[0] if log_q.ndim == 2 else 1.0 / 3.0  # wrong for 1-D\n"
        "    with np.errstate(divide='ignore', invalid='ignore'):\n"
        "        t = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1)) - log_q), 0)\n"
        "    return (t.sum() / n).astype(log_q.dtype), (-p / n).astype(log_q.dtype)\n")
    report = oracle.check(str(path), only=["kl_div_loss"], probes=False)
    line = report.results[0]
    assert report.exit_status == 0 and line.status == oracle.PASS, report.format()
    assert line.cases["1d"] == oracle.NOTE
    assert any("'1d'" in n and "relative error" in n for n in line.notes)


def test_every_case_beyond_the_contract_says_why_and_the_audit_is_complete() -> None:
    beyond = {(r.name, c.name): c.beyond for r in RECORDS for c in r.cases if c.beyond}
    assert all(reason.startswith("SPEC.md §") for reason in beyond.values()), beyond
    # the audit's decisions (docs/oracle.md "What a third party owes"): exactly these
    assert set(beyond) == {
        ("relu_forward", "1d"), ("relu_forward", "3d_kinks"),
        ("sigmoid_forward", "1d"), ("sigmoid_forward", "3d_kinks"),
        ("tanh_forward", "1d"), ("tanh_forward", "3d_kinks"),
        ("dropout_forward", "given_01_mask_3d"), ("kl_div_loss", "1d"),
        ("running_mean_update", "vector"), ("FullyConnectedNet", "batchnorm_dropout")}


def test_the_documents_scalar_running_mean_is_accepted_by_all_three() -> None:
    import dlparity.reference

    impls = [dlparity.reference]
    for name, framework in (("dlparity.torch_impl", "torch"), ("dlparity.tf_impl", "tensorflow")):
        pytest.importorskip(framework)
        impls.append(__import__(name, fromlist=["running_mean_update"]))
    for impl in impls:
        got = impl.running_mean_update(2.0, 3.0, 0.25)
        assert type(got) is float and got == 2.25, impl.__name__
        zero_d = impl.running_mean_update(np.array(2.0, np.float32), np.array(3.0, np.float32),
                                          0.25)
        assert isinstance(zero_d, np.ndarray) and zero_d.shape == ()
        assert zero_d.dtype == np.float32 and float(zero_d) == 2.25, impl.__name__


def test_the_fingerprint_covers_every_file_that_can_change_a_verdict() -> None:
    labels = {label for label, _ in oracle.fingerprint_files()}
    contract_dir = Path(dlparity.contract.__file__).resolve().parent
    assert {f"contract/{p.name}" for p in contract_dir.glob("*.py")} <= labels
    assert {"bases/models.py", "bases/solver.py", "bases/training.py"} <= labels
    reference_dir = Path(dlparity.reference.__file__).resolve().parent
    assert {f"reference/{p.name}" for p in reference_dir.glob("*.py")} <= labels
    oracle_dir = Path(dlparity.oracle.__file__).resolve().parent
    engine = {f"oracle/{p.relative_to(oracle_dir).as_posix()}"
              for p in [*oracle_dir.glob("*.py"), *oracle_dir.glob("*/*.py")]
              if not p.name.startswith("test_") and p.name not in ("html.py", "coverage.py")}
    assert {"oracle/registry.py", "oracle/engine.py", "oracle/isolation.py"} <= engine
    assert {"dlparity/validate.py", "dlparity/catalogue.py", "dlparity/formulas.py"} | engine \
        <= labels


def test_changing_a_default_in_a_copy_of_contract_changes_the_fingerprint(tmp_path) -> None:
    copied = []
    for label, path in oracle.fingerprint_files():
        dest = tmp_path / label
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest)
        copied.append((label, dest))
    assert oracle.fingerprint(copied) == oracle.fingerprint()  # the copy is the same oracle
    optim = tmp_path / "contract" / "optim.py"
    text = optim.read_text()
    assert '"learning_rate": {"low": 0.0}' in text  # the range of every learning rate
    optim.write_text(text.replace('"learning_rate": {"low": 0.0}',
                                  '"learning_rate": {"low": 1e-12}', 1))
    assert oracle.fingerprint(copied) != oracle.fingerprint()
    catalogue = tmp_path / "dlparity" / "catalogue.py"  # where the defaults live now
    text = catalogue.read_text()
    assert '"weight_decay": 1e-2' in text
    catalogue.write_text(text.replace('"weight_decay": 1e-2', '"weight_decay": 4e-3', 1))
    assert oracle.fingerprint(copied) != oracle.fingerprint()
