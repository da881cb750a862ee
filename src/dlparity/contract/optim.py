"""Argument contract of the optimizers and of ``clip_by_global_norm`` (SPEC.md §2, §4).

Every implementation's ``rule(w, dw, config=None)`` starts with
``config = contract.optim.<rule>(w, dw, config)``. The contract

* checks ``w`` and ``dw``: floating ``numpy.ndarray``s of the same shape (``dw`` may have
  another floating dtype; ``next_w`` always takes ``w``'s dtype);
* returns the config dict to use: a NEW dict when ``config`` is None, otherwise THE SAME
  dict object (the config is state by design, SPEC.md §4);
* fills every missing hyper-parameter with its default from :data:`DEFAULTS` (the one
  table of defaults, used by every implementation) and writes every hyper-parameter back
  normalised: a Python ``float`` (so a NumPy float64 learning rate never upcasts float32
  weights) or, for ``bias_correction``, a Python ``bool``;
* checks the state a previous call left in the config, when present: ``velocity``,
  ``cache``, ``m``, ``v`` are floating ``numpy.ndarray``s of ``w``'s shape (state crosses
  the boundary as NumPy, like every other array), Adam's ``t`` is an integer >= 0.

Creating missing state (zeros of ``w``'s shape and dtype) is left to the rule. Keys the
rule does not know are ignored (one config dict may be shared by code that adds its own).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlparity import validate as v
from dlparity.catalogue import names_in

__all__ = names_in("optim")  # the catalogue's names (dlparity.catalogue)

#: Each rule's hyper-parameters and their defaults (SPEC.md §2). The ONE place they live.
DEFAULTS: dict[str, dict[str, float | bool]] = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "nesterov_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-7},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {
        "learning_rate": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
        "bias_correction": True,
    },
}

#: The state arrays each rule keeps in its config (Adam also keeps the step count ``t``).
STATE: dict[str, tuple[str, ...]] = {
    "sgd": (),
    "sgd_momentum": ("velocity",),
    "nesterov_momentum": ("velocity",),
    "adagrad": ("cache",),
    "rmsprop": ("cache",),
    "adam": ("m", "v"),
}

_FRACTION = {"low": 0.0, "high": 1.0, "high_open": True}  # [0, 1)
_RANGES: dict[str, dict[str, Any]] = {
    "learning_rate": {"low": 0.0},  # finite, >= 0
    "epsilon": {"low": 0.0},  # finite, >= 0
    "momentum": _FRACTION,
    "decay_rate": _FRACTION,
    "beta1": _FRACTION,
    "beta2": _FRACTION,
}


def _check_bool(fn: str, name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{fn}: {name} must be a bool (True or False); "
            f"received {type(value).__name__} {value!r}"
        )
    return bool(value)


def _rule_config(fn: str, w: Any, dw: Any, config: Any) -> dict:
    """The common contract of every update rule; see the module docstring."""
    w = v.as_float_array(fn, "w", w)
    dw = v.as_float_array(fn, "dw", dw)
    v.check_same_shape(fn, "w", w, "dw", dw)
    config = {} if config is None else v.check_dict(fn, "config", config)
    for key, default in DEFAULTS[fn].items():
        name = f"config['{key}']"
        value = config.setdefault(key, default)
        if key == "bias_correction":
            config[key] = _check_bool(fn, name, value)
        else:
            config[key] = v.check_scalar(fn, name, value, **_RANGES[key])
    for key in STATE[fn]:
        if key in config:
            name = f"config['{key}']"
            state = v.as_float_array(fn, name, config[key])
            v.check_shape(fn, name, state, w.shape, "(the shape of w)")
    if fn == "adam" and "t" in config:
        config["t"] = v.check_int(fn, "config['t']", config["t"], low=0)
    return config


def sgd(w: Any, dw: Any, config: dict | None = None) -> dict:
    """Validate ``sgd``'s arguments; return the config with ``learning_rate`` filled."""
    return _rule_config("sgd", w, dw, config)


def sgd_momentum(w: Any, dw: Any, config: dict | None = None) -> dict:
    """Validate ``sgd_momentum``'s arguments; return the config with ``learning_rate``,
    ``momentum`` filled and any ``velocity`` checked."""
    return _rule_config("sgd_momentum", w, dw, config)


def nesterov_momentum(w: Any, dw: Any, config: dict | None = None) -> dict:
    """Validate ``nesterov_momentum``'s arguments; return the config with
    ``learning_rate``, ``momentum`` filled and any ``velocity`` checked."""
    return _rule_config("nesterov_momentum", w, dw, config)


def adagrad(w: Any, dw: Any, config: dict | None = None) -> dict:
    """Validate ``adagrad``'s arguments; return the config with ``learning_rate``,
    ``epsilon`` filled and any ``cache`` checked."""
    return _rule_config("adagrad", w, dw, config)


def rmsprop(w: Any, dw: Any, config: dict | None = None) -> dict:
    """Validate ``rmsprop``'s arguments; return the config with ``learning_rate``,
    ``decay_rate``, ``epsilon`` filled and any ``cache`` checked."""
    return _rule_config("rmsprop", w, dw, config)


def adam(w: Any, dw: Any, config: dict | None = None) -> dict:
    """Validate ``adam``'s arguments; return the config with ``learning_rate``, ``beta1``,
    ``beta2``, ``epsilon``, ``bias_correction`` filled and any ``m``, ``v``, ``t`` checked."""
    return _rule_config("adam", w, dw, config)


def clip_by_global_norm(grads: Any, clip_norm: Any) -> tuple[list[np.ndarray], float]:
    """Validate ``clip_by_global_norm``'s arguments.

    Inputs:
    - grads: a non-empty list or tuple of floating numpy arrays (any shapes, any float dtypes).
    - clip_norm: finite number > 0.

    Returns:
    - grads: the same arrays, as a new list.
    - clip_norm: as a Python float.
    """
    fn = "clip_by_global_norm"
    if not isinstance(grads, (list, tuple)):
        raise TypeError(
            f"{fn}: grads must be a list or tuple of numpy arrays; received {type(grads).__name__}"
        )
    if len(grads) == 0:
        raise ValueError(
            f"{fn}: grads must hold at least one array; received an empty {type(grads).__name__}"
        )
    grads = [v.as_float_array(fn, f"grads[{i}]", g) for i, g in enumerate(grads)]
    clip_norm = v.check_scalar(fn, "clip_norm", clip_norm, low=0.0, low_open=True)
    return grads, clip_norm
