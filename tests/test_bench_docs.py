"""docs/benchmarks.md and README.md quote measured numbers only through generated blocks:
each block is what ``benchmarks/docs_tables.py`` renders from the committed reports in
``benchmarks/results/``, and those reports are complete (every variant, breakdowns that
add up, the machine and load recorded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlparity.benchmarks import attempts, docs_tables, report, runner
from dlparity.benchmarks.breakdown import PARTS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def reports() -> dict:
    return docs_tables.load_reports()


@pytest.mark.parametrize("page", ["docs/benchmarks.md", "README.md"])
def test_pages_quote_the_committed_reports(page: str, reports: dict) -> None:
    text = (ROOT / page).read_text()
    assert "bench-" in text, f"{page} has no generated benchmark block"
    assert docs_tables.render(text, reports) == text, (
        f"{page} is out of date: run `python -m dlparity.benchmarks.docs_tables`")


def test_every_block_of_the_page_is_generated(reports: dict) -> None:
    text = (ROOT / "docs" / "benchmarks.md").read_text()
    names = {m.group(2) for m in docs_tables._BLOCK.finditer(text)}
    assert names == set(docs_tables.BLOCKS) - {"readme"}


def test_the_cpu_report_is_complete(reports: dict) -> None:
    cpu = reports["cpu"]
    report.check_report(cpu)
    m = cpu["machine"]
    assert m["cpu_isa"] and m["threads_applied"] and all(m["threads_applied"].values())
    assert len(m["loadavg"]) == 3 and len(m["loadavg_start"]) == 3
    measured = {(r["impl"], r["model"], r["batch"], r["phase"]) for r in cpu["results"]}
    cpu_impls = [i for i in runner.IMPLS if runner.skip_reason(i, "cpu") is None]
    for case in runner.cases():
        for phase in runner.PHASES:
            for impl in cpu_impls:
                assert (impl, case.model, case.batch, phase) in measured
    assert all("limit_fraction" in r for r in cpu["results"])
    for b in cpu["breakdown"]:
        assert all(b[f"{p}_ms"] >= 0 for p in PARTS)
        assert sum(b[f"{p}_ms"] for p in PARTS) == pytest.approx(b["step_ms"], rel=1e-9)
    assert {(b["impl"], b["batch"]) for b in cpu["breakdown"]} >= {
        (i, 1024) for i in cpu_impls}


def test_the_attempts_report_has_every_attempt(reports: dict) -> None:
    rows = reports["attempts"]["attempts"]
    assert [a["name"] for a in rows] == [a.name for a in attempts.ATTEMPTS]
    for a in rows:
        if "error" not in a:
            assert a["speedup"] == pytest.approx(a["before_ms"] / a["after_ms"])
    assert {r["batch"] for r in reports["attempts"]["batches"]} == set(attempts.BATCHES)


@pytest.mark.parametrize("owner, before, after, words", [
    ("numpy.fast", 10.0, 8.0, "kept in numpy.fast"),
    ("numpy.fast", 10.0, 9.9, "dropped"),
    ("setting", 10.0, 9.0, "helps"),
    ("setting", 10.0, 10.1, "no gain"),
    ("setting", 10.0, 12.0, "slower"),
    ("numerics", 10.0, 5.0, "not kept: changes float32 results (faster)"),
])
def test_verdicts(owner: str, before: float, after: float, words: str) -> None:
    assert words in attempts.verdict(owner, before, after)


def test_attempts_and_batch_tables_from_a_hand_report() -> None:
    rep = {"rounds": 7, "machine": {"loadavg": [0.1, 0.2, 0.3]},
           "attempts": [{"name": "x", "group": "NumPy", "before": "a", "after": "b",
                         "before_ms": 10.0, "after_ms": 8.0, "speedup": 1.25,
                         "verdict": "kept in numpy.fast"},
                        {"name": "y", "group": "TF flags", "error": "boom"}],
           "batches": [{"impl": "torch", "batch": 256, "ms_per_step": 3.0,
                        "samples_per_s": 85333.3, "gflops": 80.0, "limit_gflops": 160.0,
                        "limit_fraction": 0.5}]}
    table = docs_tables.attempts_table(rep)
    assert "| NumPy | x | 1024 | a | 10.00 | b | 8.00 | 1.25x | kept in numpy.fast |" in table
    assert "| TF flags | y | 1024 | | | | | | could not run: boom |" in table
    assert "| 256 | torch | 3.00 | 85,333 | 80.0 | 160.0 | 50.0 |" in docs_tables.batches_table(rep)


def test_the_prose_of_the_targets_section_holds_for_the_committed_report(reports: dict) -> None:
    """docs/benchmarks.md's "Targets of issue 12" says these things in words."""
    cpu = reports["cpu"]
    t = report.targets(cpu)
    impl, frac = t["best_cpu_limit_fraction_mnist1024_train"]
    assert frac >= 0.6
    by = {(r["impl"], r["model"], r["batch"], r["phase"]): r for r in cpu["results"]}
    for other in ("torch.compile", "tf.function"):  # "within a few points of it"
        assert by[(other, "mnist", 1024, "train")]["limit_fraction"] >= 0.55
    ratios = {(o["model"], o["batch"], o["phase"]): o for o in t["numpy_vs_fastest_framework"]}
    assert all(o["numpy"] <= 1.3 for o in ratios.values())  # "met" in every case
    assert all(o["numpy.fast"] <= 1.3 for o in ratios.values())  # "in every case"
    fastest = [min((r for r in cpu["results"] if (r["model"], r["batch"], r["phase"]) == k),
                   key=lambda r: r["ms_per_step"])["impl"] for k in ratios]
    assert fastest.count("numpy.fast") > len(fastest) / 2  # "the fastest CPU variant in most"


def _bd(cpu: dict, impl: str, model: str = "mnist", batch: int = 1024) -> dict:
    [b] = [b for b in cpu["breakdown"] if (b["impl"], b["model"], b["batch"]) ==
           (impl, model, batch)]
    return b


def test_the_prose_reading_of_the_breakdown_holds_for_the_committed_report(reports) -> None:
    """The words of docs/benchmarks.md around the limit and breakdown tables."""
    cpu = reports["cpu"]
    peak = cpu["gemm_peak_gflops"]
    for key, lim in cpu["limits"].items():  # "within 30 % of the square peak"
        assert 0.7 <= lim["gflops"]["best"] / peak <= 1.05, key  # a shape may match it
    small = [p for p in cpu["limits"]["mnist b1024 train cpu"]["products"]
             if p["label"] == "H2 @ W3"][0]
    assert small["flops"] / small["best_ms"] / 1e6 < peak / 2  # "less than half of it"
    for p in cpu["limits"]["mnist b1024 train cpu"]["products"]:
        if p["flops"] > 1e8:  # "OpenBLAS is slower than oneDNN on the big shapes"
            assert p["numpy_ms"] > p["torch_ms"], p["label"]
    lim_ms = cpu["limits"]["mnist b1024 train cpu"]["ms"]["best"]
    for impl in ("numpy.fast", "torch", "torch.compile", "tf.function", "tf.xla"):
        b = _bd(cpu, impl)
        assert 0.58 <= b["gemm_in_step_ms"] / b["step_ms"] <= 0.82, impl  # about 3/5 to 4/5
        assert b["gemm_in_step_ms"] > lim_ms, impl  # "longer in the step than the limit"
        rest = b["measured_ms"]["elementwise"] + b["measured_ms"]["optimizer"]
        assert (2.5 <= rest <= 3.5) if impl == "torch" else (1.0 <= rest <= 2.0), impl
    assert 0.4 <= _bd(cpu, "tf.eager")["overhead_ms"] / _bd(cpu, "tf.eager")["step_ms"] <= 0.6
    assert 1.0 <= _bd(cpu, "torch.compile")["overhead_ms"] <= 2.0
    for model, batch in (("mnist", 100), ("cifar10", 200)):  # Adam 1/6-2/5, products 1/4-3/5
        for impl in ("numpy.fast", "torch", "torch.compile", "tf.function"):
            b = _bd(cpu, impl, model, batch)
            assert 1 / 6 <= b["optimizer_ms"] / b["step_ms"] <= 0.4, (impl, model)
            assert 0.24 <= b["gemm_ms"] / b["step_ms"] <= 0.65, (impl, model)


def test_the_prose_reading_of_the_attempts_holds_for_the_committed_report(reports) -> None:
    """The words of docs/benchmarks.md under the attempts and batch tables."""
    rows = reports["attempts"]["attempts"]

    def verdicts(words: str) -> list[str]:
        return [a["verdict"] for a in rows if words in a["name"]]

    assert all(v == "kept in numpy.fast" for a in rows if a["group"] == "NumPy"
               for v in [a["verdict"]])
    for helps in ("torch.compile (default mode)", "Adam(fused=True)", "flush denormals"):
        assert verdicts(helps) and all(v == "helps" for v in verdicts(helps)), helps
    for no in ("max-autotune", "oneDNN off in torch", "XLA_FLAGS", "OPENBLAS_CORETYPE"):
        assert verdicts(no) and all(v != "helps" for v in verdicts(no)), no
    [haswell] = [a for a in rows if "Haswell" in a["name"]]
    assert haswell["speedup"] < 1 and "Haswell" in haswell["blas"][0]
    [spr] = [a for a in rows if "SapphireRapids" in a["name"]]
    assert "SkylakeX" in spr["blas"][0]  # "leaves OpenBLAS on its SkylakeX kernels"
    [bf16] = [a for a in rows if "bf16" in a["name"]]
    assert bf16["speedup"] > 1.5 and bf16["verdict"].startswith("not kept")
    sweep = reports["attempts"]["batches"]
    for impl in {r["impl"] for r in sweep}:  # "larger batches move every variant closer"
        fracs = [r["limit_fraction"] for r in sorted(sweep, key=lambda r: r["batch"])
                 if r["impl"] == impl]
        assert fracs[-1] > fracs[0], impl
