"""``dlparity bench --profile`` (benchmarks/breakdown.py, profile_torch.py, profile_tf.py):
the parts of a step are non-negative and add up to the step time, the profilers' events
land in the right part, and the table and chart are drawn."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from dlparity.benchmarks import breakdown as bd
from dlparity.benchmarks import profile_torch, runner

PART_KEYS = [f"{p}_ms" for p in bd.PARTS]


@pytest.mark.parametrize("measured", [
    {"gemm": 5.0, "elementwise": 1.0, "optimizer": 0.5, "conversion": 0.2},
    {"gemm": 5.0, "elementwise": -0.1, "optimizer": 0.0},  # a negative reading becomes 0
])
def test_parts_are_non_negative_and_overhead_is_the_rest(measured: dict) -> None:
    parts = bd.assemble(10.0, measured)
    assert all(parts[k] >= 0 for k in PART_KEYS)
    assert sum(parts[k] for k in PART_KEYS) == pytest.approx(10.0, rel=1e-12)
    assert parts["gemm_ms"] == 5.0 and parts["clipped_ms"] == 0.0


def test_parts_that_exceed_the_step_are_scaled_to_it_and_the_excess_reported() -> None:
    parts = bd.assemble(8.0, {"gemm": 6.0, "elementwise": 3.0, "optimizer": 1.0})
    assert parts["clipped_ms"] == pytest.approx(2.0)
    assert parts["overhead_ms"] == pytest.approx(0.0, abs=1e-12)
    assert sum(parts[k] for k in PART_KEYS) == pytest.approx(8.0, rel=1e-12)
    assert parts["gemm_ms"] / parts["elementwise_ms"] == pytest.approx(2.0)  # proportions kept


def _event(name: str, parent: object = None) -> SimpleNamespace:
    return SimpleNamespace(name=name, cpu_parent=parent, self_cpu_time_total=1000.0)


def test_torch_events_land_in_their_parts() -> None:
    opt = _event("Optimizer.step#Adam.step")
    region = _event("Torch-Compiled Region: 1/0")
    addmm = _event("aten::addmm", region)
    cases = {
        "aten::mm": "gemm", "aten::relu": "elementwise",
        "graph_0_cpp_fused_relu_0": "elementwise",
        "graph_2_cpp_fused_add_addcdiv_lerp_sqrt_0": "optimizer",
        "aten::view": None, "TorchDynamo Cache Lookup": None, "aten::item": "conversion",
    }
    for name, part in cases.items():
        assert profile_torch.classify_cpu(_event(name, region if "graph" in name else None)) \
            == part, name
    assert profile_torch.classify_cpu(_event("aten::mul", opt)) == "optimizer"
    assert profile_torch.classify_cpu(_event("aten::copy_", addmm)) == "elementwise"
    assert profile_torch.classify_cpu(_event("aten::copy_")) == "conversion"
    per_step = profile_torch.classify_events([_event("aten::mm"), _event("aten::mm"),
                                              _event("aten::relu")], steps=2)
    assert per_step == {"gemm": 1.0, "elementwise": 0.5, "optimizer": 0.0, "conversion": 0.0}


def test_tf_events_land_in_their_parts() -> None:
    from dlparity.benchmarks import profile_tf

    def ev(offset: int, stats: tuple = ()) -> SimpleNamespace:
        return SimpleNamespace(offset_ps=offset, stats=list(stats))

    span = [(100, 200)]
    part = profile_tf._event_part
    assert part("EagerLocalExecute: MatMul", ev(0), {}, span, {}, "python") == "gemm"
    assert part("EagerLocalExecute: Mul", ev(150), {}, span, {}, "python") == "optimizer"
    assert part("EagerLocalExecute: Relu", ev(50), {}, span, {}, "python") == "elementwise"
    assert part("a/Relu:_MklNativeFusedMatMul", ev(0), {}, [], {}, "tf_Compute/1") == "gemm"
    assert part("dlp_optimizer/mul_3:Mul", ev(0), {}, [], {}, "tf_Compute/1") == "optimizer"
    assert part("ReadVariableOp:ReadVariableOp", ev(0), {}, [], {}, "tf_Compute/1") is None
    assert part("ExecutorState::Process", ev(0), {}, [], {}, "tf_Compute/1") is None
    hlo = (SimpleNamespace(metadata_id=7),)
    names = {"fusion.3": "dlp_optimizer/add_1", "fusion.4": "gradient_tape/ReluGrad"}
    assert part("fusion.3", ev(0, hlo), {7: "hlo_op"}, [], names, "python") == "optimizer"
    assert part("fusion.4", ev(0, hlo), {7: "hlo_op"}, [], names, "python") == "elementwise"
    assert part("MatMul.12", ev(0, hlo), {7: "hlo_op"}, [], names, "python") == "gemm"


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One thread per library, as ``dlparity bench`` runs (the profilers are slow to
    watch a thread pool fight for a busy machine's cores)."""
    settings, restore = runner.pin_threads(1, {"torch"})
    yield settings
    restore()


@pytest.fixture(scope="module")
def tiny_case() -> tuple[runner.Case, list]:
    case = runner.Case("mnist", "mnist_fc_tf", (784, 256, 100, 10), 5e-5, 32)
    rng = np.random.default_rng(0)
    batches = [(rng.random((32, 784), dtype=np.float32), rng.integers(0, 10, 32))
               for _ in range(2)]
    return case, batches


@pytest.mark.parametrize("impl", ["numpy", "numpy.fast", "torch", "tf.function"])
def test_a_measured_breakdown_adds_up_to_the_step(impl: str, tiny_case) -> None:
    case, batches = tiny_case
    if runner.skip_reason(impl, "cpu"):
        pytest.skip(runner.skip_reason(impl, "cpu"))
    variant = runner.make_variant(impl, case, "train", "cpu", batches)
    variant.first_call()
    b = bd.breakdown(variant, rounds=2)
    assert (b["impl"], b["batch"], b["device"]) == (impl, 32, "cpu")
    assert all(b[k] >= 0 for k in PART_KEYS)
    assert sum(b[k] for k in PART_KEYS) == pytest.approx(b["step_ms"], rel=1e-9)
    assert b["gemm_ms"] > 0 and b["step_ms"] > 0
    assert b["gemm_products"] == 8  # no variant computes the input batch's dX
    if impl != "numpy":
        assert b["gemm_in_step_ms"] > 0  # a profiler / section clock saw the products


def test_breakdown_refuses_inference(tiny_case) -> None:
    case, batches = tiny_case
    variant = runner.make_variant("numpy", case, "infer", "cpu", batches)
    with pytest.raises(ValueError, match="training step only"):
        bd.breakdown(variant)


def _row(impl: str, step: float) -> dict:
    return {"impl": impl, "model": "mnist", "batch": 1024, "device": "cpu", "step_ms": step,
            **bd.assemble(step, {"gemm": 6.0, "elementwise": 1.0, "optimizer": 0.5,
                                 "conversion": 0.25}), "gemm_in_step_ms": 6.5}


def test_breakdown_table_and_chart(tmp_path) -> None:
    rows = [_row("torch", 10.0), _row("numpy.fast", 9.0)]
    results = [{"impl": "torch", "model": "mnist", "batch": 1024, "device": "cpu",
                "phase": "train", "limit_fraction": 0.62}]
    table = bd.breakdown_table(rows, results)
    lines = table.splitlines()
    assert lines[2].startswith("| mnist | 1024 | cpu | numpy.fast | 9.00 | 6.00 (67%) |")
    assert lines[3].endswith("| 2.25 (22%) | 6.50 | 62.0 |")  # overhead, in step, % limit
    assert lines[2].endswith("| 6.50 | - |")
    pytest.importorskip("matplotlib")
    bd.write_breakdown_png(rows, tmp_path / "b.png", title="test")
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
