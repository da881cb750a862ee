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
from dlparity.catalogue import BY_NAME, OPTIMIZERS, names_in

__all__ = names_in("optim")  # the catalogue's names (dlparity.catalogue)

#: Each rule's hyper-parameters and their defaults: a view of the catalogue's records
#: (``dlparity.catalogue``), the ONE place they live (with the rule's state keys).
DEFAULTS: dict[str, dict[str, float | bool]] = {e.name: dict(e.hyper) for e in OPTIMIZERS}

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
    entry = BY_NAME[fn]
    for key, default in entry.hyper.items():
        name = f"config['{key}']"
        value = config.setdefault(key, default)
        if isinstance(default, bool):
            config[key] = _check_bool(fn, name, value)
        else:
            config[key] = v.check_scalar(fn, name, value,
                                         **{**_RANGES.get(key, {}), **entry.ranges.get(key, {})})
    for key in entry.state:
        if key in config:
            name = f"config['{key}']"
            state = v.as_float_array(fn, name, config[key])
            v.check_shape(fn, name, state, w.shape, "(the shape of w)")
    if entry.counter and entry.counter in config:
        key = entry.counter
        config[key] = v.check_int(fn, f"config['{key}']", config[key], low=0)
    return config


def _rule(name: str) -> Any:
    def validate(w: Any, dw: Any, config: dict | None = None) -> dict:
        return _rule_config(name, w, dw, config)

    entry = BY_NAME[name]
    keys = ", ".join(f"``{k}``" for k in entry.hyper)
    state = ", ".join(f"``{k}``" for k in (*entry.state, entry.counter) if k)
    validate.__name__ = validate.__qualname__ = name
    validate.__doc__ = (f"Validate ``{name}``'s arguments; return the config with {keys} "
                        f"filled" + (f" and any {state} checked." if state else "."))
    return validate


# One validator per update rule of the catalogue: sgd, sgd_momentum, ..., adam, adamw.
for _entry in OPTIMIZERS:
    globals()[_entry.name] = _rule(_entry.name)


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
