"""``dlparity bench --attempts``: what a user would try to close the gap to the limit, each
tried and measured on its own (MNIST FC training step, batch 1024 unless a row says 100,
CPU, one thread).

Every attempt is a *before* and an *after* that differ by one change:

- **NumPy** (``numpy.fast``, ``fast_numpy.py``): preallocated ``out=`` buffers and in-place
  element-wise ops; the fused in-place Adam on one flat vector; dropping the unneeded dX;
  each at batch 1024 and at batch 100 (where the optimizer and element-wise work weigh
  more).
- **torch**: torch.compile (default mode) over eager; ``mode='max-autotune-no-cudagraphs'``
  over the default mode; ``torch.optim.Adam(fused=True)``; oneDNN off
  (``torch.backends.mkldnn``); float32 matmuls in bf16 on oneDNN/AMX (changes results:
  never kept).
- **TensorFlow / XLA flags** (set before TF starts, so each side runs in its own process,
  the two alternated): ``TF_ENABLE_ONEDNN_OPTS=0``; ``XLA_FLAGS`` ``--xla_cpu_use_onednn``,
  ``--xla_cpu_prefer_vector_width=512``, ``--xla_cpu_use_xnnpack``.
- **OpenBLAS kernels** for numpy.fast: ``OPENBLAS_CORETYPE`` Haswell (AVX2) and
  SapphireRapids against the automatic choice (the child process reports the kernel
  threadpoolctl sees).
- **Denormals**: flushing them to zero (FTZ/DAZ, ``torch.set_flush_denormal``) once the
  model has memorised its batches (1,500 steps first), for numpy.fast and torch eager:
  what ``dlparity bench`` does by default, measured (every other attempt runs flushed).
- **Batch size**: numpy.fast, torch and tf.function at 256 ... 4096, against each batch's
  per-shape limit.

In-process pairs are measured interleaved (``runner.measure``: rounds, order rotated);
the median ms/step of each side is reported with the speed-up and whether the change is
kept. The result is a JSON report (``dlparity bench --attempts --json PATH``) that
docs/benchmarks.md's tables are generated from (``docs_tables.py``).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import flops, runner
from .machine import flush_denormals, loadavg, machine_info, pin_threads
from .peaks import shape_limit

__all__ = ["ATTEMPTS", "BATCHES", "run_attempts", "verdict"]

Step = Callable[[np.ndarray, np.ndarray], Any]
BATCHES = (256, 512, 1024, 2048, 4096)
BATCH_IMPLS = ("numpy.fast", "torch", "tf.function")


@dataclass(frozen=True)
class Attempt:
    """One change tried: ``before`` and ``after`` are step builders (case -> step) run in
    this process, or ``env`` (the variables the after side sets) for ``impl`` run in
    child processes. ``owner``: 'numpy.fast' (the project's code: kept if it helps),
    'setting' (a user's switch: recommended if it helps) or 'numerics' (changes float32
    results: never kept)."""

    name: str
    group: str
    before_label: str
    after_label: str
    owner: str
    before: Callable[[runner.Case], Step] | None = None
    after: Callable[[runner.Case], Step] | None = None
    impl: str = ""
    env: dict[str, str] = field(default_factory=dict)
    batch: int = 1024


# ------------------------------------------------------------------ step builders


def _trainer_step(impl: str, **switches: Any) -> Callable[[runner.Case], Step]:
    def build(case: runner.Case) -> Step:
        trainer = runner.make_trainer(impl, case)
        for k, v in switches.items():
            setattr(trainer, k, v)
        return trainer.step

    return build


def _torch_step(mode: str | None = "default", fused_adam: bool = False
                ) -> Callable[[runner.Case], Step]:
    """A torch step like ``Trainer.step`` (same boundary, module, loss and Adam settings)
    with a torch.compile ``mode`` (None: eager) and optionally ``Adam(fused=True)``."""

    def build(case: runner.Case) -> Step:
        import torch

        from dlparity.torch_impl import _convert

        trainer = runner.make_trainer("torch", case)
        module, cfg, opt = trainer.module, trainer.optim_config, trainer.optimizer
        if fused_adam:
            opt = torch.optim.Adam(module.parameters(), lr=cfg["learning_rate"],
                                   betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["epsilon"],
                                   fused=True)

        def step(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            opt.zero_grad()
            loss = module.training_loss(module(X), y, case.reg)
            loss.backward()
            opt.step()
            return loss.detach()

        compiled = step if mode is None else torch.compile(step, mode=mode)

        def call(X: np.ndarray, y: np.ndarray) -> float:
            return _convert.to_float(compiled(_convert.to_tensor(X), _convert.to_tensor(y).long()))

        return call

    return build


def _torch_switch(attr: str, value: Any) -> Callable[[runner.Case], Step]:
    """The eager torch Trainer's step with a torch.backends switch set around each call
    (restored after it, so the other side of the pair runs without it)."""

    def build(case: runner.Case) -> Step:
        import torch

        trainer = runner.make_trainer("torch", case)
        *path, name = attr.split(".")
        owner = torch.backends
        for p in path:
            owner = getattr(owner, p)

        def call(X: np.ndarray, y: np.ndarray) -> float:
            before = getattr(owner, name)
            setattr(owner, name, value)
            try:
                return trainer.step(X, y)
            finally:
                setattr(owner, name, before)

        return call

    return build


def _memorised(inner: Callable[[runner.Case], Step], flush: bool,
               steps: int = 1500) -> Callable[[runner.Case], Step]:
    """``inner``'s step after ``steps`` untimed steps on the benchmark's batches (the model
    memorises them: denormal gradients), run with denormals flushed or not (the run's
    setting, flushed, is put back after each call)."""

    def build(case: runner.Case) -> Step:
        import torch

        step = inner(case)
        data, _, _ = runner.bench_data(case, "default", batches=4)
        for k in runner.progress(range(steps), "  memorising"):
            step(*data[k % len(data)])

        def call(X: np.ndarray, y: np.ndarray) -> Any:
            torch.set_flush_denormal(flush)
            try:
                return step(X, y)
            finally:
                torch.set_flush_denormal(True)

        return call

    return build


def _numpy_attempts(batch: int) -> tuple[Attempt, ...]:
    """numpy.fast's three changes, one at a time, from the reference to numpy.fast."""
    return (
        Attempt("out= buffers, in-place element-wise", "NumPy", "reference Trainer.step",
                "numpy.fast without its fused Adam, with dX", "numpy.fast",
                _trainer_step("numpy"), _trainer_step("numpy.fast", fused_adam=False,
                                                      input_grad=True), batch=batch),
        Attempt("fused in-place Adam (one flat vector)", "NumPy",
                "per-parameter reference adam", "flat fused Adam", "numpy.fast",
                _trainer_step("numpy.fast", fused_adam=False, input_grad=True),
                _trainer_step("numpy.fast", input_grad=True), batch=batch),
        Attempt("skip the unneeded dX of the input", "NumPy", "computes dX", "no dX",
                "numpy.fast", _trainer_step("numpy.fast", input_grad=True),
                _trainer_step("numpy.fast"), batch=batch),
    )


ATTEMPTS: tuple[Attempt, ...] = (
    *_numpy_attempts(1024),
    *_numpy_attempts(100),
    Attempt("torch.compile (default mode)", "torch", "eager", "torch.compile", "setting",
            _torch_step(None), _torch_step("default")),
    Attempt("torch.compile mode max-autotune-no-cudagraphs", "torch", "mode default",
            "max-autotune-no-cudagraphs", "setting", _torch_step("default"),
            _torch_step("max-autotune-no-cudagraphs")),
    Attempt("torch.optim.Adam(fused=True)", "torch", "Adam (foreach)", "Adam(fused=True)",
            "setting", _torch_step(None), _torch_step(None, fused_adam=True)),
    Attempt("oneDNN off in torch (torch.backends.mkldnn.enabled=False)", "torch",
            "oneDNN on", "oneDNN off", "setting", _torch_switch("mkldnn.enabled", True),
            _torch_switch("mkldnn.enabled", False)),
    Attempt("float32 matmuls as bf16 on oneDNN/AMX (mkldnn.matmul.fp32_precision)", "torch",
            "float32 (default)", "bf16", "numerics",
            _torch_switch("mkldnn.matmul.fp32_precision", "none"),
            _torch_switch("mkldnn.matmul.fp32_precision", "bf16")),
    Attempt("flush denormals to zero, model memorised (numpy.fast)", "denormals",
            "denormals kept", "flushed (FTZ/DAZ)", "setting",
            _memorised(_trainer_step("numpy.fast"), False),
            _memorised(_trainer_step("numpy.fast"), True)),
    Attempt("flush denormals to zero, model memorised (torch eager)", "denormals",
            "denormals kept", "flushed (FTZ/DAZ)", "setting",
            _memorised(_trainer_step("torch"), False), _memorised(_trainer_step("torch"), True)),
    Attempt("TF_ENABLE_ONEDNN_OPTS=0", "TF flags", "oneDNN on (default)", "oneDNN off",
            "setting", impl="tf.function", env={"TF_ENABLE_ONEDNN_OPTS": "0"}),
    Attempt("XLA_FLAGS=--xla_cpu_use_onednn=true", "TF flags", "XLA default", "oneDNN in XLA",
            "setting", impl="tf.xla", env={"XLA_FLAGS": "--xla_cpu_use_onednn=true"}),
    Attempt("XLA_FLAGS=--xla_cpu_prefer_vector_width=512", "TF flags", "XLA default",
            "512-bit vectors", "setting", impl="tf.xla",
            env={"XLA_FLAGS": "--xla_cpu_prefer_vector_width=512"}),
    Attempt("XLA_FLAGS=--xla_cpu_use_xnnpack=true", "TF flags", "XLA default", "XNNPACK",
            "setting", impl="tf.xla", env={"XLA_FLAGS": "--xla_cpu_use_xnnpack=true"}),
    Attempt("OPENBLAS_CORETYPE=Haswell (AVX2 kernels)", "OpenBLAS", "automatic",
            "Haswell", "setting", impl="numpy.fast", env={"OPENBLAS_CORETYPE": "Haswell"}),
    Attempt("OPENBLAS_CORETYPE=SapphireRapids", "OpenBLAS", "automatic", "SapphireRapids",
            "setting", impl="numpy.fast", env={"OPENBLAS_CORETYPE": "SapphireRapids"}),
)


# ------------------------------------------------------------------- measuring


def _variant(name: str, step: Step, case: runner.Case, batches: list) -> runner.Variant:
    return runner.Variant(name, case, "train", "cpu", step, batches, "")


def _pair(a: Attempt, rounds: int, min_time_s: float) -> tuple[float, float]:
    """Median ms/step of the before and after sides, interleaved in this process."""
    assert a.before is not None and a.after is not None
    [case] = runner.cases(["mnist"], [a.batch])
    batches, _, _ = runner.bench_data(case, "default", batches=4)
    group = [_variant("numpy", a.before(case), case, batches),
             _variant("numpy", a.after(case), case, batches)]
    runner.measure(group, rounds=rounds, min_time_s=min_time_s, warmup_s=0.3,
                   log=lambda m: None)
    return tuple(1e3 * statistics.median(v.samples) for v in group)  # type: ignore[return-value]


def _child(impl: str, env: dict[str, str], rounds: int, min_time_s: float) -> dict[str, Any]:
    """Run ``impl``'s step in a fresh process with ``env`` set (before any import)."""
    full = {k: v for k, v in os.environ.items()
            if not (k in env or (k.startswith("OPENBLAS_") and "OPENBLAS_CORETYPE" in env))}
    full.update(env)
    cmd = [sys.executable, "-m", "dlparity.benchmarks.attempts", "--child", impl,
           "--rounds", str(rounds), "--min-time", str(min_time_s)]
    out = subprocess.run(cmd, env=full, capture_output=True, text=True, timeout=600)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{impl} with {env}: exit {out.returncode}: {out.stderr[-500:]}")
    return json.loads(lines[-1])


def _env_pair(a: Attempt, rounds: int, min_time_s: float) -> tuple[float, float, dict]:
    """Median ms/step without and with ``a.env``, three child processes each, alternated."""
    before, after, info = [], [], {}
    for _ in range(3):
        before.append(_child(a.impl, {}, rounds, min_time_s)["ms"])
        child = _child(a.impl, a.env, rounds, min_time_s)
        after.append(child["ms"])
        info = {"blas": child.get("blas")}
    return statistics.median(before), statistics.median(after), info


def verdict(owner: str, before_ms: float, after_ms: float, noise: float = 0.03) -> str:
    """'kept' / 'dropped' (numpy.fast), 'recommended' / 'not recommended' (a setting),
    'not kept: changes float32 results' (numerics), from the speed-up and ``noise``."""
    helps = before_ms / after_ms > 1 + noise
    if owner == "numerics":
        return "not kept: changes float32 results" + (" (faster)" if helps else "")
    if owner == "numpy.fast":
        return "kept in numpy.fast" if helps else "dropped (no gain beyond noise)"
    hurts = after_ms / before_ms > 1 + noise
    return "helps" if helps else ("slower: not recommended" if hurts else "no gain (noise)")


def _batch_sweep(rounds: int, min_time_s: float, log: Callable[[str], None],
                 impls: Sequence[str], batches: Sequence[int]) -> list[dict[str, Any]]:
    rows = []
    for batch in runner.progress(batches, "batch sizes"):
        [case] = runner.cases(["mnist"], [batch])
        data, name, _ = runner.bench_data(case, "default", batches=4)
        group = [runner.make_variant(i, case, "train", "cpu", data, data=name) for i in impls
                 if runner.skip_reason(i, "cpu") is None]
        runner.measure(group, rounds=rounds, min_time_s=min_time_s, warmup_s=0.3,
                       log=lambda m: None)
        limit = shape_limit(flops.gemm_shapes(case.layer_dims, batch), {"torch"})
        for v in group:
            r = runner.summarise(v, limit["gflops"]["best"], limit["gflops"]["best"])
            rows.append({k: r[k] for k in ("impl", "batch", "ms_per_step", "samples_per_s",
                                            "gflops", "limit_gflops", "limit_fraction")})
        log(f"batch {batch}: " + ", ".join(f"{r['impl']} {r['ms_per_step']:.2f} ms"
                                           for r in rows[-len(group):]))
    return rows


def run_attempts(*, rounds: int = 7, min_time_s: float = 0.1, names: Sequence[str] = (),
                 batches: Sequence[int] = BATCHES, log: Callable[[str], None] = print
                 ) -> dict[str, Any]:
    """Every attempt (or those whose name contains one of ``names``) and the batch sweep;
    the JSON report."""
    load_start = loadavg()
    threads, restore = pin_threads(1, {"numpy", "torch", "tf"})
    flushed, unflush = flush_denormals(True)
    [case] = runner.cases(["mnist"], [1024])
    _, name, _ = runner.bench_data(case, "default", batches=4)
    chosen = [a for a in ATTEMPTS if not names or any(n in a.name for n in names)]
    rows = []
    try:
        for a in runner.progress(chosen, "attempts"):
            try:
                if a.env:
                    before, after, info = _env_pair(a, rounds, min_time_s)
                else:
                    (before, after), info = _pair(a, rounds, min_time_s), {}
            except Exception as err:  # an attempt that cannot run here is reported
                rows.append({"name": a.name, "group": a.group, "batch": a.batch,
                             "error": f"{err}"[:300]})
                log(f"{a.name}: could not run: {err}")
                continue
            noise = 0.05 if a.env else 0.03  # separate processes drift more than interleaving
            rows.append({"name": a.name, "group": a.group, "batch": a.batch,
                         "before": a.before_label, "after": a.after_label,
                         "before_ms": before, "after_ms": after, "speedup": before / after,
                         "verdict": verdict(a.owner, before, after, noise), **info})
            log(f"{a.name}: {before:.2f} -> {after:.2f} ms ({rows[-1]['verdict']})")
        sweep = _batch_sweep(rounds, min_time_s, log, BATCH_IMPLS, batches) if batches else []
        limit = shape_limit(flops.gemm_shapes(case.layer_dims, case.batch), {"torch"})
    finally:
        unflush()
        restore()
    machine = machine_info(threads, {"numpy", "torch", "tf"})
    machine["loadavg_start"], machine["loadavg"] = load_start, loadavg()
    machine["flush_denormal"] = flushed
    return {"machine": machine, "case": f"{case.label} train cpu", "data": name,
            "rounds": rounds, "min_time_s": min_time_s, "limit": limit,
            "attempts": rows, "batches": sweep}


def _child_main(impl: str, rounds: int, min_time_s: float) -> None:
    """One variant's median ms/step as a JSON line (the child of an env-flag pair)."""
    threads, restore = pin_threads(1, {runner.FRAMEWORK[impl]} | {"numpy"})
    flush_denormals(True)
    [case] = runner.cases(["mnist"], [1024])
    data, name, _ = runner.bench_data(case, "default", batches=4)
    v = runner.make_variant(impl, case, "train", "cpu", data, data=name)
    runner.measure([v], rounds=rounds, min_time_s=min_time_s, warmup_s=0.3, log=lambda m: None)
    print(json.dumps({"ms": 1e3 * statistics.median(v.samples), "blas": threads["numpy_blas"]}))
    restore()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dlparity.benchmarks.attempts [--json PATH]`` (``--child`` is internal)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m dlparity.benchmarks.attempts",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", default=None, metavar="PATH", help="write the report")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--min-time", type=float, default=0.1)
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="only attempts whose name contains TEXT (repeatable)")
    parser.add_argument("--no-batches", action="store_true", help="skip the batch sweep")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child_main(args.child, args.rounds, args.min_time)
        return 0
    report = run_attempts(rounds=args.rounds, min_time_s=args.min_time, names=args.only,
                          batches=() if args.no_batches else BATCHES,
                          log=lambda m: print(m, file=sys.stderr, flush=True))
    text = json.dumps(report, indent=1, default=str) + "\n"
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
