"""The engine behind ``dlparity bench`` and the pytest-benchmark suite.

One *variant* is an implementation x case (model, batch) x phase x device; it is built
from the implementations' public ``Trainer`` (``dlparity.<impl>.training``):

=================  ===============================================  ==========================
impl               training step (forward + backward + Adam)        inference (scores)
=================  ===============================================  ==========================
numpy              reference ``Trainer.step``                        ``Trainer.predict``
numpy.fast         ``fast_numpy.FastTrainer.step``: preallocated     ``FastTrainer.predict``
                   buffers, in-place ops, no unneeded dX
torch              torch ``Trainer.step`` (eager)                    ``trainer.module`` eager,
                                                                     no_grad
torch.compile      ``Trainer(compile='torch.compile').step``         ``torch.compile(module)``
torch.cudagraph    the step captured in a CUDA graph (capturable     forward captured in a
                   Adam), replayed; CUDA only                        CUDA graph
tf.eager           ``Trainer(compile='eager').step``                 ``trainer.model`` eager
tf.function        ``Trainer(compile='tf.function').step``           ``tf.function(model)``
tf.xla             ``Trainer(compile='xla').step``                   ``tf.function(model,
                                                                     jit_compile=True)``
=================  ===============================================  ==========================

Every call takes a NumPy batch and returns NumPy (the loss as a float, the scores as an
array), as a user's loop does: the conversion at the boundary (and on CUDA the copies to
and from the device) is part of the time.

The method (``measure``): the FIRST call of every variant is timed on its own and reported
as ``compile_s`` (tracing, torch.compile, XLA); then a warm-up of ``warmup_s`` seconds
estimates the step time and sets how many steps one round runs (about ``min_time_s``);
then ``rounds`` rounds in which every variant of a (case, phase, device) group runs once,
the order rotated every round, so the machine's drift hits all of them alike. A result is
the median over rounds of the time per step, with the quartiles and extremes.
CPU time is ``time.perf_counter``; CUDA time is measured with CUDA events after
``torch.cuda.synchronize()`` (TF on CUDA: wall time, every call ends by copying its
result to the host). TF32 is switched off in both frameworks before any CUDA work.

Threads, the CPU and the load: ``machine.py``. The limits a result is compared with
(``peaks.py``): the square GEMM peak ("% of peak") and the per-shape limit of the step's
own products ("% of limit").
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlparity import implementations

from . import flops
from .machine import (  # noqa: F401  (re-exported: runner.pin_threads, ...)
    cuda_available,
    disable_tf32,
    installed,
    machine_info,
    pin_threads,
)
from .peaks import square_peak

__all__ = [
    "CASES",
    "BenchUsageError",
    "DEVICES",
    "IMPLS",
    "PHASES",
    "Case",
    "Variant",
    "bench_data",
    "cases",
    "gemm_peak",
    "machine_info",
    "make_trainer",
    "make_variant",
    "measure",
    "pin_threads",
    "skip_reason",
]

IMPLS = ("numpy", "numpy.fast", "torch", "torch.compile", "torch.cudagraph", "tf.eager",
         "tf.function", "tf.xla")
PHASES = ("train", "infer")
DEVICES = ("cpu", "cuda")
FRAMEWORK = {"numpy": "numpy", "numpy.fast": "numpy", "torch": "torch",
             "torch.compile": "torch", "torch.cudagraph": "torch", "tf.eager": "tf",
             "tf.function": "tf", "tf.xla": "tf"}
_TRAINER_COMPILE = {"torch": None, "torch.compile": "torch.compile", "tf.eager": "eager",
                    "tf.function": "tf.function", "tf.xla": "xla"}


class BenchUsageError(ValueError):
    """A choice of options that cannot be benchmarked (exit status 2)."""


@dataclass(frozen=True)
class Case:
    """A benchmarked model at one batch size: ``model`` 'mnist' or 'cifar10', the preset
    it trains (``dlparity.reference.presets``), its layer widths and the batch size."""

    model: str
    preset: str
    layer_dims: tuple[int, ...]
    reg: float
    batch: int

    @property
    def label(self) -> str:
        return f"{self.model} b{self.batch}"


def _case(model: str, batch: int) -> Case:
    from dlparity.reference.presets import PRESETS

    preset = {"mnist": "mnist_fc_tf", "cifar10": "cifar10_fc"}[model]
    p = PRESETS[preset]
    return Case(model, preset, tuple(p.layer_dims), p.reg, batch)


#: The issue's cases: MNIST FC at batch 100 and 1024, CIFAR-10 FC at batch 200.
CASES: dict[str, tuple[int, ...]] = {"mnist": (100, 1024), "cifar10": (200,)}


def cases(models: Iterable[str] = ("mnist", "cifar10"),
          batches: Sequence[int] | None = None) -> list[Case]:
    """The cases of ``models``, at their standard batch sizes or at ``batches``."""
    return [_case(m, b) for m in models for b in (batches or CASES[m])]


# ------------------------------------------------------------------ availability


def skip_reason(impl: str, device: str) -> str | None:
    """Why ``impl`` cannot run on ``device`` here, or None when it can."""
    framework = FRAMEWORK[impl]
    if framework == "torch" and not installed("torch"):
        return "torch is not installed (pip install 'dlparity[torch]')"
    if framework == "tf" and not installed("tensorflow"):
        return "tensorflow is not installed (pip install 'dlparity[tf]')"
    if device == "cpu":
        return "CUDA graphs need a CUDA device" if impl == "torch.cudagraph" else None
    if framework == "numpy":
        return "the NumPy implementations run on the CPU only"
    if not cuda_available(framework):
        return f"no CUDA device visible to {'torch' if framework == 'torch' else 'tensorflow'}"
    return None


def gemm_peak(frameworks: Iterable[str], device: str = "cpu", *, size: int = 2048,
              repeats: int = 5) -> dict[str, float]:
    """The square GEMM peak per library (``peaks.square_peak``)."""
    return square_peak(frameworks, device, size=size, repeats=repeats)


# ------------------------------------------------------------------------- data


def bench_data(case: Case, source: str = "default", *, data_dir: str | None = None,
               batches: int = 8, dtype: Any = np.float32, seed: int = 0
               ) -> tuple[list[tuple[np.ndarray, np.ndarray]], str, str]:
    """``batches`` training batches of the case's shape, cycled through by the variants.

    ``source``: 'default' (the built-in real data for MNIST, no download; CIFAR-10 from
    the cache if it is there, else synthetic), 'synthetic', or a ``dlparity.data.load``
    name. Returns (list of (X (B, D), y (B,)), short data name for the results, the data
    set's ``describe()``); a synthetic name starts with 'synthetic-'.
    """
    from dlparity import data

    image = {"mnist": "mnist", "cifar10": "cifar-10"}[case.model]
    n = batches * case.batch
    kwargs: dict[str, Any] = {"dtype": dtype, "flatten": True}
    ds = None
    if source == "default":
        try:
            ds = (data.load_default(data_dir, **kwargs) if case.model == "mnist" else
                  data.load_cifar10(data_dir, download=False, **kwargs))
        except data.MissingDataError:
            ds = None
    elif source != "synthetic":
        ds = data.load(source, data_dir, **kwargs)
    if ds is None or len(ds.y_train) < case.batch:
        ds = data.synthetic(image, n, seed=seed, dtype=dtype, flatten=True)
    if ds.X_train.shape[1] != case.layer_dims[0]:
        raise BenchUsageError(f"--data {source}: {ds.name} has {ds.X_train.shape[1]} "
                              f"features; model {case.model} takes {case.layer_dims[0]} (use "
                              f"--model to pick the matching model)")
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(ds.y_train), size=min(n, len(ds.y_train)), replace=False)
    count = len(idx) // case.batch
    out = [(np.ascontiguousarray(ds.X_train[idx[k * case.batch:(k + 1) * case.batch]]),
            ds.y_train[idx[k * case.batch:(k + 1) * case.batch]]) for k in range(count)]
    name = f"synthetic-{ds.name}" if ds.synthetic else ds.name
    return out, name, ds.describe()


# --------------------------------------------------------------------- variants


@dataclass
class Variant:
    """One implementation x case x phase x device, ready to run.

    ``call(X, y)`` runs one step on a NumPy batch; ``run(k)`` runs k steps over the
    batches in turn and returns the seconds they took (CUDA: measured with events).
    """

    impl: str
    case: Case
    phase: str
    device: str
    call: Callable[[np.ndarray, np.ndarray], Any]
    batches: list[tuple[np.ndarray, np.ndarray]]
    data: str
    cuda_events: bool = False
    compile_s: float = math.nan
    steps_per_round: int = 1
    samples: list[float] = field(default_factory=list)  # seconds per step, one per round
    trainer: Any = None  # the Trainer behind ``call`` (what --profile looks into)
    _next: int = 0

    @property
    def framework(self) -> str:
        return FRAMEWORK[self.impl]

    def _one(self) -> None:
        X, y = self.batches[self._next]
        self._next = (self._next + 1) % len(self.batches)
        self.call(X, y)

    def run(self, k: int) -> float:
        """Run k steps; their time in seconds."""
        if self.cuda_events:
            import torch

            torch.cuda.synchronize()
            start, end = (torch.cuda.Event(enable_timing=True) for _ in range(2))
            start.record()
            for _ in range(k):
                self._one()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1e3
        t0 = time.perf_counter()
        for _ in range(k):
            self._one()
        return time.perf_counter() - t0

    def first_call(self) -> float:
        """The first step alone (tracing / compilation included), in seconds."""
        t0 = time.perf_counter()
        self.run(1)
        return time.perf_counter() - t0

    @property
    def flops_per_step(self) -> int:
        return flops.step_flops(self.case.layer_dims, self.case.batch, self.phase, self.case.reg)


def make_trainer(impl: str, case: Case, device: str = "cpu", dtype: Any = np.float32,
                 seed: int = 0) -> Any:
    """The ``Trainer`` of ``impl`` for ``case`` (``numpy.fast``: ``FastTrainer``)."""
    kwargs: dict[str, Any] = {"dtype": dtype, "seed": seed, "device": device}
    if impl == "numpy.fast":
        from .fast_numpy import FastTrainer

        return FastTrainer.from_preset(case.preset, **kwargs)
    module = implementations.get(FRAMEWORK[impl]).module("training")
    if _TRAINER_COMPILE.get(impl) is not None:
        kwargs["compile"] = _TRAINER_COMPILE[impl]
    return module.Trainer.from_preset(case.preset, **kwargs)


def make_variant(impl: str, case: Case, phase: str, device: str,
                 batches: list[tuple[np.ndarray, np.ndarray]], *, data: str = "",
                 dtype: Any = np.float32, seed: int = 0) -> Variant:
    """Build ``impl``'s step for ``case`` and ``phase`` on ``device`` (see the module
    docstring); raises RuntimeError with the reason when it cannot run here."""
    reason = skip_reason(impl, device)
    if reason:
        raise RuntimeError(f"{impl} on {device}: {reason}")
    trainer = make_trainer(impl, case, device, dtype, seed)
    framework = FRAMEWORK[impl]
    if impl == "torch.cudagraph":
        call = (_cudagraph_train if phase == "train" else _cudagraph_infer)(trainer, case, device)
    elif phase == "train":
        def call(X: np.ndarray, y: np.ndarray) -> float:
            return trainer.step(X, y)
    elif framework == "numpy":
        def call(X: np.ndarray, y: np.ndarray) -> np.ndarray:
            return trainer.predict(X)
    elif framework == "torch":
        call = _torch_infer(trainer, device, compiled=impl == "torch.compile")
    else:
        call = _tf_infer(trainer, device, {"tf.eager": None, "tf.function": False,
                                           "tf.xla": True}[impl])
    return Variant(impl, case, phase, device, call, batches, data,
                   cuda_events=framework == "torch" and device.startswith("cuda"),
                   trainer=trainer)


def _torch_infer(trainer: Any, device: str, compiled: bool) -> Callable:
    import torch

    module = trainer.module.eval()
    forward = torch.compile(module) if compiled else module

    def call(X: np.ndarray, y: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return forward(torch.from_numpy(X).to(device)).cpu().numpy()  # (B, C)

    return call


def _tf_infer(trainer: Any, device: str, jit: bool | None) -> Callable:
    import tensorflow as tf

    model = trainer.model

    def forward(x: tf.Tensor) -> tf.Tensor:
        return model(x, training=False)

    from dlparity.tf_impl import _convert as tf_convert

    if jit is not None:
        forward = tf.function(forward, jit_compile=jit)
    where = "cuda" if device.startswith("cuda") else "cpu"

    def call(X: np.ndarray, y: np.ndarray) -> np.ndarray:
        with tf_convert.device(where):  # tf.device('/GPU:0' or '/CPU:0')
            return forward(tf.constant(X)).numpy()  # (B, C)

    return call


def _cudagraph_train(trainer: Any, case: Case, device: str) -> Callable:
    """The whole training step (forward, backward, Adam with ``capturable=True``) captured
    once in a CUDA graph on static input tensors; every call copies the batch in,
    replays the graph and reads the loss (PyTorch's "whole network capture" recipe)."""
    import torch
    import torch.nn.functional as F

    module = trainer.module.train()
    cfg = trainer.optim_config
    opt = torch.optim.Adam(module.parameters(), lr=cfg["learning_rate"],
                           betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["epsilon"],
                           capturable=True)
    dtype = next(module.parameters()).dtype
    static_X = torch.zeros((case.batch, case.layer_dims[0]), dtype=dtype, device=device)
    static_y = torch.zeros(case.batch, dtype=torch.long, device=device)

    def step() -> torch.Tensor:
        loss = F.cross_entropy(module(static_X), static_y)
        loss = loss + module.l2_penalty(case.reg) if case.reg else loss
        loss.backward()
        opt.step()
        return loss.detach()

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up outside the graph, as capture requires
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)
    with torch.cuda.graph(graph):
        static_loss = step()

    def call(X: np.ndarray, y: np.ndarray) -> float:
        static_X.copy_(torch.from_numpy(X))
        static_y.copy_(torch.from_numpy(y))
        graph.replay()
        return static_loss.item()

    return call


def _cudagraph_infer(trainer: Any, case: Case, device: str) -> Callable:
    """The forward pass captured in a CUDA graph; every call copies the batch in,
    replays and copies the scores out."""
    import torch

    module = trainer.module.eval()
    dtype = next(module.parameters()).dtype
    static_X = torch.zeros((case.batch, case.layer_dims[0]), dtype=dtype, device=device)
    with torch.no_grad():
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                module(static_X)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = module(static_X)

    def call(X: np.ndarray, y: np.ndarray) -> np.ndarray:
        static_X.copy_(torch.from_numpy(X))
        graph.replay()
        return static_out.cpu().numpy()  # (B, C)

    return call


# ------------------------------------------------------------------- measuring


def calibrate(variant: Variant, warmup_s: float, min_time_s: float) -> None:
    """Warm up for about ``warmup_s`` (at least 2 steps) and set ``steps_per_round`` so a
    round lasts about ``min_time_s``."""
    steps, spent = 0, 0.0
    while steps < 2 or spent < warmup_s:
        k = max(1, steps)  # 1, 1, 2, 4, ...: doubling
        spent += variant.run(k)
        steps += k
    per_step = spent / steps
    variant.steps_per_round = max(1, min(100_000, math.ceil(min_time_s / max(per_step, 1e-7))))


def progress(iterable: Iterable, desc: str, enabled: bool = True, **kwargs: Any) -> Iterable:
    """``iterable`` with a tqdm progress bar on stderr (when enabled and tqdm is there)."""
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    kwargs.setdefault("leave", False)
    return tqdm(iterable, desc=desc, **kwargs)


def measure(variants: Sequence[Variant], *, rounds: int, min_time_s: float, warmup_s: float,
            log: Callable[[str], None] = print, bar: bool = False) -> None:
    """Time a group of variants of one (case, phase, device): first call (``compile_s``),
    warm-up, then ``rounds`` rounds with the order rotated each round; the seconds per
    step of every round go to ``variant.samples``. ``bar``: a progress bar over rounds."""
    for v in variants:
        v.compile_s = v.first_call()
        calibrate(v, warmup_s, min_time_s)
        log(f"  {v.impl:<16} first call {v.compile_s:7.2f} s; "
            f"{v.steps_per_round} steps per round")
    for r in progress(range(rounds), "  rounds", bar):
        shift = r % len(variants)
        for v in list(variants[shift:]) + list(variants[:shift]):
            v.samples.append(v.run(v.steps_per_round) / v.steps_per_round)


def summarise(variant: Variant, peak_gflops: float,
              limit_gflops: float | None = None) -> dict[str, Any]:
    """The result record of a measured variant (the JSON schema's fields first).
    ``limit_gflops``: the per-shape GEMM limit of its step (``peaks.shape_limit``)."""
    ms = sorted(1e3 * s for s in variant.samples)
    median = statistics.median(ms)
    q1, q3 = (np.percentile(ms, [25, 75]).tolist() if len(ms) > 1 else (ms[0], ms[0]))
    gflops = variant.flops_per_step / (median / 1e3) / 1e9
    limit = {} if not limit_gflops else {
        "limit_gflops": limit_gflops, "limit_fraction": min(1.0, gflops / limit_gflops)}
    return {
        "impl": variant.impl, "model": variant.case.model, "batch": variant.case.batch,
        "phase": variant.phase, "device": variant.device, "ms_per_step": median,
        "gflops": gflops, "peak_fraction": min(1.0, gflops / peak_gflops),
        "data": variant.data, **limit,
        "ms_q1": q1, "ms_q3": q3, "ms_min": ms[0], "ms_max": ms[-1],
        "samples_per_s": variant.case.batch / (median / 1e3),
        "compile_s": variant.compile_s, "flops_per_step": variant.flops_per_step,
        "steps_per_round": variant.steps_per_round, "rounds": len(ms),
        "preset": variant.case.preset,
    }
