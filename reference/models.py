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

import numpy as np

from dlparity.bases.models import FullyConnectedNetBase, RegressionNetBase
from dlparity.catalogue import names_in

from .layers import (
    affine_backward,
    affine_batchnorm_relu_backward,
    affine_batchnorm_relu_forward,
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    batchnorm_backward,
    dropout_backward,
    dropout_forward,
    relu_backward,
)
from .losses import l2_regularization, mse_loss, softmax_loss

__all__ = names_in("models")  # the catalogue's names (dlparity.catalogue)


# ---------------------------------------------------------------- FullyConnectedNet


class FullyConnectedNet(FullyConnectedNetBase):
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

    The constructor (these checks, parameters, ``config``, ``dropout_param``,
    ``bn_params``) is ``dlparity.bases.models.FullyConnectedNetBase``, shared by every
    implementation: one seed gives these same initial weights in torch_impl and tf_impl.
    """

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

    def _hidden_backward(self, i: int, dh: np.ndarray, cache: tuple,
                         grads: dict) -> np.ndarray | None:
        """Backward pass of hidden layer i; stores its parameter gradients into grads and
        returns the gradient of its input (None for layer 1: see _first_layer_backward)."""
        layer_cache, drop_cache = cache
        if self.use_dropout:
            dh = dropout_backward(dh, drop_cache)  # (N, d_i)
        if i == 1:
            return self._first_layer_backward(dh, layer_cache, grads)
        if self.normalization == "batchnorm":
            dx, dw, db, dgamma, dbeta = affine_batchnorm_relu_backward(dh, layer_cache)
            grads[f"gamma{i}"], grads[f"beta{i}"] = dgamma, dbeta
        else:
            dx, dw, db = affine_relu_backward(dh, layer_cache)
        grads[f"W{i}"], grads[f"b{i}"] = dw, db
        return dx  # (N, d_{i-1})

    def _first_layer_backward(self, dh: np.ndarray, layer_cache: tuple, grads: dict) -> None:
        """Layer 1's composite backward, without its dx: nothing needs the gradient of the
        input batch, and dx = da @ W1.T is the largest product of a training step on
        image-sized inputs (about a third of the MNIST net's arithmetic). The same steps
        as affine_[batchnorm_]relu_backward, and affine_backward's dw = x.T @ da, db."""
        if self.normalization == "batchnorm":
            fc_cache, bn_cache, relu_cache = layer_cache
            da = relu_backward(dh, relu_cache)  # (N, d_1)
            da, grads["gamma1"], grads["beta1"] = batchnorm_backward(da, bn_cache)
        else:
            fc_cache, relu_cache = layer_cache
            da = relu_backward(dh, relu_cache)  # (N, d_1)
        x = fc_cache[0]
        x_flat = x.reshape(x.shape[0], -1)  # (N, D)
        grads["W1"], grads["b1"] = x_flat.T @ da, da.sum(axis=0)  # (D, d_1), (d_1,)
        return None

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
        X = self._loss_inputs(X, y)  # (N, D); sets the train/test mode

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


class RegressionNet(RegressionNetBase):
    """A fully connected regression net built from given parameters.

    Architecture, for L layers: {affine - relu} x (L - 1) - affine, trained with the mean
    square error (1/N) sum_i sum_k (out_ik - y_ik)^2 (``mse_loss``). With L = 1 it is the
    linear model out = X @ W1 + b1 of the dating example.

    Inputs:
    - params: dict with the keys W1, b1, ..., WL, bL; Wi of shape (d_{i-1}, d_i), bi of
      shape (d_i,), chaining (d_0 = input features, d_L = K outputs). The arrays are
      COPIED (the caller's arrays, e.g. a preset's starting weights, are never changed).
    - dtype: floating dtype of the copies; None keeps W1's dtype (all must share it).

    The constructor and its checks are ``dlparity.bases.models.RegressionNetBase``,
    shared by every implementation.
    """

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
        X = self._loss_inputs(X)  # (N, D)
        h, caches = X, []
        for i in range(1, self.num_layers):
            h, cache = affine_relu_forward(h, self.params[f"W{i}"], self.params[f"b{i}"])
            caches.append(cache)  # h: (N, d_i)
        L = self.num_layers
        out, out_cache = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])  # (N, K)
        if y is None:
            return out

        y = self._targets(y, X.shape[0])  # (N, K)
        loss, dout = mse_loss(out, y)  # scalar, (N, K)
        grads: dict[str, np.ndarray] = {}
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dout, out_cache)
        for i in range(L - 1, 0, -1):
            dh, grads[f"W{i}"], grads[f"b{i}"] = affine_relu_backward(dh, caches[i - 1])
        return loss, grads
