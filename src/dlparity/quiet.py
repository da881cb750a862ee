"""Keep the frameworks' own logging off the command line's output.

TensorFlow's C++ runtime writes to stderr while it is imported
(``WARNING: All log messages before absl::InitializeLog() is called ...``, the oneDNN notice
``I0000 ... port.cc:153] oneDNN custom operations are on ...``, ``cpu_feature_guard``) and
later (XLA service lines). They say nothing about dlparity's results, so the ``dlparity``
commands silence them unless ``--verbose`` is given. :func:`configure` must run BEFORE
TensorFlow is imported:

- ``TF_CPP_MIN_LOG_LEVEL=3`` (unless the environment sets it) silences the C++ lines logged
  after TensorFlow initialises its logging, in this process and in the processes it starts;
- the lines logged BEFORE that (absl writes them to stderr whatever the level: the oneDNN
  notice, TF 2.16+) are taken out of file descriptor 2 while ``tensorflow`` is imported: an
  import hook sends the descriptor to a temporary file for the import and writes back every
  line that is not a TensorFlow log line (Python warnings and errors stay);
- the ``tensorflow`` and ``absl`` Python loggers are set to ERROR.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

__all__ = ["TF_LOG_LINE", "TF_LOGGERS", "configure", "filtered_stderr"]

#: Python-side loggers of TensorFlow and its absl logging.
TF_LOGGERS = ("tensorflow", "absl")

#: A TensorFlow C++ log line below FATAL: absl's format (``I0000 00:00:1796565.87  12852
#: port.cc:153] ...``), the older glog-like one (``2024-01-01 10:00:00.123: W
#: tensorflow/core/platform/cpu_feature_guard.cc:182] ...``), and absl's notice that it logs
#: to stderr before its initialisation.
TF_LOG_LINE = re.compile(
    r"^(?:[IWE]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\] "
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] [\w./-]+:\d+\] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called)")


@contextlib.contextmanager
def filtered_stderr() -> Iterator[None]:
    """File descriptor 2 (C and Python writes alike) goes to a temporary file inside the
    block; afterwards every line of it that is not a TensorFlow log line is written to the
    real stderr, in order."""
    if sys.stderr is not None:
        sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            if sys.stderr is not None:
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            kept = [line for line in sink.read().decode(errors="replace").splitlines(True)
                    if not TF_LOG_LINE.match(line)]
            if kept and sys.stderr is not None:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


class _FilteringLoader(importlib.abc.Loader):
    """The real loader of ``tensorflow``, its module executed inside :func:`filtered_stderr`."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        module.__loader__ = self.loader  # resources and reloads go to the real loader
        module.__spec__.loader = self.loader
        with filtered_stderr():
            self.loader.exec_module(module)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` through the other finders and wraps its loader."""

    def __init__(self) -> None:
        self.searching = False

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "tensorflow" or self.searching:
            return None
        self.searching = True  # the search below asks this finder again
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self.searching = False
        if spec is not None and spec.loader is not None:
            spec.loader = _FilteringLoader(spec.loader)
        return spec


def configure(verbose: bool = False) -> None:
    """Silence TensorFlow's log lines below FATAL, unless ``verbose`` (then nothing is
    changed). Call it before TensorFlow is imported; calling it again is harmless."""
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in TF_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    if "tensorflow" not in sys.modules and not any(
            isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())
    absl_logging = sys.modules.get("absl.logging")
    if absl_logging is None:
        try:
            import absl.logging as absl_logging
        except ImportError:
            return
    absl_logging.set_verbosity(absl_logging.ERROR)
