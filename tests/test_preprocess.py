"""Feature preprocessing of the NumPy reference (SPEC.md §2, §4)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlparity.reference import preprocess


def correlated_data(rng, n, variances=(9.0, 2.25, 0.25), offset=5.0):
    """n samples with well-separated variances along random orthogonal axes, not centred."""
    d = len(variances)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))  # (D, D) rotation
    return rng.standard_normal((n, d)) * np.sqrt(variances) @ q.T + offset  # (n, D)


# ---------------------------------------------------------------------- covariance
def test_covariance_worked_example_samples_10_20_and_32_52_give_176():
    # mu = (21, 36); cov[1, 0] = ((20-36)(10-21) + (52-36)(32-21)) / 2 = (176 + 176) / 2
    cov = preprocess.covariance(np.array([[10.0, 20.0], [32.0, 52.0]]))
    np.testing.assert_allclose(cov, [[121.0, 176.0], [176.0, 256.0]], rtol=1e-15)


@pytest.mark.parametrize("shape", [(1, 1), (1, 4), (2, 3), (50, 6), (7, 20)])
def test_covariance_equals_np_cov_with_1_over_n(shape, rng):
    X = rng.standard_normal(shape) * 3 + 1
    expected = np.cov(X, rowvar=False, bias=True).reshape(shape[1], shape[1])
    np.testing.assert_allclose(preprocess.covariance(X), expected, rtol=1e-12, atol=1e-13)


def test_covariance_keeps_float32_and_leaves_x_unchanged(rng):
    X = rng.standard_normal((20, 3)).astype(np.float32)
    before = X.copy()
    cov = preprocess.covariance(X)
    assert cov.dtype == np.float32
    np.testing.assert_array_equal(X, before)
    np.testing.assert_allclose(
        cov, np.cov(X.astype(np.float64), rowvar=False, bias=True), rtol=1e-5, atol=1e-6
    )


# ---------------------------------------------------------------------- whiten
def test_whitened_data_has_identity_covariance_and_zero_mean_with_eps_0(rng):
    X = correlated_data(rng, 500)
    Xw = preprocess.whiten(X, eps=0.0)
    assert Xw.shape == X.shape
    np.testing.assert_allclose(Xw.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Xw.T @ Xw / len(Xw), np.eye(3), atol=1e-10)


def test_whitened_covariance_is_s_over_s_plus_eps_with_the_default_eps(rng):
    X = correlated_data(rng, 500)
    Xc = X - X.mean(axis=0)
    lam = np.sort(np.linalg.eigvalsh(Xc.T @ Xc / len(X)))[::-1]  # the variances, decreasing
    Xw = preprocess.whiten(X)
    cov_w = Xw.T @ Xw / len(Xw)
    np.testing.assert_allclose(cov_w, np.diag(lam / (lam + 1e-5)), atol=1e-10)
    np.testing.assert_allclose(cov_w, np.eye(3), atol=1e-4)


@pytest.mark.parametrize("eps", [0.0, 1e-5, 0.5])
def test_whiten_columns_are_the_principal_components_up_to_sign(eps, rng):
    # independent construction with eigh: column j = Xc @ u_j / sqrt(lambda_j + eps),
    # lambda in decreasing order, each column's sign free
    X = correlated_data(rng, 200)
    Xc = X - X.mean(axis=0)
    lam, U = np.linalg.eigh(Xc.T @ Xc / len(X))
    lam, U = lam[::-1], U[:, ::-1]
    expected = Xc @ U / np.sqrt(lam + eps)
    got = preprocess.whiten(X, eps)
    signs = np.sign(np.sum(got * expected, axis=0))
    assert np.all(signs != 0)
    np.testing.assert_allclose(got * signs, expected, rtol=1e-9, atol=1e-9)


def test_whiten_never_centres_its_input_in_place(rng):
    X = correlated_data(rng, 50)
    before = X.copy()
    preprocess.whiten(X)
    np.testing.assert_array_equal(X, before)


def test_whiten_keeps_float32(rng):
    X = correlated_data(rng, 300).astype(np.float32)
    Xw = preprocess.whiten(X)
    assert Xw.dtype == np.float32
    np.testing.assert_allclose(Xw.T.astype(np.float64) @ Xw / len(Xw), np.eye(3), atol=1e-3)


@pytest.mark.parametrize("shape", [(1, 1), (1, 3), (2, 2)])
def test_whiten_of_tiny_inputs_is_finite(shape, rng):
    Xw = preprocess.whiten(rng.standard_normal(shape))
    assert Xw.shape == shape
    assert np.all(np.isfinite(Xw))


# ---------------------------------------------------------------------- normalize_features
def test_normalize_features_applies_train_mean_and_population_std_to_every_split(rng):
    X_train = rng.standard_normal((40, 5)) * [1.0, 2.0, 0.5, 10.0, 3.0] + [0.0, 1.0, -2.0, 5.0, 9.0]
    X_val = rng.standard_normal((7, 5)) * 4.0
    X_test = rng.standard_normal((1, 5))
    mu = X_train.sum(axis=0) / 40
    sigma = np.sqrt(((X_train - mu) ** 2).sum(axis=0) / 40)  # ddof 0
    out = preprocess.normalize_features(X_train, X_val, X_test)
    assert isinstance(out, tuple)
    assert len(out) == 3
    for got, X in zip(out, (X_train, X_val, X_test), strict=True):
        np.testing.assert_allclose(got, (X - mu) / sigma, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(out[0].mean(axis=0), 0.0, atol=1e-13)
    np.testing.assert_allclose(out[0].std(axis=0), 1.0, rtol=1e-12)


def test_normalize_features_with_only_the_training_set_returns_a_1_tuple(rng):
    out = preprocess.normalize_features(rng.standard_normal((10, 2)))
    assert isinstance(out, tuple)
    assert len(out) == 1
    assert out[0].shape == (10, 2)


@pytest.mark.parametrize("constant", [0.0, 0.1, 3.7, -1e6])
def test_normalize_features_constant_column_is_only_centred(constant, rng):
    # a floating std of a constant column such as 0.1 can be ~1e-17, not 0: it must count as 0
    X_train = rng.standard_normal((30, 3))
    X_train[:, 1] = constant
    X_val = rng.standard_normal((4, 3))
    train_n, val_n = preprocess.normalize_features(X_train, X_val)
    assert np.all(np.isfinite(train_n)) and np.all(np.isfinite(val_n))
    np.testing.assert_allclose(train_n[:, 1], 0.0, atol=1e-15 * max(1.0, abs(constant)))
    np.testing.assert_allclose(
        val_n[:, 1], X_val[:, 1] - constant, rtol=1e-12, atol=1e-15 * max(1.0, abs(constant))
    )
    np.testing.assert_allclose(train_n[:, [0, 2]].std(axis=0), 1.0, rtol=1e-12)


def test_normalize_features_of_a_single_training_sample_is_zero(rng):
    (out,) = preprocess.normalize_features(rng.standard_normal((1, 4)))
    np.testing.assert_array_equal(out, np.zeros((1, 4)))


def test_normalize_features_leaves_inputs_unchanged_and_keeps_each_dtype(rng):
    X_train = rng.standard_normal((20, 3)).astype(np.float32)
    X_val = rng.standard_normal((5, 3))
    before = X_train.copy(), X_val.copy()
    train_n, val_n = preprocess.normalize_features(X_train, X_val)
    np.testing.assert_array_equal(X_train, before[0])
    np.testing.assert_array_equal(X_val, before[1])
    assert train_n.dtype == np.float32
    assert val_n.dtype == np.float64
    assert not np.shares_memory(train_n, X_train)


# ---------------------------------------------------------------------- running mean
@pytest.mark.parametrize("shape", [(1,), (3,), (2, 4)])
def test_running_mean_update_is_mu_plus_k_times_x_minus_mu(shape, rng):
    mu, x = rng.standard_normal(shape), rng.standard_normal(shape)
    mu_before, x_before = mu.copy(), x.copy()
    got = preprocess.running_mean_update(mu, x, 0.1)
    np.testing.assert_allclose(got, mu + 0.1 * (x - mu), rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(mu, mu_before)
    np.testing.assert_array_equal(x, x_before)


def test_running_mean_worked_numbers_and_k_1_jumps_to_x():
    np.testing.assert_allclose(
        preprocess.running_mean_update(np.array([0.0, 10.0]), np.array([10.0, 0.0]), 0.25),
        [2.5, 7.5],
        rtol=1e-15,
    )
    np.testing.assert_array_equal(
        preprocess.running_mean_update(np.array([1.0]), np.array([4.0]), 1.0), [4.0]
    )


def test_running_mean_of_a_stream_converges_to_its_mean(rng):
    mu = np.zeros(3)
    for _ in range(2000):
        x = rng.standard_normal(3) * 0.1 + [1.0, -2.0, 5.0]
        mu = preprocess.running_mean_update(mu, x, 0.01)
    np.testing.assert_allclose(mu, [1.0, -2.0, 5.0], atol=0.05)


def test_running_mean_of_the_documents_scalars_is_a_float():
    """SPEC's running mean is a scalar formula: 2 + 0.25 * (3 - 2) = 2.25 exactly."""
    got = preprocess.running_mean_update(2.0, 3.0, 0.25)
    assert type(got) is float and got == 2.25
    assert preprocess.running_mean_update(2, 3, 0.25) == 2.25  # ints are real numbers too


def test_running_mean_of_0d_arrays_is_a_0d_array_of_their_dtype():
    got = preprocess.running_mean_update(np.float32(2.0), np.array(3.0, np.float32), 0.25)
    assert isinstance(got, np.ndarray) and got.shape == () and got.dtype == np.float32
    assert float(got) == 2.25


def test_running_mean_keeps_float32(rng):
    mu = rng.standard_normal(4).astype(np.float32)
    out = preprocess.running_mean_update(mu, rng.standard_normal(4).astype(np.float32), 0.3)
    assert out.dtype == np.float32


# ---------------------------------------------------------------------- bad input
X2 = np.ones((4, 3))
BAD = [
    (lambda: preprocess.covariance(np.ones(3)), ValueError, r"covariance: X must be 2-D"),
    (lambda: preprocess.covariance(np.ones((0, 3))), ValueError, "covariance: X must hold"),
    (lambda: preprocess.covariance(np.ones((2, 2), dtype=int)), TypeError, "covariance: X"),
    (lambda: preprocess.covariance([[1.0, 2.0]]), TypeError, "covariance: X"),
    (lambda: preprocess.whiten(np.ones((2, 2, 2))), ValueError, "whiten: X must be 2-D"),
    (lambda: preprocess.whiten(X2, eps=-1e-5), ValueError, "whiten: eps"),
    (lambda: preprocess.whiten(X2, eps=math.nan), ValueError, "whiten: eps"),
    (lambda: preprocess.normalize_features(np.ones(3)), ValueError, "normalize_features: X_train"),
    (
        lambda: preprocess.normalize_features(np.ones((0, 3))),
        ValueError,
        "normalize_features: X_train",
    ),
    (
        lambda: preprocess.normalize_features(X2, np.ones((2, 4))),
        ValueError,
        r"normalize_features: others\[0\] must have shape \(N, 3\)",
    ),
    (
        lambda: preprocess.normalize_features(X2, X2, np.ones(3)),
        ValueError,
        r"normalize_features: others\[1\] must be 2-D",
    ),
    (
        lambda: preprocess.normalize_features(X2, np.ones((2, 3), dtype=np.int64)),
        TypeError,
        r"normalize_features: others\[0\]",
    ),
    (
        lambda: preprocess.running_mean_update(np.ones(3), np.ones(4), 0.1),
        ValueError,
        "running_mean_update: x must have the same shape",
    ),
    (
        lambda: preprocess.running_mean_update(np.ones(3), np.ones(3), 0.0),
        ValueError,
        "running_mean_update: k",
    ),
    (
        lambda: preprocess.running_mean_update(np.ones(3), np.ones(3), 1.5),
        ValueError,
        "running_mean_update: k",
    ),
    (
        lambda: preprocess.running_mean_update(np.ones(3), np.ones(3), math.nan),
        ValueError,
        "running_mean_update: k",
    ),
    (
        lambda: preprocess.running_mean_update(np.arange(3), np.ones(3), 0.1),
        TypeError,
        "running_mean_update: mu",
    ),
    (
        lambda: preprocess.running_mean_update(np.ones(3), 2.0, 0.1),
        ValueError,
        "running_mean_update: x must have the same shape",
    ),
    (
        lambda: preprocess.running_mean_update(True, 2.0, 0.1),
        TypeError,
        "running_mean_update: mu must be a float array or a real number",
    ),
    (
        lambda: preprocess.running_mean_update("2.0", 2.0, 0.1),
        TypeError,
        "running_mean_update: mu must be a numpy.ndarray",
    ),
]


@pytest.mark.parametrize(("call", "error", "pattern"), BAD, ids=[b[2][:45] for b in BAD])
def test_bad_input_raises_naming_the_argument(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
