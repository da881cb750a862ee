"""The gradient-checking helpers of the NumPy reference (SPEC.md §2, §4).

The worked example d(x^2)/dx at 4 = 8 lives with the models' worked examples; here: x is
restored bit for bit, known analytic gradients are recovered with random upstream
gradients, the differences are central, and the two distances follow their formulas.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlparity.reference import gradcheck

SHAPES = [(1,), (1, 1), (1, 4), (3,), (2, 3), (2, 3, 4)]


# ---------------------------------------------------------------------- x is restored
def test_x_is_restored_bit_for_bit_after_eval_numerical_gradient(rng):
    # values whose x + h - h is not x in floating point
    x = rng.standard_normal((3, 4)) * 1e3 + 0.1
    before = x.tobytes()
    gradcheck.eval_numerical_gradient(lambda a: float(np.sum(np.sin(a))), x, h=1e-3)
    assert x.tobytes() == before


def test_x_is_restored_bit_for_bit_after_eval_numerical_gradient_array(rng):
    x = rng.standard_normal((2, 5)) * 1e3 + 0.1
    before = x.tobytes()
    gradcheck.eval_numerical_gradient_array(np.tanh, x, rng.standard_normal((2, 5)), h=1e-3)
    assert x.tobytes() == before


@pytest.mark.parametrize("array_valued", [False, True])
def test_x_is_restored_when_f_raises(array_valued, rng):
    x = rng.standard_normal(4) + 0.1
    before = x.tobytes()
    calls = []

    def f(a):
        calls.append(1)
        if len(calls) == 2:  # fail while x holds x - h
            raise RuntimeError("boom")
        return a.copy() if array_valued else float(a.sum())

    with pytest.raises(RuntimeError, match="boom"):
        if array_valued:
            gradcheck.eval_numerical_gradient_array(f, x, rng.standard_normal(4))
        else:
            gradcheck.eval_numerical_gradient(f, x)
    assert x.tobytes() == before


def test_a_closure_over_x_sees_the_perturbation(rng):
    # the CS231n idiom: f ignores its argument and reads the parameter array itself
    x = rng.standard_normal((2, 3))
    c = rng.standard_normal((2, 3))
    grad = gradcheck.eval_numerical_gradient(lambda _: float(np.sum(c * x**2)), x)
    np.testing.assert_allclose(grad, 2 * c * x, rtol=1e-7, atol=1e-9)


# ---------------------------------------------------------------------- known gradients
@pytest.mark.parametrize("shape", SHAPES)
def test_numerical_gradient_of_a_known_scalar_function(shape, rng):
    # f(x) = sum(c * sin(x)) + 0.5 * sum(x**2)  =>  df/dx = c * cos(x) + x
    x = rng.standard_normal(shape)
    c = rng.standard_normal(shape)
    grad = gradcheck.eval_numerical_gradient(
        lambda a: float(np.sum(c * np.sin(a)) + 0.5 * np.sum(a**2)), x
    )
    assert grad.shape == shape
    np.testing.assert_allclose(grad, c * np.cos(x) + x, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("shape", SHAPES)
def test_numerical_vjp_of_a_known_array_function_with_random_upstream(shape, rng):
    # f(x) = x**3 * a (elementwise), so the VJP with df is 3 * x**2 * a * df
    x = rng.standard_normal(shape)
    a = rng.standard_normal(shape)
    df = rng.standard_normal(shape)
    grad = gradcheck.eval_numerical_gradient_array(lambda z: z**3 * a, x, df)
    np.testing.assert_allclose(grad, 3 * x**2 * a * df, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(("n", "d", "m"), [(1, 1, 1), (1, 4, 3), (5, 3, 2)])
def test_numerical_vjp_of_a_matrix_product_is_df_times_w_transposed(n, d, m, rng):
    x, w, df = rng.standard_normal((n, d)), rng.standard_normal((d, m)), rng.standard_normal((n, m))
    grad = gradcheck.eval_numerical_gradient_array(lambda z: z @ w, x, df)
    np.testing.assert_allclose(grad, df @ w.T, rtol=1e-8, atol=1e-10)


def test_differences_are_central_not_forward():
    # d(x^3)/dx at 1: central (f(1+h) - f(1-h)) / 2h = 3 + h^2, forward would be 3 + 3h + h^2
    grad = gradcheck.eval_numerical_gradient(lambda a: float(a[0] ** 3), np.array([1.0]), h=1e-2)
    np.testing.assert_allclose(grad, [3.0 + 1e-4], rtol=1e-10)


def test_numerical_vjp_rejects_df_not_shaped_like_f_of_x(rng):
    with pytest.raises(ValueError, match=r"eval_numerical_gradient_array: df must have the shape"):
        gradcheck.eval_numerical_gradient_array(
            lambda z: z @ np.ones((3, 2)), np.ones((4, 3)), np.ones((4, 3))
        )


# ---------------------------------------------------------------------- h and x validation
@pytest.mark.parametrize(
    ("h", "error", "pattern"),
    [
        (0.0, ValueError, "h must be in"),
        (-1e-5, ValueError, "h must be in"),
        (math.nan, ValueError, "h must be finite"),
        (math.inf, ValueError, "h must be finite"),
        ("1e-5", TypeError, "h must be a real number"),
    ],
)
@pytest.mark.parametrize("fn", ["eval_numerical_gradient", "eval_numerical_gradient_array"])
def test_bad_step_h_raises(fn, h, error, pattern):
    x = np.ones(3)
    args = (
        (lambda a: float(a.sum()), x)
        if fn == "eval_numerical_gradient"
        else (lambda a: a, x, np.ones(3))
    )
    with pytest.raises(error, match=f"{fn}: {pattern}"):
        getattr(gradcheck, fn)(*args, h=h)


@pytest.mark.parametrize("bad_x", [np.arange(3), [1.0, 2.0]], ids=["int_array", "list"])
def test_numerical_gradient_needs_a_float_array_x(bad_x):
    with pytest.raises(TypeError, match="eval_numerical_gradient: x"):
        gradcheck.eval_numerical_gradient(lambda a: 0.0, bad_x)


# ---------------------------------------------------------------------- rel_error
def test_rel_error_is_the_max_of_abs_difference_over_abs_sum():
    a, b = np.array([1.0, 2.0, -3.0]), np.array([1.1, 2.0, -2.0])
    # entries: 0.1 / 2.1, 0, 1 / 5
    assert gradcheck.rel_error(a, b) == pytest.approx(max(0.1 / 2.1, 0.0, 1.0 / 5.0), rel=1e-14)


def test_rel_error_floors_the_denominator_at_1e_8():
    assert gradcheck.rel_error(np.array([1e-9]), np.array([0.0])) == pytest.approx(0.1, rel=1e-12)
    assert gradcheck.rel_error(np.zeros(3), np.zeros(3)) == 0.0


def test_rel_error_is_symmetric_and_returns_a_float(rng):
    a, b = rng.standard_normal(5), rng.standard_normal(5)
    r = gradcheck.rel_error(a, b)
    assert isinstance(r, float)
    assert r == gradcheck.rel_error(b, a)
    expected = max(abs(x - y) / max(1e-8, abs(x) + abs(y)) for x, y in zip(a, b, strict=True))
    assert r == pytest.approx(expected, rel=1e-14)


def test_rel_error_of_nan_is_nan_never_zero():
    assert math.isnan(gradcheck.rel_error(np.array([np.nan]), np.array([1.0])))


def test_rel_error_shape_mismatch_raises():
    with pytest.raises(ValueError, match="rel_error: b must have the same shape"):
        gradcheck.rel_error(np.ones(3), np.ones(4))


# ---------------------------------------------------------------------- grad_check_distance
def test_grad_check_distance_is_norm_of_difference_over_sum_of_norms(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    expected = math.sqrt(np.sum((a - b) ** 2)) / (math.sqrt(np.sum(a**2)) + math.sqrt(np.sum(b**2)))
    assert gradcheck.grad_check_distance(a, b) == pytest.approx(expected, rel=1e-14)


def test_grad_check_distance_worked_numbers():
    # a = (3, 4), b = (0, 0): |a - b| = 5 over 5 + 0 = 1; a = (3, 4), b = (3, 0): 4 / (5 + 3)
    assert gradcheck.grad_check_distance(np.array([3.0, 4.0]), np.zeros(2)) == 1.0
    assert gradcheck.grad_check_distance(np.array([3.0, 4.0]), np.array([3.0, 0.0])) == 0.5


def test_grad_check_distance_of_two_zero_gradients_is_0():
    d = gradcheck.grad_check_distance(np.zeros((2, 2)), np.zeros((2, 2)))
    assert d == 0.0
    assert isinstance(d, float)


def test_grad_check_distance_of_identical_gradients_is_0(rng):
    a = rng.standard_normal(6)
    assert gradcheck.grad_check_distance(a, a.copy()) == 0.0


def test_grad_check_distance_shape_mismatch_raises():
    with pytest.raises(ValueError, match="grad_check_distance: analytic must have the same shape"):
        gradcheck.grad_check_distance(np.ones((2, 3)), np.ones((3, 2)))
