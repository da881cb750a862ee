"""The benchmark suite: every implementation x case x phase x device as one
pytest-benchmark, through the same variants as ``dlparity bench`` (``runner.py``).

    pytest benchmarks/ --benchmark-only                  # everything that runs here
    pytest benchmarks/ --benchmark-only -k "numpy or tf.function" --bench-threads 2

One benchmark round is one step (a training step, or an inference pass). The first call
(compilation, tracing) is made before timing and stored in ``extra_info['compile_s']``,
with the FLOPs per step, GFLOP/s at the median and the data used. Variants that cannot
run here (CUDA without a GPU, a framework not installed) are skipped with the reason.
"""

from __future__ import annotations

from typing import Any

import pytest

from dlparity.benchmarks import runner

pytest.importorskip("pytest_benchmark")

_DATA: dict[runner.Case, tuple[list, str, str]] = {}


def _batches(case: runner.Case) -> tuple[list, str, str]:
    if case not in _DATA:
        _DATA[case] = runner.bench_data(case)
    return _DATA[case]


@pytest.mark.parametrize("device", runner.DEVICES)
@pytest.mark.parametrize("phase", runner.PHASES)
@pytest.mark.parametrize("case", runner.cases(), ids=lambda c: f"{c.model}-b{c.batch}")
@pytest.mark.parametrize("impl", runner.IMPLS)
def test_step(benchmark: Any, impl: str, case: runner.Case, phase: str, device: str) -> None:
    reason = runner.skip_reason(impl, device)
    if reason:
        pytest.skip(reason)
    if device == "cuda":
        runner.disable_tf32({runner.FRAMEWORK[impl]})
    batches, data, _ = _batches(case)
    variant = runner.make_variant(impl, case, phase, device, batches, data=data)
    compile_s = variant.first_call()
    runner.calibrate(variant, warmup_s=0.3, min_time_s=0.0)
    benchmark.group = f"{case.model} b{case.batch} {phase} {device}"
    benchmark(variant.run, 1)
    median_s = benchmark.stats.stats.median
    benchmark.extra_info.update(
        compile_s=compile_s, flops_per_step=variant.flops_per_step, data=data,
        gflops=variant.flops_per_step / median_s / 1e9, samples_per_s=case.batch / median_s)
