"""Fixtures shared by the reference's own tests."""

from __future__ import annotations

import zlib

import numpy as np
import pytest


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded from the test's own id: reproducible, independent per test
    (no global seed, so the suite gives the same results under pytest-xdist)."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
