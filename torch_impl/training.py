"""Training the SPEC models the PyTorch way: ``Trainer`` (the interface of
``dlparity.bases.training``, see there).

The model is this package's ``FCNetModule`` / ``RegressionModule``; the update is the
STOCK ``torch.optim`` configured to the SPEC formula, in the usual loop
``zero_grad(); loss.backward(); optimizer.step()``:

- 'sgd': ``SGD(lr)``; 'sgd_momentum': ``SGD(lr, momentum)``, whose buffer excludes lr
  (buf = mu*buf + g; w -= lr*buf), which is SPEC's v = mu*v - lr*dw; w += v (v = -lr*buf)
  while lr is constant; 'nesterov_momentum': ``SGD(lr, momentum, nesterov=True)``
  (w -= lr*(g + mu*buf), algebraically SPEC's form for a constant lr);
- 'adam': ``Adam(lr, betas=(beta1, beta2), eps=epsilon)``, the textbook update with bias
  correction and epsilon outside the sqrt, as SPEC; 'adamw': ``AdamW(..., weight_decay)``.
  Each rule's class and arguments come from its catalogue record (``torch_optimizer``).

Losses: the modules' ``training_loss``, also used by ``models.FullyConnectedNet`` and
``models.RegressionNet``: ``F.cross_entropy`` (mean over N) plus 0.5 * reg * sum(W**2) on
the Linear weights (``l2_penalty``; not the optimizer's ``weight_decay``, which would also
decay the biases); the mean square error ``F.mse_loss(reduction='sum') / N`` (torch's
'mean' divides by N*K). ``BatchNorm1d`` keeps the UNBIASED running variance (torch's convention):
running statistics do not enter the training loss, only ``predict``.

``compile``: None or 'eager', or 'torch.compile' (the whole step function -- forward,
backward, optimizer step -- wrapped in ``torch.compile``; the first step pays the
compilation, 10-25 s on a 2-core CPU). The device is set through ``torch_impl._convert`` only.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from dlparity.bases.training import BaseTrainer  # the interface and its checks
from dlparity.catalogue import BY_NAME

from . import _convert
from .models import FCNetModule, RegressionModule

__all__ = ["Trainer"]


def make_optimizer(rule: str, parameters: Iterable[torch.nn.Parameter],
                   config: dict[str, float]) -> torch.optim.Optimizer:
    """The stock torch optimizer that computes SPEC's ``rule`` with ``config`` (constant
    lr): the class and constructor mapping of the rule's catalogue record
    (``Entry.torch_optimizer``)."""
    name, mapping = BY_NAME[rule].torch_optimizer
    kwargs = {arg: (config[key] if isinstance(key, str) else
                    tuple(config[k] for k in key) if isinstance(key, tuple) else key)
              for arg, key in mapping.items()}
    if kwargs.get("nesterov") and not kwargs.get("momentum"):
        kwargs["nesterov"] = False  # torch refuses it; SPEC's Nesterov is then plain SGD
    parameters = list(parameters)
    optimizer = getattr(torch.optim, name)(parameters, **kwargs)
    if isinstance(optimizer, torch.optim.Adam | torch.optim.AdamW):
        _start_with_float64_steps(optimizer, parameters)
    return optimizer


def _start_with_float64_steps(adam: torch.optim.Optimizer,
                              parameters: list[torch.Tensor]) -> None:
    """Give Adam a fresh state whose step counts are float64 tensors.

    torch keeps the step count as a float32 tensor (unless the default dtype is float64).
    Eager Adam reads it with ``.item()`` and computes beta**t in double precision, as SPEC;
    under ``torch.compile`` it stays a tensor, and the bias corrections 1 - beta**t come
    out in float32: 7e-9 relative off the reference after one float64 step (measured).
    """
    state = {
        i: {"step": torch.zeros((), dtype=torch.float64),  # on the CPU, as torch keeps it
            "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)}
        for i, p in enumerate(parameters)
    }
    adam.load_state_dict({"state": state, "param_groups": adam.state_dict()["param_groups"]})


class Trainer(BaseTrainer):
    """Trains one FC model of SPEC.md §2 "Models" with an ``nn.Module`` and ``torch.optim``.

    See ``dlparity.bases.training.BaseTrainer`` for the arguments. ``device`` is any
    torch device name ('cpu', 'cuda', 'cuda:1'); ``compile`` is None (= 'eager') or
    'torch.compile'.
    Dropout masks come from torch's global generator (fresh every step; ``seed`` seeds the
    starting weights only).

    Attributes: ``module`` (the nn.Module), ``optimizer`` (the torch optimizer).
    """

    COMPILE_MODES = (None, "eager", "torch.compile")

    def _build(self, params: dict[str, np.ndarray]) -> None:
        dtype = _convert.torch_dtype(self.dtype)
        with _convert.device(self.device):
            if self.task == "regression":
                module = RegressionModule(self.layer_dims, dtype=dtype)
            else:
                module = FCNetModule(self.layer_dims[1:-1], self.layer_dims[0],
                                     self.layer_dims[-1], dropout=self.dropout,
                                     normalization=self.normalization, dtype=dtype)
            self.module = _convert.on_device(module)
            self.module.load_params(params)
        self.module.train()
        self.optimizer = make_optimizer(self.update_rule, self.module.parameters(),
                                        self.optim_config)
        self._train_step = self._eager_step
        if self.compile == "torch.compile":
            self._train_step = torch.compile(self._eager_step)

    def _eager_step(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """zero_grad, the training loss (data loss + L2), backward, the optimizer's step;
        returns the loss before the update."""
        self.optimizer.zero_grad()
        out = self.module(X)  # (N, C) or (N, K)
        loss = self.module.training_loss(out, y, self.reg)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def _step(self, X: np.ndarray, y: np.ndarray) -> float:
        with _convert.device(self.device):
            X_t, y_t = _convert.to_tensor(X), _convert.to_tensor(y)  # (N, D), (N,) or (N, K)
        if self.task == "classification":
            y_t = y_t.long()  # F.cross_entropy's class indices
        return _convert.to_float(self._train_step(X_t, y_t))

    def _predict(self, X: np.ndarray) -> np.ndarray:
        with _convert.device(self.device):
            X_t = _convert.to_tensor(X)  # (N, D)
        self.module.eval()
        try:
            with torch.no_grad():
                return _convert.to_numpy(self.module(X_t))  # (N, C) or (N, K)
        finally:
            self.module.train()

    def _export(self) -> dict[str, np.ndarray]:
        return self.module.export_params()
