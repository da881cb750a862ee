"""Training trajectories after a port: 100 Adam steps with the optimizer state carried over
stay within the tolerance table; the divergence curve, progress bar and errors."""

from __future__ import annotations

import numpy as np
import pytest
from test_port_fixtures import batch, labels, torch_mlp, train_torch

torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

from dlparity import port  # noqa: E402
from dlparity.oracle.tolerances import tolerance  # noqa: E402
from dlparity.port.diff import Side  # noqa: E402
from dlparity.port.trajectory import plot_divergence, trajectory_diff  # noqa: E402
from dlparity.reference import FullyConnectedNet, adam  # noqa: E402

X, Y = batch("trajectory", n=32), labels("trajectory", n=32)


@pytest.fixture(scope="module")
def ported(tmp_path_factory) -> tuple[Side, Side]:
    """A torch model trained 3 Adam steps, saved, and ported to Keras with its state."""
    tmp = tmp_path_factory.mktemp("ported")
    model = torch_mlp(dropout=0.25)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    train_torch(model, opt, 3)
    port.save_model(port.read(model, optimizer=opt), tmp / "a.pt")
    port.port_file(tmp / "a.pt", tmp / "b.keras", keras_adam="textbook")
    return port.load_model(tmp / "a.pt"), port.load_model(tmp / "b.keras")


@pytest.mark.parametrize(("dtype", "steps"), [("float64", 100), ("float32", 30)])
def test_100_adam_steps_after_the_port_match(ported, dtype, steps) -> None:
    a, b = ported
    assert b.setup.optimizer.t == 3 and b.setup.optimizer.form == "textbook"
    report = trajectory_diff(a, b, X, Y, steps=steps, batch_size=8, dtype=dtype,
                             progress=False)
    tol = tolerance("adam", dtype)
    assert not report.diverged, report.first
    assert max(report.curve_ab) <= tol.rtol
    assert max(report.curve_a_ref) <= tol.rtol  # torch follows the reference too
    assert report.losses_a[-1] < report.losses_a[0]  # it trains


def test_reference_npz_to_torch_continues_the_same_trajectory(tmp_path) -> None:
    model = FullyConnectedNet([8, 5], 6, 3, reg=0.01, dtype=np.float64, seed=4,
                              weight_scale=0.3)
    configs = {k: {"learning_rate": 0.01} for k in model.params}
    for _ in range(2):  # two reference Adam steps, state in the configs
        _, grads = model.loss(X, Y)
        for k in model.params:
            model.params[k], configs[k] = adam(model.params[k], grads[k], configs[k])
    port.save_model(port.read(model, optimizer=("adam", configs)), tmp_path / "r.npz")
    port.port_file(tmp_path / "r.npz", tmp_path / "t.pt")
    a, b = port.load_model(tmp_path / "r.npz"), port.load_model(tmp_path / "t.pt")
    assert b.setup.optimizer.t == 2
    report = trajectory_diff(a, b, X, Y, steps=30, progress=False)
    assert not report.diverged, report.first


def test_divergence_curve_png_and_first_step(tmp_path, ported, capsys) -> None:
    a, _ = ported
    port.save_model(a, tmp_path / "stock.keras")  # keras.optimizers.Adam: epsilon-hat
    b = port.load_model(tmp_path / "stock.keras")
    report = trajectory_diff(a, b, X, Y, steps=8, progress=True)
    assert report.first["step"] == 1 and report.first["tensor"] in a.spec.params()
    assert "trajectory float64" in capsys.readouterr().err  # the tqdm bar
    plot_divergence(report, tmp_path / "curve.png")
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_trajectory_input_errors(ported) -> None:
    a, b = ported
    with pytest.raises(ValueError, match="steps must be an int >= 1; received 0"):
        trajectory_diff(a, b, X, Y, steps=0)
    with pytest.raises(ValueError, match="dtype must hold 'float64' and/or 'float32'; rec"):
        trajectory_diff(a, b, X, Y, steps=1, dtype="float16")
    with pytest.raises(ValueError, match=r"batch_size must be in \[1, 32\]"):
        trajectory_diff(a, b, X, Y, steps=1, batch_size=64)
    with pytest.raises(ValueError, match=r"batch must have shape \(N, 6\)"):
        trajectory_diff(a, b, X[:, :4], Y, steps=1)
    bare = Side(a.spec, None, "torch", "bare")
    with pytest.raises(ValueError, match="neither bare nor bare has an optimizer"):
        trajectory_diff(bare, bare, X, Y, steps=1)
