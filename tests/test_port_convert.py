"""Conversions between torch, Keras and the reference: bit-exact weights and optimizer
state, hyper-parameters in the target's meaning, clear errors that write nothing."""

from __future__ import annotations

import numpy as np
import pytest
from test_port_fixtures import batch, files_in, keras_mlp, torch_mlp, train_torch

torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

from torch import nn  # noqa: E402

from dlparity import port  # noqa: E402
from dlparity.port import keras_side, torch_side  # noqa: E402


def _state_dicts_equal(a: dict, b: dict) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a if not k.endswith("num_batches_tracked"))


@pytest.mark.parametrize("make_opt", [
    lambda p: torch.optim.Adam(p, lr=0.01),
    lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.5),
    lambda p: torch.optim.RMSprop(p, lr=0.01),
], ids=["adam", "sgd_momentum", "rmsprop"])
def test_torch_keras_torch_round_trip_is_bit_exact(tmp_path, make_opt) -> None:
    model = torch_mlp(bn=True, act=nn.LeakyReLU(), dropout=0.25)
    opt = make_opt(model.parameters())
    train_torch(model, opt, 3)
    port.save_model(port.read(model, optimizer=opt), tmp_path / "a.pt")
    port.port_file(tmp_path / "a.pt", tmp_path / "b.keras")
    port.port_file(tmp_path / "b.keras", tmp_path / "c.pt")
    a = torch.load(tmp_path / "a.pt", weights_only=True)
    c = torch.load(tmp_path / "c.pt", weights_only=True)
    assert _state_dicts_equal(a["state_dict"], c["state_dict"])
    assert a["optimizer"]["param_groups"] == c["optimizer"]["param_groups"]
    for i, state in a["optimizer"]["state"].items():
        for k, v in state.items():
            got = c["optimizer"]["state"][i][k]
            if "momentum_buffer" in k:  # buf = -v/lr and back: one rounding each way
                torch.testing.assert_close(got, v, rtol=1e-15, atol=0)
            else:
                assert torch.equal(got, v), (i, k)


def test_hyper_parameters_in_the_targets_meaning(tmp_path) -> None:
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8, momentum=0.1, eps=1e-5),
                          nn.LeakyReLU(), nn.Linear(8, 3)).double()
    out = port.convert(model, "keras")
    bn = out.model.get_layer("batchnorm1")
    assert (bn.momentum, bn.epsilon) == (0.9, 1e-5)
    assert out.model.layers[2].negative_slope == 0.01  # torch's default carried, not 0.3
    assert any(n.startswith("bn_running_var_unbiased") for n in out.notes)

    k = keras_mlp([keras.layers.Dense(8, kernel_regularizer=keras.regularizers.L2(5e-5)),
                   keras.layers.BatchNormalization(), keras.layers.Dense(3)])
    spec = port.read(k).spec
    # L2(l2) = 0.5 * (2 * l2) * sum(W**2), with l2 as Keras computes with it: float32
    assert spec.layers[0].config["reg"] == 2 * float(np.float32(5e-5)) != 1e-4
    assert spec.layers[1].config["momentum"] == 0.99
    t = port.convert(k, "torch").model
    assert (t[1].momentum, t[1].eps) == (pytest.approx(0.01), 1e-3)


def test_keras_dense_with_activation_and_activation_layers() -> None:
    f64 = {"dtype": "float64"}  # explicit: Keras's floatx is float32 unless set
    k = keras_mlp([keras.layers.Dense(8, activation="relu", **f64), keras.layers.Dense(5, **f64),
                   keras.layers.Activation("leaky_relu", **f64), keras.layers.Dense(3, **f64),
                   keras.layers.Softmax(**f64)])
    kinds = [la.kind for la in port.read(k).spec.layers]
    assert kinds == ["dense", "relu", "dense", "leaky_relu", "dense", "softmax"]
    assert port.read(k).spec.layers[3].config["alpha"] == 0.2  # keras.activations' default
    t = port.convert(k, "torch").model
    x = batch()
    np.testing.assert_allclose(t(torch.from_numpy(x)).detach().numpy(), k(x).numpy(),
                               rtol=1e-6)


def test_the_three_fully_connected_nets_convert() -> None:
    from dlparity.reference import FullyConnectedNet as RefNet
    from dlparity.tf_impl import FullyConnectedNet as TfNet
    from dlparity.torch_impl import FullyConnectedNet as TorchNet

    x, y = batch(), np.arange(16) % 3
    ref = RefNet([8], 6, 3, reg=0.1, dtype=np.float64, seed=3, normalization="batchnorm")
    want = ref.loss(x, y)[0]
    for cls, framework in ((TorchNet, "torch"), (TfNet, "keras")):
        net = cls([8], 6, 3, reg=0.1, dtype=np.float64, seed=3, normalization="batchnorm")
        assert port.read(net).framework == framework
        back = port.convert(net, "reference").model
        assert isinstance(back, RefNet)
        np.testing.assert_allclose(back.loss(x, y)[0], want, rtol=1e-12)
    torch_model = port.convert(ref, "torch").model
    assert torch.equal(torch_model[0].weight, torch.from_numpy(ref.params["W1"].T))
    spec = port.read(ref).spec
    for impl in ("torch", "tf"):  # a spec into each implementation's FullyConnectedNet
        net = port.fcnet_from_spec(spec, impl)
        assert type(net).__module__ == f"dlparity.{impl}_impl.models"
        np.testing.assert_allclose(net.loss(x, y)[0], want, rtol=1e-12)


def test_fcnet_module_state_dict_is_read(tmp_path) -> None:
    from dlparity.torch_impl.models import FCNetModule

    module = FCNetModule([8, 5], 6, 3, normalization="batchnorm", dtype=torch.float64)
    torch.save(module.state_dict(), tmp_path / "fc.pt")
    side = port.load_model(tmp_path / "fc.pt")
    assert [la.kind for la in side.spec.layers][:3] == ["dense", "batchnorm", "relu"]
    assert np.array_equal(side.spec.params()["W2"], module.linears[1].weight.detach().numpy().T)


def test_unsupported_layers_name_the_layer_and_the_supported_ones() -> None:
    with pytest.raises(ValueError, match=r"module '0' \(Conv1d\) .* not a supported layer; "
                                         r"supported: the modules Linear, BatchNorm1d"):
        port.read(nn.Sequential(nn.Conv1d(1, 2, 3)))
    with pytest.raises(ValueError, match=r"module '1' \(GELU\)"):
        port.read(nn.Sequential(nn.Linear(3, 2), nn.GELU()))
    with pytest.raises(ValueError, match=r"Keras layer Conv1D .* supported: Dense, "):
        port.read(keras.Sequential([keras.Input((4, 2)), keras.layers.Conv1D(2, 3)]))
    with pytest.raises(ValueError, match="activation 'gelu'"):
        port.read(keras_mlp([keras.layers.Dense(3, activation="gelu")]))
    assert [la.kind for la in port.read(nn.Linear(3, 2)).spec.layers] == ["dense"]
    with pytest.raises(TypeError, match="read: model must be"):
        port.read("model.pt")


def test_keras_losses_by_object_and_name() -> None:
    k = keras_mlp([keras.layers.Dense(3, dtype="float64")])
    k.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert port.read(k).setup.loss == port.LossSpec("softmax_cross_entropy", False, "mean")
    k.compile(optimizer="sgd", loss=keras.losses.MeanSquaredError())
    assert port.read(k).setup.loss.kind == "mse"
    k.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert port.read(k).setup.loss == port.LossSpec("softmax_cross_entropy", False, "mean", True)
    k.compile(optimizer="sgd", loss=keras.losses.BinaryCrossentropy())
    assert port.read(k).setup.loss == port.LossSpec("sigmoid_cross_entropy", False, "mean")
    k.compile(optimizer="sgd", loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1))
    with pytest.raises(ValueError, match="no label_smoothing"):
        port.read(k)


def test_unsupported_optimizer_settings_are_named() -> None:
    model = torch_mlp()
    with pytest.raises(ValueError, match="weight_decay is not supported"):
        port.read(model, optimizer=torch.optim.Adam(model.parameters(), weight_decay=0.1))
    with pytest.raises(ValueError, match="optimizer class 'Adagrad' is not supported"):
        port.read(model, optimizer=torch.optim.Adagrad(model.parameters()))


@pytest.mark.parametrize(("name", "content", "match"), [
    ("bad.pt", b"garbage", "cannot read .* as a torch file"),
    ("bad.keras", b"garbage", "cannot read .* as a Keras .keras file"),
])
def test_bad_files_are_clear_errors_and_write_nothing(tmp_path, name, content, match) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValueError, match=match):
        port.port_file(tmp_path / name, tmp_path / "out.npz")
    assert files_in(tmp_path) == [name]


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # Keras's save
def test_unsupported_layers_in_files_write_nothing(tmp_path) -> None:
    torch.save(nn.Sequential(nn.Linear(4, 4), nn.GELU()), tmp_path / "gelu.pt")
    with pytest.raises(ValueError, match=r"module .1. \(GELU\) .* not a supported layer"):
        port.port_file(tmp_path / "gelu.pt", tmp_path / "out.keras", trust_pickle=True)
    k = keras.Sequential([keras.Input((4, 2)), keras.layers.Conv1D(2, 3)])
    k.save(tmp_path / "conv.keras")
    with pytest.raises(ValueError, match="Keras layer Conv1D"):
        port.port_file(tmp_path / "conv.keras", tmp_path / "out.pt")
    assert files_in(tmp_path) == ["conv.keras", "gelu.pt"]


def test_a_bare_sequential_state_dict_and_a_pickled_module(tmp_path) -> None:
    model = torch_mlp()
    torch.save(model.state_dict(), tmp_path / "sd.pt")
    with pytest.raises(ValueError, match="bare state_dict, which does not record the activ"):
        port.port_file(tmp_path / "sd.pt", tmp_path / "out.keras")
    torch.save(model, tmp_path / "whole.pt")
    with pytest.raises(ValueError, match="holds pickled Python objects.*--trust-pickle"):
        port.port_file(tmp_path / "whole.pt", tmp_path / "out.keras")
    assert files_in(tmp_path) == ["sd.pt", "whole.pt"]
    port.port_file(tmp_path / "whole.pt", tmp_path / "out.npz", trust_pickle=True)
    assert "out.npz" in files_in(tmp_path)


def test_a_failed_conversion_leaves_no_file(tmp_path, monkeypatch) -> None:
    port.save_model(port.read(torch_mlp()), tmp_path / "a.pt")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(keras_side.keras.Model, "save", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        port.port_file(tmp_path / "a.pt", tmp_path / "b.keras")
    assert files_in(tmp_path) == ["a.pt"]
    with pytest.raises(ValueError, match=r"--to 'keras' needs an output path ending in"):
        port.port_file(tmp_path / "a.pt", tmp_path / "b.npz", to="keras")


def test_torch_side_reads_its_own_build() -> None:
    spec = torch_side.spec_from_torch(torch_mlp(bn=True))
    again = torch_side.spec_from_torch(torch_side.build_torch(spec))
    for k, v in spec.arrays().items():
        assert np.array_equal(again.arrays()[k], v)
