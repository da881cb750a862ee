"""The Solver of the NumPy reference (SPEC.md §2 "Models"): mini-batches, per-epoch
learning-rate decay, accuracy histories, best-validation parameters, reproducibility."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dlparity.reference.models import FullyConnectedNet, RegressionNet
from dlparity.reference.solver import Solver


def classification_data(rng, n_train=50, n_val=20, D=10, C=4):
    return {
        "X_train": rng.standard_normal((n_train, D)),
        "y_train": rng.integers(0, C, size=n_train),
        "X_val": rng.standard_normal((n_val, D)),
        "y_val": rng.integers(0, C, size=n_val),
    }


class CountingModel:
    """A test double: one scalar parameter w that plain SGD with lr 1 and the constant
    gradient -1 moves to w = t after t updates. Predictions: class 1 exactly when the
    sample equals w (within 0.5), so validation accuracy is a known function of w."""

    def __init__(self):
        self.params = {"w": np.zeros(1)}
        self.batches = []

    def loss(self, X, y=None):
        w = self.params["w"][0]
        if y is None:
            hit = np.abs(X[:, 0] - w) < 0.5  # (N,)
            return np.stack([np.full(X.shape[0], 0.5), hit.astype(float)], axis=1)  # (N, 2)
        self.batches.append(X[:, 0].copy())
        return float(np.sum(X)), {"w": -np.ones(1)}


def counting_data(val_value, n_train=4):
    return {
        "X_train": np.arange(n_train, dtype=float).reshape(-1, 1),
        "y_train": np.zeros(n_train, dtype=np.int64),
        "X_val": np.array([[val_value]]),
        "y_val": np.array([1]),
    }


def test_solver_overfits_50_samples_to_full_training_accuracy(rng):
    data = classification_data(rng)
    # validating on the training set: the restored best parameters are the overfitted ones
    data["X_val"], data["y_val"] = data["X_train"], data["y_train"]
    model = FullyConnectedNet([100], 10, 4, weight_scale=1e-1, dtype=np.float64, seed=0)
    solver = Solver(model, data, "adam", {"learning_rate": 1e-2}, batch_size=25,
                    num_epochs=30, seed=0, verbose=False)  # fmt: skip
    solver.train()
    assert solver.train_acc_history[-1] == 1.0
    scores = model.loss(data["X_train"])
    assert np.mean(np.argmax(scores, axis=1) == data["y_train"]) == 1.0
    assert solver.loss_history[-1] < 0.1 * solver.loss_history[0]


def test_solver_restores_the_best_validation_parameters_at_the_end():
    # one update per epoch; w = e after epoch e; validation accuracy is 1 only at w = 2
    model = CountingModel()
    solver = Solver(model, counting_data(val_value=2.0), "sgd", {"learning_rate": 1.0},
                    batch_size=10, num_epochs=5, verbose=False)  # fmt: skip
    solver.train()
    assert solver.val_acc_history == [0.0, 1.0, 0.0, 0.0, 0.0]  # checks at w = 1, ..., 5
    assert solver.best_val_acc == 1.0
    np.testing.assert_array_equal(model.params["w"], [2.0])
    np.testing.assert_array_equal(solver.best_params["w"], [2.0])


def test_solver_multiplies_the_learning_rate_by_lr_decay_after_every_epoch():
    seen = []

    def recording_sgd(w, dw, config):
        seen.append(config["learning_rate"])
        return w - config["learning_rate"] * dw, config

    model = CountingModel()
    # 4 samples, batch 2: two iterations per epoch, three epochs
    solver = Solver(model, counting_data(val_value=-9.0), recording_sgd, {"learning_rate": 0.8},
                    lr_decay=0.5, batch_size=2, num_epochs=3, verbose=False)  # fmt: skip
    solver.train()
    np.testing.assert_allclose(seen, [0.8, 0.8, 0.4, 0.4, 0.2, 0.2], rtol=1e-15)
    np.testing.assert_allclose(solver.optim_configs["w"]["learning_rate"], 0.1, rtol=1e-15)


def test_solver_gives_every_parameter_its_own_copy_of_optim_config(rng):
    data = classification_data(rng)
    model = FullyConnectedNet([8], 10, 4, dtype=np.float64, seed=0)
    config = {"learning_rate": 1e-3}
    solver = Solver(model, data, "adam", config, batch_size=10, num_epochs=1, verbose=False)
    solver.train()
    assert config == {"learning_rate": 1e-3}  # the caller's dict is untouched
    assert solver.optim_configs["W1"] is not solver.optim_configs["b1"]
    assert solver.optim_configs["W1"]["m"].shape == (10, 8)
    assert solver.optim_configs["b1"]["m"].shape == (8,)


def run_solver(data, seed):
    model = FullyConnectedNet([12], 10, 4, weight_scale=0.1, dtype=np.float64, seed=1)
    solver = Solver(model, data, "sgd_momentum", {"learning_rate": 5e-2}, batch_size=8,
                    num_epochs=3, seed=seed, num_train_samples=30, verbose=False)  # fmt: skip
    solver.train()
    return solver


def test_solver_same_seed_gives_identical_loss_history(rng):
    data = classification_data(rng)
    a, b, c = run_solver(data, 7), run_solver(data, 7), run_solver(data, 8)
    assert len(a.loss_history) == 3 * 7  # ceil(50 / 8) iterations per epoch
    assert a.loss_history == b.loss_history
    assert a.train_acc_history == b.train_acc_history
    assert a.loss_history != c.loss_history


def test_solver_visits_every_sample_once_per_epoch_in_shuffled_batches():
    model = CountingModel()
    solver = Solver(model, counting_data(val_value=-9.0, n_train=10), "sgd", batch_size=4,
                    num_epochs=2, seed=3, verbose=False)  # fmt: skip
    solver.train()
    sizes = [len(b) for b in model.batches]
    assert sizes == [4, 4, 2, 4, 4, 2]
    first, second = np.concatenate(model.batches[:3]), np.concatenate(model.batches[3:])
    np.testing.assert_array_equal(np.sort(first), np.arange(10.0))
    np.testing.assert_array_equal(np.sort(second), np.arange(10.0))
    assert not np.array_equal(first, second)


def test_solver_without_shuffle_takes_batches_in_data_order():
    model = CountingModel()
    solver = Solver(model, counting_data(val_value=-9.0, n_train=5), "sgd", batch_size=5,
                    num_epochs=2, shuffle=False, verbose=False)  # fmt: skip
    solver.train()
    for batch in model.batches:
        np.testing.assert_array_equal(batch, np.arange(5.0))


def test_solver_num_iterations_overrides_num_epochs():
    model = CountingModel()
    solver = Solver(model, counting_data(val_value=-9.0, n_train=10), "sgd", batch_size=4,
                    num_epochs=100, num_iterations=7, verbose=False)  # fmt: skip
    solver.train()
    assert len(solver.loss_history) == 7
    assert solver.epoch == 2


def test_solver_check_accuracy_counts_argmax_hits():
    model = CountingModel()
    model.params["w"] = np.array([3.0])
    solver = Solver(model, counting_data(val_value=3.0), verbose=False)
    X = np.array([[3.0], [3.0], [1.0], [1.0]])
    y = np.array([1, 0, 0, 1])  # hits: sample 0 (class 1) and sample 2 (class 0)
    assert solver.check_accuracy(X, y, batch_size=3) == 0.5
    # a sub-sample of 2 of three samples with one hit scores 0 or 1/2, never the full 1/3
    three, labels = np.array([[3.0], [1.0], [1.0]]), np.array([1, 1, 1])
    assert solver.check_accuracy(three, labels) == 1 / 3
    assert solver.check_accuracy(three, labels, num_samples=2) in (0.0, 0.5)
    with pytest.raises(ValueError, match=r"Solver.check_accuracy: y must hold labels in \[0, 2\)"):
        solver.check_accuracy(X, np.array([1, 0, 2, 1]))
    with pytest.raises(TypeError, match="Solver.check_accuracy: y must have an integer dtype"):
        solver.check_accuracy(X, y.astype(float))
    with pytest.raises(ValueError, match="Solver.check_accuracy: y must have shape"):
        solver.check_accuracy(X, y[:3])


def test_solver_trains_a_regression_net_with_full_batch_gradient_descent(rng):
    # the documents' loop: every iteration one plain SGD step on the whole training set
    W0, b0 = rng.standard_normal((2, 1)), rng.standard_normal(1)
    X = rng.standard_normal((20, 2))
    y = X @ np.array([1.5, -0.5]) + 0.3  # (N,)
    data = {"X_train": X, "y_train": y, "X_val": X[:5], "y_val": y[:5]}
    model = RegressionNet({"W1": W0, "b1": b0})
    solver = Solver(model, data, "sgd", {"learning_rate": 0.1}, batch_size=20, num_epochs=3,
                    shuffle=False, verbose=False)  # fmt: skip
    solver.train()
    W, b = W0.copy(), b0.copy()
    for _ in range(3):  # the same three steps written out
        r = (X @ W)[:, 0] + b[0] - y  # (N,)
        W = W - 0.1 * (2 / 20) * (X.T @ r)[:, None]
        b = b - 0.1 * (2 / 20) * r.sum()
    np.testing.assert_allclose(model.params["W1"], W, rtol=1e-12)
    np.testing.assert_allclose(model.params["b1"], b, rtol=1e-12)
    assert solver.task == "regression"
    assert solver.train_acc_history == []
    assert len(solver.val_mse_history) == 3
    assert np.all(np.diff(solver.val_mse_history) < 0)


def test_solver_verbose_prints_loss_every_print_every_iterations(rng, capsys):
    data = classification_data(rng, n_train=20)
    model = FullyConnectedNet([5], 10, 4, dtype=np.float64, seed=0)
    Solver(model, data, batch_size=5, num_epochs=2, print_every=3, verbose=True).train()
    out = capsys.readouterr().out
    assert re.findall(r"\(Iteration (\d+) / 8\)", out) == ["1", "4", "7"]
    assert out.count("(Epoch") == 3  # after iteration 1 and at the end of both epochs


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"update_rule": "sgdd"}, ValueError, "update_rule"),
        ({"optim_config": [1]}, TypeError, "optim_config"),
        ({"lr_decay": 0.0}, ValueError, "lr_decay"),
        ({"lr_decay": 1.5}, ValueError, "lr_decay"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"num_epochs": 0}, ValueError, "num_epochs"),
        ({"num_iterations": 0}, ValueError, "num_iterations"),
        ({"seed": -1}, ValueError, "seed"),
        ({"print_every": 0}, ValueError, "print_every"),
        ({"verbose": "yes"}, TypeError, "verbose"),
    ],
)
def test_solver_rejects_bad_arguments(rng, kwargs, error, words):
    model = FullyConnectedNet([5], 10, 4, seed=0)
    with pytest.raises(error, match=r"Solver: .*" + re.escape(words)):
        Solver(model, classification_data(rng), **kwargs)


def test_solver_rejects_bad_data(rng):
    model = FullyConnectedNet([5], 10, 4, seed=0)
    data = classification_data(rng)
    with pytest.raises(ValueError, match=r"Solver: data must have the keys .* missing \['y_val'\]"):
        Solver(model, {k: w for k, w in data.items() if k != "y_val"})
    with pytest.raises(ValueError, match=r"data\['y_train'\] must have one entry per sample"):
        Solver(model, {**data, "y_train": data["y_train"][:-1]})
    with pytest.raises(TypeError, match="both be integer labels or both float"):
        Solver(model, {**data, "y_val": data["y_val"].astype(float)})
    with pytest.raises(TypeError, match="model must have"):
        Solver(object(), data)
