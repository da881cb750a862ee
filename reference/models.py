"""Whole models of the NumPy reference (SPEC.md §2 "Models").

Two models in the CS231n style: ``params`` is a dict of arrays, and ``loss(X, y=None)``
returns the predictions when ``y`` is None, else ``(loss, grads)`` with ``grads`` keyed
like ``params``. A ``Solver`` (``reference/solver.py``) knows nothing else about them.

- ``FullyConnectedNet``: the classifier of the documents, affine - [batchnorm] - ReLU -
  [dropout] for every hidden layer, an affine output layer, softmax cross-entropy and the
  L2 penalty 0.5 * reg * sum(W**2) on the weights (never on biases, gamma or beta).
- ``RegressionNet``: the dating regression of ``003_*.txt``, ReLU hidden layers and a
  linear output trained with the mean square error, built from GIVEN parameters (the
  document's fixed starting weights, see ``reference/presets.py``). With a single layer
  it is the document's linear model out = X @ W + b.

Both expose their layer structure (``layer_dims``, ``hidden_dims``, ...) so a PyTorch or
Keras twin can be built with the same shapes and load ``params``: weights are stored
(fan_in, fan_out), as ``affine_forward`` uses them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dlparity import validate as v

from .layers import (
    affine_backward,
    affine_batchnorm_relu_backward,
    affine_batchnorm_relu_forward,
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    dropout_backward,
    dropout_forward,
)
from .losses import l2_regularization, mse_loss, softmax_loss

__all__ = ["FullyConnectedNet"]

NORMALIZATIONS = (None, "batchnorm")


# ------------------------------------------------------------------ argument checks


def _check_dims(fn: str, name: str, dims: Any) -> tuple[int, ...]:
    """A list or tuple of positive integers (layer widths)."""
    if isinstance(dims, (str, bytes)) or not isinstance(dims, Sequence):
        raise TypeError(
            f"{fn}: {name} must be a list or tuple of positive integers; "
            f"received {type(dims).__name__} {dims!r}"
        )
    for i, d in enumerate(dims):
        v.check_int(fn, f"{name}[{i}]", d, low=1)
    return tuple(int(d) for d in dims)


def _check_dtype(fn: str, dtype: Any) -> np.dtype:
    """A floating NumPy dtype (np.float32, np.float64, 'float32', ...)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"{fn}: dtype must be a floating NumPy dtype (float32 or float64); "
            f"received {dtype!r}"
        ) from None
    if not np.issubdtype(dt, np.floating):
        raise TypeError(
            f"{fn}: dtype must be a floating NumPy dtype (float32 or float64); received {dt}"
        )
    return dt


def _check_seed(fn: str, seed: Any) -> int | None:
    """None, or a non-negative integer for numpy.random.default_rng."""
    if seed is None:
        return None
    return v.check_int(fn, "seed", seed, low=0)


def _check_inputs(fn: str, X: Any, input_dim: int) -> np.ndarray:
    """X of shape (N, d1, ..., dk) with d1 * ... * dk == input_dim, returned as (N, D)."""
    X = v.as_float_array(fn, "X", X, min_ndim=2, shape_hint="(N, d1, ..., dk)")
    D = int(np.prod(X.shape[1:]))
    if D != input_dim:
        raise ValueError(
            f"{fn}: X must have {input_dim} features per sample (input_dim) once "
            f"flattened; received X.shape={X.shape} ({D} features)"
        )
    return X.reshape(X.shape[0], D)  # (N, D), a view: X is never written


# ---------------------------------------------------------------- FullyConnectedNet


class FullyConnectedNet:
    """A fully connected classifier with any number of hidden layers.

    Architecture, for L = len(hidden_dims) + 1 layers:

        {affine - [batchnorm] - relu - [dropout]} x (L - 1) - affine - softmax

    Parameters (in ``self.params``):
    - W1 ... WL: weights, Wi of shape (layer_dims[i-1], layer_dims[i]), drawn as
      weight_scale * standard normal from ``numpy.random.default_rng(seed)``;
    - b1 ... bL: biases, zeros;
    - gamma1/beta1 ... gamma{L-1}/beta{L-1} (normalization='batchnorm'): ones / zeros.

    Inputs:
    - hidden_dims: list of the hidden layer widths (may be empty: a softmax classifier).
    - input_dim: D, the number of features per sample (X is flattened to (N, D)).
    - num_classes: C >= 2.
    - reg: L2 strength, >= 0; the loss adds 0.5 * reg * sum(W**2) over the weights only.
    - weight_scale: std of the initial weights, > 0.
    - dtype: floating dtype of every parameter and computation (X is cast to it).
    - dropout: the DROP probability p in [0, 1) of every hidden layer; 0 means no dropout
      layers at all.
    - normalization: None or 'batchnorm'.
    - seed: None or an int >= 0. Seeds the weights and, when dropout > 0, is stored in
      ``dropout_param['seed']``: every train-mode call then uses the SAME keep-mask
      ``default_rng(seed).random(shape) >= p`` in every hidden layer (CS231n's behaviour,
      what a numerical gradient check needs). Remove ``dropout_param['seed']`` for a fresh
      mask per call.
    """

    def __init__(
        self,
        hidden_dims: Sequence[int],
        input_dim: int,
        num_classes: int,
        reg: float = 0.0,
        weight_scale: float = 1e-2,
        dtype: Any = np.float32,
        dropout: float = 0.0,
        normalization: str | None = None,
        seed: int | None = None,
    ) -> None:
        fn = "FullyConnectedNet"
        self.hidden_dims = _check_dims(fn, "hidden_dims", hidden_dims)
        self.input_dim = v.check_int(fn, "input_dim", input_dim, low=1)
        self.num_classes = v.check_int(fn, "num_classes", num_classes, low=2)
        self.reg = v.check_scalar(fn, "reg", reg, low=0.0)
        self.weight_scale = v.check_scalar(fn, "weight_scale", weight_scale, low=0.0, low_open=True)
        self.dtype = _check_dtype(fn, dtype)
        self.dropout = v.check_scalar(fn, "dropout", dropout, low=0.0, high=1.0, high_open=True)
        if normalization not in NORMALIZATIONS:
            raise ValueError(
                f"{fn}: normalization must be one of {NORMALIZATIONS}; "
                f"received normalization={normalization!r}"
            )
        self.normalization = normalization
        self.seed = _check_seed(fn, seed)

        self.layer_dims = (self.input_dim, *self.hidden_dims, self.num_classes)
        self.num_layers = len(self.layer_dims) - 1
        self.use_dropout = self.dropout > 0
        self.params = self._init_params()

        # State containers by design: the dropout setting and one bn_param per hidden layer.
        self.dropout_param: dict[str, Any] = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": self.dropout}
            if self.seed is not None:
                self.dropout_param["seed"] = self.seed
        self.bn_params: list[dict[str, Any]] = []
        if self.normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for _ in self.hidden_dims]

    def _init_params(self) -> dict[str, np.ndarray]:
        """W ~ weight_scale * N(0, 1), drawn in float64 then cast; b = 0; gamma = 1; beta = 0."""
        rng = np.random.default_rng(self.seed)
        params = {}
        for i in range(1, self.num_layers + 1):
            d_in, d_out = self.layer_dims[i - 1], self.layer_dims[i]
            w = self.weight_scale * rng.standard_normal((d_in, d_out))  # (d_in, d_out)
            params[f"W{i}"] = w.astype(self.dtype)
            params[f"b{i}"] = np.zeros(d_out, dtype=self.dtype)  # (d_out,)
            if self.normalization == "batchnorm" and i < self.num_layers:
                params[f"gamma{i}"] = np.ones(d_out, dtype=self.dtype)  # (d_out,)
                params[f"beta{i}"] = np.zeros(d_out, dtype=self.dtype)  # (d_out,)
        return params

    @property
    def config(self) -> dict[str, Any]:
        """The constructor arguments: ``FullyConnectedNet(**model.config)`` rebuilds the
        architecture (and, with the same seed, the same initial parameters)."""
        return {
            "hidden_dims": list(self.hidden_dims),
            "input_dim": self.input_dim,
            "num_classes": self.num_classes,
            "reg": self.reg,
            "weight_scale": self.weight_scale,
            "dtype": self.dtype,
            "dropout": self.dropout,
            "normalization": self.normalization,
            "seed": self.seed,
        }

    def _set_mode(self, mode: str) -> None:
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        for bn_param in self.bn_params:
            bn_param["mode"] = mode

    def _hidden_forward(self, i: int, h: np.ndarray) -> tuple[np.ndarray, tuple]:
        """Hidden layer i (1-based): affine - [batchnorm] - relu - [dropout]."""
        w, b = self.params[f"W{i}"], self.params[f"b{i}"]
        if self.normalization == "batchnorm":
            gamma, beta = self.params[f"gamma{i}"], self.params[f"beta{i}"]
            h, layer_cache = affine_batchnorm_relu_forward(
                h, w, b, gamma, beta, self.bn_params[i - 1]
            )  # (N, d_i)
        else:
            h, layer_cache = affine_relu_forward(h, w, b)  # (N, d_i)
        drop_cache = None
        if self.use_dropout:
            h, drop_cache = dropout_forward(h, self.dropout_param)  # (N, d_i)
        return h, (layer_cache, drop_cache)

    def _hidden_backward(self, i: int, dh: np.ndarray, cache: tuple, grads: dict) -> np.ndarray:
        """Backward pass of hidden layer i; stores its parameter gradients into grads."""
        layer_cache, drop_cache = cache
        if self.use_dropout:
            dh = dropout_backward(dh, drop_cache)  # (N, d_i)
        if self.normalization == "batchnorm":
            dx, dw, db, dgamma, dbeta = affine_batchnorm_relu_backward(dh, layer_cache)
            grads[f"gamma{i}"], grads[f"beta{i}"] = dgamma, dbeta
        else:
            dx, dw, db = affine_relu_backward(dh, layer_cache)
        grads[f"W{i}"], grads[f"b{i}"] = dw, db
        return dx  # (N, d_{i-1})

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[np.floating, dict[str, np.ndarray]]:
        """Scores (test mode, y is None) or loss and gradients (train mode).

        Inputs:
        - X: float array (N, d1, ..., dk) with d1 * ... * dk = input_dim; cast to dtype.
        - y: None, or integer labels (N,) with 0 <= y[i] < num_classes.

        Returns:
        - y is None: scores, (N, C) of dtype; dropout is off and batch norm uses its
          running statistics.
        - otherwise (loss, grads): loss a NumPy scalar of dtype, softmax cross-entropy
          averaged over N plus 0.5 * reg * sum(W**2) over W1..WL; grads a dict with the
          keys of params, each gradient of its parameter's shape.
        """
        fn = "FullyConnectedNet.loss"
        X = _check_inputs(fn, X, self.input_dim).astype(self.dtype, copy=False)  # (N, D)
        if y is not None:
            v.check_labels(fn, "y", y, X.shape[0], self.num_classes)
        self._set_mode("test" if y is None else "train")

        h, caches = X, []
        for i in range(1, self.num_layers):
            h, cache = self._hidden_forward(i, h)  # (N, d_i)
            caches.append(cache)
        L = self.num_layers
        scores, out_cache = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])  # (N, C)
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)  # scalar, (N, C)
        grads: dict[str, np.ndarray] = {}
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, out_cache)
        for i in range(L - 1, 0, -1):
            dh = self._hidden_backward(i, dh, caches[i - 1], grads)
        for i in range(1, L + 1):
            penalty, dw = l2_regularization(self.params[f"W{i}"], self.reg)
            loss = loss + penalty
            grads[f"W{i}"] = grads[f"W{i}"] + dw
        return loss, grads


# -------------------------------------------------------------------- RegressionNet


def _layer_count(fn: str, params: Mapping[str, Any]) -> int:
    """L such that the keys of params are exactly W1, b1, ..., WL, bL."""
    L = sum(1 for k in params if isinstance(k, str) and k.startswith("W"))
    expected = {f"{p}{i}" for i in range(1, L + 1) for p in "Wb"}
    if L == 0 or set(params) != expected:
        raise ValueError(
            f"{fn}: params must have exactly the keys W1, b1, ..., WL, bL; "
            f"received keys {sorted(params)}"
        )
    return L


class RegressionNet:
    """A fully connected regression net built from given parameters.

    Architecture, for L layers: {affine - relu} x (L - 1) - affine, trained with the mean
    square error (1/N) sum_i sum_k (out_ik - y_ik)^2 (``mse_loss``). With L = 1 it is the
    linear model out = X @ W1 + b1 of the dating example.

    Inputs:
    - params: dict with the keys W1, b1, ..., WL, bL; Wi of shape (d_{i-1}, d_i), bi of
      shape (d_i,), chaining (d_0 = input features, d_L = K outputs). The arrays are
      COPIED (the caller's arrays, e.g. a preset's starting weights, are never changed).
    - dtype: floating dtype of the copies; None keeps W1's dtype (all must share it).
    """

    def __init__(self, params: Mapping[str, np.ndarray], dtype: Any = None) -> None:
        fn = "RegressionNet"
        if not isinstance(params, Mapping):
            raise TypeError(
                f"{fn}: params must be a dict of arrays; received {type(params).__name__}"
            )
        L = _layer_count(fn, params)
        arrays = {k: v.as_float_array(fn, f"params['{k}']", a) for k, a in params.items()}
        self.dtype = _check_dtype(fn, arrays["W1"].dtype if dtype is None else dtype)
        if dtype is None:
            for k, a in arrays.items():
                if a.dtype != self.dtype:
                    raise TypeError(
                        f"{fn}: every parameter must have W1's dtype {self.dtype} (or pass "
                        f"dtype=); received params['{k}'].dtype={a.dtype}"
                    )
        for i in range(1, L + 1):
            v.as_float_array(fn, f"params['W{i}']", arrays[f"W{i}"], ndim=2, shape_hint="(D, M)")
        dims = [arrays["W1"].shape[0]]  # layer widths d_0, d_1, ...
        for i in range(1, L + 1):
            w = arrays[f"W{i}"]
            if w.shape[0] != dims[-1]:
                raise ValueError(
                    f"{fn}: params['W{i}'] must have {dims[-1]} rows (the width of layer "
                    f"{i - 1}); received params['W{i}'].shape={w.shape}"
                )
            dims.append(w.shape[1])
            v.check_shape(fn, f"params['b{i}']", arrays[f"b{i}"], (w.shape[1],), f"from W{i}")
        self.layer_dims = tuple(int(d) for d in dims)
        self.input_dim = self.layer_dims[0]
        self.hidden_dims = self.layer_dims[1:-1]
        self.output_dim = self.layer_dims[-1]
        self.num_layers = L
        self.params = {k: np.array(a, dtype=self.dtype) for k, a in arrays.items()}  # copies

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[np.floating, dict[str, np.ndarray]]:
        """Predictions (y is None) or the MSE loss and gradients.

        Inputs:
        - X: float array (N, d1, ..., dk) with d1 * ... * dk = input_dim; cast to dtype.
        - y: None, or float targets (N, K); (N,) is accepted when K = 1.

        Returns:
        - y is None: predictions, (N, K) of dtype.
        - otherwise (loss, grads): loss = (1/N) sum (out - y)^2, a NumPy scalar of dtype;
          grads a dict with the keys of params.
        """
        fn = "RegressionNet.loss"
        X = _check_inputs(fn, X, self.input_dim).astype(self.dtype, copy=False)  # (N, D)
        h, caches = X, []
        for i in range(1, self.num_layers):
            h, cache = affine_relu_forward(h, self.params[f"W{i}"], self.params[f"b{i}"])
            caches.append(cache)  # h: (N, d_i)
        L = self.num_layers
        out, out_cache = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])  # (N, K)
        if y is None:
            return out

        y = v.as_float_array(fn, "y", y, ndim=(1, 2), shape_hint="(N, K)")
        if y.ndim == 1 and self.output_dim == 1:
            y = y.reshape(-1, 1)  # (N, 1)
        v.check_shape(fn, "y", y, out.shape, "(the predictions' shape (N, K))")
        loss, dout = mse_loss(out, y.astype(self.dtype, copy=False))  # scalar, (N, K)
        grads: dict[str, np.ndarray] = {}
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dout, out_cache)
        for i in range(L - 1, 0, -1):
            dh, grads[f"W{i}"], grads[f"b{i}"] = affine_relu_backward(dh, caches[i - 1])
        return loss, grads
