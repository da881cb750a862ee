"""One test per catalogue function of ``--impl TARGET`` (the pytest plugin, ``plugin.py``).

    pytest --pyargs dlparity.oracle --impl mypkg.layers

The oracle runs once per session (per xdist worker); each test reports its function's line.
Without the plugin's ``--impl`` this module is not collected (or, without the plugin, skips).
"""

from __future__ import annotations

import pytest

from dlparity import oracle


@pytest.fixture(scope="session")
def dlparity_report(request: pytest.FixtureRequest) -> oracle.Report:
    config = request.config
    impl = config.getoption("impl", default=None)
    if not impl:
        pytest.skip("run with --impl TARGET to check an implementation")
    from dlparity.oracle.plugin import selected_names

    try:
        return oracle.check(impl, dtype=config.getoption("impl_dtype"),
                            seed=config.getoption("impl_seed"),
                            steps=config.getoption("impl_steps"),
                            timeout=config.getoption("impl_timeout"),
                            only=selected_names(config),
                            strict=config.getoption("impl_strict"))
    except oracle.TargetError as exc:
        raise pytest.UsageError(f"--impl: {exc}") from None


@pytest.fixture
def dlparity_function() -> str:
    """Replaced by the plugin's parametrisation (one catalogue name per test)."""
    pytest.skip("run with the dlparity pytest plugin and --impl TARGET")


def test_matches_reference(dlparity_function: str, dlparity_report: oracle.Report) -> None:
    result = next((r for r in dlparity_report.results if r.name == dlparity_function), None)
    if result is None:
        pytest.skip(f"{dlparity_function}: not selected")
    if result.status == oracle.PASS:
        return
    if result.status in (oracle.MISSING, oracle.UNTESTED):
        reason = f"{dlparity_function}: {result.status} in {dlparity_report.target}"
        if result.notes:
            reason += f" ({result.notes[0]})"
        if dlparity_report.strict:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    if result.status == oracle.VIA:
        pytest.xfail(f"{dlparity_function} fails only via {', '.join(result.via)} "
                     "(a part it is built from; not its own failure)")
    first = result.first
    assert first is not None
    pytest.fail(f"{dlparity_function}: {first.status} in check {first.check!r}, case "
                f"{first.case!r}\n  {first.message}\n\nRepro:\n{first.repro}", pytrace=False)
