"""Every convention planted on purpose, named by explain, and removed by its fix.

Each test builds two models that differ in exactly one convention (as a user would write
them: stock Keras / torch defaults), checks that the diff or trajectory diverges, that
``explain`` names that convention (and no other as observed), and that the re-run with the
suggested setting is back within the tolerance table.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_port_fixtures import batch, keras_copy_weights, keras_mlp, kl, labels, torch_mlp

torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

from torch import nn  # noqa: E402

from dlparity import port  # noqa: E402
from dlparity.port.diff import Side, diff_models  # noqa: E402
from dlparity.port.spec import LossSpec, OptimizerSpec, TrainingSetup  # noqa: E402
from dlparity.port.trajectory import trajectory_diff  # noqa: E402
from dlparity.reference import FullyConnectedNet  # noqa: E402

X, Y = batch(), labels()


def _explain_diff(a: Side, b: Side, **kw) -> list[dict]:
    report = diff_models(a, b, X, **kw)
    assert report.diverged
    return port.explain(a, b, diff=report,
                        rerun_diff=lambda sa, sb: diff_models(sa, sb, X, **kw))


def _explain_traj(a: Side, b: Side, **kw) -> list[dict]:
    traj = trajectory_diff(a, b, X, Y, progress=False, **kw)
    assert traj.diverged
    return port.explain(a, b, traj=traj,
                        rerun_traj=lambda sa, sb: trajectory_diff(sa, sb, X, Y, progress=False,
                                                                  **kw))


def _observed(items: list[dict]) -> dict[str, dict]:
    return {it["key"]: it for it in items if it.get("observed") and it["key"] != "combined"}


def _keras_twin(torch_model, *layers) -> object:
    model = keras_mlp(list(layers))
    keras_copy_weights(model, torch_model)
    return model


def _tail() -> list:
    return [kl("Dense", 5, activation="tanh"), kl("Dense", 3)]


def test_bn_epsilon_keras_default() -> None:
    t = torch_mlp(bn=True)
    k = _keras_twin(t, kl("Dense", 8), kl("BatchNormalization"),
                    kl("ReLU"), *_tail())
    items = _explain_diff(port.read(t), port.read(k), training=False)
    found = _observed(items)
    assert set(found) == {"bn_epsilon"}
    assert (found["bn_epsilon"]["a"], found["bn_epsilon"]["b"]) == (1e-5, 1e-3)
    assert found["bn_epsilon"]["fix"] == "keras.layers.BatchNormalization(epsilon=1e-05)"
    assert found["bn_epsilon"]["rerun"]["resolved"]


def test_bn_momentum_keras_default() -> None:
    ref = FullyConnectedNet([8], 6, 3, dtype=np.float64, seed=0, normalization="batchnorm")
    k = keras_mlp([kl("Dense", 8), kl("BatchNormalization", epsilon=1e-5),
                   kl("ReLU"), kl("Dense", 3)])
    port_k = port.convert(ref, "keras").model
    k.set_weights(port_k.get_weights())
    found = _observed(_explain_diff(port.read(ref), port.read(k)))
    assert set(found) == {"bn_momentum"}
    assert (found["bn_momentum"]["a"], found["bn_momentum"]["b"]) == (0.9, 0.99)
    assert found["bn_momentum"]["rerun"]["resolved"]


def test_bn_unbiased_running_variance_torch_vs_keras() -> None:
    t = torch_mlp(bn=True)
    k = port.convert(t, "keras").model
    found = _observed(_explain_diff(port.read(t), port.read(k)))
    assert set(found) == {"bn_running_var_unbiased"}
    item = found["bn_running_var_unbiased"]
    assert item["rerun"]["changed"] == "reference" and item["rerun"]["resolved"]
    assert item["fix"].startswith("none in torch or Keras")


def test_leaky_relu_slope_default() -> None:
    t = torch_mlp(act=nn.LeakyReLU())
    k = _keras_twin(t, kl("Dense", 8), kl("LeakyReLU"), *_tail())
    found = _observed(_explain_diff(port.read(t), port.read(k), dtypes=("float32",)))
    assert set(found) == {"leaky_relu_slope"}
    assert (found["leaky_relu_slope"]["a"], found["leaky_relu_slope"]["b"]) == (0.01, 0.3)
    assert found["leaky_relu_slope"]["fix"] == "keras.layers.LeakyReLU(negative_slope=0.01)"
    assert found["leaky_relu_slope"]["rerun"]["resolved"]


def test_keras_float32_slope_in_float64() -> None:
    t = torch_mlp(act=nn.LeakyReLU(0.01))
    k = port.convert(t, "keras").model
    items = _explain_diff(port.read(t), port.read(k), dtypes=("float64",))
    found = _observed(items)
    assert set(found) == {"keras_float32_constants"}
    item = found["keras_float32_constants"]
    assert (item["a"], item["b"]) == (0.01, float(np.float32(0.01)))
    assert item["rerun"]["changed"] == "both" and item["rerun"]["resolved"]


def test_keras_l2_without_half() -> None:
    reg = 2.0**-12  # float32-exact: only the missing 1/2 differs
    ref = FullyConnectedNet([8], 6, 3, reg=reg, dtype=np.float64, seed=0)
    k = keras_mlp([kl("Dense", 8, kernel_regularizer=keras.regularizers.L2(reg)),
                   kl("ReLU"),
                   kl("Dense", 3, kernel_regularizer=keras.regularizers.L2(reg))])
    k.set_weights(port.convert(ref, "keras").model.get_weights())
    found = _observed(_explain_diff(port.read(ref), port.read(k)))
    assert set(found) == {"l2_half"}
    item = found["l2_half"]
    assert (item["a"], item["b"]) == (reg, 2 * reg)
    assert item["fix"].startswith(f"keras.regularizers.L2({reg / 2!r})")
    assert item["rerun"]["resolved"]


def _sgd(lr: float = 0.1) -> OptimizerSpec:
    return OptimizerSpec("sgd", {"learning_rate": lr})


def test_reduction_mean_over_n_vs_n_times_k() -> None:
    t = torch_mlp()
    a = port.read(t)
    a = Side(a.spec, TrainingSetup(LossSpec("mse", True, "batchmean"), _sgd()), "reference")
    b = port.read(t, optimizer=torch.optim.SGD(t.parameters(), lr=0.1), loss=nn.MSELoss())
    y = np.random.default_rng(0).standard_normal((16, 3))
    traj = trajectory_diff(a, b, X, y, steps=3, progress=False)
    items = port.explain(a, b, traj=traj, rerun_traj=lambda sa, sb: trajectory_diff(
        sa, sb, X, y, steps=3, progress=False))
    found = _observed(items)
    assert set(found) == {"loss_reduction"}
    assert found["loss_reduction"]["fix"].startswith("F.mse_loss(out, y, reduction='sum') / N")
    assert found["loss_reduction"]["rerun"]["resolved"]


def test_from_logits_false_on_logits() -> None:
    t = torch_mlp()
    k = port.convert(t, "keras").model
    k.compile(optimizer=keras.optimizers.SGD(0.125),
              loss=keras.losses.SparseCategoricalCrossentropy())  # from_logits=False
    a = port.read(t, optimizer=torch.optim.SGD(t.parameters(), lr=0.125),
                  loss=nn.CrossEntropyLoss())
    found = _observed(_explain_traj(a, port.read(k), steps=3))
    assert set(found) == {"from_logits"}
    assert found["from_logits"]["fix"] == (
        "keras.losses.SparseCategoricalCrossentropy(from_logits=True)")
    assert found["from_logits"]["rerun"]["resolved"]


def test_adam_epsilon_hat_and_epsilon_default() -> None:
    t = torch_mlp()
    k = port.convert(t, "keras").model
    k.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    a = port.read(t, optimizer=torch.optim.Adam(t.parameters()), loss=nn.CrossEntropyLoss())
    items = _explain_traj(a, port.read(k), steps=5)
    found = _observed(items)
    # the stock Keras optimizer also holds lr = 1e-3 in a float32 variable
    assert set(found) == {"adam_epsilon_hat", "adam_epsilon_default", "keras_float32_constants"}
    assert found["keras_float32_constants"]["field"] == "learning_rate"
    assert (found["adam_epsilon_default"]["a"], found["adam_epsilon_default"]["b"]) == (
        1e-8, 1e-7)
    assert found["adam_epsilon_hat"]["fix"].startswith("dlparity.port.TextbookAdam")
    combined = next(it for it in items if it["key"] == "combined")
    assert combined["rerun"]["resolved"]


def test_optimizer_state_not_carried_over() -> None:
    from test_port_fixtures import train_torch

    t = torch_mlp()
    opt = torch.optim.Adam(t.parameters(), lr=0.01)
    train_torch(t, opt, 4)
    a = port.read(t, optimizer=opt)
    fresh = OptimizerSpec("adam", dict(a.setup.optimizer.hyper), "textbook")
    b = Side(a.spec, TrainingSetup(a.setup.loss, fresh), "keras", "fresh Keras")
    found = _observed(_explain_traj(a, b, steps=3))
    assert set(found) == {"optimizer_state"}
    assert (found["optimizer_state"]["a"], found["optimizer_state"]["b"]) == (4, 0)
    assert found["optimizer_state"]["rerun"]["resolved"]


def test_rmsprop_epsilon_inside_the_square_root() -> None:
    t = torch_mlp()
    a = port.read(t, optimizer=torch.optim.RMSprop(t.parameters(), lr=0.01))
    b = port.convert(t, "keras", optimizer=torch.optim.RMSprop(t.parameters(), lr=0.01)).side
    found = _observed(_explain_traj(a, b, steps=3))
    assert set(found) == {"rmsprop_epsilon_inside"}
    assert found["rmsprop_epsilon_inside"]["rerun"]["resolved"]


def test_square_weight_transferred_without_the_transpose() -> None:
    t = nn.Sequential(nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 3)).double()
    k = port.convert(t, "keras").model
    k.layers[0].kernel.assign(t[0].weight.detach().numpy())  # Linear.weight is (out, in)
    items = _explain_diff(port.read(t), port.read(k))
    found = _observed(items)
    assert set(found) == {"weights_transposed"}
    assert found["weights_transposed"]["field"] == "W"
    assert found["weights_transposed"]["rerun"]["resolved"]
    assert "B's W is not A's (transposed)" in port.format_explanation(items)


def test_tf32_is_named_for_float32_on_a_gpu() -> None:
    spec = port.read(torch_mlp()).spec
    a = Side(spec, framework="torch", device="cuda")
    b = Side(spec, framework="keras", device="cuda", tf32=False)
    keys = [f.key for f in port.find_differences(a, b, ("float32",))]
    assert keys == ["tf32"]
    assert port.find_differences(a, b, ("float64",)) == []


def test_agreeing_models_have_nothing_to_explain() -> None:
    t = torch_mlp()
    a, b = port.read(t), port.read(port.convert(t, "torch").model)
    report = diff_models(a, b, X)
    assert not report.diverged
    assert port.explain(a, b, diff=report) == []
