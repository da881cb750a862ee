"""The deeplearning.ai dialect (DIALECTS.md): the column-layout reference, the cases of
every assignment, and the check.

    from dlparity.oracle import dlai
    report = dlai.check(dlai.load("my_notebook.ipynb"))      # or a .py, a folder, globals()

``check(target, *, assignment=None, dtype=None, seed=0, steps=100, timeout=20.0,
only=None) -> Report``; ``load(spec_or_namespace) -> Target``; ``replay(fn, case)`` runs one
case of a report on a learner's function in a notebook cell.
"""

from __future__ import annotations

from .loader import DlaiTarget, load
from .runner import check, replay

__all__ = ["DlaiTarget", "check", "load", "replay"]
