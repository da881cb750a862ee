"""Training the SPEC models with the NumPy reference: ``Trainer``.

The interface (``step``, ``predict``, ``export_params``, ``from_preset``), its argument
and batch checks and the seeded starting parameters are
``dlparity.bases.training.BaseTrainer``'s, shared with ``dlparity.torch_impl.training``
and ``dlparity.tf_impl.training``; that module's docstring describes the models and the
update rules. The step here is the CS231n one, the NumPy step the benchmarks time:
``FullyConnectedNet.loss`` / ``RegressionNet.loss`` (the hand-written backward passes),
then the reference's update rule on each parameter, one config each. Dropout masks come
from ``default_rng()``, fresh at every step.
"""

from __future__ import annotations

import numpy as np

from dlparity.bases.training import BaseTrainer  # the interface and its checks

from . import optim
from .models import FullyConnectedNet, RegressionNet

__all__ = ["Trainer"]


class Trainer(BaseTrainer):
    """The NumPy training step: ``FullyConnectedNet`` / ``models.RegressionNet`` (the
    hand-written backward passes) and the reference's update rules, one config per
    parameter.

    Attributes: ``model`` (the reference model; ``model.params`` are the current
    parameters), ``configs`` (the rule's config of each parameter, with its state).
    See ``dlparity.bases.training.BaseTrainer`` for the arguments; ``device`` is 'cpu'
    and ``compile`` None.
    """

    def _build(self, params: dict[str, np.ndarray]) -> None:
        if self.device != "cpu":
            raise ValueError(f"Trainer: the NumPy reference runs on 'cpu' only; "
                             f"received device={self.device!r}")
        if self.task == "regression":
            self.model: FullyConnectedNet | RegressionNet = RegressionNet(params)
        else:
            self.model = FullyConnectedNet(
                self.layer_dims[1:-1], self.layer_dims[0], self.layer_dims[-1], reg=self.reg,
                dtype=self.dtype, dropout=self.dropout, normalization=self.normalization,
            )  # no seed: a fresh dropout mask from default_rng() at every step
            self.model.params = params
        self.rule = getattr(optim, self.update_rule)
        self.configs = {k: dict(self.optim_config) for k in self.model.params}

    def _step(self, X: np.ndarray, y: np.ndarray) -> float:
        loss, grads = self.model.loss(X, y)
        params = self.model.params
        for k, w in params.items():
            params[k], _ = self.rule(w, grads[k], self.configs[k])  # a new array each
        return float(loss)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return self.model.loss(X)  # (N, C) or (N, K)

    def _export(self) -> dict[str, np.ndarray]:
        return {k: w.copy() for k, w in self.model.params.items()}
