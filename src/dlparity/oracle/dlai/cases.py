"""The dlai records: for every DIALECTS.md §2 function of every assignment, its cases.

A case is a protocol: ``observe(call)`` builds its inputs (deterministically from the seed
and the case name, in the dtype under test), calls the function under test through
``call(name, *args)`` and returns its observations by label, in order. Run with the
learner's guarded calls it gives what the learner computes; with the reference's (or the
reference with one mistake patched in, :func:`patched`) what is expected. A case with
``expect`` derives the expectation from what the learner returned (dropout: the masks the
learner drew, read from its cache). A ``judge`` case checks properties (statistics of an
initialiser, a mini-batch partition) and raises :class:`Failure` itself.
"""

from __future__ import annotations

import contextlib
import math
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..calls import Failure, describe
from ..tolerances import DEFAULT, Tol
from . import reference as R

Obs = dict[str, Any]
Call = Callable[..., Any]

#: Gradient checks compare a central-difference RESULT: its rounding (~1e-16·|J|/ε with
#: ε = 1e-7) is ~1e-9 relative, whoever computes it; 1e-6 relative (1e-7 absolute) is far
#: below any mistake (a J⁺/J⁻ swap gives 1, the course's planted bugs ~0.3).
GRADCHECK_TOL = Tol(rtol=1e-6, atol=1e-7)

#: Statistics of a draw: this many standard errors (as the cs231n initialisers).
Z_STATISTICS = 5.0


@dataclass
class Case:
    name: str
    observe: Callable[[Call], Obs]
    expect: Callable[[Obs, Call], Obs] | None = None
    judge: bool = False  # observe checks properties itself; nothing is compared
    updates: bool = False  # an update rule: in-place writes are a note (DIALECTS.md §3)
    float64_only: bool = False  # gradient checks: ε = 1e-7 is below float32's resolution
    tol: Tol | None = None
    note: Callable[[Obs], str | None] | None = None  # a note from the learner's outputs


def tol_for(case: Case, dtype: str) -> Tol:
    if case.tol is not None:
        return case.tol
    return DEFAULT["float64" if case.float64_only else dtype]


#: (assignment-specific) dlai name -> reference function name, where they differ.
REF_NAME = {("C2 W1 gradient checking", "forward_propagation"): "gc_forward_propagation",
            ("C2 W1 gradient checking", "backward_propagation"): "gc_backward_propagation"}


def ref_name(assignment: str, name: str) -> str:
    return REF_NAME.get((assignment, name), name)


@contextlib.contextmanager
def patched(replace: dict[str, Callable[..., Any]]) -> Iterator[None]:
    """The reference with some functions replaced (a mistake, or a learner's part): the
    reference's composites call their parts through the module, so they see it."""
    saved = {k: getattr(R, k) for k in replace}
    for k, v in replace.items():
        setattr(R, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(R, k, v)


def reference_call(assignment: str) -> Call:
    def call(name: str, *args: Any) -> Any:
        with np.errstate(all="ignore"):
            return getattr(R, ref_name(assignment, name))(*args)
    return call


# ------------------------------------------------------------------ inputs

def rng_for(seed: int, case: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(case.encode())])


def params_for(rng: np.random.Generator, dims: list[int], dtype: str, scale: float = 0.5,
               b_scale: float = 0.1) -> dict[str, np.ndarray]:
    p = {}
    for l in range(1, len(dims)):
        p[f"W{l}"] = (rng.standard_normal((dims[l], dims[l - 1])) * scale).astype(dtype)
        p[f"b{l}"] = (rng.standard_normal((dims[l], 1)) * b_scale).astype(dtype)
    return p


def labels(rng: np.random.Generator, m: int, dtype: str) -> np.ndarray:
    Y = (rng.random((1, m)) < 0.5).astype(dtype)
    Y[0, 0] = 1.0
    if m > 1:
        Y[0, 1] = 0.0
    return Y


def probabilities(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    return rng.uniform(0.05, 0.95, shape).astype(dtype)


def with_zeros(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Random Z with exact zeros (where a ReLU kinks) and negatives."""
    Z = rng.standard_normal(shape).astype(dtype)
    Z.flat[:: 3] = 0.0
    return Z


def _copy(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, dict):
        return {k: _copy(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_copy(v) for v in obj)
    return obj


# ------------------------------------------------------------------ reading returns

def unpack(owner: str, result: Any, sizes: tuple[int, ...], what: str) -> tuple:
    if not isinstance(result, tuple | list) or len(result) not in sizes:
        raise Failure(owner, "return type", f"{owner} returned {describe(result)}; expected "
                      f"a tuple {what}")
    return tuple(result)


def as_dict(owner: str, result: Any, what: str) -> dict:
    if not isinstance(result, dict):
        raise Failure(owner, "return type", f"{owner} returned {describe(result)}; expected "
                      f"a dict {what}")
    return result


def take(owner: str, d: dict, key: str, what: str) -> Any:
    """``d[key]``, also spelt in lower case (course helpers write ``dz3``)."""
    for k in (key, key.lower()):
        if k in d:
            return d[k]
    raise Failure(owner, "return type", f"{owner}: {what} has no key {key!r} (keys: "
                  f"{', '.join(map(str, list(d)[:12]))})")


def param_obs(owner: str, params: Any, L: int, prefix: str, what: str) -> Obs:
    params = as_dict(owner, params, what)
    out = {}
    for l in range(1, L + 1):
        out[f"{prefix}W{l}"] = take(owner, params, f"W{l}", what)
        out[f"{prefix}b{l}"] = take(owner, params, f"b{l}", what)
    return out


def grad_obs(owner: str, grads: Any, L: int, what: str = "grads", prefix: str = "") -> Obs:
    grads = as_dict(owner, grads, what)
    out = {}
    for l in range(L, 0, -1):
        out[f"{prefix}dW{l}"] = take(owner, grads, f"dW{l}", what)
        out[f"{prefix}db{l}"] = take(owner, grads, f"db{l}", what)
    return out


# ------------------------------------------------------------------ activations

def _activation_cases(dtype: str, seed: int) -> dict[str, list[Case]]:
    def fwd(name: str, case: str, extreme: bool) -> Case:
        def observe(call: Call) -> Obs:
            rng = rng_for(seed, case)
            Z = with_zeros(rng, (4, 6), dtype) * 3
            if extreme:
                Z[0, :2] = (-800.0, 800.0)
            A, cache = unpack(name, call(name, Z), (2,), "(A, cache)")
            return {"A": A, "cache (Z)": cache}
        return Case(case, observe)

    def bwd(name: str, case: str, m: int) -> Case:
        def observe(call: Call) -> Obs:
            rng = rng_for(seed, case)
            Z = with_zeros(rng, (3, m), dtype) * 2
            dA = rng.standard_normal((3, m)).astype(dtype)
            return {"dZ": call(name, dA, Z)}
        return Case(case, observe)

    return {
        "sigmoid": [fwd("sigmoid", "sigmoid_4x6", False),
                    fwd("sigmoid", "sigmoid_extreme", True)],
        "relu": [fwd("relu", "relu_4x6_zeros", False)],
        "sigmoid_backward": [bwd("sigmoid_backward", "sigmoid_backward_m1", 1),
                             bwd("sigmoid_backward", "sigmoid_backward_m5", 5)],
        "relu_backward": [bwd("relu_backward", "relu_backward_m1", 1),
                          bwd("relu_backward", "relu_backward_m5_zeros", 5)],
    }


# ------------------------------------------------------------------ initialisers (statistics)

def _stat_check(owner: str, label: str, W: np.ndarray, sigma: float) -> None:
    W = np.asarray(W, dtype=np.float64)
    n = W.size
    mean, std = float(W.mean()), float(W.std())
    if not np.all(np.isfinite(W)):
        raise Failure(owner, "statistics", f"{label}: non-finite values")
    if abs(mean) > Z_STATISTICS * sigma / math.sqrt(n):
        raise Failure(owner, "statistics", f"{label}: mean {mean:.4g} over {n} draws, expected "
                      f"0 ± {Z_STATISTICS * sigma / math.sqrt(n):.2g} (N(0, 1)·{sigma:.4g})",
                      rel_error=abs(mean) / sigma)
    band = Z_STATISTICS * sigma / math.sqrt(2 * n)
    if abs(std - sigma) > band:
        raise Failure(owner, "statistics", f"{label}: standard deviation {std:.4g} over {n} "
                      f"draws, expected {sigma:.4g} ± {band:.2g}",
                      rel_error=abs(std - sigma) / sigma)


def init_case(owner: str, case: str, args: tuple, dims: list[int],
              sigma: Callable[[int], float]) -> Case:
    """An initialiser: keys, shapes, zero biases, and W[l]'s mean and spread."""
    def observe(call: Call) -> Obs:
        params = as_dict(owner, call(owner, *args), "parameters")
        L = len(dims) - 1
        want = {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"}
        if set(params) != want:
            raise Failure(owner, "keys", f"{owner}{args}: keys {sorted(params)}, expected "
                          f"{sorted(want)}")
        for l in range(1, L + 1):
            W, b = np.asarray(params[f"W{l}"]), np.asarray(params[f"b{l}"])
            for label, arr, shape in ((f"W{l}", W, (dims[l], dims[l - 1])),
                                      (f"b{l}", b, (dims[l], 1))):
                if arr.shape != shape:
                    raise Failure(owner, label, f"{label}: shape {arr.shape}, expected {shape}",
                                  rel_error=math.inf)
            if np.any(b != 0):
                raise Failure(owner, f"b{l}", f"b{l}: expected zeros", rel_error=math.inf)
            s = sigma(l)
            if s == 0:
                if np.any(W != 0):
                    raise Failure(owner, f"W{l}", f"W{l}: expected zeros", rel_error=math.inf)
            elif W.size >= 1000:
                _stat_check(owner, f"W{l}", W, s)
        return {}
    return Case(case, observe, judge=True)


# ------------------------------------------------------------------ trajectories

def grad_sequence(rng: np.random.Generator, params: dict, steps: int, dtype: str) -> list[dict]:
    """Gradients for ``steps`` calls, from O(1) down to 1e-3 (Adam's ε matters there)."""
    out = []
    for t in range(steps):
        scale = 10.0 ** (-3.0 * t / max(steps - 1, 1))
        out.append({"d" + k: (rng.standard_normal(v.shape) * scale).astype(dtype)
                    for k, v in params.items()})
    return out


def trajectory_case(owner: str, case: str, dtype: str, seed: int, steps: int, rule: str,
                    lr: float, **hyper: float) -> Case:
    dims = [4, 3, 2]
    L = len(dims) - 1

    def observe(call: Call) -> Obs:
        rng = rng_for(seed, case)
        params = params_for(rng, dims, dtype)
        grads = grad_sequence(rng, params, steps, dtype)
        v = {"d" + k: np.zeros_like(p) for k, p in params.items()}
        s = {"d" + k: np.zeros_like(p) for k, p in params.items()}
        obs: Obs = {}
        for t in range(1, steps + 1):
            g = grads[t - 1]
            at = f"step {t}: "
            if rule == "plain":
                params = as_dict(owner, call(owner, _copy(params), g, lr), "parameters")
            elif rule == "momentum":
                params, v = unpack(owner, call(owner, _copy(params), g, _copy(v),
                                               hyper["beta"], lr), (2,), "(parameters, v)")
                obs.update(grad_obs(owner, v, L, "v", at + "v."))
            else:
                out = unpack(owner, call(owner, _copy(params), g, _copy(v), _copy(s), t, lr,
                                         hyper["beta1"], hyper["beta2"], hyper["epsilon"]),
                             (3, 5), "(parameters, v, s) or (parameters, v, s, v_corrected, "
                             "s_corrected)")
                params, v, s = out[:3]
                obs.update(grad_obs(owner, v, L, "v", at + "v."))
                obs.update(grad_obs(owner, s, L, "s", at + "s."))
            obs.update(param_obs(owner, params, L, at, "parameters"))
            params, v, s = _copy(params), _copy(v), _copy(s)
        return obs
    return Case(case, observe, updates=True)


# ------------------------------------------------------------------ C1 W4

DEEP_SHAPES = {"m1_L1": ([3, 1], 1), "m5_L2": ([4, 3, 1], 5), "m7_L4": ([5, 4, 4, 3, 1], 7)}


def deep_inputs(seed: int, case: str, dims: list[int], m: int, dtype: str):
    rng = rng_for(seed, case)
    X = rng.standard_normal((dims[0], m)).astype(dtype)
    params = params_for(rng, dims, dtype)
    # Z of layer 1 exactly 0 in the first column (ReLU's kink): b1 = -(W1 X)[:, 0]
    if len(dims) > 2:
        params["b1"] = (-(params["W1"] @ X)[:, :1]).astype(dtype)
    Y = labels(rng, m, dtype)
    return rng, X, params, Y


def deep_caches(rng, X, params, dtype):
    """The reference's caches with exact zeros in every hidden Z (A_prev kept consistent)."""
    AL, caches = R.L_model_forward(X, params)
    out = []
    for l, ((A_prev, W, b), Z) in enumerate(caches):
        Z = Z.copy()
        if l < len(caches) - 1:
            Z[0, :] = 0.0
        out.append(((A_prev.astype(dtype), W.astype(dtype), b.astype(dtype)), Z.astype(dtype)))
    for l in range(1, len(out)):  # A_prev of layer l+1 is relu(Z) of layer l
        (_, W, b), Z = out[l]
        out[l] = ((np.maximum(out[l - 1][1], 0).astype(dtype), W, b), Z)
    return AL.astype(dtype), out


def _cache_obs(owner: str, cache: Any, prefix: str) -> Obs:
    linear, Z = unpack(owner, cache, (2,), "cache ((A_prev, W, b), Z)")
    A_prev, W, b = unpack(owner, linear, (3,), "linear cache (A_prev, W, b)")
    return {f"{prefix}A_prev": A_prev, f"{prefix}W": W, f"{prefix}b": b, f"{prefix}Z": Z}


def _deep_cases(dtype: str, seed: int, steps: int) -> dict[str, list[Case]]:
    cases: dict[str, list[Case]] = {n: [] for n in (
        "initialize_parameters_deep", "linear_forward", "linear_activation_forward",
        "L_model_forward", "compute_cost", "linear_backward", "linear_activation_backward",
        "L_model_backward", "update_parameters")}
    dims = [256, 128, 64, 32, 1]
    cases["initialize_parameters_deep"].append(init_case(
        "initialize_parameters_deep", "statistics_256_128_64_32_1", (dims,), dims,
        lambda l: 0.01))
    for tag, (shape, m) in DEEP_SHAPES.items():
        def lf(call, tag=tag, shape=shape, m=m):
            rng, X, params, _ = deep_inputs(seed, "linear_" + tag, shape, m, dtype)
            Z, cache = unpack("linear_forward", call("linear_forward", X, params["W1"],
                                                     params["b1"]), (2,), "(Z, cache)")
            A, W, b = unpack("linear_forward", cache, (3,), "cache (A, W, b)")
            return {"Z": Z, "cache A": A, "cache W": W, "cache b": b}
        cases["linear_forward"].append(Case("linear_" + tag, lf))
        for act in ("relu", "sigmoid"):
            def laf(call, tag=tag, shape=shape, m=m, act=act):
                _, X, params, _ = deep_inputs(seed, "laf_" + tag, shape, m, dtype)
                A, cache = unpack("linear_activation_forward", call(
                    "linear_activation_forward", X, params["W1"], params["b1"], act), (2,),
                    "(A, cache)")
                return {"A": A, **_cache_obs("linear_activation_forward", cache, "cache ")}
            cases["linear_activation_forward"].append(Case(f"{act}_{tag}", laf))

            def lab(call, tag=tag, shape=shape, m=m, act=act):
                rng, X, params, _ = deep_inputs(seed, "lab_" + tag, shape, m, dtype)
                n = shape[1]
                Z = with_zeros(rng, (n, m), dtype)
                dA = rng.standard_normal((n, m)).astype(dtype)
                cache = ((X, params["W1"], params["b1"]), Z)
                out = unpack("linear_activation_backward", call(
                    "linear_activation_backward", dA, cache, act), (3,), "(dA_prev, dW, db)")
                return dict(zip(("dA_prev", "dW", "db"), out, strict=True))
            cases["linear_activation_backward"].append(Case(f"{act}_{tag}", lab))

        def lb(call, tag=tag, shape=shape, m=m):
            rng, X, params, _ = deep_inputs(seed, "lb_" + tag, shape, m, dtype)
            dZ = rng.standard_normal((shape[1], m)).astype(dtype)
            out = unpack("linear_backward", call("linear_backward", dZ,
                                                 (X, params["W1"], params["b1"])), (3,),
                         "(dA_prev, dW, db)")
            return dict(zip(("dA_prev", "dW", "db"), out, strict=True))
        cases["linear_backward"].append(Case(tag, lb))

        def lmf(call, tag=tag, shape=shape, m=m):
            _, X, params, _ = deep_inputs(seed, "lmf_" + tag, shape, m, dtype)
            AL, caches = unpack("L_model_forward", call("L_model_forward", X, params), (2,),
                                "(AL, caches)")
            L = len(shape) - 1
            if not isinstance(caches, list | tuple) or len(caches) != L:
                raise Failure("L_model_forward", "caches", f"caches: {describe(caches)}, "
                              f"expected a list of {L} caches ((A_prev, W, b), Z)")
            obs = {"AL": AL}
            for l, c in enumerate(caches, start=1):
                obs.update(_cache_obs("L_model_forward", c, f"caches[{l - 1}] "))
            return obs
        cases["L_model_forward"].append(Case(tag, lmf))

        def cc(call, tag=tag, m=m):
            rng = rng_for(seed, "cost_" + tag)
            return {"cost": call("compute_cost", probabilities(rng, (1, m), dtype),
                                 labels(rng, m, dtype))}
        cases["compute_cost"].append(Case("cost_" + tag, cc))

        def lmb(call, tag=tag, shape=shape, m=m):
            rng, X, params, Y = deep_inputs(seed, "lmb_" + tag, shape, m, dtype)
            AL, caches = deep_caches(rng, X, params, dtype)
            grads = as_dict("L_model_backward", call("L_model_backward", AL, Y, caches),
                            "grads")
            L = len(caches)
            obs = grad_obs("L_model_backward", grads, L)
            shift = 0 if "dA0" in grads or f"dA{L}" not in grads else 1  # 2017: dA1..dAL
            for k in range(L - 1, -1, -1):  # dA{k} (2018+) or dA{k+1} (2017): w.r.t. A[k]
                obs[f"dA w.r.t. A{k}"] = take("L_model_backward", grads, f"dA{k + shift}",
                                              "grads")
            return obs
        cases["L_model_backward"].append(Case(tag, lmb))
    cases["update_parameters"].append(trajectory_case(
        "update_parameters", f"{steps}_steps_lr0.05", dtype, seed, steps, "plain", 0.05))
    return cases


# ------------------------------------------------------------------ C1 W3 planar

def _planar_cases(dtype: str, seed: int, steps: int, cost_arity: int) -> dict[str, list[Case]]:
    cases: dict[str, list[Case]] = {}
    cases["initialize_parameters"] = [init_case(
        "initialize_parameters", "statistics_300_200_40", (300, 200, 40), [300, 200, 40],
        lambda l: 0.01)]
    fwd, bwd, cost = [], [], []
    for tag, (n_x, n_h, m) in {"m1": (2, 4, 1), "m9": (3, 5, 9)}.items():
        def inputs(case, n_x=n_x, n_h=n_h, m=m):
            rng = rng_for(seed, case)
            return (rng, rng.standard_normal((n_x, m)).astype(dtype),
                    params_for(rng, [n_x, n_h, 1], dtype, scale=0.8), labels(rng, m, dtype))

        def fp(call, tag=tag, inputs=inputs):
            _, X, params, _ = inputs("fp_" + tag)
            A2, cache = unpack("forward_propagation", call("forward_propagation", X, params),
                               (2,), "(A2, cache)")
            cache = as_dict("forward_propagation", cache, "cache {Z1, A1, Z2, A2}")
            return {"A2": A2, **{f"cache[{k!r}]": take("forward_propagation", cache, k, "cache")
                                 for k in ("Z1", "A1", "Z2", "A2")}}
        fwd.append(Case(tag, fp))

        def bp(call, tag=tag, inputs=inputs):
            _, X, params, Y = inputs("bp_" + tag)
            _, cache = R.forward_propagation(X, params)
            cache = {k: v.astype(dtype) for k, v in cache.items()}
            return grad_obs("backward_propagation", call("backward_propagation", params, cache,
                                                         X, Y), 2)
        bwd.append(Case(tag, bp))

        def cp(call, tag=tag, inputs=inputs, m=m):
            rng, _, params, Y = inputs("cost_" + tag)
            A2 = probabilities(rng, (1, m), dtype)
            args = (A2, Y, params) if cost_arity >= 3 else (A2, Y)
            return {"cost": call("compute_cost", *args)}
        cost.append(Case("cost_" + tag, cp))
    cases["forward_propagation"], cases["backward_propagation"] = fwd, bwd
    cases["compute_cost"] = cost
    cases["update_parameters"] = [trajectory_case(
        "update_parameters", f"{steps}_steps_lr1.2", dtype, seed, steps, "plain", 1.2)]
    return cases


# ------------------------------------------------------------------ C2 W1

def _init_cases() -> dict[str, list[Case]]:
    dims = [400, 200, 100, 10]
    return {
        "initialize_parameters_zeros": [init_case(
            "initialize_parameters_zeros", "zeros_400_200_100_10", (dims,), dims,
            lambda l: 0.0)],
        "initialize_parameters_random": [init_case(
            "initialize_parameters_random", "statistics_400_200_100_10", (dims,), dims,
            lambda l: 10.0)],
        "initialize_parameters_he": [init_case(
            "initialize_parameters_he", "statistics_400_200_100_10", (dims,), dims,
            lambda l: math.sqrt(2.0 / dims[l - 1]))],
    }


def fixed_net(seed: int, case: str, dims: list[int], m: int, dtype: str):
    rng = rng_for(seed, case)
    X = rng.standard_normal((dims[0], m)).astype(dtype)
    params = params_for(rng, dims, dtype, scale=0.7)
    return rng, X, params, labels(rng, m, dtype)


def flat_cache(X, params, dtype, zeros: bool = True) -> tuple:
    _, cache = R.forward_3layer(X, params)
    Z1, A1, *rest = (c.copy() for c in cache)
    if zeros:  # exact zeros in Z1 where the ReLU kinks (A1 stays relu(Z1))
        Z1[0, :] = 0.0
        A1[0, :] = 0.0
    return tuple(c.astype(dtype) for c in (Z1, A1, *rest))


def _reg_cases(dtype: str, seed: int) -> dict[str, list[Case]]:
    cases: dict[str, list[Case]] = {n: [] for n in (
        "compute_cost_with_regularization", "backward_propagation_with_regularization",
        "forward_propagation_with_dropout", "backward_propagation_with_dropout")}
    for tag, (dims, m, lambd) in {"m1_lambd0.7": ([3, 4, 3, 1], 1, 0.7),
                                  "m6_lambd0.1": ([2, 5, 3, 1], 6, 0.1)}.items():
        def cost(call, tag=tag, dims=dims, m=m, lambd=lambd):
            rng, _, params, Y = fixed_net(seed, "l2cost_" + tag, dims, m, dtype)
            return {"cost": call("compute_cost_with_regularization",
                                 probabilities(rng, (1, m), dtype), Y, params, lambd)}
        cases["compute_cost_with_regularization"].append(Case(tag, cost))

        def back(call, tag=tag, dims=dims, m=m, lambd=lambd):
            _, X, params, Y = fixed_net(seed, "l2back_" + tag, dims, m, dtype)
            return grad_obs("backward_propagation_with_regularization", call(
                "backward_propagation_with_regularization", X, Y,
                flat_cache(X, params, dtype), lambd), 3)
        cases["backward_propagation_with_regularization"].append(Case(tag, back))

    owner = "forward_propagation_with_dropout"
    for kp in (0.5, 0.86):
        tag = f"keep_prob{kp}"

        def dfwd(call, tag=tag, kp=kp):
            _, X, params, _ = fixed_net(seed, "dfwd_" + tag, [4, 40, 30, 1], 150, dtype)
            A3, cache = unpack(owner, call(owner, X, params, kp), (2,), "(A3, cache)")
            cache = unpack(owner, cache, (14,), "cache (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, "
                           "b2, Z3, A3, W3, b3)")
            D1, D2 = (np.asarray(cache[i]) for i in (1, 6))
            for label, D, shape in (("D1", D1, (40, 150)), ("D2", D2, (30, 150))):
                if D.shape != shape or not np.all((D == 0) | (D == 1)):
                    raise Failure(owner, "mask", f"cache {label}: expected a 0/1 mask of shape "
                                  f"{shape} (D = np.random.rand(...) < keep_prob); received "
                                  f"{describe(D)} with values {np.unique(D)[:5]}")
            for label, D in (("D1", D1), ("D2", D2)):
                _keep_fraction(owner, label, D, kp)
            names = ("Z1", "D1", "A1", "W1", "b1", "Z2", "D2", "A2", "W2", "b2", "Z3", "A3",
                     "W3", "b3")
            return {"A3": A3, **{f"cache {k}": v for k, v in zip(names, cache, strict=True)
                                 if k[0] in "ZA"}, "_D1": D1, "_D2": D2}

        def dfwd_expect(got: Obs, call: Call, tag=tag, kp=kp):
            _, X, params, _ = fixed_net(seed, "dfwd_" + tag, [4, 40, 30, 1], 150, dtype)
            A3, cache = R.dropout_forward_with_masks(X, params, got["_D1"], got["_D2"], kp)
            names = ("Z1", "D1", "A1", "W1", "b1", "Z2", "D2", "A2", "W2", "b2", "Z3", "A3",
                     "W3", "b3")
            return {"A3": A3, **{f"cache {k}": v for k, v in zip(names, cache, strict=True)
                                 if k[0] in "ZA"}}
        cases[owner].append(Case(tag, dfwd, expect=dfwd_expect))

        def dback(call, tag=tag, kp=kp):
            rng, X, params, Y = fixed_net(seed, "dback_" + tag, [3, 6, 4, 1], 8, dtype)
            D1 = rng.random((6, 8)) < kp
            D2 = rng.random((4, 8)) < kp
            _, cache = R.dropout_forward_with_masks(X, params, D1, D2, kp)
            cache = tuple(c.astype(dtype) if c.dtype.kind == "f" and i not in (1, 6) else c
                          for i, c in enumerate(cache))
            cache = (*cache[:1], D1, *cache[2:6], D2, *cache[7:])
            return grad_obs("backward_propagation_with_dropout", call(
                "backward_propagation_with_dropout", X, Y, cache, kp), 3)
        cases["backward_propagation_with_dropout"].append(Case(tag, dback))
    return cases


def _keep_fraction(owner: str, label: str, D: np.ndarray, kp: float) -> None:
    """The fraction a mask keeps is keep_prob, within Z_STATISTICS standard errors; where
    it is P(N(0,1) < keep_prob) instead, the mask was drawn from randn (confirmed)."""
    kept, n = float(D.mean()), D.size
    band = Z_STATISTICS * math.sqrt(kp * (1 - kp) / n)
    if abs(kept - kp) <= band:
        return
    randn = 0.5 * (1 + math.erf(kp / math.sqrt(2)))  # P(N(0,1) < keep_prob)
    why = ""
    if abs(kept - randn) <= Z_STATISTICS * math.sqrt(randn * (1 - randn) / n):
        why = (f" Diagnosis (confirmed: the kept fraction is P(N(0,1) < keep_prob) = "
               f"{randn:.3f}): the mask was drawn from np.random.randn; draw it from "
               "np.random.rand (uniform) so a unit is kept with probability keep_prob.")
    raise Failure(owner, "keep fraction", f"mask {label} keeps {kept:.4f} of the units over "
                  f"{n} draws; expected keep_prob = {kp} ± {band:.3f}.{why}",
                  rel_error=abs(kept - kp) / kp)


GC_DIMS = [4, 5, 3, 1]  # gc_utils' vector_to_dictionary hard-codes these shapes


def _gradcheck_cases(seed: int) -> dict[str, list[Case]]:
    f64 = "float64"
    cases: dict[str, list[Case]] = {"forward_propagation": [], "backward_propagation": [],
                                    "gradient_check": []}
    for x, theta in ((2.0, 4.0), (-3.5, 0.25)):
        tag = f"x{x}_theta{theta}"
        cases["forward_propagation"].append(Case(tag, lambda call, x=x, theta=theta: {
            "J": call("forward_propagation", x, theta)}, float64_only=True))
        cases["backward_propagation"].append(Case(tag, lambda call, x=x, theta=theta: {
            "dtheta": call("backward_propagation", x, theta)}, float64_only=True))
        cases["gradient_check"].append(Case(tag, lambda call, x=x, theta=theta: {
            "difference": call("gradient_check", x, theta, 1e-7)}, float64_only=True,
            tol=GRADCHECK_TOL))

    def net(case):
        return fixed_net(seed, case, GC_DIMS, 3, f64)

    def fpn(call):
        _, X, params, Y = net("fpn")
        cost, cache = unpack("forward_propagation_n", call("forward_propagation_n", X, Y,
                                                           params), (2,), "(cost, cache)")
        cache = unpack("forward_propagation_n", cache, (12,), "cache (Z1, A1, W1, b1, ..., "
                       "W3, b3)")
        names = ("Z1", "A1", "W1", "b1", "Z2", "A2", "W2", "b2", "Z3", "A3", "W3", "b3")
        return {"cost": cost, **{f"cache {k}": v for k, v in zip(names, cache, strict=True)}}

    def bpn(call):
        _, X, params, Y = net("bpn")
        return grad_obs("backward_propagation_n", call("backward_propagation_n", X, Y,
                                                       flat_cache(X, params, f64)), 3)

    def gcn(perturbed: bool):
        def observe(call):
            _, X, params, Y = net("gcn")
            grads = R.backward_propagation_n(X, Y, R.forward_3layer(X, params)[1])
            if perturbed:
                grads["dW2"] = grads["dW2"] * 2
                grads["db1"] = grads["db1"] * 4
            return {"difference": call("gradient_check_n", params, grads, X, Y, 1e-7)}
        return observe
    cases["forward_propagation_n"] = [Case("m3", fpn, float64_only=True)]
    cases["backward_propagation_n"] = [Case("m3", bpn, float64_only=True)]
    cases["gradient_check_n"] = [
        Case("exact_gradients", gcn(False), float64_only=True, tol=GRADCHECK_TOL),
        Case("wrong_gradients", gcn(True), float64_only=True, tol=GRADCHECK_TOL)]
    return cases


# ------------------------------------------------------------------ C2 W2

def _partition_case(owner: str, tag: str, m: int, size: int, dtype: str, seed: int) -> Case:
    def observe(call: Call) -> Obs:
        X = (np.arange(m)[None, :] + np.arange(3)[:, None] / 10).astype(dtype)  # col j: j.x
        Y = (-(np.arange(m)[None, :] + 1.0)).astype(dtype)
        batches = call(owner, X, Y, size, seed)
        if not isinstance(batches, list | tuple):
            raise Failure(owner, "return type", f"{owner} returned {describe(batches)}; "
                          "expected a list of (mini_batch_X, mini_batch_Y)")
        sizes = [size] * (m // size) + ([m % size] if m % size else [])
        seen: list[int] = []
        for i, batch in enumerate(batches):
            bx, by = (np.asarray(a) for a in unpack(owner, batch, (2,), "(X_b, Y_b)"))
            if i >= len(sizes) or bx.shape != (3, sizes[i]) or by.shape != (1, sizes[i]):
                raise Failure(owner, "partition", f"m = {m}, mini_batch_size = {size}: "
                              f"batch {i} has shapes {bx.shape}, {by.shape}; expected "
                              f"{len(sizes)} batches of {sizes} columns (full batches, then "
                              "one smaller with the rest)", rel_error=math.inf)
            cols = np.rint(bx[0]).astype(int)
            if not (np.array_equal(bx, X[:, cols]) and np.array_equal(by, Y[:, cols])):
                raise Failure(owner, "partition", f"batch {i}: its X and Y columns are not "
                              "columns of the input X, Y paired as given (shuffle X and Y with "
                              "the SAME permutation)", rel_error=math.inf)
            seen += cols.tolist()
        if len(batches) != len(sizes) or sorted(seen) != list(range(m)):
            raise Failure(owner, "partition", f"m = {m}, mini_batch_size = {size}: the batches "
                          f"hold {len(seen)} columns in {len(batches)} batches; expected every "
                          f"column once in {len(sizes)} batches", rel_error=math.inf)
        if m >= 10 and seen == list(range(m)):
            raise Failure(owner, "partition", "the columns are not shuffled (np.random."
                          "permutation(m))", rel_error=math.inf)
        return {"_order": seen}

    def note(got: Obs) -> str | None:
        course = np.random.RandomState(seed).permutation(m).tolist()
        same = got.get("_order") == course
        return None if same else (f"random_mini_batches: the order differs from the course's "
                                  f"seeded np.random.seed({seed}) permutation (the course's "
                                  "grader checks it; not a failure here)")
    return Case(tag, observe, judge=True, note=note)


def _opt_cases(dtype: str, seed: int, steps: int) -> dict[str, list[Case]]:
    owner = "random_mini_batches"
    cases: dict[str, list[Case]] = {owner: [
        _partition_case(owner, f"m{m}_size{size}", m, size, dtype, seed)
        for m, size in ((148, 64), (128, 64), (35, 10), (5, 64))]}
    cases["update_parameters_with_gd"] = [trajectory_case(
        "update_parameters_with_gd", f"{steps}_steps_lr0.05", dtype, seed, steps, "plain",
        0.05)]
    cases["update_parameters_with_momentum"] = [trajectory_case(
        "update_parameters_with_momentum", f"{steps}_steps_beta{b}", dtype, seed, steps,
        "momentum", 0.05, beta=b) for b in (0.9, 0.5)]
    cases["update_parameters_with_adam"] = [trajectory_case(
        "update_parameters_with_adam", f"{steps}_steps_lr{lr}_b1{b1}_b2{b2}_eps{eps:g}", dtype,
        seed, steps, "adam", lr, beta1=b1, beta2=b2, epsilon=eps)
        for lr, b1, b2, eps in ((0.01, 0.9, 0.999, 1e-8), (0.02, 0.8, 0.99, 1e-4))]

    def zeros_case(name: str, pair: bool) -> Case:
        def observe(call: Call) -> Obs:
            params = params_for(rng_for(seed, name), [4, 3, 2, 1], dtype)
            out = call(name, params)
            parts = unpack(name, out, (2,), "(v, s)") if pair else (out,)
            obs = {}
            for label, d in zip(("v", "s"), parts, strict=False):
                obs.update(grad_obs(name, d, 3, label, label + "."))
            return obs
        return Case("layers_4_3_2_1", observe)
    cases["initialize_velocity"] = [zeros_case("initialize_velocity", False)]
    cases["initialize_adam"] = [zeros_case("initialize_adam", True)]
    cases["update_lr"] = [Case(f"epoch{e}", lambda call, e=e: {
        "learning_rate": call("update_lr", 0.5, e, 0.3)}) for e in (0, 1, 2, 10, 1000)]
    cases["schedule_lr_decay"] = [Case(f"epoch{e}_interval{ti}", lambda call, e=e, ti=ti: {
        "learning_rate": call("schedule_lr_decay", 0.5, e, 0.3, ti)})
        for e, ti in ((0, 1000), (999, 1000), (1000, 1000), (2500, 1000), (250, 100))]
    return cases


def cases_for(assignment: str, dtype: str, seed: int, steps: int,
              arity: Callable[[str], int | None]) -> dict[str, list[Case]]:
    """Every function of ``assignment`` -> its cases, in the dtype under test."""
    if assignment.startswith("activations"):
        return _activation_cases(dtype, seed)
    if assignment == "C1 W4 deep net":
        return _deep_cases(dtype, seed, steps)
    if assignment == "C1 W3 planar net":
        return _planar_cases(dtype, seed, steps, arity("compute_cost") or 2)
    if assignment == "C2 W1 initialisation":
        return _init_cases()
    if assignment == "C2 W1 regularisation":
        return _reg_cases(dtype, seed)
    if assignment == "C2 W1 gradient checking":
        return _gradcheck_cases(seed)
    if assignment == "C2 W2 optimisation":
        return _opt_cases(dtype, seed, steps)
    raise ValueError(f"unknown dlai assignment {assignment!r}")
