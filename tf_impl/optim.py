"""First-order update rules and gradient clipping with TensorFlow (SPEC.md §2, §4).

Same names, signature and config keys as ``dlparity.reference.optim``::

    next_w, config = rule(w, dw, config=None)

``config`` is checked and filled with the SPEC defaults by ``dlparity.contract.optim``;
the state is kept in it in SPEC terms (``velocity``, ``cache``, ``m``, ``v``, ``t``, NumPy
arrays of w's shape), so one config can be handed from one implementation to another.
After a call the state keys hold NEW arrays (the previous ones are not written).
``next_w`` is a new array of w's dtype; the update is computed in w's dtype.

- ``keras_optimizer``: the one place a Keras optimizer is configured to compute SPEC's
  rule (SGD below; ``TextbookAdam``, whose step is ``adam_update``, for adam / adamw), used
  by ``training.Trainer`` and ``dlparity.port``.
- ``sgd``, ``sgd_momentum``, ``nesterov_momentum``: ``keras.optimizers.SGD``, whose update
  is the SPEC form (m = mu*m - lr*g; w += m; Nesterov w += mu*m - lr*g, which is SPEC's
  -mu*v_prev + (1 + mu)*v for ANY lr, since v - mu*v_prev = -lr*g step by step). Its
  momentum variable is loaded from and written back to ``config['velocity']``. Two
  settings keep float64 exact: the learning rate is a callable returning a variable of
  w's dtype (Keras's own lr variable is float32: 1e-3 -> 0.0010000000474974513), and the
  momentum is passed as ``np.float64`` (a Python float goes through float32 in ``ops.cast``).
- ``adagrad``, ``rmsprop``, ``adam``: written with tf ops. Keras's Adagrad and RMSprop put
  epsilon INSIDE the sqrt (and Adagrad starts its accumulator at 0.1); Keras's Adam uses the
  eps-hat form lr*sqrt(1-beta2^t)/(1-beta1^t) * m/(sqrt(v) + eps): none is the SPEC formula.
- ``clip_by_global_norm``: ``tf.clip_by_global_norm`` (exactly the SPEC form), with the
  global norm accumulated in float64 as the reference does.
"""

from __future__ import annotations

import functools
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from dlparity.catalogue import names_in
from dlparity.contract import optim as contract

from . import _convert

__all__ = names_in("optim")  # the catalogue's names (dlparity.catalogue)


# ------------------------------------------------- the Keras optimizers, defined once


def keras_optimizer(rule: str, hyper: dict[str, Any], learning_rate: Any = None) -> Any:
    """The Keras optimizer computing SPEC's ``rule`` exactly in the variables' dtype: the
    one place this package configures one (``training.Trainer`` and ``dlparity.port``
    use it).

    - 'sgd', 'sgd_momentum', 'nesterov_momentum': ``keras.optimizers.SGD`` (its update is
      SPEC's form), the momentum passed as ``np.float64`` (a Python float is cast through
      float32 in ``ops.cast``);
    - 'adam', 'adamw': ``TextbookAdam``, whose step is ``adam_update`` (``adamw_update``:
      the decoupled decay w -= lr * wd * w, then ``adam_update``).

    ``learning_rate``: a float, or a callable returning a variable of the weights' dtype
    (Keras's own learning-rate variable is float32 unless floatx says otherwise:
    1e-3 -> 0.0010000000474974513); default ``hyper['learning_rate']``.
    """
    lr = hyper["learning_rate"] if learning_rate is None else learning_rate
    if rule in ("sgd", "sgd_momentum", "nesterov_momentum"):
        return keras.optimizers.SGD(learning_rate=lr,
                                    momentum=np.float64(hyper.get("momentum", 0.0)),
                                    nesterov=rule == "nesterov_momentum")
    if rule not in ("adam", "adamw"):
        raise ValueError(f"keras_optimizer: rule must be sgd, sgd_momentum, nesterov_momentum, "
                         f"adam or adamw; received {rule!r}")
    return TextbookAdam(learning_rate=lr, beta_1=hyper.get("beta1", 0.9),
                        beta_2=hyper.get("beta2", 0.999), epsilon=hyper.get("epsilon", 1e-8),
                        weight_decay=hyper.get("weight_decay") if rule == "adamw" else None,
                        bias_correction=hyper.get("bias_correction", True))


@keras.saving.register_keras_serializable(package="dlparity")
class TextbookAdam(keras.optimizers.Adam):
    """SPEC's (and torch.optim.Adam's) Adam as a Keras optimizer: Keras's variables
    (``momentums``, ``velocities``, ``iterations``: a model saved with it loads its state
    like any Keras Adam), the step computed by ``adam_update`` with the betas in the
    variable's dtype. With ``weight_decay`` the step is ``adamw_update`` (w -= lr * wd * w,
    then Adam, with wd exact: torch.optim.AdamW, SPEC's ``adamw``). Registered as
    ``dlparity>TextbookAdam``. amsgrad is not supported."""

    def __init__(self, *args: Any, bias_correction: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bias_correction = bool(bias_correction)

    def _apply_weight_decay(self, variables: Any) -> None:
        """Nothing: the decay is part of ``adamw_update`` in ``update_step`` (Keras's own
        casts the factor through float32: tf.cast of a Python float)."""

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        hyper = {"learning_rate": tf.cast(learning_rate, dtype), "epsilon": self.epsilon,
                 "beta1": tf.constant(self.beta_1, dtype), "beta2": tf.constant(self.beta_2, dtype)}
        if self.weight_decay:
            update = functools.partial(adamw_update, weight_decay=self.weight_decay, **hyper)
        else:
            update = functools.partial(adam_update, bias_correction=self.bias_correction, **hyper)
        next_w, next_m, next_v = update(
            tf.convert_to_tensor(variable), tf.cast(gradient, dtype), tf.convert_to_tensor(m),
            tf.convert_to_tensor(v), tf.cast(self.iterations + 1, dtype))
        self.assign(m, next_m)
        self.assign(v, next_v)
        self.assign(variable, next_w)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "bias_correction": self.bias_correction}


class _KerasSGD:
    """A ``keras.optimizers.SGD`` bound to one weight variable of a given shape and dtype.

    Built once per (shape, dtype, momentum, nesterov, device) and reused: each step
    loads w, lr and the velocity into its variables, applies the gradient, reads back.
    """

    def __init__(self, shape: tuple[int, ...], dtype: Any, momentum: float, nesterov: bool):
        self.w = tf.Variable(tf.zeros(shape, dtype))
        self.lr = tf.Variable(tf.zeros((), dtype))
        rule = "nesterov_momentum" if nesterov else "sgd_momentum"
        self.opt = keras_optimizer(rule, {"momentum": momentum}, lambda: self.lr)
        self.opt.build([self.w])
        self.apply = tf.function(lambda g: self.opt.apply_gradients([(g, self.w)]))

    def step(self, w: tf.Tensor, dw: tf.Tensor, lr: float, velocity: tf.Tensor | None):
        """(next_w, next_velocity) as tensors; velocity is None for plain SGD."""
        self.w.assign(w)
        self.lr.assign(lr)
        if self.opt.momentums:
            self.opt.momentums[0].assign(velocity)
        self.apply(dw)
        if velocity is None:
            return tf.identity(self.w), None
        if not self.opt.momentums:  # momentum 0: Keras keeps no velocity, SPEC's v = -lr*dw
            return tf.identity(self.w), -(lr * dw)
        return tf.identity(self.w), tf.identity(self.opt.momentums[0])


_KERAS_SGD: dict[tuple, _KerasSGD] = {}


def _keras_sgd(
    w: np.ndarray, dw: np.ndarray, config: dict, *, momentum: float, nesterov: bool,
    with_velocity: bool,
) -> np.ndarray:
    """One Keras SGD step; stores ``config['velocity']`` when ``with_velocity``."""
    key = (w.shape, w.dtype.str, momentum, nesterov, _convert.get_device())
    with _convert.device():
        if key not in _KERAS_SGD:
            _KERAS_SGD[key] = _KerasSGD(w.shape, w.dtype, momentum, nesterov)
        velocity = _state(config, "velocity", w) if with_velocity else None
        next_w, next_v = _KERAS_SGD[key].step(
            _convert.to_tensor(w), _convert.to_tensor(dw, w.dtype), config["learning_rate"],
            velocity,
        )
    if with_velocity:
        config["velocity"] = _convert.to_numpy(next_v)
    return _convert.to_numpy(next_w)


def _state(config: dict, key: str, w: np.ndarray) -> tf.Tensor:
    """``config[key]`` as a tensor of w's dtype; zeros of w's shape when missing."""
    if key not in config:
        return tf.zeros(w.shape, w.dtype)
    return _convert.to_tensor(config[key], w.dtype)


# ----------------------------------------------------------------------- the rules


def sgd(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Vanilla stochastic gradient descent, keras.optimizers.SGD: w - lr * dw.

    config: learning_rate (1e-2).
    """
    config = contract.sgd(w, dw, config)
    next_w = _keras_sgd(w, dw, config, momentum=0.0, nesterov=False, with_velocity=False)
    return next_w, config


def sgd_momentum(
    w: np.ndarray, dw: np.ndarray, config: dict | None = None
) -> tuple[np.ndarray, dict]:
    """SGD with momentum, keras.optimizers.SGD(momentum=mu): v = mu * v - lr * dw; w + v.

    config: learning_rate (1e-2), momentum mu (0.9); state velocity v (w.shape).
    """
    config = contract.sgd_momentum(w, dw, config)
    next_w = _keras_sgd(w, dw, config, momentum=config["momentum"], nesterov=False,
                        with_velocity=True)
    return next_w, config


def nesterov_momentum(
    w: np.ndarray, dw: np.ndarray, config: dict | None = None
) -> tuple[np.ndarray, dict]:
    """Nesterov momentum, keras.optimizers.SGD(momentum=mu, nesterov=True):
        v_prev = v;  v = mu * v - lr * dw;  next_w = w - mu * v_prev + (1 + mu) * v

    config: learning_rate (1e-2), momentum mu (0.9); state velocity v (w.shape).
    """
    config = contract.nesterov_momentum(w, dw, config)
    next_w = _keras_sgd(w, dw, config, momentum=config["momentum"], nesterov=True,
                        with_velocity=True)
    return next_w, config


def adagrad(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Adagrad with tf ops: cache += dw**2; next_w = w - lr * dw / (sqrt(cache) + eps).

    config: learning_rate (1e-2), epsilon (1e-7); state cache (w.shape, starts at 0).
    """
    config = contract.adagrad(w, dw, config)
    lr, eps = config["learning_rate"], config["epsilon"]
    with _convert.device():
        w_t, dw_t = _convert.to_tensor(w), _convert.to_tensor(dw, w.dtype)
        cache = _state(config, "cache", w) + tf.square(dw_t)  # w.shape
        next_w = w_t - lr * dw_t / (tf.sqrt(cache) + eps)  # w.shape
    config["cache"] = _convert.to_numpy(cache)
    return _convert.to_numpy(next_w), config


def rmsprop(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """RMSprop with tf ops:
        cache = rho * cache + (1 - rho) * dw**2;  next_w = w - lr * dw / (sqrt(cache) + eps)

    config: learning_rate (1e-2), decay_rate rho (0.99), epsilon (1e-8); state cache.
    """
    config = contract.rmsprop(w, dw, config)
    lr, rho, eps = config["learning_rate"], config["decay_rate"], config["epsilon"]
    with _convert.device():
        w_t, dw_t = _convert.to_tensor(w), _convert.to_tensor(dw, w.dtype)
        cache = rho * _state(config, "cache", w) + (1 - rho) * tf.square(dw_t)  # w.shape
        next_w = w_t - lr * dw_t / (tf.sqrt(cache) + eps)  # w.shape
    config["cache"] = _convert.to_numpy(cache)
    return _convert.to_numpy(next_w), config


def adam_update(w, dw, m, v, t, *, learning_rate, beta1, beta2, epsilon, bias_correction):
    """The SPEC Adam step on tensors -> (next_w, m, v); t is the step number (1 first), a
    Python int or a float tensor. Shared by ``adam`` and the Keras training step."""
    m = beta1 * m + (1 - beta1) * dw  # w.shape
    v = beta2 * v + (1 - beta2) * tf.square(dw)  # w.shape
    m_hat, v_hat = m, v
    if bias_correction:
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)  # w.shape
    return w - learning_rate * m_hat / (tf.sqrt(v_hat) + epsilon), m, v


def adam(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Adam with tf ops, textbook bias correction:
        t = t + 1
        m = beta1 * m + (1 - beta1) * dw;  v = beta2 * v + (1 - beta2) * dw**2
        m_hat = m / (1 - beta1**t);  v_hat = v / (1 - beta2**t)
        next_w = w - lr * m_hat / (sqrt(v_hat) + eps)
    With ``bias_correction=False``, m_hat = m and v_hat = v.

    config: learning_rate (1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8),
    bias_correction (True); state m, v (w.shape), t (steps taken; the first step uses t = 1).
    """
    return _moment_rule(adam_update, w, dw, contract.adam(w, dw, config), "adam")


def _moment_rule(update: Any, w: np.ndarray, dw: np.ndarray, config: dict,
                 rule: str) -> tuple[np.ndarray, dict]:
    """One step of an Adam-family rule through its tensor-level ``update``: t, m, v in the
    config (replaced by new arrays), the hyper-parameters of the rule's record."""
    hyper = {k: config[k] for k in contract.DEFAULTS[rule]}
    t = config.get("t", 0) + 1
    with _convert.device():
        next_w, m, v = update(
            _convert.to_tensor(w), _convert.to_tensor(dw, w.dtype), _state(config, "m", w),
            _state(config, "v", w), t, **hyper,
        )
    config.update(t=t, m=_convert.to_numpy(m), v=_convert.to_numpy(v))
    return _convert.to_numpy(next_w), config


def adamw_update(w, dw, m, v, t, *, learning_rate, beta1, beta2, epsilon, weight_decay):
    """The AdamW step on tensors -> (next_w, m, v): the decoupled decay w - lr * wd * w,
    then ``adam_update`` (the Adam step does not read w, so this is SPEC's
    w - lr * (m_hat / (sqrt(v_hat) + eps) + wd * w), and what keras.optimizers.AdamW and
    torch.optim.AdamW do in that order; Keras adds epsilon to an uncorrected sqrt(v))."""
    return adam_update(w - learning_rate * weight_decay * w, dw, m, v, t,
                       learning_rate=learning_rate, beta1=beta1, beta2=beta2, epsilon=epsilon,
                       bias_correction=True)


def adamw(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """AdamW with tf ops:
        t = t + 1;  m, v as Adam;  next_w = w - lr * (m_hat / (sqrt(v_hat) + eps) + wd * w)

    config: learning_rate (1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8),
    weight_decay (1e-2); state m, v (w.shape), t (steps taken; the first step uses t = 1).
    """
    return _moment_rule(adamw_update, w, dw, contract.adamw(w, dw, config), "adamw")


# ------------------------------------------------------------------------ clipping


def clip_by_global_norm(
    grads: list[np.ndarray] | tuple[np.ndarray, ...], clip_norm: float
) -> tuple[list[np.ndarray], float]:
    """Rescale gradients so that their joint L2 norm is at most ``clip_norm``.

    tf.clip_by_global_norm: clipped[i] = grads[i] * clip_norm / max(global_norm, clip_norm),
    given the global norm computed (tf.linalg.global_norm) in float64.

    Inputs:
    - grads: non-empty list or tuple of float arrays, any shapes.
    - clip_norm: float > 0.

    Returns:
    - clipped: list of NEW arrays, each with its input's shape and dtype (NaN everywhere
      when the global norm is not finite, as TF does).
    - global_norm: the norm BEFORE clipping, a Python float.
    """
    grads, clip_norm = contract.clip_by_global_norm(grads, clip_norm)

    def clip(*tensors: tf.Tensor) -> tuple[list[tf.Tensor], tf.Tensor]:
        norm = tf.linalg.global_norm([tf.cast(t, tf.float64) for t in tensors])  # ()
        clipped, _ = tf.clip_by_global_norm(list(tensors), clip_norm, use_norm=norm)
        return clipped, norm

    clipped, norm = _convert.call(clip, *grads)
    return list(clipped), float(norm)
