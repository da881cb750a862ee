"""Keras 3 as one side of a port: read a model into a spec, build one from a spec, run it.

Supported models: ``keras.Sequential``, Functional models and ``keras.Model`` subclasses
whose layers form one chain (keras_graph.py), of ``Dense`` (activation linear, relu, sigmoid,
tanh, softmax or log_softmax; kernel_regularizer None or ``L2``), ``BatchNormalization`` (last axis,
center and scale), ``ReLU`` (plain), ``LeakyReLU``, ``Activation``, ``Softmax``,
``Dropout``, ``Flatten``. Optimizers: ``Adam`` (and ``TextbookAdam``), ``SGD``, ``RMSprop``.

Conventions of Keras that a spec records: a Dense kernel is W (fan_in, fan_out) as is;
``BatchNormalization``'s momentum has SPEC's meaning and its moving variance is the biased
one; ``L2(l2)`` adds l2 * sum(W**2) (reg = 2 * l2) with the factor cast through float32
(reg_float32); the LeakyReLU slope is a float32 attribute of TF's op (alpha_float32).
Everything runs with ``keras.config.floatx()`` set to the model's dtype, so optimizer
learning rates are variables of that dtype.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from . import optim_state as osx  # noqa: E402
from .keras_adam import TextbookAdam  # noqa: E402
from .spec import (  # noqa: E402
    LayerSpec,
    LossSpec,
    ModelSpec,
    OptimizerSpec,
    TrainingSetup,
    float32_value,
    param_keys,
)

__all__ = ["SUPPORTED", "spec_from_keras", "build_keras", "as_keras", "KerasRunner",
           "KerasTrainer", "optimizer_spec_from_keras", "build_keras_optimizer",
           "loss_spec_from_keras", "keras_loss_object", "floatx"]

SUPPORTED = ("Dense", "BatchNormalization", "ReLU", "LeakyReLU", "Activation", "Softmax",
             "Dropout", "Flatten", "Sequential")
_ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "log_softmax")
_WEIGHTS = {"dense": {"W": "kernel", "b": "bias"},
            "batchnorm": {"gamma": "gamma", "beta": "beta", "running_mean": "moving_mean",
                          "running_var": "moving_variance"}}


@contextmanager
def floatx(dtype: str) -> Iterator[None]:
    """Run a block with keras.config.floatx() = dtype, then restore it."""
    previous = keras.config.floatx()
    keras.config.set_floatx(np.dtype(dtype).name)
    try:
        yield
    finally:
        keras.config.set_floatx(previous)


def _np(v: Any) -> np.ndarray:
    return np.array(v.numpy() if hasattr(v, "numpy") else v)


def _unsupported_layer(layer: Any, why: str = "") -> ValueError:
    return ValueError(
        f"port: the Keras layer {type(layer).__name__} ({layer.name!r}{why}) is not supported; "
        f"supported: {', '.join(SUPPORTED)}"
    )


def _regularizer(layer: Any) -> dict[str, Any]:
    """reg (SPEC meaning) and reg_float32 of a Dense layer's kernel_regularizer."""
    r = layer.kernel_regularizer
    if layer.bias_regularizer is not None or layer.activity_regularizer is not None:
        raise _unsupported_layer(layer, ": only a kernel_regularizer")
    if r is None:
        return {"reg": 0.0}
    name = type(r).__name__
    # Keras computes with its factors in float32 (L2(0.01) applies 0.00999999977648258):
    # the spec holds the factors it computes with, so the port computes the same
    l1 = float32_value(getattr(r, "l1", 0.0) or 0.0)
    l2 = float32_value(getattr(r, "l2", 0.0) or 0.0)
    if name in ("L2", "L1", "L1L2"):
        return {"reg": 2.0 * l2, "reg_float32": True, "l1": l1}
    if name == "HalfL2":  # tf_impl's exact 0.5 * reg * sum(W**2)
        return {"reg": float(r.reg)}
    raise _unsupported_layer(layer, f": kernel_regularizer {name}, only L1, L2, L1L2")


def _activation_spec(name: str, layer: Any) -> LayerSpec | None:
    if name == "linear":
        return None
    if name == "leaky_relu":  # keras.activations.leaky_relu's default slope is 0.2
        return LayerSpec("leaky_relu", {"alpha": 0.2, "alpha_float32": True}, name=layer.name)
    if name not in _ACTIVATIONS:
        raise _unsupported_layer(layer, f": activation {name!r}")
    return LayerSpec(name, name=layer.name)


def _layer_specs(layer: Any) -> list[LayerSpec]:
    """The LayerSpecs of one Keras layer (a Dense with an activation gives two)."""
    cls = type(layer).__name__
    cfg = layer.get_config()
    if cls == "Dense":
        w = {"W": _np(layer.kernel)}
        if layer.use_bias:
            w["b"] = _np(layer.bias)
        dense = LayerSpec("dense", {"units": int(layer.units), "in_features": w["W"].shape[0],
                                    "use_bias": bool(layer.use_bias), **_regularizer(layer)},
                          w, layer.name)
        act = _activation_spec(keras.activations.serialize(layer.activation), layer)
        return [dense] + ([act] if act else [])
    if cls == "BatchNormalization":
        if cfg["axis"] not in (-1, 1) or not (cfg["center"] and cfg["scale"]):
            raise _unsupported_layer(layer, ": needs axis=-1, center=True, scale=True")
        return [LayerSpec("batchnorm", {"momentum": float(cfg["momentum"]),
                                        "eps": float(cfg["epsilon"]),
                                        "running_var_unbiased": False},
                          {k: _np(getattr(layer, v)) for k, v in _WEIGHTS["batchnorm"].items()},
                          layer.name)]
    if cls == "ReLU":
        if cfg.get("max_value") is not None or cfg.get("threshold") or cfg.get("negative_slope"):
            raise _unsupported_layer(layer, ": only ReLU() without max_value, threshold, slope")
        return [LayerSpec("relu", name=layer.name)]
    if cls == "LeakyReLU":
        return [LayerSpec("leaky_relu", {"alpha": float(cfg["negative_slope"]),
                                         "alpha_float32": True}, name=layer.name)]
    if cls == "Activation":
        act = _activation_spec(keras.activations.serialize(layer.activation), layer)
        return [act] if act else []
    if cls == "Softmax":
        if cfg.get("axis", -1) != -1:
            raise _unsupported_layer(layer, ": only axis=-1")
        return [LayerSpec("softmax", name=layer.name)]
    if cls == "Dropout":
        if cfg.get("noise_shape") is not None:
            raise _unsupported_layer(layer, ": noise_shape")
        return [LayerSpec("dropout", {"p": float(cfg["rate"])}, name=layer.name)]
    if cls == "Flatten":
        return [LayerSpec("flatten", name=layer.name)]
    raise _unsupported_layer(layer)


def spec_from_keras(model: Any, input_shape: tuple[int, ...] | None = None) -> ModelSpec:
    """The ModelSpec of a built Keras model: a Sequential, a Functional model or a
    keras.Model subclass whose layers form one chain (keras_graph.py; arrays copied)."""
    from .keras_graph import input_shape_of, keras_chain

    if isinstance(model, keras.Model) and not model.built:
        raise ValueError(f"port: the Keras model {model.name!r} must be built (give it a "
                         "keras.Input, or call it once on data); received an unbuilt model")
    layers = [s for _, specs in keras_chain(model, _layer_specs, input_shape) for s in specs]
    if not layers:
        raise ValueError("spec_from_keras: the model has no supported layer")
    shape = input_shape or input_shape_of(model)
    dtype = np.dtype(model.variable_dtype if not model.weights else
                     model.weights[0].dtype).name
    return ModelSpec(layers, tuple(shape), dtype, "keras")


def as_keras(spec: ModelSpec) -> ModelSpec:
    """The spec as Keras holds it: biased moving variance, float32 slope and L2 factor."""
    return spec.held_by("keras")


def _layer_name(layer: LayerSpec, key: tuple[str, str] | None, index: int) -> str:
    if key is not None:
        return f"{'affine' if key[0] == 'dense' else 'batchnorm'}{key[1]}"
    return f"{layer.kind}_{index}"


def _build_layer(layer: LayerSpec, name: str, dtype: str) -> Any:
    c = layer.config
    if layer.kind == "dense":
        reg = None
        if c.get("l1"):
            reg = keras.regularizers.L1L2(l1=c["l1"], l2=c["reg"] / 2)
        elif c["reg"]:
            reg = keras.regularizers.L2(c["reg"] / 2)
        return keras.layers.Dense(int(c["units"]), use_bias=bool(c["use_bias"]),
                                  kernel_regularizer=reg, dtype=dtype, name=name)
    if layer.kind == "batchnorm":
        return keras.layers.BatchNormalization(momentum=c["momentum"], epsilon=c["eps"],
                                               dtype=dtype, name=name)
    if layer.kind == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=c["alpha"], dtype=dtype, name=name)
    if layer.kind == "dropout":
        return keras.layers.Dropout(c["p"], dtype=dtype, name=name)
    if layer.kind == "flatten":
        return keras.layers.Flatten(dtype=dtype, name=name)
    if layer.kind == "relu":
        return keras.layers.ReLU(dtype=dtype, name=name)
    if layer.kind == "softmax":
        return keras.layers.Softmax(dtype=dtype, name=name)
    return keras.layers.Activation(layer.kind, dtype=dtype, name=name)


def build_keras(spec: ModelSpec, dtype: str | None = None) -> keras.Sequential:
    """A built keras.Sequential computing the spec (in ``dtype``, default the spec's);
    layers named affine{i}, batchnorm{i} (tf_impl's names) and {kind}_{index}."""
    dtype = np.dtype(dtype or spec.dtype).name
    keys = param_keys(spec.layers)
    with floatx(dtype):
        layers = [_build_layer(la, _layer_name(la, k, i), dtype)
                  for i, (la, k) in enumerate(zip(spec.layers, keys, strict=True))]
        model = keras.Sequential([keras.Input(spec.input_shape, dtype=dtype), *layers])
        for la, built in zip(spec.layers, layers, strict=True):
            for name, attr in _WEIGHTS.get(la.kind, {}).items():
                if name in la.weights:
                    getattr(built, attr).assign(np.asarray(la.weights[name], dtype))
    return model


def variable_map(model: keras.Sequential, spec: ModelSpec) -> dict[str, Any]:
    """Global name (W1, b1, gamma1, ...) -> the model's trainable variable."""
    out = {}
    layers = [la for la in model.layers]
    for built, la, key in zip(layers, spec.layers, param_keys(spec.layers), strict=True):
        if key is not None:
            for name, attr in _WEIGHTS[la.kind].items():
                if name in ("W", "b", "gamma", "beta") and name in la.weights:
                    out[f"{name}{key[1]}"] = getattr(built, attr)
    return out


# ---------------------------------------------------------------------- optimizers


def optimizer_spec_from_keras(optimizer: Any, model: keras.Sequential, spec: ModelSpec
                              ) -> OptimizerSpec:
    """The OptimizerSpec of a Keras optimizer over ``model`` (built from ``spec`` layer for
    layer, as ``build_keras`` or ``load_model`` of such a file gives)."""
    kind, hyper, form = osx.hyper_from_keras(type(optimizer).__name__, optimizer.get_config())
    state: dict[str, dict[str, np.ndarray]] = {}
    t = int(_np(optimizer.iterations))
    if optimizer.built:
        for name, var in _spec_variables(model, spec).items():
            idx = optimizer._get_variable_index(var)
            arrays = {key: _np(getattr(optimizer, attr)[idx])
                      for key, (_, attr) in osx.STATE_NAMES[kind].items()
                      if len(getattr(optimizer, attr))}
            if any(a.any() for a in arrays.values()):  # all zeros: a fresh optimizer
                state[name] = arrays
    return OptimizerSpec(kind, hyper, form, t, state)


def _spec_variables(model: Any, spec: ModelSpec) -> dict[str, Any]:
    """Global name -> trainable variable, in the order the model applies its layers (a
    Dense with an activation is one Keras layer, two spec layers)."""
    from .keras_graph import keras_chain

    out, dense, last_dense = {}, 0, None
    for layer, _ in keras_chain(model, _layer_specs, spec.input_shape):
        cls = type(layer).__name__
        if cls == "Dense":
            dense += 1
            out[f"W{dense}"] = layer.kernel
            if layer.use_bias:
                out[f"b{dense}"] = layer.bias
            last_dense = dense
        elif cls == "BatchNormalization":
            out[f"gamma{last_dense}"], out[f"beta{last_dense}"] = layer.gamma, layer.beta
    return out


def build_keras_optimizer(opt: OptimizerSpec, variables: dict[str, Any]) -> Any:
    """The Keras optimizer of the spec (TextbookAdam for an Adam of the textbook form),
    built over ``variables`` (global name -> variable) with the spec's state assigned."""
    if opt.kind in ("adam", "adamw") and opt.form == "textbook":
        cls = TextbookAdam
    else:
        cls = getattr(keras.optimizers, osx.KERAS_CLASSES[opt.kind])
    dtype = np.dtype(next(iter(variables.values())).dtype).name
    with floatx(dtype):
        optimizer = cls(**osx.keras_kwargs(opt))
        optimizer.build(list(variables.values()))
    optimizer.iterations.assign(opt.t)
    for name, var in variables.items():
        idx = optimizer._get_variable_index(var)
        for key, (_, attr) in osx.STATE_NAMES[opt.kind].items():
            if name in opt.state and len(getattr(optimizer, attr)):
                getattr(optimizer, attr)[idx].assign(np.asarray(opt.state[name][key], dtype))
    return optimizer


# ------------------------------------------------------------------------- losses


_LOSS_NAMES = {  # a compile() string or a keras.losses function -> (class, from_logits)
    "sparse_categorical_crossentropy": ("SparseCategoricalCrossentropy", False),
    "categorical_crossentropy": ("CategoricalCrossentropy", False),
    "binary_crossentropy": ("BinaryCrossentropy", False),
    "mse": ("MeanSquaredError", False), "mean_squared_error": ("MeanSquaredError", False),
}
_LOSS_KINDS = {"SparseCategoricalCrossentropy": ("softmax_cross_entropy", False),
               "CategoricalCrossentropy": ("softmax_cross_entropy", True),
               "MeanSquaredError": ("mse", False),
               "BinaryCrossentropy": ("sigmoid_cross_entropy", False)}


def loss_spec_from_keras(loss: Any) -> LossSpec:
    """The LossSpec of a compiled Keras loss: a compile() string, a keras.losses function
    or a loss object. Cross-entropies on probabilities (from_logits=False, the Keras
    default) clip them to [1e-7, 1 - 1e-7], as the spec's from_logits=False does."""
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", None)
    if name is not None:
        if name not in _LOSS_NAMES:
            raise ValueError(f"port: the Keras loss {name!r} is not supported; supported: "
                             f"{sorted(_LOSS_NAMES)} or their loss objects")
        cls, from_logits = _LOSS_NAMES[name]
        cfg: dict[str, Any] = {"from_logits": from_logits}
    else:
        cls = type(loss).__name__
        cfg = loss.get_config() if hasattr(loss, "get_config") else {}
    if cls not in _LOSS_KINDS or cfg.get("reduction", "sum_over_batch_size") != \
            "sum_over_batch_size" or cfg.get("label_smoothing"):
        raise ValueError(
            f"port: the Keras loss {loss!r} is not supported; supported: "
            f"{', '.join(_LOSS_KINDS)} with reduction='sum_over_batch_size' and no "
            "label_smoothing"
        )
    kind, one_hot = _LOSS_KINDS[cls]
    from_logits = bool(cfg.get("from_logits", kind == "mse"))
    return LossSpec(kind, from_logits or kind == "mse", "mean", one_hot)


def keras_loss_object(loss: LossSpec) -> Any | None:
    """The stock Keras loss of a spec, or None when Keras has none (reduction 'batchmean')."""
    if loss.kind == "softmax_cross_entropy":
        cls = keras.losses.CategoricalCrossentropy if loss.one_hot else \
            keras.losses.SparseCategoricalCrossentropy
        return cls(from_logits=loss.from_logits)
    if loss.reduction != "mean":
        return None
    if loss.kind == "mse":
        return keras.losses.MeanSquaredError()
    return keras.losses.BinaryCrossentropy(from_logits=loss.from_logits)


def keras_loss(loss: LossSpec, out: tf.Tensor, y: np.ndarray) -> tf.Tensor:
    """The data loss with Keras's loss functions, as the spec says."""
    if loss.kind == "softmax_cross_entropy" and loss.one_hot:
        per = keras.losses.categorical_crossentropy(tf.constant(y, dtype=out.dtype), out,
                                                    from_logits=loss.from_logits)
        return tf.reduce_mean(per)
    if loss.kind == "softmax_cross_entropy":
        per = keras.losses.sparse_categorical_crossentropy(tf.constant(y), out,
                                                           from_logits=loss.from_logits)
        return tf.reduce_mean(per)
    yt = tf.reshape(tf.constant(y, dtype=out.dtype), out.shape)
    if loss.kind == "mse":
        per = keras.losses.mean_squared_error(yt, out)
    else:
        per = keras.losses.binary_crossentropy(yt, out, from_logits=loss.from_logits)
    k = 1 if loss.reduction == "mean" else int(np.prod(out.shape[1:]))
    return tf.reduce_mean(per) * k  # mean over N*K, or sum over K and mean over N


# --------------------------------------------------------------------------- runners


class KerasRunner:
    """Layer-by-layer forward and VJP of a spec with Keras layers (moving statistics are
    restored after every call)."""

    framework = "keras"

    def __init__(self, spec: ModelSpec, dtype: str = "float64", device: str = "cpu",
                 tf32: bool | None = None) -> None:
        self.spec = as_keras(spec).astype(dtype)
        self.dtype = np.dtype(dtype).name
        self.device = "/GPU:0" if device.startswith("cuda") else "/CPU:0"
        if tf32 is not None:
            from dlparity.tf_impl import _convert  # the project's one TF32 switch

            _convert.set_tf32(tf32)
        self.model = build_keras(self.spec, self.dtype)
        self.layers = list(self.model.layers)

    def _call(self, i: int, x: tf.Tensor, training: bool, mask: np.ndarray | None) -> tf.Tensor:
        layer = self.spec.layers[i]
        if layer.kind == "dropout":
            if not training or layer.config["p"] == 0:
                return tf.identity(x)
            return x * tf.constant(mask, dtype=x.dtype) / (1 - layer.config["p"])
        return self.layers[i](x, training=training)

    def _saved(self, i: int) -> list[np.ndarray]:
        if self.spec.layers[i].kind != "batchnorm":
            return []
        return [_np(v) for v in (self.layers[i].moving_mean, self.layers[i].moving_variance)]

    def _restore(self, i: int, saved: list[np.ndarray]) -> dict[str, np.ndarray]:
        if not saved:
            return {}
        layer = self.layers[i]
        new = {"running_mean": _np(layer.moving_mean), "running_var": _np(layer.moving_variance)}
        layer.moving_mean.assign(saved[0])
        layer.moving_variance.assign(saved[1])
        return new

    def forward(self, i: int, x: np.ndarray, training: bool, mask: np.ndarray | None
                ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        saved = self._saved(i)
        with floatx(self.dtype), tf.device(self.device):
            out = self._call(i, tf.constant(x, dtype=self.dtype), training, mask)
        state = self._restore(i, saved)
        return _np(out), state if training else {}

    def vjp(self, i: int, x: np.ndarray, g: np.ndarray, training: bool,
            mask: np.ndarray | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        layer, built = self.spec.layers[i], self.layers[i]
        saved = self._saved(i)
        names = [n for n in ("W", "b", "gamma", "beta") if n in layer.weights]
        variables = [getattr(built, _WEIGHTS[layer.kind][n]) for n in names]
        with floatx(self.dtype), tf.device(self.device):
            xt = tf.constant(x, dtype=self.dtype)
            with tf.GradientTape() as tape:
                tape.watch(xt)
                out = self._call(i, xt, training, mask)
                target = tf.reduce_sum(out * tf.constant(g, dtype=self.dtype))
                if built.losses:
                    target = target + tf.add_n(built.losses)
            grads = tape.gradient(target, [xt, *variables],
                                  unconnected_gradients=tf.UnconnectedGradients.ZERO)
        self._restore(i, saved)
        return _np(grads[0]), {n: _np(gr) for n, gr in zip(names, grads[1:], strict=True)}


class KerasTrainer:
    """Training steps with Keras: the layers in turn under a GradientTape (dropout by the
    given keep-masks), the data loss + the model's regularisation losses,
    optimizer.apply_gradients."""

    framework = "keras"

    def __init__(self, spec: ModelSpec, setup: TrainingSetup, dtype: str = "float64") -> None:
        if setup.optimizer is None:
            raise ValueError("KerasTrainer: the training setup has no optimizer")
        self.runner = KerasRunner(spec, dtype)
        self.variables = variable_map(self.runner.model, self.runner.spec)
        self.optimizer = build_keras_optimizer(
            osx.for_target(setup.optimizer, "keras",
                           "textbook" if setup.optimizer.form == "textbook" else "stock"),
            self.variables)
        self.loss = setup.loss

    def step(self, x: np.ndarray, y: np.ndarray, masks: list[np.ndarray | None]) -> float:
        r = self.runner
        variables = list(self.variables.values())
        with floatx(r.dtype), tf.device(r.device):
            with tf.GradientTape() as tape:
                h = tf.constant(x, dtype=r.dtype)
                for i in range(len(r.layers)):
                    h = r._call(i, h, True, masks[i])
                loss = keras_loss(self.loss, h, y)
                if r.model.losses:
                    loss = loss + tf.add_n(r.model.losses)
            grads = tape.gradient(loss, variables,
                                  unconnected_gradients=tf.UnconnectedGradients.ZERO)
            self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        return float(loss)

    def snapshot(self) -> dict[str, np.ndarray]:
        out = {}
        r = self.runner
        for built, la, key in zip(r.layers, r.spec.layers, param_keys(r.spec.layers),
                                  strict=True):
            if key is not None:
                for name, attr in _WEIGHTS[la.kind].items():
                    if name in la.weights:
                        out[f"{name}{key[1]}"] = _np(getattr(built, attr)).astype(np.float64)
        return out

    def optimizer_spec(self) -> OptimizerSpec:
        return optimizer_spec_from_keras(self.optimizer, self.runner.model, self.runner.spec)
