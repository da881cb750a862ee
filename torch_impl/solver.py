"""The training loop for torch_impl models (SPEC.md §2 "Models").

The loop (mini-batches, learning-rate decay, accuracy/MSE checks, best-validation
parameters -- plumbing, no layer math) is ``dlparity.bases.solver.SolverBase``, shared
by every implementation; this ``Solver`` looks update rule names up in
``dlparity.torch_impl.optim``, so every update is computed with torch.
"""

from __future__ import annotations

from dlparity.bases.solver import SolverBase
from dlparity.catalogue import names_in

from . import optim

__all__ = names_in("solver")  # the catalogue's names (dlparity.catalogue)


class Solver(SolverBase):
    """``SolverBase`` (same arguments and attributes) with torch_impl's update rules:
    ``update_rule`` names a rule of ``dlparity.torch_impl.optim`` ('sgd', 'adam', ...) or is
    a callable ``rule(w, dw, config) -> (next_w, config)``.
    """

    rules = optim
