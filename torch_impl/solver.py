"""The training loop for torch_impl models (SPEC.md §2 "Models").

``Solver`` is the reference's loop (``dlparity.reference.solver.Solver``: mini-batches,
learning-rate decay, accuracy/MSE checks, best-validation parameters -- plumbing, no
layer math) with the update rules looked up in ``dlparity.torch_impl.optim`` instead of
the reference's: ``Solver(model, data, update_rule="adam", ...)`` steps every parameter
with ``torch_impl.optim.adam``. A callable ``update_rule`` is used as given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dlparity.reference import solver as _reference  # the loop only

from . import optim

__all__ = ["Solver"]


class Solver(_reference.Solver):
    """The reference Solver (same arguments and attributes) with torch_impl's update rules.

    Inputs: as ``dlparity.reference.solver.Solver``; ``update_rule`` names a rule of
    ``dlparity.torch_impl.optim`` ('sgd', 'adam', ...) or is a callable
    ``rule(w, dw, config) -> (next_w, config)``.
    """

    def __init__(
        self,
        model: Any,
        data: dict,
        update_rule: str | Callable = "sgd",
        *args: Any,
        **kwargs: Any,
    ) -> None:
        if isinstance(update_rule, str) and update_rule in _reference.UPDATE_RULES:
            update_rule = getattr(optim, update_rule)
        super().__init__(model, data, update_rule, *args, **kwargs)
