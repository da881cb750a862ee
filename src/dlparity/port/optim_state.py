"""Optimizer hyper-parameters and state between the conventions of torch, Keras and SPEC.

Pure NumPy: the side modules read and write the framework objects, this module says what
each number means in each framework (CONVENTIONS.md, docs/conventions.md):

- Adam: torch ``exp_avg``, ``exp_avg_sq``, ``step`` (per parameter); Keras 3 ``momentum``
  and ``velocity`` variables and ``iterations`` (one count); spec ``m``, ``v``, ``t``. torch
  adds eps to sqrt(v_hat) (textbook); Keras uses epsilon-hat: lr_t = lr*sqrt(1-b2^t)/(1-b1^t),
  eps added to sqrt(v) (``form`` says which).
- SGD momentum: torch buf = mu*buf + g, w -= lr*buf; Keras m = mu*m - lr*g, w += m; spec
  ``velocity`` = Keras's m = -lr*buf.
- RMSprop: torch ``square_avg``, alpha 0.99, eps outside the sqrt; Keras ``velocity``, rho
  0.9, eps INSIDE the sqrt; spec ``cache``, ``decay_rate``, ``form``.

Conversion rule (docs/porting.md): the SOURCE hyper-parameters are carried over in the
target's meaning. Where the target cannot express the source formula exactly, the closest
setting is used and the difference stays a named convention: Adam's epsilon is carried as
is (the epsilon-hat form equals the textbook one as t grows: eps_hat = eps*sqrt(1-b2^t));
RMSprop's epsilon outside the square root becomes eps**2 inside it (equal where the cache
is 0, both negligible where it is large), and back.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from .schedules import keras_schedule, schedule_from_keras, scheduled_lr
from .spec import OptimizerSpec

__all__ = ["torch_kwargs", "keras_kwargs", "hyper_from_torch", "hyper_from_keras",
           "TORCH_CLASSES", "KERAS_CLASSES", "to_torch_state", "from_torch_state"]

TORCH_CLASSES = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop"}
KERAS_CLASSES = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop"}
# spec state name -> (torch state key, Keras optimizer attribute holding the variables)
STATE_NAMES = {
    "adam": {"m": ("exp_avg", "_momentums"), "v": ("exp_avg_sq", "_velocities")},
    "adamw": {"m": ("exp_avg", "_momentums"), "v": ("exp_avg_sq", "_velocities")},
    "sgd": {"velocity": ("momentum_buffer", "momentums")},
    "rmsprop": {"cache": ("square_avg", "_velocities")},
}


def _unsupported(fn: str, what: str, value: Any, expected: str) -> ValueError:
    return ValueError(f"{fn}: {what} is not supported by dlparity port; received {value!r}, "
                      f"expected {expected}")


# ------------------------------------------------------------------------- torch


def torch_kwargs(opt: OptimizerSpec) -> dict[str, Any]:
    """Keyword arguments of the torch.optim class TORCH_CLASSES[opt.kind]."""
    h = opt.hyper
    if opt.kind in ("adam", "adamw"):
        decay = {"weight_decay": h["weight_decay"]} if opt.kind == "adamw" else {}
        return {"lr": h["learning_rate"], "betas": (h["beta1"], h["beta2"]), "eps": h["epsilon"],
                **decay}
    if opt.kind == "sgd":
        return {"lr": h["learning_rate"], "momentum": h["momentum"], "nesterov": h["nesterov"]}
    eps = math.sqrt(h["epsilon"]) if opt.form == "eps_inside" else h["epsilon"]
    return {"lr": h["learning_rate"], "alpha": h["decay_rate"], "eps": eps}


def hyper_from_torch(cls_name: str, group: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
    """(kind, hyper, form) of a torch optimizer's param group; unsupported settings raise."""
    fn = "port (torch optimizer)"
    kinds = {v: k for k, v in TORCH_CLASSES.items()}
    if cls_name not in kinds:
        raise ValueError(f"{fn}: the optimizer class {cls_name!r} is not supported; supported: "
                         f"{sorted(kinds)}")
    kind = kinds[cls_name]
    if kind == "adam" and group.get("decoupled_weight_decay"):
        kind = "adamw"  # torch.optim.Adam(decoupled_weight_decay=True) is AdamW
    if kind != "adamw" and group.get("weight_decay", 0):
        raise _unsupported(fn, "weight_decay", group["weight_decay"],
                           "0: torch's coupled weight_decay adds wd*w to every gradient "
                           "(l2_vs_weight_decay); put the penalty in the model as a dense "
                           "layer's reg, or use AdamW's decoupled decay")
    for flag in ("maximize", "amsgrad", "centered"):
        if group.get(flag, False):
            raise _unsupported(fn, flag, group[flag], "False")
    if kind in ("adam", "adamw"):
        b1, b2 = group["betas"]
        decay = {"weight_decay": float(group["weight_decay"])} if kind == "adamw" else {}
        return kind, {"learning_rate": float(group["lr"]), "beta1": float(b1),
                      "beta2": float(b2), "epsilon": float(group["eps"]), **decay}, "textbook"
    if kind == "sgd":
        if group.get("dampening", 0):
            raise _unsupported(fn, "dampening", group["dampening"], "0")
        return kind, {"learning_rate": float(group["lr"]), "momentum": float(group["momentum"]),
                      "nesterov": bool(group["nesterov"])}, ""
    if group.get("momentum", 0):
        raise _unsupported(fn, "RMSprop momentum", group["momentum"], "0")
    return kind, {"learning_rate": float(group["lr"]), "decay_rate": float(group["alpha"]),
                  "epsilon": float(group["eps"])}, "eps_outside"


def to_torch_state(opt: OptimizerSpec, name: str) -> dict[str, np.ndarray]:
    """torch's state for parameter ``name`` (spec layout; the caller transposes W)."""
    state = opt.state.get(name)
    if not state:
        return {}
    out = {}
    for key, (torch_key, _) in STATE_NAMES[opt.kind].items():
        value = np.asarray(state[key])
        if opt.kind == "sgd":  # torch's buffer excludes lr: buf = -v / lr
            value = -value / current_lr(opt)
        out[torch_key] = value
    return out


def from_torch_state(kind: str, hyper: dict[str, Any], state: dict[str, np.ndarray]
                     ) -> dict[str, np.ndarray]:
    """The spec's state from torch's state of one parameter (spec layout)."""
    out = {}
    for key, (torch_key, _) in STATE_NAMES[kind].items():
        if torch_key in state:
            value = np.asarray(state[torch_key])
            out[key] = -value * hyper["learning_rate"] if kind == "sgd" else value
    return out


# ------------------------------------------------------------------------- Keras


def keras_kwargs(opt: OptimizerSpec) -> dict[str, Any]:
    """Keyword arguments of the Keras optimizer KERAS_CLASSES[opt.kind] (TextbookAdam for
    an Adam of the textbook form takes the same); a schedule becomes the Keras schedule."""
    out = _keras_kwargs(opt)
    if opt.hyper.get("schedule"):
        out["learning_rate"] = keras_schedule(opt.hyper["schedule"], opt.hyper["learning_rate"])
    return out


def current_lr(opt: OptimizerSpec) -> float:
    """The learning rate of the optimizer's next update (its schedule at step t)."""
    return scheduled_lr(opt.hyper.get("schedule"), opt.hyper["learning_rate"], opt.t)


def _keras_kwargs(opt: OptimizerSpec) -> dict[str, Any]:
    h = opt.hyper
    if opt.kind in ("adam", "adamw"):
        decay = {"weight_decay": h["weight_decay"]} if opt.kind == "adamw" else {}
        return {"learning_rate": h["learning_rate"], "beta_1": h["beta1"], "beta_2": h["beta2"],
                "epsilon": h["epsilon"], **decay}
    if opt.kind == "sgd":
        return {"learning_rate": h["learning_rate"], "momentum": h["momentum"],
                "nesterov": h["nesterov"]}
    eps = h["epsilon"] ** 2 if opt.form == "eps_outside" else h["epsilon"]
    return {"learning_rate": h["learning_rate"], "rho": h["decay_rate"], "epsilon": eps}


def hyper_from_keras(cls_name: str, config: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
    """(kind, hyper, form) of a Keras optimizer's get_config(); unsupported settings raise."""
    fn = "port (Keras optimizer)"
    kinds = {"Adam": "adam", "TextbookAdam": "adam", "AdamW": "adamw", "SGD": "sgd",
             "RMSprop": "rmsprop"}
    if cls_name not in kinds:
        raise ValueError(f"{fn}: the optimizer class {cls_name!r} is not supported; supported: "
                         f"{sorted(kinds)}")
    kind = kinds[cls_name]
    if kind == "adam" and config.get("weight_decay"):
        kind = "adamw"  # Keras's weight_decay is decoupled: Adam(weight_decay=wd) is AdamW
    for key in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm") if kind != "adamw" \
            else ("clipnorm", "clipvalue", "global_clipnorm"):
        if config.get(key):
            raise _unsupported(fn, key, config[key], "None")
    if config.get("use_ema") or config.get("amsgrad") or config.get("centered"):
        raise _unsupported(fn, "use_ema/amsgrad/centered", True, "False")
    schedule = {}
    if isinstance(config.get("learning_rate"), dict):  # a serialized Keras schedule
        lr, schedule["schedule"] = schedule_from_keras(config["learning_rate"])
    elif not isinstance(config.get("learning_rate"), (int, float)):
        raise _unsupported(fn, "a learning rate", config.get("learning_rate"),
                           "a number, ExponentialDecay or PiecewiseConstantDecay")
    else:
        lr = float(config["learning_rate"])
    kind, hyper, form = _keras_hyper(kind, cls_name, config, lr)
    return kind, {**hyper, **schedule}, form


def _keras_hyper(kind: str, cls_name: str, config: dict[str, Any], lr: float
                 ) -> tuple[str, dict[str, Any], str]:
    fn = "port (Keras optimizer)"
    if kind in ("adam", "adamw"):
        form = "textbook" if cls_name == "TextbookAdam" else "epsilon_hat"
        decay = {}
        if kind == "adamw":  # stock Keras casts the factor through float32 (tf.cast of a
            wd = float(config["weight_decay"])  # Python float); TextbookAdam keeps it exact
            decay = {"weight_decay": wd if form == "textbook" else float(np.float32(wd))}
        return kind, {"learning_rate": lr, "beta1": float(config["beta_1"]),
                      "beta2": float(config["beta_2"]), "epsilon": float(config["epsilon"]),
                      **decay}, form
    if kind == "sgd":
        return kind, {"learning_rate": lr, "momentum": float(config["momentum"]),
                      "nesterov": bool(config["nesterov"])}, ""
    if config.get("momentum"):
        raise _unsupported(fn, "RMSprop momentum", config["momentum"], "0")
    return kind, {"learning_rate": lr, "decay_rate": float(config["rho"]),
                  "epsilon": float(config["epsilon"])}, "eps_inside"


def for_target(opt: OptimizerSpec, framework: str, keras_adam: str = "stock") -> OptimizerSpec:
    """The optimizer as the target framework will hold it: the form it can express and the
    hyper-parameters in that form (what re-reading the converted optimizer gives)."""
    hyper, form = dict(opt.hyper), opt.form
    if framework == "torch":
        if opt.kind in ("adam", "adamw"):
            form = "textbook"
        elif opt.kind == "rmsprop":
            hyper["epsilon"], form = torch_kwargs(opt)["eps"], "eps_outside"
    elif framework == "keras":
        if opt.kind in ("adam", "adamw"):
            form = "textbook" if keras_adam == "textbook" else "epsilon_hat"
        if opt.kind == "adamw" and form == "epsilon_hat":  # stock Keras: wd in float32
            hyper["weight_decay"] = float(np.float32(hyper["weight_decay"]))
        elif opt.kind == "rmsprop":
            hyper["epsilon"], form = keras_kwargs(opt)["epsilon"], "eps_inside"
    if hyper.get("schedule"):
        hyper["schedule"] = copy.deepcopy(hyper["schedule"])
    state = {k: {s: np.array(a) for s, a in v.items()} for k, v in opt.state.items()}
    return OptimizerSpec(opt.kind, hyper, form, opt.t, state)
