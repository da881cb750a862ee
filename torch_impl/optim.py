"""First-order update rules and gradient clipping with ``torch.optim`` (SPEC.md §2, §4).

Same signature and results as ``dlparity.reference.optim``::

    next_w, config = rule(w, dw, config=None)

Each call validates ``(w, dw, config)`` with ``dlparity.contract.optim`` (which fills the
default hyper-parameters), builds the stock ``torch.optim`` optimizer configured to compute
the SPEC formula, loads its state from ``config`` (``velocity``, ``cache``, ``m``, ``v``,
``t``, the SPEC names, so a config passes freely between implementations), takes one
``step()`` and stores the state back in SPEC terms. ``next_w`` is a new array of w's
dtype; the state arrays are REPLACED in the config by new arrays, never written in place,
as in the reference.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from dlparity.catalogue import names_in
from dlparity.contract import optim as contract

from ._convert import to_float, to_numpy, to_tensor

__all__ = names_in("optim")  # the catalogue's names (dlparity.catalogue)


# ---------------------------------------------------------------------------- helpers


def _param(w: np.ndarray, dw: np.ndarray) -> torch.Tensor:
    """A leaf tensor holding a copy of w, with dw (cast to w's dtype) as its .grad."""
    p = to_tensor(w, requires_grad=True)  # w.shape
    p.grad = to_tensor(dw).to(p.dtype)  # w.shape
    return p


def _state(config: dict, key: str, w: np.ndarray) -> np.ndarray:
    """``config[key]``, or zeros of w's shape and dtype when the rule has no state yet."""
    return config[key] if key in config else np.zeros(w.shape, dtype=w.dtype)


def _step(
    optimizer: torch.optim.Optimizer, p: torch.Tensor, state: dict[str, Any]
) -> dict[str, Any]:
    """Load ``state`` as the optimizer's state of p, take one step, return the new state."""
    if state:
        optimizer.load_state_dict(
            {"state": {0: state}, "param_groups": optimizer.state_dict()["param_groups"]}
        )
    optimizer.step()
    return optimizer.state[p]


def _store(config: dict, key: str, value: torch.Tensor, w: np.ndarray) -> None:
    """Store a state tensor as ``config[key]``: a new NumPy array of w's dtype (the array
    the config held before is never written)."""
    config[key] = to_numpy(value).astype(w.dtype, copy=False)


def _result(p: torch.Tensor, w: np.ndarray) -> np.ndarray:
    """next_w: the stepped parameter as a new NumPy array of w's dtype."""
    return to_numpy(p).astype(w.dtype, copy=False)


def _momentum_rule(
    w: np.ndarray, dw: np.ndarray, config: dict, nesterov: bool
) -> tuple[np.ndarray, dict]:
    """SGD momentum / Nesterov with torch.optim.SGD, keeping lr INSIDE the velocity.

    torch's buffer excludes lr (buf = mu*buf + g; w -= lr*buf), SPEC's velocity includes it
    (v = mu*v - lr*dw; w += v). Stepping torch's SGD with lr=1 on the gradient lr*dw makes
    its buffer exactly -v, so the SPEC formula holds step by step even when lr changes
    between calls, and lr = 0 needs no special case. Nesterov: torch's w -= g + mu*buf
    equals SPEC's w += -mu*v_prev + (1 + mu)*v. With mu = 0 torch keeps no buffer (and
    refuses nesterov=True); the rule is then plain SGD and v = -lr*dw, its gradient.
    """
    lr, mu = config["learning_rate"], config["momentum"]
    p = _param(w, dw)
    p.grad.mul_(lr)  # the gradient torch sees: lr * dw, so lr stays inside the buffer
    velocity = to_tensor(_state(config, "velocity", w)).to(p.dtype)  # w.shape
    opt = torch.optim.SGD([p], lr=1.0, momentum=mu, nesterov=nesterov and mu > 0)
    state = _step(opt, p, {"momentum_buffer": -velocity} if mu > 0 else {})
    _store(config, "velocity", -state.get("momentum_buffer", p.grad), w)
    return _result(p, w), config


# ------------------------------------------------------------------------------- rules


def sgd(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Vanilla stochastic gradient descent: w - lr * dw (torch.optim.SGD).

    config: learning_rate (1e-2).
    """
    config = contract.sgd(w, dw, config)
    p = _param(w, dw)
    _step(torch.optim.SGD([p], lr=config["learning_rate"]), p, {})
    return _result(p, w), config


def sgd_momentum(
    w: np.ndarray, dw: np.ndarray, config: dict | None = None
) -> tuple[np.ndarray, dict]:
    """SGD with momentum: v = mu * v - lr * dw; next_w = w + v (torch.optim.SGD).

    config: learning_rate (1e-2), momentum mu (0.9); state velocity v (w.shape).
    """
    config = contract.sgd_momentum(w, dw, config)
    return _momentum_rule(w, dw, config, nesterov=False)


def nesterov_momentum(
    w: np.ndarray, dw: np.ndarray, config: dict | None = None
) -> tuple[np.ndarray, dict]:
    """Nesterov momentum: v_prev = v; v = mu * v - lr * dw; w += -mu * v_prev + (1 + mu) * v
    (torch.optim.SGD with nesterov=True).

    config: learning_rate (1e-2), momentum mu (0.9); state velocity v (w.shape).
    """
    config = contract.nesterov_momentum(w, dw, config)
    return _momentum_rule(w, dw, config, nesterov=True)


def adagrad(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Adagrad: cache += dw**2; next_w = w - lr * dw / (sqrt(cache) + eps).

    torch.optim.Adagrad with eps=config['epsilon'] (torch's default 1e-10 differs from
    SPEC's 1e-7), initial_accumulator_value=0 and lr_decay=0; its 'sum' is the cache.

    config: learning_rate (1e-2), epsilon (1e-7); state cache (w.shape, starts at 0).
    """
    config = contract.adagrad(w, dw, config)
    p = _param(w, dw)
    opt = torch.optim.Adagrad(
        [p], lr=config["learning_rate"], eps=config["epsilon"],
        initial_accumulator_value=0.0, lr_decay=0.0,
    )
    cache = to_tensor(_state(config, "cache", w))
    state = _step(opt, p, {"step": 0.0, "sum": cache})
    _store(config, "cache", state["sum"], w)
    return _result(p, w), config


def rmsprop(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """RMSprop: cache = rho * cache + (1 - rho) * dw**2; w -= lr * dw / (sqrt(cache) + eps).

    torch.optim.RMSprop with alpha=rho (eps outside the sqrt, as SPEC); its 'square_avg'
    is the cache.

    config: learning_rate (1e-2), decay_rate rho (0.99), epsilon (1e-8); state cache.
    """
    config = contract.rmsprop(w, dw, config)
    p = _param(w, dw)
    opt = torch.optim.RMSprop(
        [p], lr=config["learning_rate"], alpha=config["decay_rate"], eps=config["epsilon"]
    )
    cache = to_tensor(_state(config, "cache", w))
    state = _step(opt, p, {"step": 0.0, "square_avg": cache})
    _store(config, "cache", state["square_avg"], w)
    return _result(p, w), config


def adam(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Adam: t += 1; m = b1*m + (1-b1)*dw; v = b2*v + (1-b2)*dw**2;
    next_w = w - lr * m_hat / (sqrt(v_hat) + eps), m_hat = m/(1-b1**t), v_hat = v/(1-b2**t).

    torch.optim.Adam is this textbook form ('exp_avg' = m, 'exp_avg_sq' = v, 'step' = t).
    bias_correction=False (m_hat = m, v_hat = v) has no torch.optim setting, so that
    variant is written with torch ops.

    config: learning_rate (1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8),
    bias_correction (True); state m, v (w.shape), t (steps taken; the first step uses t = 1).
    """
    config = contract.adam(w, dw, config)
    lr, eps = config["learning_rate"], config["epsilon"]
    beta1, beta2 = config["beta1"], config["beta2"]
    p = _param(w, dw)
    m = to_tensor(_state(config, "m", w)).to(p.dtype)  # w.shape
    v = to_tensor(_state(config, "v", w)).to(p.dtype)  # w.shape
    t = config.get("t", 0)
    if config["bias_correction"]:
        opt = torch.optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)
        step = torch.tensor(float(t), dtype=torch.float64)  # exact for any realistic t
        state = _step(opt, p, {"step": step, "exp_avg": m, "exp_avg_sq": v})
        m, v, t = state["exp_avg"], state["exp_avg_sq"], round(to_float(state["step"]))
    else:
        with torch.no_grad():
            g = p.grad
            m = beta1 * m + (1 - beta1) * g  # w.shape
            v = beta2 * v + (1 - beta2) * (g * g)  # w.shape
            p -= lr * m / (torch.sqrt(v) + eps)
        t += 1
    config["t"] = t
    _store(config, "m", m, w)
    _store(config, "v", v, w)
    return _result(p, w), config


def adamw(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """AdamW: Adam with decoupled weight decay, torch.optim.AdamW (which first scales w by
    1 - lr * weight_decay, then takes Adam's step: the formula of ``reference.adamw``).

    config: learning_rate (1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8),
    weight_decay (1e-2); state m, v (w.shape), t (steps taken; the first step uses t = 1).
    """
    config = contract.adamw(w, dw, config)
    p = _param(w, dw)
    opt = torch.optim.AdamW([p], lr=config["learning_rate"],
                            betas=(config["beta1"], config["beta2"]), eps=config["epsilon"],
                            weight_decay=config["weight_decay"])
    step = torch.tensor(float(config.get("t", 0)), dtype=torch.float64)  # exact for any t
    state = _step(opt, p, {"step": step,
                           "exp_avg": to_tensor(_state(config, "m", w)).to(p.dtype),
                           "exp_avg_sq": to_tensor(_state(config, "v", w)).to(p.dtype)})
    config["t"] = round(to_float(state["step"]))
    _store(config, "m", state["exp_avg"], w)
    _store(config, "v", state["exp_avg_sq"], w)
    return _result(p, w), config


# ---------------------------------------------------------------------------- clipping


def clip_by_global_norm(
    grads: list[np.ndarray] | tuple[np.ndarray, ...], clip_norm: float
) -> tuple[list[np.ndarray], float]:
    """Rescale gradients so that their joint L2 norm is at most clip_norm:
    clipped[i] = grads[i] * clip_norm / max(global_norm, clip_norm).

    The norm is torch.nn.utils.get_total_norm (in float64); the scaling is written out,
    because clip_grad_norm_ scales by clip_norm / (global_norm + 1e-6), not SPEC's
    (TensorFlow's) clip_norm / max(global_norm, clip_norm).

    Inputs:
    - grads: non-empty list or tuple of float arrays, any shapes.
    - clip_norm: float > 0.

    Returns:
    - clipped: list of new arrays, each of its input's shape and dtype (all NaN when the
      global norm is not finite).
    - global_norm: the norm before clipping, a Python float.
    """
    grads, clip_norm = contract.clip_by_global_norm(grads, clip_norm)
    tensors = [to_tensor(g) for g in grads]
    global_norm = to_float(
        torch.nn.utils.get_total_norm([t.to(torch.float64) for t in tensors])
    )
    scale = clip_norm / max(global_norm, clip_norm) if math.isfinite(global_norm) else math.nan
    return [to_numpy(t * scale) for t in tensors], global_norm
