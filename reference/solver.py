"""The training loop of the NumPy reference (SPEC.md §2 "Models"), CS231n style.

The loop itself (mini-batches, per-epoch learning-rate decay, accuracy/MSE checks,
best-validation parameters) is framework-neutral bookkeeping shared by every
implementation: ``dlparity.bases.solver.SolverBase``, whose docstring lists the
arguments and attributes. This ``Solver`` steps the parameters with the reference's own
update rules: ``update_rule="adam"`` is ``dlparity.reference.optim.adam``.
"""

from __future__ import annotations

from dlparity.bases.solver import SolverBase
from dlparity.catalogue import names_in

from . import optim

__all__ = names_in("solver")  # the catalogue's names (dlparity.catalogue)


class Solver(SolverBase):
    """``SolverBase`` with the update rules of ``reference/optim.py``.

    Usage::

        solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": 1e-3},
                        lr_decay=0.95, batch_size=100, num_epochs=10, seed=0)
        solver.train()  # model.params ends as the best-validation parameters

    ``update_rule`` is the name of a rule of ``reference/optim.py`` ('sgd', 'adam', ...) or
    a callable ``rule(w, dw, config) -> (next_w, config)``; every other argument and
    attribute is ``SolverBase``'s.
    """

    rules = optim
