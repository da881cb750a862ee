"""Every registry record × case, for each framework × dtype × device, against the reference.

One test per (function, case, implementation, dtype, device), so ``-k`` selects as a user
would guess: ``pytest -k "adam and torch and float32"``. Forward outputs and every input
gradient (a VJP with a random upstream gradient) are compared within the one tolerance
table; the failure message names the function, implementation, dtype, device, the worst
element's index, both values and the tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

import dlparity.reference as ref
from dlparity.parity_tests.compare import compare_outputs
from dlparity.parity_tests.impls import DEVICES, FRAMEWORKS, on_device, require
from dlparity.parity_tests.registry import RECORDS, cast, make_args, run
from dlparity.parity_tests.tolerances import tolerance

DTYPES = ("float64", "float32")


def _params():
    for record in RECORDS:
        if record.protocol == "random":
            continue  # compared by statistics: test_statistics.py
        for case in record.cases:
            for impl in FRAMEWORKS:
                marks = []
                if impl in record.divergences:
                    marks.append(pytest.mark.xfail(reason=record.divergences[impl], strict=True))
                for dtype in DTYPES:
                    for device in DEVICES:
                        yield pytest.param(record, case, impl, dtype, device, marks=marks,
                                           id=f"{record.name}-{case.name}-{impl}-{dtype}-{device}")


def check_parity(record, case, impl_name: str, dtype: str, device: str) -> None:
    """Run ``impl_name`` and the reference on the same inputs; fail with a full message."""
    impl = require(impl_name, device)
    args64 = make_args(record, case)
    if impl_name in record.conventions:
        args64 = record.conventions[impl_name][0](args64)
    impl_args = cast(args64, np.dtype(dtype))
    ref_args = cast(impl_args, np.float64)  # the same values, computed in float64
    with on_device(impl, device):
        got = run(impl, record, case, impl_args)
    want = run(ref, record, case, ref_args)
    if record.align is not None:
        got = record.align(got, want)
    tol = tolerance(record.name, dtype, case.name)
    mismatches, worst = compare_outputs(got, want, tol, check_dtype=False)
    for key, value in got.items():
        if isinstance(value, np.ndarray | np.generic) and value.dtype.kind == "f":
            if value.dtype != np.dtype(dtype):
                mismatches.append(f"{key}: dtype {value.dtype}, expected {dtype}")
    if mismatches:
        lines = "\n  ".join(str(m) for m in mismatches)
        pytest.fail(
            f"{record.name} [{case.name}] {impl_name} {dtype} {device}: "
            f"{len(mismatches)} output(s) differ from the reference "
            f"(tolerance rtol={tol.rtol:g}, atol={tol.atol:g}; worst relative error "
            f"{worst:.3g}):\n  {lines}", pytrace=False)


@pytest.mark.parametrize(("record", "case", "impl", "dtype", "device"), list(_params()))
def test_parity(record, case, impl, dtype, device) -> None:
    check_parity(record, case, impl, dtype, device)
