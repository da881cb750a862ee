"""The ``dlparity`` console script: one command, several subcommands.

    dlparity functions            list the SPEC.md catalogue and where each name lives
    dlparity gradcheck            gradient-check the NumPy reference in float64, in place
    dlparity check --impl TARGET  hold ANY implementation to the reference (the oracle)
    dlparity export-vectors DIR   the reference's inputs/outputs as .npy + JSON, for any language
    dlparity train                train a preset with numpy, torch or tf, with a progress bar
    dlparity bench                time the three on the MNIST / CIFAR-10 FC models
    dlparity grade DIR            grade a class (gradebook, HTML reports), or --gradescope
    dlparity conventions          where torch / Keras defaults diverge from the formulas
    dlparity port SRC DST         convert a model + optimizer state between .pt, .keras, .npz
    dlparity diff A B --batch X   layer-by-layer / trajectory diff of two models, --explain
    dlparity version              versions of dlparity, NumPy and (if installed) torch / TF
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Sequence

from dlparity import __version__
from dlparity.catalogue import CATALOGUE


def _cmd_functions(args: argparse.Namespace) -> int:
    """Print the catalogue, one line per name, with its module and kind."""
    kinds = set(args.kind or [])
    width = max(len(e.name) for e in CATALOGUE)
    print(f"{'name':<{width}}  {'module':<10}  kind")
    for entry in CATALOGUE:
        if kinds and entry.kind not in kinds:
            continue
        print(f"{entry.name:<{width}}  {entry.module:<10}  {entry.kind}")
    return 0


def _cmd_version(args: argparse.Namespace) -> int:
    """Print versions without importing a framework that is not installed."""
    import numpy as np

    print(f"dlparity {__version__}")
    print(f"numpy {np.__version__}")
    for dist, module in (("torch", "torch"), ("tensorflow", "tensorflow")):
        if importlib.util.find_spec(module) is None:
            print(f"{dist} not installed")
        else:
            from importlib.metadata import PackageNotFoundError, version

            try:
                print(f"{dist} {version(dist)}")
            except PackageNotFoundError:
                print(f"{dist} {version(dist + '-cpu')}")
    return 0


def _cmd_gradcheck(args: argparse.Namespace) -> int:
    """Numerically gradient-check every reference backward on the registry's cases."""
    from dlparity.selfcheck import gradcheck_reference

    failures = gradcheck_reference(threshold=args.threshold, verbose=not args.quiet)
    return 1 if failures else 0


def _cmd_conventions(args: argparse.Namespace) -> int:
    """Run stock torch / Keras objects with their DEFAULT settings against the reference
    and print, per object, the relative error it produces (after 100 steps for optimizers)."""
    from dlparity.framework_defaults import format_table, measure

    results = measure(tuple(args.framework or ("torch", "tf")))
    if not results:
        print("neither torch nor tensorflow is installed: nothing to measure", file=sys.stderr)
        return 2
    print(format_table(results))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    """Check an implementation (a module or package name, a .py file or a directory)
    against the reference, one line per catalogue function it defines."""
    from dlparity.oracle import run_cli

    return run_cli(args)


def _cmd_export_vectors(args: argparse.Namespace) -> int:
    """Write the reference's inputs, upstream gradients, outputs and gradients for every
    registry case, per function and dtype, as .npy files with a JSON index."""
    from dlparity.oracle.vectors import run_cli

    return run_cli(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dlparity",
        description=(
            "dlparity: a framework-parity reference suite for deep learning. A NumPy "
            "reference with hand-written, gradient-checked backward passes, the same "
            "functions in PyTorch and TensorFlow, and the tests that hold them to it."
        ),
        epilog="Run 'dlparity <command> --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"dlparity {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)

    p = sub.add_parser("functions", help="list every SPEC.md catalogue name, its module and kind",
                       description=_cmd_functions.__doc__)
    p.add_argument("--kind", action="append",
                   help="only this kind (layer, loss, optimizer, ...); repeatable")
    p.set_defaults(func=_cmd_functions)

    p = sub.add_parser(
        "gradcheck",
        help="gradient-check the NumPy reference's backward passes in float64",
        description=_cmd_gradcheck.__doc__
        + " Prints one line per function and case with the relative error "
        "(grad_check_distance) against central differences; exit 1 if any exceeds the threshold.",
    )
    p.add_argument("--threshold", type=float, default=1e-7,
                   help="largest acceptable grad_check_distance (default 1e-7, the document's)")
    p.add_argument("-q", "--quiet", action="store_true", help="print failures only")
    p.set_defaults(func=_cmd_gradcheck)

    from dlparity.oracle.cli import add_check_arguments, add_export_arguments

    p = sub.add_parser(
        "check",
        help="check an implementation against the reference (exit 0 match, 1 mismatch, "
        "2 usage/import error)",
        description=_cmd_check.__doc__
        + " See docs/oracle.md.",
    )
    add_check_arguments(p)
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser(
        "export-vectors",
        help="write test vectors (.npy + index.json) for implementations in other languages",
        description=_cmd_export_vectors.__doc__ + " See docs/oracle.md.",
    )
    add_export_arguments(p)
    p.set_defaults(func=_cmd_export_vectors)

    p = sub.add_parser(
        "conventions",
        help="measure where torch / Keras DEFAULTS diverge from the formulas",
        description=_cmd_conventions.__doc__
        + " The table is the one docs/conventions.md quotes.",
    )
    p.add_argument("--framework", choices=("torch", "tf"), action="append",
                   help="only this framework (repeatable; default: every installed one)")
    p.set_defaults(func=_cmd_conventions)

    from dlparity import train as train_cmd
    from dlparity.benchmarks import cli as bench_cmd

    p = sub.add_parser("train", help="train a SPEC preset (MNIST / CIFAR-10 FC) with numpy, "
                       "torch or tf", description=train_cmd.DESCRIPTION)
    train_cmd.add_arguments(p)
    p.set_defaults(func=train_cmd.run)

    p = sub.add_parser("bench", help="time numpy / torch / tf on the FC models (markdown table, "
                       "JSON, PNG)", description=bench_cmd.DESCRIPTION)
    bench_cmd.add_arguments(p)
    p.set_defaults(func=bench_cmd.run)

    from dlparity.grade import cli as grade_cmd

    p = sub.add_parser("grade", help="check a whole class (gradebook CSV/JSON, HTML reports, "
                       "summary chart), or one Gradescope submission")
    grade_cmd.add_arguments(p)
    p.set_defaults(func=grade_cmd.run)

    from dlparity.port import cli as port_cmd

    p = sub.add_parser("port", help="convert a model and its optimizer state between PyTorch "
                       "(.pt), Keras (.keras) and the reference (.npz)")
    port_cmd.add_port_arguments(p)
    p.set_defaults(func=port_cmd.run_port)

    p = sub.add_parser("diff", help="compare two models layer by layer and over training; "
                       "--explain names the convention behind a difference")
    port_cmd.add_diff_arguments(p)
    p.set_defaults(func=port_cmd.run_diff)

    p = sub.add_parser("version", help="print versions of dlparity, NumPy, torch and TensorFlow",
                       description=_cmd_version.__doc__)
    p.set_defaults(func=_cmd_version)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Before any subcommand imports TensorFlow (its C++ logging level is read at import):
    # no framework log lines unless --verbose (dlparity check's own -v/--verbose counts).
    from dlparity import quiet

    quiet.configure(verbose="--verbose" in argv or "-v" in argv)
    parser = build_parser()
    parser.add_argument("--verbose", dest="framework_logs", action="store_true",
                        help="let TensorFlow's own log lines through (before the command: "
                             "dlparity --verbose train ...)")
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
