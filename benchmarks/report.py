"""The benchmark report: its JSON schema, the markdown table and the PNG bar chart.

The JSON written by ``dlparity bench --json PATH``::

    {"machine": {"versions": {...}, "cpu": str, "threads": int, "thread_settings": {...},
                 "device": {"cpu": str, "cuda": str | null}, ...},
     "gemm_peak_gflops": float,                 # CPU float32 GEMM peak of this run
     "results": [{"impl", "model", "batch", "phase", "device", "ms_per_step", "gflops",
                  "peak_fraction", "data",      # the fields every result has, then
                  "limit_gflops", "limit_fraction",   # unless --no-limit
                  "ms_q1", "ms_q3", "ms_min", "ms_max", "samples_per_s", "compile_s",
                  "flops_per_step", "steps_per_round", "rounds", "preset"}],
     "gemm": {...}, "limits": {"<model> b<batch> <phase> <device>": shape_limit(...)},
     "breakdown": [...],                         # with --profile (breakdown.py)
     "settings": {...}, "data": {...}, "skipped": [...], "targets": {...}}

``machine`` also has ``cpu_isa``, ``cpu_flags``, ``kernels``, ``threads_applied``, ``env``,
``loadavg_start`` and ``loadavg`` (at the end). ``impl`` is one of numpy, numpy.fast, torch,
torch.compile, torch.cudagraph, tf.eager, tf.function, tf.xla; ``phase`` train or infer;
``ms_per_step`` the median; ``peak_fraction`` is gflops / the square GEMM peak of the
result's device, ``limit_fraction`` gflops / the per-shape limit of its step
(``peaks.shape_limit``), both in [0, 1].
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .runner import DEVICES, IMPLS, PHASES

__all__ = ["FRAMEWORK_IMPLS", "RESULT_FIELDS", "check_report", "chart_title", "markdown_table",
           "targets", "write_json", "write_png"]

#: The fields of every result, in order (the issue's schema).
RESULT_FIELDS = ("impl", "model", "batch", "phase", "device", "ms_per_step", "gflops",
                 "peak_fraction", "data")
#: The framework variants the NumPy ones are compared with ("x the fastest framework").
FRAMEWORK_IMPLS = ("torch", "torch.compile", "torch.cudagraph", "tf.eager", "tf.function",
                   "tf.xla")


def check_report(report: Mapping[str, Any]) -> None:
    """ValueError listing every way ``report`` departs from the schema above."""
    problems = []
    for key, kind in (("machine", dict), ("gemm_peak_gflops", float), ("results", list)):
        if not isinstance(report.get(key), kind):
            problems.append(f"{key} must be a {kind.__name__}; received "
                            f"{type(report.get(key)).__name__}")
    machine = report.get("machine") or {}
    for key in ("versions", "cpu", "threads", "device"):
        if key not in machine:
            problems.append(f"machine has no {key!r}")
    for i, r in enumerate(report.get("results") or []):
        missing = [k for k in RESULT_FIELDS if k not in r]
        if missing:
            problems.append(f"results[{i}] lacks {missing}")
            continue
        if r["impl"] not in IMPLS:
            problems.append(f"results[{i}].impl {r['impl']!r} is not one of {IMPLS}")
        if r["phase"] not in PHASES or r["device"] not in DEVICES:
            problems.append(f"results[{i}] has phase {r['phase']!r}, device {r['device']!r}")
        if not isinstance(r["batch"], int) or r["batch"] < 1:
            problems.append(f"results[{i}].batch must be a positive int")
        for k in ("ms_per_step", "gflops"):
            if not (isinstance(r[k], float) and math.isfinite(r[k]) and r[k] > 0):
                problems.append(f"results[{i}].{k} must be a positive finite float; "
                                f"received {r[k]!r}")
        for k in ("peak_fraction", "limit_fraction"):
            if k in r and not (isinstance(r[k], float) and 0.0 <= r[k] <= 1.0):
                problems.append(f"results[{i}].{k} must be in [0, 1]; received {r[k]!r}")
    if problems:
        raise ValueError("benchmark report: " + "; ".join(problems))


def write_json(report: Mapping[str, Any], path: str | Path) -> None:
    """The report as indented JSON (checked against the schema first)."""
    check_report(report)
    Path(path).write_text(json.dumps(report, indent=1, default=_jsonable) + "\n")


def _jsonable(x: Any) -> Any:
    try:
        return float(x)
    except (TypeError, ValueError):
        return str(x)


def _order(r: Mapping[str, Any]) -> tuple:
    models = {"mnist": 0, "cifar10": 1}
    return (models.get(r["model"], 9), r["batch"], PHASES.index(r["phase"]),
            DEVICES.index(r["device"]), IMPLS.index(r["impl"]))


def _groups(results: list[Mapping[str, Any]]) -> dict[tuple, list[Mapping[str, Any]]]:
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for r in sorted(results, key=_order):
        groups.setdefault((r["model"], r["batch"], r["phase"], r["device"]), []).append(r)
    return groups


def targets(report: Mapping[str, Any]) -> dict[str, Any]:
    """The speed targets, from the results that exist (None where not measured):

    - numpy_vs_torch_mnist100_train: numpy ms/step / torch eager ms/step (target <= 1.5);
    - best_cpu_peak_fraction_mnist1024_train: (impl, fraction of the square peak) of the
      fastest CPU variant (target >= 0.5);
    - best_cpu_limit_fraction_mnist1024_train: (impl, fraction of the per-shape limit) of
      the fastest CPU variant (target >= 0.6);
    - numpy_vs_fastest_framework: per case, phase and device, the NumPy reference's and
      numpy.fast's time over the fastest framework variant's (target <= 1.3);
    - tf_eager_overhead: per case and phase, tf.eager ms/step, tf.function ms/step, ratio.
    """
    by = {(r["impl"], r["model"], r["batch"], r["phase"], r["device"]): r
          for r in report["results"]}
    out: dict[str, Any] = {}
    np_r, torch_r = (by.get((i, "mnist", 100, "train", "cpu")) for i in ("numpy", "torch"))
    out["numpy_vs_torch_mnist100_train"] = (
        np_r["ms_per_step"] / torch_r["ms_per_step"] if np_r and torch_r else None)
    big = [r for r in report["results"] if (r["model"], r["batch"], r["phase"], r["device"])
           == ("mnist", 1024, "train", "cpu")]
    best = min(big, key=lambda r: r["ms_per_step"], default=None)
    out["best_cpu_peak_fraction_mnist1024_train"] = (
        (best["impl"], best["peak_fraction"]) if best else None)
    out["best_cpu_limit_fraction_mnist1024_train"] = (
        (best["impl"], best["limit_fraction"]) if best and "limit_fraction" in best else None)
    out["numpy_vs_fastest_framework"] = _numpy_vs_frameworks(report["results"])
    overhead = []
    for (model, batch, phase, device), rows in _groups(report["results"]).items():
        ms = {r["impl"]: r["ms_per_step"] for r in rows}
        if "tf.eager" in ms and "tf.function" in ms:
            overhead.append({"model": model, "batch": batch, "phase": phase, "device": device,
                             "tf.eager_ms": ms["tf.eager"], "tf.function_ms": ms["tf.function"],
                             "ratio": ms["tf.eager"] / ms["tf.function"]})
    out["tf_eager_overhead"] = overhead
    return out


def _numpy_vs_frameworks(results: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for (model, batch, phase, device), rows in _groups(results).items():
        frameworks = [r for r in rows if r["impl"] in FRAMEWORK_IMPLS]
        if not frameworks:
            continue
        fastest = min(frameworks, key=lambda r: r["ms_per_step"])
        row = {"model": model, "batch": batch, "phase": phase, "device": device,
               "fastest": fastest["impl"], "fastest_ms": fastest["ms_per_step"]}
        for r in rows:
            if r["impl"] in ("numpy", "numpy.fast"):
                row[r["impl"]] = r["ms_per_step"] / fastest["ms_per_step"]
        if len(row) > 6:
            out.append(row)
    return out


def _header(report: Mapping[str, Any]) -> list[str]:
    m = report["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items())
    load = m.get("loadavg")
    return [
        f"Machine: {m.get('cpu')}" + (f" ({m['cpu_isa']})" if m.get("cpu_isa") else "")
        + f", {m.get('threads')} thread(s) per library; {versions}."
        + (f" Load average {load[0]:.2f} (1 min) at the end." if load else ""),
        f"GEMM peak (float32, same run, same threads): {report['gemm_peak_gflops']:.1f} GFLOP/s"
        + "".join(f"; cuda {v:.1f}" for k, v in (report.get("gemm") or {}).items()
                  if k == "cuda_peak_gflops" and v),
        "",
    ]


def _row(r: Mapping[str, Any], fastest: float) -> str:
    limit = r.get("limit_fraction")
    return (f"| {r['model']} | {r['batch']} | {r['phase']} | {r['device']} | {r['impl']} "
            f"| {r['ms_per_step']:.3f} | {_get(r, 'ms_q1'):.3f}-{_get(r, 'ms_q3'):.3f} "
            f"| {_get(r, 'ms_min'):.3f}-{_get(r, 'ms_max'):.3f} "
            f"| {_get(r, 'samples_per_s'):,.0f} | {r['gflops']:.2f} "
            f"| {100 * r['peak_fraction']:.1f} | {'-' if limit is None else f'{100 * limit:.1f}'} "
            f"| {r['ms_per_step'] / fastest:.2f} | {_get(r, 'compile_s'):.2f} | {r['data']} |")


def _target_lines(t: Mapping[str, Any]) -> list[str]:
    lines = []
    ratio = t["numpy_vs_torch_mnist100_train"]
    if ratio is not None:
        lines.append(f"- NumPy reference vs torch eager, MNIST batch 100 train: {ratio:.2f}x "
                     f"the time ({'meets' if ratio <= 1.5 else 'misses'} the 1.5x target).")
    best = t["best_cpu_peak_fraction_mnist1024_train"]
    if best is not None:
        lines.append(f"- Fastest CPU variant, MNIST batch 1024 train: {best[0]} at "
                     f"{100 * best[1]:.1f}% of the GEMM peak "
                     f"({'meets' if best[1] >= 0.5 else 'misses'} the 50% target).")
    best = t.get("best_cpu_limit_fraction_mnist1024_train")
    if best is not None:
        lines.append(f"- Fastest CPU variant, MNIST batch 1024 train: {best[0]} at "
                     f"{100 * best[1]:.1f}% of the per-shape GEMM limit "
                     f"({'meets' if best[1] >= 0.6 else 'misses'} the 60% target).")
    for o in t.get("numpy_vs_fastest_framework", []):
        ratios = "; ".join(f"{impl} {o[impl]:.2f}x ({'meets' if o[impl] <= 1.3 else 'misses'})"
                           for impl in ("numpy", "numpy.fast") if impl in o)
        lines.append(f"- NumPy vs the fastest framework ({o['fastest']}, "
                     f"{o['fastest_ms']:.2f} ms), {o['model']} batch {o['batch']} {o['phase']} "
                     f"({o['device']}): {ratios} the 1.3x target.")
    for o in t["tf_eager_overhead"]:
        lines.append(f"- tf.eager vs tf.function, {o['model']} batch {o['batch']} "
                     f"{o['phase']} ({o['device']}): {o['tf.eager_ms']:.2f} vs "
                     f"{o['tf.function_ms']:.2f} ms/step ({o['ratio']:.1f}x; "
                     f"{o['tf.eager_ms'] - o['tf.function_ms']:+.2f} ms of per-op overhead).")
    return lines


def markdown_table(report: Mapping[str, Any]) -> str:
    """The results as a markdown table, grouped by model, batch, phase and device, with
    the machine line above it, the speed targets and the skipped variants below it."""
    lines = _header(report) + [
        "| model | batch | phase | device | impl | ms/step (median) | IQR (ms) | min-max (ms) "
        "| samples/s | GFLOP/s | % of peak | % of limit | x fastest | first call (s) | data |",
        "|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for (_model, _batch, _phase, _device), rows in _groups(report["results"]).items():
        fastest = min(r["ms_per_step"] for r in rows)
        lines += [_row(r, fastest) for r in rows]
    lines += [""] + _target_lines(targets(report))
    if any(r["data"].startswith("synthetic") for r in report["results"]):
        lines.append("- Rows whose data starts with 'synthetic' ran on random data of the "
                     "right shape (speed only; no built-in real data for that model).")
    for s in report.get("skipped", []):
        lines.append(f"- skipped: {s['impl']} on {s['device']}: {s['reason']}")
    return "\n".join(lines) + "\n"


def chart_title(report: Mapping[str, Any]) -> str:
    """The charts' title line: machine, threads, peak."""
    m = report["machine"]
    return (f"dlparity bench: {m.get('cpu')}, {m.get('threads')} thread(s); float32 "
            f"GEMM peak {report['gemm_peak_gflops']:.1f} GFLOP/s")


def _get(r: Mapping[str, Any], key: str) -> float:
    value = r.get(key)
    return math.nan if value is None else float(value)


def write_png(report: Mapping[str, Any], path: str | Path) -> None:
    """A bar chart: one panel per (model, batch, phase), one bar per implementation and
    device, ms/step (median, whiskers at the quartiles), labelled with % of peak."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise RuntimeError("the PNG needs matplotlib (pip install 'dlparity[bench]')") from None
    panels: dict[tuple, list[Mapping[str, Any]]] = {}
    for (model, batch, phase, _device), rows in _groups(report["results"]).items():
        panels.setdefault((model, batch, phase), []).extend(rows)
    if not panels:
        raise ValueError("write_png: the report has no results")
    cols = 2 if len(panels) > 1 else 1
    nrows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(6.5 * cols, 0.5 + 2.6 * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, cols, squeeze=False).ravel()
    colours = {"numpy": "#4c72b0", "numpy.fast": "#64b5cd", "torch": "#dd8452",
               "torch.compile": "#c44e52", "torch.cudagraph": "#8c564b", "tf.eager": "#55a868",
               "tf.function": "#2ca02c", "tf.xla": "#17becf"}
    for ax, ((model, batch, phase), rows) in zip(axes, panels.items(), strict=False):
        labels = [r["impl"] + ("" if r["device"] == "cpu" else f" ({r['device']})")
                  for r in rows]
        ms = [r["ms_per_step"] for r in rows]
        err = [[max(0.0, r["ms_per_step"] - _get(r, "ms_q1")) for r in rows],
               [max(0.0, _get(r, "ms_q3") - r["ms_per_step"]) for r in rows]]
        ypos = list(range(len(rows)))
        ax.barh(ypos, ms, xerr=err, color=[colours.get(r["impl"], "grey") for r in rows],
                capsize=2)
        for y, r in zip(ypos, rows, strict=True):
            limit = r.get("limit_fraction")
            ax.text(max(r["ms_per_step"], _get(r, "ms_q3")), y,
                    f"  {100 * r['peak_fraction']:.0f}% peak"
                    + ("" if limit is None else f", {100 * limit:.0f}% limit"),
                    va="center", fontsize=7)
        ax.set_yticks(ypos, labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("ms per step (median; whiskers: quartiles)", fontsize=8)
        ax.set_xlim(0, max(max(ms), *(_get(r, "ms_q3") for r in rows)) * 1.6)
        ax.set_title(f"{model} FC, batch {batch}, {phase}", fontsize=9)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(chart_title(report), fontsize=9)
    fig.savefig(path, dpi=110)
