"""The worked examples of the source documents (SPEC.md §2 "Worked examples"), one test each.

Each test computes the example with the reference and compares with the document's number.
Two kinds of number:

- PRINTED numbers are rounded (0.3543, "%.2f" outputs, NumPy's 8-decimal print): the
  result must round to them, i.e. lie within half a unit of the last printed digit
  (``assert_rounds_to``);
- EXACT numbers, derived by hand in the document (1.5 bits, 5.5, 176, 8): the result must
  equal them up to floating-point round-off.

Where each number is: 000_2fa3ea79f48607a4.txt (000) and 003_acdea5ffa2933ff8.txt (003),
line numbers in the test docstrings.
"""

from __future__ import annotations

import math

import numpy as np

from dlparity.reference import (
    affine_forward,
    covariance,
    entropy,
    eval_numerical_gradient,
    sgd,
    sigmoid_forward,
    softmax_forward,
    svm_loss,
)
from dlparity.reference.presets import build_model, dating_data


def assert_rounds_to(actual, printed: str | list[str]) -> None:
    """``actual`` rounds to the printed decimal(s): |actual - printed| <= 0.5 ulp of print."""
    printed = [printed] if isinstance(printed, str) else printed
    actual = np.atleast_1d(np.asarray(actual, dtype=np.float64))
    assert actual.shape == (len(printed),), (actual.shape, printed)
    for a, p in zip(actual, printed, strict=True):
        decimals = len(p.split(".")[1]) if "." in p else 0
        half_unit = 0.5 * 10.0**-decimals
        assert np.isfinite(a)
        assert abs(a - float(p)) <= half_unit * (1 + 1e-9), f"{a!r} does not round to {p}"


def sigmoid(z: np.ndarray) -> np.ndarray:
    return sigmoid_forward(np.asarray(z, dtype=np.float64))[0]


def dense_sigmoid(x: np.ndarray, w: list, b: list) -> np.ndarray:
    """One layer of sigmoid nodes: sigmoid(x @ w + b) with the document's weights."""
    z, _ = affine_forward(x, np.array(w, dtype=np.float64), np.array(b, dtype=np.float64))
    return sigmoid(z)


def test_worked_example_sigmoid_of_wx_plus_b_is_0_3543():
    """000 lines 37-45: W (0.3, 0.2, 0.4, 0.3), b -0.8, pixels (0.1, 0.3, 0.2, 0.1):
    z = -0.6 and f(z) = 0.3543 (003 line 17 prints 0.35)."""
    x = np.array([[0.1, 0.3, 0.2, 0.1]])  # (1, 4)
    z, _ = affine_forward(x, np.array([[0.3], [0.2], [0.4], [0.3]]), np.array([-0.8]))
    assert_rounds_to(z[0], "-0.6")
    out = sigmoid(z)[0]
    assert_rounds_to(out, "0.3543")
    assert_rounds_to(out, "0.35")


def test_worked_example_xor_network_20_20_m10_m20_m20_30_20_20_m30_gives_0_1_1_0():
    """003 lines 21-62: hidden nodes (w11, w21, b1) = (20, 20, -10) and
    (w12, w22, b2) = (-20, -20, 30), output (20, 20, -30); printed with "%.2f"."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # (4, 2)
    hidden = dense_sigmoid(X, [[20, -20], [20, -20]], [-10, 30])  # (4, 2)
    out = dense_sigmoid(hidden, [[20], [20]], [-30])[:, 0]  # (4,)
    assert_rounds_to(out, ["0.00", "1.00", "1.00", "0.00"])


def test_worked_example_delta_function_network_is_a_rectangle_on_0_4_to_0_5():
    """003 lines 65-88 (000 lines 108-144): h11 = sigmoid(1000 x - 400),
    h12 = sigmoid(1000 x - 500), out = sigmoid(0.8 h11 - 0.8 h12), x = arange(0, 3, 0.001).

    The document only plots it. Its output is 1/2 outside the window and
    sigmoid(0.8) = 0.6900 inside: a rectangle on a baseline, which the plot's autoscaled
    axis shows as a delta. Rescaled to (out - 1/2) / (sigmoid(0.8) - 1/2), it is near 1
    inside the window and near 0 outside (SPEC.md §4)."""
    x = np.arange(0, 3, 0.001)[:, None]  # (3000, 1)
    hidden = dense_sigmoid(x, [[1000, 1000]], [-400, -500])  # (3000, 2)
    out = dense_sigmoid(hidden, [[0.8], [-0.8]], [0.0])[:, 0]  # (3000,)
    x = x[:, 0]
    inside = (x > 0.41) & (x < 0.49)  # 10 / 1000 away from each edge: sigmoid(+-10)
    outside = (x < 0.39) | (x > 0.51)
    height = 1 / (1 + math.exp(-0.8)) - 0.5
    rect = (out - 0.5) / height
    assert np.all(rect[inside] > 0.999)
    assert np.all(np.abs(rect[outside]) < 0.001)
    assert np.all((rect >= -1e-12) & (rect <= 1 + 1e-12))
    assert_rounds_to(out[inside].min(), "0.6900")
    assert_rounds_to(out[outside].max(), "0.5000")


def test_worked_example_numerical_derivative_of_x_squared_at_4_is_8():
    """003 lines 150-154 (000 lines 264-269): (f(x + h) - f(x - h)) / 2h with h = 0.00001.
    Central differences are exact for a quadratic; only round-off remains,
    about 1e-16 * 16 / 2e-5 ~ 1e-10."""
    x = np.array([4.0])
    grad = eval_numerical_gradient(lambda v: float(v[0] ** 2), x, h=0.00001)
    np.testing.assert_allclose(grad, [8.0], rtol=0, atol=1e-8)
    np.testing.assert_array_equal(x, [4.0])  # x restored


def test_worked_example_softmax_of_3_2_0_8_0_is_0_8838_0_0802_0_0360():
    """000 lines 1371-1390: scores (3.2, 0.8, 0) give (0.88, 0.08, 0.04); the code comment
    prints [ 0.88379809  0.08017635  0.03602556]."""
    p, _ = softmax_forward(np.array([3.2, 0.8, 0.0]))
    assert_rounds_to(p, ["0.88379809", "0.08017635", "0.03602556"])
    assert_rounds_to(p, ["0.8838", "0.0802", "0.0360"])  # SPEC.md's four decimals
    assert_rounds_to(p, ["0.88", "0.08", "0.04"])


def test_worked_example_hinge_loss_of_8_14_9_5_10_with_the_last_label_is_5_5():
    """000 lines 1578-1585: J = max(0, 8 - 10 + 1) + max(0, 14 - 10 + 1)
    + max(0, 9.5 - 10 + 1) = 0 + 5 + 0.5 = 5.5 (one sample: the mean over N is the sum)."""
    loss, _ = svm_loss(np.array([[8.0, 14.0, 9.5, 10.0]]), np.array([3]))
    np.testing.assert_allclose(loss, 5.5, rtol=1e-15)


def test_worked_example_entropy_of_abcc_is_1_5_bits():
    """000 lines 1434-1444: "a" and "b" 25 %, "c" 50 % of "abcc": 1.5 bits per character."""
    _, counts = np.unique(list("abcc"), return_counts=True)
    p = counts / counts.sum()  # (0.25, 0.25, 0.5)
    np.testing.assert_allclose(entropy(p), 1.5, rtol=1e-15)


def test_worked_example_entropy_of_a_fair_coin_is_1_bit_and_of_a_certain_outcome_0():
    """000 lines 1450-1451."""
    np.testing.assert_allclose(entropy(np.array([0.5, 0.5])), 1.0, rtol=1e-15)
    assert entropy(np.array([1.0])) == 0.0


def test_worked_example_covariance_of_samples_10_20_and_32_52_is_176():
    """000 lines 1754-1760: mu = (21, 36); the first element of the second row is
    ((20 - 36)(10 - 21) + (52 - 36)(32 - 21)) / 2 = 176."""
    cov = covariance(np.array([[10.0, 20.0], [32.0, 52.0]]))
    np.testing.assert_allclose(cov[1, 0], 176.0, rtol=1e-15)
    np.testing.assert_allclose(cov[0, 1], 176.0, rtol=1e-15)


def perceptron_trick(X, y, alpha, max_updates):
    """001 lines 98-115: for a misclassified point (x_p, x_q), move the line toward it:
    prediction 1 (label 0): w -= alpha * x, b -= alpha; prediction 0 (label 1):
    w += alpha * x, b += alpha. Prediction: 1 where w . x + b >= 0. Returns (w, b, updates)."""
    w, b = np.zeros(X.shape[1]), 0.0
    for updates in range(max_updates + 1):
        pred = (X @ w + b >= 0).astype(int)  # (N,)
        wrong = np.flatnonzero(pred != y)
        if wrong.size == 0:
            return w, b, updates
        i = wrong[0]
        sign = -1.0 if pred[i] == 1 else 1.0
        w, b = w + sign * alpha * X[i], b + sign * alpha
    raise AssertionError(f"no separation after {max_updates} updates")


def test_worked_example_perceptron_trick_separates_a_separable_set_in_finitely_many_updates(rng):
    """001 lines 98-115. Novikoff's theorem bounds the number of updates by (R / gamma)^2
    (R the largest |(x, 1)|, gamma the margin of a separating unit vector (w*, b*)),
    whatever alpha: the loop must stop within that bound with every point classified."""
    X = rng.uniform(-1, 1, size=(200, 2))  # (N, 2)
    w_star, b_star = np.array([1.0, -2.0]), 0.3
    score = X @ w_star + b_star  # (N,)
    keep = np.abs(score) > 0.2  # a margin, so that the bound is small
    X, y = X[keep], (score[keep] > 0).astype(int)
    norm = math.hypot(*w_star, b_star)
    gamma = np.min(np.abs(score[keep])) / norm
    R = np.max(np.sqrt(np.sum(X**2, axis=1) + 1))
    bound = math.floor((R / gamma) ** 2)
    for alpha in (0.1, 1.0):
        w, b, updates = perceptron_trick(X, y, alpha, max_updates=bound)
        assert 0 < updates <= bound
        np.testing.assert_array_equal((X @ w + b >= 0).astype(int), y)


def test_worked_example_linear_regression_on_dating_recovers_w_0_8_0_3_and_b_2(rng):
    """003 lines 248-317, 381-412: rescaled income, MSE, plain full-batch SGD from
    W = (0.1, 0.1), b = 0; the document prints W = (0.8009, 0.2994), b = 1.98 after 90K
    iterations at learning rate 1e-4 (and the oracle is 0.8, 0.3, 2).

    Test-sized run: learning rate 2e-3 for 10K iterations (~1 s) travels lr * t = 20 versus
    the document's 9. It is stable: the Hessian 2 E[(x, 1)(x, 1)^T] of this data has its
    largest eigenvalue near 475 < 2 / 2e-3; its smallest, near 0.3, leaves exp(-6) ~ 0.25 %
    of the initial error.

    Tolerances: with N = 100 and 1 % noise (sd ~0.13 dates), the least-squares estimate
    itself has standard errors ~0.002 (W1), ~0.005 (W2), ~0.035 (b) around the oracle, so
    the oracle is checked within ~5 of them: 0.01, 0.02, 0.15 (the document's own result is
    inside these too). Convergence is checked separately and tightly against the
    least-squares solution of the same samples."""
    X, y = dating_data(100, rng, noise=0.01)
    model = build_model("dating_linear")
    np.testing.assert_array_equal(model.params["W1"], [[0.1], [0.1]])
    configs = {k: {"learning_rate": 2e-3} for k in model.params}
    for _ in range(10_000):
        _, grads = model.loss(X, y)
        for k in model.params:
            model.params[k], configs[k] = sgd(model.params[k], grads[k], configs[k])
    W, b = model.params["W1"][:, 0], model.params["b1"][0]

    # (the document's W = (0.8009, 0.2994), b = 1.98 lie within these bounds too)
    assert abs(W[0] - 0.8) < 0.01
    assert abs(W[1] - 0.3) < 0.02
    assert abs(b - 2.0) < 0.15

    A = np.column_stack([X, np.ones(len(X))])  # (N, 3)
    (w1, w2, b_ls), *_ = np.linalg.lstsq(A, y, rcond=None)
    np.testing.assert_allclose([W[0], W[1]], [w1, w2], atol=2e-3)
    np.testing.assert_allclose(b, b_ls, atol=0.02)
