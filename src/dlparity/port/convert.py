"""The Python API of the conversion: read a live model, convert it, port a file.

    side = read(torch_model, optimizer=opt, loss=nn.CrossEntropyLoss())
    out = convert(torch_model, "keras", optimizer=opt)     # out.model, out.optimizer
    port_file("model.pt", "model.keras")                   # what `dlparity port` runs

Models: torch ``nn.Sequential`` / torch_impl ``FCNetModule``, ``keras.Sequential``, a
``FullyConnectedNet`` of the reference, torch_impl or tf_impl, a reference ``params`` dict
(a FullyConnectedNet's W1, b1, ...), a ``ModelSpec`` or a ``Side``. Weights and optimizer
state are copied bit-exactly (a float64 round trip torch -> Keras -> torch gives the same
bits); hyper-parameters are carried in the target's meaning (docs/porting.md).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .diff import Side
from .optim_state import for_target
from .spec import LossSpec, ModelSpec, OptimizerSpec, TrainingSetup

__all__ = ["Converted", "read", "convert", "port_file", "conversion_notes",
           "reference_configs", "TARGETS"]

TARGETS = ("torch", "keras", "reference")


def _is_torch(obj: Any, cls: str) -> bool:
    if "torch" not in sys.modules:
        return False
    import torch

    return isinstance(obj, {"module": torch.nn.Module, "optim": torch.optim.Optimizer}[cls])


def _is_keras(obj: Any) -> bool:
    return "keras" in sys.modules and isinstance(obj, sys.modules["keras"].Model)


def _optimizer_from_reference(optimizer: Any) -> OptimizerSpec | None:
    """An OptimizerSpec from ('adam', {param: config}) (a Solver's optim_configs)."""
    if optimizer is None or isinstance(optimizer, OptimizerSpec):
        return optimizer
    if not (isinstance(optimizer, tuple) and len(optimizer) == 2):
        raise TypeError("read: optimizer for a reference model must be an OptimizerSpec or "
                        "(rule, {param: config}) such as ('adam', solver.optim_configs); "
                        f"received {type(optimizer).__name__}")
    rule, configs = optimizer
    kind = {"adam": "adam", "sgd": "sgd", "sgd_momentum": "sgd", "nesterov_momentum": "sgd",
            "rmsprop": "rmsprop"}.get(rule)
    if kind is None:
        raise ValueError(f"read: rule must be adam, sgd, sgd_momentum, nesterov_momentum or "
                         f"rmsprop; received {rule!r}")
    first = next(iter(configs.values()), {})
    hyper = {k: first[k] for k in ("learning_rate", "beta1", "beta2", "epsilon", "momentum",
                                   "decay_rate") if k in first}
    if kind == "sgd":
        hyper.setdefault("momentum", 0.9 if rule != "sgd" else 0.0)
        hyper["nesterov"] = rule == "nesterov_momentum"
    state = {name: {k: np.array(c[k]) for k in ("m", "v", "velocity", "cache") if k in c}
             for name, c in configs.items()}
    return OptimizerSpec(kind, hyper, "", int(first.get("t", 0)),
                         {k: v for k, v in state.items() if v})


def read(model: Any, *, optimizer: Any = None, loss: Any = None,
         input_shape: tuple[int, ...] | None = None, label: str = "", scheduler: Any = None,
         steps_per_epoch: int = 1) -> Side:
    """The Side (spec, training setup, framework) of a live model and optimizer/loss.

    ``scheduler``: a torch StepLR / ExponentialLR / MultiStepLR driving ``optimizer``,
    stepped once every ``steps_per_epoch`` optimizer steps (the batches per epoch when it
    is stepped per epoch; 1: per batch). A Keras schedule comes with its optimizer."""
    from dlparity.bases.models import FullyConnectedNetBase

    if isinstance(model, Side):
        return model
    if isinstance(model, ModelSpec):
        setup = TrainingSetup(loss or LossSpec(), _optimizer_from_reference(optimizer))
        return Side(model, setup, "reference", label or "spec")
    if isinstance(model, FullyConnectedNetBase):
        from .reference_side import spec_from_fcnet

        spec = spec_from_fcnet(model)
        framework = {"torch_impl": "torch", "tf_impl": "keras"}.get(spec.source, "reference")
        setup = TrainingSetup(LossSpec(), _optimizer_from_reference(optimizer))
        return Side(spec, setup, framework, label or f"FullyConnectedNet ({spec.source})")
    if isinstance(model, dict):
        from .io import _fcnet_architecture

        arrays = {k: np.asarray(v) for k, v in model.items()}
        spec = ModelSpec.from_architecture(_fcnet_architecture(arrays, input_shape), arrays,
                                           "reference")
        setup = TrainingSetup(LossSpec(), _optimizer_from_reference(optimizer))
        return Side(spec, setup, "reference", label or "params")
    if _is_torch(model, "module"):
        from . import torch_side as ts

        spec = ts.spec_from_torch(model, input_shape)
        setup = TrainingSetup(ts.loss_spec_from_torch(loss) if loss is not None else LossSpec())
        if optimizer is not None:
            if not _is_torch(optimizer, "optim"):
                raise TypeError(f"read: optimizer of a torch model must be a torch.optim "
                                f"optimizer; received {type(optimizer).__name__}")
            setup.optimizer = ts.optimizer_spec_from_torch(optimizer, model, spec)
        if scheduler is not None:
            if setup.optimizer is None:
                raise ValueError("read: a scheduler needs its optimizer; received "
                                 "optimizer=None")
            setup.optimizer = with_schedule(setup.optimizer, scheduler, steps_per_epoch)
        return Side(spec, setup, "torch", label or type(model).__name__)
    if _is_keras(model):
        from . import keras_side as ks

        spec = ks.spec_from_keras(model)
        setup = TrainingSetup()
        loss = loss if loss is not None else getattr(model, "loss", None)
        if loss is not None:
            setup.loss = ks.loss_spec_from_keras(loss)
        optimizer = optimizer if optimizer is not None else getattr(model, "optimizer", None)
        if optimizer is not None:
            setup.optimizer = ks.optimizer_spec_from_keras(optimizer, model, spec)
        return Side(spec, setup, "keras", label or model.name)
    raise TypeError(
        "read: model must be a torch nn.Sequential (or torch_impl FCNetModule), a "
        "keras.Sequential, a FullyConnectedNet (reference, torch_impl, tf_impl), a params "
        f"dict or a ModelSpec; received {type(model).__name__}"
    )


def with_schedule(opt: OptimizerSpec, scheduler: Any, steps_per_epoch: int) -> OptimizerSpec:
    """The optimizer spec with a torch scheduler's schedule: learning_rate becomes the
    initial rate, hyper['schedule'] the function of t (port/schedules.py)."""
    from .schedules import schedule_from_torch

    lr0, schedule = schedule_from_torch(scheduler, steps_per_epoch)
    return OptimizerSpec(opt.kind, {**opt.hyper, "learning_rate": lr0, "schedule": schedule},
                         opt.form, opt.t, opt.state)


@dataclass
class Converted:
    """A conversion's result: the target model, its optimizer (or None), the target Side,
    and notes naming the conventions the target holds differently from the source."""

    model: Any
    optimizer: Any
    side: Side
    notes: list[str] = field(default_factory=list)
    scheduler: Any = None  # torch: the scheduler of a schedule, to step once per batch


def reference_configs(opt: OptimizerSpec, names: list[str]) -> dict[str, dict[str, Any]]:
    """The reference rule's config (hyper-parameters and state) for every parameter."""
    from .reference_side import _rule_config

    return {name: _rule_config(opt, name) for name in names}


def conversion_notes(src: Side, dst: Side) -> list[str]:
    """One line per known convention the target holds differently from the source."""
    from .explain import CONVENTIONS, find_differences

    notes = [f"{f.key}: {CONVENTIONS[f.key][1]} ({f.where}: {f.field} {f.a_value!r} -> "
             f"{f.b_value!r})" for f in find_differences(src, dst)]
    return notes + penalty_notes(dst)


def penalty_notes(dst: Side) -> list[str]:
    """torch has no layer regularizer: each dense layer's penalty, as the loss term to add."""
    if dst.framework != "torch":
        return []
    out = []
    for i, layer in enumerate(dst.spec.layers):
        if layer.kind != "dense":
            continue
        reg, l1 = layer.config.get("reg", 0.0), layer.config.get("l1", 0.0)
        terms = ([f"0.5 * {reg!r} * (W**2).sum()"] if reg else []) + \
            ([f"{l1!r} * W.abs().sum()"] if l1 else [])
        if terms:
            out.append(f"l2_half: torch has no kernel_regularizer; add to the loss for layer "
                       f"{i} ({layer.name}): {' + '.join(terms)} (Keras's L2(l2) is 0.5 * reg "
                       "* sum(W**2) with reg = 2 * l2, its factors in float32; the trajectories "
                       "add it: port.torch_side.penalty)")
    return out


def convert(model: Any, to: str, *, optimizer: Any = None, loss: Any = None,
            input_shape: tuple[int, ...] | None = None, dtype: str | None = None,
            keras_adam: str = "stock", scheduler: Any = None,
            steps_per_epoch: int = 1) -> Converted:
    """Convert a model (and optimizer state) to 'torch', 'keras' or 'reference'.

    Returns the target objects: an nn.Sequential and a torch.optim optimizer; a compiled
    keras.Sequential and its optimizer (Adam, or TextbookAdam with keras_adam='textbook');
    a reference FullyConnectedNet (or the ModelSpec, for other layer sequences) and the
    reference rule configs per parameter.
    """
    if to not in TARGETS:
        raise ValueError(f"convert: to must be one of {TARGETS}; received {to!r}")
    src = read(model, optimizer=optimizer, loss=loss, input_shape=input_shape,
               scheduler=scheduler, steps_per_epoch=steps_per_epoch)
    if dtype:
        src = Side(src.spec.astype(dtype), src.setup, src.framework, src.label)
    spec = src.spec
    setup = src.setup or TrainingSetup()
    opt = None
    if setup.optimizer is not None:
        opt = for_target(setup.optimizer, to, keras_adam) if to != "reference" else \
            setup.optimizer
    dst_setup = TrainingSetup(setup.loss, opt)
    scheduler = None
    if to == "torch":
        from . import torch_side as ts

        spec = ts.as_torch(spec)
        target = ts.build_torch(spec)
        native_opt = ts.build_torch_optimizer(opt, ts.param_map(target, spec)) if opt else None
        scheduler = ts.build_torch_scheduler(opt, native_opt) if opt else None
    elif to == "keras":
        from . import keras_side as ks

        spec = ks.as_keras(spec)
        target = ks.build_keras(spec)
        native_opt = ks.build_keras_optimizer(opt, ks.variable_map(target, spec)) if opt else None
        if native_opt is not None:
            target.compile(optimizer=native_opt, loss=ks.keras_loss_object(setup.loss))
    else:
        from .reference_side import fcnet_from_spec

        target = fcnet_from_spec(spec) if spec.is_fully_connected_net() else spec
        native_opt = reference_configs(opt, list(spec.params())) if opt else None
    dst = Side(spec, dst_setup, to, f"{src.label} -> {to}")
    notes = conversion_notes(src, dst)
    if to == "torch" and scheduler is not None:
        notes.append("schedule_stepping: call Converted.scheduler.step() after every "
                     "optimizer step (the schedule is a function of the optimizer steps)")
    return Converted(target, native_opt, dst, notes, scheduler)


def port_file(src: str | os.PathLike, dst: str | os.PathLike, *, to: str | None = None,
              keras_adam: str = "stock", input_shape: tuple[int, ...] | None = None,
              trust_pickle: bool = False, dtype: str | None = None,
              model: Any = None, steps_per_epoch: int = 1) -> Converted:
    """Convert the model file ``src`` into ``dst`` (.pt, .keras or .npz) and verify it
    (returns a Converted whose ``side`` is the written file read back; model is None):
    the written file is read back and its arrays (weights, statistics, optimizer state)
    must equal the source's bit for bit in the written dtype, else the file is removed and
    an error raised. Nothing is written when reading or converting fails. ``model``: the
    user's model code for a checkpoint of weights only (``load_model``)."""
    from .io import FORMATS, framework_of, load_model, save_model

    target = framework_of(dst, "output path")
    if to is not None:
        wanted = {"torch": "torch", "pt": "torch", "keras": "keras", "npz": "reference",
                  "reference": "reference"}.get(to)
        if wanted is None or wanted != target:
            exts = sorted(e for e, f in FORMATS.items() if f == wanted) or ["?"]
            raise ValueError(f"port: --to {to!r} needs an output path ending in {exts}; "
                             f"received {str(dst)!r}")
    side = load_model(src, input_shape=input_shape, trust_pickle=trust_pickle, model=model,
                      steps_per_epoch=steps_per_epoch)
    if dtype:
        side = Side(side.spec.astype(dtype), side.setup, side.framework, side.label)
    written = save_model(side, dst, keras_adam=keras_adam)
    problems = _compare_arrays(side, written)
    if problems:
        Path(dst).unlink()
        raise ValueError(f"port: the written file did not read back bit-exactly ({problems}); "
                         "removed it")
    return Converted(None, None, written, conversion_notes(side, written))


def _compare_arrays(src: Side, dst: Side) -> list[str]:
    """Names of the arrays (weights, statistics, optimizer state) that differ."""
    dt = np.dtype(dst.spec.dtype)
    bad = [k for k, a in src.spec.arrays().items()
           if not np.array_equal(a.astype(dt), dst.spec.arrays().get(k))]
    so = src.setup.optimizer if src.setup else None
    do = dst.setup.optimizer if dst.setup else None
    if so is not None and do is not None:
        if so.t != do.t:
            bad.append(f"optimizer t {so.t} -> {do.t}")
        for name, state in so.state.items():
            for key, a in state.items():
                if not np.array_equal(np.asarray(a).astype(dt), do.state.get(name, {}).get(key)):
                    if not (so.kind == "sgd" and src.framework != dst.framework):
                        bad.append(f"optimizer {key} of {name}")
    return bad
