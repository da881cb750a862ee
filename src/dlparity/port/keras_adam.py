"""``TextbookAdam``: a Keras optimizer computing torch's (and SPEC.md's) Adam exactly.

Keras's ``Adam`` uses the epsilon-hat form, lr_t = lr*sqrt(1-b2^t)/(1-b1^t) and
w -= lr_t * m / (sqrt(v) + eps), and casts beta_1 / beta_2 through float32 for the bias
corrections. ``TextbookAdam`` keeps Keras's variables (``momentums``, ``velocities``,
``iterations``: a model saved with it loads its state like any Keras Adam) and applies
SPEC's step, ``dlparity.tf_impl.optim.adam_update`` (the one place Keras computes it), with
the betas in the variable's dtype; with ``weight_decay`` it is torch's AdamW. It removes
the ``adam_epsilon_hat`` divergence (``dlparity diff --explain``). It is defined in
``dlparity.tf_impl.optim`` and registered with Keras as ``dlparity>TextbookAdam``;
importing this module before ``keras.saving.load_model`` is enough to load a ``.keras``
file that uses it (``dlparity.port.load_model`` does).
"""

from __future__ import annotations

from dlparity.tf_impl.optim import TextbookAdam

__all__ = ["TextbookAdam"]
