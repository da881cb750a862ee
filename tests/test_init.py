"""Weight initialisers of the NumPy reference (SPEC.md §2, §4).

Different libraries draw from different RNGs, so the distributions are checked
statistically: on a draw of n values, a sample std is within 5 standard errors
(std / sqrt(2n)) of its target, a sample mean within 5 * std / sqrt(n) of its target.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlparity.reference import init

N_SIGMA = 5.0


def assert_normal_moments(w, mean, std):
    n = w.size
    assert np.all(np.isfinite(w))
    assert abs(float(w.mean()) - mean) < N_SIGMA * std / math.sqrt(n)
    assert abs(float(w.std()) / std - 1.0) < N_SIGMA / math.sqrt(2 * n)


# (shape, target std) with the fans written out: 2-D (fan_in, fan_out); 1-D fan_in = n;
# k-D fan_in = prod(shape[:-1]).
HE_CASES = [
    ((400, 500), math.sqrt(2 / 400)),
    ((200_000,), math.sqrt(2 / 200_000)),
    ((5, 5, 16, 500), math.sqrt(2 / 400)),
]
XAVIER_CASES = [
    ((400, 500), "fan_in", math.sqrt(1 / 400)),
    ((400, 500), "fan_avg", math.sqrt(2 / (400 + 500))),
    ((500, 400), "fan_avg", math.sqrt(2 / (500 + 400))),
    ((5, 5, 16, 500), "fan_in", math.sqrt(1 / 400)),
    ((5, 5, 16, 500), "fan_avg", math.sqrt(2 / (400 + 500))),
    ((200_000,), "fan_avg", math.sqrt(2 / 400_000)),
]


@pytest.mark.parametrize(("shape", "std"), HE_CASES)
def test_he_normal_has_mean_0_and_std_sqrt_2_over_fan_in(shape, std, rng):
    w = init.he_normal(shape, rng)
    assert w.shape == shape
    assert w.dtype == np.float64
    assert_normal_moments(w, 0.0, std)


@pytest.mark.parametrize(("shape", "mode", "std"), XAVIER_CASES)
def test_xavier_normal_std_is_sqrt_1_over_fan_in_or_sqrt_2_over_fan_sum(shape, mode, std, rng):
    w = init.xavier_normal(shape, rng, mode)
    assert w.shape == shape
    assert_normal_moments(w, 0.0, std)


def test_xavier_normal_default_mode_is_fan_in(rng):
    assert_normal_moments(init.xavier_normal((400, 500), rng), 0.0, math.sqrt(1 / 400))


@pytest.mark.parametrize("make", [init.he_normal, init.xavier_normal])
def test_he_and_xavier_are_plain_normals_not_truncated(make, rng):
    # 4.55% of a normal lies beyond 2 std (a truncated normal has none there)
    w = make((400, 500), rng)
    p = 2 * (1 - 0.5 * (1 + math.erf(2 / math.sqrt(2))))
    beyond = float(np.mean(np.abs(w) > 2 * w.std()))
    assert abs(beyond - p) < N_SIGMA * math.sqrt(p * (1 - p) / w.size)


# ---------------------------------------------------------------------- truncated normal
def truncated_at_2_std_moments():
    """Std and P(|z| < 1) of a standard normal truncated to [-2, 2], from the normal pdf/cdf."""
    mass = math.erf(2 / math.sqrt(2))  # P(|z| <= 2)
    pdf2 = math.exp(-2.0) / math.sqrt(2 * math.pi)  # phi(2)
    std = math.sqrt(1 - 2 * 2 * pdf2 / mass)
    within_1 = math.erf(1 / math.sqrt(2)) / mass
    return std, within_1


@pytest.mark.parametrize(("std", "mean"), [(1.0, 0.0), (0.1, 0.5), (3.0, -2.0)])
def test_truncated_normal_never_exceeds_2_std_and_has_std_0_88_times_std(std, mean, rng):
    w = init.truncated_normal((400, 500), rng, std, mean)
    assert w.dtype == np.float64
    assert np.all(np.abs(w - mean) <= 2 * std * (1 + 1e-12))
    factor, within_1 = truncated_at_2_std_moments()
    assert_normal_moments(w, mean, factor * std)
    # redrawn, not clipped and not rescaled: the mass within 1 std is 0.715, not 0.683
    frac = float(np.mean(np.abs(w - mean) < std))
    assert abs(frac - within_1) < N_SIGMA * math.sqrt(within_1 * (1 - within_1) / w.size)
    # clipping would pile 4.55% of the values onto the bounds
    assert float(np.mean(np.abs(w - mean) > 1.99 * std)) < 0.005


def test_truncated_normal_defaults_are_std_1_mean_0_giving_sample_std_0_8796(rng):
    w = init.truncated_normal((400, 500), rng)
    assert float(np.abs(w).max()) <= 2.0
    assert_normal_moments(w, 0.0, 0.8796)  # SPEC §4: "≈ 0.88·std, as TF's"


def test_truncated_normal_float32_stays_within_bounds_up_to_rounding(rng):
    w = init.truncated_normal((300, 300), rng, 0.1, 0.5, dtype=np.float32)
    assert w.dtype == np.float32
    bound = 2 * 0.1 * (1 + 2 * np.finfo(np.float32).eps) + 0.5 * np.finfo(np.float32).eps
    assert np.all(np.abs(w.astype(np.float64) - 0.5) <= bound)


# ---------------------------------------------------------------------- RNG and dtype
MAKERS = {
    "he_normal": lambda shape, rng, **kw: init.he_normal(shape, rng, **kw),
    "xavier_normal": lambda shape, rng, **kw: init.xavier_normal(shape, rng, "fan_avg", **kw),
    "truncated_normal": lambda shape, rng, **kw: init.truncated_normal(shape, rng, 0.5, **kw),
}


@pytest.mark.parametrize("name", MAKERS)
def test_same_seed_gives_the_same_draw_and_another_seed_another(name):
    make = MAKERS[name]
    a = make((30, 20), np.random.default_rng(7))
    b = make((30, 20), np.random.default_rng(7))
    c = make((30, 20), np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", MAKERS)
def test_float32_draw_is_the_float64_draw_rounded(name):
    make = MAKERS[name]
    w64 = make((30, 20), np.random.default_rng(3))
    w32 = make((30, 20), np.random.default_rng(3), dtype=np.float32)
    assert w32.dtype == np.float32
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


@pytest.mark.parametrize("name", MAKERS)
def test_the_global_numpy_rng_is_never_used(name):
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    MAKERS[name]((10, 10), np.random.default_rng(0))
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("shape", [(1,), (1, 1), (3,), (1, 7), (2, 3, 4), (2, 1, 1, 5)])
def test_shape_is_honoured_including_ones(name, shape, rng):
    w = MAKERS[name](shape, rng)
    assert w.shape == shape
    assert np.all(np.isfinite(w))


@pytest.mark.parametrize("name", MAKERS)
def test_a_bare_int_or_a_list_is_accepted_as_shape(name, rng):
    assert MAKERS[name](5, rng).shape == (5,)
    assert MAKERS[name](np.int64(5), rng).shape == (5,)
    assert MAKERS[name]([2, 3], rng).shape == (2, 3)


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize(
    "bad_rng",
    [None, 0, np.random.RandomState(0)],
    ids=["None", "int", "RandomState"],  # noqa: NPY002
)
def test_an_rng_that_is_not_a_generator_raises_type_error(name, bad_rng):
    with pytest.raises(TypeError, match=f"{name}: rng must be a numpy.random.Generator"):
        MAKERS[name]((3, 4), bad_rng)


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize(
    ("shape", "error"),
    [
        ((), ValueError),
        ((0, 3), ValueError),
        ((-1,), ValueError),
        ((2.5, 3), TypeError),
        ("3", TypeError),
        (True, TypeError),
        (None, TypeError),
    ],
)
def test_a_bad_shape_raises_naming_shape(name, shape, error, rng):
    with pytest.raises(error, match=f"{name}: shape"):
        MAKERS[name](shape, rng)


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("dtype", [np.int32, "int64", bool, "not a dtype"])
def test_a_non_floating_dtype_raises_type_error(name, dtype, rng):
    with pytest.raises(TypeError, match=f"{name}: dtype must be a floating dtype"):
        MAKERS[name]((3, 4), rng, dtype=dtype)


def test_xavier_normal_unknown_mode_raises_naming_mode(rng):
    with pytest.raises(ValueError, match="xavier_normal: mode must be one of"):
        init.xavier_normal((3, 4), rng, "fan_out")


@pytest.mark.parametrize(
    ("std", "mean", "pattern"),
    [(0.0, 0.0, "std"), (-1.0, 0.0, "std"), (math.nan, 0.0, "std"), (1.0, math.inf, "mean")],
)
def test_truncated_normal_bad_std_or_mean_raises(std, mean, pattern, rng):
    with pytest.raises(ValueError, match=f"truncated_normal: {pattern}"):
        init.truncated_normal((3, 4), rng, std, mean)
