"""``python -m dlparity.parity_tests``: the parity suite's command line.

    python -m dlparity.parity_tests --defaults     framework defaults vs the reference
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser(prog: str = "python -m dlparity.parity_tests") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Measure where stock PyTorch / TensorFlow objects with their DEFAULT "
        "settings differ from the reference formulas (SPEC.md), as relative errors.",
    )
    parser.add_argument("--defaults", action="store_true", required=True,
                        help="run the stock framework objects with their defaults against the "
                        "reference and print the divergence table (markdown)")
    parser.add_argument("--framework", choices=("torch", "tf"), action="append",
                        help="only this framework (repeatable; default: every installed one)")
    return parser


def run_defaults(frameworks: Sequence[str] | None) -> int:
    from dlparity.parity_tests.defaults import format_table, measure

    results = measure(tuple(frameworks or ("torch", "tf")))
    if not results:
        print("neither torch nor tensorflow is installed: nothing to measure", file=sys.stderr)
        return 2
    print(format_table(results))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_defaults(args.framework)


if __name__ == "__main__":
    sys.exit(main())
