"""Keep the frameworks' own logging off the command line's output.

TensorFlow's C++ runtime writes to stderr as soon as it is imported and at its first op
(``WARNING: All log messages before absl::InitializeLog() ...``, the oneDNN notice
``I0000 ... port.cc] oneDNN custom operations are on``, ``cpu_feature_guard`` and XLA
service lines). They say nothing about dlparity's results, so the ``dlparity`` commands
silence them unless ``--verbose`` is given: :func:`configure` must run BEFORE TensorFlow is
imported (the C++ side reads ``TF_CPP_MIN_LOG_LEVEL`` once, at import).

An explicit ``TF_CPP_MIN_LOG_LEVEL`` in the environment is left as the user set it.
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["TF_LOGGERS", "configure"]

#: Python-side loggers of TensorFlow and its absl logging.
TF_LOGGERS = ("tensorflow", "absl")


def configure(verbose: bool = False) -> None:
    """Silence TensorFlow's C++ and Python logging below ERROR, unless ``verbose``.

    - ``TF_CPP_MIN_LOG_LEVEL=3`` (C++: no INFO, WARNING or ERROR lines; fatal errors still
      abort with their message), unless already set;
    - the ``tensorflow`` and ``absl`` Python loggers at ERROR, and absl's own verbosity
      when absl is importable (without importing TensorFlow).

    ``verbose``: leave everything as the frameworks set it.
    """
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in TF_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    absl_logging = sys.modules.get("absl.logging")
    if absl_logging is None:
        try:
            import absl.logging as absl_logging
        except ImportError:
            return
    absl_logging.set_verbosity(absl_logging.ERROR)
