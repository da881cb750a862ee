"""First-order update rules and gradient clipping (SPEC.md §2 "Optimizers", §4).

Every rule has the CS231n signature::

    next_w, config = rule(w, dw, config=None)

Inputs:
- w: float array of any shape, the current weights (never written).
- dw: float array of w's shape, the gradient of the loss with respect to w (never written).
- config: dict of hyper-parameters and state, or None. Missing hyper-parameters take the
  defaults of ``dlparity.contract.optim.DEFAULTS``; hyper-parameters are read at every call,
  so a schedule may change ``config['learning_rate']`` between calls.

Returns:
- next_w: a new array of w's shape and dtype.
- config: THE SAME dict that was passed in (a new one when config was None), holding the
  filled defaults and the rule's state: ``velocity`` (momentum rules), ``cache`` (Adagrad,
  RMSprop), ``m``, ``v``, ``t`` (Adam).

State arrays are created as zeros of w's shape and dtype on the first call. At every step
the rule REPLACES them in the config by new arrays and never writes them in place, so an
array taken from a config earlier (a saved state, a branch of the trajectory) keeps its
values. The same holds in ``dlparity.torch_impl`` and ``dlparity.tf_impl``.
"""

from __future__ import annotations

import math

import numpy as np

from dlparity.catalogue import names_in
from dlparity.contract import optim as contract

__all__ = names_in("optim")  # the catalogue's names (dlparity.catalogue)


def _state(config: dict, key: str, w: np.ndarray) -> np.ndarray:
    """The state array ``config[key]``, or zeros of w's shape and dtype if missing (read
    only: the rule stores a new array back)."""
    return config[key] if key in config else np.zeros(w.shape, dtype=w.dtype)


def sgd(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Vanilla stochastic gradient descent: w - lr * dw.

    config: learning_rate (1e-2).
    """
    config = contract.sgd(w, dw, config)
    lr = config["learning_rate"]
    next_w = w - lr * dw  # w.shape
    return next_w.astype(w.dtype, copy=False), config


def sgd_momentum(
    w: np.ndarray, dw: np.ndarray, config: dict | None = None
) -> tuple[np.ndarray, dict]:
    """SGD with momentum: v = mu * v - lr * dw; next_w = w + v.

    config: learning_rate (1e-2), momentum mu (0.9); state velocity v (w.shape).
    The learning rate lives inside the velocity (SPEC.md §4).
    """
    config = contract.sgd_momentum(w, dw, config)
    lr, mu = config["learning_rate"], config["momentum"]
    velocity = mu * _state(config, "velocity", w) - lr * dw  # w.shape
    config["velocity"] = velocity
    next_w = w + velocity  # w.shape
    return next_w.astype(w.dtype, copy=False), config


def nesterov_momentum(
    w: np.ndarray, dw: np.ndarray, config: dict | None = None
) -> tuple[np.ndarray, dict]:
    """Nesterov momentum in its practical form:

        v_prev = v
        v = mu * v - lr * dw
        next_w = w - mu * v_prev + (1 + mu) * v

    config: learning_rate (1e-2), momentum mu (0.9); state velocity v (w.shape).
    """
    config = contract.nesterov_momentum(w, dw, config)
    lr, mu = config["learning_rate"], config["momentum"]
    v_prev = _state(config, "velocity", w)  # w.shape
    velocity = mu * v_prev - lr * dw  # w.shape
    config["velocity"] = velocity
    next_w = w - mu * v_prev + (1 + mu) * velocity  # w.shape
    return next_w.astype(w.dtype, copy=False), config


def adagrad(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Adagrad: cache += dw**2; next_w = w - lr * dw / (sqrt(cache) + eps).

    config: learning_rate (1e-2), epsilon (1e-7); state cache (w.shape, starts at 0).
    """
    config = contract.adagrad(w, dw, config)
    lr, eps = config["learning_rate"], config["epsilon"]
    cache = _state(config, "cache", w) + dw * dw  # w.shape
    config["cache"] = cache
    next_w = w - lr * dw / (np.sqrt(cache) + eps)  # w.shape
    return next_w.astype(w.dtype, copy=False), config


def rmsprop(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """RMSprop: cache = rho * cache + (1 - rho) * dw**2; next_w = w - lr * dw / (sqrt(cache) + eps).

    config: learning_rate (1e-2), decay_rate rho (0.99), epsilon (1e-8); state cache (w.shape).
    """
    config = contract.rmsprop(w, dw, config)
    lr, rho, eps = config["learning_rate"], config["decay_rate"], config["epsilon"]
    cache = rho * _state(config, "cache", w) + (1 - rho) * (dw * dw)  # w.shape
    config["cache"] = cache
    next_w = w - lr * dw / (np.sqrt(cache) + eps)  # w.shape
    return next_w.astype(w.dtype, copy=False), config


def adam(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Adam with bias correction:

        t = t + 1
        m = beta1 * m + (1 - beta1) * dw
        v = beta2 * v + (1 - beta2) * dw**2
        m_hat = m / (1 - beta1**t);  v_hat = v / (1 - beta2**t)
        next_w = w - lr * m_hat / (sqrt(v_hat) + eps)

    With ``bias_correction=False``, m_hat = m and v_hat = v (the variant one source
    document writes).

    config: learning_rate (1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8),
    bias_correction (True); state m, v (w.shape), t (steps taken; the first step uses t = 1).
    """
    config = contract.adam(w, dw, config)
    lr, eps = config["learning_rate"], config["epsilon"]
    beta1, beta2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    config["t"] = t
    m = beta1 * _state(config, "m", w) + (1 - beta1) * dw  # w.shape
    v = beta2 * _state(config, "v", w) + (1 - beta2) * (dw * dw)  # w.shape
    config["m"], config["v"] = m, v

    # lr * m_hat / (sqrt(v_hat) + eps), with the bias corrections applied to scalars and
    # the divisions done in place, so this step makes only two arrays of w's size (the
    # benchmarks time this function against torch).
    step_size = lr
    denom = np.sqrt(v)  # w.shape; becomes sqrt(v_hat) + eps
    if config["bias_correction"]:
        step_size = lr / (1 - beta1**t)
        denom /= math.sqrt(1 - beta2**t)
    denom += eps
    step = m * step_size  # w.shape; becomes lr * m_hat / denom
    step /= denom
    next_w = np.subtract(w, step, out=step)  # reuse the buffer: next_w = w - step
    return next_w.astype(w.dtype, copy=False), config


def adamw(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Adam with decoupled weight decay (AdamW; torch.optim.AdamW's and Keras's update):

        t = t + 1
        m = beta1 * m + (1 - beta1) * dw
        v = beta2 * v + (1 - beta2) * dw**2
        m_hat = m / (1 - beta1**t);  v_hat = v / (1 - beta2**t)
        next_w = w - lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * w)

    The decay acts on w itself, scaled by lr, not through the gradient (an L2 term in dw
    would be divided by sqrt(v_hat) like the rest). dlparity's extension (docs/api.md).

    config: learning_rate (1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8),
    weight_decay (1e-2); state m, v (w.shape), t (steps taken; the first step uses t = 1).
    """
    config = contract.adamw(w, dw, config)
    lr, eps, decay = config["learning_rate"], config["epsilon"], config["weight_decay"]
    beta1, beta2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = beta1 * _state(config, "m", w) + (1 - beta1) * dw  # w.shape
    v = beta2 * _state(config, "v", w) + (1 - beta2) * (dw * dw)  # w.shape
    config["t"], config["m"], config["v"] = t, m, v
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)  # w.shape
    next_w = w - lr * (m_hat / (np.sqrt(v_hat) + eps) + decay * w)  # w.shape
    return next_w.astype(w.dtype, copy=False), config


def clip_by_global_norm(
    grads: list[np.ndarray] | tuple[np.ndarray, ...], clip_norm: float
) -> tuple[list[np.ndarray], float]:
    """Rescale a list of gradients so that their joint L2 norm is at most ``clip_norm``:

        global_norm = sqrt(sum(||t||**2 for t in grads))
        clipped[i] = grads[i] * clip_norm / max(global_norm, clip_norm)

    Inputs:
    - grads: non-empty list or tuple of float arrays, any shapes.
    - clip_norm: float > 0.

    Returns:
    - clipped: list of NEW arrays, each with its input's shape and dtype (unchanged values,
      copied, when global_norm <= clip_norm).
    - global_norm: the norm BEFORE clipping, a Python float (accumulated in float64). If it is
      not finite, every clipped entry is NaN (as TensorFlow does).
    """
    grads, clip_norm = contract.clip_by_global_norm(grads, clip_norm)
    global_norm = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads))
    if math.isfinite(global_norm):
        scale = clip_norm / max(global_norm, clip_norm)  # 1.0 at or below the threshold
    else:
        scale = math.nan
    clipped = [g * scale for g in grads]  # a Python float keeps each array's dtype
    return clipped, global_norm
