"""The one-go GPU script (benchmarks/gpu_check.py, gpu_check.sh) on a machine without CUDA:
it writes its record with every CUDA step skipped and the reason, and exits 0."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dlparity.benchmarks import gpu_check

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def no_cuda() -> None:
    from dlparity.torch_impl import _convert

    if _convert.cuda_available():
        pytest.skip("a CUDA device is visible: gpu_check would run the real steps")


def test_without_cuda_every_step_is_skipped_with_the_reason(no_cuda, tmp_path) -> None:
    record = gpu_check.gpu_check(tmp_path, budget_s=60)
    assert record["cuda"] is False and record["ok"] is True
    assert [s["name"] for s in record["steps"]] == ["parity", "train", "bench"]
    for step in record["steps"]:
        assert step["status"] == "skipped"
        assert "no CUDA device visible to torch" in step["reason"]
    on_disk = json.loads((tmp_path / "gpu-check.json").read_text())
    assert on_disk == record
    page = (tmp_path / "gpu-check.md").read_text()
    assert "| bench | skipped | - | no CUDA device visible to torch" in page
    assert record["environment"]["torch"] and "loadavg" in record["environment"]


def test_the_commands_are_the_issues(tmp_path) -> None:
    cmds = {k: " ".join(v) for k, v in gpu_check._commands(tmp_path).items()}
    assert "-k cuda and torch" in cmds["parity"]
    assert "train --model mnist --impl torch --device cuda" in cmds["train"]
    assert "bench --device cuda --quick" in cmds["bench"]
    assert sum(share for _, share in gpu_check.STEPS) == pytest.approx(1.0)


def test_the_shell_script_runs_and_exits_0(no_cuda, tmp_path) -> None:
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), str(tmp_path)],
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
                               "PYTHON": sys.executable, "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "| parity | skipped |" in done.stdout
    assert json.loads((tmp_path / "gpu-check.json").read_text())["ok"] is True


def test_a_bad_budget_exits_2(capsys) -> None:
    assert gpu_check.main(["--budget", "0"]) == 2
    assert "--budget must be > 0" in capsys.readouterr().err
