"""The NumPy reference as one side of a port: the arbiter of every diff.

- ``spec_from_fcnet`` / ``fcnet_from_spec``: a ``FullyConnectedNet`` of the reference,
  torch_impl or tf_impl (they share ``params`` W1, b1, gamma1, ... and ``bn_params``) to and
  from a ``ModelSpec``.
- ``ReferenceRunner``: layer i's forward and vector-Jacobian product with the reference's
  functions (``affine_forward``, ``batchnorm_forward`` ...), for ``diff``.
- ``ReferenceTrainer``: training steps with the reference's losses and update rules, for
  ``trajectory``.

The reference can follow every convention a spec records (torch's unbiased running
variance through ``bn_param['running_var_unbiased']``, Keras's float32 slope and L2 factor
by rounding them, Keras's epsilon-hat Adam through a per-step epsilon, RMSprop with epsilon
inside the square root written out), so it arbitrates between any two sides.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from dlparity import reference as ref

from .schedules import scheduled_lr
from .spec import (
    LayerSpec,
    LossSpec,
    ModelSpec,
    OptimizerSpec,
    TrainingSetup,
    float32_value,
    param_keys,
)

__all__ = ["ReferenceRunner", "ReferenceTrainer", "fcnet_from_spec", "spec_from_fcnet",
           "effective_reg", "effective_alpha", "reference_loss"]

PROB_EPS = 1e-7  # Keras's backend.epsilon(): the clip of probabilities (from_logits=False)


# ------------------------------------------------------------------- FullyConnectedNet


def spec_from_fcnet(model: Any) -> ModelSpec:
    """The ModelSpec of a FullyConnectedNet of any implementation (params, bn_params, reg,
    dropout, normalization are read; the arrays are copied)."""
    from dlparity.bases.models import FullyConnectedNetBase

    if not isinstance(model, FullyConnectedNetBase):
        raise TypeError(
            f"spec_from_fcnet: model must be a FullyConnectedNet; received {type(model).__name__}"
        )
    layers: list[LayerSpec] = []
    L = model.num_layers
    for i in range(1, L + 1):
        W, b = model.params[f"W{i}"], model.params[f"b{i}"]
        layers.append(LayerSpec("dense", {"units": W.shape[1], "in_features": W.shape[0],
                                          "reg": float(model.reg)},
                                {"W": W.copy(), "b": b.copy()}, f"affine{i}"))
        if i == L:
            break
        if model.normalization == "batchnorm":
            bn = model.bn_params[i - 1]
            d = W.shape[1]
            layers.append(LayerSpec(
                "batchnorm",
                {"momentum": float(bn.get("momentum", 0.9)), "eps": float(bn.get("eps", 1e-5)),
                 "running_var_unbiased": bool(bn.get("running_var_unbiased", False))},
                {"gamma": model.params[f"gamma{i}"].copy(),
                 "beta": model.params[f"beta{i}"].copy(),
                 "running_mean": np.array(bn.get("running_mean", np.zeros(d)), model.dtype),
                 "running_var": np.array(bn.get("running_var", np.ones(d)), model.dtype)},
                f"batchnorm{i}"))
        layers.append(LayerSpec("relu", name=f"relu{i}"))
        if model.use_dropout:
            layers.append(LayerSpec("dropout", {"p": float(model.dropout)}, name=f"dropout{i}"))
    source = type(model).__module__.split(".")[1] if "." in type(model).__module__ else "reference"
    return ModelSpec(layers, (model.input_dim,), model.dtype.name, source)


def fcnet_from_spec(spec: ModelSpec, impl: str = "reference", seed: int | None = None) -> Any:
    """A FullyConnectedNet of ``impl`` ('reference', 'torch', 'tf') holding the spec's
    arrays. The spec must have FullyConnectedNet's layers (``is_fully_connected_net``) and
    one L2 strength on every dense layer."""
    impls = {"reference": "dlparity.reference.models", "torch": "dlparity.torch_impl.models",
             "tf": "dlparity.tf_impl.models"}
    if impl not in impls:
        raise ValueError(f"fcnet_from_spec: impl must be one of {tuple(impls)}; received {impl!r}")
    if not spec.is_fully_connected_net():
        raise ValueError(
            "fcnet_from_spec: the model is not a FullyConnectedNet ({dense-[batchnorm]-relu-"
            "[dropout]} x (L-1) - dense, one dropout p); received the layers "
            f"{[la.describe() for la in spec.layers]}"
        )
    import importlib

    dense = [la for la in spec.layers if la.kind == "dense"]
    regs = {la.config["reg"] for la in dense}
    if len(regs) > 1:
        raise ValueError(
            "fcnet_from_spec: FullyConnectedNet has one L2 strength for every weight; "
            f"received the strengths {sorted(regs)}"
        )
    drops = [la.config["p"] for la in spec.layers if la.kind == "dropout"]
    bns = [la for la in spec.layers if la.kind == "batchnorm"]
    cls = importlib.import_module(impls[impl]).FullyConnectedNet
    model = cls([la.config["units"] for la in dense[:-1]], int(math.prod(spec.input_shape)),
                dense[-1].config["units"], reg=regs.pop(), dtype=spec.dtype,
                dropout=drops[0] if drops else 0.0,
                normalization="batchnorm" if bns else None, seed=seed)
    model.params.update({k: v.astype(spec.dtype) for k, v in spec.params().items()})
    for bn_param, layer in zip(model.bn_params, bns, strict=True):
        c, w = layer.config, layer.weights
        bn_param.update(momentum=c["momentum"], eps=c["eps"],
                        running_mean=w["running_mean"].copy(), running_var=w["running_var"].copy())
        if impl == "reference":
            bn_param["running_var_unbiased"] = c["running_var_unbiased"]
    return model


# ------------------------------------------------------------------ effective values


def effective_reg(config: dict[str, Any]) -> float:
    """The L2 strength a dense layer applies: Keras's L2(reg / 2) casts its factor to
    float32 (reg_float32)."""
    reg = float(config["reg"])
    return 2.0 * float32_value(reg / 2.0) if config.get("reg_float32") else reg


def effective_alpha(config: dict[str, Any]) -> float:
    """The negative slope a leaky ReLU applies: TF's LeakyRelu op holds it in float32."""
    alpha = float(config["alpha"])
    return float32_value(alpha) if config.get("alpha_float32") else alpha


# ----------------------------------------------------------------------- the runner


def _bn_param(layer: LayerSpec, training: bool) -> dict[str, Any]:
    c, w = layer.config, layer.weights
    return {"mode": "train" if training else "test", "eps": c["eps"], "momentum": c["momentum"],
            "running_mean": w["running_mean"], "running_var": w["running_var"],
            "running_var_unbiased": bool(c["running_var_unbiased"])}


def layer_forward(layer: LayerSpec, x: np.ndarray, training: bool, mask: np.ndarray | None
                  ) -> tuple[np.ndarray, Any, dict[str, np.ndarray]]:
    """(out, cache, new_state) of one layer with the reference's functions."""
    kind, c, w = layer.kind, layer.config, layer.weights
    if kind == "dense":
        b = w["b"] if "b" in w else np.zeros(c["units"], x.dtype)  # (M,)
        out, cache = ref.affine_forward(x, w["W"], b)
    elif kind == "batchnorm":
        bn_param = _bn_param(layer, training)
        out, cache = ref.batchnorm_forward(x, w["gamma"], w["beta"], bn_param)
        state = {k: bn_param[k] for k in ("running_mean", "running_var")}
        return out, cache, state if training else {}
    elif kind == "leaky_relu":
        out, cache = ref.leaky_relu_forward(x, effective_alpha(c))
    elif kind == "dropout":
        if not training or c["p"] == 0:
            return x.copy(), None, {}
        out, cache = ref.dropout_forward(x, {"p": c["p"], "mode": "train", "mask": mask})
    elif kind == "flatten":
        return x.reshape(x.shape[0], -1), x.shape, {}
    else:
        out, cache = getattr(ref, f"{kind}_forward")(x)
    return out, cache, {}


def layer_backward(layer: LayerSpec, g: np.ndarray, cache: Any
                   ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(dx, parameter gradients by local name) of one layer; dense adds reg * W."""
    kind, c, w = layer.kind, layer.config, layer.weights
    if kind == "dense":
        dx, dW, db = ref.affine_backward(g, cache)
        grads = {"W": dW + effective_reg(c) * w["W"] if c["reg"] else dW}
        if c.get("l1"):
            grads["W"] = grads["W"] + c["l1"] * np.sign(w["W"])
        if "b" in w:
            grads["b"] = db
        return dx, grads
    if kind == "batchnorm":
        dx, dgamma, dbeta = ref.batchnorm_backward(g, cache)
        return dx, {"gamma": dgamma, "beta": dbeta}
    if kind == "dropout":
        return (g.copy() if cache is None else ref.dropout_backward(g, cache)), {}
    if kind == "flatten":
        return g.reshape(cache), {}
    return getattr(ref, f"{kind}_backward")(g, cache), {}


class ReferenceRunner:
    """Layer-by-layer forward and VJP of a spec with the reference, in float64."""

    framework = "reference"

    def __init__(self, spec: ModelSpec, dtype: str = "float64") -> None:
        self.spec = spec.astype(dtype)
        self.dtype = np.dtype(dtype)

    def forward(self, i: int, x: np.ndarray, training: bool, mask: np.ndarray | None
                ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        out, _, state = layer_forward(self.spec.layers[i], x.astype(self.dtype), training, mask)
        return out, state

    def vjp(self, i: int, x: np.ndarray, g: np.ndarray, training: bool,
            mask: np.ndarray | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        layer = self.spec.layers[i]
        _, cache, _ = layer_forward(layer, x.astype(self.dtype), training, mask)
        return layer_backward(layer, g.astype(self.dtype), cache)


# ------------------------------------------------------------------------ losses


def _binary_crossentropy_probs(p: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Keras's binary cross-entropy on probabilities, summed over K and averaged over N:
    c = clip(p, 1e-7, 1 - 1e-7); loss = -mean_N sum_K (y log c + (1 - y) log(1 - c));
    the gradient is 0 where p lies outside the clip range."""
    n = p.shape[0]
    c = np.clip(p, PROB_EPS, 1 - PROB_EPS)  # (N, K)
    value = -np.sum(y * np.log(c) + (1 - y) * np.log(1 - c)) / n
    inside = (p >= PROB_EPS) & (p <= 1 - PROB_EPS)
    return float(value), np.where(inside, -(y / c - (1 - y) / (1 - c)) / n, 0.0)


def _categorical_crossentropy(out: np.ndarray, y: np.ndarray, from_logits: bool
                              ) -> tuple[float, np.ndarray]:
    """Keras's categorical cross-entropy on target rows y (N, C), averaged over N:
    logits: -sum y * log_softmax(z); probabilities: q = p / sum(p), c = clip(q, 1e-7,
    1 - 1e-7), -sum y * log c (the gradient is 0 where q is clipped)."""
    n = out.shape[0]
    if from_logits:
        shifted = out - out.max(axis=1, keepdims=True)  # (N, C)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        value = -np.sum(y * logp) / n
        return float(value), (np.exp(logp) * y.sum(axis=1, keepdims=True) - y) / n
    s = out.sum(axis=1, keepdims=True)  # (N, 1)
    q = out / s
    c = np.clip(q, PROB_EPS, 1 - PROB_EPS)
    value = -np.sum(y * np.log(c)) / n
    dq = np.where((q >= PROB_EPS) & (q <= 1 - PROB_EPS), -y / c / n, 0.0)  # (N, C)
    return float(value), (dq - np.sum(dq * q, axis=1, keepdims=True)) / s


def reference_loss(loss: LossSpec, out: np.ndarray, y: np.ndarray
                   ) -> tuple[float, np.ndarray]:
    """(value, d value / d out) of the data loss with the reference's loss functions."""
    if loss.kind == "softmax_cross_entropy" and loss.one_hot:
        return _categorical_crossentropy(out, y.astype(out.dtype), loss.from_logits)
    if loss.kind == "softmax_cross_entropy":
        if loss.from_logits:
            value, dout = ref.softmax_loss(out, y)
            return float(value), dout
        clipped = np.clip(out, PROB_EPS, 1 - PROB_EPS)  # (N, C)
        value, dz = ref.softmax_loss(np.log(clipped), y)
        inside = (out >= PROB_EPS) & (out <= 1 - PROB_EPS)
        return float(value), np.where(inside, dz / clipped, 0.0)
    if loss.kind == "mse":
        value, dout = ref.mse_loss(out, y.astype(out.dtype).reshape(out.shape))
    elif not loss.from_logits:
        value, dout = _binary_crossentropy_probs(out, y.astype(out.dtype).reshape(out.shape))
    else:
        value, dout = ref.sigmoid_cross_entropy_loss(out, y.astype(out.dtype).reshape(out.shape))
    k = out.size // out.shape[0] if loss.reduction == "mean" else 1
    return float(value) / k, dout / k


# ------------------------------------------------------------------------ training


def _rule_config(opt: OptimizerSpec, name: str) -> dict[str, Any]:
    """The reference rule's config for one parameter, state included."""
    h = opt.hyper
    state = {k: np.array(v) for k, v in opt.state.get(name, {}).items()}
    if opt.kind in ("adam", "adamw"):
        decay = {"weight_decay": h["weight_decay"]} if opt.kind == "adamw" else {}
        return {"learning_rate": h["learning_rate"], "beta1": h["beta1"], "beta2": h["beta2"],
                "epsilon": h["epsilon"], "t": opt.t, **decay, **state}
    if opt.kind == "sgd":
        return {"learning_rate": h["learning_rate"], "momentum": h["momentum"], **state}
    return {"learning_rate": h["learning_rate"], "decay_rate": h["decay_rate"],
            "epsilon": h["epsilon"], **state}


def _rmsprop_eps_inside(w: np.ndarray, dw: np.ndarray, config: dict) -> tuple[np.ndarray, dict]:
    """Keras's RMSprop: cache = rho*cache + (1-rho)*dw**2; w -= lr*dw / sqrt(cache + eps)."""
    cache = config.setdefault("cache", np.zeros_like(w))
    rho = config["decay_rate"]
    cache *= rho
    cache += (1 - rho) * dw * dw
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config


def reference_update(opt: OptimizerSpec, w: np.ndarray, dw: np.ndarray, config: dict
                     ) -> tuple[np.ndarray, dict]:
    """One step of the spec's optimizer on one parameter, with the reference's rules."""
    if opt.kind in ("adam", "adamw"):
        if opt.form == "epsilon_hat":  # eps' = eps / sqrt(1 - beta2^t) turns it textbook
            t = config.get("t", 0) + 1
            config["epsilon"] = opt.hyper["epsilon"] / math.sqrt(1 - opt.hyper["beta2"] ** t)
        return (ref.adam if opt.kind == "adam" else ref.adamw)(w, dw, config)
    if opt.kind == "sgd":
        rule = ref.sgd if not opt.hyper["momentum"] else (
            ref.nesterov_momentum if opt.hyper["nesterov"] else ref.sgd_momentum)
        return rule(w, dw, config)
    if opt.form == "eps_inside":
        return _rmsprop_eps_inside(w, dw, config)
    return ref.rmsprop(w, dw, config)


class ReferenceTrainer:
    """Training steps of a spec with the reference (float64 unless told): forward through
    the layers, the data loss, the backward, one update per parameter."""

    framework = "reference"

    def __init__(self, spec: ModelSpec, setup: TrainingSetup, dtype: str = "float64") -> None:
        if setup.optimizer is None:
            raise ValueError("ReferenceTrainer: the training setup has no optimizer")
        self.spec = spec.astype(dtype)
        self.setup = setup
        self.opt = copy.deepcopy(setup.optimizer)
        dt = np.dtype(self.spec.dtype)  # state saved in float32 continues in the run's dtype
        self.configs = {k: {n: v.astype(dt) if isinstance(v, np.ndarray) else v
                            for n, v in _rule_config(self.opt, k).items()}
                        for k in self.spec.params()}
        self.keys = param_keys(self.spec.layers)
        self.t = self.opt.t  # steps taken: the schedule's argument

    def step(self, x: np.ndarray, y: np.ndarray, masks: list[np.ndarray | None]) -> float:
        h, caches = x.astype(self.spec.dtype), []
        for layer, mask in zip(self.spec.layers, masks, strict=True):
            h, cache, state = layer_forward(layer, h, True, mask)
            layer.weights.update(state)
            caches.append(cache)
        value, g = reference_loss(self.setup.loss, h, y)
        grads: dict[str, np.ndarray] = {}
        for layer, cache, key in zip(self.spec.layers[::-1], caches[::-1], self.keys[::-1],
                                     strict=True):
            g, local = layer_backward(layer, g, cache)
            grads.update({f"{k}{key[1]}": v for k, v in local.items()} if key else {})
        penalty = sum(0.5 * effective_reg(la.config) * float(np.sum(la.weights["W"] ** 2))
                      + la.config.get("l1", 0.0) * float(np.sum(np.abs(la.weights["W"])))
                      for la in self.spec.layers if la.kind == "dense")
        new = {}
        lr = scheduled_lr(self.opt.hyper.get("schedule"), self.opt.hyper["learning_rate"],
                          self.t)
        self.t += 1
        for name, w in self.spec.params().items():
            self.configs[name]["learning_rate"] = lr
            new[name], self.configs[name] = reference_update(self.opt, w, grads[name],
                                                             self.configs[name])
        self.spec = self.spec.with_arrays(new)
        return value + penalty

    def snapshot(self) -> dict[str, np.ndarray]:
        return {k: np.array(v, np.float64) for k, v in self.spec.arrays().items()}
