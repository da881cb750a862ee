"""The column-layout NumPy reference of every DIALECTS.md §2 function (deeplearning.ai).

Examples are columns: ``X`` is ``(n_x, m)``, ``Y`` is ``(1, m)``, ``W[l]`` is
``(n_l, n_{l-1})``, ``b[l]`` is ``(n_l, 1)``. Every function computes in float64 whatever
it is given (the oracle compares a target's float32 output with it at float32's
tolerance) and writes into none of its inputs. The backward passes are hand-written and
checked against central differences in tests/test_dlai_reference.py.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Params = dict[str, np.ndarray]


def _f64(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _layers(parameters: Params) -> int:
    return len(parameters) // 2


# ------------------------------------------------------------------ activations (dnn_utils)

def sigmoid(Z):
    Z = _f64(Z)
    A = np.empty_like(Z)
    pos = Z >= 0
    A[pos] = 1.0 / (1.0 + np.exp(-Z[pos]))  # stable on both sides: no overflow
    ez = np.exp(Z[~pos])
    A[~pos] = ez / (1.0 + ez)
    return A, Z


def relu(Z):
    Z = _f64(Z)
    return np.maximum(0.0, Z), Z


def sigmoid_backward(dA, cache):
    s, _ = sigmoid(cache)
    return _f64(dA) * s * (1.0 - s)  # (n, m)


def relu_backward(dA, cache):
    return np.where(_f64(cache) > 0, _f64(dA), 0.0)  # derivative 0 at Z <= 0


def tanh_backward_from_a(dA, A):
    return _f64(dA) * (1.0 - _f64(A) ** 2)


# ------------------------------------------------------------------ C1 W4 deep net

def linear_forward(A, W, b):
    A, W, b = _f64(A), _f64(W), _f64(b)
    return W @ A + b, (A, W, b)  # (n_l, m)


def linear_activation_forward(A_prev, W, b, activation):
    Z, linear_cache = linear_forward(A_prev, W, b)
    if activation == "sigmoid":
        A, Z = sigmoid(Z)
    elif activation == "relu":
        A, Z = relu(Z)
    else:
        raise ValueError(f"activation must be 'relu' or 'sigmoid'; received {activation!r}")
    return A, (linear_cache, Z)


def L_model_forward(X, parameters):
    caches = []
    A = _f64(X)
    L = _layers(parameters)
    for l in range(1, L + 1):
        A, cache = linear_activation_forward(A, parameters[f"W{l}"], parameters[f"b{l}"],
                                             "sigmoid" if l == L else "relu")
        caches.append(cache)
    return A, caches


def compute_cost(AL, Y, parameters=None):
    AL, Y = _f64(AL), _f64(Y)
    m = Y.shape[1]
    return np.squeeze(-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m)


def linear_backward(dZ, cache):
    A_prev, W, _ = (_f64(c) for c in cache)
    dZ = _f64(dZ)
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T / m  # (n_l, n_{l-1})
    db = np.sum(dZ, axis=1, keepdims=True) / m  # (n_l, 1)
    return W.T @ dZ, dW, db


def linear_activation_backward(dA, cache, activation):
    linear_cache, Z = cache
    if activation == "relu":
        dZ = relu_backward(dA, Z)
    elif activation == "sigmoid":
        dZ = sigmoid_backward(dA, Z)
    else:
        raise ValueError(f"activation must be 'relu' or 'sigmoid'; received {activation!r}")
    return linear_backward(dZ, linear_cache)


def L_model_backward(AL, Y, caches, first_key: int = 0):
    """grads with dW{l}, db{l} and dA{k} the gradient w.r.t. A[k] (``first_key`` 0: the
    2018+ keys dA0..dA{L-1}; 1: the 2017 keys dA1..dAL, dA{k} w.r.t. layer k's input)."""
    AL, Y = _f64(AL), _f64(Y)
    L = len(caches)
    grads: dict[str, np.ndarray] = {}
    dA = -(Y / AL - (1 - Y) / (1 - AL))
    for l in range(L, 0, -1):
        dA, dW, db = linear_activation_backward(dA, caches[l - 1],
                                                "sigmoid" if l == L else "relu")
        grads[f"dA{l - 1 + first_key}"] = dA
        grads[f"dW{l}"], grads[f"db{l}"] = dW, db
    return grads


def update_parameters(parameters, grads, learning_rate=1.2):
    return {k: _f64(v) - learning_rate * _f64(grads["d" + k]) for k, v in parameters.items()}


# ------------------------------------------------------------------ C1 W3 planar net

def forward_propagation(X, parameters):
    X = _f64(X)
    Z1 = _f64(parameters["W1"]) @ X + _f64(parameters["b1"])
    A1 = np.tanh(Z1)
    Z2 = _f64(parameters["W2"]) @ A1 + _f64(parameters["b2"])
    A2, _ = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backward_propagation(parameters, cache, X, Y):
    X, Y = _f64(X), _f64(Y)
    m = X.shape[1]
    A1, A2 = _f64(cache["A1"]), _f64(cache["A2"])
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = _f64(parameters["W2"]).T @ dZ2 * (1 - A1 ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


# ------------------------------------------------------------------ C2 W1: the fixed 3-layer nets

def forward_3layer(X, parameters):
    """ReLU, ReLU, sigmoid; the flat cache (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)."""
    W1, b1, W2, b2, W3, b3 = (_f64(parameters[k]) for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    Z1 = W1 @ _f64(X) + b1
    A1, _ = relu(Z1)
    Z2 = W2 @ A1 + b2
    A2, _ = relu(Z2)
    Z3 = W3 @ A2 + b3
    A3, _ = sigmoid(Z3)
    return A3, (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)


def compute_cost_with_regularization(A3, Y, parameters, lambd):
    m = _f64(Y).shape[1]
    l2 = sum(np.sum(np.square(_f64(parameters[f"W{l}"])))
             for l in range(1, _layers(parameters) + 1))
    return compute_cost(A3, Y) + lambd / (2 * m) * l2


def _backward_3layer(X, Y, cache, lambd=0.0, masks=None, keep_prob=1.0):
    """The gradients of the fixed net; ``masks`` (D1, D2) for inverted dropout."""
    Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3 = (_f64(c) for c in cache)
    X, Y = _f64(X), _f64(Y)
    m = X.shape[1]
    dZ3 = A3 - Y
    dW3 = dZ3 @ A2.T / m + lambd / m * W3
    db3 = np.sum(dZ3, axis=1, keepdims=True) / m
    dA2 = W3.T @ dZ3
    if masks is not None:
        dA2 = dA2 * masks[1] / keep_prob
    dZ2 = relu_backward(dA2, Z2)
    dW2 = dZ2 @ A1.T / m + lambd / m * W2
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dA1 = W2.T @ dZ2
    if masks is not None:
        dA1 = dA1 * masks[0] / keep_prob
    dZ1 = relu_backward(dA1, Z1)
    dW1 = dZ1 @ X.T / m + lambd / m * W1
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2,
            "db2": db2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}


def backward_propagation_with_regularization(X, Y, cache, lambd):
    return _backward_3layer(X, Y, cache, lambd=lambd)


def dropout_forward_with_masks(X, parameters, D1, D2, keep_prob):
    """forward_propagation_with_dropout given its two masks (0/1 arrays)."""
    W1, b1, W2, b2, W3, b3 = (_f64(parameters[k]) for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    D1, D2 = _f64(D1), _f64(D2)
    Z1 = W1 @ _f64(X) + b1
    A1 = relu(Z1)[0] * D1 / keep_prob
    Z2 = W2 @ A1 + b2
    A2 = relu(Z2)[0] * D2 / keep_prob
    Z3 = W3 @ A2 + b3
    A3, _ = sigmoid(Z3)
    return A3, (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)


def backward_propagation_with_dropout(X, Y, cache, keep_prob):
    Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3 = cache
    flat = (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)
    return _backward_3layer(X, Y, flat, masks=(_f64(D1), _f64(D2)), keep_prob=keep_prob)


# ------------------------------------------------------------------ C2 W1 gradient checking

def gc_forward_propagation(x, theta):
    return theta * x


def gc_backward_propagation(x, theta):
    return x


def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
    J_plus = gc_forward_propagation(x, theta + epsilon)
    J_minus = gc_forward_propagation(x, theta - epsilon)
    gradapprox = (J_plus - J_minus) / (2 * epsilon)
    grad = gc_backward_propagation(x, theta)
    return _difference(np.atleast_1d(grad), np.atleast_1d(gradapprox))


def _difference(grad, approx):
    grad, approx = _f64(grad), _f64(approx)
    return float(np.linalg.norm(grad - approx) / (np.linalg.norm(grad) + np.linalg.norm(approx)))


def forward_propagation_n(X, Y, parameters):
    A3, cache = forward_3layer(X, parameters)
    Y = _f64(Y)
    m = X.shape[1]
    logprobs = -np.log(A3) * Y + -np.log(1 - A3) * (1 - Y)
    return float(np.sum(logprobs) / m), cache


def backward_propagation_n(X, Y, cache):
    return _backward_3layer(X, Y, cache)


GC_KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):
    theta = np.concatenate([_f64(parameters[k]).ravel() for k in GC_KEYS])
    grad = np.concatenate([_f64(gradients["d" + k]).ravel() for k in GC_KEYS])
    shapes = [np.shape(parameters[k]) for k in GC_KEYS]

    def as_dict(vec):
        out, i = {}, 0
        for k, shape in zip(GC_KEYS, shapes, strict=True):
            n = math.prod(shape)
            out[k] = vec[i:i + n].reshape(shape)
            i += n
        return out

    approx = np.empty_like(theta)
    for i in range(theta.size):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += epsilon
        minus[i] -= epsilon
        approx[i] = (forward_propagation_n(X, Y, as_dict(plus))[0]
                     - forward_propagation_n(X, Y, as_dict(minus))[0]) / (2 * epsilon)
    return _difference(grad, approx)


# ------------------------------------------------------------------ C2 W2 optimisation

def update_parameters_with_gd(parameters, grads, learning_rate):
    return update_parameters(parameters, grads, learning_rate)


def initialize_velocity(parameters):
    return {"d" + k: np.zeros_like(_f64(v)) for k, v in parameters.items()}


def initialize_adam(parameters):
    return initialize_velocity(parameters), initialize_velocity(parameters)


def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    v = {k: beta * _f64(v[k]) + (1 - beta) * _f64(grads[k]) for k in v}
    return {k: _f64(p) - learning_rate * v["d" + k] for k, p in parameters.items()}, v


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9,
                                beta2=0.999, epsilon=1e-8):
    v = {k: beta1 * _f64(v[k]) + (1 - beta1) * _f64(grads[k]) for k in v}
    s = {k: beta2 * _f64(s[k]) + (1 - beta2) * _f64(grads[k]) ** 2 for k in s}
    v_hat = {k: x / (1 - beta1 ** t) for k, x in v.items()}
    s_hat = {k: x / (1 - beta2 ** t) for k, x in s.items()}
    new = {k: _f64(p) - learning_rate * v_hat["d" + k] / (np.sqrt(s_hat["d" + k]) + epsilon)
           for k, p in parameters.items()}
    return new, v, s, v_hat, s_hat


def update_lr(learning_rate0, epoch_num, decay_rate):
    return learning_rate0 / (1 + decay_rate * epoch_num)


def schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    return learning_rate0 / (1 + decay_rate * np.floor(epoch_num / time_interval))
