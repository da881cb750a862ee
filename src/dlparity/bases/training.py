"""What every package's ``Trainer`` shares (``dlparity.<impl>.training``): ``BaseTrainer``.

One interface, the same in ``dlparity.reference.training``, ``dlparity.torch_impl.training``
and ``dlparity.tf_impl.training``::

    trainer = Trainer([784, 256, 100, 10], reg=5e-5, update_rule="adam",
                      optim_config={"learning_rate": 1e-3}, dtype=np.float32, seed=0)
    loss = trainer.step(X_batch, y_batch)    # one update; the loss BEFORE it
    scores = trainer.predict(X_test)         # eval mode (no dropout, running statistics)
    params = trainer.export_params()         # W1, b1, (gamma1, beta1,) ... as NumPy arrays
    trainer = Trainer.from_preset("dating_fc_2_5_5_5_1", dtype=np.float64)

``BaseTrainer`` holds what the three share: the argument checks (same messages
everywhere), the seeded starting parameters (``dlparity.formulas.seeded_params``, the
FullyConnectedNet rule), the batch checks, ``export_params`` and ``from_preset``. Each
package's ``Trainer`` adds the training step of its own library: the reference's
``FullyConnectedNet`` / ``RegressionNet`` and its update rules (the NumPy step the
benchmarks time); torch's ``nn.Module`` and stock ``torch.optim``; a Keras model with a
``tf.function`` step.

The model (SPEC.md §2 "Models"), for ``layer_dims = (D, d_1, ..., d_{L-1}, C)``:

- task 'classification': {affine - [batchnorm] - relu - [dropout]} x (L - 1) - affine,
  softmax cross-entropy on integer labels (N,), plus 0.5 * reg * sum(W**2) on the weights;
- task 'regression': {affine - relu} x (L - 1) - affine, the mean square error
  (1/N) sum_i sum_k (out_ik - y_ik)**2 (``mse_loss``), targets (N, K) or (N,) when K = 1;
  no reg, dropout or normalization (the dating nets of the documents have none).

Update rules ('sgd', 'sgd_momentum', 'nesterov_momentum', 'adam') take ``optim_config`` in
SPEC terms (learning_rate, momentum, beta1, beta2, epsilon; defaults from
``dlparity.contract.optim.DEFAULTS``) and compute the SPEC formula with a constant learning
rate, one state per parameter.

Dropout uses each library's own random numbers, a fresh mask every step (NumPy's
``default_rng()`` in the reference, torch's global generator, Keras's seeded ``Dropout``):
training with dropout is reproduced statistically, not number for number. Parity runs use
``dropout=0``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from dlparity import validate as v
from dlparity.bases.models import (
    NORMALIZATIONS,
    WEIGHT_SCALE,
    check_dims,
    check_dtype,
    flat_inputs,
    parameter_shapes,
    regression_targets,
)
from dlparity.catalogue import TRAINER_RULES
from dlparity.contract import optim as contract_optim
from dlparity.formulas import seeded_params

__all__ = ["BaseTrainer", "TASKS", "UPDATE_RULES"]

TASKS = ("classification", "regression")
UPDATE_RULES = TRAINER_RULES  # the catalogue's records with trainer=True


class BaseTrainer(ABC):
    """Trains one FC model of SPEC.md §2 "Models" the way a user of this library would.

    Inputs:
    - layer_dims: (D, hidden..., C) for classification, (D, hidden..., K) for regression.
    - task: 'classification' (softmax cross-entropy, integer labels) or 'regression'
      (mean square error summed over K, averaged over N).
    - reg: L2 strength, 0.5 * reg * sum(W**2) on the weights (classification only).
    - dropout: DROP probability of every hidden layer, in [0, 1) (classification only).
    - normalization: None or 'batchnorm' (classification only).
    - update_rule: one of ``UPDATE_RULES`` ('sgd', 'sgd_momentum', 'nesterov_momentum',
      'adam', 'adamw': the catalogue's rules with ``trainer=True``).
    - optim_config: the rule's hyper-parameters in SPEC terms (missing ones take the SPEC
      defaults); Adam always applies its bias correction.
    - params: starting parameters keyed W1, b1, (gamma1, beta1,) ..., weights (fan_in,
      fan_out), copied; None draws FullyConnectedNet's seeded starting point
      (``dlparity.formulas.seeded_params``).
    - dtype: floating dtype of the parameters and the computation.
    - seed: seeds the starting weights (and Keras's dropout masks).
    - device: where the library computes ('cpu', 'cuda' for the frameworks).
    - compile: how the step runs; each package lists its modes in ``COMPILE_MODES``.
    """

    COMPILE_MODES: ClassVar[tuple[str | None, ...]] = (None,)

    def __init__(
        self,
        layer_dims: Sequence[int],
        task: str = "classification",
        *,
        reg: float = 0.0,
        dropout: float = 0.0,
        normalization: str | None = None,
        update_rule: str = "adam",
        optim_config: dict | None = None,
        params: Mapping[str, np.ndarray] | None = None,
        dtype: Any = np.float32,
        seed: int | None = None,
        device: str = "cpu",
        compile: str | None = None,
    ) -> None:
        fn = "Trainer"
        self.task = v.check_mode(fn, "task", task, TASKS)
        self.layer_dims = _check_layer_dims(fn, layer_dims, self.task)
        self.reg = v.check_scalar(fn, "reg", reg, low=0.0)
        self.dropout = v.check_scalar(fn, "dropout", dropout, low=0.0, high=1.0, high_open=True)
        self.normalization = v.check_mode(fn, "normalization", normalization, NORMALIZATIONS)
        if self.task == "regression" and (self.reg or self.dropout or self.normalization):
            raise ValueError(
                f"{fn}: task 'regression' (the dating nets) has no reg, dropout or "
                f"normalization; received reg={reg!r}, dropout={dropout!r}, "
                f"normalization={normalization!r}"
            )
        self.update_rule = v.check_mode(fn, "update_rule", update_rule, UPDATE_RULES)
        self.optim_config = _check_optim_config(fn, self.update_rule, optim_config)
        self.dtype = check_dtype(fn, dtype)
        self.seed = None if seed is None else v.check_int(fn, "seed", seed, low=0)
        if not isinstance(device, str):
            raise TypeError(f"{fn}: device must be a string such as 'cpu' or 'cuda'; "
                            f"received {device!r}")
        self.device = device
        self.compile = v.check_mode(fn, "compile", compile, self.COMPILE_MODES)
        shapes = parameter_shapes(self.layer_dims, self.normalization)
        if params is None:
            start = seeded_params(shapes, self.dtype, self.seed, WEIGHT_SCALE)
        else:
            start = _check_params(fn, params, shapes, self.dtype)
        self._build(start)

    # -------------------------------------------------------------- the public methods

    def step(self, X: np.ndarray, y: np.ndarray) -> float:
        """One update on the batch (X, y).

        Inputs:
        - X: float array (N, d1, ..., dk) with d1 * ... * dk = D; cast to dtype.
        - y: integer labels (N,) in [0, C) (classification), or float targets (N, K),
          (N,) when K = 1 (regression).

        Returns:
        - the loss BEFORE the update (data loss + 0.5 * reg * sum W**2), a Python float.
        """
        X = self._check_inputs("Trainer.step", X)  # (N, D)
        return self._step(X, self._check_targets("Trainer.step", y, X.shape[0]))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Eval-mode outputs (no dropout; batch norm on its running statistics).

        Inputs:
        - X: float array (N, d1, ..., dk) with d1 * ... * dk = D; cast to dtype.

        Returns:
        - scores (N, C) for classification, predictions (N, K) for regression, of dtype.
        """
        return self._predict(self._check_inputs("Trainer.predict", X))

    def export_params(self) -> dict[str, np.ndarray]:
        """The parameters as NEW NumPy arrays of dtype in the reference's layout and order:
        W1, b1, (gamma1, beta1,) ..., Wi of shape (fan_in, fan_out)."""
        params = self._export()
        return {k: params[k] for k in parameter_shapes(self.layer_dims, self.normalization)}

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> BaseTrainer:
        """A Trainer for ``dlparity.reference.presets.PRESETS[name]``.

        The preset gives layer_dims, task, reg, dropout, update_rule and the learning rate
        (``optim_config``), and the starting parameters (``presets.build_model``: the
        document's fixed weights, or its initialisation seeded with ``seed``). Keyword
        ``overrides`` replace any constructor argument; an ``optim_config`` is merged into
        the preset's; changing layer_dims, task or normalization (or passing params)
        drops the preset's starting parameters.
        """
        from dlparity.reference import presets  # the documents' models as data

        if name not in presets.PRESETS:
            raise ValueError(f"Trainer.from_preset: name must be one of "
                             f"{tuple(presets.PRESETS)}; received {name!r}")
        p = presets.PRESETS[name]
        kwargs: dict[str, Any] = {
            "layer_dims": p.layer_dims, "task": p.task, "reg": p.reg, "dropout": p.dropout,
            "update_rule": p.update_rule, **overrides,
            "optim_config": {"learning_rate": p.learning_rate,
                             **(overrides.get("optim_config") or {})},
        }
        if not {"params", "layer_dims", "task", "normalization"} & set(overrides):
            model = presets.build_model(p, dtype=kwargs.get("dtype", np.float32),
                                        seed=kwargs.get("seed"))
            kwargs["params"] = model.params
        return cls(**kwargs)

    # ---------------------------------------------------- what each package provides

    @abstractmethod
    def _build(self, params: dict[str, np.ndarray]) -> None:
        """Make the model from the checked starting ``params`` (new arrays of dtype)."""

    @abstractmethod
    def _step(self, X: np.ndarray, y: np.ndarray) -> float:
        """One update on checked inputs: X (N, D) and y (N,) int or (N, K), of dtype."""

    @abstractmethod
    def _predict(self, X: np.ndarray) -> np.ndarray:
        """Eval-mode outputs for checked inputs X (N, D) of dtype."""

    @abstractmethod
    def _export(self) -> dict[str, np.ndarray]:
        """The parameters as new NumPy arrays in the reference's layout, any order."""

    # ------------------------------------------------------------------- the checks

    def _check_inputs(self, fn: str, X: Any) -> np.ndarray:
        """X (N, d1, ..., dk) with d1 * ... * dk == D, as (N, D) of dtype (no copy if it is)."""
        return flat_inputs(fn, X, self.layer_dims[0], self.dtype)  # (N, D)

    def _check_targets(self, fn: str, y: Any, n: int) -> np.ndarray:
        """Labels (n,) in [0, C), or targets (n, K) of dtype ((n,) accepted when K = 1)."""
        if self.task == "classification":
            return v.check_labels(fn, "y", y, n, self.layer_dims[-1])
        return regression_targets(fn, y, n, self.layer_dims[-1], self.dtype)  # (N, K)


def _check_layer_dims(fn: str, layer_dims: Any, task: str) -> tuple[int, ...]:
    """At least two positive widths; at least 2 classes for classification."""
    dims = check_dims(fn, "layer_dims", layer_dims)
    if len(dims) < 2:
        raise ValueError(f"{fn}: layer_dims must have at least 2 entries (D, ..., C); "
                         f"received layer_dims={layer_dims!r}")
    if task == "classification" and dims[-1] < 2:
        raise ValueError(f"{fn}: a classifier needs layer_dims[-1] >= 2 classes; "
                         f"received layer_dims={layer_dims!r}")
    return dims


def _check_optim_config(fn: str, rule: str, optim_config: Any) -> dict[str, float]:
    """The rule's hyper-parameters, checked and filled by ``dlparity.contract.optim``."""
    config = {} if optim_config is None else dict(v.check_dict(fn, "optim_config", optim_config))
    known = contract_optim.DEFAULTS[rule]
    unknown = sorted(set(config) - set(known))
    if unknown:
        raise ValueError(f"{fn}: optim_config has keys {unknown} that update_rule {rule!r} "
                         f"does not take; it takes {sorted(known)}")
    one = np.zeros(1)
    try:
        config = getattr(contract_optim, rule)(one, one, config)
    except (TypeError, ValueError) as err:  # "adam: config['beta1'] must be ..."
        raise type(err)(f"{fn}: optim_config is not valid for {err}") from None
    if not config.get("bias_correction", True):
        raise ValueError(f"{fn}: Trainer's Adam always applies the bias correction (stock "
                         "torch.optim.Adam has no switch); received bias_correction=False")
    return {k: config[k] for k in known}


def _check_params(fn: str, params: Any, shapes: dict[str, tuple],
                  dtype: np.dtype) -> dict[str, np.ndarray]:
    """NEW arrays of dtype with exactly the keys and shapes of ``shapes``."""
    if not isinstance(params, Mapping):
        raise TypeError(f"{fn}: params must be a dict of arrays; "
                        f"received {type(params).__name__}")
    if set(params) != set(shapes):
        raise ValueError(f"{fn}: params must have exactly the keys {list(shapes)}; "
                         f"received keys {sorted(params)}")
    out = {}
    for name, shape in shapes.items():
        a = v.as_float_array(fn, f"params['{name}']", params[name])
        v.check_shape(fn, f"params['{name}']", a, shape, "(from layer_dims)")
        out[name] = np.array(a, dtype=dtype)  # a copy: the caller's array is never written
    return out
