"""The training loop for tf_impl models (SPEC.md §2 "Models").

The loop itself is the reference's ``Solver`` (mini-batches, per-epoch decay, histories,
best-validation parameters; it knows nothing of the model but ``params`` and ``loss``),
reused rather than copied: this ``Solver`` only resolves a rule NAME ('sgd', 'adam', ...)
to the rule of ``dlparity.tf_impl.optim`` instead of the reference's, and passes it on as
the callable ``update_rule`` the reference Solver accepts. Every update is then computed
with TensorFlow; the bookkeeping (batch order, accuracy) is the reference's NumPy code.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from dlparity.catalogue import names_of_kind
from dlparity.reference.solver import Solver as _ReferenceSolver

from . import optim

__all__ = ["Solver"]

UPDATE_RULES = names_of_kind("optimizer")


class Solver(_ReferenceSolver):
    """The reference Solver with update rules looked up in ``dlparity.tf_impl.optim``.

    Same arguments and attributes as ``dlparity.reference.Solver``; ``update_rule`` is the
    name of a rule of ``tf_impl/optim.py`` or a callable ``rule(w, dw, config)``.
    """

    @functools.wraps(_ReferenceSolver.__init__)  # the reference's signature, for inspect
    def __init__(self, model: Any, data: dict, update_rule: str | Callable = "sgd",
                 *args: Any, **kwargs: Any) -> None:
        if isinstance(update_rule, str) and update_rule in UPDATE_RULES:
            update_rule = getattr(optim, update_rule)
        super().__init__(model, data, update_rule, *args, **kwargs)
