"""ONE registry of op records: every catalogue function, how to call it, what to compare.

A record says how to build inputs for a function (several named cases: shapes, ranks and
the edge cases that bite: kinks at exactly 0, logits near ±1000, constant columns), which
calling protocol it follows.
Tolerances live in ``tolerances.py``; how each protocol is called and observed, in
``protocols.py`` (the one runner of the parity suite, the oracle, the vectors, the gradient
check and the repro snippets).

Inputs are drawn in float64 from a generator seeded by (function, case), so every
implementation sees the same numbers; ``cast`` then turns them into the dtype under test.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlparity.catalogue import NAMES, OPTIMIZERS

Args = tuple[Any, ...]


@dataclass(frozen=True)
class Case:
    """One set of inputs: ``make(rng)`` returns the positional arguments in float64."""

    name: str
    make: Callable[[np.random.Generator], Args]
    # False: central differences do not apply (inputs on a kink, or a loss ~1e3 whose
    # differences lose the digits the gradient check needs)
    smooth: bool = True
    # Optimizer trajectories: the default number of steps; ``make(rng, steps=k)`` draws a
    # trajectory of k steps instead (the oracle's ``--steps``). None for every other case.
    steps: int | None = None
    # False: the case relies on the reference's own choices beyond SPEC.md (such as the
    # Solver's seeded batch order), so the oracle does not hold third-party code to it.
    oracle: bool = True
    # Non-empty: the case goes beyond SPEC.md's contract (an extra rank, an optional key):
    # dlparity's own implementations are held to it, a third party is not -- the oracle runs
    # it and reports a mismatch as a NOTE (this text says why), never as a failure.
    beyond: str = ""


@dataclass(frozen=True)
class OpRecord:
    """How to call and compare one catalogue function.

    protocol:
      ``layer``     ``out, cache = f(*args)``; ``grads = backward(dout, cache)`` with a random dout
      ``loss``      ``value, grad = f(*args)`` (grad w.r.t. the first argument)
      ``value``     ``f(*args)``, any nesting of arrays / floats / tuples / lists
      ``optimizer`` a trajectory: ``args = (w, [dw_1..dw_T], config, [lr_1..lr_T], clip_norm)``;
                    an lr of None leaves ``config['learning_rate']`` alone (default or as set)
      ``sequence``  batch norm over several train batches, then test mode:
                    ``args = ([x_1..x_K], gamma, beta, bn_param)``
      ``random``    an initialiser: compared by statistics, not element by element
      ``model``     ``FullyConnectedNet``: same weights loaded, ``loss(X, y)`` compared
      ``solver``    ``Solver``: a short seeded training run, loss history compared

    How each protocol is called and observed lives in ONE place, ``protocols.py``.
    """

    name: str
    protocol: str
    cases: tuple[Case, ...]
    backward: str | None = None
    grad_names: tuple[str, ...] = ()
    state: Callable[[Args], dict[str, np.ndarray]] | None = None
    # Outputs defined only up to a symmetry: align(got, want) -> got, applied before comparing.
    align: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None
    # SPEC §3 rule 2: where a framework cannot be configured to the formula, the reference
    # takes a convention argument that reproduces it. impl -> (transform of the args applied
    # to BOTH the implementation's and the reference's inputs, reason).
    conventions: Mapping[str, tuple[Callable[[Args], Args], str]] = field(default_factory=dict)

    @property
    def functions(self) -> tuple[str, ...]:
        """The catalogue names this record exercises."""
        return (self.name,) if self.backward is None else (self.name, self.backward)

    # The door the engine, the vectors, the repro snippets and the gradient check use: a
    # record gives its inputs and its observations; they never assemble them themselves.

    def args(self, case: Case, seed: int = 0, steps: int | None = None,
             dtype: Any = None) -> Args:
        """``case``'s positional arguments as drawn (float64), or cast to ``dtype``."""
        drawn = make_args(self, case, seed, steps)
        return drawn if dtype is None else cast(drawn, dtype)

    def inputs(self, case: Case, dtype: Any, seed: int = 0, steps: int | None = None,
               framework: str | None = None) -> Any:
        """What the protocol calls with, in ``dtype`` (``protocols.inputs``)."""
        from .protocols import inputs

        return inputs(self, case, np.dtype(dtype), seed, steps, framework)

    def observe(self, calls: Any, case: Case, args: Any,
                dout_for: Callable[[Any], np.ndarray], seed: int = 0) -> Any:
        """The observation stream of ``calls``' implementation (``protocols.observe``)."""
        from .protocols import observe

        return observe(calls, self, case, args, dout_for, seed)

    def reference(self, case: Case, dtype: Any, seed: int = 0, steps: int | None = None,
                  framework: str | None = None) -> tuple[list, Any, np.ndarray | None]:
        """The reference's stream on the ``dtype`` inputs, those inputs, the upstream
        gradient (``protocols.reference_stream``)."""
        from .protocols import reference_stream

        return reference_stream(self, case, np.dtype(dtype), seed, steps, framework)


# ----------------------------------------------------------------------------- inputs


def seed_for(*parts: str) -> int:
    """A stable seed from names (no global RNG; same under pytest-xdist)."""
    return zlib.crc32("/".join(parts).encode())


def cast(obj: Any, dtype: np.dtype | type) -> Any:
    """A deep copy of ``obj`` with every floating array turned into ``dtype``."""
    if isinstance(obj, np.ndarray):
        return obj.astype(dtype) if obj.dtype.kind == "f" else obj.copy()
    if isinstance(obj, dict):
        return {k: cast(v, dtype) for k, v in obj.items()}
    if isinstance(obj, list):
        return [cast(v, dtype) for v in obj]
    if isinstance(obj, tuple):
        return tuple(cast(v, dtype) for v in obj)
    return copy.deepcopy(obj)


def arrays_in(obj: Any, path: str = "args") -> Iterator[tuple[str, np.ndarray]]:
    """Every ndarray reachable in obj (dicts, lists, tuples), with a readable path: what the
    no-mutation checks snapshot before a call."""
    if isinstance(obj, np.ndarray):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from arrays_in(v, f"{path}[{k!r}]")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            yield from arrays_in(v, f"{path}[{i}]")


def _n(rng: np.random.Generator, *shape: int, scale: float = 1.0, loc: float = 0.0) -> np.ndarray:
    return loc + scale * rng.standard_normal(shape)


def _with_exact_zeros(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Put exact zeros (the kink of ReLU-like functions) at a quarter of the entries."""
    x = x.copy()
    x[rng.random(x.shape) < 0.25] = 0.0
    return x


def _labels(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    return rng.integers(0, c, size=n)


def _distribution(rng: np.random.Generator, *shape: int, zeros: bool = False) -> np.ndarray:
    p = rng.random(shape) + 0.05
    if zeros:
        p[..., 0] = 0.0
    return p / p.sum(axis=-1, keepdims=True)


def _svm_scores_on_kinks(rng: np.random.Generator) -> Args:
    """Scores where some margins x_ij - x_iy + 1 are exactly 0 (the hinge's kink)."""
    y = _labels(rng, 5, 4)
    x = np.round(_n(rng, 5, 4), 1)
    x[np.arange(5), y] = 1.0
    x[0, (y[0] + 1) % 4] = 0.0  # margin exactly 0
    x[3, (y[3] + 2) % 4] = 0.0
    return x, y


def _bn_inputs(rng: np.random.Generator, n: int, d: int, mode: str, *,
               constant_column: bool = False, unbiased: bool = False,
               offset: float | None = None) -> Args:
    x = _n(rng, n, d, scale=2.0, loc=0.5)  # not centred, not scaled
    if offset is not None:  # (N, D): mean ~offset, spread ~1
        x = _n(rng, n, d, loc=offset)
    if constant_column:
        x[:, 1] = 3.0
    gamma = _n(rng, d, scale=0.5, loc=1.0)
    beta = _n(rng, d)
    bn_param: dict[str, Any] = {
        "mode": mode, "eps": 1e-5, "momentum": 0.9,
        "running_mean": _n(rng, d, scale=0.1), "running_var": 1.0 + rng.random(d),
    }
    if unbiased:
        bn_param["running_var_unbiased"] = True
    return x, gamma, beta, bn_param


def _bn_sequence(rng: np.random.Generator, batches: int, n: int, d: int, *,
                 unbiased: bool) -> Args:
    """Batches with drifting means; momentum 0.8 and missing statistics (zeros and ones)."""
    xs = [rng.standard_normal((n, d)) * 3.0 + rng.standard_normal(d) for _ in range(batches)]
    gamma, beta = 1.0 + 0.3 * rng.standard_normal(d), rng.standard_normal(d)
    bn_param: dict[str, Any] = {"mode": "train", "momentum": 0.8}
    if unbiased:
        bn_param["running_var_unbiased"] = True
    return xs, gamma, beta, bn_param


def _unbiased_running_var(args: Args) -> Args:
    """Model args with running_var_unbiased=True for every batch-norm layer (torch's rule)."""
    kwargs, *rest = args
    return (dict(kwargs, running_var_unbiased=True), *rest)


def _bn_state(args: Args) -> dict[str, np.ndarray]:
    bn_param = args[-1]
    return {"running_mean": bn_param["running_mean"], "running_var": bn_param["running_var"]}


def _affine_on_kinks(rng: np.random.Generator) -> Args:
    """Affine inputs in {-1, 0, 1}: x @ w + b is exact, and many entries are exactly 0."""
    def small(*shape: int) -> np.ndarray:
        return rng.integers(-1, 2, size=shape).astype(np.float64)

    return small(6, 5), small(5, 4), small(4)


def _logits_hundreds_apart(rng: np.random.Generator) -> Args:
    x = rng.uniform(-400.0, 400.0, size=(5, 4))
    x[np.arange(5), np.arange(5) % 4] = -400.0 - rng.random(5)  # the true class far below
    x[:, 3] = np.maximum(x[:, 3], 350.0)  # ... and one class far above
    return x, np.arange(5) % 4


def _affine(rng: np.random.Generator, n: int, dims: tuple[int, ...], m: int) -> Args:
    d = int(np.prod(dims))
    return _n(rng, n, *dims), _n(rng, d, m, scale=d**-0.5), _n(rng, m)


def _mask(rng: np.random.Generator, shape: tuple[int, ...], p: float) -> np.ndarray:
    return rng.random(shape) >= p


def _optimizer_case(name: str, shape: tuple[int, ...], steps: int, *, lr: float | None,
                    schedule: bool = False, wide_range: bool = False,
                    clip_norm: float | None = None,
                    extra: dict[str, Any] | None = None) -> Case:
    """A trajectory: gradients spanning magnitudes (down to 1e-6, where ε terms show), lr
    optionally changing every step as a schedule would, gradients optionally clipped by
    global norm before each step (through the implementation's clip_by_global_norm).
    ``lr=None``: the config starts with ``extra`` only, so every default is exercised."""

    def make(rng: np.random.Generator, steps: int = steps) -> Args:
        w = _n(rng, *shape)
        scales = 10.0 ** rng.uniform(-6, 1, size=shape) if wide_range else 1.0
        grads = [scales * _n(rng, *shape) for _ in range(steps)]
        if lr is None:
            return w, grads, dict(extra or {}), [None] * steps, clip_norm
        lrs = [lr * 0.98**k if schedule else lr for k in range(steps)]
        config = {"learning_rate": lr, **(extra or {})}
        return w, grads, config, lrs, clip_norm

    return Case(name, make, steps=steps)


def _optimizer(rule: str, lr: float, **extra: Any) -> OpRecord:
    return OpRecord(rule, "optimizer", (
        _optimizer_case("constant_lr", (4, 3), 20, lr=lr, extra=extra),
        _optimizer_case("schedule_wide_grads_100_steps", (7,), 100, lr=lr, schedule=True,
                        wide_range=True, extra=extra),
        _optimizer_case("schedule_clipped_100_steps", (3, 2), 100, lr=lr, schedule=True,
                        clip_norm=1.0, extra=extra),
        # An empty config: every hyper-parameter takes its SPEC default (lr included).
        _optimizer_case("defaults_60_steps", (6,), 60, lr=None, wide_range=True),
    ))


def _align_column_signs(got: dict[str, Any], want: dict[str, Any]) -> dict[str, Any]:
    """PCA whitening is unique only up to each column's sign: flip got's columns to want's."""
    out = dict(got)
    a, b = np.asarray(got["out"]), np.asarray(want["out"])
    if a.shape == b.shape and a.ndim == 2:
        signs = np.where(np.sum(a.astype(np.float64) * b, axis=0) < 0, -1, 1).astype(a.dtype)
        out["out"] = a * signs
    return out


def _solver_identical_samples(rng: np.random.Generator) -> Args:
    x0, label = _n(rng, 1, 5), int(rng.integers(0, 3))
    data = {"X_train": np.repeat(x0, 20, axis=0), "y_train": np.full(20, label),
            "X_val": _n(rng, 12, 5), "y_val": _labels(rng, 12, 3)}
    return (dict(hidden_dims=[8], input_dim=5, num_classes=3, reg=0.01, seed=3), data,
            dict(update_rule="sgd_momentum", optim_config={"learning_rate": 0.05},
                 lr_decay=0.8, batch_size=5, num_epochs=3, verbose=False))


def _sum_of_sines(a: np.ndarray) -> float:
    return float(np.sum(np.sin(a) * np.arange(1, a.size + 1).reshape(a.shape)))


def _cubes(a: np.ndarray) -> np.ndarray:
    return a**3 - a


# ----------------------------------------------------------------------------- records

_ELEMENTWISE_RANK = ("SPEC.md §2 gives the element-wise layers no rank; the oracle holds a "
                     "third party to batch-first (N, D) inputs")

_ACT_CASES = (
    Case("2d", lambda r: (_n(r, 4, 5),)),
    Case("N1", lambda r: (_n(r, 1, 3),)),
    Case("2d_kinks", lambda r: (_with_exact_zeros(_n(r, 6, 4), r),), smooth=False),
    Case("1d", lambda r: (_n(r, 6),), beyond=_ELEMENTWISE_RANK),
    Case("3d_kinks", lambda r: (_with_exact_zeros(_n(r, 2, 3, 4), r),), smooth=False,
         beyond=_ELEMENTWISE_RANK),
)

RECORDS: tuple[OpRecord, ...] = (
    # ---------------------------------------------------------------- layers
    OpRecord("affine_forward", "layer", (
        Case("2d", lambda r: _affine(r, 5, (7,), 4)),
        Case("N1", lambda r: _affine(r, 1, (6,), 3)),
        Case("4d_input", lambda r: _affine(r, 2, (3, 4, 5), 6)),
    ), backward="affine_backward", grad_names=("dx", "dw", "db")),
    OpRecord("relu_forward", "layer", _ACT_CASES, backward="relu_backward", grad_names=("dx",)),
    OpRecord("leaky_relu_forward", "layer", (
        Case("default_alpha_kinks", lambda r: (_with_exact_zeros(_n(r, 4, 5), r),), smooth=False),
        Case("alpha_0.2", lambda r: (_with_exact_zeros(_n(r, 3, 4), r), 0.2), smooth=False),
    ), backward="leaky_relu_backward", grad_names=("dx",)),
    OpRecord("sigmoid_forward", "layer", _ACT_CASES + (
        Case("extreme", lambda r: (np.array([[-1000.0, -30.0, 0.0, 30.0, 1000.0]]),)),
    ), backward="sigmoid_backward", grad_names=("dx",)),
    OpRecord("tanh_forward", "layer", _ACT_CASES + (
        Case("extreme", lambda r: (np.array([[-1000.0, -5.0, 0.0, 5.0, 1000.0]]),)),
    ), backward="tanh_backward", grad_names=("dx",)),
    OpRecord("softmax_forward", "layer", (
        Case("2d", lambda r: (_n(r, 4, 6, scale=3.0),)),
        Case("1d", lambda r: (_n(r, 5),)),
        Case("3d", lambda r: (_n(r, 2, 3, 4),)),
        Case("logits_near_1000", lambda r: (_n(r, 3, 4) + np.array([[1000.0], [-1000.0], [0.0]]),)),
    ), backward="softmax_backward", grad_names=("dx",)),
    OpRecord("log_softmax_forward", "layer", (
        Case("2d", lambda r: (_n(r, 4, 6, scale=3.0),)),
        Case("1d", lambda r: (_n(r, 5),)),
        Case("3d", lambda r: (_n(r, 2, 3, 4),)),
        Case("logits_near_1000", lambda r: (_n(r, 3, 4) + np.array([[1000.0], [-1000.0], [0.0]]),)),
    ), backward="log_softmax_backward", grad_names=("dx",)),
    OpRecord("dropout_forward", "layer", (
        Case("given_mask", lambda r: (_n(r, 4, 5), {"p": 0.3, "mode": "train",
                                                     "mask": _mask(r, (4, 5), 0.3)})),
        Case("given_01_mask", lambda r: (_n(r, 5, 3), {
            "p": 0.5, "mask": _mask(r, (5, 3), 0.5).astype(np.float64)})),
        Case("given_01_mask_3d", lambda r: (_n(r, 2, 3, 4), {
            "p": 0.5, "mask": _mask(r, (2, 3, 4), 0.5).astype(np.float64)}),
             beyond=_ELEMENTWISE_RANK),
        Case("seeded_mask", lambda r: (_n(r, 6, 5), {"p": 0.4, "mode": "train", "seed": 123})),
        Case("p_0", lambda r: (_n(r, 3, 4), {"p": 0.0, "mode": "train", "seed": 1})),
        Case("test_mode", lambda r: (_n(r, 3, 4), {"p": 0.6, "mode": "test"})),
    ), backward="dropout_backward", grad_names=("dx",)),
    OpRecord("batchnorm_forward", "layer", (
        Case("train", lambda r: _bn_inputs(r, 8, 5, "train")),
        Case("train_N2", lambda r: _bn_inputs(r, 2, 3, "train")),
        Case("train_constant_column", lambda r: _bn_inputs(r, 6, 4, "train", constant_column=True)),
        Case("train_unbiased_running_var", lambda r: _bn_inputs(r, 7, 3, "train", unbiased=True)),
        Case("test", lambda r: _bn_inputs(r, 5, 4, "test")),
        # Only the mode given: eps, momentum and the running statistics take defaults.
        Case("train_default_bn_param", lambda r: (*_bn_inputs(r, 6, 3, "train")[:3],
                                                  {"mode": "train"})),
        # Mean ~1e3 times the spread: a one-pass E[x^2] - E[x]^2 variance loses every digit
        # in float32 (its own tolerance row, measured: tolerances.CASE_OVERRIDES).
        Case("train_large_offset", lambda r: _bn_inputs(r, 16, 4, "train", offset=1e3)),
    ), backward="batchnorm_backward", grad_names=("dx", "dgamma", "dbeta"), state=_bn_state),
    OpRecord("batchnorm_forward", "sequence", (
        Case("3_batches_then_test", lambda r: _bn_sequence(r, 4, 6, 4, unbiased=False)),
        Case("5_batches_unbiased_running_var_then_test",
             lambda r: _bn_sequence(r, 6, 10, 4, unbiased=True)),
    )),
    OpRecord("affine_relu_forward", "layer", (
        Case("2d", lambda r: _affine(r, 4, (6,), 5)),
        Case("4d_input", lambda r: _affine(r, 2, (2, 3, 2), 4)),
        # Pre-activations of exactly 0 inside the composite (its ReLU's kink).
        Case("preactivation_exactly_0", _affine_on_kinks, smooth=False),
    ), backward="affine_relu_backward", grad_names=("dx", "dw", "db")),
    OpRecord("affine_batchnorm_relu_forward", "layer", (
        Case("train", lambda r: _affine(r, 6, (5,), 4) + _bn_inputs(r, 6, 4, "train")[1:]),
        Case("test", lambda r: _affine(r, 3, (5,), 4) + _bn_inputs(r, 3, 4, "test")[1:]),
    ), backward="affine_batchnorm_relu_backward",
        grad_names=("dx", "dw", "db", "dgamma", "dbeta"), state=_bn_state),
    # ---------------------------------------------------------------- losses
    OpRecord("mse_loss", "loss", (
        Case("1d", lambda r: (_n(r, 6), _n(r, 6))),
        Case("2d", lambda r: (_n(r, 4, 3), _n(r, 4, 3))),
        Case("N1", lambda r: (_n(r, 1, 2), _n(r, 1, 2))),
    )),
    OpRecord("softmax_loss", "loss", (
        Case("2d", lambda r: (_n(r, 6, 5, scale=2.0), _labels(r, 6, 5))),
        Case("N1", lambda r: (_n(r, 1, 3), np.array([2]))),
        Case("logits_near_1000", lambda r: (
            _n(r, 3, 4) + np.array([[1000.0], [-1000.0], [0.0]]), _labels(r, 3, 4))),
        # Logits several hundred apart, labels on the low ones: softmax underflows to 0 for
        # the true class, so log(softmax) is -inf; the loss itself is finite (~hundreds).
        Case("logits_hundreds_apart", _logits_hundreds_apart, smooth=False),
    )),
    OpRecord("nll_loss", "loss", (
        Case("2d", lambda r: (np.log(_distribution(r, 5, 4)), _labels(r, 5, 4))),
        Case("N1", lambda r: (np.log(_distribution(r, 1, 3)), np.array([0]))),
    )),
    OpRecord("sigmoid_cross_entropy_loss", "loss", (
        Case("1d", lambda r: (_n(r, 6, scale=3.0), (r.random(6) < 0.5).astype(float))),
        Case("2d_binary_targets", lambda r: (_n(r, 4, 3, scale=3.0),
                                             (r.random((4, 3)) < 0.5).astype(float))),
        # SPEC.md §2 says y is 0/1; the reference also takes soft targets in [0, 1].
        Case("2d_soft_targets", lambda r: (_n(r, 4, 3, scale=3.0), r.random((4, 3))),
             oracle=False),
        Case("extreme", lambda r: (np.array([[-1000.0, 1000.0], [30.0, -30.0]]),
                                   np.array([[1.0, 0.0], [0.0, 1.0]]))),
    )),
    OpRecord("svm_loss", "loss", (
        Case("2d", lambda r: (_n(r, 6, 5), _labels(r, 6, 5))),
        Case("margins_exactly_0", _svm_scores_on_kinks, smooth=False),
        Case("N1", lambda r: (_n(r, 1, 4), np.array([3]))),
    )),
    OpRecord("kl_div_loss", "loss", (
        Case("2d", lambda r: (np.log(_distribution(r, 4, 5)), _distribution(r, 4, 5))),
        Case("p_with_zeros", lambda r: (np.log(_distribution(r, 3, 4)),
                                        _distribution(r, 3, 4, zeros=True))),
        Case("1d", lambda r: (np.log(_distribution(r, 6)), _distribution(r, 6)),
             beyond="SPEC.md §2 defines kl_div_loss on (N, K) inputs"),
    )),
    OpRecord("l2_regularization", "loss", (
        Case("2d", lambda r: (_n(r, 5, 4), 0.3)),
        Case("1d", lambda r: (_n(r, 7), 1e-3)),
    )),
    OpRecord("l1_regularization", "loss", (
        Case("2d_with_zeros", lambda r: (_with_exact_zeros(_n(r, 5, 4), r), 0.25), smooth=False),
    )),
    OpRecord("l0_norm", "value", (
        Case("with_zeros", lambda r: (_with_exact_zeros(_n(r, 6, 5), r),)),
    )),
    # ---------------------------------------------------------------- information
    OpRecord("entropy", "value", (
        Case("1d", lambda r: (_distribution(r, 5),)),
        Case("2d_with_zeros", lambda r: (_distribution(r, 3, 4, zeros=True),)),
        Case("base_e", lambda r: (_distribution(r, 2, 6), float(np.e))),
    )),
    OpRecord("cross_entropy", "value", (
        Case("1d", lambda r: (_distribution(r, 5), _distribution(r, 5))),
        Case("2d_p_zeros", lambda r: (_distribution(r, 3, 4, zeros=True), _distribution(r, 3, 4))),
    )),
    OpRecord("kl_divergence", "value", (
        Case("1d", lambda r: (_distribution(r, 5), _distribution(r, 5))),
        Case("2d_p_zeros", lambda r: (_distribution(r, 3, 4, zeros=True), _distribution(r, 3, 4))),
    )),
    # ---------------------------------------------------------------- optimizers
    # every update rule of the catalogue, at its record's learning rate
    *(_optimizer(e.name, e.test_lr) for e in OPTIMIZERS),
    OpRecord("adam", "optimizer", (
        _optimizer_case("no_bias_correction", (5,), 100, lr=0.01, schedule=True,
                        wide_range=True, extra={"bias_correction": False}),
    )),
    OpRecord("clip_by_global_norm", "value", (
        Case("above_clip", lambda r: ([_n(r, 3, 4), _n(r, 5)], 1.0)),
        Case("below_clip", lambda r: ([_n(r, 3, 4, scale=0.01), _n(r, 5, scale=0.01)], 1.0)),
        Case("single_array", lambda r: ((_n(r, 6, scale=3.0),), 2.5)),
    )),
    # ---------------------------------------------------------------- schedules
    OpRecord("time_based_decay", "value", (
        Case("epochs", lambda r: (0.1, 0.5, 7)),
        Case("epoch_0", lambda r: (0.3, 0.01, 0)),
    )),
    OpRecord("exponential_decay", "value", (
        Case("default_base", lambda r: (0.1, 12)),
        Case("base_0.5", lambda r: (0.2, 3, 0.5)),
    )),
    OpRecord("inverse_sqrt_decay", "value", (
        Case("epoch_9", lambda r: (0.1, 9, 2.0)),
    )),
    OpRecord("step_decay", "value", (
        Case("before_start", lambda r: (0.1, 9_999, 0.95, 10_000, 20_000)),
        Case("last_step_before_first_decay", lambda r: (0.1, 29_999, 0.95, 10_000, 20_000)),
        Case("first_decay", lambda r: (0.1, 30_000, 0.95, 10_000, 20_000)),
        Case("third_decay", lambda r: (0.1, 75_000, 0.95, 10_000, 20_000)),
    )),
    # ---------------------------------------------------------------- initialisers
    OpRecord("he_normal", "random", (
        Case("2d", lambda r: ((400, 300), r)),
    )),
    OpRecord("xavier_normal", "random", (
        Case("fan_in", lambda r: ((400, 300), r)),
        Case("fan_avg", lambda r: ((400, 300), r, "fan_avg")),
    )),
    OpRecord("truncated_normal", "random", (
        Case("std_0.1", lambda r: ((300, 400), r, 0.1)),
        Case("mean_2", lambda r: ((50_000,), r, 1.0, 2.0)),
        Case("default_std_and_mean", lambda r: ((200, 300), r)),
    )),
    # ---------------------------------------------------------------- preprocessing
    OpRecord("normalize_features", "value", (
        Case("train_val_test", lambda r: (_n(r, 20, 3, scale=5.0, loc=10.0),
                                          _n(r, 6, 3, scale=5.0, loc=10.0),
                                          _n(r, 4, 3, scale=5.0, loc=10.0))),
        Case("constant_column", lambda r: (np.column_stack([_n(r, 10), np.full(10, 4.0)]),)),
    )),
    OpRecord("running_mean_update", "value", (
        # The document's running mean is a scalar formula: Python floats give a float.
        Case("python_scalars", lambda r: (2.0, 3.0, 0.25)),
        Case("0d_arrays", lambda r: (np.asarray(_n(r)), np.asarray(_n(r, loc=3.0)), 0.1)),
        Case("vector", lambda r: (_n(r, 5), _n(r, 5, loc=3.0), 0.1),
             beyond="SPEC.md §2 gives running_mean_update no array form (the document's "
                    "running mean is a scalar formula)"),
    )),
    OpRecord("covariance", "value", (
        Case("samples", lambda r: (_n(r, 30, 4, scale=3.0, loc=2.0),)),
        Case("worked_example", lambda r: (np.array([[10.0, 20.0], [32.0, 52.0]]),)),
    )),
    OpRecord("whiten", "value", (
        Case("correlated", lambda r: (_n(r, 40, 3) @ np.array([[2.0, 0.5, 0.0],
                                                              [0.0, 1.0, 0.3],
                                                              [0.0, 0.0, 0.5]]) + 4.0,)),
    ), align=_align_column_signs),
    # ---------------------------------------------------------------- gradient checking
    OpRecord("eval_numerical_gradient", "value", (
        Case("sum_of_sines", lambda r: (_sum_of_sines, _n(r, 3, 2))),
    )),
    OpRecord("eval_numerical_gradient_array", "value", (
        Case("cubes", lambda r: (_cubes, _n(r, 4), _n(r, 4))),
    )),
    OpRecord("rel_error", "value", (
        Case("arrays", lambda r: (_n(r, 4, 3), _n(r, 4, 3))),
        Case("with_zeros", lambda r: (np.array([0.0, 1e-9, 2.0]), np.array([0.0, 0.0, 2.0]))),
    )),
    OpRecord("grad_check_distance", "value", (
        Case("arrays", lambda r: (_n(r, 5), _n(r, 5))),
        Case("both_zero", lambda r: (np.zeros(3), np.zeros(3))),
    )),
    # ---------------------------------------------------------------- models
    OpRecord("FullyConnectedNet", "model", (
        # dropout=0.0 given explicitly: SPEC.md §2's signature (0 means no dropout)
        Case("relu_l2", lambda r: (dict(hidden_dims=[7, 5], input_dim=6, num_classes=4,
                                        reg=0.1, dropout=0.0), _n(r, 5, 6), _labels(r, 5, 4))),
        # gamma1, beta1, ... as the documents name them (SPEC.md §2 "W1, b1, ...").
        Case("batchnorm", lambda r: (dict(hidden_dims=[5, 4], input_dim=4, num_classes=3,
                                          reg=0.05, normalization="batchnorm"),
                                     _n(r, 7, 4, loc=1.0), _labels(r, 7, 3))),
        Case("batchnorm_dropout", lambda r: (dict(hidden_dims=[6, 5], input_dim=4, num_classes=3,
                                                  reg=0.05, dropout=0.25,
                                                  normalization="batchnorm", seed=7),
                                             _n(r, 8, 4, loc=1.0), _labels(r, 8, 3)),
             beyond="SPEC.md §2 does not say how the model's seed reaches each dropout "
                    "layer"),
    ), conventions={"torch": (_unbiased_running_var,
                              "torch's FullyConnectedNet runs nn.BatchNorm1d, whose running "
                              "variance is the UNBIASED batch variance")}),
    OpRecord("Solver", "solver", (
        Case("sgd_momentum_two_epochs", oracle=False, make=lambda r: (
            dict(hidden_dims=[8], input_dim=5, num_classes=3, reg=0.01, seed=3),
            {"X_train": _n(r, 40, 5), "y_train": _labels(r, 40, 3),
             "X_val": _n(r, 10, 5), "y_val": _labels(r, 10, 3)},
            dict(update_rule="sgd_momentum", optim_config={"learning_rate": 0.05},
                 lr_decay=0.9, batch_size=10, num_epochs=2, seed=11, verbose=False))),
        # Every training sample is the same one, so ANY mini-batch order (or sampling with
        # replacement, as CS231n's Solver does) gives the same trajectory: a third-party
        # Solver with its own RNG can be compared step by step (no seed argument).
        Case("identical_samples_per_epoch_decay", _solver_identical_samples),
    )),
)

BY_FUNCTION: dict[str, list[OpRecord]] = {}
for _record in RECORDS:
    for _fn in _record.functions:
        BY_FUNCTION.setdefault(_fn, []).append(_record)


def uncovered_names() -> list[str]:
    """Catalogue names that no record exercises (must stay empty)."""
    return [n for n in NAMES if n not in BY_FUNCTION]


# ----------------------------------------------------------------------------- running


def _seed_parts(record: OpRecord, case: Case, seed: int, *extra: str) -> int:
    """Seed 0 is the parity suite's own inputs; any other seed draws a new set."""
    parts = (record.name, case.name, *extra)
    return seed_for(*parts) if seed == 0 else seed_for(*parts, f"seed={seed}")


def make_args(record: OpRecord, case: Case, seed: int = 0, steps: int | None = None) -> Args:
    """The case's float64 inputs, drawn from a generator seeded by the record and case
    (and ``seed``, 0 by default). ``steps`` resizes an optimizer trajectory."""
    rng = np.random.default_rng(_seed_parts(record, case, seed))
    if steps is not None and case.steps is not None:
        return case.make(rng, steps=steps)
    return case.make(rng)


def upstream_gradient(record: OpRecord, case: Case, out: np.ndarray,
                      seed: int = 0) -> np.ndarray:
    """A random (never all-ones) upstream gradient shaped like ``out``, float64."""
    rng = np.random.default_rng(_seed_parts(record, case, seed, "dout"))
    return rng.standard_normal(np.shape(out))


def find_case(name: str, case_name: str) -> tuple[OpRecord, Case]:
    """The record of catalogue function ``name`` holding the case called ``case_name``."""
    for record in BY_FUNCTION.get(name, []):
        for case in record.cases:
            if case.name == case_name:
                return record, case
    raise KeyError(f"no registry case {case_name!r} for {name!r}")


def flatten(result: Any, prefix: str = "out") -> dict[str, Any]:
    """Name every leaf of a nested tuple/list result: out, out0, out0.1, ..."""
    if isinstance(result, tuple | list):
        flat: dict[str, Any] = {}
        for i, item in enumerate(result):
            flat.update(flatten(item, f"{prefix}{i}" if prefix == "out" else f"{prefix}.{i}"))
        return flat
    return {prefix: result}


def reference_params(record: OpRecord, case: Case, params: Mapping[str, np.ndarray],
                     dtype: np.dtype | type, seed: int = 0) -> dict[str, np.ndarray]:
    """Deterministic weights with the shapes of ``params`` (same for every implementation)."""
    rng = np.random.default_rng(_seed_parts(record, case, seed, "params"))
    out = {}
    for key in sorted(params):
        shape = np.shape(params[key])
        if key.startswith("gamma"):
            out[key] = (1.0 + 0.1 * rng.standard_normal(shape)).astype(dtype)
        else:
            out[key] = (0.5 * rng.standard_normal(shape)).astype(dtype)
    return out
