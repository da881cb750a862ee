"""dlparity: a framework-parity reference suite for deep learning.

Implementations of one specification (SPEC.md), under the same function names:

* ``dlparity.reference``  -- hand-written NumPy, every backward gradient-checked in float64;
* ``dlparity.torch_impl`` -- the same functions with PyTorch ops and autograd;
* ``dlparity.tf_impl``    -- the same functions with TensorFlow ops and autograd.

``dlparity.catalogue`` lists the names; ``dlparity.validate`` holds the shared input checks.
``dlparity.check(target)`` holds any implementation to the reference (the oracle,
``dlparity.oracle``) and returns its report.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "check"]


def check(target: Any, **options: Any) -> Any:
    """Check ``target`` against the reference and return the report (``dlparity.oracle.check``).

    ``target``: a module name, a ``.py`` file, a folder, a notebook, a module object, or a
    namespace dict such as a notebook's ``globals()``. See docs/oracle.md for the options
    (``dtype``, ``only``, ``seed``, ``steps``, ``timeout``, ``dialect``, ...)."""
    from dlparity.oracle import check as run_check

    return run_check(target, **options)
