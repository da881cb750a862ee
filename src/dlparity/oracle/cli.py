"""The command-line options of the oracle (``dlparity check``) and of ``dlparity
export-vectors``.

Kept apart from ``run.py`` and ``vectors.py`` so that building the ``dlparity`` parser
imports nothing but argparse: the reference is imported only by the command that runs.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable, Sequence


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0; received {value}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1; received {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a positive number; received {text}")
    return value


def parse_only(values: Sequence[str] | None, known: Iterable[str] | None = None,
               option: str = "--only") -> list[str]:
    """``--only a,b --only c`` -> ['a', 'b', 'c'] (the one parser of the option, for
    ``dlparity check``, ``export-vectors``, the pytest plugin and ``check()``); a name not
    in ``known`` is a ValueError naming it."""
    if isinstance(values, str):
        values = [values]
    names = [n.strip() for item in (values or []) for n in str(item).split(",") if n.strip()]
    if known is not None:
        known = set(known)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"{option}: not catalogue names: {', '.join(unknown)} (see "
                             "`dlparity functions`)")
    return list(dict.fromkeys(names))


def add_check_arguments(parser: argparse.ArgumentParser, impl_required: bool = True) -> None:
    """The oracle's options."""
    parser.add_argument("--impl", metavar="TARGET", required=impl_required,
                        help="the implementation to check: a module or package name "
                        "(mypkg.layers), a .py file, a Jupyter notebook (.ipynb), or a "
                        "directory")
    parser.add_argument("--dialect", choices=("cs231n", "dlai"), default=None,
                        help="the API the target is written in: cs231n (SPEC.md: "
                        "affine_forward(x, w, b), batch first) or dlai (the deeplearning.ai "
                        "course: examples as columns, parameters/grads dicts); default: "
                        "recognised from the names and signatures it defines")
    parser.add_argument("--only", action="append", metavar="NAMES",
                        help="check only these catalogue names (comma-separated; repeatable); "
                        "the functions they depend on run too")
    parser.add_argument("--dtype", choices=("float64", "float32", "both"), default=None,
                        help="dtype of the inputs (default for cs231n: both, float64 and "
                        "float32, each function reported by the worse of the two, the JSON "
                        "keeping both; float32 uses the float32 tolerances and checks float32 "
                        "outputs; default for dlai: float64, the course's)")
    parser.add_argument("--seed", type=_non_negative_int, default=0,
                        help="seed of the inputs (default 0: the parity suite's own inputs)")
    parser.add_argument("--steps", type=_positive_int, default=100,
                        help="optimizer trajectory length (default 100)")
    parser.add_argument("--timeout", type=_positive_float, default=20.0,
                        help="seconds per function, all its calls together (default 20); the "
                        "target runs in a child process killed after its functions' budgets "
                        "plus a few seconds of wall-clock time")
    parser.add_argument("--memory-mb", type=_positive_float, default=4096.0,
                        help="address space the target may add to its process, in MiB "
                        "(default 4096; a wild allocation becomes a MemoryError there)")
    parser.add_argument("--no-isolation", action="store_true",
                        help="run the target in the oracle's own process (faster to debug "
                        "with pdb; a crash of the target then ends the run)")
    parser.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    parser.add_argument("--strict", action="store_true",
                        help="count missing functions as failures")
    parser.add_argument("--no-repro", action="store_true",
                        help="do not print repro snippets (they stay in the JSON report)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only lines that are not PASS or missing")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print every note (which bad inputs are accepted, ...)")


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``dlparity export-vectors``."""
    parser.add_argument("directory", metavar="DIR", help="where to write (created)")
    parser.add_argument("--dtype", choices=("float64", "float32"), action="append",
                        help="only this dtype (repeatable; default both)")
    parser.add_argument("--only", action="append", metavar="NAMES",
                        help="only these catalogue names (comma-separated; repeatable)")
    parser.add_argument("--seed", type=_non_negative_int, default=0,
                        help="seed of the inputs (default 0: the parity suite's own inputs)")
    parser.add_argument("--steps", type=_positive_int, default=None,
                        help="optimizer trajectory length (default: the registry's)")
