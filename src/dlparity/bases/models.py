"""What every implementation's models share (SPEC.md §2 "Models"): the constructor contract.

``FullyConnectedNet`` and ``RegressionNet`` of the reference, torch_impl and tf_impl all
subclass the two base classes here, so in every implementation

- the constructor arguments are checked the same way, with the same messages;
- the structure (``layer_dims``, ``hidden_dims``, ``num_layers``, ``config``), the parameter
  names and shapes (W1, b1, [gamma1, beta1], ...; Wi is (fan_in, fan_out), as
  ``affine_forward`` uses it) and the state dicts (``dropout_param``, ``bn_params``) are
  the same;
- ONE seed gives the SAME initial parameters (drawn with ``numpy.random.default_rng`` by
  ``dlparity.formulas.seeded_params``, the one place that rule is written; the Trainers of
  ``dlparity.bases.training`` start from it too), so a user comparing frameworks starts
  them all from one point;
- ``loss(X, y)`` checks its inputs the same way (``_loss_inputs``, ``_targets``).

A subclass builds its framework model in ``_build()`` (called once, at the end of
``__init__``, when every attribute above is set) and implements ``loss(X, y=None)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dlparity import validate as v
from dlparity.formulas import dropout_keep_mask, seeded_params

__all__ = [
    "NORMALIZATIONS",
    "FullyConnectedNetBase",
    "RegressionNetBase",
    "check_dims",
    "check_dtype",
    "flat_inputs",
    "parameter_shapes",
    "regression_targets",
]

NORMALIZATIONS = (None, "batchnorm")
WEIGHT_SCALE = 1e-2  # FullyConnectedNet's default std of the starting weights


# ------------------------------------------------------------------ argument checks


def check_dims(fn: str, name: str, dims: Any) -> tuple[int, ...]:
    """A list or tuple of positive integers (layer widths)."""
    if isinstance(dims, (str, bytes)) or not isinstance(dims, Sequence):
        raise TypeError(
            f"{fn}: {name} must be a list or tuple of positive integers; "
            f"received {type(dims).__name__} {dims!r}"
        )
    return tuple(v.check_int(fn, f"{name}[{i}]", d, low=1) for i, d in enumerate(dims))


def check_dtype(fn: str, dtype: Any) -> np.dtype:
    """A floating NumPy dtype (np.float32, np.float64, 'float32', ...)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"{fn}: dtype must be a floating NumPy dtype (float32 or float64); "
            f"received {dtype!r}"
        ) from None
    if not np.issubdtype(dt, np.floating):
        raise TypeError(
            f"{fn}: dtype must be a floating NumPy dtype (float32 or float64); received {dt}"
        )
    return dt


def flat_inputs(fn: str, X: Any, input_dim: int, dtype: np.dtype) -> np.ndarray:
    """X of shape (N, d1, ..., dk) with d1 * ... * dk == input_dim, as (N, D) of ``dtype``
    (a view when X already has that dtype: X is never written)."""
    X = v.as_float_array(fn, "X", X, min_ndim=2, shape_hint="(N, d1, ..., dk)")
    D = math.prod(X.shape[1:])
    if D != input_dim:
        raise ValueError(
            f"{fn}: X must have {input_dim} features per sample (input_dim) once "
            f"flattened; received X.shape={X.shape} ({D} features)"
        )
    return X.reshape(X.shape[0], D).astype(dtype, copy=False)  # (N, D)


def regression_targets(fn: str, y: Any, n: int, K: int, dtype: np.dtype) -> np.ndarray:
    """Float targets y of shape (n, K) -- (n,) accepted when K = 1 -- as (n, K) of ``dtype``
    (no copy when y already is)."""
    y = v.as_float_array(fn, "y", y, ndim=(1, 2), shape_hint="(N, K)")
    if y.ndim == 1 and K == 1:
        y = y.reshape(-1, 1)  # (N, 1)
    v.check_shape(fn, "y", y, (n, K), "(the predictions' shape (N, K))")
    return y.astype(dtype, copy=False)  # (N, K)


def _layer_count(fn: str, params: Mapping[str, Any]) -> int:
    """L such that the keys of params are exactly W1, b1, ..., WL, bL."""
    L = sum(1 for k in params if isinstance(k, str) and k.startswith("W"))
    expected = {f"{p}{i}" for i in range(1, L + 1) for p in "Wb"}
    if L == 0 or set(params) != expected:
        raise ValueError(
            f"{fn}: params must have exactly the keys W1, b1, ..., WL, bL; "
            f"received keys {sorted(params)}"
        )
    return L


def _chained_dims(fn: str, arrays: Mapping[str, np.ndarray], L: int) -> tuple[int, ...]:
    """Layer widths (d_0, ..., d_L) of W1 (d_0, d_1), ..., WL (d_{L-1}, d_L); each bi (d_i,)."""
    for i in range(1, L + 1):
        v.as_float_array(fn, f"params['W{i}']", arrays[f"W{i}"], ndim=2, shape_hint="(D, M)")
    dims = [arrays["W1"].shape[0]]  # layer widths d_0, d_1, ...
    for i in range(1, L + 1):
        w = arrays[f"W{i}"]
        if w.shape[0] != dims[-1]:
            raise ValueError(
                f"{fn}: params['W{i}'] must have {dims[-1]} rows (the width of layer "
                f"{i - 1}); received params['W{i}'].shape={w.shape}"
            )
        dims.append(w.shape[1])
        v.check_shape(fn, f"params['b{i}']", arrays[f"b{i}"], (w.shape[1],), f"from W{i}")
    return tuple(int(d) for d in dims)


# ------------------------------------------------------------ the parameters' structure


def parameter_shapes(layer_dims: Sequence[int], normalization: str | None) -> dict[str, tuple]:
    """Name -> shape of every parameter of an FC net with widths ``layer_dims = (d_0, ...,
    d_L)``, in FullyConnectedNet's order: W1, b1, [gamma1, beta1,] W2, ...; Wi is
    (d_{i-1}, d_i) = (fan_in, fan_out), bi, gamma_i, beta_i are (d_i,); gamma/beta only on
    the hidden layers (normalization='batchnorm'). d_L may be 1 (a regression output)."""
    L = len(layer_dims) - 1
    shapes: dict[str, tuple] = {}
    for i in range(1, L + 1):
        shapes[f"W{i}"] = (layer_dims[i - 1], layer_dims[i])
        shapes[f"b{i}"] = (layer_dims[i],)
        if normalization == "batchnorm" and i < L:
            shapes[f"gamma{i}"] = shapes[f"beta{i}"] = (layer_dims[i],)
    return shapes


# ---------------------------------------------------------------- FullyConnectedNet


class FullyConnectedNetBase:
    """Constructor, parameters and state of ``FullyConnectedNet``, in every implementation.

    Arguments (checked here; SPEC.md §2): hidden_dims (list of widths, may be empty),
    input_dim (D >= 1), num_classes (C >= 2), reg (>= 0), weight_scale (> 0), dtype (a
    floating NumPy dtype), dropout (the DROP probability, in [0, 1); 0: no dropout layers),
    normalization (None or 'batchnorm'), seed (None or an int >= 0).

    Initial parameters, ONE rule for every implementation
    (``dlparity.formulas.seeded_params``): ``rng = numpy.random.default_rng(seed)``; for
    i = 1 .. L in order, Wi = weight_scale * rng.standard_normal((layer_dims[i-1],
    layer_dims[i])) drawn in float64 and then cast to dtype; bi, beta_i zeros, gamma_i
    ones. So one seed gives identical starting weights in the reference, torch_impl and
    tf_impl (and, up to rounding, in float32 and float64): frameworks compared from one
    seed start from one point. ``seed=None`` draws fresh ones.

    State (dicts by design, updated by ``loss``): ``dropout_param`` ({} without dropout;
    else mode, p and, with a seed, ``seed``: every train-mode call then drops by the SPEC
    keep-mask ``default_rng(seed).random((N, d_i)) >= p`` in every hidden layer, see
    ``_dropout_masks``), ``bn_params`` (one {'mode': ...} dict per hidden layer with
    batch norm, receiving the running statistics).

    Subclasses implement ``loss(X, y=None)`` (starting with ``_loss_inputs``) and may build
    their framework model in ``_build()``.
    """

    def __init__(
        self,
        hidden_dims: Sequence[int],
        input_dim: int,
        num_classes: int,
        reg: float = 0.0,
        weight_scale: float = WEIGHT_SCALE,
        dtype: Any = np.float32,
        dropout: float = 0.0,
        normalization: str | None = None,
        seed: int | None = None,
    ) -> None:
        fn = "FullyConnectedNet"
        self.hidden_dims = check_dims(fn, "hidden_dims", hidden_dims)
        self.input_dim = v.check_int(fn, "input_dim", input_dim, low=1)
        self.num_classes = v.check_int(fn, "num_classes", num_classes, low=2)
        self.reg = v.check_scalar(fn, "reg", reg, low=0.0)
        self.weight_scale = v.check_scalar(fn, "weight_scale", weight_scale, low=0.0, low_open=True)
        self.dtype = check_dtype(fn, dtype)
        self.dropout = v.check_scalar(fn, "dropout", dropout, low=0.0, high=1.0, high_open=True)
        self.normalization = v.check_mode(fn, "normalization", normalization, NORMALIZATIONS)
        self.seed = None if seed is None else v.check_int(fn, "seed", seed, low=0)

        self.layer_dims = (self.input_dim, *self.hidden_dims, self.num_classes)
        self.num_layers = len(self.layer_dims) - 1
        self.use_dropout = self.dropout > 0
        self.params = seeded_params(parameter_shapes(self.layer_dims, self.normalization),
                                    self.dtype, self.seed, self.weight_scale)

        # State containers by design: the dropout setting and one bn_param per hidden layer.
        self.dropout_param: dict[str, Any] = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": self.dropout}
            if self.seed is not None:
                self.dropout_param["seed"] = self.seed
        self.bn_params: list[dict[str, Any]] = []
        if self.normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for _ in self.hidden_dims]
        self._build()

    def _build(self) -> None:
        """Build the implementation's own model (nothing in the NumPy reference)."""

    @property
    def config(self) -> dict[str, Any]:
        """The constructor arguments: ``FullyConnectedNet(**model.config)`` rebuilds the
        architecture (and, with the same seed, the same initial parameters) in any
        implementation."""
        return {
            "hidden_dims": list(self.hidden_dims),
            "input_dim": self.input_dim,
            "num_classes": self.num_classes,
            "reg": self.reg,
            "weight_scale": self.weight_scale,
            "dtype": self.dtype,
            "dropout": self.dropout,
            "normalization": self.normalization,
            "seed": self.seed,
        }

    def _set_mode(self, mode: str) -> None:
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        for bn_param in self.bn_params:
            bn_param["mode"] = mode

    def _loss_inputs(self, X: Any, y: Any) -> np.ndarray:
        """The checks of ``loss(X, y)``: X as (N, D) of dtype, y None or labels (N,) in
        [0, num_classes). Sets every dropout/batch norm mode: 'train' when y is given."""
        fn = "FullyConnectedNet.loss"
        X = flat_inputs(fn, X, self.input_dim, self.dtype)  # (N, D)
        if y is not None:
            v.check_labels(fn, "y", y, X.shape[0], self.num_classes)
        self._set_mode("test" if y is None else "train")
        return X

    def _dropout_masks(self, n: int) -> list[np.ndarray] | None:
        """The seeded keep-masks (n, d_i), bool, of the hidden layers, or None.

        With dropout and ``dropout_param['seed']``: ``default_rng(seed).random((n, d_i)) >=
        p`` for every hidden layer i (what the reference's ``dropout_forward`` draws, so a
        framework drops the same units); None without dropout or seed (the framework's RNG).
        """
        seed = self.dropout_param.get("seed")
        if not self.use_dropout or seed is None:
            return None
        p = self.dropout_param["p"]
        return [dropout_keep_mask(seed, (n, d), p) for d in self.hidden_dims]

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[np.floating, dict[str, np.ndarray]]:
        """Scores (N, C) when y is None, else (loss, grads): each implementation's own."""
        raise NotImplementedError


# -------------------------------------------------------------------- RegressionNet


class RegressionNetBase:
    """Constructor and loss-input checks of ``RegressionNet``, in every implementation.

    Inputs:
    - params: dict with exactly the keys W1, b1, ..., WL, bL; Wi of shape (d_{i-1}, d_i),
      bi of shape (d_i,), chaining. The arrays are COPIED into ``self.params`` (the
      caller's arrays, e.g. a preset's starting weights, are never changed).
    - dtype: floating dtype of the copies; None keeps W1's dtype (all must share it).

    Attributes: params, dtype, layer_dims (d_0, ..., d_L), input_dim, hidden_dims,
    output_dim, num_layers. Subclasses implement ``loss(X, y=None)`` (with
    ``_loss_inputs`` and ``_targets``) and may build their framework model in ``_build()``.
    """

    def __init__(self, params: Mapping[str, np.ndarray], dtype: Any = None) -> None:
        fn = "RegressionNet"
        if not isinstance(params, Mapping):
            raise TypeError(
                f"{fn}: params must be a dict of arrays; received {type(params).__name__}"
            )
        L = _layer_count(fn, params)
        arrays = {k: v.as_float_array(fn, f"params['{k}']", a) for k, a in params.items()}
        self.dtype = check_dtype(fn, arrays["W1"].dtype if dtype is None else dtype)
        if dtype is None:
            for k, a in arrays.items():
                if a.dtype != self.dtype:
                    raise TypeError(
                        f"{fn}: every parameter must have W1's dtype {self.dtype} (or pass "
                        f"dtype=); received params['{k}'].dtype={a.dtype}"
                    )
        self.layer_dims = _chained_dims(fn, arrays, L)
        self.input_dim = self.layer_dims[0]
        self.hidden_dims = self.layer_dims[1:-1]
        self.output_dim = self.layer_dims[-1]
        self.num_layers = L
        self.params = {k: np.array(a, dtype=self.dtype) for k, a in arrays.items()}  # copies
        self._build()

    def _build(self) -> None:
        """Build the implementation's own model (nothing in the NumPy reference)."""

    def _loss_inputs(self, X: Any) -> np.ndarray:
        """X (N, d1, ..., dk) with d1 * ... * dk = input_dim, as (N, D) of dtype."""
        return flat_inputs("RegressionNet.loss", X, self.input_dim, self.dtype)

    def _targets(self, y: Any, n: int) -> np.ndarray:
        """Float targets y (n, K) -- or (n,) when K = 1 -- as (n, K) of dtype."""
        return regression_targets("RegressionNet.loss", y, n, self.output_dim, self.dtype)

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[np.floating, dict[str, np.ndarray]]:
        """Predictions (N, K) when y is None, else (loss, grads): each implementation's own."""
        raise NotImplementedError
