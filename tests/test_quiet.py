"""The dlparity commands print no TensorFlow C++ log lines unless --verbose
(``dlparity.quiet``): run as a user would, in a fresh process."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from dlparity.quiet import TF_LOG_LINE, filtered_stderr

# What TensorFlow writes to stderr on import and first use (absl's format and the older one).
TF_NOISE = re.compile(r"^[IWE]\d{4} |cpu_feature_guard|oneDNN custom operations|"
                      r"absl::InitializeLog|XLA service", re.M)

TRAIN = ["train", "--impl", "tf", "--data", "synthetic-mnist", "--iterations", "2",
         "--synthetic-size", "200", "--val-size", "20", "--batch-size", "10", "--no-progress",
         "--no-download"]


def _dlparity(*args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.Popen([sys.executable, "-c", "import sys; from dlparity.cli import main; "
                             "sys.exit(main())", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_train_with_tensorflow_prints_no_framework_log_lines_unless_verbose() -> None:
    pytest.importorskip("tensorflow")
    quiet, verbose = _dlparity(*TRAIN), _dlparity("--verbose", *TRAIN)  # side by side
    out, err = quiet.communicate(timeout=300)
    v_out, v_err = verbose.communicate(timeout=300)
    assert quiet.returncode == 0, err
    assert "test accuracy" in out, out
    assert not TF_NOISE.search(err), f"TensorFlow log lines on stderr:\n{err}"
    assert verbose.returncode == 0, v_err
    # --verbose leaves TensorFlow alone: whatever it prints gets through (this TF prints
    # the oneDNN notice on import; a build that prints nothing leaves nothing to see).
    if not TF_NOISE.search(v_err):
        pytest.skip("this TensorFlow prints no log line at all, even with --verbose")


@pytest.mark.parametrize("line", [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    "I0000 00:00:1796565868.598459   12852 port.cc:153] oneDNN custom operations are on.\n",
    "W0000 00:00:1700000000.000001    77 cpu_feature_guard.cc:210] This TensorFlow binary...\n",
    "2024-01-01 10:00:00.123456: I tensorflow/core/platform/cpu_feature_guard.cc:182] AVX2\n",
])
def test_tensorflow_log_lines_are_recognised(line: str) -> None:
    assert TF_LOG_LINE.match(line)


@pytest.mark.parametrize("line", [
    "Traceback (most recent call last):\n",
    "F0000 00:00:1796565868.598459   12852 a.cc:1] fatal: kept\n",
    "UserWarning: something the user must see\n",
    "epoch 1 (iteration 2): loss 2.4\n",
])
def test_other_lines_are_not_taken_for_log_lines(line: str) -> None:
    assert not TF_LOG_LINE.match(line)


def test_filtered_stderr_keeps_what_is_not_a_log_line(capfd) -> None:
    with filtered_stderr():
        os.write(2, b"I0000 00:00:1.5   1 port.cc:153] oneDNN custom operations are on.\n")
        os.write(2, b"a real problem\n")
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called\n")
        os.write(2, b"and its second line\n")
    assert capfd.readouterr().err == "a real problem\nand its second line\n"
