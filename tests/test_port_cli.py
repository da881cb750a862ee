"""`dlparity port` and `dlparity diff`: help, exit codes, files, the MNIST preset."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_port_fixtures import batch, files_in, keras_copy_weights, keras_mlp, kl, torch_mlp

torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

from dlparity import port  # noqa: E402
from dlparity.cli import main  # noqa: E402


@pytest.mark.parametrize(("cmd", "words"), [
    ("port", ["--to", "--keras-adam", "textbook", "bit-exact", "writes nothing"]),
    ("diff", ["--batch", "--explain", "--steps", "--png", "--json", "tolerance table",
              "epsilon-hat", "from_logits", "Exit 0"]),
])
def test_help_explains_formats_and_options(capsys, cmd, words) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([cmd, "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for word in [".pt/.pth", ".keras", ".npz", "state_dict", *words]:
        assert word in text, word


def test_port_round_trip_on_the_command_line(tmp_path, capsys) -> None:
    port.save_model(port.read(torch_mlp(bn=True)), tmp_path / "a.pt")
    assert main(["port", str(tmp_path / "a.pt"), "--to", "keras", str(tmp_path / "b.keras")]) == 0
    out = capsys.readouterr().out
    assert "arrays verified bit-exact" in out and "note: bn_running_var_unbiased" in out
    assert main(["port", str(tmp_path / "b.keras"), str(tmp_path / "c.npz"), "-q"]) == 0
    a, c = port.load_model(tmp_path / "a.pt"), port.load_model(tmp_path / "c.npz")
    for k, v in a.spec.arrays().items():
        assert np.array_equal(c.spec.arrays()[k], v), k


@pytest.mark.parametrize(("args", "message"), [
    (["bad.pt", "out.keras"], "cannot read"),
    (["missing.pt", "out.keras"], "no such model file"),
    (["bad.pt", "--to", "npz", "out.keras"], "--to 'npz' needs an output path ending in"),
    (["bad.pt", "out.onnx"], "must end in one of"),
])
def test_port_errors_exit_2_and_write_nothing(tmp_path, capsys, args, message) -> None:
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    code = main(["port", *[str(tmp_path / a) if "." in a else a for a in args]])
    assert code == 2
    assert message in capsys.readouterr().err
    assert files_in(tmp_path) == ["bad.pt"]


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # Keras's save
def test_diff_explain_json_on_a_planted_keras_default(tmp_path, capsys) -> None:
    t = torch_mlp(bn=True)
    port.save_model(port.read(t), tmp_path / "a.pt")
    k = keras_mlp([kl("Dense", 8), kl("BatchNormalization"), kl("ReLU"),
                   kl("Dense", 5, activation="tanh"), kl("Dense", 3)])
    keras_copy_weights(k, t)
    k.save(tmp_path / "b.keras")
    np.save(tmp_path / "x.npy", batch())
    code = main(["diff", str(tmp_path / "a.pt"), str(tmp_path / "b.keras"), "--batch",
                 str(tmp_path / "x.npy"), "--mode", "eval", "--explain", "--json",
                 str(tmp_path / "r.json")])
    assert code == 1
    out = capsys.readouterr().out
    assert "first divergence at layer 1 (batchnorm" in out
    assert "[bn_epsilon]" in out and "BatchNormalization(epsilon=1e-05)" in out
    report = json.loads((tmp_path / "r.json").read_text())
    observed = [e for e in report["explanation"] if e["observed"]]
    assert [e["key"] for e in observed] == ["bn_epsilon"]
    assert observed[0]["rerun"]["resolved"]
    assert report["diff"]["first_divergence"]["float64"]["layer"] == 1


def test_diff_trajectory_png_and_exit_0(tmp_path, capsys) -> None:
    model = torch_mlp()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    port.save_model(port.read(model, optimizer=opt), tmp_path / "a.pt")
    assert main(["port", str(tmp_path / "a.pt"), str(tmp_path / "b.keras"), "--keras-adam",
                 "textbook", "-q"]) == 0
    code = main(["diff", str(tmp_path / "a.pt"), str(tmp_path / "b.keras"), "--random-batch",
                 "16", "--steps", "5", "--png", str(tmp_path / "c.png"), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "no divergence beyond the tolerance table in 5 steps" in out
    assert (tmp_path / "c.png").stat().st_size > 1000


def test_diff_input_errors_exit_2(tmp_path, capsys) -> None:
    port.save_model(port.read(torch_mlp()), tmp_path / "a.pt")
    np.save(tmp_path / "x.npy", np.zeros((4, 5)))
    code = main(["diff", str(tmp_path / "a.pt"), str(tmp_path / "a.pt"), "--batch",
                 str(tmp_path / "x.npy")])
    assert code == 2
    assert "batch must have shape (N, 6)" in capsys.readouterr().err
    port.save_model(port.read(torch_mlp(bn=True)), tmp_path / "bn.pt")
    code = main(["diff", str(tmp_path / "a.pt"), str(tmp_path / "bn.pt"), "--random-batch", "4"])
    assert code == 2
    assert "same layers in the same order" in capsys.readouterr().err


def test_mnist_preset_port_and_diff(tmp_path, capsys) -> None:
    from dlparity.reference.presets import build_model

    model = build_model("mnist_fc_tf", dtype=np.float64, seed=0)
    port.save_model(port.read(model), tmp_path / "mnist.npz")
    for dst in ("mnist.pt", "mnist.keras"):
        assert main(["port", str(tmp_path / "mnist.npz"), str(tmp_path / dst), "-q"]) == 0
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((100, 784)))
    np.save(tmp_path / "y.npy", np.arange(100) % 10)
    code = main(["diff", str(tmp_path / "mnist.pt"), str(tmp_path / "mnist.keras"), "--batch",
                 str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy"), "--json",
                 str(tmp_path / "r.json")])
    print(capsys.readouterr().out)  # the measured table, with pytest -s
    assert code == 0
    rows = json.loads((tmp_path / "r.json").read_text())["diff"]["rows"]
    for dtype, bound in (("float64", 1e-10), ("float32", 2e-5)):
        for row in rows[dtype]:
            for errors in row["local"].values():
                assert errors["a_b"] <= bound and errors["a_ref"] <= bound, (dtype, row)
