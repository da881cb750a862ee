"""The machine a benchmark runs on: CPU model and ISA, thread pinning (and a check that it
took), availability of the libraries and their devices, load, versions.

- ``pin_threads(threads, frameworks)`` gives NumPy's BLAS (threadpoolctl), torch
  (``set_num_threads``) and TensorFlow (``tf.config.threading``) the same intra-op thread
  count and one inter-op thread, then reads back what each library reports;
  ``threads_applied`` says, per library, whether that is the count asked for.
- ``cpu_info()``: the model name, the vector ISA (AVX-512 / AVX2 / ...) from the CPU flags,
  and the kernels the libraries picked (OpenBLAS's core type, torch's CPU capability).
- ``flush_denormals(True)``: FTZ/DAZ on the calling thread (``torch.set_flush_denormal``),
  where NumPy and one-thread torch compute; TensorFlow's threads already run so. Without
  it, a model that has memorised the benchmark's few batches produces denormal gradients
  (softmax probabilities below 1e-38) and NumPy's and torch's element-wise ops and Adam
  slow down 2-3x: a variant's speed would depend on how many steps it happened to run.
- ``machine_info(...)``: all of it for the report's ``machine``, with ``os.getloadavg()``
  (the machine is shared: the load says how much to trust a run).

Device probes and the TF32 switches are the frameworks' own (``cuda_available`` and
``set_tf32`` of ``torch_impl/_convert.py`` and ``tf_impl/_convert.py``): there is no
second probe here.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

__all__ = ["cpu_info", "cuda_available", "disable_tf32", "flush_denormals", "installed",
           "loadavg", "machine_info", "pin_threads", "threads_applied"]

#: CPU flags worth reporting (from /proc/cpuinfo), in order of the ISA they belong to.
ISA_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
             "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8")
#: Environment variables that change which kernels or threads the libraries use.
ENV_KEYS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
            "MKL_NUM_THREADS", "TF_ENABLE_ONEDNN_OPTS", "XLA_FLAGS", "TF_XLA_FLAGS",
            "DNNL_MAX_CPU_ISA", "ONEDNN_MAX_CPU_ISA")


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    return importlib.util.find_spec(module) is not None


def cuda_available(framework: str) -> bool:
    """Whether ``framework`` ('torch', 'tf') sees a CUDA device, asked through the
    implementation registry (the framework package's own ``_convert`` probe)."""
    from dlparity import implementations

    return framework in implementations.FRAMEWORKS and implementations.cuda_available(framework)


def loadavg() -> list[float] | None:
    """``os.getloadavg()`` (1, 5, 15 minutes), None where the OS has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


# ---------------------------------------------------------------------- threads


def pin_threads(threads: int, frameworks: Iterable[str]) -> tuple[dict[str, Any], Callable]:
    """Give every library of ``frameworks`` ('numpy', 'torch', 'tf') ``threads`` intra-op
    threads and one inter-op thread.

    Returns (settings, restore): what each library reports afterwards (and, under
    ``applied``, whether that is what was asked), and a function that puts NumPy's and
    torch's thread counts back (TensorFlow's are fixed once its runtime has started: if it
    had, its settings are reported as found).
    """
    settings: dict[str, Any] = {"requested": threads}
    undo: list[Callable[[], None]] = []
    frameworks = set(frameworks) | {"numpy"}  # the GEMM peak always runs in NumPy
    try:
        from threadpoolctl import threadpool_info, threadpool_limits

        limiter = threadpool_limits(limits=threads)
        undo.append(limiter.restore_original_limits)
        settings["numpy_blas"] = [f"{i['internal_api']} {i.get('version')} "
                                  f"{i.get('architecture')}: {i['num_threads']} threads"
                                  for i in threadpool_info()]
        settings["numpy_blas_threads"] = [i["num_threads"] for i in threadpool_info()
                                          if i.get("user_api") == "blas"]
    except ImportError:
        settings["numpy_blas"] = "NOT pinned: threadpoolctl is not installed"
    if "torch" in frameworks:
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        undo.append(lambda: torch.set_num_threads(before))
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # only settable before torch's first parallel work
            pass
        settings["torch"] = {"intra_op": torch.get_num_threads(),
                             "inter_op": torch.get_num_interop_threads()}
    if "tf" in frameworks:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # the runtime has started: its pools are fixed
            settings["tf_note"] = "TensorFlow was initialised before the benchmark"
        settings["tf"] = {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                          "inter_op": tf.config.threading.get_inter_op_parallelism_threads()}
    settings["applied"] = threads_applied(settings)

    def restore() -> None:
        for fn in reversed(undo):
            fn()

    return settings, restore


def threads_applied(settings: dict[str, Any]) -> dict[str, bool]:
    """Per library in ``settings`` (``pin_threads``'s), whether the intra-op thread count
    it reports is the one requested."""
    want = settings["requested"]
    out: dict[str, bool] = {}
    if "numpy_blas_threads" in settings:
        out["numpy"] = bool(settings["numpy_blas_threads"]) and all(
            n == want for n in settings["numpy_blas_threads"])
    elif "numpy_blas" in settings:
        out["numpy"] = False
    for lib in ("torch", "tf"):
        if lib in settings:
            out[lib] = settings[lib]["intra_op"] == want
    return out


def flush_denormals(on: bool = True) -> tuple[bool, Callable[[], None]]:
    """Flush denormal floats to zero (FTZ/DAZ) on the calling thread, or stop doing so.

    Returns (whether the setting could be made, a function that turns it off again). It
    goes through ``torch.set_flush_denormal`` (the only portable switch at hand; NumPy has
    none): without torch nothing changes and False is returned.
    """
    if not installed("torch"):
        return False, lambda: None
    import torch

    done = bool(torch.set_flush_denormal(on))
    return done, (lambda: torch.set_flush_denormal(False)) if on else (lambda: None)


def disable_tf32(frameworks: Iterable[str]) -> None:
    """float32 matmuls in full float32 on CUDA (torch and TF default to TF32 in places);
    through each package's ``_convert.set_tf32``, where the switches live."""
    if "torch" in frameworks:
        from dlparity.torch_impl import _convert

        _convert.set_tf32(False)
    if "tf" in frameworks:
        from dlparity.tf_impl import _convert as tf_convert

        tf_convert.set_tf32(False)


# ---------------------------------------------------------------------- the CPU


def _cpuinfo() -> tuple[str | None, set[str]]:
    name, flags = None, set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if name is None and line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return name, flags


def isa_of(flags: set[str]) -> str:
    """The widest vector ISA in ``flags``: 'AVX-512 + AMX', 'AVX-512', 'AVX2', 'AVX' or
    'unknown'."""
    if "avx512f" in flags:
        return "AVX-512 + AMX" if "amx_tile" in flags else "AVX-512"
    for flag, isa in (("avx2", "AVX2"), ("avx", "AVX")):
        if flag in flags:
            return isa
    return "unknown"


def cpu_info(frameworks: Iterable[str] = ()) -> dict[str, Any]:
    """The CPU model, its ISA and flags, and the kernels the libraries chose on it."""
    name, flags = _cpuinfo()
    out: dict[str, Any] = {"model": name or platform.processor() or platform.machine(),
                           "isa": isa_of(flags),
                           "flags": [f for f in ISA_FLAGS if f in flags]}
    kernels: dict[str, Any] = {}
    try:
        from threadpoolctl import threadpool_info

        kernels["numpy_blas"] = [f"{i['internal_api']} {i.get('version')} "
                                 f"({i.get('architecture')} kernels)" for i in threadpool_info()
                                 if i.get("user_api") == "blas"]
    except ImportError:
        pass
    frameworks = set(frameworks)
    if "torch" in frameworks and installed("torch"):
        import torch

        kernels["torch"] = {"cpu_capability": torch.backends.cpu.get_cpu_capability(),
                            "mkldnn (oneDNN)": torch.backends.mkldnn.is_available(),
                            "mkl": torch.backends.mkl.is_available()}
    if "tf" in frameworks and installed("tensorflow"):
        kernels["tf"] = {"oneDNN": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1 (default)") != "0"}
    out["kernels"] = kernels
    return out


def machine_info(threads: dict[str, Any], frameworks: Iterable[str]) -> dict[str, Any]:
    """Versions, CPU (model, ISA, kernels), threads, devices and load, for the report's
    ``machine``."""
    from importlib.metadata import PackageNotFoundError, version

    import dlparity

    versions = {"dlparity": dlparity.__version__, "python": platform.python_version(),
                "numpy": np.__version__}
    frameworks = set(frameworks)
    if "torch" in frameworks and installed("torch"):
        import torch

        versions["torch"] = torch.__version__
    if "tf" in frameworks and installed("tensorflow"):
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    for dist in ("pytest-benchmark", "threadpoolctl"):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            pass
    cuda = None
    if "torch" in frameworks and installed("torch") and cuda_available("torch"):
        import torch

        cuda = torch.cuda.get_device_name(0)
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    cpu = cpu_info(frameworks)
    return {
        "versions": versions,
        "platform": platform.platform(),
        "cpu": cpu["model"],
        "cpu_isa": cpu["isa"],
        "cpu_flags": cpu["flags"],
        "kernels": cpu["kernels"],
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "threads": threads.get("requested"),
        "thread_settings": threads,
        "threads_applied": threads.get("applied", {}),
        "device": {"cpu": cpu["model"], "cuda": cuda},
        "env": {k: os.environ[k] for k in ENV_KEYS if k in os.environ},
        "loadavg": loadavg(),
        "python_executable": sys.executable,
    }
