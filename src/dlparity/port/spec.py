"""The framework-neutral description of a model and its training setup (NumPy only).

Every conversion goes through these records: a framework model is read into a
``ModelSpec`` (``torch_side.spec_from_torch``, ``keras_side.spec_from_keras``,
``reference_side.spec_from_params``) and a target model is built from one. Hyper-parameters
are stored in the REFERENCE's meaning (SPEC.md), so one record means the same function in
every framework:

- ``dense``: W (fan_in, fan_out) as ``affine_forward`` uses it (torch's Linear.weight is W.T);
  ``reg`` the L2 strength of the penalty 0.5 * reg * sum(W**2) (Keras's L2(l2) is reg = 2 * l2).
- ``batchnorm``: ``momentum`` as SPEC's (running = momentum * running + (1 - momentum) * batch;
  torch's BatchNorm1d(momentum=0.1) is 0.9), ``eps``, and ``running_var_unbiased`` (torch
  updates the running variance with the unbiased batch variance, Keras with the biased one).
- ``leaky_relu``: ``alpha`` the negative slope.
- ``dropout``: ``p`` the DROP probability.

Fields a framework cannot change (torch's unbiased running variance, Keras computing its
LeakyReLU slope and its L2 factor in float32) are recorded too: they are conventions, and
``explain`` names them when two models differ in them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

__all__ = [
    "KINDS",
    "LOSS_KINDS",
    "OPTIMIZER_KINDS",
    "LayerSpec",
    "LossSpec",
    "ModelSpec",
    "OptimizerSpec",
    "TrainingSetup",
    "param_keys",
    "float32_value",
    "needed_arrays",
]

# kind -> (the catalogue forward whose tolerance row applies, weight names)
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "dense": ("affine_forward", ("W", "b")),
    "batchnorm": ("batchnorm_forward", ("gamma", "beta", "running_mean", "running_var")),
    "relu": ("relu_forward", ()),
    "leaky_relu": ("leaky_relu_forward", ()),
    "sigmoid": ("sigmoid_forward", ()),
    "tanh": ("tanh_forward", ()),
    "softmax": ("softmax_forward", ()),
    "log_softmax": ("log_softmax_forward", ()),
    "dropout": ("dropout_forward", ()),
    "flatten": ("affine_forward", ()),  # a reshape: the affine row (x is flattened there)
}
TRAINABLE = {"dense": ("W", "b"), "batchnorm": ("gamma", "beta")}
STATE = {"batchnorm": ("running_mean", "running_var")}

LOSS_KINDS = ("softmax_cross_entropy", "mse", "sigmoid_cross_entropy")
REDUCTIONS = ("mean", "batchmean")  # mean over every element (N*K) | sum over K, mean over N
OPTIMIZER_KINDS = ("adam", "adamw", "sgd", "rmsprop")
# optimizer kind -> (the catalogue rule whose tolerance row applies, state names)
OPTIMIZER_STATE = {"adam": ("m", "v"), "adamw": ("m", "v"), "sgd": ("velocity",),
                   "rmsprop": ("cache",)}

_DEFAULT_CONFIG: dict[str, dict[str, Any]] = {
    "dense": {"use_bias": True, "reg": 0.0, "reg_float32": False, "l1": 0.0},
    "batchnorm": {"momentum": 0.9, "eps": 1e-5, "running_var_unbiased": False,
                  "num_batches_tracked": 0},  # torch's count (Keras has none; not compared)
    "leaky_relu": {"alpha": 0.01, "alpha_float32": False},
    "dropout": {"p": 0.5},
}


# What a framework holds whatever it is told (conventions it cannot be configured out of).
INHERENT: dict[str, dict[str, dict[str, Any]]] = {
    "torch": {"batchnorm": {"running_var_unbiased": True},
              "leaky_relu": {"alpha_float32": False}, "dense": {"reg_float32": False}},
    "keras": {"batchnorm": {"running_var_unbiased": False},
              "leaky_relu": {"alpha_float32": True}, "dense": {"reg_float32": True}},
}


def float32_value(x: float) -> float:
    """x rounded to float32 (what a float32 attribute or constant holds), as a float."""
    return float(np.float32(x))


@dataclass
class LayerSpec:
    """One layer: its kind, its hyper-parameters (reference meaning) and its arrays.

    - kind: one of KINDS.
    - config: hyper-parameters; dense: units, in_features, use_bias, reg, reg_float32;
      batchnorm: momentum, eps, running_var_unbiased; leaky_relu: alpha, alpha_float32;
      dropout: p. Missing keys take the reference's defaults.
    - weights: dense: W (in, out), b (out,); batchnorm: gamma, beta, running_mean,
      running_var (each (D,)). NumPy arrays in the reference's layout.
    - name: the layer's name in the model it was read from (for reports only).
    """

    kind: str
    config: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"LayerSpec: kind must be one of {tuple(KINDS)}; received {self.kind!r}"
            )
        self.config = {**_DEFAULT_CONFIG.get(self.kind, {}), **self.config}

    @property
    def tolerance_name(self) -> str:
        """The catalogue function whose tolerance row this layer uses."""
        return KINDS[self.kind][0]

    def describe(self) -> str:
        """'dense 784->256', 'batchnorm(eps=1e-05, momentum=0.9)', ..."""
        c = self.config
        if self.kind == "dense":
            return f"dense {c['in_features']}->{c['units']}"
        if self.kind == "batchnorm":
            return f"batchnorm(eps={c['eps']:g}, momentum={c['momentum']:g})"
        if self.kind == "leaky_relu":
            return f"leaky_relu(alpha={c['alpha']:g})"
        if self.kind == "dropout":
            return f"dropout(p={c['p']:g})"
        return self.kind


def param_keys(layers: list[LayerSpec]) -> list[tuple[str, str] | None]:
    """Per layer, the suffix of its arrays' global names, or None for parameterless layers.

    Dense layers are numbered 1, 2, ... in order (W1, b1, W2, ...); a batch norm takes the
    number of the dense layer before it (gamma1, beta1, running_mean1, ...): the names of
    ``FullyConnectedNet.params`` and ``bn_params``. Returns (kind, number) pairs.
    """
    out: list[tuple[str, str] | None] = []
    dense, seen_bn = 0, set()
    for i, layer in enumerate(layers):
        if layer.kind == "dense":
            dense += 1
            out.append(("dense", str(dense)))
        elif layer.kind == "batchnorm":
            if dense == 0 or dense in seen_bn:
                raise ValueError(
                    f"ModelSpec: layer {i} (batchnorm) must follow a dense layer, one batch "
                    "norm per dense layer (the FullyConnectedNet naming gamma1, beta1, ...); "
                    f"received the sequence {[la.kind for la in layers]}"
                )
            seen_bn.add(dense)
            out.append(("batchnorm", str(dense)))
        else:
            out.append(None)
    return out


@dataclass
class ModelSpec:
    """A sequential model: its layers, input shape (without the batch) and dtype."""

    layers: list[LayerSpec]
    input_shape: tuple[int, ...]
    dtype: str = "float64"
    source: str = ""  # 'torch' | 'keras' | 'reference': where it was read from

    def __post_init__(self) -> None:
        if not self.layers:
            raise ValueError("ModelSpec: a model needs at least one layer; received none")
        self.input_shape = tuple(int(d) for d in self.input_shape)
        self.dtype = np.dtype(self.dtype).name
        param_keys(self.layers)  # checks the batch norm placement

    # ---------------------------------------------------------------- arrays by name

    def arrays(self, which: str = "all") -> dict[str, np.ndarray]:
        """Global name -> array: W1, b1, gamma1, beta1 ('params'), running_mean1,
        running_var1 ('state'), or both ('all')."""
        out: dict[str, np.ndarray] = {}
        for layer, key in zip(self.layers, param_keys(self.layers), strict=True):
            if key is None:
                continue
            names = {"params": TRAINABLE, "state": STATE}.get(which)
            for w, a in layer.weights.items():
                if names is None or w in names.get(layer.kind, ()):
                    out[f"{w}{key[1]}"] = a
        return out

    def params(self) -> dict[str, np.ndarray]:
        return self.arrays("params")

    def with_arrays(self, arrays: dict[str, np.ndarray]) -> ModelSpec:
        """A copy whose arrays are replaced by ``arrays`` (global names; others kept)."""
        layers = []
        for layer, key in zip(self.layers, param_keys(self.layers), strict=True):
            weights = dict(layer.weights)
            if key is not None:
                for w in weights:
                    if f"{w}{key[1]}" in arrays:
                        weights[w] = np.array(arrays[f"{w}{key[1]}"])
            layers.append(replace(layer, weights=weights, config=dict(layer.config)))
        return replace(self, layers=layers)

    def astype(self, dtype: Any) -> ModelSpec:
        """A copy with every array cast to ``dtype``."""
        dt = np.dtype(dtype)
        spec = self.with_arrays({k: a.astype(dt) for k, a in self.arrays().items()})
        return replace(spec, dtype=dt.name)

    def with_config(self, index: int, **changes: Any) -> ModelSpec:
        """A copy with layer ``index``'s config updated."""
        layers = [replace(la, config=dict(la.config), weights=dict(la.weights))
                  for la in self.layers]
        layers[index].config.update(changes)
        return replace(self, layers=layers)

    def held_by(self, framework: str) -> ModelSpec:
        """A copy with the fields ``framework`` cannot change set as it holds them (torch:
        unbiased running variance; Keras: biased, float32 slope and L2 factor)."""
        out = replace(self, layers=[replace(la, config=dict(la.config)) for la in self.layers])
        for layer in out.layers:
            for key, value in INHERENT.get(framework, {}).get(layer.kind, {}).items():
                if key != "reg_float32" or layer.config.get("reg"):
                    layer.config[key] = value
        if framework in INHERENT:
            out.source = framework
        return out

    @property
    def output_dim(self) -> int:
        dims = [la.config["units"] for la in self.layers if la.kind == "dense"]
        return int(dims[-1]) if dims else int(math.prod(self.input_shape))

    def is_fully_connected_net(self) -> bool:
        """True when the layers are FullyConnectedNet's: {dense-[bn]-relu-[dropout]}* dense,
        with one dropout p and one batch norm setting throughout."""
        kinds = [la.kind for la in self.layers]
        if kinds and kinds[0] == "flatten":
            kinds = kinds[1:]
        pattern, i = [], 0
        while i < len(kinds):
            block = [kinds[i]]
            j = i + 1
            while j < len(kinds) and kinds[j] != "dense":
                block.append(kinds[j])
                j += 1
            pattern.append(tuple(block))
            i = j
        if not pattern or pattern[-1] != ("dense",):
            return False
        hidden = set(pattern[:-1])
        allowed = {("dense", "relu"), ("dense", "batchnorm", "relu"),
                   ("dense", "relu", "dropout"), ("dense", "batchnorm", "relu", "dropout")}
        ps = {la.config["p"] for la in self.layers if la.kind == "dropout"}
        return hidden <= allowed and len(hidden) <= 1 and len(ps) <= 1

    # ---------------------------------------------------------------- the JSON part

    def architecture(self) -> dict[str, Any]:
        """Everything but the arrays, as JSON-able data (what .pt and .npz files carry)."""
        return {
            "input_shape": list(self.input_shape),
            "dtype": self.dtype,
            "layers": [{"kind": la.kind, "name": la.name, "config": la.config}
                       for la in self.layers],
        }

    @classmethod
    def from_architecture(cls, arch: Any, arrays: dict[str, np.ndarray],
                          source: str = "") -> ModelSpec:
        """The inverse of ``architecture``: layers from JSON, arrays by global name."""
        if not isinstance(arch, dict) or "layers" not in arch:
            raise ValueError(
                "ModelSpec: the architecture must be a dict with 'input_shape', 'dtype' and "
                f"'layers'; received {type(arch).__name__}"
            )
        layers = [LayerSpec(d["kind"], dict(d.get("config", {})), {}, d.get("name", ""))
                  for d in arch["layers"]]
        spec = cls(layers, tuple(arch["input_shape"]), arch.get("dtype", "float64"), source)
        needed = needed_arrays(spec)
        missing = sorted(set(needed) - set(arrays))
        if missing:
            raise ValueError(
                f"ModelSpec: the arrays {missing} are missing; the architecture needs "
                f"{sorted(needed)}; received {sorted(arrays)}"
            )
        for name, shape in needed.items():
            if tuple(arrays[name].shape) != shape:
                raise ValueError(
                    f"ModelSpec: array {name!r} must have shape {shape} from the architecture; "
                    f"received shape {tuple(arrays[name].shape)}"
                )
        full = _fill_arrays(spec, arrays)
        return spec.with_arrays(full)


def needed_arrays(spec: ModelSpec) -> dict[str, tuple[int, ...]]:
    """Global name -> shape of every array the architecture needs."""
    needed: dict[str, tuple[int, ...]] = {}
    width = int(math.prod(spec.input_shape))
    for layer, key in zip(spec.layers, param_keys(spec.layers), strict=True):
        c = layer.config
        if layer.kind == "dense":
            c.setdefault("in_features", width)
            needed[f"W{key[1]}"] = (int(c["in_features"]), int(c["units"]))
            if c["use_bias"]:
                needed[f"b{key[1]}"] = (int(c["units"]),)
            width = int(c["units"])
        elif layer.kind == "batchnorm":
            for w in ("gamma", "beta", "running_mean", "running_var"):
                needed[f"{w}{key[1]}"] = (width,)
    return needed


def _fill_arrays(spec: ModelSpec, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays, with every layer's weights dict given its entries (new dicts)."""
    for layer, key in zip(spec.layers, param_keys(spec.layers), strict=True):
        if key is None:
            continue
        names = KINDS[layer.kind][1]
        layer.weights = {w: np.array(arrays[f"{w}{key[1]}"]) for w in names
                         if f"{w}{key[1]}" in arrays}
    return arrays


# --------------------------------------------------------------------- training setup


@dataclass(frozen=True)
class LossSpec:
    """The data loss: kind, whether outputs are logits, and the reduction.

    - kind: 'softmax_cross_entropy' (integer labels), 'mse', 'sigmoid_cross_entropy'.
    - from_logits: False means the outputs are taken for probabilities (Keras's
      SparseCategoricalCrossentropy default): loss = -log(c_y / sum(c)), c = clip(out,
      1e-7, 1 - 1e-7).
    - one_hot: the user's labels are one-hot rows (Keras's categorical_crossentropy); the
      loss is the same function of the class index, which every side is given.
    - reduction: 'mean' averages over every element (N*K: torch's and Keras's default for
      mse and the sigmoid cross-entropy), 'batchmean' sums over K and averages over N
      (SPEC.md's mse_loss and sigmoid_cross_entropy_loss). The softmax cross-entropy is
      always averaged over N.
    """

    kind: str = "softmax_cross_entropy"
    from_logits: bool = True
    reduction: str = "mean"
    one_hot: bool = False  # labels as one-hot rows (Keras's categorical_crossentropy)

    def __post_init__(self) -> None:
        if self.kind not in LOSS_KINDS:
            raise ValueError(f"LossSpec: kind must be one of {LOSS_KINDS}; received {self.kind!r}")
        if self.reduction not in REDUCTIONS:
            raise ValueError(
                f"LossSpec: reduction must be one of {REDUCTIONS}; received {self.reduction!r}"
            )


@dataclass
class OptimizerSpec:
    """An optimizer's hyper-parameters (reference names and meaning) and state.

    - kind: 'adam', 'adamw', 'sgd' (momentum 0: plain SGD) or 'rmsprop'.
    - hyper: learning_rate; adam: beta1, beta2, epsilon; adamw: those and weight_decay
      (decoupled: w -= lr * weight_decay * w, torch's AdamW and Keras's AdamW both);
      sgd: momentum, nesterov;
      rmsprop: decay_rate, epsilon.
    - form: adam 'textbook' (torch, the reference: eps added to sqrt(v_hat)) or
      'epsilon_hat' (Keras: lr_t = lr*sqrt(1-beta2^t)/(1-beta1^t), eps added to sqrt(v));
      rmsprop 'eps_outside' (torch, reference) or 'eps_inside' (Keras: sqrt(cache + eps)).
    - t: steps taken so far (Adam's t, Keras's iterations).
    - state: param name (W1, b1, ...) -> {'m', 'v'} (adam), {'velocity'} (sgd with momentum:
      SPEC's v = mu*v - lr*dw, i.e. Keras's momentum variable; torch's buffer is -v/lr),
      {'cache'} (rmsprop); empty before the first step.
    """

    kind: str
    hyper: dict[str, Any]
    form: str = ""
    t: int = 0
    state: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in OPTIMIZER_KINDS:
            raise ValueError(
                f"OptimizerSpec: kind must be one of {OPTIMIZER_KINDS}; received {self.kind!r}"
            )
        defaults = {"adam": ("textbook", {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}),
                    "adamw": ("textbook", {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
                                           "weight_decay": 1e-2}),
                    "sgd": ("", {"momentum": 0.0, "nesterov": False}),
                    "rmsprop": ("eps_outside", {"decay_rate": 0.99, "epsilon": 1e-8})}
        form, hyper = defaults[self.kind]
        self.form = self.form or form
        self.hyper = {"learning_rate": 1e-3, **hyper, **self.hyper}

    @property
    def rule(self) -> str:
        """The reference rule (and tolerance row) this optimizer corresponds to."""
        if self.kind == "sgd":
            if not self.hyper["momentum"]:
                return "sgd"
            return "nesterov_momentum" if self.hyper["nesterov"] else "sgd_momentum"
        return self.kind

    def describe(self) -> str:
        h = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                      for k, v in self.hyper.items())
        form = f", {self.form}" if self.form else ""
        return f"{self.kind}({h}{form}; t={self.t})"

    def config_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "hyper": self.hyper, "form": self.form, "t": self.t}


@dataclass
class TrainingSetup:
    """How a model trains: its data loss and its optimizer (None: not known)."""

    loss: LossSpec = field(default_factory=LossSpec)
    optimizer: OptimizerSpec | None = None

    def config_json(self) -> dict[str, Any]:
        return {
            "loss": {"kind": self.loss.kind, "from_logits": self.loss.from_logits,
                     "reduction": self.loss.reduction, "one_hot": self.loss.one_hot},
            "optimizer": None if self.optimizer is None else self.optimizer.config_json(),
        }

    @classmethod
    def from_json(cls, data: Any, state: dict[str, dict[str, np.ndarray]] | None = None
                  ) -> TrainingSetup:
        if not isinstance(data, dict):
            return cls()
        loss = LossSpec(**data.get("loss", {}))
        opt = data.get("optimizer")
        optimizer = None
        if opt:
            optimizer = OptimizerSpec(opt["kind"], dict(opt.get("hyper", {})),
                                      opt.get("form", ""), int(opt.get("t", 0)), state or {})
        return cls(loss, optimizer)


def dumps(data: Any) -> str:
    """JSON text of architecture / setup data (floats written exactly: repr round-trips)."""
    return json.dumps(data, sort_keys=True)
