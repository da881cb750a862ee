"""Known mistakes of deeplearning.ai learners, as variants of the reference (DIALECTS.md §4).

A diagnosis is NAMED only when re-running the reference with that one mistake reproduces
the learner's output within tolerance (so, with it corrected, the learner's output is
the reference's); never from the size of an error. Each variant has the signature of the
function it replaces; a variant of a part (``relu_backward``) also explains the
composites built from it, because the reference's composites call their parts through
the reference module (:func:`dlparity.oracle.dlai.cases.patched`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import reference as R


@dataclass(frozen=True)
class Mistake:
    key: str
    text: str  # what the learner wrote, and what it must be
    patch: dict[str, Callable[..., Any]]  # reference name -> variant


def _adam(eps_inside=False, beta1_second=False, t_frozen=None):
    def adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
             epsilon=1e-8):
        t = t if t_frozen is None else t_frozen
        v = {k: beta1 * R._f64(v[k]) + (1 - beta1) * R._f64(grads[k]) for k in v}
        s = {k: beta2 * R._f64(s[k]) + (1 - beta2) * R._f64(grads[k]) ** 2 for k in s}
        v_hat = {k: x / (1 - beta1 ** t) for k, x in v.items()}
        s_hat = {k: x / (1 - (beta1 if beta1_second else beta2) ** t) for k, x in s.items()}
        if eps_inside:
            step = {k: v_hat[k] / np.sqrt(s_hat[k] + epsilon) for k in v}
        else:
            step = {k: v_hat[k] / (np.sqrt(s_hat[k]) + epsilon) for k in v}
        new = {k: R._f64(p) - learning_rate * step["d" + k] for k, p in parameters.items()}
        return new, v, s, v_hat, s_hat
    return adam


def _squeeze_db(fn):
    def variant(*args):
        out = fn(*args)
        if isinstance(out, tuple):
            return (*out[:2], np.reshape(out[2], -1))
        return {k: (np.reshape(v, -1) if k.startswith("db") else v) for k, v in out.items()}
    return variant


def _relu_backward_as_sigmoid(dA, cache):
    return R.sigmoid_backward(dA, cache)


def _relu_backward_kink_one(dA, cache):
    return np.where(R._f64(cache) >= 0, R._f64(dA), 0.0)


def _sigmoid_backward_from_a(dA, cache):
    s = R._f64(cache)  # the cache (Z) taken for the activation A
    return R._f64(dA) * s * (1 - s)


def _gradient_check_swapped(x, theta, epsilon=1e-7, print_msg=False):
    approx = (R.gc_forward_propagation(x, theta - epsilon)
              - R.gc_forward_propagation(x, theta + epsilon)) / (2 * epsilon)
    return R._difference(np.atleast_1d(R.gc_backward_propagation(x, theta)),
                         np.atleast_1d(approx))


# the originals: a variant replaces its function in the reference module while it runs
_GRADIENT_CHECK_N = R.gradient_check_n
_DROPOUT_FORWARD = R.dropout_forward_with_masks
_DROPOUT_BACKWARD = R.backward_propagation_with_dropout
_COST_L2 = R.compute_cost_with_regularization


def _gradient_check_n_swapped(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):
    return _GRADIENT_CHECK_N(parameters, gradients, X, Y, -epsilon)


def _dropout_no_division(X, parameters, D1, D2, keep_prob):
    return _DROPOUT_FORWARD(X, parameters, D1, D2, 1.0)


def _dropout_backward_no_division(X, Y, cache, keep_prob):
    return _DROPOUT_BACKWARD(X, Y, cache, 1.0)


def _cost_l2_without_m(A3, Y, parameters, lambd):
    m = R._f64(Y).shape[1]
    return _COST_L2(A3, Y, parameters, lambd * m)


def _backward_l2_without_m(X, Y, cache, lambd):
    m = R._f64(X).shape[1]
    return R._backward_3layer(X, Y, cache, lambd=lambd * m)


def _backward_n_course_bugs(X, Y, cache):
    grads = R._backward_3layer(X, Y, cache)
    grads["dW2"] = grads["dW2"] * 2  # the course's planted bugs, left in
    grads["db1"] = grads["db1"] * 4
    return grads


_DB = ("linear_backward", "linear_activation_backward", "L_model_backward",
       "backward_propagation", "backward_propagation_with_regularization",
       "backward_propagation_with_dropout", "backward_propagation_n")

#: function under test -> the mistakes that may explain its output.
MISTAKES: dict[str, list[Mistake]] = {
    "update_parameters_with_adam": [
        Mistake("eps_inside_sqrt", "ε inside the square root: v̂ / √(ŝ + ε); it must be "
                "v̂ / (√ŝ + ε)", {"update_parameters_with_adam": _adam(eps_inside=True)}),
        Mistake("beta1_second_correction", "β1 in the second bias correction: ŝ = s / (1 − "
                "β1^t) (the erratum printed in the course's notes); it must be 1 − β2^t",
                {"update_parameters_with_adam": _adam(beta1_second=True)}),
        Mistake("t_frozen_2", "the step size frozen at t = 2: the bias corrections must use "
                "the t the caller passes (1 at the first call, then 2, 3, ...)",
                {"update_parameters_with_adam": _adam(t_frozen=2)}),
        Mistake("t_frozen_1", "t frozen at 1: the bias corrections must use the t the caller "
                "passes", {"update_parameters_with_adam": _adam(t_frozen=1)}),
    ],
    "relu_backward": [
        Mistake("sigmoid_derivative_in_relu", "a sigmoid derivative in a ReLU layer: dZ = dA·"
                "s(Z)(1 − s(Z)); ReLU's is dA where Z > 0, else 0",
                {"relu_backward": _relu_backward_as_sigmoid}),
        Mistake("relu_kink", "ReLU's derivative taken as 1 at Z = 0 (Z < 0 instead of Z <= 0 "
                "zeroed); it is 0 at Z <= 0", {"relu_backward": _relu_backward_kink_one}),
    ],
    "sigmoid_backward": [
        Mistake("sigmoid_derivative_from_cache", "the sigmoid derivative computed from the "
                "cache as if it held A: the cache is Z, so s = sigmoid(Z) first",
                {"sigmoid_backward": _sigmoid_backward_from_a}),
    ],
    "gradient_check": [
        Mistake("j_plus_minus_swapped", "J⁺ and J⁻ swapped: gradapprox = (J⁺ − J⁻) / (2ε) with "
                "J⁺ at θ + ε", {"gradient_check": _gradient_check_swapped}),
    ],
    "gradient_check_n": [
        Mistake("j_plus_minus_swapped", "J⁺ and J⁻ swapped: gradapprox[i] = (J⁺[i] − J⁻[i]) / "
                "(2ε) with J⁺ at θ[i] + ε", {"gradient_check_n": _gradient_check_n_swapped}),
    ],
    "forward_propagation_with_dropout": [
        Mistake("dropout_not_divided", "the dropout mask not divided by keep_prob: A = A·D / "
                "keep_prob (inverted dropout)",
                {"dropout_forward_with_masks": _dropout_no_division}),
    ],
    "backward_propagation_with_dropout": [
        Mistake("dropout_not_divided", "the dropout mask not divided by keep_prob in the "
                "backward pass: dA = dA·D / keep_prob",
                {"backward_propagation_with_dropout": _dropout_backward_no_division}),
    ],
    "compute_cost_with_regularization": [
        Mistake("l2_without_m", "the L2 term without 1/m: it is λ/(2m)·Σ‖W‖²",
                {"compute_cost_with_regularization": _cost_l2_without_m}),
    ],
    "backward_propagation_with_regularization": [
        Mistake("l2_without_m", "the L2 gradient without 1/m: dW += (λ/m)·W",
                {"backward_propagation_with_regularization": _backward_l2_without_m}),
    ],
    "backward_propagation_n": [
        Mistake("course_planted_bugs", "the two bugs the course planted in "
                "backward_propagation_n are still there (dW2 doubled, db1 multiplied by 4)",
                {"backward_propagation_n": _backward_n_course_bugs}),
    ],
}
for _name in _DB:
    MISTAKES.setdefault(_name, []).append(Mistake(
        "db_squeezed", "db squeezed to shape (n,): keep the column, np.sum(dZ, axis=1, "
        "keepdims=True) / m of shape (n, 1)",
        {_name if _name != "backward_propagation_n" else "backward_propagation_n":
         _squeeze_db(getattr(R, _name))}))
# a ReLU-layer mistake explains the composites that use relu_backward
for _name in ("linear_activation_backward", "L_model_backward"):
    MISTAKES.setdefault(_name, []).extend(MISTAKES["relu_backward"])
    MISTAKES[_name].extend(MISTAKES["sigmoid_backward"])
