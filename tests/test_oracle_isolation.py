"""A target cannot take the oracle down: each one runs in a child process with a wall-clock
limit (parity_tests/isolation.py). A target that segfaults, calls os._exit, sleeps in C
with the alarm blocked, prints megabytes or allocates wildly gets an ``error`` line with
the reason, and the run goes on to a complete report."""

from __future__ import annotations

import contextlib
import io
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from dlparity import oracle
from dlparity.catalogue import NAMES
from dlparity.oracle import isolation

pytestmark = pytest.mark.skipif(not isolation.available(),
                                reason="isolation needs the 'fork' start method (POSIX)")

HOSTILE = """\
    import ctypes
    import os
    import signal
    import sys
    import time

    import numpy as np

    def relu_forward(x):
        ctypes.string_at(0)  # SIGSEGV

    def sigmoid_forward(x):
        os._exit(7)

    def tanh_forward(x):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})  # no alarm gets in
        time.sleep(60)

    def softmax_forward(x):
        print("x" * 5_000_000)  # megabytes, from Python ...
        os.write(1, b"y" * 5_000_000)  # ... and below it
        os.write(2, b"z" * 1_000_000)
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True), None

    def mse_loss(h, y):
        hog = [np.ones(2**27) for _ in range(1000)]  # 1 GiB a step, touched
        return hog, None

    def l2_regularization(w, reg):
        return 0.5 * reg * np.sum(w * w), reg * w
    """


def _write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def test_hostile_target_gets_error_lines_and_a_complete_report(tmp_path) -> None:
    path = _write(tmp_path, "hostile.py", HOSTILE)
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        report = oracle.check(str(path), dtype="float64", timeout=0.5, memory_mb=512)
    elapsed = time.perf_counter() - start
    lines = {r.name: r for r in report.results}
    assert set(lines) == set(NAMES)  # complete: every catalogue function has its line
    assert lines["relu_forward"].status == oracle.ERROR
    assert "SIGSEGV" in lines["relu_forward"].first.message
    assert lines["sigmoid_forward"].status == oracle.ERROR
    assert "exited with status 7" in lines["sigmoid_forward"].first.message
    assert lines["tanh_forward"].status == oracle.ERROR
    assert lines["tanh_forward"].first.check == "timeout"
    assert "wall-clock" in lines["tanh_forward"].first.message
    assert lines["mse_loss"].status == oracle.ERROR
    assert "MemoryError" in lines["mse_loss"].first.message
    assert lines["softmax_forward"].status == oracle.PASS  # printing is a note, not a failure
    assert any("printed" in n for n in lines["softmax_forward"].notes)
    assert lines["l2_regularization"].status == oracle.PASS  # checked after all the others
    assert out.getvalue() == ""  # none of the megabytes reached the oracle's output
    assert report.exit_status == 1
    assert elapsed < 30, elapsed  # the C sleep cost its budget, not its 60 s


def test_the_cli_survives_a_segfault_and_says_which_function(tmp_path) -> None:
    path = _write(tmp_path, "segv.py", """\
        import ctypes
        import numpy as np

        def relu_forward(x):
            return np.maximum(x, 0), x

        def relu_backward(dout, cache):
            ctypes.string_at(0)
        """)
    from dlparity.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", "--impl", str(path), "--no-repro"])
    assert code == 1 and err.getvalue() == ""
    text = out.getvalue()
    assert "relu_backward: error in check 'crashed'" in text, text
    assert "SIGSEGV" in text and "running relu_backward" in text
    relu = next(ln for ln in text.splitlines() if ln.startswith("relu_forward "))
    assert " PASS" in relu


def test_a_target_that_exits_at_import_is_an_import_error(tmp_path) -> None:
    path = _write(tmp_path, "exits.py", "import os\nos._exit(3)\n")
    with pytest.raises(oracle.TargetError, match="exited with status 3"):
        oracle.check(str(path))


def test_wall_clock_timeouts_work_off_the_main_thread(tmp_path) -> None:
    """No SIGALRM in the parent: the oracle may run in a worker thread (a GUI, a server)."""
    path = _write(tmp_path, "hangs.py", """\
        import time

        def sgd(w, dw, config=None):
            while True:
                time.sleep(0.01)
        """)
    box: dict[str, oracle.Report] = {}
    worker = threading.Thread(target=lambda: box.setdefault(
        "report", oracle.check(str(path), dtype="float32", timeout=0.3)))
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()
    line = next(r for r in box["report"].results if r.name == "sgd")
    assert line.status == oracle.ERROR
    assert line.first.check == "timeout"


def test_the_target_is_never_imported_by_the_oracle_process(tmp_path) -> None:
    path = _write(tmp_path, "marker.py", """\
        import sys
        sys.modules["dlparity_marker_was_imported"] = sys

        def l0_norm(w):
            return int((w != 0).sum())
        """)
    report = oracle.check(str(path))
    assert report.exit_status == 0
    assert "dlparity_marker_was_imported" not in sys.modules
    same = oracle.check(str(path), isolate=False)  # in process, on request
    assert same.exit_status == 0 and "dlparity_marker_was_imported" in sys.modules
    assert any("own process" in n for n in same.notes)
    del sys.modules["dlparity_marker_was_imported"]
