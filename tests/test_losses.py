"""The reference's data losses and regularisers (reference/losses.py, contract/losses.py).

Gradients are checked against central differences of the loss value in float64; values
against the formulas written out here independently (explicit loops, the naive unstable
form on moderate inputs, analytic values at +-1000); then edge cases, dtypes and every
kind of input validation.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest

from dlparity.contract import losses as contract
from dlparity.reference.gradcheck import eval_numerical_gradient
from dlparity.reference.losses import (
    kl_div_loss,
    l0_norm,
    l1_regularization,
    l2_regularization,
    mse_loss,
    nll_loss,
    sigmoid_cross_entropy_loss,
    softmax_loss,
    svm_loss,
)

KINK_GAP = 1e-3  # inputs of the gradient checks stay this far from a kink (h = 1e-5)


# ------------------------------------------------------------------------ input makers


def _labels(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    return rng.integers(0, c, size=n)  # (N,) int64


def _hinge_scores(rng: np.random.Generator, y: np.ndarray, c: int) -> np.ndarray:
    """Scores (N, C) whose hinge margins x_ij - x_iy + 1 are all at least KINK_GAP from 0."""
    n = y.shape[0]
    x = rng.normal(size=(n, c))
    while True:
        margins = x - x[np.arange(n), y][:, None] + 1
        margins[np.arange(n), y] = 1.0  # the true class is not a margin
        near = np.abs(margins) < KINK_GAP
        if not near.any():
            return x
        x[near] = rng.normal(size=int(near.sum()))


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal entries, none closer than KINK_GAP to 0 (the kink of |w|)."""
    w = rng.normal(size=shape)
    return np.where(np.abs(w) < KINK_GAP, 0.5, w)


def _targets_in_unit_interval(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A mix of hard 0/1 targets and soft ones."""
    y = rng.uniform(size=shape)
    hard = rng.random(shape) < 0.5
    return np.where(hard, np.round(y), y)


def _probabilities_with_zeros(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    p = rng.uniform(size=shape)
    p[rng.random(shape) < 0.3] = 0.0
    return p


# For each data loss: (first argument, second argument) for a shape of the first argument.
# The gradient returned is with respect to the first argument.
def _mse_inputs(rng, shape):
    return rng.normal(size=shape), rng.normal(size=shape)


def _softmax_inputs(rng, shape):
    return 3 * rng.normal(size=shape), _labels(rng, shape[0], shape[1])


def _nll_inputs(rng, shape):
    return -rng.uniform(0.1, 5.0, size=shape), _labels(rng, shape[0], shape[1])


def _sigmoid_ce_inputs(rng, shape):
    return 3 * rng.normal(size=shape), _targets_in_unit_interval(rng, shape)


def _svm_inputs(rng, shape):
    y = _labels(rng, shape[0], shape[1])
    return _hinge_scores(rng, y, shape[1]), y


def _kl_div_inputs(rng, shape):
    return rng.normal(size=shape), _probabilities_with_zeros(rng, shape)


INPUTS: dict[Callable, Callable] = {
    mse_loss: _mse_inputs,
    softmax_loss: _softmax_inputs,
    nll_loss: _nll_inputs,
    sigmoid_cross_entropy_loss: _sigmoid_ce_inputs,
    svm_loss: _svm_inputs,
    kl_div_loss: _kl_div_inputs,
}

GRADIENT_CASES = [
    (mse_loss, (1,)),
    (mse_loss, (7,)),
    (mse_loss, (1, 3)),
    (mse_loss, (4, 3)),
    (softmax_loss, (1, 3)),
    (softmax_loss, (5, 4)),
    (softmax_loss, (3, 1)),
    (nll_loss, (1, 4)),
    (nll_loss, (6, 3)),
    (sigmoid_cross_entropy_loss, (1,)),
    (sigmoid_cross_entropy_loss, (8,)),
    (sigmoid_cross_entropy_loss, (1, 3)),
    (sigmoid_cross_entropy_loss, (5, 4)),
    (svm_loss, (1, 3)),
    (svm_loss, (6, 5)),
    (svm_loss, (4, 1)),
    (kl_div_loss, (1, 3)),
    (kl_div_loss, (6, 4)),
    (kl_div_loss, (5,)),
]


def _case_id(case) -> str:
    fn, shape = case
    return f"{fn.__name__}-{'x'.join(map(str, shape)) or 'scalar'}"


def _assert_matches_numerical_gradient(f: Callable, x: np.ndarray, analytic: np.ndarray):
    numeric = eval_numerical_gradient(f, x)
    assert analytic.shape == x.shape
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------------ gradients


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=_case_id)
def test_loss_gradient_matches_numerical_gradient_float64(case, rng):
    loss_fn, shape = case
    first, second = INPUTS[loss_fn](rng, shape)
    loss, grad = loss_fn(first, second)
    assert np.isfinite(loss)
    _assert_matches_numerical_gradient(lambda z: loss_fn(z, second)[0], first, grad)


@pytest.mark.parametrize("shape", [(), (1,), (3, 4), (2, 3, 2)], ids=str)
@pytest.mark.parametrize("regularizer", [l2_regularization, l1_regularization],
                         ids=lambda f: f.__name__)
def test_regularizer_gradient_matches_numerical_gradient_float64(regularizer, shape, rng):
    w = _away_from_zero(rng, shape)
    reg = float(rng.uniform(0.1, 2.0))
    value, dw = regularizer(w, reg)
    assert isinstance(dw, np.ndarray)
    _assert_matches_numerical_gradient(lambda z: regularizer(z, reg)[0], w, dw)


# ------------------------------------------------------------------------ mse


@pytest.mark.parametrize("shape", [(1,), (5,), (1, 3), (4, 3)], ids=str)
def test_mse_loss_is_squared_error_summed_over_k_and_averaged_over_n(shape, rng):
    h, y = _mse_inputs(rng, shape)
    n = shape[0]
    expected = sum(float(np.sum(np.square(h[i] - y[i]))) for i in range(n)) / n
    loss, dh = mse_loss(h, y)
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    np.testing.assert_allclose(dh, 2 * (h - y) / n, rtol=1e-12)


def test_mse_loss_is_zero_with_zero_gradient_at_the_targets(rng):
    y = rng.normal(size=(4, 2))
    loss, dh = mse_loss(y.copy(), y)
    assert loss == 0
    np.testing.assert_array_equal(dh, np.zeros_like(y))


# ------------------------------------------------------------------------ softmax / nll


def _naive_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("shape", [(1, 3), (6, 5)], ids=str)
def test_softmax_loss_is_mean_negative_log_probability_of_the_label(shape, rng):
    x, y = _softmax_inputs(rng, shape)
    n = shape[0]
    probs = _naive_softmax(x)
    expected = -np.mean(np.log(probs[np.arange(n), y]))
    onehot = np.eye(shape[1])[y]
    loss, dx = softmax_loss(x, y)
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    np.testing.assert_allclose(dx, (probs - onehot) / n, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_loss_is_finite_and_exact_for_logits_near_plus_minus_1000(dtype):
    x = np.array(
        [[1000.0, -1000.0, 999.0], [-1000.0, -999.0, -1000.0], [1000.0, -1000.0, 999.0]],
        dtype=dtype,
    )
    y = np.array([0, 1, 1])
    # shifted rows (0, -2000, -1), (-1, 0, -1), (0, -2000, -1): log-sum-exp is known
    lse_a = math.log1p(math.exp(-1))
    lse_b = math.log1p(2 * math.exp(-1))
    expected = (lse_a + lse_b + (2000 + lse_a)) / 3
    pa = [1 / (1 + math.exp(-1)), 0.0, math.exp(-1) / (1 + math.exp(-1))]
    pb = [math.exp(-1) / (1 + 2 * math.exp(-1)), 1 / (1 + 2 * math.exp(-1)),
          math.exp(-1) / (1 + 2 * math.exp(-1))]
    expected_dx = (np.array([pa, pb, pa]) - np.eye(3)[y]) / 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dx = softmax_loss(x, y)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert np.isfinite(loss) and np.all(np.isfinite(dx))
    np.testing.assert_allclose(loss, expected, rtol=rtol)
    np.testing.assert_allclose(dx, expected_dx, rtol=rtol, atol=rtol * 1e-3)


def test_nll_loss_of_log_softmax_equals_softmax_loss(rng):
    x, y = _softmax_inputs(rng, (5, 4))
    log_softmax = x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))  # (N, C)
    loss_nll, dlogp = nll_loss(log_softmax, y)
    loss_sm, dx = softmax_loss(x, y)
    np.testing.assert_allclose(loss_nll, loss_sm, rtol=1e-12)
    # chain rule through log-softmax: dx = g - softmax(x) * sum(g)
    chained = dlogp - _naive_softmax(x) * dlogp.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(chained, dx, rtol=1e-10, atol=1e-15)


def test_nll_loss_picks_minus_the_label_entries_averaged_over_n():
    logp = np.array([[-0.5, -1.0, -2.0], [-3.0, -0.25, -4.0]])
    loss, dlogp = nll_loss(logp, np.array([2, 1]))
    np.testing.assert_allclose(loss, (2.0 + 0.25) / 2, rtol=1e-15)
    np.testing.assert_array_equal(dlogp, [[0, 0, -0.5], [0, -0.5, 0]])


# ------------------------------------------------------------------------ sigmoid CE


@pytest.mark.parametrize("shape", [(1,), (6,), (1, 2), (4, 3)], ids=str)
def test_sigmoid_cross_entropy_is_binary_cross_entropy_summed_over_k_averaged_over_n(
    shape, rng
):
    x, y = _sigmoid_ce_inputs(rng, shape)
    s = 1 / (1 + np.exp(-x))
    expected = -np.sum(y * np.log(s) + (1 - y) * np.log(1 - s)) / shape[0]
    loss, dx = sigmoid_cross_entropy_loss(x, y)
    np.testing.assert_allclose(loss, expected, rtol=1e-10)
    np.testing.assert_allclose(dx, (s - y) / shape[0], rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("big", [1000.0, 100.0])  # exp(100) already overflows float32
@pytest.mark.parametrize("shape", [(4,), (2, 2)], ids=str)
def test_sigmoid_cross_entropy_at_large_logits_is_exact_without_warnings(dtype, big, shape):
    x = np.array([big, big, -big, -big], dtype=dtype).reshape(shape)
    y = np.array([1.0, 0.0, 0.0, 1.0], dtype=dtype).reshape(shape)
    n = shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dx = sigmoid_cross_entropy_loss(x, y)
    # per entry: 0, big, 0, big (the confident wrong answers cost |x|)
    np.testing.assert_allclose(loss, 2 * big / n, rtol=1e-6)
    expected_dx = np.array([0.0, 1.0, 0.0, -1.0]).reshape(shape) / n
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-6, atol=1e-30)


def test_sigmoid_cross_entropy_with_a_soft_target_at_a_large_logit():
    loss, dx = sigmoid_cross_entropy_loss(np.array([1000.0]), np.array([0.25]))
    np.testing.assert_allclose(loss, 1000 - 250, rtol=1e-15)
    np.testing.assert_allclose(dx, [0.75], rtol=1e-15)


# ------------------------------------------------------------------------ svm


def _svm_by_double_loop(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The textbook loops, as an independent oracle (never in the reference)."""
    n, c = x.shape
    loss, dx = 0.0, np.zeros_like(x)
    for i in range(n):
        for j in range(c):
            if j == y[i]:
                continue
            margin = x[i, j] - x[i, y[i]] + 1
            if margin > 0:
                loss += margin
                dx[i, j] += 1
                dx[i, y[i]] -= 1
    return loss / n, dx / n


def test_worked_example_svm_loss_of_scores_8_14_9_5_10_with_last_label_is_5_5():
    loss, dx = svm_loss(np.array([[8.0, 14.0, 9.5, 10.0]]), np.array([3]))
    np.testing.assert_allclose(loss, 5.5, rtol=1e-15)
    np.testing.assert_array_equal(dx, [[0.0, 1.0, 1.0, -2.0]])


@pytest.mark.parametrize("shape", [(1, 4), (5, 3), (7, 6)], ids=str)
def test_svm_loss_matches_the_explicit_double_loop(shape, rng):
    x, y = _svm_inputs(rng, shape)
    x = x * 2  # more active margins
    expected_loss, expected_dx = _svm_by_double_loop(x, y)
    loss, dx = svm_loss(x, y)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-12)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_svm_gradient_is_zero_at_a_margin_of_exactly_zero(dtype):
    x = np.array([[1.0, 2.0, 0.5, 2.5], [0.0, 1.0, 0.0, 0.0]], dtype=dtype)
    y = np.array([1, 1])
    # margins x_ij - x_iy + 1: row 0 (0, -, -0.5, 1.5); row 1 (0, -, 0, 0): exact zeros
    assert x[0, 0] - x[0, 1] + 1 == 0 and x[1, 0] - x[1, 1] + 1 == 0
    loss, dx = svm_loss(x, y)
    np.testing.assert_allclose(loss, 1.5 / 2, rtol=1e-7)
    np.testing.assert_array_equal(dx, np.array([[0, -1, 0, 1], [0, 0, 0, 0]]) / 2)


def test_svm_loss_is_zero_when_every_margin_is_satisfied():
    loss, dx = svm_loss(np.array([[5.0, 1.0, 3.9]]), np.array([0]))
    assert loss == 0
    np.testing.assert_array_equal(dx, np.zeros((1, 3)))


# ------------------------------------------------------------------------ kl_div


def _kl_div_by_loops(log_q: np.ndarray, p: np.ndarray) -> float:
    total = sum(
        pk * (math.log(pk) - lq) for pk, lq in zip(p.ravel(), log_q.ravel(), strict=True)
        if pk > 0
    )
    return total / p.shape[0]


@pytest.mark.parametrize("shape", [(1, 3), (5, 4), (6,)], ids=str)
def test_kl_div_loss_matches_the_explicit_sum_skipping_zero_p(shape, rng):
    log_q, p = _kl_div_inputs(rng, shape)
    loss, dlog_q = kl_div_loss(log_q, p)
    np.testing.assert_allclose(loss, _kl_div_by_loops(log_q, p), rtol=1e-12)
    np.testing.assert_allclose(dlog_q, -p / shape[0], rtol=1e-15)


@pytest.mark.parametrize("q_where_p_is_zero", [0.25, 0.0], ids=["q>0", "q=0 (log_q=-inf)"])
def test_kl_div_loss_terms_with_zero_p_contribute_nothing(q_where_p_is_zero):
    p = np.array([[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]])
    q = np.array([[0.25, q_where_p_is_zero, 0.25], [q_where_p_is_zero, 0.6, 0.2]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_q = np.log(q, out=np.full_like(q, -np.inf), where=q > 0)
        loss, dlog_q = kl_div_loss(log_q, p)
    expected = (math.log(2) + math.log(1 / 0.6)) / 2  # row 0: 2 * 0.5 log 2
    np.testing.assert_allclose(loss, expected, rtol=1e-14)
    np.testing.assert_array_equal(dlog_q, -p / 2)


def test_kl_div_loss_is_zero_when_q_equals_p(rng):
    p = rng.dirichlet(np.ones(4), size=3)
    loss, _ = kl_div_loss(np.log(p), p)
    np.testing.assert_allclose(loss, 0.0, atol=1e-15)


# ------------------------------------------------------------------------ regularisers


@pytest.mark.parametrize("shape", [(), (4,), (3, 2), (2, 2, 3)], ids=str)
def test_l2_regularization_is_half_reg_times_sum_of_squares(shape, rng):
    w = rng.normal(size=shape)
    reg = 0.3
    expected = 0.5 * reg * sum(float(wi) ** 2 for wi in w.ravel())
    value, dw = l2_regularization(w, reg)
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    np.testing.assert_allclose(dw, reg * w, rtol=1e-15)
    assert dw.shape == w.shape


def test_l1_regularization_is_reg_times_sum_of_absolute_values_with_sign_subgradient():
    w = np.array([[-2.0, 0.0], [3.0, -0.5]])
    value, dw = l1_regularization(w, 0.5)
    np.testing.assert_allclose(value, 0.5 * 5.5, rtol=1e-15)
    np.testing.assert_array_equal(dw, [[-0.5, 0.0], [0.5, -0.5]])  # 0 at w == 0


@pytest.mark.parametrize("regularizer", [l2_regularization, l1_regularization],
                         ids=lambda f: f.__name__)
def test_regularizer_with_zero_reg_is_zero(regularizer, rng):
    value, dw = regularizer(rng.normal(size=(3, 3)), 0)
    assert value == 0
    np.testing.assert_array_equal(dw, np.zeros((3, 3)))


@pytest.mark.parametrize(
    ("w", "count"),
    [
        (np.array([[0.0, 1.5], [-2.0, 0.0]]), 2),
        (np.array([0, 3, 0, -1, 7]), 3),
        (np.array([True, False, True]), 2),
        (np.zeros((2, 3), dtype=np.float32), 0),
        (np.array([np.nan, 0.0, -0.0]), 1),
        (np.array(4.0), 1),
    ],
    ids=["float", "int", "bool", "all-zero", "nan-counts", "0-d"],
)
def test_l0_norm_counts_non_zero_entries_as_a_python_int(w, count):
    result = l0_norm(w)
    assert type(result) is int
    assert result == count


# ------------------------------------------------------------------------ dtypes


DTYPE_CASES = [(mse_loss, (3,)), (mse_loss, (3, 2)), (softmax_loss, (3, 4)),
               (nll_loss, (3, 4)), (sigmoid_cross_entropy_loss, (3,)),
               (sigmoid_cross_entropy_loss, (3, 2)), (svm_loss, (3, 4)), (kl_div_loss, (3, 4))]


@pytest.mark.parametrize("case", DTYPE_CASES, ids=_case_id)
def test_float32_inputs_give_a_float32_loss_scalar_and_gradient(case, rng):
    loss_fn, shape = case
    first, second = INPUTS[loss_fn](rng, shape)
    if second.dtype.kind == "f":
        second32 = second.astype(np.float32)
    else:
        second32 = second  # integer labels
    loss32, grad32 = loss_fn(first.astype(np.float32), second32)
    loss64, grad64 = loss_fn(first.astype(np.float32).astype(np.float64),
                             second32.astype(second.dtype))
    assert np.ndim(loss32) == 0 and np.asarray(loss32).dtype == np.float32
    assert grad32.dtype == np.float32 and grad32.shape == shape
    np.testing.assert_allclose(loss32, loss64, rtol=1e-5)
    np.testing.assert_allclose(grad32, grad64, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("regularizer", [l2_regularization, l1_regularization],
                         ids=lambda f: f.__name__)
def test_float32_weights_give_a_float32_regularizer_value_and_gradient(regularizer, rng):
    w = rng.normal(size=(4, 3)).astype(np.float32)
    value, dw = regularizer(w, 0.1)
    assert np.ndim(value) == 0 and np.asarray(value).dtype == np.float32
    assert dw.dtype == np.float32
    value64, _ = regularizer(w.astype(np.float64), 0.1)
    np.testing.assert_allclose(value, value64, rtol=1e-6)


def test_mixed_float32_and_float64_inputs_give_the_promoted_dtype(rng):
    h = rng.normal(size=(3, 2)).astype(np.float32)
    loss, dh = mse_loss(h, rng.normal(size=(3, 2)))
    assert np.asarray(loss).dtype == np.float64 and dh.dtype == np.float64


# ------------------------------------------------------------------------ contract


def test_contract_returns_int64_labels_and_leaves_matching_arrays_alone():
    x = np.zeros((2, 3))
    x_out, y_out = contract.softmax_loss(x, np.array([0, 2], dtype=np.int32))
    assert x_out is x
    assert y_out.dtype == np.int64
    np.testing.assert_array_equal(y_out, [0, 2])


def test_contract_returns_both_arrays_in_their_common_dtype():
    h32 = np.zeros(3, dtype=np.float32)
    h_out, y_out = contract.mse_loss(h32, np.zeros(3))
    assert h_out.dtype == np.float64 and y_out.dtype == np.float64


@pytest.mark.parametrize("reg", [1, np.float32(0.5), np.array(2.0)], ids=str)
def test_contract_returns_reg_as_a_python_float(reg):
    _, reg_out = contract.l2_regularization(np.ones(2), reg)
    assert type(reg_out) is float and reg_out == float(reg)


# ------------------------------------------------------------------------ validation


def _bad_label_cases():
    cases = []
    for fn, arg in [(softmax_loss, "x"), (nll_loss, "logp"), (svm_loss, "x")]:
        name = fn.__name__
        scores = np.zeros((3, 4))
        cases += [
            (f"{name}-{arg}-1d", fn, (np.zeros(4), np.array([0])), ValueError, arg),
            (f"{name}-{arg}-3d", fn, (np.zeros((3, 4, 2)), np.array([0, 1, 2])), ValueError,
             arg),
            (f"{name}-{arg}-int", fn, (np.zeros((3, 4), dtype=int), np.array([0, 1, 2])),
             TypeError, arg),
            (f"{name}-{arg}-list", fn, ([[0.0, 1.0]], np.array([0])), TypeError, arg),
            (f"{name}-{arg}-empty-batch", fn, (np.zeros((0, 4)), np.array([], dtype=int)),
             ValueError, arg),
            (f"{name}-y-float", fn, (scores, np.array([0.0, 1.0, 2.0])), TypeError, "y"),
            (f"{name}-y-list", fn, (scores, [0, 1, 2]), TypeError, "y"),
            (f"{name}-y-minus-1", fn, (scores, np.array([0, -1, 2])), ValueError, "y"),
            (f"{name}-y-equals-C", fn, (scores, np.array([0, 4, 2])), ValueError, "y"),
            (f"{name}-y-wrong-length", fn, (scores, np.array([0, 1])), ValueError, "y"),
            (f"{name}-y-2d", fn, (scores, np.zeros((3, 1), dtype=int)), ValueError, "y"),
        ]
    return cases


def _bad_elementwise_cases():
    cases = []
    for fn, a, b in [(mse_loss, "h", "y"), (sigmoid_cross_entropy_loss, "x", "y"),
                     (kl_div_loss, "log_q", "p")]:
        name = fn.__name__
        ok = np.full((2, 3), 0.5)
        cases += [
            (f"{name}-{a}-0d", fn, (np.array(0.5), np.array(0.5)), ValueError, a),
            (f"{name}-{a}-3d", fn, (np.full((2, 3, 1), 0.5), np.full((2, 3, 1), 0.5)),
             ValueError, a),
            (f"{name}-{a}-int", fn, (np.ones((2, 3), dtype=int), ok), TypeError, a),
            (f"{name}-{a}-list", fn, ([0.5, 0.5], np.array([0.5, 0.5])), TypeError, a),
            (f"{name}-{a}-empty-batch", fn, (np.zeros((0, 3)), np.zeros((0, 3))), ValueError,
             a),
            (f"{name}-{b}-int", fn, (ok, np.ones((2, 3), dtype=int)), TypeError, b),
            (f"{name}-{b}-transposed", fn, (ok, np.full((3, 2), 0.5)), ValueError, b),
            (f"{name}-{b}-extra-axis", fn, (np.full(3, 0.5), np.full((3, 1), 0.5)),
             ValueError, b),
        ]
    sig = sigmoid_cross_entropy_loss
    cases += [
        (f"{sig.__name__}-y-{bad}", sig, (np.zeros(3), np.array([0.0, bad, 1.0])),
         ValueError, "y")
        for bad in (-0.1, 1.5, np.nan, np.inf)
    ]
    cases += [
        (f"kl_div_loss-p-{bad}", kl_div_loss, (np.zeros(3), np.array([0.5, bad, 0.5])),
         ValueError, "p")
        for bad in (-0.25, np.nan, np.inf)
    ]
    return cases


def _bad_regularizer_cases():
    cases = []
    for fn in (l2_regularization, l1_regularization):
        name = fn.__name__
        w = np.ones((2, 2))
        cases += [
            (f"{name}-reg-{bad}", fn, (w, bad), ValueError, "reg")
            for bad in (np.nan, np.inf, -np.inf, -0.1)
        ]
        cases += [
            (f"{name}-reg-str", fn, (w, "0.1"), TypeError, "reg"),
            (f"{name}-reg-bool", fn, (w, True), TypeError, "reg"),
            (f"{name}-reg-array", fn, (w, np.ones(2)), TypeError, "reg"),
            (f"{name}-w-int", fn, (np.ones((2, 2), dtype=int), 0.1), TypeError, "w"),
            (f"{name}-w-list", fn, ([1.0, 2.0], 0.1), TypeError, "w"),
        ]
    cases += [
        ("l0_norm-w-list", l0_norm, ([1.0, 0.0],), TypeError, "w"),
        ("l0_norm-w-str", l0_norm, (np.array(["a", ""]),), TypeError, "w"),
        ("l0_norm-w-object", l0_norm, (np.array([1, None], dtype=object),), TypeError, "w"),
    ]
    return cases


BAD_INPUT_CASES = _bad_label_cases() + _bad_elementwise_cases() + _bad_regularizer_cases()


@pytest.mark.parametrize(
    ("fn", "args", "error", "arg_name"),
    [case[1:] for case in BAD_INPUT_CASES],
    ids=[case[0] for case in BAD_INPUT_CASES],
)
def test_bad_input_raises_an_error_naming_the_function_and_argument(fn, args, error, arg_name):
    with pytest.raises(error, match=rf"^{fn.__name__}: {arg_name} ") as info:
        fn(*args)
    assert info.type is error  # not a subclass standing in for it


def test_label_error_message_says_what_was_received_and_expected():
    with pytest.raises(ValueError, match=r"\[0, 4\).*-1"):
        softmax_loss(np.zeros((2, 4)), np.array([0, -1]))
    with pytest.raises(ValueError, match=r"received y\.shape=\(3, 1\)"):
        mse_loss(np.zeros(3), np.zeros((3, 1)))
