"""The training loop for tf_impl models (SPEC.md §2 "Models").

The loop (mini-batches, per-epoch decay, histories, best-validation parameters; it knows
nothing of the model but ``params`` and ``loss``) is ``dlparity.bases.solver.SolverBase``,
shared by every implementation; this ``Solver`` looks update rule names up in
``dlparity.tf_impl.optim``. Every update is then computed with TensorFlow; the bookkeeping
(batch order, accuracy) is the shared NumPy code.
"""

from __future__ import annotations

from dlparity.bases.solver import SolverBase
from dlparity.catalogue import names_in

from . import optim

__all__ = names_in("solver")  # the catalogue's names (dlparity.catalogue)


class Solver(SolverBase):
    """``SolverBase`` (same arguments and attributes) with update rules looked up in
    ``dlparity.tf_impl.optim``: ``update_rule`` is the name of a rule of ``tf_impl/optim.py``
    or a callable ``rule(w, dw, config)``.
    """

    rules = optim
