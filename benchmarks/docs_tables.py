"""The measured tables of docs/benchmarks.md and README.md, generated from the committed
JSON reports in ``benchmarks/results/`` (so a quoted number is always the report's):

- ``cpu.json``: ``dlparity bench --device cpu --profile --json ...`` (results, per-shape
  limits, breakdowns);
- ``attempts.json``: ``dlparity bench --attempts --json ...`` (each attempt's before/after,
  the batch sweep).

A generated block sits between ``<!-- bench-NAME:begin ... -->`` and
``<!-- bench-NAME:end -->`` (the markers of ``dlparity._docs``);
``render(text)`` rewrites every block of a page from the reports, and
``python -m dlparity.benchmarks.docs_tables`` rewrites docs/benchmarks.md and README.md
in place. ``tests/test_bench_docs.py`` checks both pages equal their rendering.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .breakdown import PARTS, breakdown_table
from .report import FRAMEWORK_IMPLS, markdown_table, targets

__all__ = ["BLOCKS", "attempts_table", "batches_table", "limits_table", "load_reports",
           "render"]

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]
PAGES = (ROOT / "docs" / "benchmarks.md", ROOT / "README.md")


def load_reports(folder: Path = RESULTS) -> dict[str, Any]:
    """The committed reports: {'cpu': ..., 'attempts': ...}."""
    return {name: json.loads((folder / f"{name}.json").read_text())
            for name in ("cpu", "attempts")}


def _machine_line(r: Mapping[str, Any]) -> str:
    m = r["machine"]
    load = m.get("loadavg_start"), m.get("loadavg")
    blas = "; ".join(m.get("kernels", {}).get("numpy_blas", []))
    torch = m.get("kernels", {}).get("torch", {})
    env = ", ".join(f"{k}={v}" for k, v in m.get("env", {}).items()) or "none set"
    applied = ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in m["threads_applied"].items())
    return (f"{m['cpu']}, ISA {m.get('cpu_isa')} (flags: {', '.join(m.get('cpu_flags', []))}); "
            f"{m['usable_cpus']} usable cores, shared with other jobs. {m['threads']} intra-op "
            f"thread per library, checked afterwards ({applied}). BLAS libraries in the "
            f"process (threadpoolctl): {blas}; torch CPU capability "
            f"{torch.get('cpu_capability')}. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE / OMP "
            f"variables: {env}. Denormals flushed to zero: "
            f"{'yes' if m.get('flush_denormal') else 'no'}. Load average (1, 5, 15 min): "
            f"{load[0]} at the start, {load[1]} at the end (about 1.0 of it is the run "
            f"itself).\n")


def limits_table(report: Mapping[str, Any], key: str = "mnist b1024 train cpu") -> str:
    """The products of one step, each timed alone: the per-shape limit in detail."""
    lim = report["limits"][key]
    lines = [f"Per-shape limit of `{key}`: {lim['flops']:,} GEMM FLOPs in "
             f"{lim['ms']['best']:.3f} ms = **{lim['gflops']['best']:.1f} GFLOP/s** "
             f"(NumPy alone {lim['gflops']['numpy']:.1f}, torch alone "
             f"{lim['gflops']['torch']:.1f}); square {report['gemm']['size']} GEMM peak "
             f"{report['gemm_peak_gflops']:.1f} GFLOP/s "
             f"({', '.join(f'{k} {v:.1f}' for k, v in report['gemm']['cpu'].items())}).",
             "",
             "| product | (m, k, n) | layout | NumPy (ms) | torch (ms) | best GFLOP/s |",
             "|---|---|---|---:|---:|---:|"]
    for p in lim["products"]:
        lines.append(f"| {p['label']} | ({p['m']}, {p['k']}, {p['n']}) | {p['layout']} "
                     f"| {p['numpy_ms']:.3f} | {p['torch_ms']:.3f} "
                     f"| {p['flops'] / p['best_ms'] / 1e6:.1f} |")
    return "\n".join(lines) + "\n"


def attempts_table(report: Mapping[str, Any]) -> str:
    """Each attempt: batch, before, after (median ms/step), speed-up and verdict."""
    lines = [f"MNIST FC training step, CPU, 1 thread, denormals flushed (but in the two "
             f"'denormals' rows); {report['rounds']} interleaved rounds per side; load "
             f"average {report['machine'].get('loadavg')} at the end.", "",
             "| group | attempt | batch | before | ms | after | ms | speed-up | verdict |",
             "|---|---|---:|---|---:|---|---:|---:|---|"]
    for a in report["attempts"]:
        head = f"| {a['group']} | {a['name']} | {a.get('batch', 1024)} |"
        if "error" in a:
            lines.append(f"{head} | | | | | could not run: {a['error'][:120]} |")
            continue
        lines.append(f"{head} {a['before']} | {a['before_ms']:.2f} | {a['after']} "
                     f"| {a['after_ms']:.2f} | {a['speedup']:.2f}x | {a['verdict']} |")
    return "\n".join(lines) + "\n"


def batches_table(report: Mapping[str, Any]) -> str:
    """The batch sweep: ms/step, samples/s and % of each batch's per-shape limit."""
    lines = ["| batch | impl | ms/step | samples/s | GFLOP/s | per-shape limit (GFLOP/s) "
             "| % of limit |", "|---:|---|---:|---:|---:|---:|---:|"]
    for r in report["batches"]:
        lines.append(f"| {r['batch']} | {r['impl']} | {r['ms_per_step']:.2f} "
                     f"| {r['samples_per_s']:,.0f} | {r['gflops']:.1f} "
                     f"| {r['limit_gflops']:.1f} | {100 * r['limit_fraction']:.1f} |")
    return "\n".join(lines) + "\n"


def _sorted_breakdowns(report: Mapping[str, Any], batch: int) -> list[Mapping[str, Any]]:
    from .runner import IMPLS

    rows = [b for b in report["breakdown"] if (b["model"], b["batch"]) == ("mnist", batch)]
    return sorted(rows, key=lambda b: IMPLS.index(b["impl"]))


def _breakdown_of(report: Mapping[str, Any], impl: str, batch: int = 1024) -> Mapping[str, Any]:
    [b] = [b for b in report["breakdown"]
           if (b["impl"], b["model"], b["batch"]) == (impl, "mnist", batch)]
    return b


def readme_lines(reports: Mapping[str, Any]) -> str:
    """The few numbers the README quotes, from the CPU report."""
    r = reports["cpu"]
    t = targets(r)
    m = r["machine"]
    impl, frac = t["best_cpu_limit_fraction_mnist1024_train"]
    b = _breakdown_of(r, impl)
    parts = ", ".join(f"{p} {b[f'{p}_ms']:.2f}" for p in PARTS)
    if b["clipped_ms"] > 0:
        parts += (f" (the parts measured apart exceeded the step by {b['clipped_ms']:.2f} ms "
                  f"and were scaled to it)")
    ratios = {(o["model"], o["batch"], o["phase"]): o for o in t["numpy_vs_fastest_framework"]}
    worst = max(ratios.values(), key=lambda o: o["numpy"])
    worst_fast = max(ratios.values(), key=lambda o: o.get("numpy.fast", 0.0))
    return (
        f"- Machine: {m['cpu']} ({m.get('cpu_isa')}), 1 thread per library, float32 GEMM "
        f"peak {r['gemm_peak_gflops']:.1f} GFLOP/s; load average {m.get('loadavg')[0]:.2f}.\n"
        f"- MNIST batch 1024 training: the fastest variant, {impl}, reaches "
        f"{100 * frac:.1f} % of the per-shape GEMM limit; its step ({b['step_ms']:.2f} ms in "
        f"the breakdown's own measurement) is, in ms: {parts}.\n"
        f"- The NumPy reference is at most {worst['numpy']:.2f}x the fastest framework "
        f"({worst['model']} batch {worst['batch']} {worst['phase']}: it allocates and "
        f"validates in every call); the fast NumPy step `numpy.fast` at most "
        f"{worst_fast['numpy.fast']:.2f}x.\n")


def _result(report: Mapping[str, Any], impl: str, model: str, batch: int,
            phase: str = "train") -> Mapping[str, Any]:
    [r] = [r for r in report["results"] if (r["impl"], r["model"], r["batch"], r["phase"],
                                            r["device"]) == (impl, model, batch, phase, "cpu")]
    return r


def findings_lines(reports: Mapping[str, Any]) -> str:
    """The numbers the page's reading of the tables rests on, computed from the reports."""
    r, att = reports["cpu"], reports["attempts"]
    impl, frac = targets(r)["best_cpu_limit_fraction_mnist1024_train"]
    lim = r["limits"]["mnist b1024 train cpu"]
    b = _breakdown_of(r, impl)
    ref, fast = _breakdown_of(r, "numpy"), _breakdown_of(r, "numpy.fast")
    tf, torch = _breakdown_of(r, "tf.function"), _breakdown_of(r, "torch")
    eager = _breakdown_of(r, "tf.eager")
    step = _result(r, impl, "mnist", 1024)["ms_per_step"]
    ratio = _result(r, "numpy", "mnist", 1024)["ms_per_step"] / min(
        x["ms_per_step"] for x in r["results"] if x["impl"] in FRAMEWORK_IMPLS
        and (x["model"], x["batch"], x["phase"]) == ("mnist", 1024, "train"))
    sweep = {x["batch"]: x for x in att["batches"] if x["impl"] == impl}
    return "".join([
        f"- **MNIST batch 1024, training**: the fastest variant is {impl}, {step:.2f} ms per "
        f"step, {100 * frac:.1f} % of the per-shape limit ({lim['gflops']['best']:.1f} "
        f"GFLOP/s; the square peak was {r['gemm_peak_gflops']:.1f}). At the limit its "
        f"products would take {lim['ms']['best']:.2f} ms; in its step they take "
        f"{b['gemm_in_step_ms']:.2f} ms (the section clocks), "
        f"{b['measured_ms']['gemm']:.2f} ms as a set alone (median). The rest of its step: "
        f"element-wise {b['elementwise_ms']:.2f} ms, Adam {b['optimizer_ms']:.2f} ms.\n",
        f"- **The NumPy reference** takes {ratio:.2f}x the fastest framework's time there. "
        f"Its products alone take {ref['measured_ms']['gemm']:.2f} ms against numpy.fast's "
        f"{fast['measured_ms']['gemm']:.2f} ms (the same 8 products: neither computes the "
        f"unneeded dX of the input batch); its element-wise calls "
        f"{ref['measured_ms']['elementwise']:.2f} ms against "
        f"{fast['measured_ms']['elementwise']:.2f} ms (new arrays, validation in every "
        f"call) and its Adam {ref['measured_ms']['optimizer']:.2f} ms against "
        f"{fast['measured_ms']['optimizer']:.2f} ms.\n",
        f"- **Conversion at the boundary**: {tf['measured_ms']['conversion']:.2f} ms per step "
        f"for TF ({100 * tf['conversion_ms'] / tf['step_ms']:.0f} % of tf.function's step), "
        f"{torch['measured_ms']['conversion']:.2f} ms for torch: both `_convert.to_tensor` "
        f"copy the (1024, 784) batch, and `tf.constant` copies it once more.\n",
        "- **Products in the step against the limit** (MNIST batch 1024, `GEMM in step` / "
        f"the limit's {lim['ms']['best']:.2f} ms): "
        + ", ".join(f"{x['impl']} {x['gemm_in_step_ms'] / lim['ms']['best']:.2f}x"
                    for x in _sorted_breakdowns(r, 1024) if "gemm_in_step_ms" in x) + ".\n",
        f"- **TF eager**: {eager['overhead_ms']:.2f} of its {eager['step_ms']:.2f} ms are "
        f"framework overhead (op-by-op dispatch), at batch 1024.\n",
        "- **Batch size** (" + impl + ", % of each batch's per-shape limit): "
        + ", ".join(f"{k}: {100 * v['limit_fraction']:.1f} %" for k, v in sorted(sweep.items()))
        + ".\n",
    ])


#: name -> (report, text) for every generated block.
BLOCKS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "machine": lambda rs: _machine_line(rs["cpu"]),
    "results": lambda rs: markdown_table(rs["cpu"]),
    "limits": lambda rs: limits_table(rs["cpu"]),
    "limits-b100": lambda rs: limits_table(rs["cpu"], "mnist b100 train cpu"),
    "breakdown": lambda rs: breakdown_table(rs["cpu"]["breakdown"], rs["cpu"]["results"]),
    "attempts": lambda rs: attempts_table(rs["attempts"]),
    "batches": lambda rs: batches_table(rs["attempts"]),
    "readme": readme_lines,
    "findings": findings_lines,
}

_BLOCK = re.compile(r"(<!-- bench-([\w-]+):begin[^\n]*-->\n)(.*?)(<!-- bench-\2:end -->)", re.S)


def render(text: str, reports: Mapping[str, Any] | None = None) -> str:
    """``text`` with every generated block rewritten from ``reports`` (default: the
    committed ones)."""
    reports = reports if reports is not None else load_reports()
    return _BLOCK.sub(lambda m: m.group(1) + BLOCKS[m.group(2)](reports) + m.group(4), text)


def main() -> int:
    """Rewrite the generated blocks of docs/benchmarks.md and README.md."""
    reports = load_reports()
    for page in PAGES:
        text = page.read_text()
        new = render(text, reports)
        if new != text:
            page.write_text(new)
            print(f"updated {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
