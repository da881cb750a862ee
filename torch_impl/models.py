"""Whole models with PyTorch: idiomatic ``nn.Module``s and the SPEC model API.

Two layers of the same models (SPEC.md §2 "Models"):

- ``FCNetModule`` and ``RegressionModule``: plain ``nn.Module``s (``nn.Linear``, ReLU,
  ``nn.Dropout``, ``nn.BatchNorm1d``) as a PyTorch user writes them, with
  ``load_params``/``export_params`` to exchange the reference's ``params`` dict (W1, b1,
  gamma1, beta1, ...; ``nn.Linear.weight`` is (out, in) = W.T) and ``training_loss`` (the
  SPEC loss of the outputs, written once for the API models below and the idiomatic
  ``torch_impl.training.Trainer``: forward, loss, ``backward()``, ``optimizer.step()``).
  One set of initial weights can so be trained three ways: reference + Solver,
  ``FullyConnectedNet`` below + Solver, and the module with ``torch.optim`` in a Trainer.
- ``FullyConnectedNet`` and ``RegressionNet``: the SPEC API (constructor arguments,
  ``params`` dict of NumPy arrays, ``loss(X, y=None)``), computed by those modules with
  autograd. Their constructors are the shared ``dlparity.bases.models`` base classes
  -- argument checks, the seeded initial parameters (``default_rng(seed)``, so one seed
  gives the same weights as the reference and tf_impl), the state dicts
  ``dropout_param``/``bn_params`` -- and they implement ``loss``.

Conventions carried by the modules: ``BatchNorm1d(momentum=0.1)`` is SPEC's momentum 0.9
(torch weights the batch, SPEC the running value); its running variance is the UNBIASED
batch variance, so ``bn_params`` say ``running_var_unbiased=True`` (the reference
reproduces it with that flag); the L2 penalty 0.5 * reg * sum(W**2) is on the weights only
(an optimizer's ``weight_decay`` would also decay the biases).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlparity.bases.models import FullyConnectedNetBase, RegressionNetBase
from dlparity.catalogue import names_in
from dlparity.contract.layers import BN_EPS, BN_MOMENTUM

from ._convert import on_device, to_numpy, to_scalar, to_tensor, torch_dtype

__all__ = names_in("models")  # the catalogue's names (dlparity.catalogue)

ParamMap = dict[str, tuple[torch.Tensor, bool]]  # name -> (tensor, stored transposed?)


# ---------------------------------------------------------------------- nn.Modules


class FixedMaskDropout(nn.Dropout):
    """``nn.Dropout`` that uses ``keep_mask`` (unscaled, 1 = keep) when one is set.

    Without a mask it is plain ``nn.Dropout`` (torch's RNG); the mask lets the API model
    drop the same units as the reference, whose seeded masks come from NumPy (SPEC §4).
    """

    keep_mask: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.keep_mask is not None:
            return x * self.keep_mask / (1 - self.p)
        return super().forward(x)


class _SpecModule(nn.Module):
    """What FCNetModule and RegressionModule share: their ``linears``, the parameter
    exchange with a NumPy params dict (``load_params``/``export_params`` through
    ``param_map()``) and the training loss (``data_loss`` + the L2 penalty)."""

    linears: nn.ModuleList

    def param_map(self) -> ParamMap:
        """W1, b1, ... -> (parameter, transposed?) in the reference's names."""
        out: ParamMap = {}
        for i, linear in enumerate(self.linears, start=1):
            out[f"W{i}"], out[f"b{i}"] = (linear.weight, True), (linear.bias, False)
        return out

    def data_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The data loss of the outputs ``out`` against the targets ``y``."""
        raise NotImplementedError

    def l2_penalty(self, reg: float) -> torch.Tensor:
        """0.5 * reg * sum(W**2) over the Linear weights (not biases, gamma, beta)."""
        return 0.5 * reg * sum(torch.sum(linear.weight**2) for linear in self.linears)

    def training_loss(self, out: torch.Tensor, y: torch.Tensor, reg: float = 0.0
                      ) -> torch.Tensor:
        """The SPEC training loss of the outputs: data loss (+ 0.5 * reg * sum W**2)."""
        loss = self.data_loss(out, y)
        return loss + self.l2_penalty(reg) if reg else loss

    @torch.no_grad()
    def load_params(self, params: Mapping[str, np.ndarray]) -> None:
        """Copy the reference-style arrays (W as (in, out)) into the module's parameters."""
        for name, (p, transposed) in self.param_map().items():
            t = to_tensor(params[name]).to(p.dtype)
            p.copy_(t.T if transposed else t)

    def export_params(self) -> dict[str, np.ndarray]:
        """The module's parameters as a reference-style params dict of new NumPy arrays."""
        return self.as_params({k: p for k, (p, _) in self.param_map().items()})

    def as_params(self, tensors: Mapping[str, torch.Tensor]) -> dict[str, np.ndarray]:
        """Tensors keyed like param_map() (parameters or their gradients) as NumPy arrays
        in the reference's layout."""
        layout = {k: transposed for k, (_, transposed) in self.param_map().items()}
        return {k: to_numpy(t.T if layout[k] else t) for k, t in tensors.items()}


class FCNetModule(_SpecModule):
    """{Linear - [BatchNorm1d] - ReLU - [Dropout]} x (L - 1) - Linear, returning logits.

    Inputs:
    - hidden_dims: widths of the hidden layers (may be empty).
    - input_dim: D; inputs (N, d1, ..., dk) are flattened to (N, D).
    - num_classes: C.
    - dropout: DROP probability of every hidden layer (0: no dropout layers).
    - normalization: None or 'batchnorm'.
    - dtype: torch dtype of the parameters.
    """

    def __init__(
        self,
        hidden_dims: Sequence[int],
        input_dim: int,
        num_classes: int,
        dropout: float = 0.0,
        normalization: str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        dims = (input_dim, *hidden_dims, num_classes)
        self.linears = nn.ModuleList(
            nn.Linear(d_in, d_out, dtype=dtype) for d_in, d_out in pairwise(dims)
        )
        # BatchNorm1d's momentum 0.1 weights the batch: SPEC's momentum 0.9.
        self.norms = nn.ModuleList(
            nn.BatchNorm1d(d, eps=BN_EPS, momentum=1 - BN_MOMENTUM, dtype=dtype)
            for d in (hidden_dims if normalization == "batchnorm" else ())
        )
        self.dropouts = nn.ModuleList(
            FixedMaskDropout(dropout) for _ in (hidden_dims if dropout > 0 else ())
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(1)  # (N, D)
        for i, linear in enumerate(self.linears[:-1]):
            h = linear(h)  # (N, d_i)
            if self.norms:
                h = self.norms[i](h)
            h = torch.relu(h)
            if self.dropouts:
                h = self.dropouts[i](h)
        return self.linears[-1](h)  # (N, C)

    def data_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Softmax cross-entropy of the scores (N, C), averaged over N; y int64 (N,)."""
        return F.cross_entropy(out, y)

    def param_map(self) -> ParamMap:
        """W1, b1, gamma1, beta1, ... -> (parameter, transposed?) in the reference's names."""
        out = super().param_map()
        for i, norm in enumerate(self.norms, start=1):
            out[f"gamma{i}"], out[f"beta{i}"] = (norm.weight, False), (norm.bias, False)
        return out

    @torch.no_grad()
    def load_bn_params(self, bn_params: Sequence[dict]) -> None:
        """Set each BatchNorm1d from a reference-style bn_param (momentum, eps, running
        statistics; missing statistics start at zeros and ones)."""
        for norm, bn_param in zip(self.norms, bn_params, strict=True):
            if not bn_param.get("running_var_unbiased", False):
                raise ValueError(
                    "FullyConnectedNet: torch's BatchNorm1d keeps the UNBIASED running "
                    "variance; bn_param['running_var_unbiased'] must be True; received "
                    f"{bn_param.get('running_var_unbiased')!r}"
                )
            norm.momentum = 1 - bn_param.get("momentum", BN_MOMENTUM)
            norm.eps = bn_param.get("eps", BN_EPS)
            for key, fill in (("running_mean", 0.0), ("running_var", 1.0)):
                buffer = getattr(norm, key)
                if key in bn_param:
                    buffer.copy_(to_tensor(bn_param[key]).to(buffer.dtype))
                else:
                    buffer.fill_(fill)

    def store_bn_params(self, bn_params: Sequence[dict]) -> None:
        """Write each BatchNorm1d's running statistics into its bn_param as new arrays."""
        for norm, bn_param in zip(self.norms, bn_params, strict=True):
            bn_param["running_mean"] = to_numpy(norm.running_mean)
            bn_param["running_var"] = to_numpy(norm.running_var)

    def set_dropout_masks(self, masks: Sequence[np.ndarray] | None) -> None:
        """Fix the keep-mask of every dropout layer (None: torch's RNG draws them)."""
        for i, drop in enumerate(self.dropouts):
            drop.keep_mask = None if masks is None else to_tensor(masks[i])  # (N, d_i), bool


class RegressionModule(_SpecModule):
    """{Linear - ReLU} x (L - 1) - Linear for regression, layer widths ``layer_dims``."""

    def __init__(self, layer_dims: Sequence[int], dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        self.linears = nn.ModuleList(
            nn.Linear(d_in, d_out, dtype=dtype)
            for d_in, d_out in pairwise(layer_dims)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(1)  # (N, D)
        for linear in self.linears[:-1]:
            h = torch.relu(linear(h))  # (N, d_i)
        return self.linears[-1](h)  # (N, K)

    def data_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """SPEC's mean square error of out (N, K) against y (N, K): summed, over N
        (F.mse_loss's 'mean' divides by N*K)."""
        return F.mse_loss(out, y, reduction="sum") / out.shape[0]


# ------------------------------------------------------------------- the SPEC API


def _value_and_grads(
    loss: torch.Tensor, module: _SpecModule
) -> tuple[np.floating, dict[str, np.ndarray]]:
    """The loss as a NumPy scalar and its gradients by autograd, keyed like params."""
    names = list(module.param_map())
    tensors = [p for p, _ in module.param_map().values()]
    grads = torch.autograd.grad(loss, tensors)
    return to_scalar(loss), module.as_params(dict(zip(names, grads, strict=True)))


class FullyConnectedNet(FullyConnectedNetBase):
    """SPEC's FullyConnectedNet, computed by ``FCNetModule`` with autograd.

    Constructor arguments, ``params``, ``config``, ``dropout_param``, ``bn_params`` and the
    seeded initial weights are ``dlparity.bases.models.FullyConnectedNetBase``'s (the
    same in every implementation: one seed, the reference's weights); ``bn_params`` carry
    ``running_var_unbiased=True`` (BatchNorm1d's convention). With ``dropout > 0`` and a
    seed, every train-mode call drops the reference's units
    (``default_rng(seed).random((N, d_i)) >= p``); without a seed torch's RNG draws the
    masks.

    Attributes besides the base's: ``module``, the ``FCNetModule`` that computes ``loss``.
    """

    def _build(self) -> None:
        self.module = FCNetModule(
            self.hidden_dims, self.input_dim, self.num_classes, dropout=self.dropout,
            normalization=self.normalization, dtype=torch_dtype(self.dtype),
        )
        for bn_param in self.bn_params:
            bn_param["running_var_unbiased"] = True

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[np.floating, dict[str, np.ndarray]]:
        """Scores (y is None: dropout off, batch norm on running statistics) or
        (loss, grads): softmax cross-entropy averaged over N plus 0.5 * reg * sum(W**2),
        gradients by autograd keyed like params.

        Inputs:
        - X: (N, d1, ..., dk) with d1 * ... * dk = input_dim; cast to dtype.
        - y: None, or integer labels (N,) in [0, num_classes).
        """
        X = self._loss_inputs(X, y)  # (N, D); sets the train/test mode
        train = y is not None
        module = on_device(self.module)
        module.train(train)
        module.load_params(self.params)
        module.load_bn_params(self.bn_params)
        module.set_dropout_masks(self._dropout_masks(X.shape[0]) if train else None)
        if self.use_dropout:
            for drop in module.dropouts:
                drop.p = self.dropout_param["p"]
        if not train:
            with torch.no_grad():
                return to_numpy(module(to_tensor(X)))  # (N, C)
        scores = module(to_tensor(X))  # (N, C)
        loss = module.training_loss(scores, to_tensor(y).long(), self.reg)
        module.store_bn_params(self.bn_params)
        return _value_and_grads(loss, module)


class RegressionNet(RegressionNetBase):
    """SPEC's RegressionNet (the dating example), computed by ``RegressionModule`` with
    autograd: {affine - relu} x (L - 1) - affine and the mean square error
    (1/N) sum (out - y)**2 (``RegressionModule.data_loss``).

    Inputs (checked by ``dlparity.bases.models.RegressionNetBase``):
    - params: dict W1, b1, ..., WL, bL (copied), as the reference.
    - dtype: floating dtype of the copies; None keeps W1's dtype.
    """

    def _build(self) -> None:
        self.module = RegressionModule(self.layer_dims, dtype=torch_dtype(self.dtype))

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[np.floating, dict[str, np.ndarray]]:
        """Predictions (N, K) when y is None, else (loss, grads) keyed like params.

        Inputs:
        - X: (N, d1, ..., dk) with d1 * ... * dk = input_dim; cast to dtype.
        - y: None, or float targets (N, K); (N,) is accepted when K = 1.
        """
        X = self._loss_inputs(X)  # (N, D)
        module = on_device(self.module)
        module.load_params(self.params)
        if y is None:
            with torch.no_grad():
                return to_numpy(module(to_tensor(X)))  # (N, K)
        out = module(to_tensor(X))  # (N, K)
        yt = to_tensor(self._targets(y, X.shape[0]))  # (N, K), the model's dtype
        return _value_and_grads(module.training_loss(out, yt), module)
