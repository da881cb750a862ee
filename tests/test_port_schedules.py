"""Learning-rate schedules carried with their step count: torch StepLR / MultiStepLR stepped
per epoch <-> Keras ExponentialDecay / PiecewiseConstantDecay (a function of the batches),
compared over 100 training steps; the off-by-one of MultiStepLR against
PiecewiseConstantDecay named by explain. Rates are float32-exact (Keras computes its
schedules in float32)."""

from __future__ import annotations

import pytest
from test_port_fixtures import seeded

torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from dlparity import port  # noqa: E402

X, Y = seeded("sx").standard_normal((16, 6)), seeded("sy").integers(0, 3, 16)


def torch_net() -> nn.Module:
    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()


def train_epochs(model: nn.Module, opt, sched, epochs: int, batch: int = 4) -> None:
    """The tutorial loop: batches, then scheduler.step() once per epoch."""
    x, y = torch.from_numpy(X), torch.from_numpy(Y)
    for _ in range(epochs):
        for k in range(0, 16, batch):
            opt.zero_grad()
            F.cross_entropy(model(x[k:k + batch]), y[k:k + batch]).backward()
            opt.step()
        sched.step()


def test_steplr_per_epoch_becomes_a_staircase_decay_over_batches() -> None:
    model = torch_net()
    opt = torch.optim.Adam(model.parameters(), lr=0.125)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    train_epochs(model, opt, sched, epochs=3)  # 12 steps; lr 0.125 -> 0.0625 after epoch 2
    src = port.read(model, optimizer=opt, scheduler=sched, steps_per_epoch=4)
    assert src.setup.optimizer.hyper["schedule"] == {
        "kind": "exponential", "decay_steps": 8, "decay_rate": 0.5, "staircase": True}
    out = port.convert(model, "keras", optimizer=opt, keras_adam="textbook", scheduler=sched,
                       steps_per_epoch=4)
    assert out.side.setup.optimizer.hyper == port.read(out.model).setup.optimizer.hyper
    assert type(out.optimizer._learning_rate).__name__ == "ExponentialDecay"
    assert float(out.optimizer.learning_rate) == 0.0625  # Keras's own schedule at step 12
    traj = port.trajectory_diff(src, port.read(out.model), X, Y, steps=100, batch_size=4,
                                progress=False, reference=False)
    assert traj.first is None and max(traj.curve_ab) < traj.rtol


def test_piecewise_constant_decay_becomes_multisteplr() -> None:
    keras.utils.set_random_seed(4)
    k = keras.Sequential([keras.Input((6,), dtype="float64"),
                          keras.layers.Dense(8, activation="tanh", dtype="float64"),
                          keras.layers.Dense(3, dtype="float64")])
    lr = keras.optimizers.schedules.PiecewiseConstantDecay([5, 20], [0.25, 0.125, 0.0625])
    k.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              optimizer=keras.optimizers.SGD(lr))
    k.fit(X, Y, batch_size=4, epochs=2, verbose=0)  # 8 steps: past the first boundary
    out = port.convert(k, "torch")
    assert isinstance(out.scheduler, torch.optim.lr_scheduler.MultiStepLR)
    assert sorted(out.scheduler.milestones) == [6, 21]  # AT 6: Keras changes AFTER step 5
    assert out.optimizer.param_groups[0]["lr"] == 0.125
    assert any(n.startswith("schedule_stepping") for n in out.notes)
    traj = port.trajectory_diff(port.read(k), out.side, X, Y, steps=100, batch_size=4,
                                progress=False, reference=False)
    assert traj.first is None and max(traj.curve_ab) < traj.rtol


def test_milestone_off_by_one_is_named_schedule_stepping() -> None:
    model = torch_net()
    opt = torch.optim.SGD(model.parameters(), lr=0.25)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[5], gamma=0.5)
    a = port.read(model, optimizer=opt, scheduler=sched)  # stepped per batch
    naive = port.convert(model, "keras", optimizer=opt).side  # then a hand-made Keras
    schedule = {"kind": "piecewise", "boundaries": [5], "values": [0.25, 0.125]}  # [m]
    hyper = {**naive.setup.optimizer.hyper, "schedule": schedule}
    b = port.Side(naive.spec, port.TrainingSetup(
        naive.setup.loss, port.OptimizerSpec("sgd", hyper)), "keras", "keras")
    run = lambda sa, sb: port.trajectory_diff(sa, sb, X, Y, steps=8, progress=False,  # noqa: E731
                                              reference=False)
    traj = run(a, b)
    assert traj.first is not None and traj.first["step"] == 6  # the one step lr differs
    items = port.explain(a, b, traj=traj, rerun_traj=run)
    item = next(it for it in items if it["key"] == "schedule_stepping")
    assert item["observed"] and "MultiStepLR" in item["fix"]
    assert item["rerun"]["resolved"]


def test_a_checkpoints_scheduler_state_is_read_with_steps_per_epoch(tmp_path) -> None:
    from pathlib import Path

    from support.port_fc_model import Network

    torch.manual_seed(0)
    model = Network(6, 3, [5])
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    torch.save({"input_size": 6, "output_size": 3, "hidden_layers": [5], "epoch": 0,
                "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(),
                "scheduler_state_dict": sched.state_dict()}, tmp_path / "ck.pt")
    script = Path(__file__).parent / "support" / "port_fc_model.py"
    side = port.load_model(tmp_path / "ck.pt", model=f"{script}:Network", steps_per_epoch=10)
    assert side.setup.optimizer.hyper["schedule"] == {
        "kind": "exponential", "decay_steps": 10, "decay_rate": 0.5, "staircase": True}


def test_torch_num_batches_tracked_is_carried() -> None:
    model = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4), nn.ReLU()).double()
    for _ in range(3):
        model(torch.from_numpy(X))
    out = port.convert(model, "torch")
    assert int(out.model[1].num_batches_tracked) == 3
    assert torch.equal(out.model[1].running_var, model[1].running_var)
