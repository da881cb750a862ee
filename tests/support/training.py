"""Whole-model training runs, written once and run with any implementation package.

The same initial weights (the reference preset's, or the document's fixed ones), the same
batches, the implementation's own model (``FullyConnectedNet`` / ``models.RegressionNet``)
and its own update rule: losses and every parameter are recorded at every step, so two
implementations can be compared step by step.
"""

from __future__ import annotations

import copy
from types import ModuleType
from typing import NamedTuple

import numpy as np

from dlparity.reference import presets


class Trajectory(NamedTuple):
    losses: np.ndarray  # (steps,)
    params: list[dict[str, np.ndarray]]  # after each step


def synthetic_classification(n: int, d: int, c: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs in [0, 1] (like pixels) and labels that depend on them: enough for parity."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))  # (n, d)
    y = (X[:, : c * 3].reshape(n, c, 3).sum(axis=2)).argmax(axis=1)  # (n,)
    return X, y


def initial_params(preset: str, dtype: type = np.float64, seed: int = 0) -> dict[str, np.ndarray]:
    """The reference preset's starting parameters (one set for every implementation)."""
    return {k: v.astype(dtype) for k, v in presets.build_model(preset, seed=seed).params.items()}


def train(impl: ModuleType, preset: str, X: np.ndarray, y: np.ndarray, steps: int,
          batch_size: int | None = None, params: dict[str, np.ndarray] | None = None,
          ) -> Trajectory:
    """``steps`` updates of the preset's model with ``impl``'s model class and update rule.

    Batches are consecutive slices of X (wrapping around), the same in every implementation;
    ``batch_size=None`` is full-batch (the dating regressions).
    """
    p = presets.PRESETS[preset]
    params = copy.deepcopy(params if params is not None else initial_params(preset, X.dtype))
    if p.task == "regression":
        model = impl.models.RegressionNet(params, dtype=X.dtype)
    else:
        model = impl.FullyConnectedNet(list(p.hidden_dims), p.input_dim, p.output_dim,
                                       reg=p.reg, dtype=X.dtype, dropout=0.0)
        model.params.update(params)
    rule = getattr(impl, p.update_rule)
    configs = {k: {"learning_rate": p.learning_rate} for k in model.params}
    n = X.shape[0]
    bs = batch_size or p.batch_size or n
    losses, history = [], []
    for step in range(steps):
        idx = (np.arange(bs) + step * bs) % n
        loss, grads = model.loss(X[idx], y[idx])
        for k in model.params:
            model.params[k], configs[k] = rule(model.params[k], grads[k], configs[k])
        losses.append(float(loss))
        history.append({k: np.array(v, copy=True) for k, v in model.params.items()})
    return Trajectory(np.asarray(losses), history)
