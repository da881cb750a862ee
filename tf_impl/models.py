"""Whole models with Keras and TensorFlow (SPEC.md §2 "Models").

Three layers of API, so one set of initial weights can be trained three ways (reference
Solver, this package's Solver, a Keras training step: ``tf_impl.training.Trainer``):

(a) Idiomatic Keras: ``build_fc_model`` / ``build_regression_model`` return a
    ``keras.Sequential`` whose layers are named after the reference's parameters
    (``affine{i}`` holds W{i}, b{i} -- a Dense kernel is (fan_in, fan_out) like W --,
    ``batchnorm{i}`` holds gamma{i}, beta{i} and the running statistics);
    ``load_params`` / ``export_params`` / ``export_bn_params`` move a reference ``params``
    dict in and out; ``training_loss`` is the SPEC loss of such a model (data loss plus
    its ``HalfL2`` penalties), used by the models below and by ``tf_impl.training``.
(b) ``FullyConnectedNet``: the SPEC API (constructor arguments, ``params`` dict of NumPy
    arrays, ``loss(X, y=None)``), computed with the Keras model and GradientTape; its
    constructor (checks, seeded initial weights, state dicts) is the one every
    implementation shares, ``dlparity.bases.models.FullyConnectedNetBase``.
(c) ``RegressionNet``: the dating regression net, the SPEC API likewise
    (``dlparity.bases.models.RegressionNetBase``).

Keras settings that make the model compute the SPEC formulas: BatchNormalization with
momentum 0.9 and epsilon 1e-5 (Keras's defaults are 0.99 and 1e-3; its moving variance is
the biased one, as SPEC's default); the L2 penalty 0.5 * reg * sum(W**2) on the kernels only
through ``HalfL2`` (``keras.regularizers.L2`` has no 1/2 and casts its factor through float32);
every layer built in the model's dtype (float64 capable); the softmax cross-entropy is
``keras.losses.SparseCategoricalCrossentropy(from_logits=True)`` in that dtype; the mean
square error is summed over K and averaged over N with tf ops (Keras's averages over K too).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from dlparity.bases.models import FullyConnectedNetBase, RegressionNetBase
from dlparity.catalogue import names_in
from dlparity.contract import layers as contract_layers

from . import _convert
from .layers import _dropout

__all__ = names_in("models")  # the catalogue's names (dlparity.catalogue)

# ----------------------------------------------------------- (a) the Keras models


class HalfL2(keras.regularizers.Regularizer):
    """SPEC's L2 penalty 0.5 * reg * sum(W**2) = reg * tf.nn.l2_loss(W), in W's dtype."""

    def __init__(self, reg: float) -> None:
        self.reg = float(reg)

    def __call__(self, w: tf.Tensor) -> tf.Tensor:
        return self.reg * tf.nn.l2_loss(w)

    def get_config(self) -> dict[str, float]:
        return {"reg": self.reg}


def build_fc_model(
    layer_dims: Sequence[int],
    *,
    reg: float = 0.0,
    dropout: float = 0.0,
    normalization: str | None = None,
    dtype: Any = np.float32,
    seed: int | None = None,
) -> keras.Sequential:
    """The FullyConnectedNet architecture as a Keras model:

        {affine - [batchnorm] - relu - [dropout]} x (L - 1) - affine   (scores, no softmax)

    Inputs:
    - layer_dims: (input_dim, hidden..., num_classes).
    - reg: L2 strength; HalfL2(reg) on every kernel (none on biases, gamma, beta).
    - dropout: DROP probability of every hidden layer (0: no Dropout layers); Keras draws
      the masks (seeded with ``seed``).
    - normalization: None or 'batchnorm' (momentum 0.9, epsilon 1e-5).
    - dtype: dtype of every layer and variable.

    Returns:
    - a keras.Sequential with layers named affine{i}, batchnorm{i}, relu{i}, dropout{i}.
    """
    dtype = np.dtype(dtype).name
    regularizer = HalfL2(reg) if reg else None
    L = len(layer_dims) - 1
    layers: list[Any] = [keras.Input((layer_dims[0],), dtype=dtype)]
    for i in range(1, L + 1):
        layers.append(keras.layers.Dense(layer_dims[i], kernel_regularizer=regularizer,
                                         dtype=dtype, name=f"affine{i}"))
        if i == L:
            break
        if normalization == "batchnorm":
            layers.append(keras.layers.BatchNormalization(
                momentum=contract_layers.BN_MOMENTUM, epsilon=contract_layers.BN_EPS,
                dtype=dtype, name=f"batchnorm{i}"))
        layers.append(keras.layers.ReLU(dtype=dtype, name=f"relu{i}"))
        if dropout:
            layers.append(keras.layers.Dropout(dropout, seed=seed, dtype=dtype,
                                               name=f"dropout{i}"))
    return keras.Sequential(layers, name="fully_connected_net")


def build_regression_model(layer_dims: Sequence[int], *, dtype: Any = np.float64
                           ) -> keras.Sequential:
    """The RegressionNet architecture, {affine - relu} x (L - 1) - affine, as a Keras model
    (layers named affine{i}, relu{i})."""
    dtype = np.dtype(dtype).name
    L = len(layer_dims) - 1
    layers: list[Any] = [keras.Input((layer_dims[0],), dtype=dtype)]
    for i in range(1, L + 1):
        layers.append(keras.layers.Dense(layer_dims[i], dtype=dtype, name=f"affine{i}"))
        if i < L:
            layers.append(keras.layers.ReLU(dtype=dtype, name=f"relu{i}"))
    return keras.Sequential(layers, name="regression_net")


def param_variables(model: keras.Model) -> dict[str, tf.Variable]:
    """The model's trainable variables under the reference's names W1, b1, gamma1, ..."""
    out: dict[str, tf.Variable] = {}
    for layer in model.layers:
        if layer.name.startswith("affine"):
            i = layer.name[len("affine"):]
            out[f"W{i}"], out[f"b{i}"] = layer.kernel, layer.bias
        elif layer.name.startswith("batchnorm"):
            i = layer.name[len("batchnorm"):]
            out[f"gamma{i}"], out[f"beta{i}"] = layer.gamma, layer.beta
    return out


def _batchnorm_layers(model: keras.Model) -> list[keras.layers.BatchNormalization]:
    return [layer for layer in model.layers if layer.name.startswith("batchnorm")]


def load_params(model: keras.Model, params: Mapping[str, np.ndarray],
                bn_params: Sequence[Mapping[str, Any]] | None = None) -> None:
    """Copy a reference ``params`` dict (and the running statistics of ``bn_params``, one
    dict per hidden layer; missing statistics mean zeros / ones) into the Keras model."""
    variables = param_variables(model)
    if set(params) != set(variables):
        raise ValueError(
            f"load_params: params must have the keys {sorted(variables)}; "
            f"received keys {sorted(params)}"
        )
    with _convert.device():
        for name, var in variables.items():
            var.assign(_convert.to_tensor(params[name], np.dtype(var.dtype)))
        for layer, bn_param in zip(_batchnorm_layers(model), bn_params or (), strict=False):
            if bn_param.get("running_var_unbiased", False):
                raise ValueError(
                    "load_params: Keras's BatchNormalization updates its moving variance "
                    "with the biased batch variance; received running_var_unbiased=True"
                )
            mean, var = layer.moving_mean, layer.moving_variance
            d, dt = mean.shape, np.dtype(mean.dtype)
            mean.assign(_convert.to_tensor(bn_param.get("running_mean", np.zeros(d)), dt))
            var.assign(_convert.to_tensor(bn_param.get("running_var", np.ones(d)), dt))


def export_params(model: keras.Model) -> dict[str, np.ndarray]:
    """The model's parameters as a reference ``params`` dict of NumPy arrays (copies)."""
    return {name: _convert.to_numpy(var) for name, var in param_variables(model).items()}


def export_bn_params(model: keras.Model) -> list[dict[str, np.ndarray]]:
    """The running statistics, one {'running_mean', 'running_var'} dict per hidden layer."""
    return [
        {"running_mean": _convert.to_numpy(layer.moving_mean),
         "running_var": _convert.to_numpy(layer.moving_variance)}
        for layer in _batchnorm_layers(model)
    ]


def sum_penalties(model: keras.Model) -> tf.Tensor | float:
    """The regularisation losses of the model (HalfL2 of every kernel), summed; 0.0 if none."""
    losses = model.losses  # computed on access: read once
    return tf.add_n(losses) if losses else 0.0


def mse(y: tf.Tensor, out: tf.Tensor) -> tf.Tensor:
    """SPEC's mean square error: summed over K, averaged over N (Keras averages over K too)."""
    return tf.reduce_sum(tf.math.squared_difference(out, y)) / out.shape[0]


def training_loss(model: keras.Model, task: str = "classification",
                  dtype: Any = np.float32) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    """SPEC's training loss of a model from ``build_fc_model`` / ``build_regression_model``.

    Inputs:
    - model: the Keras model (its HalfL2 penalties are added).
    - task: 'classification' (softmax cross-entropy on the scores averaged over N,
      ``keras.losses.SparseCategoricalCrossentropy(from_logits=True)``) or 'regression'
      (``mse``).
    - dtype: the model's dtype, in which the cross-entropy computes.

    Returns:
    - loss(y, outputs) -> scalar tensor: the data loss + ``sum_penalties(model)``.
    """
    if task == "regression":
        data_loss: Callable = mse
    else:
        data_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                               dtype=np.dtype(dtype).name)

    def loss(y: tf.Tensor, out: tf.Tensor) -> tf.Tensor:
        return data_loss(y, out) + sum_penalties(model)

    return loss


# ---------------------------------------------------------------- (b), (c): SPEC API


class _KerasBacked:
    """What FullyConnectedNet and RegressionNet share: a Keras model behind a ``params``
    dict of NumPy arrays, loaded before every ``loss`` call, gradients from a tape."""

    keras_model: keras.Model
    params: dict[str, np.ndarray]
    dtype: np.dtype

    def _value_and_grads(self, loss: Callable[[], tf.Tensor]) -> tuple[Any, dict]:
        """loss() recorded on a tape -> (NumPy scalar, grads dict keyed like params)."""
        variables = param_variables(self.keras_model)
        names = list(self.params)
        with tf.GradientTape() as tape:
            value = loss()
        grads = tape.gradient(value, [variables[k] for k in names],
                              unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return _convert.to_numpy(value), {
            k: _convert.to_numpy(g) for k, g in zip(names, grads, strict=True)
        }


class FullyConnectedNet(_KerasBacked, FullyConnectedNetBase):
    """A fully connected classifier, the SPEC API, computed by a Keras model.

        {affine - [batchnorm] - relu - [dropout]} x (L - 1) - affine - softmax

    Constructor arguments (hidden_dims, input_dim, num_classes, reg, weight_scale, dtype,
    dropout, normalization, seed), their checks, ``params``, ``config``, ``dropout_param``,
    ``bn_params`` and the initial weights are ``dlparity.bases.models.FullyConnectedNetBase``'s:
    weight_scale * N(0, 1) from ``numpy.random.default_rng(seed)``, so one seed gives the
    reference's (and torch_impl's) starting weights. As in the reference, with dropout > 0
    and a seed, every train-mode call uses the SPEC keep-mask
    default_rng(seed).random(shape) >= p in every hidden layer (the reference's masks);
    without a seed the Keras Dropout layers draw fresh masks.

    Attributes besides the base's: keras_model (from ``build_fc_model``; its
    BatchNormalization layers are kept in step with ``bn_params``: mode and running
    statistics).
    """

    def _build(self) -> None:
        with _convert.device():
            self.keras_model = build_fc_model(
                self.layer_dims, reg=self.reg, dropout=self.dropout,
                normalization=self.normalization, dtype=self.dtype, seed=self.seed,
            )
        self._training_loss = training_loss(self.keras_model, "classification", self.dtype)

    def _scores(self, X: tf.Tensor, training: bool) -> tf.Tensor:
        """The Keras model's layers in turn; a seeded SPEC keep-mask replaces Keras's
        dropout mask in train mode (see the class docstring)."""
        masks = self._dropout_masks(X.shape[0]) if training else None  # [(N, d_i)] or None
        h = X
        for layer in self.keras_model.layers:
            if masks and isinstance(layer, keras.layers.Dropout):
                h = _dropout(h, _convert.to_tensor(masks.pop(0)), self.dropout_param["p"])
            else:
                h = layer(h, training=training)
        return h  # (N, C)

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[np.floating, dict[str, np.ndarray]]:
        """Scores (N, C) of the Keras model in inference mode when y is None (dropout off,
        batch norm on the running statistics); else (loss, grads) in training mode: the
        softmax cross-entropy averaged over N plus the HalfL2 penalties 0.5 * reg * sum(W**2),
        a NumPy scalar of dtype, and its GradientTape gradients keyed like params (the
        batch norm running statistics are then copied into ``bn_params``).

        Inputs: X (N, d1, ..., dk) with d1 * ... * dk = input_dim, cast to dtype; y None or
        integer labels (N,) in [0, num_classes).
        """
        X = self._loss_inputs(X, y)  # (N, D); sets the train/test mode
        load_params(self.keras_model, self.params, self.bn_params)
        with _convert.device():
            X_t = _convert.to_tensor(X)
            if y is None:
                return _convert.to_numpy(self._scores(X_t, training=False))
            y_t = _convert.to_tensor(y, np.int64)

            def loss() -> tf.Tensor:
                scores = self._scores(X_t, training=True)  # (N, C)
                return self._training_loss(y_t, scores)

            value, grads = self._value_and_grads(loss)
        for bn_param, stats in zip(self.bn_params, export_bn_params(self.keras_model),
                                   strict=True):
            bn_param.update(stats)
        return value, grads


class RegressionNet(_KerasBacked, RegressionNetBase):
    """The dating regression net, the SPEC API, computed by a Keras model:
    {affine - relu} x (L - 1) - affine, mean square error summed over K, averaged over N.

    Inputs (checked by ``dlparity.bases.models.RegressionNetBase``):
    - params: dict with the keys W1, b1, ..., WL, bL (Wi (d_{i-1}, d_i), bi (d_i,)); the
      arrays are COPIED.
    - dtype: floating dtype of the copies; None keeps W1's dtype (all must share it).
    """

    def _build(self) -> None:
        with _convert.device():
            self.keras_model = build_regression_model(self.layer_dims, dtype=self.dtype)
        self._training_loss = training_loss(self.keras_model, "regression", self.dtype)

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[np.floating, dict[str, np.ndarray]]:
        """Predictions (N, K) of the Keras model when y is None, else (loss, grads): the
        mean square error (1/N) sum (out - y)^2 as a NumPy scalar of dtype, gradients from
        a GradientTape keyed like params.

        Inputs: X (N, d1, ..., dk) with d1 * ... * dk = input_dim, cast to dtype; y None
        or float targets (N, K), (N,) when K = 1.
        """
        X = self._loss_inputs(X)  # (N, D)
        load_params(self.keras_model, self.params)
        if y is not None:
            y = self._targets(y, X.shape[0])  # (N, K)
        with _convert.device():
            X_t = _convert.to_tensor(X)
            if y is None:
                return _convert.to_numpy(self.keras_model(X_t))
            y_t = _convert.to_tensor(y, self.dtype)
            return self._value_and_grads(lambda: self._training_loss(y_t, self.keras_model(X_t)))
