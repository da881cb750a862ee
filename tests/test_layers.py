"""The reference's layers and composites (SPEC.md §2 "Layers", §4), and their contract.

Gradients are checked against central differences with random upstream gradients in
float64; expected forward values are written out from the formulas, never computed by the
code under test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from dlparity.contract import layers as contract
from dlparity.reference.gradcheck import eval_numerical_gradient_array
from dlparity.reference.layers import (
    affine_backward,
    affine_batchnorm_relu_backward,
    affine_batchnorm_relu_forward,
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    batchnorm_backward,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    log_softmax_backward,
    log_softmax_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    tanh_backward,
    tanh_forward,
)


def assert_gradient(analytic: np.ndarray, f, x: np.ndarray, dout: np.ndarray,
                    rtol: float = 1e-6, atol: float = 1e-8, h: float = 1e-5) -> None:
    """``analytic`` equals the numerical vector-Jacobian product of ``f`` at x with dout.

    The absolute term covers entries that are analytically (near) zero, where central
    differences only resolve about 1e-10 in float64.
    """
    numerical = eval_numerical_gradient_array(f, x, dout, h=h)
    assert analytic.shape == x.shape
    np.testing.assert_allclose(analytic, numerical, rtol=rtol, atol=atol)


def sigmoid_formula(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), for moderate x only."""
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------------------- affine

AFFINE_SHAPES = [((1, 5), 3), ((4, 6), 2), ((3, 2, 3), 4), ((2, 3, 2, 2), 5)]


@pytest.mark.parametrize(("x_shape", "m"), AFFINE_SHAPES)
def test_affine_forward_is_flattened_x_times_w_plus_b(rng, x_shape, m):
    x = rng.standard_normal(x_shape)
    d = int(np.prod(x_shape[1:]))
    w = rng.standard_normal((d, m))
    b = rng.standard_normal(m)
    out, _ = affine_forward(x, w, b)
    expected = np.empty((x_shape[0], m))
    for i in range(x_shape[0]):  # one sample at a time, written out
        expected[i] = x[i].ravel() @ w + b
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("x_shape", "m"), AFFINE_SHAPES)
def test_affine_backward_matches_numerical_gradient(rng, x_shape, m):
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((int(np.prod(x_shape[1:])), m))
    b = rng.standard_normal(m)
    out, cache = affine_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = affine_backward(dout, cache)
    assert_gradient(dx, lambda x_: affine_forward(x_, w, b)[0], x, dout)
    assert_gradient(dw, lambda w_: affine_forward(x, w_, b)[0], w, dout)
    assert_gradient(db, lambda b_: affine_forward(x, w, b_)[0], b, dout)


# ------------------------------------------------------------------ activations (grads)

ACTIVATIONS = {
    "relu": (relu_forward, relu_backward, {}),
    "leaky_relu_default": (leaky_relu_forward, leaky_relu_backward, {}),
    "leaky_relu_alpha_0.2": (leaky_relu_forward, leaky_relu_backward, {"alpha": 0.2}),
    "leaky_relu_alpha_negative": (leaky_relu_forward, leaky_relu_backward, {"alpha": -0.5}),
    "leaky_relu_alpha_above_1": (leaky_relu_forward, leaky_relu_backward, {"alpha": 2.5}),
    "sigmoid": (sigmoid_forward, sigmoid_backward, {}),
    "tanh": (tanh_forward, tanh_backward, {}),
    "softmax": (softmax_forward, softmax_backward, {}),
    "log_softmax": (log_softmax_forward, log_softmax_backward, {}),
}
ACTIVATION_SHAPES = [(1, 4), (5, 3), (2, 3, 4), (6,)]


@pytest.mark.parametrize("shape", ACTIVATION_SHAPES, ids=str)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_backward_matches_numerical_gradient(rng, name, shape):
    forward, backward, kwargs = ACTIVATIONS[name]
    x = 2.0 * rng.standard_normal(shape)
    out, cache = forward(x, **kwargs)
    dout = rng.standard_normal(out.shape)
    dx = backward(dout, cache)
    assert_gradient(dx, lambda x_: forward(x_, **kwargs)[0], x, dout)


# ------------------------------------------------------------------------ ReLU family


def test_relu_forward_and_gradient_at_exactly_zero():
    x = np.array([[-1.5, 0.0, 2.0], [0.0, -0.0, 3.0]])
    dout = np.array([[1.5, 2.5, 3.5], [4.0, 5.0, 6.0]])
    dout_before = dout.copy()
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 2.0], [0.0, 0.0, 3.0]])
    dx = relu_backward(dout, cache)
    np.testing.assert_array_equal(dx, [[0.0, 0.0, 3.5], [0.0, 0.0, 6.0]])
    np.testing.assert_array_equal(dout, dout_before)  # the documents' in-place bug


@pytest.mark.parametrize("alpha", [0.01, 0.1, -0.5, 3.0])
def test_leaky_relu_has_slope_alpha_below_and_at_zero(alpha):
    x = np.array([[-2.0, 0.0, 3.0]])
    dout = np.array([[1.0, 2.0, 3.0]])
    out, cache = leaky_relu_forward(x, alpha)
    np.testing.assert_allclose(out, [[-2.0 * alpha, 0.0, 3.0]], rtol=1e-15, atol=0)
    dx = leaky_relu_backward(dout, cache)
    np.testing.assert_allclose(dx, [[1.0 * alpha, 2.0 * alpha, 3.0]], rtol=1e-15, atol=0)


def test_leaky_relu_default_alpha_is_0_01():
    out, _ = leaky_relu_forward(np.array([-1.0, 1.0]))
    np.testing.assert_allclose(out, [-0.01, 1.0], rtol=1e-15, atol=0)


# ----------------------------------------------------------------------- sigmoid, tanh


def test_sigmoid_forward_matches_the_formula(rng):
    x = 4.0 * rng.standard_normal((5, 7))
    out, _ = sigmoid_forward(x)
    np.testing.assert_allclose(out, sigmoid_formula(x), rtol=1e-14, atol=0)


def test_worked_example_sigmoid_of_wx_plus_b_is_0_3543():
    w = np.array([0.3, 0.2, 0.4, 0.3])
    x = np.array([0.1, 0.3, 0.2, 0.1])
    z = np.array([w @ x - 0.8])  # (1,)
    out, _ = sigmoid_forward(z)
    np.testing.assert_allclose(out, [0.3543], atol=5e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_tanh_at_plus_minus_1000_give_no_warning(dtype):
    big = np.finfo(dtype).max
    x = np.array([-big, -1000.0, -100.0, 0.0, 100.0, 1000.0, big], dtype=dtype)
    dout = np.ones_like(x) * dtype(0.5)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise",
                                                divide="raise"):
        warnings.simplefilter("error")
        s, s_cache = sigmoid_forward(x)
        ds = sigmoid_backward(dout, s_cache)
        t, t_cache = tanh_forward(x)
        dt = tanh_backward(dout, t_cache)
    assert s.dtype == dtype and t.dtype == dtype
    np.testing.assert_array_equal(s[[0, 1, 5, 6]], [0.0, 0.0, 1.0, 1.0])
    assert s[3] == dtype(0.5)
    np.testing.assert_array_equal(t[[0, 1, 5, 6]], [-1.0, -1.0, 1.0, 1.0])
    for grad in (ds, dt):
        assert np.all(np.isfinite(grad))
        np.testing.assert_array_equal(grad[[0, 1, 5, 6]], 0.0)


def test_sigmoid_equals_half_of_one_plus_tanh_of_half_x(rng):
    x = 10.0 * rng.standard_normal((4, 9))
    s, _ = sigmoid_forward(x)
    t, _ = tanh_forward(x / 2)
    np.testing.assert_allclose(s, (1 + t) / 2, rtol=1e-13, atol=1e-16)


def test_tanh_forward_matches_exp_formula(rng):
    x = 3.0 * rng.standard_normal((3, 4))
    out, _ = tanh_forward(x)
    np.testing.assert_allclose(out, (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)),
                               rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------------------- softmax


def test_worked_example_softmax_3_2_0_8_0():
    out, _ = softmax_forward(np.array([3.2, 0.8, 0.0]))
    np.testing.assert_allclose(out, [0.8838, 0.0802, 0.0360], atol=5e-5)


LARGE_LOGITS = np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1002.0],
                         [1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]])
# The same rows shifted by a per-row constant (softmax is shift-invariant):

def test_softmax_of_logits_near_plus_minus_1000_is_finite_and_exact():
    x = LARGE_LOGITS.copy()
    out, _ = softmax_forward(x)
    e = np.exp(np.array([2.0, 1.0, 0.0]))
    expected = np.array([e / e.sum(), e / e.sum(), [1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, expected, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-15)
    np.testing.assert_array_equal(x, LARGE_LOGITS)  # the documents' in-place subtraction


def test_log_softmax_of_logits_near_plus_minus_1000_is_finite_and_exact():
    x = LARGE_LOGITS.copy()
    out, _ = log_softmax_forward(x)
    logsumexp = np.log(np.exp(np.array([2.0, 1.0, 0.0])).sum())
    expected = np.array([
        [2.0 - logsumexp, 1.0 - logsumexp, -logsumexp],
        [2.0 - logsumexp, 1.0 - logsumexp, -logsumexp],
        [0.0, -2000.0, -1000.0],
        [-np.log(3.0)] * 3,
    ])
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, expected, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(np.exp(out).sum(axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_array_equal(x, LARGE_LOGITS)


@pytest.mark.parametrize("shape", [(7,), (1, 5), (6, 4), (2, 3, 5)], ids=str)
def test_softmax_rows_sum_to_1_and_log_softmax_is_its_log(rng, shape):
    x = 30.0 * rng.standard_normal(shape)
    s, _ = softmax_forward(x)
    log_s, _ = log_softmax_forward(x)
    assert s.shape == shape and log_s.shape == shape
    assert np.all(s >= 0)
    np.testing.assert_allclose(s.sum(axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(np.exp(log_s), s, rtol=1e-12, atol=1e-300)


def test_softmax_works_over_the_last_axis(rng):
    x = rng.standard_normal((2, 3, 4))
    out, _ = softmax_forward(x)
    for i in range(2):
        for j in range(3):
            e = np.exp(x[i, j])
            np.testing.assert_allclose(out[i, j], e / e.sum(), rtol=1e-14)


def test_softmax_and_log_softmax_backward_match_numerical_gradient_near_1000(rng):
    x = LARGE_LOGITS + 0.1 * rng.standard_normal(LARGE_LOGITS.shape)
    dout = rng.standard_normal(x.shape)
    for forward, backward in ((softmax_forward, softmax_backward),
                              (log_softmax_forward, log_softmax_backward)):
        out, cache = forward(x)
        dx = backward(dout, cache)
        assert_gradient(dx, lambda x_, f=forward: f(x_)[0], x.copy(), dout)


# ---------------------------------------------------------------------------- dropout


@pytest.mark.parametrize("param", [{"p": 0.0}, {"p": 0.0, "seed": 3}, {"p": 0, "mode": "train"}])
def test_dropout_with_p_0_is_the_identity(rng, param):
    x = rng.standard_normal((4, 5))
    out, cache = dropout_forward(x, param)
    np.testing.assert_array_equal(out, x)
    dout = rng.standard_normal((4, 5))
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


@pytest.mark.parametrize("mask_dtype", [bool, np.int64, np.float32, np.float64])
@pytest.mark.parametrize("p", [0.0, 0.25, 0.5, 0.9])
def test_dropout_with_a_given_mask_is_x_times_mask_over_1_minus_p(rng, p, mask_dtype):
    x = rng.standard_normal((3, 4))
    keep = rng.random((3, 4)) < 0.6
    param = {"p": p, "mode": "train", "mask": keep.astype(mask_dtype), "seed": 1}
    out, cache = dropout_forward(x, param)
    expected = np.where(keep, x / (1 - p), 0.0)
    np.testing.assert_allclose(out, expected, rtol=1e-15, atol=0)
    dout = rng.standard_normal((3, 4))
    np.testing.assert_allclose(dropout_backward(dout, cache), np.where(keep, dout / (1 - p), 0),
                               rtol=1e-15, atol=0)


def test_dropout_given_mask_wins_over_seed(rng):
    x = rng.standard_normal((5, 6))
    keep = rng.random((5, 6)) < 0.5
    out_a, _ = dropout_forward(x, {"p": 0.5, "mask": keep, "seed": 1})
    out_b, _ = dropout_forward(x, {"p": 0.5, "mask": keep, "seed": 2})
    np.testing.assert_array_equal(out_a, out_b)
    np.testing.assert_array_equal(out_a != 0, keep)


@pytest.mark.parametrize("seed", [0, 7, 12345])
def test_dropout_seed_gives_the_default_rng_keep_mask(seed):
    x = np.ones((20, 30))
    p = 0.4
    out, _ = dropout_forward(x, {"p": p, "seed": seed})
    keep = np.random.default_rng(seed).random(x.shape) >= p  # SPEC §4, written out
    np.testing.assert_allclose(out, np.where(keep, 1 / (1 - p), 0.0), rtol=1e-15, atol=0)
    again, _ = dropout_forward(x, {"p": p, "seed": seed})
    np.testing.assert_array_equal(again, out)


def test_dropout_different_seeds_give_different_masks():
    x = np.ones((10, 10))
    out_a, _ = dropout_forward(x, {"p": 0.5, "seed": 1})
    out_b, _ = dropout_forward(x, {"p": 0.5, "seed": 2})
    assert np.any(out_a != out_b)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keeps_a_fraction_1_minus_p_scaled_by_1_over_1_minus_p(p):
    x = np.ones((500, 200))
    out, _ = dropout_forward(x, {"p": p, "seed": 2024})
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / (1 - p), rtol=1e-15)
    n = x.size
    sigma = np.sqrt(p * (1 - p) / n)
    assert abs(kept.mean() - (1 - p)) < 5 * sigma
    assert abs(out.mean() - 1.0) < 5 * sigma / (1 - p)  # inverted dropout keeps the mean


@pytest.mark.parametrize("param", [{"p": 0.5, "seed": 0}, {"p": 0.3, "mask": None}])
def test_dropout_backward_matches_numerical_gradient(rng, param):
    x = rng.standard_normal((4, 5))
    keep = rng.random((4, 5)) >= 0.5
    param = dict(param, mask=keep) if "mask" in param else param
    out, cache = dropout_forward(x, param)
    dout = rng.standard_normal(out.shape)
    dx = dropout_backward(dout, cache)
    assert_gradient(dx, lambda x_: dropout_forward(x_, param)[0], x, dout)


@pytest.mark.parametrize("p", [0.0, 0.5, 0.99])
def test_dropout_test_mode_is_the_identity_and_ignores_mask(rng, p):
    x = rng.standard_normal((3, 4))
    wrong_shape_mask = np.ones((7, 7), dtype=bool)  # not used in test mode
    out, cache = dropout_forward(x, {"p": p, "mode": "test", "mask": wrong_shape_mask})
    np.testing.assert_array_equal(out, x)
    dout = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


# ------------------------------------------------------------------------- batch norm


def bn_formula(x, gamma, beta, mean, var, eps):
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


@pytest.mark.parametrize("shape", [(8, 3), (50, 4), (2, 5)], ids=str)
def test_batchnorm_train_output_has_column_mean_beta_and_std_gamma(rng, shape):
    x = 3.0 + 2.0 * rng.standard_normal(shape)
    gamma = 1.0 + rng.random(shape[1])
    beta = rng.standard_normal(shape[1])
    eps = 1e-5
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    batch_var = ((x - x.mean(axis=0)) ** 2).mean(axis=0)  # biased
    np.testing.assert_allclose(out.mean(axis=0), beta, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), gamma * np.sqrt(batch_var / (batch_var + eps)),
                               rtol=1e-12)
    np.testing.assert_allclose(out, bn_formula(x, gamma, beta, x.mean(axis=0), batch_var, eps),
                               rtol=1e-12, atol=1e-12)


def test_batchnorm_train_with_unit_gamma_gives_mean_0_var_1(rng):
    x = 5.0 + 3.0 * rng.standard_normal((40, 6))
    out, _ = batchnorm_forward(x, np.ones(6), np.zeros(6), {})
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1.0, rtol=0, atol=1e-5)


@pytest.mark.parametrize("unbiased", [False, True])
def test_batchnorm_running_statistics_formula(rng, unbiased):
    n, d = 6, 4
    x = rng.standard_normal((n, d))
    running_mean = rng.standard_normal(d)
    running_var = rng.random(d) + 0.5
    rm_before, rv_before = running_mean.copy(), running_var.copy()
    bn_param = {"mode": "train", "momentum": 0.8, "running_mean": running_mean,
                "running_var": running_var, "running_var_unbiased": unbiased}
    batchnorm_forward(x, np.ones(d), np.zeros(d), bn_param)
    batch_mean = x.sum(axis=0) / n
    squares = ((x - batch_mean) ** 2).sum(axis=0)
    batch_var = squares / (n - 1) if unbiased else squares / n
    np.testing.assert_allclose(bn_param["running_mean"], 0.8 * rm_before + 0.2 * batch_mean,
                               rtol=1e-13)
    np.testing.assert_allclose(bn_param["running_var"], 0.8 * rv_before + 0.2 * batch_var,
                               rtol=1e-13)
    # new arrays were stored; the user's arrays are untouched
    assert bn_param["running_mean"] is not running_mean
    assert bn_param["running_var"] is not running_var
    np.testing.assert_array_equal(running_mean, rm_before)
    np.testing.assert_array_equal(running_var, rv_before)


def test_batchnorm_defaults_start_running_stats_at_zeros_and_ones(rng):
    x = rng.standard_normal((5, 3))
    bn_param: dict = {}
    out, _ = batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    mean, var = x.mean(axis=0), ((x - x.mean(axis=0)) ** 2).mean(axis=0)
    # missing mode is 'train', momentum 0.9, eps 1e-5
    np.testing.assert_allclose(out, bn_formula(x, 1.0, 0.0, mean, var, 1e-5), rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * mean, rtol=1e-13)
    np.testing.assert_allclose(bn_param["running_var"], 0.9 + 0.1 * var, rtol=1e-13)
    assert set(bn_param) == {"running_mean", "running_var"}  # hyper-parameters not written


def test_batchnorm_test_mode_uses_running_statistics_and_leaves_bn_param(rng):
    x = rng.standard_normal((4, 3))
    gamma, beta = rng.random(3) + 0.5, rng.standard_normal(3)
    rm, rv = rng.standard_normal(3), rng.random(3) + 0.1
    bn_param = {"mode": "test", "eps": 1e-3, "running_mean": rm, "running_var": rv}
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out, gamma * (x - rm) / np.sqrt(rv + 1e-3) + beta, rtol=1e-13)
    assert bn_param["running_mean"] is rm and bn_param["running_var"] is rv
    assert set(bn_param) == {"mode", "eps", "running_mean", "running_var"}


@pytest.mark.parametrize("shape", [(1, 3), (2, 4), (6, 5)], ids=str)
@pytest.mark.parametrize("mode", ["train", "test"])
def test_batchnorm_backward_matches_numerical_gradient(rng, mode, shape):
    n, d = shape
    # rows spread apart, so no column has a batch variance near eps (where the numerical
    # gradient itself loses accuracy)
    x = rng.standard_normal(shape) + 2.0 * np.arange(n)[:, None]
    gamma = rng.standard_normal(d)
    beta = rng.standard_normal(d)
    rm, rv = rng.standard_normal(d), rng.random(d) + 0.2

    def fwd(x_, g_, b_):
        return batchnorm_forward(x_, g_, b_, {"mode": mode, "running_mean": rm,
                                              "running_var": rv})[0]

    out, cache = batchnorm_forward(x, gamma, beta, {"mode": mode, "running_mean": rm,
                                                    "running_var": rv})
    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    assert_gradient(dx, lambda x_: fwd(x_, gamma, beta), x, dout)
    assert_gradient(dgamma, lambda g_: fwd(x, g_, beta), gamma, dout)
    assert_gradient(dbeta, lambda b_: fwd(x, gamma, b_), beta, dout)


def test_batchnorm_test_mode_dx_is_dout_gamma_over_sqrt_running_var(rng):
    x = rng.standard_normal((3, 2))
    gamma, rv = np.array([2.0, -0.5]), np.array([0.25, 4.0])
    bn_param = {"mode": "test", "running_mean": np.zeros(2), "running_var": rv, "eps": 1e-5}
    _, cache = batchnorm_forward(x, gamma, np.zeros(2), bn_param)
    dout = rng.standard_normal((3, 2))
    dx, _, _ = batchnorm_backward(dout, cache)
    np.testing.assert_allclose(dx, dout * gamma / np.sqrt(rv + 1e-5), rtol=1e-14)


@pytest.mark.parametrize("n", [1, 4, 10])
def test_batchnorm_with_constant_columns_is_finite_and_gradient_checked(rng, n):
    x = rng.standard_normal((n, 4))
    x[:, 1] = 3.0
    x[:, 3] = 0.0
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    out, cache = batchnorm_forward(x, gamma, beta, {})
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[:, [1, 3]], np.broadcast_to(beta[[1, 3]], (n, 2)),
                               rtol=0, atol=1e-15)
    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    assert np.all(np.isfinite(dx))
    # constant column: dx = gamma / sqrt(eps) * (dout - mean(dout)), written out
    for j in (1, 3):
        np.testing.assert_allclose(
            dx[:, j], gamma[j] / np.sqrt(1e-5) * (dout[:, j] - dout[:, j].mean()),
            rtol=1e-12, atol=1e-12)
    assert_gradient(dx, lambda x_: batchnorm_forward(x_, gamma, beta, {})[0], x, dout,
                    rtol=1e-5, h=1e-6)


# ------------------------------------------------------------------------- composites


@pytest.mark.parametrize(("x_shape", "m"), [((1, 4), 3), ((5, 6), 4), ((3, 2, 2, 2), 5)])
def test_affine_relu_forward_and_backward(rng, x_shape, m):
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((int(np.prod(x_shape[1:])), m))
    b = rng.standard_normal(m)
    out, cache = affine_relu_forward(x, w, b)
    np.testing.assert_allclose(out, np.maximum(x.reshape(x_shape[0], -1) @ w + b, 0),
                               rtol=1e-13, atol=1e-15)
    dout = rng.standard_normal(out.shape)
    grads = affine_relu_backward(dout, cache)
    assert len(grads) == 3
    dx, dw, db = grads
    assert_gradient(dx, lambda x_: affine_relu_forward(x_, w, b)[0], x, dout)
    assert_gradient(dw, lambda w_: affine_relu_forward(x, w_, b)[0], w, dout)
    assert_gradient(db, lambda b_: affine_relu_forward(x, w, b_)[0], b, dout)


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize(("x_shape", "m"), [((1, 3), 2), ((6, 4), 5), ((4, 2, 3), 3)])
def test_affine_batchnorm_relu_forward_and_backward(rng, x_shape, m, mode):
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((int(np.prod(x_shape[1:])), m))
    b = rng.standard_normal(m)
    gamma, beta = rng.random(m) + 0.5, 0.3 * rng.standard_normal(m)
    rm, rv = rng.standard_normal(m), rng.random(m) + 0.5

    def fwd(x_, w_, b_, g_, be_):
        return affine_batchnorm_relu_forward(
            x_, w_, b_, g_, be_, {"mode": mode, "running_mean": rm, "running_var": rv})[0]

    bn_param = {"mode": mode, "running_mean": rm, "running_var": rv}
    out, cache = affine_batchnorm_relu_forward(x, w, b, gamma, beta, bn_param)
    a = x.reshape(x_shape[0], -1) @ w + b
    if mode == "train":
        mean, var = a.mean(axis=0), ((a - a.mean(axis=0)) ** 2).mean(axis=0)
        np.testing.assert_allclose(bn_param["running_mean"], 0.9 * rm + 0.1 * mean, rtol=1e-13)
    else:
        mean, var = rm, rv
    np.testing.assert_allclose(out, np.maximum(bn_formula(a, gamma, beta, mean, var, 1e-5), 0),
                               rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    grads = affine_batchnorm_relu_backward(dout, cache)
    assert len(grads) == 5
    dx, dw, db, dgamma, dbeta = grads
    assert_gradient(dx, lambda x_: fwd(x_, w, b, gamma, beta), x, dout)
    assert_gradient(dw, lambda w_: fwd(x, w_, b, gamma, beta), w, dout)
    assert_gradient(dgamma, lambda g_: fwd(x, w, b, g_, beta), gamma, dout)
    assert_gradient(dbeta, lambda be_: fwd(x, w, b, gamma, be_), beta, dout)
    if mode == "test":
        assert_gradient(db, lambda b_: fwd(x, w, b_, gamma, beta), b, dout)
    else:  # the batch mean removes b: its gradient is analytically 0
        np.testing.assert_allclose(db, 0.0, atol=1e-12)


# ------------------------------------------------------------------ contract return values


def test_contract_dropout_returns_a_bool_mask_and_normalised_settings():
    x = np.zeros((2, 3), dtype=np.float32)
    mask = np.array([[1, 0, 1], [0, 0, 1]])
    settings = contract.dropout_forward(x, {"p": 1 / 4, "mask": mask, "seed": np.int64(5)})
    p, mode, keep, seed = settings
    assert (p, mode, seed) == (0.25, "train", 5)
    assert type(p) is float and type(seed) is int
    assert keep.dtype == np.bool_
    np.testing.assert_array_equal(keep, mask == 1)
    assert contract.dropout_forward(x, {"p": 0.5}) == (0.5, "train", None, None)
    assert contract.dropout_forward(x, {"p": 0.5, "mode": "test", "mask": mask}).mask is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_contract_batchnorm_fills_defaults_in_x_dtype(dtype):
    x = np.zeros((4, 3), dtype=dtype)
    s = contract.batchnorm_forward(x, np.ones(3, dtype), np.zeros(3, dtype), {})
    assert (s.mode, s.eps, s.momentum, s.running_var_unbiased) == ("train", 1e-5, 0.9, False)
    assert s.running_mean.dtype == dtype and s.running_var.dtype == dtype
    np.testing.assert_array_equal(s.running_mean, np.zeros(3))
    np.testing.assert_array_equal(s.running_var, np.ones(3))


def test_contract_batchnorm_keeps_given_values():
    x = np.zeros((4, 2))
    rm, rv = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    s = contract.batchnorm_forward(
        x, np.ones(2), np.zeros(2),
        {"mode": "test", "eps": 1e-3, "momentum": 0.5, "running_mean": rm, "running_var": rv,
         "running_var_unbiased": True})
    assert (s.mode, s.eps, s.momentum, s.running_var_unbiased) == ("test", 1e-3, 0.5, True)
    assert s.running_mean is rm and s.running_var is rv


def test_contract_affine_and_leaky_relu_return_their_arguments():
    x, w, b = np.zeros((2, 3, 2)), np.zeros((6, 4)), np.zeros(4)
    assert all(a is e for a, e in zip(contract.affine_forward(x, w, b), (x, w, b), strict=True))
    x_out, alpha = contract.leaky_relu_forward(x, np.float32(0.5))
    assert x_out is x and alpha == 0.5 and type(alpha) is float


# ----------------------------------------------------------------------------- bad input


def _z(*shape):
    return np.zeros(shape)


BN_OK = (_z(4, 3), np.ones(3), _z(3))

BAD_INPUTS = {
    # affine
    "affine x 1-D": (lambda: affine_forward(_z(5), _z(5, 2), _z(2)),
                     ValueError, r"affine_forward: x must have at least 2"),
    "affine w wrong D": (lambda: affine_forward(_z(2, 3, 4), _z(10, 2), _z(2)),
                         ValueError, r"affine_forward: w must have shape \(D, M\) with D = 12"),
    "affine w 1-D": (lambda: affine_forward(_z(2, 3), _z(3), _z(2)),
                     ValueError, r"affine_forward: w must be 2-D"),
    "affine b wrong shape": (lambda: affine_forward(_z(2, 3), _z(3, 4), _z(3)),
                             ValueError, r"affine_forward: b must have shape \(4,\)"),
    "affine integer x": (lambda: affine_forward(np.zeros((2, 3), int), _z(3, 4), _z(4)),
                         TypeError, r"affine_forward: x must have a floating dtype"),
    "affine list w": (lambda: affine_forward(_z(2, 3), [[0.0] * 4] * 3, _z(4)),
                      TypeError, r"affine_forward: w must be a numpy.ndarray"),
    "affine_relu w wrong D": (lambda: affine_relu_forward(_z(2, 3), _z(4, 4), _z(4)),
                              ValueError, r"affine_relu_forward: w must have shape"),
    # activations
    "relu list": (lambda: relu_forward([1.0, -1.0]), TypeError, r"relu_forward: x must be"),
    "relu integer": (lambda: relu_forward(np.arange(3)), TypeError, r"relu_forward: x must"),
    "relu 0-d": (lambda: relu_forward(np.array(1.0)), ValueError, r"relu_forward: x must have"),
    "sigmoid integer": (lambda: sigmoid_forward(np.arange(3)), TypeError, r"sigmoid_forward: x"),
    "tanh list": (lambda: tanh_forward([0.5]), TypeError, r"tanh_forward: x"),
    "leaky alpha NaN": (lambda: leaky_relu_forward(_z(2, 2), float("nan")),
                        ValueError, r"leaky_relu_forward: alpha must be finite"),
    "leaky alpha inf": (lambda: leaky_relu_forward(_z(2, 2), float("inf")),
                        ValueError, r"leaky_relu_forward: alpha must be finite"),
    "leaky alpha str": (lambda: leaky_relu_forward(_z(2, 2), "0.1"),
                        TypeError, r"leaky_relu_forward: alpha must be a real number"),
    "softmax 0-d": (lambda: softmax_forward(np.array(1.0)), ValueError, r"softmax_forward: x"),
    "softmax no classes": (lambda: softmax_forward(_z(3, 0)),
                           ValueError, r"softmax_forward: x must have at least one entry"),
    "log_softmax integer": (lambda: log_softmax_forward(np.ones((2, 3), int)),
                            TypeError, r"log_softmax_forward: x must have a floating dtype"),
    # dropout
    "dropout p = 1": (lambda: dropout_forward(_z(2, 3), {"p": 1.0}),
                      ValueError, r"dropout_forward: dropout_param\['p'\] must be in \[0.0, 1.0\)"),
    "dropout p < 0": (lambda: dropout_forward(_z(2, 3), {"p": -0.1}),
                      ValueError, r"dropout_forward: dropout_param\['p'\] must be in"),
    "dropout p NaN": (lambda: dropout_forward(_z(2, 3), {"p": float("nan")}),
                      ValueError, r"dropout_forward: dropout_param\['p'\] must be finite"),
    "dropout p str": (lambda: dropout_forward(_z(2, 3), {"p": "0.5"}),
                      TypeError, r"dropout_forward: dropout_param\['p'\] must be a real"),
    "dropout p missing": (lambda: dropout_forward(_z(2, 3), {"mode": "train"}),
                          ValueError, r"dropout_forward: dropout_param must have the key 'p'"),
    "dropout p NaN in test mode": (lambda: dropout_forward(_z(2, 3), {"p": np.nan,
                                                                      "mode": "test"}),
                                   ValueError, r"dropout_forward: dropout_param\['p'\]"),
    "dropout unknown mode": (lambda: dropout_forward(_z(2, 3), {"p": 0.5, "mode": "eval"}),
                             ValueError, r"dropout_forward: dropout_param\['mode'\] must be"),
    "dropout mask wrong shape": (
        lambda: dropout_forward(_z(2, 3), {"p": 0.5, "mask": np.ones((3, 2), bool)}),
        ValueError, r"dropout_forward: dropout_param\['mask'\] must have shape \(2, 3\)"),
    "dropout mask not 0/1": (
        lambda: dropout_forward(_z(2, 3), {"p": 0.5, "mask": np.full((2, 3), 2.0)}),
        ValueError, r"dropout_forward: dropout_param\['mask'\] must hold only 0 and 1"),
    "dropout mask scaled": (
        lambda: dropout_forward(_z(1, 2), {"p": 0.5, "mask": np.array([[2.0, 0.0]])}),
        ValueError, r"dropout_forward: dropout_param\['mask'\] must hold only 0 and 1"),
    "dropout mask list": (
        lambda: dropout_forward(_z(1, 2), {"p": 0.5, "mask": [[1, 0]]}),
        TypeError, r"dropout_forward: dropout_param\['mask'\] must be a numpy.ndarray"),
    "dropout mask str dtype": (
        lambda: dropout_forward(_z(1, 2), {"p": 0.5, "mask": np.array([["1", "0"]])}),
        TypeError, r"dropout_forward: dropout_param\['mask'\] must have a bool"),
    "dropout seed negative": (lambda: dropout_forward(_z(2, 3), {"p": 0.5, "seed": -1}),
                              ValueError, r"dropout_forward: dropout_param\['seed'\] must be"),
    "dropout seed float": (lambda: dropout_forward(_z(2, 3), {"p": 0.5, "seed": 1.5}),
                           TypeError, r"dropout_forward: dropout_param\['seed'\] must be an"),
    "dropout param not a dict": (lambda: dropout_forward(_z(2, 3), 0.5),
                                 TypeError, r"dropout_forward: dropout_param must be a dict"),
    "dropout integer x": (lambda: dropout_forward(np.ones((2, 3), int), {"p": 0.5}),
                          TypeError, r"dropout_forward: x must have a floating dtype"),
    # batch norm
    "bn x 3-D": (lambda: batchnorm_forward(_z(2, 3, 4), np.ones(3), _z(3), {}),
                 ValueError, r"batchnorm_forward: x must be 2-D"),
    "bn integer x": (lambda: batchnorm_forward(np.ones((2, 3), int), np.ones(3), _z(3), {}),
                     TypeError, r"batchnorm_forward: x must have a floating dtype"),
    "bn gamma wrong shape": (lambda: batchnorm_forward(_z(4, 3), np.ones(4), _z(3), {}),
                             ValueError, r"batchnorm_forward: gamma must have shape \(3,\)"),
    "bn beta 2-D": (lambda: batchnorm_forward(_z(4, 3), np.ones(3), _z(1, 3), {}),
                    ValueError, r"batchnorm_forward: beta must be 1-D"),
    "bn unknown mode": (lambda: batchnorm_forward(*BN_OK, {"mode": "eval"}),
                        ValueError, r"batchnorm_forward: bn_param\['mode'\] must be one of"),
    "bn eps 0": (lambda: batchnorm_forward(*BN_OK, {"eps": 0.0}),
                 ValueError, r"batchnorm_forward: bn_param\['eps'\] must be in \(0.0"),
    "bn eps NaN": (lambda: batchnorm_forward(*BN_OK, {"eps": float("nan")}),
                   ValueError, r"batchnorm_forward: bn_param\['eps'\] must be finite"),
    "bn momentum above 1": (lambda: batchnorm_forward(*BN_OK, {"momentum": 1.5}),
                            ValueError, r"batchnorm_forward: bn_param\['momentum'\] must be in"),
    "bn running_mean wrong shape": (
        lambda: batchnorm_forward(*BN_OK, {"running_mean": _z(4)}),
        ValueError, r"batchnorm_forward: bn_param\['running_mean'\] must have shape \(3,\)"),
    "bn running_var negative": (
        lambda: batchnorm_forward(*BN_OK, {"running_var": np.array([1.0, -1.0, 1.0])}),
        ValueError, r"batchnorm_forward: bn_param\['running_var'\] must be non-negative"),
    "bn running_var integer": (
        lambda: batchnorm_forward(*BN_OK, {"running_var": np.ones(3, int)}),
        TypeError, r"batchnorm_forward: bn_param\['running_var'\] must have a floating"),
    "bn unbiased not bool": (
        lambda: batchnorm_forward(*BN_OK, {"running_var_unbiased": "yes"}),
        TypeError, r"batchnorm_forward: bn_param\['running_var_unbiased'\] must be True"),
    "bn unbiased with N = 1": (
        lambda: batchnorm_forward(_z(1, 3), np.ones(3), _z(3), {"running_var_unbiased": True}),
        ValueError, r"batchnorm_forward: bn_param\['running_var_unbiased'\]=True needs N >= 2"),
    "bn train with N = 0": (lambda: batchnorm_forward(_z(0, 3), np.ones(3), _z(3), {}),
                            ValueError, r"batchnorm_forward: train mode needs at least one"),
    "bn param not a dict": (lambda: batchnorm_forward(*BN_OK, None),
                            TypeError, r"batchnorm_forward: bn_param must be a dict"),
    "affine_bn_relu gamma wrong M": (
        lambda: affine_batchnorm_relu_forward(_z(2, 3), _z(3, 5), _z(5), np.ones(4), _z(5), {}),
        ValueError, r"affine_batchnorm_relu_forward: gamma must have shape \(5,\) with M = 5"),
    "affine_bn_relu x 1-D": (
        lambda: affine_batchnorm_relu_forward(_z(3), _z(3, 5), _z(5), np.ones(5), _z(5), {}),
        ValueError, r"affine_batchnorm_relu_forward: x must have at least 2"),
    "affine_bn_relu unknown mode": (
        lambda: affine_batchnorm_relu_forward(_z(2, 3), _z(3, 5), _z(5), np.ones(5), _z(5),
                                              {"mode": "inference"}),
        ValueError, r"affine_batchnorm_relu_forward: bn_param\['mode'\]"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_raises_an_error_naming_the_function_and_argument(case):
    call, error, match = BAD_INPUTS[case]
    with pytest.raises(error, match=match):
        call()


# (forward call, backward, backward's name): dout of a wrong shape or dtype is refused
FORWARD_BACKWARD = {
    "affine": (lambda: affine_forward(_z(2, 3), _z(3, 4), _z(4)), affine_backward),
    "relu": (lambda: relu_forward(_z(2, 3)), relu_backward),
    "leaky_relu": (lambda: leaky_relu_forward(_z(2, 3)), leaky_relu_backward),
    "sigmoid": (lambda: sigmoid_forward(_z(2, 3)), sigmoid_backward),
    "tanh": (lambda: tanh_forward(_z(2, 3)), tanh_backward),
    "softmax": (lambda: softmax_forward(_z(2, 3)), softmax_backward),
    "log_softmax": (lambda: log_softmax_forward(_z(2, 3)), log_softmax_backward),
    "dropout_train": (lambda: dropout_forward(_z(2, 3), {"p": 0.5, "seed": 0}),
                      dropout_backward),
    "dropout_test": (lambda: dropout_forward(_z(2, 3), {"p": 0.5, "mode": "test"}),
                     dropout_backward),
    "batchnorm_train": (lambda: batchnorm_forward(_z(2, 3), np.ones(3), _z(3), {}),
                        batchnorm_backward),
    "batchnorm_test": (lambda: batchnorm_forward(_z(2, 3), np.ones(3), _z(3), {"mode": "test"}),
                       batchnorm_backward),
    "affine_relu": (lambda: affine_relu_forward(_z(2, 3), _z(3, 4), _z(4)),
                    affine_relu_backward),
    "affine_batchnorm_relu": (
        lambda: affine_batchnorm_relu_forward(_z(2, 3), _z(3, 4), _z(4), np.ones(4), _z(4), {}),
        affine_batchnorm_relu_backward),
}


@pytest.mark.parametrize("layer", FORWARD_BACKWARD)
def test_backward_refuses_dout_of_the_wrong_shape_or_dtype(layer):
    forward, backward = FORWARD_BACKWARD[layer]
    out, cache = forward()
    name = backward.__name__
    with pytest.raises(ValueError, match=rf"{name}: dout must have shape \(2, [34]\)"):
        backward(np.zeros((out.shape[0] + 1, out.shape[1])), cache)
    with pytest.raises(TypeError, match=rf"{name}: dout must have a floating dtype"):
        backward(np.zeros(out.shape, dtype=int), cache)
    with pytest.raises(TypeError, match=rf"{name}: dout must be a numpy.ndarray"):
        backward(out.tolist(), cache)
