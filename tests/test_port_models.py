"""Models as users write them: the source document's Network and its checkpoints through the
CLI with --model, PyTorch's quickstart module, a Functional and a subclassed Keras model.

Each is trained a few steps, converted, read back by the OTHER framework's own loader
(keras.saving.load_model, torch.load + load_state_dict), and compared with the original in
float64: the forward to 1e-12 relative, 100 training steps within the tolerance table's row
of the optimizer (the convention involved is named where one applies).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_port_fixtures import files_in, seeded

torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

import torch.nn.functional as F  # noqa: E402
from support.port_fc_model import Network, QuickstartNet  # noqa: E402
from torch import nn  # noqa: E402

from dlparity import port  # noqa: E402
from dlparity.cli import main  # noqa: E402

SCRIPT = Path(__file__).parent / "support" / "port_fc_model.py"
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def rel(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(got) - want) / np.linalg.norm(want))


def trained_network() -> tuple[nn.Module, torch.optim.Optimizer]:
    """The document's Network (float32, as it builds it), 3 Adam steps with NLLLoss."""
    torch.manual_seed(0)
    model = Network(12, 4, [10, 8])
    opt = torch.optim.Adam(model.parameters(), lr=0.003)
    x, y = torch.randn(16, 12), torch.randint(0, 4, (16,))
    for _ in range(3):
        opt.zero_grad()
        F.nll_loss(model(x), y).backward()
        opt.step()
    return model, opt


def torch_forward64(model: nn.Module, x: np.ndarray) -> np.ndarray:
    """The model's eval forward in float64 (on a copy: the model keeps its dtype and mode)."""
    import copy

    m = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        return m(torch.from_numpy(x)).numpy()


# ------------------------------------------------------------- the document's Network


def test_document_checkpoint_needs_its_code_and_ports_with_load_checkpoint(tmp_path,
                                                                           capsys) -> None:
    model, _ = trained_network()
    ck = tmp_path / "checkpoint.pth"
    torch.save({"input_size": 12, "output_size": 4,  # the document's dict, as it writes it
                "hidden_layers": [each.out_features for each in model.hidden_layers],
                "state_dict": model.state_dict()}, ck)
    assert main(["port", str(ck), str(tmp_path / "a.keras")]) == 2
    assert "--model SCRIPT.py:NAME" in capsys.readouterr().err
    assert files_in(tmp_path) == ["checkpoint.pth"]
    out = tmp_path / "net.keras"
    assert main(["port", str(ck), str(out), "--model", f"{SCRIPT}:load_checkpoint",
                 "--dtype", "float64", "-q"]) == 0
    k = keras.saving.load_model(out)  # Keras's own loader
    x = seeded("doc").standard_normal((32, 12))
    assert rel(k(x, training=False).numpy(), torch_forward64(model, x)) < 1e-12
    assert [type(la).__name__ for la in k.layers].count("Dropout") == 2


def test_tutorial_checkpoint_carries_the_optimizer_and_diffs_clean(tmp_path) -> None:
    model, opt = trained_network()
    pt = tmp_path / "tutorial.pt"
    torch.save({"epoch": 3, "model_state_dict": model.state_dict(), "loss": 0.9,
                "optimizer_state_dict": opt.state_dict(), "input_size": 12, "output_size": 4,
                "hidden_layers": [10, 8]}, pt)
    out = tmp_path / "net.keras"
    assert main(["port", str(pt), str(out), "--model", f"{SCRIPT}:Network", "--dtype",
                 "float64", "--keras-adam", "textbook", "-q"]) == 0
    k = keras.saving.load_model(out)
    assert int(k.optimizer.iterations) == 3 and type(k.optimizer).__name__ == "TextbookAdam"
    first = model.hidden_layers[0].weight
    m_torch = opt.state[first]["exp_avg"].double().numpy().T  # torch's m of W1, (in, out)
    index = k.optimizer._get_variable_index(k.layers[0].kernel)
    assert np.array_equal(k.optimizer._momentums[index].numpy(), m_torch)
    report = tmp_path / "diff.json"
    code = main(["diff", str(pt), str(out), "--model", f"{SCRIPT}:Network", "--random-batch",
                 "16", "--steps", "20", "--dtype", "float64", "--no-progress", "--json",
                 str(report)])
    data = json.loads(report.read_text())
    assert code == 0, data["diff"]["first_divergence"]
    assert data["trajectory"]["first_divergence"] is None
    assert max(data["trajectory"]["curve"]["a_b"]) < 1e-12


def test_pickled_model_from_a_script_main_reads_with_model_and_trust_pickle(tmp_path) -> None:
    save = tmp_path / "save.py"  # torch.save(model) run as a script: pickles __main__.Network
    save.write_text(SCRIPT.read_text() + "\n\nif __name__ == '__main__':\n"
                    "    torch.manual_seed(0)\n"
                    f"    torch.save(Network(5, 3, [4]), {str(tmp_path / 'whole.pt')!r})\n")
    subprocess.run([sys.executable, str(save)], check=True, capture_output=True, timeout=120)
    with pytest.raises(ValueError, match="pickled Python objects"):
        port.load_model(tmp_path / "whole.pt")
    side = port.load_model(tmp_path / "whole.pt", trust_pickle=True,
                           model=f"{save}:load_checkpoint")
    assert [la.kind for la in side.spec.layers] == ["dense", "relu", "dropout", "dense",
                                                    "log_softmax"]


# ------------------------------------------------------------- torch modules


def test_quickstart_module_to_keras_forward_and_100_steps(tmp_path) -> None:
    torch.manual_seed(1)
    q = QuickstartNet().double()
    opt = torch.optim.SGD(q.parameters(), lr=0.05, momentum=0.5)  # 0.5: float32-exact
    x, y = seeded("qs").standard_normal((16, 4, 4)), seeded("qs-y").integers(0, 3, 16)
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(q(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        opt.step()
    src = port.read(q, optimizer=opt, input_shape=(4, 4))
    assert [la.kind for la in src.spec.layers][:2] == ["flatten", "dense"]
    port.save_model(src, tmp_path / "qs.keras")
    k = keras.saving.load_model(tmp_path / "qs.keras")
    assert rel(k(x, training=False).numpy(), torch_forward64(q, x)) < 1e-12
    # the file as written (Keras's loader remakes the learning rate in float32: 0.05 ->
    # 0.05000000074505806, the keras_float32_constants convention)
    traj = port.trajectory_diff(src, port.load_model(tmp_path / "qs.keras"), x, y, steps=100,
                                progress=False, reference=False)
    assert traj.first is None and max(traj.curve_ab) < traj.rtol  # sgd_momentum row, float64


class ResidualNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)

    def forward(self, x):
        h = F.relu(self.a(x))
        return self.b(h) + x


class ConvNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv, self.fc = nn.Conv1d(1, 2, 3), nn.Linear(4, 2)

    def forward(self, x):
        x = F.relu(self.conv(x))
        return self.fc(x.view(x.size(0), -1))


def test_functional_calls_and_tensor_methods_are_traced() -> None:
    class Mixed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleDict({"a": nn.Linear(16, 8), "b": nn.Linear(8, 3)})

        def forward(self, x):
            x = x.view(x.size(0), -1)
            x = F.leaky_relu(self.blocks["a"](x), 0.1)
            x = F.dropout(x, 0.2, training=self.training)
            return torch.sigmoid(self.blocks["b"](x).relu().tanh())

    m = Mixed().eval()
    spec = port.read(m, input_shape=(4, 4)).spec
    assert [la.describe() for la in spec.layers] == [
        "flatten", "dense 16->8", "leaky_relu(alpha=0.1)", "dropout(p=0.2)", "dense 8->3",
        "relu", "tanh", "sigmoid"]
    assert not m.training  # traced in train mode, the user's mode restored


@pytest.mark.parametrize(("model", "match"), [
    (ResidualNet(), r"an addition \(a residual connection\?\) in ResidualNet.forward, line "
                    r"\d+: `return self.b\(h\) \+ x` reads an earlier result"),
    (ConvNet(), r"the module 'conv' \(Conv1d\) in ConvNet.forward, line \d+: "
                r"`x = F.relu\(self.conv\(x\)\)` is not a supported layer"),
])
def test_operations_outside_a_chain_are_named_with_their_line(model, match) -> None:
    with pytest.raises(ValueError, match=match):
        port.read(model)


# ------------------------------------------------------------- Keras models


def functional_keras() -> keras.Model:
    """A Functional model with the document's regularizer l2(0.01), batch norm, dropout,
    softmax outputs compiled with categorical_crossentropy and Adam, one fit step."""
    from dlparity.port.keras_side import floatx

    with floatx("float64"):  # the compiled loss too (a float32 loss + float64 penalties fails)
        return _functional_keras()


def _functional_keras() -> keras.Model:
    keras.utils.set_random_seed(0)
    f64 = {"dtype": "float64"}
    inp = keras.Input((6,), dtype="float64")
    h = keras.layers.Dense(8, kernel_regularizer=keras.regularizers.l2(0.01), **f64)(inp)
    h = keras.layers.BatchNormalization(**f64)(h)
    h = keras.layers.Activation("relu", **f64)(h)
    h = keras.layers.Dropout(0.1, **f64)(h)
    out = keras.layers.Dense(3, activation="softmax",
                             kernel_regularizer=keras.regularizers.l2(0.01), **f64)(h)
    model = keras.Model(inp, out)
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.Adam(0.01))
    x, y = seeded("fx").standard_normal((16, 6)), seeded("fy").integers(0, 3, 16)
    model.fit(x, np.eye(3)[y], batch_size=16, epochs=1, verbose=0)
    return model


def test_functional_keras_model_to_torch_forward_and_l2_gradient(tmp_path) -> None:
    k = functional_keras()
    src = port.read(k)
    assert src.setup.loss == port.LossSpec("softmax_cross_entropy", False, "mean", True)
    assert src.setup.optimizer.t == 1 and src.setup.optimizer.state
    written = port.save_model(src, tmp_path / "fx.pt")
    ck = torch.load(tmp_path / "fx.pt", weights_only=True)  # torch's own loader
    # the architecture the checkpoint records: Keras's BatchNormalization eps 1e-3, momentum
    # 0.99 (torch's 0.01)
    arch = json.loads(ck["architecture"])["layers"][1]["config"]
    assert (arch["eps"], arch["momentum"]) == (1e-3, 0.99)
    t = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8, eps=1e-3, momentum=0.01), nn.ReLU(),
                      nn.Dropout(0.1), nn.Linear(8, 3), nn.Softmax(dim=-1)).double()
    t.load_state_dict(ck["state_dict"])
    x = seeded("fx-test").standard_normal((32, 6))
    assert rel(torch_forward64(t, x), k(x, training=False).numpy()) < 1e-12
    # Keras applies l2(0.01) as 0.00999999977648258: the port carries that, so the weight
    # gradients of the model and its port agree to rounding (they differed by 2.2e-8)
    assert written.spec.layers[0].config["reg"] == 2 * 0.009999999776482582
    report = port.diff_models(src, written, x, seeded("fx-y").integers(0, 3, 32),
                              dtypes=("float64",))
    grads = [r["local"]["param_grad"]["a_b"] for r in report.rows["float64"]
             if r["kind"] == "dense"]
    assert max(grads) < 1e-13
    # what does differ is the one convention torch cannot drop: its unbiased running variance
    first = report.first["float64"]
    assert (first["kind"], first["quantity"], first["array"]) == ("batchnorm", "state",
                                                                  "running_var")
    assert "bn_running_var_unbiased" in {f.key for f in port.find_differences(src, written)}


class SubclassedNet(keras.Model):
    """A keras.Model subclass: layers made in __init__, chained in call (leaky_relu as a
    keras.ops call, dropout only in training)."""

    def __init__(self) -> None:
        super().__init__(dtype="float64")
        self.flatten = keras.layers.Flatten(dtype="float64")
        self.hidden = keras.layers.Dense(8, dtype="float64")
        self.drop = keras.layers.Dropout(0.25, dtype="float64")
        self.out = keras.layers.Dense(3, dtype="float64")

    def call(self, x, training=False):
        h = keras.ops.leaky_relu(self.hidden(self.flatten(x)), negative_slope=0.25)
        if training:
            h = self.drop(h, training=training)
        return self.out(h)


def test_subclassed_keras_model_with_adamw_to_torch_100_steps(tmp_path) -> None:
    keras.utils.set_random_seed(2)
    k = SubclassedNet()
    x, y = seeded("sx").standard_normal((16, 2, 3)), seeded("sy").integers(0, 3, 16)
    k.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              optimizer=port.TextbookAdam(learning_rate=0.01, weight_decay=0.125))
    k.fit(x, y, batch_size=16, epochs=2, verbose=0)
    src = port.read(k)
    assert [la.describe() for la in src.spec.layers] == [
        "flatten", "dense 6->8", "leaky_relu(alpha=0.25)", "dropout(p=0.25)", "dense 8->3"]
    assert src.setup.optimizer.kind == "adamw" and src.setup.optimizer.t == 2
    out = port.convert(k, "torch")
    assert isinstance(out.optimizer, torch.optim.AdamW)
    assert out.optimizer.param_groups[0]["weight_decay"] == 0.125
    x64 = torch.from_numpy(x)
    assert rel(out.model.eval()(x64).detach().numpy(), k(x, training=False).numpy()) < 1e-12
    traj = port.trajectory_diff(src, out.side, x, y, steps=100, progress=False,
                                reference=False)
    assert traj.rule == "adamw" and traj.first is None and max(traj.curve_ab) < traj.rtol


def test_keras_residual_add_is_one_clear_error() -> None:
    inp = keras.Input((4,))
    h = keras.layers.Dense(4, name="inner")(inp)
    out = keras.layers.Dense(2, name="head")(keras.layers.Add(name="skip")([h, inp]))
    with pytest.raises(ValueError, match=r"not one chain of layers: Add 'skip' \(before 'head'\)"
                                         r" takes 2 inputs \('inner', 'input_layer"):
        port.read(keras.Model(inp, out))


def test_stock_keras_adam_diverges_and_explain_names_epsilon_hat() -> None:
    k = functional_keras()
    src = port.read(k)
    dst = port.convert(k, "torch").side
    x, y = seeded("ex").standard_normal((16, 6)), seeded("ey").integers(0, 3, 16)
    sa = port.Side(src.spec, src.setup, "keras", "keras")
    traj = port.trajectory_diff(sa, dst, x, y, steps=3, progress=False, reference=False)
    assert traj.first is not None
    items = port.explain(sa, dst, traj=traj, rerun_traj=lambda a, b: port.trajectory_diff(
        a, b, x, y, steps=3, progress=False, reference=False))
    keys = {it["key"] for it in items if it["observed"]}
    assert "adam_epsilon_hat" in keys


def test_adamw_default_decays_differ_and_explain_names_it() -> None:
    torch.manual_seed(5)
    t = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    a = port.read(t, optimizer=torch.optim.AdamW(t.parameters(), lr=2**-6))  # wd 0.01
    k = port.convert(t, "keras").model
    k.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              optimizer=port.TextbookAdam(learning_rate=2**-6, epsilon=1e-8,
                                          weight_decay=0.004))  # Keras AdamW's default
    b = port.read(k)
    x, y = seeded("aw").standard_normal((16, 6)), seeded("aw-y").integers(0, 3, 16)
    run = lambda sa, sb: port.trajectory_diff(sa, sb, x, y, steps=5, progress=False,  # noqa: E731
                                              reference=False)
    traj = run(a, b)
    assert traj.first is not None and traj.rule == "adamw"
    items = {it["key"]: it for it in port.explain(a, b, traj=traj, rerun_traj=run)}
    item = items["adamw_weight_decay"]
    assert (item["a"], item["b"], item["observed"]) == (0.01, 0.004, True)
    assert item["fix"] == "keras.optimizers.AdamW(weight_decay=0.01)"
    assert item["rerun"]["resolved"]


def test_l2_regularizer_against_adamw_decay_is_named_and_confirmed() -> None:
    """A Keras model with l2 on its kernels under Adam, against a torch port trained with
    AdamW instead (the decay a user may think equivalent)."""
    f64 = {"dtype": "float64"}
    keras.utils.set_random_seed(6)
    k = keras.Sequential([keras.Input((6,), dtype="float64"),
                          keras.layers.Dense(8, activation="tanh", **f64,
                                             kernel_regularizer=keras.regularizers.l2(2**-6)),
                          keras.layers.Dense(3, **f64)])
    k.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              optimizer=port.TextbookAdam(learning_rate=2**-6, epsilon=1e-8))
    a = port.read(k)
    t = port.convert(k, "torch").model
    b = port.read(t, optimizer=torch.optim.AdamW(t.parameters(), lr=2**-6, weight_decay=2**-5),
                  loss=nn.CrossEntropyLoss())
    b = port.Side(b.spec.with_config(0, reg=0.0), b.setup, "torch", "torch AdamW")  # no penalty
    x, y = seeded("l2").standard_normal((16, 6)), seeded("l2-y").integers(0, 3, 16)
    run = lambda sa, sb: port.trajectory_diff(sa, sb, x, y, steps=5, progress=False,  # noqa: E731
                                              reference=False)
    traj = run(a, b)
    assert traj.first is not None
    items = {it["key"]: it for it in port.explain(a, b, traj=traj, rerun_traj=run)}
    assert items["l2_vs_weight_decay"]["observed"]
    assert (items["l2_vs_weight_decay"]["a"], items["l2_vs_weight_decay"]["b"]) == ("adam",
                                                                                    "adamw")
    assert set(items["combined"]["keys"]) == {"l2_vs_weight_decay", "l2_strength"}
    assert items["combined"]["rerun"]["resolved"]


def test_l1_regularizer_is_a_torch_loss_term_with_the_same_gradient() -> None:
    f64 = {"dtype": "float64"}
    keras.utils.set_random_seed(7)
    k = keras.Sequential([keras.Input((6,), dtype="float64"), keras.layers.Dense(
        8, activation="relu", kernel_regularizer=keras.regularizers.L1L2(l1=0.03, l2=0.01),
        **f64), keras.layers.Dense(3, **f64)])
    out = port.convert(k, "torch")
    l1 = float(np.float32(0.03))  # Keras's factor, as it computes with it
    assert out.side.spec.layers[0].config["l1"] == l1
    assert any(n.startswith("l2_half: torch has no kernel_regularizer") and
               f"{l1!r} * W.abs().sum()" in n for n in out.notes)
    x = seeded("l1").standard_normal((16, 6))
    report = port.diff_models(port.read(k), out.side, x, dtypes=("float64",))
    assert report.first["float64"] is None
    assert report.rows["float64"][0]["local"]["param_grad"]["a_b"] < 1e-14


def test_categorical_crossentropy_on_one_hot_rows_trains_the_same_100_steps() -> None:
    from dlparity.port.keras_side import floatx

    with floatx("float64"):
        keras.utils.set_random_seed(8)
        k = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="tanh"),
                              keras.layers.Dense(3, activation="softmax")])
        k.compile(loss="categorical_crossentropy",
                  optimizer=port.TextbookAdam(learning_rate=2**-7, epsilon=1e-8))
    x = seeded("cc").standard_normal((16, 4))
    y = np.eye(3)[seeded("cc-y").integers(0, 3, 16)]  # one-hot rows, as Keras users give them
    out = port.convert(k, "torch")
    assert out.side.setup.loss.one_hot
    traj = port.trajectory_diff(port.read(k), out.side, x, y, steps=100, progress=False)
    assert traj.first is None and max(traj.curve_ab) < traj.rtol
    assert max(traj.curve_a_ref) < traj.rtol  # and the reference's categorical cross-entropy
