"""pytest plugin of the oracle (entry point ``pytest11: dlparity``).

    pytest --pyargs dlparity.oracle --impl mypkg.layers

runs the oracle (``run.py``) on ``mypkg.layers`` and reports ONE test per catalogue
function: passed (matches the reference), failed (its own mismatch, error, timeout or
contract violation, with the repro snippet), xfailed (fails only via a broken part it is
built from, named in the reason), skipped (missing from the target, unless
``--impl-strict``). With ``--impl`` the project's own parity tests are not collected from
the package, only the oracle's; without ``--impl`` the plugin does nothing but add options.
"""

from __future__ import annotations

from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent
ORACLE_TESTS = PACKAGE_DIR / "test_target.py"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlparity", "dlparity oracle (check an implementation)")
    group.addoption("--impl", metavar="TARGET", default=None,
                    help="check TARGET (module name, .py file or directory) against the "
                    "dlparity reference: one test per catalogue function")
    group.addoption("--impl-only", metavar="NAMES", action="append", default=None,
                    help="only these catalogue names (comma-separated; repeatable)")
    group.addoption("--impl-dtype", choices=("float64", "float32", "both"), default="both",
                    help="dtype of the inputs (default both: each function's test fails if "
                    "either dtype fails)")
    group.addoption("--impl-seed", type=int, default=0, help="seed of the inputs (default 0)")
    group.addoption("--impl-steps", type=int, default=100,
                    help="optimizer trajectory length (default 100)")
    group.addoption("--impl-timeout", type=float, default=20.0,
                    help="seconds per function (default 20)")
    group.addoption("--impl-strict", action="store_true", default=False,
                    help="a function the target does not define fails instead of skipping")


def _impl(config: pytest.Config) -> str | None:
    return config.getoption("impl", default=None)


def pytest_configure(config: pytest.Config) -> None:
    """An --impl that cannot be imported is a usage error, reported once, with the reason."""
    impl = _impl(config)
    if impl:
        from dlparity import oracle

        try:
            oracle.probe_target(impl)  # in a child process: the import cannot harm pytest
        except oracle.TargetError as exc:
            raise pytest.UsageError(f"--impl: {exc}") from None


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Without --impl, leave the oracle's test module out; with it, collect nothing else
    from this package (the project's own parity tests need torch and TensorFlow)."""
    path = Path(collection_path).resolve()
    if path == ORACLE_TESTS:
        return None if _impl(config) else True
    if _impl(config) and path.parent == PACKAGE_DIR and path.name.startswith("test_"):
        return True
    return None


def selected_names(config: pytest.Config) -> list[str]:
    """The catalogue names to report on (``--impl-only``, else all)."""
    from dlparity.catalogue import NAMES

    from .cli import parse_only

    try:
        only = parse_only(config.getoption("impl_only"), NAMES, option="--impl-only")
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    return only or list(NAMES)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "dlparity_function" not in metafunc.fixturenames or not _impl(metafunc.config):
        return
    names = selected_names(metafunc.config)
    metafunc.parametrize("dlparity_function", names, ids=names)
