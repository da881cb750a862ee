"""dlparity.port without the frameworks: the spec, the reference side and the .npz format."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from test_port_fixtures import batch, files_in, seeded

from dlparity import port
from dlparity.port.diff import Side, chained_trace
from dlparity.port.reference_side import ReferenceRunner, fcnet_from_spec, spec_from_fcnet
from dlparity.port.spec import LayerSpec, LossSpec, ModelSpec, OptimizerSpec, TrainingSetup
from dlparity.reference import FullyConnectedNet, eval_numerical_gradient_array


def test_import_needs_numpy_only() -> None:
    code = ("import sys, dlparity.port; "
            "assert 'torch' not in sys.modules and 'tensorflow' not in sys.modules, "
            "sorted(m for m in sys.modules if m in ('torch', 'tensorflow'))")
    subprocess.run([sys.executable, "-c", code], check=True)


def _fcnet(**kw) -> FullyConnectedNet:
    model = FullyConnectedNet([8, 5], 6, 3, reg=0.25, dtype=np.float64, seed=0,
                              normalization="batchnorm", **kw)
    model.bn_params[0].update(running_mean=np.linspace(-1, 1, 8), running_var=np.full(8, 2.0))
    return model


def test_fcnet_spec_names_and_meaning() -> None:
    spec = spec_from_fcnet(_fcnet(dropout=0.25))
    assert [la.kind for la in spec.layers] == ["dense", "batchnorm", "relu", "dropout", "dense",
                                               "batchnorm", "relu", "dropout", "dense"]
    assert sorted(spec.params()) == sorted(["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2",
                                            "beta2", "W3", "b3"])
    assert spec.layers[1].config == {"momentum": 0.9, "eps": 1e-5, "running_var_unbiased": False,
                                      "num_batches_tracked": 0}
    assert spec.layers[0].config["reg"] == 0.25
    assert spec.is_fully_connected_net()


def test_fcnet_round_trip_through_npz_is_bit_exact(tmp_path) -> None:
    model = _fcnet()
    written = port.save_model(port.read(model), tmp_path / "m.npz")
    back = fcnet_from_spec(written.spec)
    for k, v in model.params.items():
        assert np.array_equal(back.params[k], v), k
    assert np.array_equal(back.bn_params[0]["running_mean"], model.bn_params[0]["running_mean"])
    x = batch()
    assert np.array_equal(back.loss(x), model.loss(x))


def test_params_only_npz_reads_as_fully_connected_net(tmp_path) -> None:
    model = FullyConnectedNet([4], 6, 3, dtype=np.float64, seed=1)
    np.savez(tmp_path / "p.npz", **model.params)
    side = port.load_model(tmp_path / "p.npz")
    assert [la.kind for la in side.spec.layers] == ["dense", "relu", "dense"]
    assert np.array_equal(fcnet_from_spec(side.spec).loss(batch()), model.loss(batch()))


def test_optimizer_state_survives_npz(tmp_path) -> None:
    rng = seeded("state")
    spec = spec_from_fcnet(FullyConnectedNet([4], 6, 3, dtype=np.float64, seed=2))
    state = {k: {"m": rng.standard_normal(v.shape), "v": rng.random(v.shape)}
             for k, v in spec.params().items()}
    opt = OptimizerSpec("adam", {"learning_rate": 0.01}, "textbook", 7, state)
    side = port.save_model(Side(spec, TrainingSetup(LossSpec(), opt)), tmp_path / "s.npz")
    got = side.setup.optimizer
    assert (got.kind, got.t, got.hyper["learning_rate"]) == ("adam", 7, 0.01)
    for k in state:
        assert np.array_equal(got.state[k]["m"], state[k]["m"])


def test_reference_runner_vjp_matches_numerical_gradient() -> None:
    spec = ModelSpec([LayerSpec("dense", {"units": 4, "in_features": 3, "reg": 0.5},
                                {"W": seeded("w").standard_normal((3, 4)), "b": np.zeros(4)}),
                      LayerSpec("leaky_relu", {"alpha": 0.1})], (3,))
    runner = ReferenceRunner(spec)
    x, g = seeded("x").standard_normal((5, 3)), seeded("g").standard_normal((5, 4))
    dx, _ = runner.vjp(0, x, g, True, None)
    num = eval_numerical_gradient_array(lambda z: runner.forward(0, z, True, None)[0], x, g)
    np.testing.assert_allclose(dx, num, rtol=1e-7)
    tr = chained_trace(runner, x, g, True, [None, None])
    assert tr.outputs[-1].shape == (5, 4)


@pytest.mark.parametrize(("content", "match"), [
    (b"not a zip file", "cannot read .* as a NumPy .npz"),
])
def test_bad_npz_is_a_clear_error_and_writes_nothing(tmp_path, content, match) -> None:
    (tmp_path / "bad.npz").write_bytes(content)
    with pytest.raises(ValueError, match=match):
        port.port_file(tmp_path / "bad.npz", tmp_path / "out.npz")
    assert files_in(tmp_path) == ["bad.npz"]


def test_npz_with_wrong_shapes_names_the_array(tmp_path) -> None:
    model = FullyConnectedNet([4], 6, 3, dtype=np.float64, seed=1)
    params = dict(model.params, b1=np.zeros(5))
    np.savez(tmp_path / "p.npz", **params)
    with pytest.raises(ValueError, match=r"'b1' must have shape \(4,\)"):
        port.load_model(tmp_path / "p.npz")


def test_paths_are_checked(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"must end in one of .*received '.h5'"):
        port.load_model(tmp_path / "m.h5")
    with pytest.raises(FileNotFoundError, match="no such model file"):
        port.load_model(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="LayerSpec: kind must be one of"):
        LayerSpec("conv2d")
    with pytest.raises(ValueError, match="batchnorm\\) must follow a dense layer"):
        ModelSpec([LayerSpec("batchnorm")], (3,))
