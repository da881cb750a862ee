"""The oracle: the engine that holds any implementation to the NumPy reference.

``dlparity.check(target)`` (= ``dlparity check --impl TARGET``) is the public entry point.
The package's modules, in the order a check flows through them:

* ``registry``    the op records: one per forward/backward pair, optimizer, loss, model;
                  each carries its cases and its calling protocol;
* ``protocols``   how a record is called (inputs, observations);
* ``targets``     loading a target (module, file, folder) and reading what it defines;
* ``isolation``   the child process the target runs in;
* ``calls``       guarded calls into the target (exceptions, timeouts, printing, writes);
* ``engine``      one record on the target and on the reference, compared;
* ``tolerances``, ``compare``   the one tolerance table and the one comparison helper;
* ``attribution`` ``via``: a failure explained by a part it was built from;
* ``report``, ``repro``         the report (text, JSON) and the repro snippets;
* ``run``         ``check()``: the records, both dtypes, the merged report;
* ``vectors``     test vectors for implementations in other languages;
* ``plugin``      the pytest plugin (``pytest --pyargs dlparity.oracle --impl TARGET``);
* ``cli``         the options of ``dlparity check`` / ``dlparity export-vectors``.

Nothing here imports torch or TensorFlow: checking a NumPy target needs NumPy alone.
"""

from __future__ import annotations

from typing import Any

_FROM_RUN = (
    "DEPENDS_ON", "DTYPES", "ERROR", "FAIL", "MISSING", "NOTE", "PASS", "STATUSES",
    "UNTESTED", "VIA", "Finding", "FunctionResult", "Report", "Target", "TargetError",
    "check", "dependents", "fingerprint", "fingerprint_files", "load_target",
    "optimizer_inputs", "probe_target", "run_cli", "show",
)

__all__ = list(_FROM_RUN)


def __getattr__(name: str) -> Any:
    """Lazy: ``import dlparity.oracle.tolerances`` does not load the whole engine."""
    if name in _FROM_RUN:
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module 'dlparity.oracle' has no attribute {name!r}")
