"""Every differentiable registry record, every smooth case, every input: the reference's
analytic gradient against central differences in float64, with a random upstream gradient."""

from __future__ import annotations

import pytest

from dlparity.selfcheck import check_record, differentiable_records

# Central differences with h = 1e-6 on O(1) inputs reach ~1e-9; a wrong term gives > 1e-3.
THRESHOLD = 1e-7


@pytest.mark.parametrize(("record", "case"), [
    pytest.param(rec, case, id=f"{rec.name}-{case.name}") for rec, case in differentiable_records()
])
def test_analytic_gradient_matches_central_differences(record, case) -> None:
    results = list(check_record(record, case))
    assert results, f"no differentiable argument found for {record.name}"
    for res in results:
        assert res.ok(THRESHOLD), (
            f"{res.function} ({res.case}): {res.argument} is off by grad_check_distance "
            f"{res.distance:.3g} > {THRESHOLD:g} (max abs difference {res.max_abs:.3g})")
