"""Training the SPEC models the TensorFlow way: ``Trainer`` (the interface of
``dlparity.bases.training``, see there).

The model is this package's Keras model (``build_fc_model`` / ``build_regression_model``,
parameters loaded with ``load_params``); one training step is forward, ``GradientTape``,
update, run as a ``tf.function`` (``compile=None`` or 'tf.function'), op by op ('eager':
the per-op overhead the benchmarks report) or compiled by XLA ('xla':
``tf.function(jit_compile=True)``).

The update computes the SPEC formula in the model's dtype with the Keras optimizer
``optim.keras_optimizer`` configures (the one place it is done): ``keras.optimizers.SGD``
for 'sgd', 'sgd_momentum', 'nesterov_momentum' (SPEC's form), ``optim.TextbookAdam``
(whose step is ``optim.adam_update``) for 'adam' and 'adamw' (``keras.optimizers.Adam``/
``AdamW`` use the eps-hat form, not SPEC's); the learning rate a callable returning a
variable of the model's dtype (Keras's own is float32).

Losses: ``models.training_loss``, as ``models.FullyConnectedNet``/``RegressionNet``:
``keras.losses.SparseCategoricalCrossentropy(from_logits=True)`` in the model's dtype plus
the model's ``HalfL2`` penalties (0.5 * reg * sum W**2 on the kernels), or the mean square
error summed over K and averaged over N (``models.mse``). Keras's BatchNormalization keeps
the biased moving variance (SPEC's default). Dropout masks come from Keras's ``Dropout``
layers, seeded with ``seed`` (fresh masks every step). The device is set through
``tf_impl._convert`` only.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from dlparity.bases.training import BaseTrainer  # the interface and its checks

from . import _convert, optim
from .models import (
    build_fc_model,
    build_regression_model,
    export_params,
    load_params,
    param_variables,
    training_loss,
)

__all__ = ["Trainer"]


class _Update:
    """The rule's Keras optimizer (``optim.keras_optimizer``: SGD, or ``TextbookAdam`` for
    adam / adamw) over the variables, its learning rate a variable of the variables' dtype
    (Keras's own is float32)."""

    def __init__(self, variables: dict[str, tf.Variable], rule: str, hyper: dict[str, float],
                 dtype: str) -> None:
        self.variables = list(variables.values())
        self.learning_rate = tf.Variable(hyper["learning_rate"], dtype=dtype)
        self.optimizer = optim.keras_optimizer(rule, hyper, lambda: self.learning_rate)
        self.optimizer.build(self.variables)

    def apply(self, grads: list[tf.Tensor]) -> None:
        self.optimizer.apply_gradients(zip(grads, self.variables, strict=True))


class Trainer(BaseTrainer):
    """Trains one FC model of SPEC.md §2 "Models" with Keras and a GradientTape step.

    See ``dlparity.bases.training.BaseTrainer`` for the arguments. ``device`` is 'cpu'
    or 'cuda'; ``compile`` is None (= 'tf.function'), 'tf.function', 'eager' or 'xla'.

    Attributes: ``model`` (the keras.Sequential), ``variables`` (its parameters by the
    reference's names).
    """

    COMPILE_MODES = (None, "tf.function", "eager", "xla")

    def _build(self, params: dict[str, np.ndarray]) -> None:
        dtype = self.dtype.name
        with _convert.device(self.device):
            if self.task == "regression":
                self.model = build_regression_model(self.layer_dims, dtype=self.dtype)
            else:
                self.model = build_fc_model(self.layer_dims, reg=self.reg, dropout=self.dropout,
                                            normalization=self.normalization, dtype=self.dtype,
                                            seed=self.seed)
            self.loss = training_loss(self.model, self.task, self.dtype)
            load_params(self.model, params)
            self.variables = param_variables(self.model)
            self.update = _Update(self.variables, self.update_rule, self.optim_config, dtype)
        self._train_step = {
            "eager": self._eager_step,
            "xla": tf.function(self._eager_step, jit_compile=True, reduce_retracing=True),
        }.get(self.compile, tf.function(self._eager_step, reduce_retracing=True))

    def _eager_step(self, X: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        variables = list(self.variables.values())
        with tf.GradientTape() as tape:
            out = self.model(X, training=True)  # (N, C) or (N, K)
            value = self.loss(y, out)
        self.update.apply(tape.gradient(value, variables))
        return value

    def _step(self, X: np.ndarray, y: np.ndarray) -> float:
        labels = np.int64 if self.task == "classification" else None  # one trace per shape
        with _convert.device(self.device):
            value = self._train_step(_convert.to_tensor(X), _convert.to_tensor(y, labels))
            return float(_convert.to_numpy(value))

    def _predict(self, X: np.ndarray) -> np.ndarray:
        with _convert.device(self.device):
            return _convert.to_numpy(self.model(_convert.to_tensor(X), training=False))

    def _export(self) -> dict[str, np.ndarray]:
        return export_params(self.model)
