"""The model presets (reference/presets.py) against the numbers of the source documents.

Every expected number below is copied from the documents (file and line in the comments),
not from presets.py.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from dlparity.reference.models import FullyConnectedNet, RegressionNet
from dlparity.reference.presets import (
    PRESETS,
    build_model,
    dating_data,
    dating_dates,
    solver_config,
)
from dlparity.reference.solver import Solver

# name: (layer sizes, update rule, learning rate, batch size, epochs, iterations, dropout, reg)
DOCUMENTED = {
    # 002 lines 622-626, 650, 662-664
    "mnist_fc_tf": ((784, 256, 100, 10), "adam", 1e-3, 100, None, 10_000, 0.0, 5e-5),
    # 002 lines 533, 585-586
    "cifar10_fc": ((3072, 100, 50, 25, 10), "adam", 1e-3, 200, 10, None, 0.0, 0.0),
    # 001 lines 1362-1365, 1335, 1486, 1556
    "mnist_fc_torch_128_64": ((784, 128, 64, 10), "sgd", 1e-3, 64, 3, None, 0.0, 0.0),
    # 001 lines 1483, 1486, 1335, 1596
    "mnist_fc_torch_516_256_dropout": ((784, 516, 256, 10), "sgd", 1e-3, 64, 2, None, 0.5, 0.0),
    # 003 lines 307 (W (2,), b scalar), 392-407 (90K iterations; lr 1e-4 from the first step)
    "dating_linear": ((2, 1), "sgd", 1e-4, None, None, 90_000, 0.0, 0.0),
    # 003 lines 548-550, 615-624
    "dating_fc_2_5_5_5_1": ((2, 5, 5, 5, 1), "sgd", 1e-4, None, None, 100_000, 0.0, 0.0),
}

# 003 lines 617-624, the dating net's starting point as the document writes it
DOC_W = [
    [[0.7, 0.05, 0.0, 0.2, 0.2], [0.3, 0.01, 0.01, 0.3, 0.2]],
    [[0.7, 0.05, 0.0, 0.2, 0.1], [0.3, 0.01, 0.01, 0.3, 0.1], [0.3, 0.01, 0.01, 0.3, 0.1],
     [0.07, 0.04, 0.01, 0.1, 0.1], [0.1, 0.1, 0.01, 0.02, 0.03]],
    [[0.7, 0.05, 0.0, 0.2, 0.1], [0.3, 0.01, 0.01, 0.3, 0.1], [0.3, 0.01, 0.01, 0.3, 0.1],
     [0.07, 0.04, 0.01, 0.1, 0.1], [0.1, 0.1, 0.01, 0.02, 0.03]],
    [[0.8], [0.5], [0.05], [0.05], [0.1]],
]  # fmt: skip
DOC_B = [[0.8, 0.2, 1.0, 0.2, 0.1], [0.8, 0.2, 1.0, 0.2, 0.1], [0.8, 0.2, 1.0, 0.2, 0.1], [0.2]]


def test_presets_are_exactly_the_documented_models():
    assert set(PRESETS) == set(DOCUMENTED)


@pytest.mark.parametrize("name", list(DOCUMENTED))
def test_preset_has_the_documented_layer_sizes_and_hyper_parameters(name):
    dims, rule, lr, batch, epochs, iterations, dropout, reg = DOCUMENTED[name]
    p = PRESETS[name]
    assert p.name == name
    assert p.layer_dims == dims
    assert (p.update_rule, p.learning_rate, p.batch_size) == (rule, lr, batch)
    assert (p.num_epochs, p.num_iterations) == (epochs, iterations)
    assert (p.dropout, p.reg) == (dropout, reg)
    assert p.activation == ("relu" if len(dims) > 2 else "none")
    assert p.loss == ("softmax_loss" if p.task == "classification" else "mse_loss")
    assert p.source.split(":")[0][:3] in {"000", "001", "002", "003"}


def test_mnist_tf_preset_reports_98_16_percent_with_he_truncated_normal_init():
    p = PRESETS["mnist_fc_tf"]
    assert p.reported_test_accuracy == 0.9816  # 002 line 738: "# 0.9816"
    assert p.framework == "tensorflow"
    assert p.init == "he_truncated_normal"  # 002 lines 622-626


def test_cifar_preset_uses_weight_scale_5e_2():
    p = PRESETS["cifar10_fc"]
    assert (p.init, p.weight_scale) == ("normal", 5e-2)  # 002 line 533


def test_dating_presets_use_the_documents_noise():
    assert PRESETS["dating_linear"].data_noise == 0.01  # 003 line 269
    assert PRESETS["dating_fc_2_5_5_5_1"].data_noise == 0.15  # 003 line 665


def test_dating_net_starts_from_the_documents_fixed_weights_and_biases():
    params = PRESETS["dating_fc_2_5_5_5_1"].initial_arrays()
    assert set(params) == {"W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4"}
    shapes = {"W1": (2, 5), "W2": (5, 5), "W3": (5, 5), "W4": (5, 1)}
    for i in range(4):
        assert params[f"W{i + 1}"].shape == shapes[f"W{i + 1}"]
        assert params[f"b{i + 1}"].shape == (shapes[f"W{i + 1}"][1],)
        np.testing.assert_array_equal(params[f"W{i + 1}"], np.array(DOC_W[i]))
        np.testing.assert_array_equal(params[f"b{i + 1}"], np.array(DOC_B[i]))
        assert params[f"W{i + 1}"].dtype == np.float64


def test_dating_linear_model_starts_at_w_0_1_0_1_and_b_0():
    params = PRESETS["dating_linear"].initial_arrays()
    np.testing.assert_array_equal(params["W1"], [[0.1], [0.1]])  # 003 line 307
    np.testing.assert_array_equal(params["b1"], [0.0])  # 003 line 308


def test_presets_are_immutable():
    p = PRESETS["mnist_fc_tf"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.learning_rate = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        PRESETS["new"] = p  # type: ignore[index]
    model = build_model("dating_fc_2_5_5_5_1")
    model.params["W1"][0, 0] = 123.0
    assert PRESETS["dating_fc_2_5_5_5_1"].initial_arrays()["W1"][0, 0] == 0.7


@pytest.mark.parametrize("name", [n for n in DOCUMENTED if PRESETS[n].task == "classification"])
def test_build_model_gives_a_fully_connected_net_with_the_preset_shapes(name):
    p = PRESETS[name]
    model = build_model(name, dtype=np.float32, seed=0)
    assert isinstance(model, FullyConnectedNet)
    assert model.layer_dims == p.layer_dims
    assert (model.reg, model.dropout) == (p.reg, p.dropout)
    for i in range(1, len(p.layer_dims)):
        assert model.params[f"W{i}"].shape == (p.layer_dims[i - 1], p.layer_dims[i])
        assert model.params[f"W{i}"].dtype == np.float32


def test_build_model_mnist_tf_draws_truncated_he_normal_weights_and_zero_biases():
    model = build_model("mnist_fc_tf", seed=0)
    for i, fan_in in enumerate((784, 256, 100), 1):
        w, std = model.params[f"W{i}"], math.sqrt(2.0 / fan_in)
        assert np.max(np.abs(w)) <= 2 * std  # truncated at 2 std
        # std of a normal truncated at +-2 std: 0.8796 * std
        np.testing.assert_allclose(w.std(), 0.8796 * std, rtol=0.05)
        np.testing.assert_array_equal(model.params[f"b{i}"], 0.0)


def test_build_model_torch_presets_draw_uniform_weights_and_biases_within_1_over_sqrt_fan_in():
    model = build_model("mnist_fc_torch_128_64", seed=0)
    for i, fan_in in enumerate((784, 128, 64), 1):
        bound = 1 / math.sqrt(fan_in)
        for name in (f"W{i}", f"b{i}"):
            assert np.max(np.abs(model.params[name])) <= bound
        # U(-a, a) has std a / sqrt(3)
        np.testing.assert_allclose(model.params[f"W{i}"].std(), bound / math.sqrt(3), rtol=0.05)


def test_build_model_cifar_draws_normal_weights_with_std_5e_2():
    model = build_model("cifar10_fc", seed=0)
    np.testing.assert_allclose(model.params["W1"].std(), 5e-2, rtol=0.02)


def test_build_model_of_a_dating_preset_is_a_regression_net_at_the_fixed_start():
    model = build_model("dating_fc_2_5_5_5_1")
    assert isinstance(model, RegressionNet)
    assert model.layer_dims == (2, 5, 5, 5, 1)
    np.testing.assert_array_equal(model.params["W4"], np.array(DOC_W[3]))


def test_build_model_rejects_an_unknown_preset():
    with pytest.raises(ValueError, match="build_model: preset must be one of"):
        build_model("resnet152")


def test_solver_config_matches_the_preset():
    cfg = solver_config("mnist_fc_tf")
    assert cfg == {"update_rule": "adam", "optim_config": {"learning_rate": 1e-3},
                   "batch_size": 100, "num_iterations": 10_000}  # fmt: skip
    cfg = solver_config("dating_fc_2_5_5_5_1", num_train=100)
    assert cfg["batch_size"] == 100 and cfg["shuffle"] is False
    with pytest.raises(ValueError, match="full-batch; pass num_train"):
        solver_config("dating_linear")


def dating_net_step_by_hand(W, b, X, y, lr):
    """One step of the document's loop (003 lines 584-630) written out with NumPy."""
    hs = [X]
    for j in range(3):
        hs.append(np.maximum(hs[-1] @ W[j] + b[j], 0))  # (N, 5)
    out = (hs[-1] @ W[3] + b[3])[:, 0]  # (N,)
    loss = np.sum((out - y) ** 2) / len(y)
    g = (2 * (out - y) / len(y))[:, None]  # (N, 1)
    new_W, new_b = list(W), list(b)
    for j in range(3, -1, -1):
        dW, db = hs[j].T @ g, g.sum(axis=0)
        g = (g @ W[j].T) * (hs[j] > 0)
        new_W[j], new_b[j] = W[j] - lr * dW, b[j] - lr * db
    return loss, new_W, new_b


def test_dating_net_trains_from_the_fixed_start_with_sgd_1e_4_as_the_document_loop(rng):
    X, y = dating_data(100, rng, noise=0.15)
    model = build_model("dating_fc_2_5_5_5_1")
    solver = Solver(model, {"X_train": X, "y_train": y, "X_val": X, "y_val": y},
                    **solver_config("dating_fc_2_5_5_5_1", num_train=100) | {"num_iterations": 3},
                    verbose=False)  # fmt: skip
    solver.train()
    W, b = [np.array(w) for w in DOC_W], [np.array(v) for v in DOC_B]
    losses = []
    for _ in range(3):
        loss, W, b = dating_net_step_by_hand(W, b, X, y, lr=1e-4)
        losses.append(loss)
    np.testing.assert_allclose(solver.loss_history, losses, rtol=1e-12)
    # the MSE keeps falling along the run: the validation set is the training set, so the
    # best parameters are the last ones
    for i in range(4):
        np.testing.assert_allclose(model.params[f"W{i + 1}"], W[i], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(model.params[f"b{i + 1}"], b[i], rtol=1e-12, atol=1e-15)


def test_dating_net_loss_falls_over_a_short_sgd_run(rng):
    X, y = dating_data(100, rng, noise=0.15)
    model = build_model("dating_fc_2_5_5_5_1")
    first, _ = model.loss(X, y)
    for _ in range(1000):
        _, grads = model.loss(X, y)
        for k in model.params:
            model.params[k] = model.params[k] - 1e-4 * grads[k]
    last, _ = model.loss(X, y)
    assert np.isfinite(last) and last < 0.5 * first


def test_dating_data_has_the_documents_ranges_and_noise(rng):
    n = 20_000
    X, y = dating_data(n, rng, noise=0.01)
    assert X.shape == (n, 2) and y.shape == (n,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    education, income = X[:, 0], X[:, 1]
    np.testing.assert_array_equal(np.unique(education), np.arange(26.0))  # randint(26)
    np.testing.assert_array_equal(np.unique(income), np.arange(10.0))  # randint(10), in 1K
    np.testing.assert_allclose(education.mean(), 12.5, atol=0.2)
    np.testing.assert_allclose(income.mean(), 4.5, atol=0.1)
    dates = 0.8 * education + 0.3 * income + 2  # 003 line 385
    relative = (y - dates) / dates  # ~ 0.01 * N(0, 1), 003 line 269
    np.testing.assert_allclose(relative.std(), 0.01, rtol=0.03)
    assert abs(relative.mean()) < 5 * 0.01 / math.sqrt(n)


def test_dating_data_without_noise_is_the_oracle(rng):
    X, y = dating_data(50, rng, noise=0.0)
    np.testing.assert_allclose(y, 0.8 * X[:, 0] + 0.3 * X[:, 1] + 2, rtol=1e-15)
    np.testing.assert_allclose(dating_dates(X), y, rtol=1e-15)


def test_dating_data_is_reproducible_from_the_generator():
    a = dating_data(30, np.random.default_rng(5), noise=0.15)
    b = dating_data(30, np.random.default_rng(5), noise=0.15)
    c = dating_data(30, np.random.default_rng(6), noise=0.15)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize(
    "args, error, words",
    [
        ((0, None), ValueError, "n must be >= 1"),
        ((5, 123), TypeError, "rng must be a numpy.random.Generator"),
        ((5, None, -0.1), ValueError, "noise"),
    ],
)
def test_dating_data_rejects_bad_arguments(args, error, words):
    n, rng, *rest = args
    rng = np.random.default_rng(0) if rng is None else rng
    with pytest.raises(error, match=f"dating_data: {words}"):
        dating_data(n, rng, *rest)
