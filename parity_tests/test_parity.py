"""Every registry record × case, for each framework × dtype × device, against the reference,
through the SAME engine that holds a third party to it (``engine.check_case``): values,
every gradient (a VJP with a random upstream gradient), output dtypes and shapes, no input
written (optimizer state arrays included: they are replaced, never written in place), and
the cases beyond SPEC.md's contract too (a third party gets a note there; dlparity's own
implementations get a failure).

One test per (function, case, implementation, dtype, device), so ``-k`` selects as a user
would guess: ``pytest -k "adam and torch and float32"``. The failure message names the
function, case, implementation, dtype, device, the check, the worst element and the
tolerance. ``test_bad_input_gets_specs_error`` runs the oracle's bad-input probes, which
for a third party are notes, as failures.
"""

from __future__ import annotations

import pytest

from dlparity.implementations import DEVICES, FRAMEWORKS, on_device, require
from dlparity.oracle.engine import bad_input_problems, check_case
from dlparity.oracle.registry import RECORDS
from dlparity.oracle.targets import framework_target

DTYPES = ("float64", "float32")


def _params():
    for record in RECORDS:
        if record.protocol == "random":
            continue  # compared by statistics: test_statistics.py
        for case in record.cases:
            for impl in FRAMEWORKS:
                for dtype in DTYPES:
                    for device in DEVICES:
                        yield pytest.param(
                            record, case, impl, dtype, device,
                            id=f"{record.name}-{record.protocol}-{case.name}-{impl}-{dtype}-"
                               f"{device}")


def check_parity(record, case, impl_name: str, dtype: str, device: str) -> None:
    """Run ``impl_name`` and the reference through the engine; fail with a full message."""
    module = require(impl_name, device)
    target = framework_target(impl_name)
    with on_device(module, device):
        findings, _ = check_case(target, record, case, dtype)
    if findings:
        lines = "\n  ".join(f"{f.function}: {f.status} in check {f.check!r}: {f.message}"
                            for f in findings)
        pytest.fail(f"{record.name} [{case.name}] {impl_name} {dtype} {device}: "
                    f"{len(findings)} finding(s) against the reference:\n  {lines}",
                    pytrace=False)


@pytest.mark.parametrize(("record", "case", "impl", "dtype", "device"), list(_params()))
def test_parity(record, case, impl, dtype, device) -> None:
    check_parity(record, case, impl, dtype, device)


@pytest.mark.parametrize("impl", list(FRAMEWORKS))
@pytest.mark.parametrize("record", [r for r in RECORDS
                                    if r.protocol in ("layer", "loss", "value", "optimizer")],
                         ids=lambda r: f"{r.name}-{r.protocol}")
def test_bad_input_gets_specs_error(record, impl) -> None:
    """SPEC.md §1: bad input gets a ValueError/TypeError naming the argument."""
    require(impl)
    problems = bad_input_problems(framework_target(impl), record)
    assert not problems, f"{impl}: " + "; ".join(problems)
