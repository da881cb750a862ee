"""Verdicts that cannot be faked: targets written to cheat the oracle.

The target runs in a process of its own that receives inputs and returns outputs; the
reference, the comparison and the verdict are computed in the oracle's process. Whatever a
target does to its own process can change a verdict only through the values it returns,
and a function whose values would come from dlparity itself is ``borrowed``, never PASS.
Each target here is written to get a PASS it has not earned; none may.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import dlparity
from dlparity.cli import main as cli_main
from dlparity.oracle import isolation
from dlparity.oracle.report import BORROWED, ERROR, FAIL, PASS, VIA

pytestmark = pytest.mark.skipif(not isolation.available(),
                                reason="targets run in a process of their own on POSIX only")

RELU_WRONG = """
import numpy as np

def relu_forward(x):
    return 2 * x, x            # wrong: ReLU is max(x, 0)

def relu_backward(dout, cache):
    return dout * (cache > 0)
"""


def _target(tmp_path: Path, source: str, name: str = "target.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def _status(report, name: str) -> str:
    return next(r.status for r in report.results if r.name == name)


def _check(path: Path, only: str, **kw):
    return dlparity.check(str(path), dtype="float64", only=only.split(","), **kw)


def test_overwriting_dlparity_reference_at_import_changes_nothing(tmp_path) -> None:
    """relu_forward returns 2x and, at import, assigns itself over the reference's
    relu_forward (package and module): the reference the oracle uses is not its to touch."""
    path = _target(tmp_path, RELU_WRONG + """
import dlparity.reference, dlparity.reference.layers
dlparity.reference.relu_forward = relu_forward
dlparity.reference.layers.relu_forward = relu_forward
""")
    report = _check(path, "relu_forward")
    assert _status(report, "relu_forward") == FAIL
    assert report.exit_status == 1
    assert any("stand-in" in n for n in report.notes), report.notes


def test_patching_numpy_comparisons_at_import_changes_nothing(tmp_path) -> None:
    path = _target(tmp_path, """
import numpy as np
import numpy.testing

def sigmoid_forward(x):
    out = 1.0 / (1.0 + np.exp(x))   # wrong sign
    return out, out

def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)

np.allclose = lambda *a, **k: True
np.max = lambda *a, **k: 0.0
np.linalg.norm = lambda *a, **k: 0.0
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
""")
    report = _check(path, "sigmoid_forward,sigmoid_backward")
    assert _status(report, "sigmoid_forward") == FAIL
    assert report.exit_status == 1
    tamper = [n for n in report.notes if n.startswith("tampering")]
    assert tamper and "numpy.allclose" in tamper[0] and "numpy.linalg.norm" in tamper[0]


def test_patching_the_engine_from_the_target_changes_nothing(tmp_path) -> None:
    """The engine's modules are not in the target's process: 'patching' them there is
    patching a stand-in."""
    path = _target(tmp_path, RELU_WRONG + """
try:
    import dlparity.oracle.compare as compare
    compare.compare_array = lambda *a, **k: (None, 0.0)
    import dlparity.oracle.engine as engine
    engine.compare_one = lambda *a, **k: (None, 0.0)
except BaseException:
    pass
""")
    assert _status(_check(path, "relu_forward"), "relu_forward") == FAIL


@pytest.mark.parametrize("how", ["module", "from_import", "alias", "caught"])
def test_functions_that_call_dlparity_are_borrowed_never_pass(tmp_path, how) -> None:
    body = {
        "module": """
            import dlparity.reference as ref
            def relu_forward(x):
                return ref.relu_forward(x)
            def relu_backward(dout, cache):
                return ref.relu_backward(dout, cache)
            def adam(w, dw, config=None):
                return ref.adam(w, dw, config)
            """,
        "from_import": """
            from dlparity.reference import relu_forward, relu_backward, adam
            """,
        "alias": """
            import dlparity.torch_impl
            relu_forward = dlparity.torch_impl.relu_forward
            from dlparity.reference.layers import relu_backward
            from dlparity.reference import optim
            adam = optim.adam
            """,
        # swallowing the stand-in's exception and computing on does not hide the call
        "caught": """
            import numpy as np
            import dlparity.reference as ref
            def relu_forward(x):
                try:
                    return ref.relu_forward(x)
                except BaseException:
                    return np.maximum(x, 0), x
            def relu_backward(dout, cache):
                try:
                    return ref.relu_backward(dout, cache)
                except BaseException:
                    return dout * (cache > 0)
            def adam(w, dw, config=None):
                return ref.adam(w, dw, config)
            """,
    }[how]
    path = _target(tmp_path, body)
    report = _check(path, "relu_forward,relu_backward,adam")
    for name in ("relu_forward", "relu_backward", "adam"):
        line = next(r for r in report.results if r.name == name)
        assert line.status == BORROWED, (name, line.status)
        assert any(v.startswith("dlparity.") for v in line.via), line.via
    assert report.exit_status == 1
    assert "MATCHES" not in report.summary()


def test_a_module_with_only_backwards_checks_nothing_and_exits_2(tmp_path, capsys) -> None:
    path = _target(tmp_path, """
def affine_backward(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)

def batchnorm_backward(dout, cache):
    return dout, dout.sum(0), dout.sum(0)
""")
    code = cli_main(["check", "--impl", str(path), "--no-repro"])
    out = capsys.readouterr().out
    assert code == 2
    assert "NOTHING WAS CHECKED" in out and "MATCHES" not in out
    assert "affine_backward" in out and "cannot run without their forward" in out


def test_nearly_named_functions_are_pointed_out(tmp_path, capsys) -> None:
    path = _target(tmp_path, """
import numpy as np
def affine_foward(x, w, b):
    return x.reshape(len(x), -1) @ w + b, (x, w, b)
""")
    code = cli_main(["check", "--impl", str(path), "--no-repro"])
    out = capsys.readouterr().out
    assert code == 2 and "affine_foward -> affine_forward" in out


def test_a_backward_whose_forward_raises_on_a_contract_case_is_not_pass(tmp_path) -> None:
    """The documents' part-1 affine_forward reshapes with x.shape[1] and raises on SPEC's
    4-D input: affine_backward, right everywhere it runs, never ran on that case."""
    path = _target(tmp_path, """
import numpy as np
def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], x.shape[1]) @ w + b   # raises on (N, d1, d2, d3)
    return out, (x, w, b)

def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.sum(axis=0)
""")
    report = _check(path, "affine_forward,affine_backward")
    assert _status(report, "affine_forward") == ERROR
    backward = next(r for r in report.results if r.name == "affine_backward")
    assert backward.status == VIA and backward.via == ["affine_forward"]
    assert any("4d_input" in n for n in backward.notes), backward.notes


def test_a_lying_array_subclass_is_not_a_value(tmp_path) -> None:
    """An ndarray subclass whose comparisons always agree never crosses as a value."""
    path = _target(tmp_path, """
import numpy as np
class Agreeable(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(other), bool)
    def __sub__(self, other): return np.zeros(np.shape(other))
    def __rsub__(self, other): return np.zeros(np.shape(other))
    def __abs__(self): return np.zeros(self.shape)
def relu_forward(x):
    return np.zeros_like(x).view(Agreeable), x
""")
    assert _status(_check(path, "relu_forward"), "relu_forward") in (FAIL, ERROR)


def test_a_returned_object_cannot_run_code_in_the_oracle(tmp_path) -> None:
    witness = tmp_path / "ran_in_the_oracle"
    path = _target(tmp_path, f"""
import os
class Payload:
    def __reduce__(self):
        return (os.system, ("touch {witness}",))
def relu_forward(x):
    return Payload(), x
""")
    assert _status(_check(path, "relu_forward"), "relu_forward") == ERROR
    assert not witness.exists()


def test_forged_answers_on_the_pipe_are_refused(tmp_path) -> None:
    """A target that writes a pickle with a global (code to run) on every pipe it can see:
    the oracle's unpickler refuses globals; the function gets an error, nothing runs."""
    witness = tmp_path / "forged"
    path = _target(tmp_path, f"""
import os, pickle, struct
class Payload:
    def __reduce__(self):
        return (os.system, ("touch {witness}",))
def relu_forward(x):
    data = pickle.dumps(("result", {{"ok": True, "value": Payload()}}))
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            os.write(fd, struct.pack("!Q", len(data)) + data)
        except OSError:
            pass
    return x, x
""")
    report = _check(path, "relu_forward")
    assert _status(report, "relu_forward") == ERROR
    assert not witness.exists()


def test_patching_builtins_and_the_global_rng_changes_nothing(tmp_path) -> None:
    path = _target(tmp_path, RELU_WRONG + """
import builtins, random
import numpy as np
builtins.abs = lambda x: 0
builtins.max = lambda *a, **k: 0
np.random.seed(0)
np.seterr(all="ignore")
""")
    report = _check(path, "relu_forward")
    assert _status(report, "relu_forward") == FAIL


def test_correct_code_still_passes_in_its_own_process(tmp_path) -> None:
    path = _target(tmp_path, """
import numpy as np
def relu_forward(x):
    return np.maximum(x, 0), x
def relu_backward(dout, cache):
    return np.where(cache > 0, dout, 0.0)
""")
    report = _check(path, "relu_forward,relu_backward")
    assert [_status(report, n) for n in ("relu_forward", "relu_backward")] == [PASS, PASS]
    assert report.exit_status == 0 and not report.notes
