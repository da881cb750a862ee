"""``TextbookAdam``: a Keras optimizer computing torch's (and SPEC.md's) Adam exactly.

Keras's ``Adam`` uses the epsilon-hat form, lr_t = lr*sqrt(1-b2^t)/(1-b1^t) and
w -= lr_t * m / (sqrt(v) + eps), and casts beta_1 / beta_2 through float32 for the bias
corrections. This subclass keeps Keras's variables (``momentums``, ``velocities``,
``iterations``: a model saved with it loads its state like any Keras Adam) and applies

    w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

with the betas in the variable's dtype: the configuration that removes the
``adam_epsilon_hat`` divergence (``dlparity diff --explain``). It is registered with Keras
as ``dlparity>TextbookAdam``; importing ``dlparity.port.keras_adam`` before
``keras.saving.load_model`` is enough to load a ``.keras`` file that uses it
(``dlparity.port.load_model`` does).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["TextbookAdam"]


@keras.saving.register_keras_serializable(package="dlparity")
class TextbookAdam(keras.optimizers.Adam):
    """Adam with epsilon added to sqrt(v_hat) (torch.optim.Adam's formula); amsgrad is not
    supported."""

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        t = ops.cast(self.iterations + 1, dtype)
        b1 = ops.convert_to_tensor(self.beta_1, dtype=dtype)
        b2 = ops.convert_to_tensor(self.beta_2, dtype=dtype)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - b1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - b2))
        step = lr / (1 - ops.power(b1, t))
        denom = ops.sqrt(v) / ops.sqrt(1 - ops.power(b2, t)) + self.epsilon
        self.assign_sub(variable, ops.divide(ops.multiply(m, step), denom))
