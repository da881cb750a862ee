"""Learning-rate schedules between torch, Keras and the reference, as pure functions of t.

A schedule is held in ``OptimizerSpec.hyper['schedule']`` (``learning_rate`` is then the
INITIAL rate) as a JSON-able dict in Keras's terms, a function of t = the optimizer steps
taken before the update (Keras's ``iterations``):

- ``{"kind": "exponential", "decay_steps": D, "decay_rate": g, "staircase": s}``:
  lr(t) = lr0 * g ** (t / D), the exponent floored when ``staircase`` (Keras's
  ``ExponentialDecay``; torch's ``StepLR(step_size, gamma)`` is D = step_size * P,
  ``ExponentialLR(gamma)`` D = P, staircase, where P = optimizer steps per
  ``scheduler.step()``: the number of batches per epoch when the user steps it per epoch);
- ``{"kind": "piecewise", "boundaries": [b0, ...], "values": [v0, v1, ...]}``: lr(t) =
  v_i with i = the number of boundaries b < t (Keras's ``PiecewiseConstantDecay``, which
  changes the rate AFTER step b; torch's ``MultiStepLR(milestones=[m])`` changes it AT
  scheduler step m: b = m * P - 1).

Keras computes its schedules in float32 (``keras_float32_constants``); torch's schedulers
multiply the current rate (chainable form), the reference evaluates lr(t) directly.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["scheduled_lr", "check_schedule", "schedule_from_keras", "keras_schedule",
           "schedule_from_torch", "torch_scheduler"]


def check_schedule(schedule: Any) -> dict[str, Any]:
    """The schedule dict, checked (ValueError naming what is wrong)."""
    if not isinstance(schedule, dict) or schedule.get("kind") not in ("exponential",
                                                                      "piecewise"):
        raise ValueError("schedule: must be a dict with kind 'exponential' or 'piecewise'; "
                         f"received {schedule!r}")
    if schedule["kind"] == "exponential":
        if not schedule.get("decay_steps", 0) > 0:
            raise ValueError(f"schedule: decay_steps must be > 0; received {schedule!r}")
    elif len(schedule["values"]) != len(schedule["boundaries"]) + 1:
        raise ValueError(f"schedule: piecewise needs one more value than boundaries; received "
                         f"{schedule!r}")
    return schedule


def scheduled_lr(schedule: dict[str, Any] | None, lr0: float, t: int) -> float:
    """The learning rate of the update after t steps (t = 0: the first update)."""
    if schedule is None:
        return lr0
    if schedule["kind"] == "exponential":
        p = t / schedule["decay_steps"]
        if schedule["staircase"]:
            p = math.floor(p)
        return lr0 * schedule["decay_rate"] ** p
    return schedule["values"][sum(1 for b in schedule["boundaries"] if t > b)]


# --------------------------------------------------------------------------- Keras


def schedule_from_keras(config: Any) -> tuple[float, dict[str, Any]]:
    """(lr0, schedule) of a serialized Keras schedule ({'class_name', 'config'})."""
    cls, cfg = config.get("class_name"), config.get("config", {})
    if cls == "ExponentialDecay":
        return float(cfg["initial_learning_rate"]), {
            "kind": "exponential", "decay_steps": int(cfg["decay_steps"]),
            "decay_rate": float(cfg["decay_rate"]), "staircase": bool(cfg["staircase"])}
    if cls == "PiecewiseConstantDecay":
        values = [float(v) for v in cfg["values"]]
        return values[0], {"kind": "piecewise", "boundaries": [int(b) for b in cfg["boundaries"]],
                           "values": values}
    raise ValueError(f"port (Keras optimizer): the learning-rate schedule {cls!r} is not "
                     "supported; supported: ExponentialDecay, PiecewiseConstantDecay")


def keras_schedule(schedule: dict[str, Any], lr0: float) -> Any:
    """The Keras schedule object."""
    import keras

    s = check_schedule(schedule)
    if s["kind"] == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(lr0, s["decay_steps"],
                                                           s["decay_rate"], s["staircase"])
    return keras.optimizers.schedules.PiecewiseConstantDecay(list(s["boundaries"]),
                                                             list(s["values"]))


# --------------------------------------------------------------------------- torch


_EXP_KEYS = {"gamma", "base_lrs", "last_epoch", "_step_count", "_is_initial", "verbose",
             "_get_lr_called_within_step", "_last_lr"}  # ExponentialLR's state_dict


def schedule_from_torch(scheduler: Any, steps_per_epoch: int = 1
                        ) -> tuple[float, dict[str, Any]]:
    """(lr0, schedule) of a torch StepLR / ExponentialLR / MultiStepLR (or its state_dict),
    stepped once every ``steps_per_epoch`` optimizer steps."""
    state = scheduler if isinstance(scheduler, dict) else scheduler.state_dict()
    if not isinstance(steps_per_epoch, int) or steps_per_epoch < 1:
        raise ValueError(f"port: steps_per_epoch must be an int >= 1 (optimizer steps per "
                         f"scheduler.step()); received {steps_per_epoch!r}")
    P, lr0 = steps_per_epoch, float(state["base_lrs"][0])
    if len(state["base_lrs"]) != 1:
        raise ValueError(f"port: the scheduler must drive one param group; received "
                         f"{len(state['base_lrs'])}")
    gamma = float(state.get("gamma", 0.0))
    if "milestones" in state:
        milestones = sorted(int(m) for m, n in dict(state["milestones"]).items() for _ in range(n))
        return lr0, {"kind": "piecewise", "boundaries": [m * P - 1 for m in milestones],
                     "values": [lr0 * gamma**i for i in range(len(milestones) + 1)]}
    if "step_size" in state:
        return lr0, {"kind": "exponential", "decay_steps": int(state["step_size"]) * P,
                     "decay_rate": gamma, "staircase": True}
    name = type(scheduler).__name__ if not isinstance(scheduler, dict) else "scheduler"
    if name in ("ExponentialLR", "scheduler") and "gamma" in state and set(state) <= _EXP_KEYS:
        return lr0, {"kind": "exponential", "decay_steps": P, "decay_rate": gamma,
                     "staircase": True}
    raise ValueError(f"port: the torch {name} is not supported; supported: StepLR, "
                     f"ExponentialLR, MultiStepLR (state keys received: {sorted(state)})")


def torch_scheduler(schedule: dict[str, Any], optimizer: Any, t: int) -> Any:
    """A torch scheduler stepped once per optimizer step that continues ``schedule`` from
    step t (the optimizer's rate set to lr(t), the scheduler's count to t)."""
    import torch

    s = check_schedule(schedule)
    lr0 = optimizer.param_groups[0]["lr"]
    sched = torch.optim.lr_scheduler
    if s["kind"] == "exponential" and s["staircase"]:
        out = sched.StepLR(optimizer, step_size=s["decay_steps"], gamma=s["decay_rate"])
    elif s["kind"] == "exponential":  # lr0 * g**(t/D): gamma g**(1/D) every step
        out = sched.ExponentialLR(optimizer, gamma=s["decay_rate"] ** (1 / s["decay_steps"]))
    else:
        values = s["values"]
        gamma = values[1] / values[0] if len(values) > 1 else 1.0
        if any(not math.isclose(v, values[0] * gamma**i, rel_tol=1e-12)
               for i, v in enumerate(values)):
            raise ValueError(f"port: torch's MultiStepLR multiplies by one gamma; the "
                             f"piecewise values {values} are not geometric")
        out = sched.MultiStepLR(optimizer, [b + 1 for b in s["boundaries"]], gamma=gamma)
    out.last_epoch = t
    for group in optimizer.param_groups:
        group["lr"] = scheduled_lr(s, lr0, t)
    return out
