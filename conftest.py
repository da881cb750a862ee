"""Root conftest of tests/ and parity_tests/: one BLAS / framework thread per pytest-xdist
worker, and the seeded ``rng`` fixture.

`pytest -n auto` starts one worker per core; if every worker also ran a BLAS or torch / TF
thread pool as wide as the machine, the threads would oversubscribe the cores (OpenBLAS
spin-waits: a 100x784 @ 784x256 matmul measured 31 ms instead of 0.9 ms on this 2-core
machine). Results do not depend on the thread count beyond rounding the tolerances cover.
"""

from __future__ import annotations

import os
import zlib

import numpy as np
import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ[var] = "1"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with the bench extra
        pass
    else:
        threadpool_limits(1)


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded from the test's own id: reproducible, independent per test
    (no global seed, so the suite gives the same results under pytest-xdist)."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
