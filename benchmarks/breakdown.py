"""``dlparity bench --profile``: where the time of one training step goes.

For every training variant, the step time is split into five parts that add up to it.
Everything is measured in rounds (5 by default): each round runs every probe once (the
step itself, unprofiled; the products alone; the profiled or clocked steps; the boundary),
the order rotated each round, and every number is the median over the rounds, so a burst
of load on a shared machine moves one round, not the result:

==============  =========================================================================
part            how it is measured
==============  =========================================================================
gemm            the step's own matrix products (``flops.gemm_shapes``: exact shapes and
                layouts) timed ALONE in the variant's library, median: NumPy
                ``np.matmul``, torch ``torch.mm``, TF one function of all the products
                (eager / tf.function / XLA as the variant). Every variant computes the
                same products: none computes the unneeded dX of the input batch.
elementwise     in the step: torch.profiler (``profile_torch.py``), tf.profiler
                (``profile_tf.py``), numpy.fast's own section clocks. NumPy reference:
                the same calls (bias adds, ReLU, softmax loss, gradient sums, L2) timed
                alone with the step's shapes.
optimizer       in the step likewise (Adam); the NumPy reference: its ``adam`` on every
                parameter, alone.
conversion      the Trainer's boundary alone: batch to tensors (a copy), loss to a float;
                NumPy: the input checks.
overhead        step time minus the four above: the framework's own work (Python,
                dispatch, autograd engine, executor), allocation, and GEMMs running
                slower in the step than alone (colder caches): ``gemm_in_step_ms``,
                where a profiler sees it, says how much.
==============  =========================================================================

When the parts measured apart add up to more than the step (a fused, compiled step can
beat its pieces run alone), all four are scaled down together to the step time and the
excess is reported as ``clipped_ms`` (``measured_ms`` keeps the medians as measured). The
result: ``breakdown(variant)``; the table:
``breakdown_table``; the stacked bars: ``write_breakdown_png``.
"""

from __future__ import annotations

import copy
import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import flops
from .peaks import device_sync, product_calls
from .runner import IMPLS, Variant, make_trainer

__all__ = ["PARTS", "assemble", "breakdown", "breakdown_table", "write_breakdown_png"]

PARTS = ("gemm", "elementwise", "optimizer", "conversion", "overhead")
COLOURS = {"gemm": "#4c72b0", "elementwise": "#dd8452", "optimizer": "#55a868",
           "conversion": "#c44e52", "overhead": "#8c8c8c"}


def assemble(step_ms: float, measured: Mapping[str, float]) -> dict[str, float]:
    """The five parts (``<part>_ms``) from the step time and the four measured parts:
    negative measurements become 0, overhead is what is left; if nothing is left the four
    are scaled to the step time and ``clipped_ms`` says by how much they exceeded it."""
    parts = {p: max(0.0, float(measured.get(p, 0.0))) for p in PARTS[:-1]}
    total = sum(parts.values())
    clipped = max(0.0, total - step_ms)
    if clipped > 0:
        parts = {p: v * step_ms / total for p, v in parts.items()}
    out = {f"{p}_ms": v for p, v in parts.items()}
    out["overhead_ms"] = max(0.0, step_ms - sum(parts.values()))
    out["clipped_ms"] = clipped
    return out


Probe = Callable[[], dict[str, float]]


def _per_call_ms(fn: Callable[[], Any], min_s: float = 0.01,
                 sync: Callable[[], Any] | None = None) -> float:
    """Milliseconds per call of ``fn``, looped for at least ``min_s`` (after one call)."""
    sync = sync or (lambda: None)
    fn()
    sync()
    calls, t0 = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        if calls & (calls - 1) == 0:  # 1, 2, 4, ...: look at the clock now and then
            sync()
            spent = time.perf_counter() - t0
            if spent >= min_s:
                return 1e3 * spent / calls


def _probe(part: str, fn: Callable[[], Any], sync: Callable[[], Any] | None = None) -> Probe:
    return lambda: {part: _per_call_ms(fn, sync=sync)}


def _step_probe(variant: Variant) -> Probe:
    est = variant.run(3) / 3
    k = max(1, math.ceil(0.08 / max(est, 1e-6)))
    return lambda: {"step": 1e3 * variant.run(k) / k}


def _steps_for(variant: Variant, seconds: float = 0.2) -> int:
    est = variant.run(2) / 2
    return max(2, min(50, math.ceil(seconds / max(est, 1e-6))))


def _set_of(calls: Sequence[Callable[[], Any]]) -> Callable[[], None]:
    def run_all() -> None:
        for call in calls:
            call()

    return run_all


# ----------------------------------------------------------------------- NumPy


def _reference_elementwise(trainer: Any, X: np.ndarray, y: np.ndarray) -> list[Callable]:
    """The reference step's element-wise calls with the step's shapes (``models.py``:
    affine bias add, ReLU forward/backward, softmax loss, db sums, L2 and its add)."""
    from dlparity.reference import layers, losses

    dims, n, reg, dtype = trainer.layer_dims, X.shape[0], trainer.reg, trainer.dtype
    params, L = trainer.model.params, len(trainer.layer_dims) - 1
    rng = np.random.default_rng(0)

    def act(width: int) -> np.ndarray:
        return rng.standard_normal((n, width)).astype(dtype)  # (N, width)

    calls: list[Callable] = []
    for i in range(1, L + 1):
        z, b = act(dims[i]), params[f"b{i}"]
        calls.append(lambda z=z, b=b: z + b)  # affine_forward: x @ w + b
        if i < L:
            calls.append(lambda z=z: layers.relu_forward(z))
    scores = act(dims[-1])
    calls.append(lambda: losses.softmax_loss(scores, y))
    for i in range(L, 0, -1):
        dz = act(dims[i])
        calls.append(lambda dz=dz: dz.sum(axis=0))  # affine_backward: db
        if i >= 2:
            dh, z = act(dims[i - 1]), act(dims[i - 1])
            calls.append(lambda dh=dh, z=z: layers.relu_backward(dh, z))
    for i in range(1, L + 1):
        w = params[f"W{i}"]
        calls.append(lambda w=w: losses.l2_regularization(w, reg))
        calls.append(lambda w=w: w + w)  # grads[W] + reg * W
    return calls


def _numpy_probes(variant: Variant) -> tuple[list[Probe], dict[str, Any]]:
    trainer, case = variant.trainer, variant.case
    X, y = variant.batches[0]
    reference = variant.impl == "numpy"
    shapes = flops.gemm_shapes(case.layer_dims, case.batch, "train")
    probes = [_probe("gemm", _set_of(product_calls(shapes, "numpy", dtype=X.dtype))),
              _probe("conversion", lambda: (
                  trainer._check_inputs("Trainer.step", X),
                  trainer._check_targets("Trainer.step", y, X.shape[0])))]
    extra: dict[str, Any] = {"gemm_products": len(shapes)}
    if reference:
        configs = copy.deepcopy(trainer.configs)
        grads = {k: np.ones_like(w) for k, w in trainer.model.params.items()}
        params = trainer.model.params
        probes += [_probe("elementwise", _set_of(_reference_elementwise(trainer, X, y))),
                   _probe("optimizer", lambda: [trainer.rule(w, grads[k], configs[k])
                                                for k, w in params.items()])]
        return probes, extra
    steps = _steps_for(variant)

    def sections() -> dict[str, float]:
        trainer.sections = {}
        try:
            variant.run(steps)
            seen = {k: 1e3 * v / steps for k, v in trainer.sections.items()}
        finally:
            trainer.sections = None
        return {"elementwise": seen.get("elementwise", 0.0),
                "optimizer": seen.get("optimizer", 0.0), "gemm_in_step": seen.get("gemm", 0.0)}

    return probes + [sections], extra


# ----------------------------------------------------------------- frameworks


def _torch_probes(variant: Variant) -> tuple[list[Probe], dict[str, Any]]:
    from . import profile_torch

    case, device = variant.case, variant.device
    X, y = variant.batches[0]
    shapes = flops.gemm_shapes(case.layer_dims, case.batch, "train")
    steps = _steps_for(variant)

    def profiled() -> dict[str, float]:
        seen = profile_torch.profile_steps(lambda: variant.run(1), steps, device)
        return {"elementwise": seen["elementwise"], "optimizer": seen["optimizer"],
                "gemm_in_step": seen["gemm"]}

    gemms = _set_of(product_calls(shapes, "torch", device, dtype=X.dtype))
    return [_probe("gemm", gemms, device_sync("torch", device)),
            _probe("conversion", profile_torch.conversion_call(X, y, device)),
            profiled], {"gemm_products": len(shapes)}


def _tf_gemms(shapes: Sequence[flops.Gemm], dtype: Any, device: str,
              mode: str | None) -> Callable[[], Any]:
    """All the step's products in one call, run as the variant runs (eager, tf.function,
    XLA), each after the previous one (TF's executor would otherwise run independent
    products at the same time on its caller and inter-op threads)."""
    import tensorflow as tf

    from dlparity.tf_impl import _convert

    rng = np.random.default_rng(0)
    operands = []
    with _convert.device(device):
        for g in shapes:
            a = rng.standard_normal((g.k, g.m) if g.layout[0] == "t" else (g.m, g.k))
            b = rng.standard_normal((g.n, g.k) if g.layout[1] == "t" else (g.k, g.n))
            operands.append((_convert.to_tensor(a, dtype), _convert.to_tensor(b, dtype),
                             g.layout[0] == "t", g.layout[1] == "t"))

    def products() -> list:
        out: list = []
        for a, b, ta, tb in operands:  # one after the other, as in the step's chain
            with tf.control_dependencies(out[-1:]):
                out.append(tf.linalg.matmul(a, b, transpose_a=ta, transpose_b=tb))
        return out

    if mode is not None:
        products = tf.function(products, jit_compile=mode == "xla")

    def call() -> Any:
        with _convert.device(device):
            return [t.numpy() for t in products()[-1:]]  # wait for the last one

    return call


def _tf_probes(variant: Variant) -> tuple[list[Probe], dict[str, Any]]:
    from . import profile_tf

    case, device = variant.case, variant.device
    X, y = variant.batches[0]
    mode = {"tf.eager": None, "tf.function": "tf.function", "tf.xla": "xla"}[variant.impl]
    shapes = flops.gemm_shapes(case.layer_dims, case.batch, "train")
    trainer = profile_tf.instrument(make_trainer(variant.impl, case, device, X.dtype))
    for _ in range(3):  # trace / compile outside the profile
        trainer.step(X, y)
    steps = _steps_for(variant)

    def profiled() -> dict[str, float]:
        seen = profile_tf.profile_steps(trainer, (X, y), steps, device)
        return {"elementwise": seen["elementwise"], "optimizer": seen["optimizer"],
                "gemm_in_step": seen["gemm"]}

    return [_probe("gemm", _tf_gemms(shapes, X.dtype, device, mode)),
            _probe("conversion", profile_tf.conversion_call(X, y, device)),
            profiled], {"gemm_products": len(shapes)}


_PROBES = {"numpy": _numpy_probes, "torch": _torch_probes, "tf": _tf_probes}


def breakdown(variant: Variant, *, rounds: int = 5) -> dict[str, Any]:
    """One training step of ``variant`` (measured, any device) split into ``PARTS``.

    ``rounds`` rounds, each running every probe once (the step itself, the products
    alone, the profiled steps, the boundary, ...; the order rotated each round); every
    number is the median over rounds, so a burst of load on a shared machine moves one
    round, not the result."""
    if variant.phase != "train":
        raise ValueError(f"breakdown: the training step only; received phase "
                         f"{variant.phase!r}")
    probes, extra = _PROBES[variant.framework](variant)
    probes = [_step_probe(variant), *probes]
    samples: dict[str, list[float]] = {}
    for r in range(rounds):
        shift = r % len(probes)
        for probe in probes[shift:] + probes[:shift]:
            for key, ms in probe().items():
                samples.setdefault(key, []).append(ms)
    med = {k: statistics.median(v) for k, v in samples.items()}
    step = med.pop("step")
    if "gemm_in_step" in med:
        extra["gemm_in_step_ms"] = med.pop("gemm_in_step")
    return {"impl": variant.impl, "model": variant.case.model, "batch": variant.case.batch,
            "device": variant.device, "step_ms": step, **assemble(step, med), **extra,
            "measured_ms": med, "rounds": rounds}


# ---------------------------------------------------------------- table and chart


def _order(b: Mapping[str, Any]) -> tuple:
    return (b["model"] != "mnist", b["batch"], b["device"], IMPLS.index(b["impl"]))


def breakdown_table(rows: Sequence[Mapping[str, Any]],
                    results: Sequence[Mapping[str, Any]] = ()) -> str:
    """The breakdowns as a markdown table (ms per step and % of the step per part), with
    the per-shape GEMM limit fraction of the matching ``results`` row where there is one."""
    limit = {(r["impl"], r["model"], r["batch"], r["device"]): r.get("limit_fraction")
             for r in results if r["phase"] == "train"}
    lines = ["| model | batch | device | impl | step (ms) | GEMM alone | element-wise | "
             "optimizer | conversion | overhead | GEMM in step | % of limit |",
             "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for b in sorted(rows, key=_order):
        cells = [f"{b[f'{p}_ms']:.2f} ({100 * b[f'{p}_ms'] / b['step_ms']:.0f}%)"
                 for p in PARTS]
        in_step = b.get("gemm_in_step_ms")
        frac = limit.get((b["impl"], b["model"], b["batch"], b["device"]))
        lines.append(f"| {b['model']} | {b['batch']} | {b['device']} | {b['impl']} "
                     f"| {b['step_ms']:.2f} | " + " | ".join(cells)
                     + f" | {'-' if in_step is None else f'{in_step:.2f}'} "
                     f"| {'-' if frac is None else f'{100 * frac:.1f}'} |")
    return "\n".join(lines) + "\n"


def write_breakdown_png(rows: Sequence[Mapping[str, Any]], path: str | Path,
                        title: str = "") -> None:
    """Stacked horizontal bars, one per variant, one panel per case: the five parts."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise RuntimeError("the breakdown chart needs matplotlib "
                           "(pip install 'dlparity[bench]')") from err
    panels: dict[tuple, list[Mapping[str, Any]]] = {}
    for b in sorted(rows, key=_order):
        panels.setdefault((b["model"], b["batch"], b["device"]), []).append(b)
    if not panels:
        raise ValueError("write_breakdown_png: no breakdowns")
    fig = Figure(figsize=(7.5, 0.8 + sum(0.35 * len(v) + 0.6 for v in panels.values())),
                 layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, squeeze=False).ravel()
    for ax, ((model, batch, device), bars) in zip(axes, panels.items(), strict=True):
        ypos = list(range(len(bars)))
        left = [0.0] * len(bars)
        for p in PARTS:
            widths = [b[f"{p}_ms"] for b in bars]
            ax.barh(ypos, widths, left=left, color=COLOURS[p], label=p)
            left = [a + w for a, w in zip(left, widths, strict=True)]
        ax.set_yticks(ypos, [b["impl"] for b in bars], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"{model} FC, batch {batch}, training step ({device})", fontsize=9)
        ax.set_xlabel("ms per step", fontsize=8)
    axes[0].legend(fontsize=7, ncols=5, loc="lower right")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.savefig(path, dpi=110)
