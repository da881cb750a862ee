"""Random functions: initialisers draw from each framework's own RNG, so they are held to
the reference by the statistics of a large draw, not element by element.

The expected statistics are always those of the REFERENCE's own draws (its own std
arithmetic, ``reference/init.py``), never of a shared helper: torch_impl and tf_impl
configure ``torch.nn.init`` / ``keras.initializers`` to the formulas, so a wrong
configuration, a wrong fan reading or a wrong formula on either side shows up here.
The reference's formulas themselves are checked against SPEC's numbers in
``tests/test_init.py``.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

import dlparity.reference as ref
from dlparity.implementations import DEVICES, FRAMEWORKS, on_device, require
from dlparity.oracle.registry import RECORDS, cast, make_args
from dlparity.oracle.statistics import compare_draw


def assert_same_distribution(got: object, want: np.ndarray, where: str) -> None:
    """``got`` (a framework's draw) has the dtype of ``want`` (the reference's draw) and
    passes the oracle's statistics check (``dlparity.oracle.statistics.compare_draw``:
    shape, mean, std and truncation within Z standard errors)."""
    mismatch, _ = compare_draw(got, want)
    assert mismatch is None, f"{where}: {mismatch.check}: {mismatch.message}"
    assert got.dtype == want.dtype, f"{where}: dtype {got.dtype}, expected {want.dtype}"


def _params():
    for record in RECORDS:
        if record.protocol != "random":
            continue
        for case in record.cases:
            for impl in FRAMEWORKS:
                for device in DEVICES:
                    yield pytest.param(record, case, impl, device,
                                       id=f"{record.name}-{case.name}-{impl}-float64-{device}")


@pytest.mark.parametrize(("record", "case", "impl_name", "device"), list(_params()))
def test_initialiser_statistics_match_reference(record, case, impl_name, device) -> None:
    impl = require(impl_name, device)
    args = make_args(record, case)
    with on_device(impl, device):
        got = getattr(impl, record.name)(*cast(args, np.float64))
    want = getattr(ref, record.name)(*cast(args, np.float64))
    assert_same_distribution(got, want, f"{record.name} [{case.name}] {impl_name} {device}")


# The registry's initialiser cases are 2-D; the fans of the other ranks are read differently
# by torch ((out, in, *kernel)) and Keras ((..., in, out) kernels), so every rank is held to
# the reference too. 60,000 values each; fan_in != fan_out, so a swapped fan shows.
RANK_SHAPES = [(60_000,), (300, 200), (5, 4, 20, 150)]
SCALED = [("he_normal", ()), ("xavier_normal", ("fan_in",)), ("xavier_normal", ("fan_avg",))]


@pytest.mark.parametrize("shape", RANK_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize(("name", "extra"), SCALED,
                         ids=[f"{n}-{e[0] if e else 'he'}" for n, e in SCALED])
@pytest.mark.parametrize("impl_name", list(FRAMEWORKS))
def test_he_and_xavier_std_match_reference_in_every_rank(impl_name, name, extra, shape) -> None:
    impl: ModuleType = require(impl_name)
    got = getattr(impl, name)(shape, np.random.default_rng(1), *extra)
    want = getattr(ref, name)(shape, np.random.default_rng(2), *extra)
    assert_same_distribution(got, want, f"{name}{extra} {shape} {impl_name}")


# ------------------------------------------------ the statistics check itself can fail
# Draws made here with NumPy alone (a normal, a 2-std truncated normal by rejection), so the
# expected verdicts do not come from any initialiser under test.
N_DRAW = 60_000


def _normal(seed: int, std: float = 0.1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, std, size=N_DRAW)


def _truncated(seed: int, std: float = 0.1) -> np.ndarray:
    rng, out = np.random.default_rng(seed), np.empty(0)
    while out.size < N_DRAW:
        z = rng.standard_normal(N_DRAW)
        out = np.concatenate([out, z[np.abs(z) <= 2.0]])
    return out[:N_DRAW] * std


def test_two_draws_of_one_distribution_pass() -> None:
    for make in (_normal, _truncated):
        mismatch, err = compare_draw(make(1), make(2))
        assert mismatch is None, mismatch
        assert err < 0.02


@pytest.mark.parametrize(("got", "check"), [
    (_normal(1, std=0.1 * np.sqrt(2.0)), "statistics: std"),  # He's 2/fan_in for Xavier's 1/fan_in
    (_normal(1) + 0.01, "statistics: mean"),  # a shift of 0.1 std
    (np.concatenate([_truncated(1)[:-1], [0.3]]), "statistics: truncation"),  # one value at 3 std
    (_normal(1)[:-1], "shape: out"),
    (np.where(np.arange(N_DRAW) == 7, np.nan, _normal(1)), "non-finite: out"),
    (list(_normal(1)), "return type"),
    (np.ones(N_DRAW, dtype=np.int64), "return type"),
], ids=["std", "mean", "truncation", "shape", "nan", "list", "int"])
def test_a_draw_off_the_reference_is_named_by_the_check_it_fails(got, check) -> None:
    want = _truncated(2) if check == "statistics: truncation" else _normal(2)
    mismatch, _ = compare_draw(got, want)
    assert mismatch is not None and mismatch.check == check, mismatch
