"""``python -m dlparity.parity_tests``: the parity suite's command line.

    python -m dlparity.parity_tests --impl TARGET   check an implementation against the
                                                    reference (the oracle; = dlparity check)
    python -m dlparity.parity_tests --defaults      framework defaults vs the reference
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser(prog: str = "python -m dlparity.parity_tests") -> argparse.ArgumentParser:
    from dlparity.parity_tests.oracle_cli import add_check_arguments

    parser = argparse.ArgumentParser(
        prog=prog,
        description="Hold an implementation to the reference formulas of SPEC.md: "
        "--impl TARGET runs the oracle on any implementation (exit 0 all match, 1 a "
        "mismatch, 2 usage or import error); --defaults measures where stock PyTorch / "
        "TensorFlow objects with their DEFAULT settings differ from the formulas.",
    )
    parser.add_argument("--defaults", action="store_true",
                        help="run the stock framework objects with their defaults against the "
                        "reference and print the divergence table (markdown)")
    parser.add_argument("--framework", choices=("torch", "tf"), action="append",
                        help="with --defaults: only this framework (repeatable; default: every "
                        "installed one)")
    add_check_arguments(parser, impl_required=False)
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
    from dlparity.parity_tests import oracle

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.defaults == (args.impl is not None):
            parser.error("give exactly one of --impl TARGET (the oracle) or --defaults")
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.defaults:
        return run_defaults(args.framework)
    return oracle.run_cli(args)


if __name__ == "__main__":
    sys.exit(main())
