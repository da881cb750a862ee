"""pytest configuration of the benchmark suite: ``pytest benchmarks/ --benchmark-only``.

Collects ``bench_*.py`` (so the project's own ``pytest``, whose testpaths are ``tests`` and
``parity_tests``, never runs a benchmark) and pins every library to ``--bench-threads``
intra-op threads for the whole session and flushes denormals to zero, as ``dlparity bench``
does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--bench-threads", type=int, default=1,
                     help="intra-op threads of NumPy's BLAS, torch and TF (default: 1)")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    if file_path.suffix == ".py" and file_path.name.startswith("bench_"):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session", autouse=True)
def pinned_threads(request: pytest.FixtureRequest) -> Iterator[dict]:
    from dlparity import implementations
    from dlparity.benchmarks import runner
    from dlparity.benchmarks.machine import flush_denormals

    frameworks = {name for name in implementations.FRAMEWORKS
                  if implementations.get(name).installed}
    settings, restore = runner.pin_threads(request.config.getoption("--bench-threads"),
                                           frameworks)
    _, unflush = flush_denormals(True)  # as dlparity bench: see machine.flush_denormals
    yield settings
    unflush()
    restore()
