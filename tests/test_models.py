"""FullyConnectedNet and RegressionNet of the NumPy reference (SPEC.md §2 "Models").

Gradients are checked against central differences over EVERY parameter (the CS231n idiom:
a closure over ``model.params``, perturbed in place by ``eval_numerical_gradient``), in
float64. Expected values are written out here with plain NumPy, never taken from the code
under test.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from dlparity.reference.gradcheck import eval_numerical_gradient
from dlparity.reference.models import FullyConnectedNet, RegressionNet

# Central differences with h = 1e-5 on float64 losses of order 1: truncation ~h^2 and
# round-off ~1e-16 / h give errors around 1e-10, far below these bounds; a wrong formula
# is off by O(|gradient|).
GRAD_RTOL, GRAD_ATOL = 1e-6, 1e-8


def assert_grads_match_numerical(model, X, y):
    """Analytic gradients of model.loss equal central differences, for every parameter."""
    _, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    for name, param in model.params.items():
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], param)
        assert grads[name].shape == param.shape, name
        np.testing.assert_allclose(
            grads[name], numeric, rtol=GRAD_RTOL, atol=GRAD_ATOL, err_msg=f"gradient of {name}"
        )


def relu(a):
    return np.maximum(a, 0)


def log_softmax_rows(s):
    s = s - s.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


# --------------------------------------------------------------- FullyConnectedNet


# (hidden_dims, N, reg, dropout, normalization): every depth from 1 to 4 layers, with and
# without each feature, N = 1 included
FC_GRAD_CASES = [
    ([], 1, 0.0, 0.0, None),
    ([], 4, 0.7, 0.0, None),
    ([7], 4, 0.0, 0.0, None),
    ([7], 1, 0.7, 0.3, None),
    ([7], 4, 0.7, 0.0, "batchnorm"),
    ([6, 5], 4, 0.7, 0.3, None),
    ([6, 5], 1, 0.7, 0.0, "batchnorm"),
    ([6, 5], 4, 0.0, 0.3, "batchnorm"),
    ([5, 4, 3], 4, 0.7, 0.0, None),
    ([5, 4, 3], 4, 0.7, 0.3, "batchnorm"),
    ([5, 4, 3], 1, 0.0, 0.3, "batchnorm"),
]


@pytest.mark.parametrize(
    "hidden_dims, N, reg, dropout, normalization",
    FC_GRAD_CASES,
    ids=[f"h{c[0]}-N{c[1]}-reg{c[2]}-drop{c[3]}-{c[4]}" for c in FC_GRAD_CASES],
)
def test_fc_net_gradients_of_every_parameter_match_numerical_gradient(
    rng, hidden_dims, N, reg, dropout, normalization
):
    D, C = 5, 4
    model = FullyConnectedNet(
        hidden_dims, D, C, reg=reg, weight_scale=0.5, dtype=np.float64,
        dropout=dropout, normalization=normalization, seed=3,
    )  # fmt: skip
    for name in model.params:  # non-trivial biases, gamma and beta
        model.params[name] = model.params[name] + 0.1 * rng.standard_normal(
            model.params[name].shape
        )
    X = rng.standard_normal((N, D))
    y = rng.integers(0, C, size=N)
    assert_grads_match_numerical(model, X, y)


def test_fc_net_input_of_several_dimensions_is_flattened(rng):
    model = FullyConnectedNet([6], 12, 3, reg=0.2, weight_scale=0.3, dtype=np.float64, seed=1)
    X = rng.standard_normal((3, 2, 3, 2))  # (N, 2, 3, 2)
    y = rng.integers(0, 3, size=3)
    assert_grads_match_numerical(model, X, y)
    np.testing.assert_array_equal(model.loss(X), model.loss(X.reshape(3, -1)))


@pytest.mark.parametrize("C", [3, 10])
def test_fc_net_initial_loss_is_log_of_class_count_with_small_weights(rng, C):
    model = FullyConnectedNet([20, 20], 15, C, weight_scale=1e-3, dtype=np.float64, seed=0)
    X = rng.standard_normal((50, 15))
    y = rng.integers(0, C, size=50)
    loss, _ = model.loss(X, y)
    # scores ~ 1e-6: softmax is uniform to ~1e-6, so the loss is log(C) to that accuracy
    np.testing.assert_allclose(loss, math.log(C), atol=1e-4)


def test_fc_net_l2_penalty_is_half_reg_sum_of_squared_weights_only(rng):
    D, C, reg = 6, 3, 0.37
    plain = FullyConnectedNet([5, 4], D, C, reg=0.0, weight_scale=0.4, dtype=np.float64,
                              normalization="batchnorm", seed=7)  # fmt: skip
    regd = FullyConnectedNet([5, 4], D, C, reg=reg, weight_scale=0.4, dtype=np.float64,
                             normalization="batchnorm", seed=7)  # fmt: skip
    for name in plain.params:  # biases, gamma, beta non-zero: the penalty must ignore them
        plain.params[name] = plain.params[name] + rng.standard_normal(plain.params[name].shape)
        regd.params[name] = plain.params[name].copy()
    X = rng.standard_normal((8, D))
    y = rng.integers(0, C, size=8)
    loss0, grads0 = plain.loss(X, y)
    loss1, grads1 = regd.loss(X, y)
    weights = [regd.params[f"W{i}"] for i in (1, 2, 3)]
    np.testing.assert_allclose(loss1 - loss0, 0.5 * reg * sum(np.sum(w**2) for w in weights),
                               rtol=1e-12)  # fmt: skip
    for name in plain.params:
        extra = reg * regd.params[name] if name.startswith("W") else 0.0
        np.testing.assert_allclose(grads1[name], grads0[name] + extra, rtol=1e-12, atol=1e-15)


def test_fc_net_test_mode_scores_are_the_plain_forward_pass(rng):
    model = FullyConnectedNet([6, 5], 4, 3, weight_scale=0.5, dtype=np.float64, seed=2)
    p = {k: w + 0.1 * rng.standard_normal(w.shape) for k, w in model.params.items()}
    model.params = p
    X = rng.standard_normal((7, 4))
    expected = relu(relu(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]) @ p["W3"] + p["b3"]
    np.testing.assert_allclose(model.loss(X), expected, rtol=1e-13)


def test_fc_net_train_loss_is_softmax_cross_entropy_of_the_scores(rng):
    model = FullyConnectedNet([6], 4, 5, weight_scale=0.7, dtype=np.float64, seed=4)
    X = rng.standard_normal((9, 4))
    y = rng.integers(0, 5, size=9)
    scores = model.loss(X)
    loss, _ = model.loss(X, y)
    expected = -np.mean(log_softmax_rows(scores)[np.arange(9), y])
    np.testing.assert_allclose(loss, expected, rtol=1e-13)


def test_fc_net_batchnorm_test_mode_uses_running_statistics(rng):
    model = FullyConnectedNet([6], 4, 3, weight_scale=0.5, dtype=np.float64,
                              normalization="batchnorm", seed=5)  # fmt: skip
    X = 2.0 + rng.standard_normal((10, 4))
    y = rng.integers(0, 3, size=10)
    model.loss(X, y)  # one train-mode pass updates the running statistics
    a = X @ model.params["W1"] + model.params["b1"]  # (N, 6)
    running_mean = 0.1 * a.mean(axis=0)  # momentum 0.9 from zeros
    running_var = 0.9 * 1.0 + 0.1 * a.var(axis=0)  # momentum 0.9 from ones, biased
    h = relu((a - running_mean) / np.sqrt(running_var + 1e-5))  # gamma 1, beta 0
    expected = h @ model.params["W2"] + model.params["b2"]
    np.testing.assert_allclose(model.loss(X), expected, rtol=1e-12)


def test_fc_net_dropout_mask_is_fixed_by_seed_and_off_in_test_mode(rng):
    D, C = 6, 4
    kwargs = dict(weight_scale=0.5, dtype=np.float64, seed=11)
    drop = FullyConnectedNet([30, 30], D, C, dropout=0.5, **kwargs)
    plain = FullyConnectedNet([30, 30], D, C, **kwargs)
    X = rng.standard_normal((5, D))
    y = rng.integers(0, C, size=5)
    # same seed, same weights; the dropout net differs only in train mode
    np.testing.assert_array_equal(drop.loss(X), plain.loss(X))
    assert drop.loss(X, y)[0] == drop.loss(X, y)[0]  # fixed mask: a deterministic loss
    assert drop.loss(X, y)[0] != plain.loss(X, y)[0]
    # the mask of the first hidden layer is default_rng(seed).random(shape) >= p
    mask = np.random.default_rng(11).random((5, 30)) >= 0.5
    h1 = relu(X @ drop.params["W1"] + drop.params["b1"]) * mask / 0.5
    mask2 = np.random.default_rng(11).random((5, 30)) >= 0.5
    h2 = relu(h1 @ drop.params["W2"] + drop.params["b2"]) * mask2 / 0.5
    scores = h2 @ drop.params["W3"] + drop.params["b3"]
    expected = -np.mean(log_softmax_rows(scores)[np.arange(5), y])
    np.testing.assert_allclose(drop.loss(X, y)[0], expected, rtol=1e-12)


def test_fc_net_without_dropout_has_no_dropout_layers():
    model = FullyConnectedNet([5], 3, 2, dropout=0.0)
    assert not model.use_dropout
    assert model.dropout_param == {}


def test_fc_net_parameters_have_documented_shapes_and_initial_values():
    model = FullyConnectedNet([300, 200], 100, 10, weight_scale=0.05, dtype=np.float64,
                              normalization="batchnorm", seed=0)  # fmt: skip
    assert model.layer_dims == (100, 300, 200, 10)
    assert model.num_layers == 3
    expected = {
        "W1": (100, 300), "b1": (300,), "gamma1": (300,), "beta1": (300,),
        "W2": (300, 200), "b2": (200,), "gamma2": (200,), "beta2": (200,),
        "W3": (200, 10), "b3": (10,),
    }  # fmt: skip
    assert {k: w.shape for k, w in model.params.items()} == expected
    for i in (1, 2, 3):
        w = model.params[f"W{i}"]
        assert abs(w.mean()) < 0.05 * 5 / math.sqrt(w.size)  # 5 standard errors
        np.testing.assert_allclose(w.std(), 0.05, rtol=0.05)
        np.testing.assert_array_equal(model.params[f"b{i}"], 0.0)
    for i in (1, 2):
        np.testing.assert_array_equal(model.params[f"gamma{i}"], 1.0)
        np.testing.assert_array_equal(model.params[f"beta{i}"], 0.0)
    assert len(model.bn_params) == 2


def test_fc_net_seeded_weights_are_weight_scale_times_default_rng_normals_in_layer_order():
    """The one starting-point rule of every implementation, written out: W1, W2, ... are
    weight_scale * standard normals drawn in that order from default_rng(seed) in float64,
    then cast to the model dtype; biases and beta are 0, gamma 1."""
    model = FullyConnectedNet([4, 3], 5, 2, weight_scale=0.05, dtype=np.float32,
                              normalization="batchnorm", seed=17)  # fmt: skip
    rng = np.random.default_rng(17)
    for name, shape in (("W1", (5, 4)), ("W2", (4, 3)), ("W3", (3, 2))):
        expected = (0.05 * rng.standard_normal(shape)).astype(np.float32)
        np.testing.assert_array_equal(model.params[name], expected, err_msg=name)
    for name in ("b1", "b2", "b3", "beta1", "beta2"):
        np.testing.assert_array_equal(model.params[name], 0.0, err_msg=name)
    for name in ("gamma1", "gamma2"):
        np.testing.assert_array_equal(model.params[name], 1.0, err_msg=name)
    assert all(w.dtype == np.float32 for w in model.params.values())


def test_fc_net_same_seed_same_parameters_different_seed_different():
    a = FullyConnectedNet([8], 5, 3, seed=42).params
    b = FullyConnectedNet([8], 5, 3, seed=42).params
    c = FullyConnectedNet([8], 5, 3, seed=43).params
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["W1"], c["W1"])


def test_fc_net_config_rebuilds_the_same_model():
    model = FullyConnectedNet([8, 4], 5, 3, reg=0.1, dropout=0.2, normalization="batchnorm",
                              dtype=np.float64, seed=9)  # fmt: skip
    twin = FullyConnectedNet(**model.config)
    assert twin.layer_dims == model.layer_dims
    for k in model.params:
        np.testing.assert_array_equal(twin.params[k], model.params[k])


@pytest.mark.parametrize("normalization", [None, "batchnorm"])
@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_fc_net_float32_keeps_params_scores_loss_and_grads_float32(rng, normalization, dropout):
    model = FullyConnectedNet([6, 5], 4, 3, reg=0.1, dtype=np.float32, dropout=dropout,
                              normalization=normalization, seed=0)  # fmt: skip
    assert all(w.dtype == np.float32 for w in model.params.values())
    X = rng.standard_normal((5, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=5)
    assert model.loss(X).dtype == np.float32
    loss, grads = model.loss(X, y)
    assert np.asarray(loss).dtype == np.float32
    assert np.isfinite(loss)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_fc_net_float64_input_is_cast_to_the_model_dtype(rng):
    model = FullyConnectedNet([6], 4, 3, dtype=np.float32, seed=0)
    assert model.loss(rng.standard_normal((2, 4))).dtype == np.float32


def test_fc_net_loss_does_not_mutate_inputs(rng):
    model = FullyConnectedNet([6], 4, 3, dtype=np.float64, dropout=0.3, seed=0,
                              normalization="batchnorm")  # fmt: skip
    X = rng.standard_normal((5, 4))
    y = rng.integers(0, 3, size=5)
    X0, y0 = X.copy(), y.copy()
    model.loss(X, y)
    model.loss(X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"hidden_dims": [5, 0]}, ValueError, "hidden_dims[1]"),
        ({"hidden_dims": 5}, TypeError, "hidden_dims"),
        ({"hidden_dims": [5.0]}, TypeError, "hidden_dims[0]"),
        ({"input_dim": 0}, ValueError, "input_dim"),
        ({"num_classes": 1}, ValueError, "num_classes"),
        ({"reg": -0.1}, ValueError, "reg"),
        ({"reg": float("nan")}, ValueError, "reg"),
        ({"weight_scale": 0.0}, ValueError, "weight_scale"),
        ({"dtype": np.int32}, TypeError, "dtype"),
        ({"dropout": 1.0}, ValueError, "dropout"),
        ({"dropout": -0.1}, ValueError, "dropout"),
        ({"normalization": "layernorm"}, ValueError, "normalization"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 1.5}, TypeError, "seed"),
    ],
)
def test_fc_net_rejects_bad_constructor_arguments(kwargs, error, words):
    args = {"hidden_dims": [5], "input_dim": 4, "num_classes": 3, **kwargs}
    with pytest.raises(error, match=r"FullyConnectedNet: .*" + re.escape(words)):
        FullyConnectedNet(**args)


def test_fc_net_loss_rejects_wrong_feature_count_and_bad_labels(rng):
    model = FullyConnectedNet([5], 4, 3, dtype=np.float64)
    with pytest.raises(ValueError, match="FullyConnectedNet.loss: X must have 4 features"):
        model.loss(rng.standard_normal((2, 5)))
    with pytest.raises(ValueError, match="y must hold labels in"):
        model.loss(rng.standard_normal((2, 4)), np.array([0, 3]))
    with pytest.raises(ValueError, match="y must have shape"):
        model.loss(rng.standard_normal((2, 4)), np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="y must have an integer dtype"):
        model.loss(rng.standard_normal((2, 4)), np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="X must be a numpy.ndarray"):
        model.loss([[0.0] * 4])


# ------------------------------------------------------------------- RegressionNet


def random_regression_params(rng, dims):
    params = {}
    for i in range(1, len(dims)):
        params[f"W{i}"] = rng.standard_normal((dims[i - 1], dims[i])) / math.sqrt(dims[i - 1])
        params[f"b{i}"] = 0.5 + 0.1 * rng.standard_normal(dims[i])  # mostly active ReLUs
    return params


@pytest.mark.parametrize("dims", [(2, 1), (2, 5, 1), (2, 5, 5, 5, 1), (3, 4, 2)])
@pytest.mark.parametrize("N", [1, 6])
def test_regression_net_gradients_match_numerical_gradient(rng, dims, N):
    model = RegressionNet(random_regression_params(rng, dims))
    X = rng.standard_normal((N, dims[0]))
    y = rng.standard_normal((N, dims[-1]))
    assert_grads_match_numerical(model, X, y)


def test_regression_net_gradients_at_the_dating_start_match_numerical_gradient(rng):
    from dlparity.reference.presets import PRESETS, dating_data

    model = RegressionNet(PRESETS["dating_fc_2_5_5_5_1"].initial_arrays())
    X, y = dating_data(7, rng, noise=0.15)
    assert_grads_match_numerical(model, X, y)


def test_regression_net_predictions_and_mse_loss_follow_the_formulas(rng):
    p = random_regression_params(rng, (2, 5, 5, 1))
    model = RegressionNet(p)
    X = rng.standard_normal((8, 2))
    y = rng.standard_normal(8)  # (N,) targets for a single output
    out = relu(relu(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]) @ p["W3"] + p["b3"]  # (N, 1)
    np.testing.assert_allclose(model.loss(X), out, rtol=1e-13)
    loss, _ = model.loss(X, y)
    np.testing.assert_allclose(loss, np.mean((out[:, 0] - y) ** 2), rtol=1e-13)
    loss2, _ = model.loss(X, y.reshape(-1, 1))
    assert loss2 == loss


def test_regression_net_with_one_layer_is_the_linear_model(rng):
    W, b = rng.standard_normal((2, 1)), rng.standard_normal(1)
    model = RegressionNet({"W1": W, "b1": b})
    X = rng.standard_normal((6, 2))
    np.testing.assert_allclose(model.loss(X)[:, 0], X @ W[:, 0] + b[0], rtol=1e-13)
    assert model.layer_dims == (2, 1)
    assert model.hidden_dims == ()


def test_regression_net_copies_the_given_parameters(rng):
    p = random_regression_params(rng, (2, 3, 1))
    p0 = {k: w.copy() for k, w in p.items()}
    model = RegressionNet(p)
    model.params["W1"][0, 0] = 99.0
    for k in p:
        np.testing.assert_array_equal(p[k], p0[k])


def test_regression_net_float32_from_float64_params(rng):
    model = RegressionNet(random_regression_params(rng, (2, 3, 1)), dtype=np.float32)
    X = rng.standard_normal((4, 2))
    loss, grads = model.loss(X, rng.standard_normal(4))
    assert model.loss(X).dtype == np.float32
    assert np.asarray(loss).dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())


@pytest.mark.parametrize(
    "params, error, words",
    [
        ({"W1": np.ones((2, 3))}, ValueError, "keys W1, b1"),
        ({"W1": np.ones((2, 3)), "b1": np.ones(3), "W3": np.ones((3, 1)), "b3": np.ones(1)},
         ValueError, "keys W1, b1"),
        ({"W1": np.ones((2, 3)), "b1": np.ones(3), "W2": np.ones((4, 1)), "b2": np.ones(1)},
         ValueError, "params['W2'] must have 3 rows"),
        ({"W1": np.ones((2, 3)), "b1": np.ones(2)}, ValueError, "params['b1'] must have shape"),
        ({"W1": np.ones(3), "b1": np.ones(3)}, ValueError, "params['W1'] must be 2-D"),
        ({"W1": np.ones((2, 3), dtype=int), "b1": np.ones(3)}, TypeError, "params['W1']"),
        ({"W1": np.ones((2, 3)), "b1": np.ones(3, dtype=np.float32)}, TypeError, "b1"),
    ],
)  # fmt: skip
def test_regression_net_rejects_inconsistent_parameters(params, error, words):
    with pytest.raises(error, match=r"RegressionNet: .*" + re.escape(words)):
        RegressionNet(params)


def test_regression_net_loss_rejects_targets_of_the_wrong_shape(rng):
    model = RegressionNet(random_regression_params(rng, (2, 3, 2)))
    X = rng.standard_normal((4, 2))
    with pytest.raises(ValueError, match="RegressionNet.loss: y must have shape"):
        model.loss(X, rng.standard_normal(4))  # (N,) only when K == 1
    with pytest.raises(ValueError, match="X must have 2 features"):
        model.loss(rng.standard_normal((4, 3)), rng.standard_normal((4, 2)))
