"""Whole models with Keras and TensorFlow (SPEC.md §2 "Models").

Three layers of API, so one set of initial weights can be trained three ways (reference
Solver, this package's Solver, a Keras training step):

(a) Idiomatic Keras: ``build_fc_model`` / ``build_regression_model`` return a
    ``keras.Sequential`` whose layers are named after the reference's parameters
    (``affine{i}`` holds W{i}, b{i} -- a Dense kernel is (fan_in, fan_out) like W --,
    ``batchnorm{i}`` holds gamma{i}, beta{i} and the running statistics);
    ``load_params`` / ``export_params`` / ``export_bn_params`` move a reference ``params``
    dict in and out; ``AdamTrainer`` is a ``tf.function`` step (forward, backward, the SPEC
    Adam update of ``optim.adam_update``).
(b) ``FullyConnectedNet``: the reference's API (constructor arguments, ``params`` dict of
    NumPy arrays, ``loss(X, y=None)``), computed with the Keras model and GradientTape.
(c) ``RegressionNet``: the dating regression net, the reference's API likewise.

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

from dlparity import validate as v
from dlparity.contract import layers as contract_layers
from dlparity.contract import optim as contract_optim

from . import _convert
from .layers import _dropout, keep_mask
from .optim import adam_update

__all__ = ["FullyConnectedNet"]

NORMALIZATIONS = (None, "batchnorm")


# ------------------------------------------------------------------ argument checks
# The reference's checks (same messages); they belong in a shared contract module.


def _check_dims(fn: str, name: str, dims: Any) -> tuple[int, ...]:
    """A list or tuple of positive integers (layer widths)."""
    if isinstance(dims, (str, bytes)) or not isinstance(dims, Sequence):
        raise TypeError(
            f"{fn}: {name} must be a list or tuple of positive integers; "
            f"received {type(dims).__name__} {dims!r}"
        )
    return tuple(v.check_int(fn, f"{name}[{i}]", d, low=1) for i, d in enumerate(dims))


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


def _sum_penalties(model: keras.Model) -> tf.Tensor | float:
    """The regularisation losses of the model (HalfL2 of every kernel), summed."""
    losses = model.losses  # computed on access: read once
    return tf.add_n(losses) if losses else 0.0


def mse(y: tf.Tensor, out: tf.Tensor) -> tf.Tensor:
    """SPEC's mean square error: summed over K, averaged over N (Keras averages over K too)."""
    return tf.reduce_sum(tf.math.squared_difference(out, y)) / out.shape[0]


class AdamTrainer:
    """A ``tf.function`` training step for a Keras model: forward, backward (GradientTape),
    the SPEC Adam update (``optim.adam_update``, textbook bias correction, epsilon outside
    the sqrt; not ``keras.optimizers.Adam``, whose update is the eps-hat form).

    Inputs:
    - model: a Keras model (e.g. from ``build_fc_model``), its parameters already loaded.
    - loss: ``loss(y, outputs) -> scalar``; default the softmax cross-entropy on logits
      (``keras.losses.SparseCategoricalCrossentropy(from_logits=True)``) in the model's
      dtype. The model's regularisation losses are added.
    - optim_config: Adam hyper-parameters in SPEC terms (learning_rate, beta1, beta2,
      epsilon, bias_correction), defaults from ``dlparity.contract.optim``.

    ``step(X, y)`` takes NumPy arrays and returns the loss as a Python float; ``state``
    returns the optimizer state in SPEC terms (one {'m', 'v', 't'} per parameter name).
    """

    def __init__(self, model: keras.Model, loss: Callable | None = None,
                 optim_config: dict | None = None) -> None:
        self.model = model
        dtype = model.inputs[0].dtype
        self.dtype = np.dtype(dtype if isinstance(dtype, str) else dtype.name)
        one = np.zeros(1, self.dtype)
        config = contract_optim.adam(one, one, dict(optim_config or {}))
        self.hyper = {k: config[k] for k in contract_optim.DEFAULTS["adam"]}
        self.loss = loss or keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, dtype=self.dtype.name)
        with _convert.device():
            self.variables = param_variables(model)
            self.m = {k: tf.Variable(tf.zeros_like(w)) for k, w in self.variables.items()}
            self.v = {k: tf.Variable(tf.zeros_like(w)) for k, w in self.variables.items()}
            self.t = tf.Variable(0.0, dtype=self.dtype.name)
        self._step = tf.function(self._train_step, reduce_retracing=True)

    def _train_step(self, X: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        names = list(self.variables)
        with tf.GradientTape() as tape:
            out = self.model(X, training=True)
            value = self.loss(y, out) + _sum_penalties(self.model)
        grads = tape.gradient(value, [self.variables[k] for k in names])
        self.t.assign_add(1.0)
        for k, g in zip(names, grads, strict=True):
            w = self.variables[k]
            next_w, m, v = adam_update(w, g, self.m[k], self.v[k], self.t, **self.hyper)
            w.assign(next_w)
            self.m[k].assign(m)
            self.v[k].assign(v)
        return value

    def step(self, X: np.ndarray, y: np.ndarray) -> float:
        """One update on the batch (X, y); returns the loss before the update."""
        with _convert.device():
            X = _convert.to_tensor(X, self.dtype)
            y = _convert.to_tensor(y)
            return float(_convert.to_numpy(self._step(X, y)))

    @property
    def state(self) -> dict[str, dict[str, Any]]:
        """The Adam state in SPEC config terms, keyed by parameter name."""
        t = int(_convert.to_numpy(self.t))
        return {
            k: {**self.hyper, "m": _convert.to_numpy(self.m[k]),
                "v": _convert.to_numpy(self.v[k]), "t": t}
            for k in self.variables
        }


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


class FullyConnectedNet(_KerasBacked):
    """A fully connected classifier, the reference's API, computed by a Keras model.

        {affine - [batchnorm] - relu - [dropout]} x (L - 1) - affine - softmax

    Constructor arguments as the reference's FullyConnectedNet (hidden_dims, input_dim,
    num_classes, reg, weight_scale, dtype, dropout, normalization, seed). The initial
    weights are weight_scale * N(0, 1) from TF's RNG (``tf.random.Generator``, seeded
    with ``seed``): the SAME seed does NOT give the reference's numbers -- copy ``params``
    across to compare. As in the reference, with dropout > 0 and a seed, every train-mode
    call uses the SPEC keep-mask default_rng(seed).random(shape) >= p in every hidden layer
    (the reference's masks); without a seed the Keras Dropout layers draw fresh masks.

    Attributes: params (W1, b1, [gamma1, beta1], ...), dropout_param, bn_params (one dict
    per hidden layer: mode and the running statistics, kept in step with the Keras
    BatchNormalization layers), keras_model, layer_dims, num_layers.
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
        self.weight_scale = v.check_scalar(fn, "weight_scale", weight_scale, low=0.0,
                                           low_open=True)
        self.dtype = _check_dtype(fn, dtype)
        self.dropout = v.check_scalar(fn, "dropout", dropout, low=0.0, high=1.0,
                                      high_open=True)
        if normalization not in NORMALIZATIONS:
            raise ValueError(
                f"{fn}: normalization must be one of {NORMALIZATIONS}; "
                f"received normalization={normalization!r}"
            )
        self.normalization = normalization
        self.seed = None if seed is None else v.check_int(fn, "seed", seed, low=0)

        self.layer_dims = (self.input_dim, *self.hidden_dims, self.num_classes)
        self.num_layers = len(self.layer_dims) - 1
        self.use_dropout = self.dropout > 0
        with _convert.device():
            self.keras_model = build_fc_model(
                self.layer_dims, reg=self.reg, dropout=self.dropout,
                normalization=normalization, dtype=self.dtype, seed=self.seed,
            )
        self._cross_entropy = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, dtype=self.dtype.name)
        self.params = self._init_params()
        self.dropout_param: dict[str, Any] = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": self.dropout}
            if self.seed is not None:
                self.dropout_param["seed"] = self.seed
        self.bn_params: list[dict[str, Any]] = []
        if normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for _ in self.hidden_dims]

    def _init_params(self) -> dict[str, np.ndarray]:
        """W ~ weight_scale * N(0, 1) from TF's RNG (float64, cast); b = 0; gamma = 1; beta = 0."""
        if self.seed is None:
            rng = tf.random.Generator.from_non_deterministic_state()
        else:
            rng = tf.random.Generator.from_seed(self.seed)
        params = {}
        with _convert.device():
            for name, var in param_variables(self.keras_model).items():
                if name.startswith("W"):
                    w = self.weight_scale * rng.normal(var.shape, dtype=tf.float64)
                elif name.startswith("gamma"):
                    w = tf.ones(var.shape)
                else:  # b, beta
                    w = tf.zeros(var.shape)
                params[name] = _convert.to_numpy(tf.cast(w, self.dtype))
        return params

    @property
    def config(self) -> dict[str, Any]:
        """The constructor arguments (as the reference's ``config``)."""
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

    def _scores(self, X: tf.Tensor, training: bool) -> tf.Tensor:
        """The Keras model's layers in turn; a seeded SPEC keep-mask replaces Keras's
        dropout mask in train mode (see the class docstring)."""
        h = X
        seed = self.dropout_param.get("seed")
        for layer in self.keras_model.layers:
            if training and seed is not None and isinstance(layer, keras.layers.Dropout):
                p = self.dropout_param["p"]
                h = _dropout(h, _convert.to_tensor(keep_mask(tuple(h.shape), p, seed)), p)
            else:
                h = layer(h, training=training)
        return h  # (N, C)

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[np.floating, dict[str, np.ndarray]]:
        """Scores (test mode, y is None) or loss and gradients (train mode).

        Inputs:
        - X: float array (N, d1, ..., dk) with d1 * ... * dk = input_dim; cast to dtype.
        - y: None, or integer labels (N,) with 0 <= y[i] < num_classes.

        Returns:
        - y is None: scores, (N, C) of dtype (dropout off, batch norm on running statistics).
        - otherwise (loss, grads): softmax cross-entropy averaged over N plus
          0.5 * reg * sum(W**2) over W1..WL, a NumPy scalar of dtype; grads keyed like params.
        """
        fn = "FullyConnectedNet.loss"
        X = _check_inputs(fn, X, self.input_dim).astype(self.dtype, copy=False)  # (N, D)
        if y is not None:
            v.check_labels(fn, "y", y, X.shape[0], self.num_classes)
        self._set_mode("test" if y is None else "train")
        load_params(self.keras_model, self.params, self.bn_params)
        with _convert.device():
            X_t = _convert.to_tensor(X)
            if y is None:
                return _convert.to_numpy(self._scores(X_t, training=False))
            y_t = _convert.to_tensor(y, np.int64)

            def loss() -> tf.Tensor:
                scores = self._scores(X_t, training=True)  # (N, C)
                return self._cross_entropy(y_t, scores) + _sum_penalties(self.keras_model)

            value, grads = self._value_and_grads(loss)
        for bn_param, stats in zip(self.bn_params, export_bn_params(self.keras_model),
                                   strict=True):
            bn_param.update(stats)
        return value, grads


class RegressionNet(_KerasBacked):
    """The dating regression net, the reference's API, computed by a Keras model:
    {affine - relu} x (L - 1) - affine, mean square error summed over K, averaged over N.

    Inputs:
    - params: dict with the keys W1, b1, ..., WL, bL (Wi (d_{i-1}, d_i), bi (d_i,)); the
      arrays are COPIED.
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
        with _convert.device():
            self.keras_model = build_regression_model(self.layer_dims, dtype=self.dtype)

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
          grads keyed like params.
        """
        fn = "RegressionNet.loss"
        X = _check_inputs(fn, X, self.input_dim).astype(self.dtype, copy=False)  # (N, D)
        load_params(self.keras_model, self.params)
        if y is not None:
            y = v.as_float_array(fn, "y", y, ndim=(1, 2), shape_hint="(N, K)")
            if y.ndim == 1 and self.output_dim == 1:
                y = y.reshape(-1, 1)  # (N, 1)
            v.check_shape(fn, "y", y, (X.shape[0], self.output_dim),
                          "(the predictions' shape (N, K))")
        with _convert.device():
            X_t = _convert.to_tensor(X)
            if y is None:
                return _convert.to_numpy(self.keras_model(X_t))
            y_t = _convert.to_tensor(y, self.dtype)
            return self._value_and_grads(lambda: mse(y_t, self.keras_model(X_t)))
