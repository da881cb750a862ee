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

# Five standard errors: a false alarm about once in 1.7 million draws; a wrong variance
# convention (e.g. 1/fan_in for 2/fan_in, 41 % in std) is hundreds of standard errors off.
Z = 5.0


def assert_same_distribution(got: object, want: np.ndarray, where: str) -> None:
    """``got`` (a framework's draw) has the shape, dtype, mean, std and truncation of
    ``want`` (the reference's draw), within Z standard errors."""
    assert isinstance(got, np.ndarray), f"{where}: returned {type(got).__name__}, not ndarray"
    assert got.shape == want.shape, f"{where}: shape {got.shape}, expected {want.shape}"
    assert got.dtype == want.dtype, f"{where}: dtype {got.dtype}, expected {want.dtype}"
    assert np.all(np.isfinite(got)), f"{where}: non-finite values"
    n = got.size
    se_mean = np.sqrt(got.var() / n + want.var() / n)
    assert abs(got.mean() - want.mean()) <= Z * se_mean, (
        f"{where}: mean {got.mean():.5g}, reference {want.mean():.5g} (> {Z} standard errors)")
    # std of a sample std ≈ σ/√(2n) (normal-ish data); two samples.
    se_std = want.std() * np.sqrt(1.0 / n)
    assert abs(got.std() - want.std()) <= Z * se_std, (
        f"{where}: std {got.std():.5g}, reference {want.std():.5g} (> {Z} standard errors)")
    # Truncation: where the reference is bounded (a truncated normal reaches ~2.3 sample
    # stds; an untruncated one ~4.4 at this size), the framework must respect the bound.
    spread = np.abs(want - want.mean()).max()
    if spread < 3 * want.std():
        assert np.abs(got - got.mean()).max() <= spread * 1.05, (
            f"{where}: values reach {np.abs(got - got.mean()).max():.4g} from the mean, "
            f"the reference's reach {spread:.4g} (truncation differs)")


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
