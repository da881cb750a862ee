"""The GEMM limits a step is measured against.

- ``square_peak``: GFLOP/s of a float32 (size x size) @ (size x size) product, best of 5, in
  every library of the run (NumPy, torch, TF), same threads, same process: the classic
  machine peak ("% of peak").
- ``shape_limit``: the products of the step itself (``flops.gemm_shapes``: the exact shapes
  and operand layouts, e.g. dW = X^T @ dout), each timed alone in NumPy (OpenBLAS) and torch
  (oneDNN/MKL): per product the best time of each library and of the two. The step's
  per-shape limit is its GEMM FLOPs / the sum of the best times ("% of limit"): small
  layers run far below the square peak (a (1024 x 100) @ (100 x 10) product reaches less
  than half of it), so the square peak alone makes a small net look worse than it is.
  TensorFlow is left out of the per-shape limit: one TF call from Python costs tens of
  microseconds, the size of the small products themselves.

Timing: each repeat runs the product enough times to last about ``min_repeat_s`` (the timer
then resolves it); ``best`` is the fastest repeat, ``median`` the median (the breakdown of
``breakdown.py`` uses the median, the limit the best).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .flops import Gemm
from .machine import installed

__all__ = ["device_sync", "product_calls", "shape_limit", "square_peak", "time_call",
           "time_products"]


def time_call(fn: Callable[[], Any], *, repeats: int = 5, min_repeat_s: float = 2e-3,
              sync: Callable[[], Any] | None = None) -> dict[str, float]:
    """Seconds per call of ``fn``: {'best', 'median', 'loops'} over ``repeats`` repeats of
    ``loops`` calls each (loops chosen so a repeat lasts about ``min_repeat_s``). ``sync``
    (e.g. ``torch.cuda.synchronize``) runs before the clock is read."""
    sync = sync or (lambda: None)
    fn()
    sync()
    loops, spent = 1, 0.0
    while True:  # calibrate: double until one repeat lasts min_repeat_s
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        sync()
        spent = time.perf_counter() - t0
        if spent >= min_repeat_s or loops >= 1 << 16:
            break
        loops *= 2
    per_call = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        sync()
        per_call.append((time.perf_counter() - t0) / loops)
    return {"best": min(per_call), "median": statistics.median(per_call), "loops": loops}


def _operands(g: Gemm, rng: np.random.Generator, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """A (m, k) and B (k, n) with the layout of ``g`` (transposed views where it says so)."""
    a = rng.standard_normal((g.k, g.m) if g.layout[0] == "t" else (g.m, g.k)).astype(dtype)
    b = rng.standard_normal((g.n, g.k) if g.layout[1] == "t" else (g.k, g.n)).astype(dtype)
    return (a.T if g.layout[0] == "t" else a), (b.T if g.layout[1] == "t" else b)


def _numpy_product(g: Gemm, rng: np.random.Generator, dtype: Any) -> Callable[[], Any]:
    a, b = _operands(g, rng, dtype)
    out = np.empty((g.m, g.n), dtype=dtype)  # (m, n)
    return lambda: np.matmul(a, b, out=out)


def _torch_product(g: Gemm, rng: np.random.Generator, dtype: Any,
                   device: str) -> Callable[[], Any]:
    import torch

    from dlparity.torch_impl import _convert

    a, b = _operands(g, rng, dtype)
    with _convert.device(device):  # the same layout there: transposed views where g says
        ta = _convert.to_tensor(a.T).t() if g.layout[0] == "t" else _convert.to_tensor(a)
        tb = _convert.to_tensor(b.T).t() if g.layout[1] == "t" else _convert.to_tensor(b)
    out = torch.empty((g.m, g.n), dtype=ta.dtype, device=ta.device)  # (m, n)
    return lambda: torch.mm(ta, tb, out=out)


def product_calls(shapes: Sequence[Gemm], library: str, device: str = "cpu", *,
                  dtype: Any = np.float32) -> list[Callable[[], Any]]:
    """One call per product of ``shapes``, in ``library`` ('numpy' or 'torch') on
    ``device``, on operands of the product's layout, into a preallocated output."""
    rng = np.random.default_rng(0)
    if library == "numpy":
        return [_numpy_product(g, rng, dtype) for g in shapes]
    return [_torch_product(g, rng, dtype, device) for g in shapes]


def device_sync(library: str, device: str) -> Callable[[], Any] | None:
    """What waits for ``library``'s work on ``device`` (None on the CPU)."""
    if library == "torch" and device != "cpu":
        import torch

        return torch.cuda.synchronize
    return None


def time_products(shapes: Sequence[Gemm], library: str, device: str = "cpu", *,
                  dtype: Any = np.float32, repeats: int = 5,
                  min_repeat_s: float = 2e-3) -> list[dict[str, float]]:
    """``time_call`` of every product of ``shapes`` alone in ``library`` ('numpy' or
    'torch') on ``device``."""
    sync = device_sync(library, device)
    return [time_call(fn, repeats=repeats, min_repeat_s=min_repeat_s, sync=sync)
            for fn in product_calls(shapes, library, device, dtype=dtype)]


def shape_limit(shapes: Sequence[Gemm], frameworks: Iterable[str], device: str = "cpu", *,
                dtype: Any = np.float32, repeats: int = 5,
                min_repeat_s: float = 2e-3) -> dict[str, Any]:
    """The per-shape GEMM limit of a step whose products are ``shapes``.

    Returns {'products': [{label, m, k, n, layout, flops, <lib>_ms, <lib>_median_ms,
    best_ms, best_lib}], 'flops', 'ms' {lib: sum of its best times, 'best': sum of the
    best of any library}, 'gflops' {lib: ..., 'best': flops / best ms}}. Libraries:
    NumPy (CPU only) and torch (if in ``frameworks`` and installed).
    """
    libs = [lib for lib in ("numpy", "torch")
            if (lib == "numpy" and device == "cpu")
            or (lib == "torch" and lib in set(frameworks) and installed("torch"))]
    times = {lib: time_products(shapes, lib, device, dtype=dtype, repeats=repeats,
                                min_repeat_s=min_repeat_s) for lib in libs}
    products = []
    for j, g in enumerate(shapes):
        row: dict[str, Any] = {"label": g.label, "m": g.m, "k": g.k, "n": g.n,
                               "layout": g.layout, "flops": g.flops}
        for lib in libs:
            row[f"{lib}_ms"] = 1e3 * times[lib][j]["best"]
            row[f"{lib}_median_ms"] = 1e3 * times[lib][j]["median"]
        row["best_lib"] = min(libs, key=lambda lib: row[f"{lib}_ms"])
        row["best_ms"] = row[f"{row['best_lib']}_ms"]
        products.append(row)
    flops = sum(g.flops for g in shapes)
    ms = {lib: sum(p[f"{lib}_ms"] for p in products) for lib in libs}
    ms["best"] = sum(p["best_ms"] for p in products)
    return {"device": device, "products": products, "flops": flops, "ms": ms,
            "gflops": {k: flops / (v / 1e3) / 1e9 for k, v in ms.items() if v > 0}}


def square_peak(frameworks: Iterable[str], device: str = "cpu", *, size: int = 2048,
                repeats: int = 5) -> dict[str, float]:
    """GFLOP/s of a (size x size) @ (size x size) float32 product, best of ``repeats``,
    per library of ``frameworks`` that can run on ``device`` (2*size**3 FLOPs each)."""
    n = size
    flop = 2.0 * n**3
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)  # (n, n)
    b = rng.standard_normal((n, n), dtype=np.float32)  # (n, n)
    out: dict[str, float] = {}
    frameworks = set(frameworks)
    if device == "cpu":
        c = np.empty((n, n), dtype=np.float32)  # (n, n)
        out["numpy"] = flop / _best(lambda: np.matmul(a, b, out=c), repeats) / 1e9
    if "torch" in frameworks and installed("torch"):
        from .machine import cuda_available

        if device == "cpu" or cuda_available("torch"):
            import torch

            from dlparity.torch_impl import _convert

            with _convert.device(device):
                ta, tb = _convert.to_tensor(a), _convert.to_tensor(b)
            tc = torch.empty_like(ta)
            sync = torch.cuda.synchronize if device != "cpu" else None
            out["torch"] = flop / time_call(lambda: torch.mm(ta, tb, out=tc), repeats=repeats,
                                            sync=sync)["best"] / 1e9
    if "tf" in frameworks and installed("tensorflow"):
        from .machine import cuda_available

        gpu = device != "cpu"
        if not gpu or cuda_available("tf"):
            import tensorflow as tf

            from dlparity.tf_impl import _convert as tf_convert

            with tf_convert.device("cuda" if gpu else "cpu"):
                xa, xb = tf_convert.to_tensor(a), tf_convert.to_tensor(b)
                matmul = tf.function(tf.linalg.matmul)
                out["tf"] = flop / _best(lambda: matmul(xa, xb).numpy(), repeats) / 1e9
    return out


def _best(fn: Callable[[], Any], repeats: int) -> float:
    fn()  # warm-up
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
