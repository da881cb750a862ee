"""The framework-neutral training loop shared by every implementation (SPEC.md §2 "Models").

``SolverBase`` is the CS231n ``Solver``: mini-batches, per-epoch learning-rate decay,
accuracy (or MSE) checks, loss history and best-validation parameters. It is bookkeeping in
NumPy (batch order, accuracy), no layer math: every update is made by an update rule looked
up BY NAME in the class attribute ``rules``, the ``optim`` module of an implementation.
Each package's ``solver.py`` is then one line of substance::

    class Solver(SolverBase):
        rules = optim  # that package's optim module: 'adam' is its adam

A ``Solver`` knows nothing about a model but this interface:

- ``model.params``: dict of parameter arrays (the Solver replaces its entries);
- ``model.loss(X, y)`` -> ``(loss, grads)`` with ``grads`` keyed like ``params``;
- ``model.loss(X)`` -> predictions: class scores (N, C) for classification, outputs for
  regression.

Usage::

    solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": 1e-3},
                    lr_decay=0.95, batch_size=100, num_epochs=10, seed=0)
    solver.train()  # model.params ends as the best-validation parameters

The task follows the labels: integer ``y_train`` is classification (accuracy is tracked
and the best validation ACCURACY is kept), floating ``y_train`` is regression (the mean
square error is tracked and the lowest validation MSE is kept).

Randomness (mini-batch order, accuracy sub-samples) comes only from
``numpy.random.default_rng(seed)``: the same seed gives the same loss history.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from dlparity import validate as v
from dlparity.catalogue import names_of_kind

__all__ = ["SolverBase", "DATA_KEYS", "UPDATE_RULES"]

DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")
UPDATE_RULES = names_of_kind("optimizer")


def _check_optional_int(fn: str, name: str, value: Any, low: int) -> int | None:
    return None if value is None else v.check_int(fn, name, value, low=low)


def _check_bool(fn: str, name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{fn}: {name} must be True or False; received {value!r}")
    return bool(value)


def _check_model(fn: str, model: Any) -> None:
    params = getattr(model, "params", None)
    if not isinstance(params, dict) or not params or not callable(getattr(model, "loss", None)):
        raise TypeError(
            f"{fn}: model must have a non-empty dict `params` and a method `loss(X, y=None)`; "
            f"received {type(model).__name__}"
        )


def _check_data(fn: str, data: Any) -> str:
    """Validate the data dict; return the task, 'classification' or 'regression'."""
    v.check_dict(fn, "data", data)
    missing = [k for k in DATA_KEYS if k not in data]
    if missing:
        raise ValueError(f"{fn}: data must have the keys {DATA_KEYS}; missing {missing}")
    kinds = []
    for split in ("train", "val"):
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        X = v.as_float_array(fn, f"data['X_{split}']", X, min_ndim=2, shape_hint="(N, ...)")
        if not isinstance(y, np.ndarray) or not (
            np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)
        ):
            raise TypeError(
                f"{fn}: data['y_{split}'] must be a numpy.ndarray of integer labels or float "
                f"targets; received {type(y).__name__}"
            )
        if y.ndim == 0 or y.shape[0] != X.shape[0]:
            raise ValueError(
                f"{fn}: data['y_{split}'] must have one entry per sample of data['X_{split}'] "
                f"({X.shape[0]}); received data['y_{split}'].shape={y.shape}"
            )
        if X.shape[0] == 0:
            raise ValueError(f"{fn}: data['X_{split}'] must hold at least one sample")
        kinds.append("classification" if np.issubdtype(y.dtype, np.integer) else "regression")
    if kinds[0] != kinds[1]:
        raise TypeError(
            f"{fn}: data['y_train'] and data['y_val'] must both be integer labels or both float "
            f"targets; received dtypes {data['y_train'].dtype} and {data['y_val'].dtype}"
        )
    if kinds[0] == "classification" and data["y_train"].ndim != 1:
        raise ValueError(
            f"{fn}: integer labels must have shape (N,); "
            f"received data['y_train'].shape={data['y_train'].shape}"
        )
    return kinds[0]


def _resolve_rule(fn: str, update_rule: Any, rules: ModuleType | None) -> Callable:
    """A callable as given; a rule name looked up in ``rules``."""
    if callable(update_rule):
        return update_rule
    if update_rule not in UPDATE_RULES:
        raise ValueError(
            f"{fn}: update_rule must be a callable or one of {UPDATE_RULES}; "
            f"received update_rule={update_rule!r}"
        )
    if rules is None:
        raise TypeError(
            f"{fn}: this class has no update rules to look {update_rule!r} up in (its "
            f"`rules` is None); pass a callable, or use an implementation's Solver"
        )
    return getattr(rules, update_rule)


class SolverBase:
    """Mini-batch training with per-epoch learning-rate decay and model selection.

    Subclasses set ``rules``, the module whose update rules a rule NAME means.

    Inputs:
    - model: an object with ``params`` and ``loss`` as in the module docstring.
    - data: dict with 'X_train' (N_train, ...), 'y_train' (N_train,) [(N_train, K) for
      regression], 'X_val', 'y_val'.
    - update_rule: the name of a rule of the ``rules`` module ('sgd', 'adam', ...: the
      implementation's own) or a callable ``rule(w, dw, config) -> (next_w, config)``.
    - optim_config: dict of hyper-parameters for the rule (e.g. {'learning_rate': 1e-3});
      every parameter gets its own deep copy (its own optimizer state).
    - lr_decay: in (0, 1]; each parameter's ``config['learning_rate']`` is multiplied by it
      after every epoch.
    - batch_size: samples per update; a batch larger than N_train is the whole set.
    - num_epochs: passes over the training set.
    - num_iterations: if given, the number of updates (overrides num_epochs; for presets
      stated in iterations, such as the MNIST net's 10,000).
    - seed: seeds ``numpy.random.default_rng`` for the batch order and the accuracy
      sub-samples (never the global NumPy RNG).
    - shuffle: True draws a new permutation of the training set every epoch and takes
      consecutive batches from it; False takes batches in data order (a full-batch run is
      then exactly the documents' plain gradient-descent loop).
    - num_train_samples: training samples used for the per-epoch training accuracy (or
      MSE); None uses all of them.
    - num_val_samples: the same for the validation set (None: all).
    - print_every: print the loss every this many iterations (when verbose).
    - verbose: print progress.

    Attributes after ``train()``:
    - loss_history: the training loss of every iteration (Python floats).
    - train_acc_history, val_acc_history: accuracies at every check (classification).
    - train_mse_history, val_mse_history: mean square errors at every check (regression).
    - best_val_acc / best_val_mse, best_params: the best validation result and a copy of
      the parameters that gave it; ``model.params`` is set to them at the end of train().
    - epoch: epochs completed; optim_configs: one config per parameter.
    Checks happen after the first iteration, at the end of every epoch and after the last
    iteration.
    """

    #: The module holding the update rules ('sgd', 'adam', ...) that a rule name refers to.
    rules: ClassVar[ModuleType | None] = None

    def __init__(
        self,
        model: Any,
        data: dict[str, np.ndarray],
        update_rule: str | Callable = "sgd",
        optim_config: dict | None = None,
        lr_decay: float = 1.0,
        batch_size: int = 100,
        num_epochs: int = 10,
        *,
        num_iterations: int | None = None,
        seed: int | None = None,
        shuffle: bool = True,
        num_train_samples: int | None = 1000,
        num_val_samples: int | None = None,
        print_every: int = 10,
        verbose: bool = True,
    ) -> None:
        fn = "Solver"
        _check_model(fn, model)
        self.task = _check_data(fn, data)
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]
        self.update_rule = _resolve_rule(fn, update_rule, self.rules)
        if optim_config is not None:
            v.check_dict(fn, "optim_config", optim_config)
        self.optim_config = copy.deepcopy(optim_config or {})
        self.lr_decay = v.check_scalar(fn, "lr_decay", lr_decay, low=0.0, high=1.0, low_open=True)
        self.batch_size = v.check_int(fn, "batch_size", batch_size, low=1)
        self.num_epochs = v.check_int(fn, "num_epochs", num_epochs, low=1)
        self.num_iterations = _check_optional_int(fn, "num_iterations", num_iterations, 1)
        self.seed = _check_optional_int(fn, "seed", seed, 0)
        self.shuffle = _check_bool(fn, "shuffle", shuffle)
        self.num_train_samples = _check_optional_int(fn, "num_train_samples", num_train_samples, 1)
        self.num_val_samples = _check_optional_int(fn, "num_val_samples", num_val_samples, 1)
        self.print_every = v.check_int(fn, "print_every", print_every, low=1)
        self.verbose = _check_bool(fn, "verbose", verbose)
        self._reset()

    def _reset(self) -> None:
        """Histories, the per-parameter optimizer configs and the random streams."""
        self.epoch = 0
        self.best_val_acc = -math.inf
        self.best_val_mse = math.inf
        self.best_params: dict[str, np.ndarray] = {}
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.train_mse_history: list[float] = []
        self.val_mse_history: list[float] = []
        self.optim_configs = {p: copy.deepcopy(self.optim_config) for p in self.model.params}
        # Two independent streams, so checking accuracy never changes the batch order.
        batch_seq, sample_seq = np.random.SeedSequence(self.seed).spawn(2)
        self._batch_rng = np.random.default_rng(batch_seq)
        self._sample_rng = np.random.default_rng(sample_seq)
        self._order = np.arange(self.X_train.shape[0])  # (N_train,)

    @property
    def iterations_per_epoch(self) -> int:
        return max(math.ceil(self.X_train.shape[0] / self.batch_size), 1)

    def _batch(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Mini-batch of iteration t: a slice of this epoch's (shuffled) order."""
        k = t % self.iterations_per_epoch
        if k == 0 and self.shuffle:
            self._order = self._batch_rng.permutation(self.X_train.shape[0])  # (N_train,)
        idx = self._order[k * self.batch_size : (k + 1) * self.batch_size]  # (B,)
        return self.X_train[idx], self.y_train[idx]

    def _step(self, t: int) -> None:
        """One update of every parameter from the gradient of one mini-batch."""
        X_batch, y_batch = self._batch(t)
        loss, grads = self.model.loss(X_batch, y_batch)
        self.loss_history.append(float(loss))
        for p, w in self.model.params.items():
            next_w, self.optim_configs[p] = self.update_rule(w, grads[p], self.optim_configs[p])
            self.model.params[p] = next_w

    def _decay_learning_rate(self) -> None:
        if self.lr_decay == 1.0:
            return
        for p, config in self.optim_configs.items():
            if "learning_rate" not in config:
                raise ValueError(
                    f"Solver: lr_decay needs config['learning_rate'], but the config of "
                    f"{p!r} returned by the update rule has none"
                )
            config["learning_rate"] = config["learning_rate"] * self.lr_decay

    def _predictions(
        self, fn: str, X: np.ndarray, y: np.ndarray, num_samples: Any, batch_size: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        """model.loss on X -- or on a random subset of ``num_samples`` samples, drawn
        without replacement from the Solver's generator -- in batches of ``batch_size``.

        Returns (predictions, y of those samples); predictions is (n, ...) as model.loss.
        """
        num_samples = _check_optional_int(fn, "num_samples", num_samples, 1)
        batch_size = v.check_int(fn, "batch_size", batch_size, low=1)
        N = X.shape[0]
        if num_samples is not None and N > num_samples:
            idx = self._sample_rng.choice(N, num_samples, replace=False)  # (num_samples,)
            X, y = X[idx], y[idx]
        batches = [self.model.loss(X[i : i + batch_size]) for i in range(0, len(X), batch_size)]
        return np.concatenate(batches, axis=0), y

    def check_accuracy(self, X: np.ndarray, y: np.ndarray, num_samples: int | None = None,
                       batch_size: int = 100) -> float:
        """Classification accuracy of the model on (X, y).

        Inputs:
        - X: (N, ...) inputs; y: (N,) integer labels.
        - num_samples: if given and N is larger, a random subset of this size (drawn
          without replacement from the Solver's generator).
        - batch_size: samples per model.loss call.

        Returns:
        - acc: fraction of samples whose highest score is the label.
        """
        fn = "Solver.check_accuracy"
        X = v.as_float_array(fn, "X", X, min_ndim=2)
        if not isinstance(y, np.ndarray) or not np.issubdtype(y.dtype, np.integer):
            v.check_labels(fn, "y", y, X.shape[0], 0)  # raises the TypeError
        v.check_shape(fn, "y", y, (X.shape[0],), "(one label per sample of X)")
        scores, y = self._predictions(fn, X, y, num_samples, batch_size)  # (n, C), (n,)
        v.check_labels(fn, "y", y, y.shape[0], scores.shape[1])
        y_pred = np.argmax(scores, axis=1)  # (n,)
        return float(np.mean(y_pred == y))

    def check_mse(self, X: np.ndarray, y: np.ndarray, num_samples: int | None = None,
                  batch_size: int = 100) -> float:
        """Mean square error (1/N) sum_i sum_k (out_ik - y_ik)^2 of a regression model.

        Inputs as check_accuracy, with y float targets (N,) or (N, K).
        """
        fn = "Solver.check_mse"
        X = v.as_float_array(fn, "X", X, min_ndim=2)
        y = v.as_float_array(fn, "y", y, ndim=(1, 2))
        out, y = self._predictions(fn, X, y, num_samples, batch_size)
        n = y.shape[0]
        diff = out.reshape(n, -1) - y.reshape(n, -1)  # (n, K)
        return float(np.sum(diff * diff) / n)

    def _check(self) -> None:
        """Record train/val accuracy (or MSE); keep a copy of the best parameters."""
        if self.task == "classification":
            train = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples)
            val = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples)
            self.train_acc_history.append(train)
            self.val_acc_history.append(val)
            better = val > self.best_val_acc
            if better:
                self.best_val_acc = val
        else:
            train = self.check_mse(self.X_train, self.y_train, self.num_train_samples)
            val = self.check_mse(self.X_val, self.y_val, self.num_val_samples)
            self.train_mse_history.append(train)
            self.val_mse_history.append(val)
            better = val < self.best_val_mse
            if better:
                self.best_val_mse = val
        if better:
            self.best_params = {k: w.copy() for k, w in self.model.params.items()}
        if self.verbose:
            metric = "acc" if self.task == "classification" else "mse"
            print(
                f"(Epoch {self.epoch} / {self.num_epochs}) "
                f"train {metric}: {train:f}; val {metric}: {val:f}"
            )

    def train(self) -> None:
        """Run the optimisation, then set model.params to the best-validation parameters."""
        num_iterations = self.num_iterations or self.num_epochs * self.iterations_per_epoch
        if self.num_iterations is not None:
            self.num_epochs = math.ceil(num_iterations / self.iterations_per_epoch)
        for t in range(num_iterations):
            self._step(t)
            if self.verbose and t % self.print_every == 0:
                print(f"(Iteration {t + 1} / {num_iterations}) loss: {self.loss_history[-1]:f}")
            epoch_end = (t + 1) % self.iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                self._decay_learning_rate()
            if t == 0 or epoch_end or t == num_iterations - 1:
                self._check()
        self.model.params.update({k: w.copy() for k, w in self.best_params.items()})
