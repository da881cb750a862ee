"""The reference's information measures (reference/info.py, contract/info.py).

Worked examples from the documents (a fair coin is 1 bit, "abcc" is 1.5 bits), the
definitions written out as explicit sums, the identities that tie the three together,
0 log 0 = 0 and q = 0 edge cases, dtypes, and every kind of input validation.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter

import numpy as np
import pytest

from dlparity.contract import info as contract
from dlparity.reference.info import cross_entropy, entropy, kl_divergence

BASES = [2, math.e, 10, 0.5]


def _distributions(rng: np.random.Generator, shape: tuple[int, ...], zeros: bool = False):
    """Random distributions along the last axis; with ``zeros``, some entries are 0."""
    p = rng.uniform(0.05, 1.0, size=shape)
    if zeros:
        p[rng.random(shape) < 0.3] = 0.0
        p[..., 0] = np.maximum(p[..., 0], 0.1)  # never an all-zero distribution
    return p / p.sum(axis=-1, keepdims=True)


def _sum_over_last_axis(term, p: np.ndarray, q: np.ndarray, base: float) -> np.ndarray:
    """sum_k term(p_k, q_k) for each distribution, skipping p_k == 0, by explicit loops."""
    rows_p = p.reshape(-1, p.shape[-1])
    rows_q = q.reshape(-1, q.shape[-1])
    out = [
        sum(term(pk, qk) for pk, qk in zip(rp, rq, strict=True) if pk > 0)
        / math.log(base)
        for rp, rq in zip(rows_p, rows_q, strict=True)
    ]
    return np.array(out).reshape(p.shape[:-1])


def _entropy_by_loops(p, base):
    return _sum_over_last_axis(lambda pk, _: -pk * math.log(pk), p, p, base)


def _cross_entropy_by_loops(p, q, base):
    return _sum_over_last_axis(lambda pk, qk: -pk * math.log(qk), p, q, base)


def _kl_by_loops(p, q, base):
    return _sum_over_last_axis(lambda pk, qk: pk * math.log(pk / qk), p, q, base)


# ------------------------------------------------------------------------ worked examples


def test_worked_example_fair_coin_has_entropy_1_bit():
    np.testing.assert_allclose(entropy(np.array([0.5, 0.5])), 1.0, rtol=1e-15)


def test_worked_example_abcc_has_entropy_1_5_bits():
    counts = Counter("abcc")
    p = np.array([counts[ch] for ch in "abc"], dtype=np.float64) / 4  # (1/4, 1/4, 1/2)
    np.testing.assert_allclose(entropy(p), 1.5, rtol=1e-15)


def test_a_certain_outcome_has_entropy_exactly_zero_not_minus_zero():
    h = entropy(np.array([0.0, 1.0, 0.0]))
    assert h == 0 and not np.signbit(h)


def test_worked_example_cross_entropy_of_a_one_hot_label_is_minus_log_of_its_prediction():
    # the documents' school bus: label (1, 0, 0), prediction (0.88, 0.08, 0.04)
    y, y_hat = np.array([1.0, 0.0, 0.0]), np.array([0.88, 0.08, 0.04])
    np.testing.assert_allclose(cross_entropy(y, y_hat, base=math.e), -math.log(0.88),
                               rtol=1e-14)
    np.testing.assert_allclose(kl_divergence(y, y_hat, base=math.e), -math.log(0.88),
                               rtol=1e-14)


def test_entropy_of_a_uniform_distribution_over_k_outcomes_is_log2_k_bits():
    for k in (1, 2, 3, 8):
        np.testing.assert_allclose(entropy(np.full(k, 1 / k)), math.log2(k), atol=1e-15)


# ------------------------------------------------------------------------ definitions


@pytest.mark.parametrize("base", BASES, ids=lambda b: f"base={b:.3g}")
@pytest.mark.parametrize("zeros", [False, True], ids=["positive", "with-zeros"])
def test_entropy_is_minus_sum_p_log_p_over_the_last_axis(base, zeros, rng):
    p = _distributions(rng, (4, 5), zeros)
    np.testing.assert_allclose(entropy(p, base), _entropy_by_loops(p, base), rtol=1e-12)


@pytest.mark.parametrize("base", BASES, ids=lambda b: f"base={b:.3g}")
@pytest.mark.parametrize("zeros", [False, True], ids=["positive", "with-zeros-in-p"])
def test_cross_entropy_is_minus_sum_p_log_q_over_the_last_axis(base, zeros, rng):
    p, q = _distributions(rng, (4, 5), zeros), _distributions(rng, (4, 5))
    np.testing.assert_allclose(
        cross_entropy(p, q, base), _cross_entropy_by_loops(p, q, base), rtol=1e-12
    )


@pytest.mark.parametrize("base", BASES, ids=lambda b: f"base={b:.3g}")
@pytest.mark.parametrize("zeros", [False, True], ids=["positive", "with-zeros-in-p"])
def test_kl_divergence_is_sum_p_log_p_over_q_over_the_last_axis(base, zeros, rng):
    p, q = _distributions(rng, (4, 5), zeros), _distributions(rng, (4, 5))
    np.testing.assert_allclose(kl_divergence(p, q, base), _kl_by_loops(p, q, base),
                               rtol=1e-10, atol=1e-15)


def test_default_base_is_2_bits(rng):
    p, q = _distributions(rng, (3, 4)), _distributions(rng, (3, 4))
    for fn, args in [(entropy, (p,)), (cross_entropy, (p, q)), (kl_divergence, (p, q))]:
        in_nats = fn(*args, base=math.e)
        np.testing.assert_allclose(fn(*args), in_nats / math.log(2), rtol=1e-13)


# ------------------------------------------------------------------------ identities


def test_kl_divergence_equals_cross_entropy_minus_entropy(rng):
    p, q = _distributions(rng, (6, 4), zeros=True), _distributions(rng, (6, 4))
    np.testing.assert_allclose(
        kl_divergence(p, q), cross_entropy(p, q) - entropy(p), rtol=1e-10, atol=1e-14
    )


def test_cross_entropy_of_p_with_itself_is_its_entropy_and_kl_is_zero(rng):
    p = _distributions(rng, (5, 3), zeros=True)
    np.testing.assert_allclose(cross_entropy(p, p), entropy(p), rtol=1e-14)
    np.testing.assert_allclose(kl_divergence(p, p), np.zeros(5), atol=1e-15)


def test_gibbs_inequality_cross_entropy_is_never_below_entropy(rng):
    p, q = _distributions(rng, (50, 6), zeros=True), _distributions(rng, (50, 6))
    kl = kl_divergence(p, q)
    assert np.all(np.isfinite(kl)) and np.all(kl >= 0)
    assert np.all(cross_entropy(p, q) >= entropy(p) - 1e-12)


# ------------------------------------------------------------------------ shapes


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4)], ids=str)
def test_measures_reduce_over_the_last_axis_only(shape, rng):
    p, q = _distributions(rng, shape), _distributions(rng, shape)
    for fn, args in [(entropy, (p,)), (cross_entropy, (p, q)), (kl_divergence, (p, q))]:
        out = fn(*args)
        assert np.shape(out) == shape[:-1]
        rows = [a.reshape(-1, shape[-1]) for a in args]  # (M, K) each
        flat = [fn(*(r[i] for r in rows)) for i in range(rows[0].shape[0])]
        np.testing.assert_allclose(np.reshape(out, -1), flat, rtol=1e-15)


# ------------------------------------------------------------------------ q == 0


@pytest.mark.parametrize("fn", [cross_entropy, kl_divergence], ids=lambda f: f.__name__)
def test_q_zero_where_p_is_positive_gives_plus_inf_without_warning(fn):
    p = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])
    q = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])  # row 1: q = 0 only where p = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fn(p, q)
    assert out[0] == np.inf
    np.testing.assert_allclose(out[1], 1.0 if fn is cross_entropy else 0.0, atol=1e-15)


def test_zero_entries_of_p_give_no_warning_and_no_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = entropy(np.array([[0.5, 0.0, 0.5], [0.0, 0.0, 1.0]]))
    np.testing.assert_allclose(h, [1.0, 0.0], atol=1e-15)


# ------------------------------------------------------------------------ dtypes


@pytest.mark.parametrize("fn", [entropy, cross_entropy, kl_divergence],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [(4,), (3, 4)], ids=str)
def test_float32_inputs_give_float32_values(fn, shape, rng):
    p, q = _distributions(rng, shape), _distributions(rng, shape)
    args64 = (p,) if fn is entropy else (p, q)
    args32 = tuple(a.astype(np.float32) for a in args64)
    out32 = fn(*args32)
    assert np.asarray(out32).dtype == np.float32
    out64 = fn(*(a.astype(np.float64) for a in args32))
    np.testing.assert_allclose(out32, out64, rtol=1e-5, atol=1e-6)


def test_mixed_float32_and_float64_inputs_give_float64(rng):
    p, q = _distributions(rng, (2, 3)), _distributions(rng, (2, 3))
    assert cross_entropy(p.astype(np.float32), q).dtype == np.float64
    assert kl_divergence(p, q.astype(np.float32)).dtype == np.float64


# ------------------------------------------------------------------------ contract


def test_contract_returns_base_as_a_float_and_arrays_in_their_common_dtype():
    p = np.array([0.5, 0.5], dtype=np.float32)
    q = np.array([0.25, 0.75])
    p_out, q_out, base = contract.kl_divergence(p, q, 10)
    assert type(base) is float and base == 10.0
    assert p_out.dtype == np.float64 and q_out is q
    assert contract.entropy(q) == (q, 2.0)


def test_sums_within_1e_6_of_one_are_accepted():
    p = np.array([0.5, 0.5 + 5e-7])
    np.testing.assert_allclose(entropy(p), 1.0, atol=1e-5)


# ------------------------------------------------------------------------ validation

GOOD = np.array([0.25, 0.75])


def _bad_cases():
    cases = []
    for fn in (entropy, cross_entropy, kl_divergence):
        name = fn.__name__

        def call(p, q=GOOD, fn=fn, **kw):
            return (p,) if fn is entropy else (p, q), kw

        bad_p = {
            "negative": (np.array([-0.25, 1.25]), ValueError),
            "sum-above-1": (np.array([0.5, 0.5 + 1e-5]), ValueError),
            "sum-below-1": (np.array([0.25, 0.25]), ValueError),
            "nan": (np.array([np.nan, 0.5]), ValueError),
            "inf": (np.array([np.inf, 0.0]), ValueError),
            "0d": (np.array(1.0), ValueError),
            "empty-last-axis": (np.zeros((2, 0)), ValueError),
            "int": (np.array([0, 1]), TypeError),
            "list": ([0.5, 0.5], TypeError),
        }
        for label, (p, error) in bad_p.items():
            cases.append((f"{name}-p-{label}", fn, *call(p), error, "p"))
        for label, (bad, error) in {
            "1": (1, ValueError), "1.0": (1.0, ValueError), "0": (0, ValueError),
            "negative": (-2.0, ValueError), "nan": (math.nan, ValueError),
            "inf": (math.inf, ValueError), "str": ("2", TypeError), "bool": (True, TypeError),
        }.items():
            cases.append((f"{name}-base-{label}", fn, *call(GOOD, base=bad), error, "base"))
        if fn is entropy:
            continue
        for label, (q, error) in {
            "negative": (np.array([1.5, -0.5]), ValueError),
            "sum-not-1": (np.array([0.5, 0.25]), ValueError),
            "nan": (np.array([np.nan, 1.0]), ValueError),
            "int": (np.array([1, 0]), TypeError),
            "list": ([0.5, 0.5], TypeError),
            "wrong-shape": (np.array([0.25, 0.25, 0.5]), ValueError),
            "extra-axis": (np.array([[0.25, 0.75]]), ValueError),
        }.items():
            cases.append((f"{name}-q-{label}", fn, *call(GOOD, q), error, "q"))
    return cases


BAD_CASES = _bad_cases()


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "error", "arg_name"),
    [case[1:] for case in BAD_CASES],
    ids=[case[0] for case in BAD_CASES],
)
def test_bad_input_raises_an_error_naming_the_function_and_argument(
    fn, args, kwargs, error, arg_name
):
    with pytest.raises(error, match=rf"^{fn.__name__}: {arg_name} ") as info:
        fn(*args, **kwargs)
    assert info.type is error


def test_probability_error_message_says_what_sum_was_received():
    with pytest.raises(ValueError, match=r"sum to 1 .*0\.5"):
        entropy(np.array([0.25, 0.25]))
