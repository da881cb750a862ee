"""``python -m dlparity.benchmarks.gpu_check`` (or ``bash benchmarks/gpu_check.sh``): every
CUDA path of the project in one go, for the day a GPU is lent, with a record to commit.

Needs torch with CUDA and this package; TensorFlow and the network are not needed (its
variants are skipped with the reason). Three steps, each a subprocess with its own time
limit inside one budget (default 8 minutes):

1. ``parity``: the parity suite's CUDA tests for torch
   (``pytest tests/parity -k "cuda and torch"``; needs pytest and the checkout's tests/);
2. ``train``: ``dlparity train --model mnist --impl torch --device cuda`` for a few hundred
   steps (the built-in data where installed, else synthetic data of MNIST's shape);
3. ``bench``: ``dlparity bench --device cuda --quick`` (JSON, markdown and PNG).

Writes ``gpu-check.json`` and ``gpu-check.md`` to ``--out`` (with each step's command,
status, seconds, summary and the tail of its output, and the machine: GPU, driver, CUDA,
versions, load), plus the steps' own files. Where torch sees no CUDA device (this
project's CI and development machines), every step is recorded as skipped with the reason,
which is what ``tests/test_bench_gpu_check.py`` checks. Exit status: 0 when no step failed
(skipped steps are not failures), 1 otherwise, 2 for bad arguments.

``--cpu-rehearsal`` runs the same three steps on the CPU, shortened (a few parity tests,
20 training steps, one benchmark case), to test the script itself where there is no GPU;
its record says so (``"rehearsal": true``) and is not a GPU record.

docs/gpu/README.md says how to run it and where the record goes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .machine import installed, loadavg

__all__ = ["STEPS", "gpu_check", "main", "record_markdown"]

ROOT = Path(__file__).resolve().parents[1]
#: (name, share of the budget)
STEPS = (("parity", 0.30), ("train", 0.15), ("bench", 0.55))


def _cuda_reason() -> str | None:
    """Why the CUDA steps cannot run here (None: they can)."""
    if not installed("torch"):
        return "torch is not installed"
    from dlparity.torch_impl import _convert

    if not _convert.cuda_available():
        return "no CUDA device visible to torch (torch_impl._convert.cuda_available() is False)"
    return None


def _environment() -> dict[str, Any]:
    env: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform(),
                           "loadavg": loadavg(), "tensorflow": installed("tensorflow"),
                           "pytest": installed("pytest")}
    try:
        import dlparity

        env["dlparity"] = dlparity.__version__
        git = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=10)
        env["commit"] = git.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        env["commit"] = None
    if installed("torch"):
        import torch

        from dlparity.torch_impl import _convert

        env["torch"] = torch.__version__
        env["torch_cuda"] = torch.version.cuda
        if _convert.cuda_available():
            env["gpu"] = torch.cuda.get_device_name(0)
            env["capability"] = ".".join(map(str, torch.cuda.get_device_capability(0)))
            env["gpu_memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory
                                          / 2**30, 1)
    if shutil.which("nvidia-smi"):
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                              "--format=csv,noheader"], capture_output=True, text=True,
                             timeout=30)
        env["nvidia_smi"] = smi.stdout.strip()
    return env


def _train_data() -> str:
    """'default' where real data is installed, else MNIST-shaped synthetic data."""
    from dlparity import data

    try:
        data.load_default(verify=False)
        return "default"
    except data.MissingDataError:
        return "synthetic-mnist"


def _commands(out: Path, rehearsal: bool = False) -> dict[str, list[str]]:
    """The three steps' command lines (``rehearsal``: on the CPU, shortened)."""
    py, dev = sys.executable, "cpu" if rehearsal else "cuda"
    tests = "cpu and torch and affine_forward" if rehearsal else "cuda and torch"
    small = (["--impl", "torch", "--model", "mnist", "--batch", "100", "--phase", "train"]
             if rehearsal else [])
    return {
        "parity": [py, "-m", "pytest", str(ROOT / "tests" / "parity"), "-k", tests,
                   "-q", "-rfEs", "-p", "no:cacheprovider", f"--junitxml={out / 'parity.xml'}"],
        "train": [py, "-m", "dlparity.cli", "train", "--model", "mnist", "--impl", "torch",
                  "--device", dev, "--iterations", "20" if rehearsal else "300",
                  "--data", _train_data(), "--no-progress", "--json", str(out / "train.json")],
        "bench": [py, "-m", "dlparity.cli", "bench", "--device", dev, "--quick", *small,
                  "--json", str(out / "bench.json"), "--markdown", str(out / "bench.md"),
                  "--png", str(out / "bench.png")],
    }


def _summary(name: str, out: Path) -> dict[str, Any]:
    """What a finished step's own files say (counts, accuracy, the fastest variant)."""
    try:
        if name == "parity":
            root = ET.parse(out / "parity.xml").getroot()
            suite = root if root.tag == "testsuite" else root.find("testsuite")
            return {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
        if name == "train":
            run = json.loads((out / "train.json").read_text())
            return {"iterations": run["iterations"], "final_loss": run["loss"][-1],
                    "test_acc": run.get("test_acc"), "samples_per_s": run["samples_per_s"],
                    "data": run["data"]["name"]}
        if name == "bench":
            rep = json.loads((out / "bench.json").read_text())
            cuda = [r for r in rep["results"] if r["device"] == "cuda"]
            return {"results": len(rep["results"]), "cuda_results": len(cuda),
                    "cuda_gemm_peak_gflops":
                    rep.get("gemm", {}).get("cuda_peak_gflops"),
                    "skipped": [f"{s['impl']} {s['device']}: {s['reason']}"
                                for s in rep.get("skipped", [])]}
    except (OSError, ValueError, KeyError, AttributeError, ET.ParseError) as err:
        return {"note": f"no summary: {type(err).__name__}: {err}"}
    return {}


def _run_step(name: str, cmd: list[str], limit_s: float, out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                              timeout=max(1.0, limit_s))
        status = "passed" if proc.returncode == 0 else "failed"
        text, code = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as err:
        status, code = "timeout", None
        text = "".join(x.decode() if isinstance(x, bytes) else (x or "")
                       for x in (err.stdout, err.stderr))
    (out / f"{name}.log").write_text(text)
    return {"name": name, "command": " ".join(cmd), "status": status, "returncode": code,
            "seconds": round(time.perf_counter() - started, 1), "limit_s": round(limit_s),
            "summary": _summary(name, out) if status != "timeout" else {},
            "output_tail": text[-3000:]}


def gpu_check(out: str | Path, budget_s: float = 480.0,
              rehearsal: bool = False) -> dict[str, Any]:
    """Run the steps (or record them skipped, with the reason) and write the record to
    ``out``; returns it. ``rehearsal``: the steps on the CPU, shortened."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    reason = None if rehearsal else _cuda_reason()
    record: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                              "budget_s": budget_s, "environment": _environment(),
                              "cuda": _cuda_reason() is None, "rehearsal": rehearsal,
                              "steps": []}
    commands = _commands(out, rehearsal) if reason is None else {}
    for name, share in STEPS:
        if reason is None and name == "parity" and not installed("pytest"):
            record["steps"].append({"name": name, "status": "skipped",
                                    "reason": "pytest is not installed"})
            continue
        if reason is not None:
            record["steps"].append({"name": name, "status": "skipped", "reason": reason})
            continue
        left = budget_s - (time.perf_counter() - started)
        record["steps"].append(_run_step(name, commands[name], min(share * budget_s, left),
                                         out))
    record["wall_s"] = round(time.perf_counter() - started, 1)
    record["ok"] = all(s["status"] in ("passed", "skipped") for s in record["steps"])
    (out / "gpu-check.json").write_text(json.dumps(record, indent=1) + "\n")
    (out / "gpu-check.md").write_text(record_markdown(record))
    return record


def record_markdown(record: dict[str, Any]) -> str:
    """The record as a short markdown page (what docs/gpu/ keeps beside the JSON)."""
    env = record["environment"]
    title = "CPU rehearsal (not a GPU record)" if record.get("rehearsal") else "gpu-check"
    lines = [f"# {title}, {record['started']}", "",
             f"- GPU: {env.get('gpu', 'none')} (capability {env.get('capability', '-')}, "
             f"{env.get('gpu_memory_gib', '-')} GiB); nvidia-smi: {env.get('nvidia_smi', '-')}",
             f"- torch {env.get('torch')} (CUDA {env.get('torch_cuda')}), python "
             f"{env['python']}, dlparity {env.get('dlparity')} at {env.get('commit')}; "
             f"TensorFlow installed: {env['tensorflow']}",
             f"- wall time {record['wall_s']} s of a {record['budget_s']:.0f} s budget; "
             f"all passed or skipped: {record['ok']}", "",
             "| step | status | seconds | summary or reason |", "|---|---|---:|---|"]
    for s in record["steps"]:
        what = s.get("reason") or json.dumps(s.get("summary", {}))
        lines.append(f"| {s['name']} | {s['status']} | {s.get('seconds', '-')} | {what} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlparity.benchmarks.gpu_check",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="gpu-check-out", metavar="DIR",
                        help="where the record and the steps' files go (default: "
                        "gpu-check-out)")
    parser.add_argument("--budget", type=float, default=480.0, metavar="S",
                        help="seconds for all steps together (default: 480)")
    parser.add_argument("--cpu-rehearsal", action="store_true",
                        help="the same steps on the CPU, shortened: tests the script itself "
                        "where there is no GPU (the record says so)")
    args = parser.parse_args(argv)
    if args.budget <= 0:
        print(f"{parser.prog}: error: --budget must be > 0; received {args.budget}",
              file=sys.stderr)
        return 2
    record = gpu_check(args.out, args.budget, rehearsal=args.cpu_rehearsal)
    print(record_markdown(record))
    return 0 if record["ok"] else 1


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
