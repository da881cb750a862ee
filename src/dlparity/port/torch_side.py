"""PyTorch as one side of a port: read a model into a spec, build one from a spec, run it.

Supported models: any ``nn.Module`` whose forward is one chain of supported operations,
found by tracing it (``trace.py``: modules Linear, BatchNorm1d, the activations, Dropout,
Flatten, Identity; functions such as ``F.relu``, ``F.log_softmax(x, dim=1)``,
``F.dropout``; tensor methods such as ``x.view(x.size(0), -1)``); torch_impl's
``FCNetModule``. Optimizers: ``torch.optim.Adam``, ``SGD``, ``RMSprop`` (one param group).

Conventions of torch that a spec records: ``Linear.weight`` is W.T; ``BatchNorm1d``'s
momentum weights the batch (SPEC momentum = 1 - torch momentum) and its running variance is
the unbiased one (running_var_unbiased=True, not configurable).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import optim_state as osx
from .spec import LayerSpec, LossSpec, ModelSpec, OptimizerSpec, TrainingSetup, param_keys

__all__ = ["SUPPORTED", "spec_from_torch", "build_torch", "as_torch", "TorchRunner",
           "TorchTrainer", "optimizer_spec_from_torch", "build_torch_optimizer",
           "loss_spec_from_torch", "param_map"]

SUPPORTED = ("Linear", "BatchNorm1d", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax",
             "LogSoftmax", "Dropout", "Flatten", "Identity", "Sequential", "FCNetModule")
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def _unsupported_layer(module: nn.Module) -> ValueError:
    return ValueError(
        f"port: the torch layer {type(module).__name__} ({module!r}) is not supported; "
        f"supported: {', '.join(SUPPORTED)}"
    )


def _layer_spec(m: nn.Module, name: str) -> LayerSpec | None:
    """The LayerSpec of one torch module (None for nn.Identity)."""
    if isinstance(m, nn.Linear):
        w = {"W": _np(m.weight).T.copy()}
        if m.bias is not None:
            w["b"] = _np(m.bias)
        return LayerSpec("dense", {"units": m.out_features, "in_features": m.in_features,
                                   "use_bias": m.bias is not None}, w, name)
    if isinstance(m, nn.BatchNorm1d):
        if not (m.affine and m.track_running_stats) or m.momentum is None:
            raise ValueError(
                f"port: BatchNorm1d {name!r} needs affine=True, track_running_stats=True and a "
                f"momentum; received affine={m.affine}, track_running_stats="
                f"{m.track_running_stats}, momentum={m.momentum}"
            )
        return LayerSpec("batchnorm", {"momentum": 1.0 - m.momentum, "eps": float(m.eps),
                                       "running_var_unbiased": True,
                                       "num_batches_tracked": int(m.num_batches_tracked)},
                         {"gamma": _np(m.weight), "beta": _np(m.bias),
                          "running_mean": _np(m.running_mean),
                          "running_var": _np(m.running_var)}, name)
    if isinstance(m, nn.LeakyReLU):
        return LayerSpec("leaky_relu", {"alpha": float(m.negative_slope)}, name=name)
    if isinstance(m, nn.Softmax):
        if m.dim not in (-1, 1):
            raise ValueError(f"port: Softmax {name!r} must work over the last axis (dim=-1 or "
                             f"1 for (N, D)); received dim={m.dim}")
        return LayerSpec("softmax", name=name)
    if isinstance(m, nn.LogSoftmax):
        if m.dim not in (-1, 1):
            raise ValueError(f"port: LogSoftmax {name!r} must work over the last axis (dim=-1 "
                             f"or 1 for (N, D)); received dim={m.dim}")
        return LayerSpec("log_softmax", name=name)
    if isinstance(m, nn.Dropout):
        return LayerSpec("dropout", {"p": float(m.p)}, name=name)
    if isinstance(m, nn.Flatten):
        if m.start_dim != 1 or m.end_dim != -1:
            raise ValueError(f"port: Flatten {name!r} must flatten from dim 1; received "
                             f"start_dim={m.start_dim}, end_dim={m.end_dim}")
        return LayerSpec("flatten", name=name)
    if isinstance(m, nn.Identity):
        return None
    simple = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}
    for cls, kind in simple.items():
        if type(m) is cls:
            return LayerSpec(kind, name=name)
    raise _unsupported_layer(m)


def _fcnet_modules(module: nn.Module) -> list[tuple[str, nn.Module]]:
    """torch_impl's FCNetModule as its sequence of layers."""
    out: list[tuple[str, nn.Module]] = []
    L = len(module.linears)
    for i, linear in enumerate(module.linears):
        out.append((f"linears.{i}", linear))
        if i == L - 1:
            break
        if len(module.norms):
            out.append((f"norms.{i}", module.norms[i]))
        out.append((f"relu{i + 1}", nn.ReLU()))
        if len(module.dropouts):
            out.append((f"dropouts.{i}", module.dropouts[i]))
    return out


def _chain(model: nn.Module) -> list[tuple[LayerSpec, nn.Module | None]]:
    """(LayerSpec, module holding its arrays or None) for every layer the model applies:
    FCNetModule by its layers, any other module by tracing its forward (trace.py)."""
    if type(model).__name__ == "FCNetModule":
        return [(s, m) for n, m in _fcnet_modules(model)
                if (s := _layer_spec(m, n)) is not None]
    from .trace import torch_chain

    if not isinstance(model, (nn.Sequential, nn.ModuleList, nn.ModuleDict)) and \
            type(model).__module__.startswith("torch.nn."):  # a single layer as the model
        return [(s, model)] if (s := _layer_spec(model, "")) is not None else []
    return torch_chain(model, _layer_spec)


def spec_from_torch(model: nn.Module, input_shape: tuple[int, ...] | None = None) -> ModelSpec:
    """The ModelSpec of a torch model (arrays copied). ``input_shape`` (without the batch)
    is needed only when the model starts with nn.Flatten."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"spec_from_torch: model must be a torch.nn.Module; received "
                        f"{type(model).__name__}")
    layers = [s for s, _ in _chain(model)]
    if not layers:
        raise ValueError("spec_from_torch: the model has no supported layer")
    if input_shape is None:
        first = next((la for la in layers if la.kind not in ("dropout",)), layers[0])
        if first.kind != "dense":
            raise ValueError(
                "spec_from_torch: input_shape is needed (the model starts with "
                f"{first.kind}, whose input shape torch does not record); received None"
            )
        input_shape = (first.config["in_features"],)
    params = list(model.parameters())
    dtype = str(params[0].dtype).replace("torch.", "") if params else "float32"
    return ModelSpec(layers, tuple(input_shape), dtype, "torch")


def as_torch(spec: ModelSpec) -> ModelSpec:
    """The spec as torch holds it: unbiased running variance, exact slope and L2 factor."""
    return spec.held_by("torch")


def _build_layer(layer: LayerSpec, dtype: torch.dtype) -> nn.Module:
    c, w = layer.config, layer.weights
    if layer.kind == "dense":
        m = nn.Linear(int(c["in_features"]), int(c["units"]), bias=bool(c["use_bias"]),
                      dtype=dtype)
    elif layer.kind == "batchnorm":
        m = nn.BatchNorm1d(len(w["gamma"]), eps=c["eps"], momentum=1.0 - c["momentum"],
                           dtype=dtype)
        m.num_batches_tracked.fill_(int(c.get("num_batches_tracked", 0)))
    elif layer.kind == "leaky_relu":
        m = nn.LeakyReLU(c["alpha"])
    elif layer.kind == "dropout":
        m = nn.Dropout(c["p"])
    else:
        m = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "flatten": nn.Flatten,
             "softmax": lambda: nn.Softmax(dim=-1),
             "log_softmax": lambda: nn.LogSoftmax(dim=-1)}[layer.kind]()
    with torch.no_grad():
        for name, tensor in _module_arrays(m, layer.kind).items():
            if name not in w:
                continue
            value = torch.from_numpy(np.array(w[name])).to(dtype)
            tensor.copy_(value.T if name == "W" else value)
    return m


def _module_arrays(m: nn.Module, kind: str) -> dict[str, torch.Tensor]:
    """Local name -> the module's tensor (W is Linear.weight, stored transposed)."""
    if kind == "dense":
        out = {"W": m.weight}
        if m.bias is not None:
            out["b"] = m.bias
        return out
    if kind == "batchnorm":
        return {"gamma": m.weight, "beta": m.bias, "running_mean": m.running_mean,
                "running_var": m.running_var}
    return {}


def build_torch(spec: ModelSpec, dtype: str | None = None) -> nn.Sequential:
    """An nn.Sequential computing the spec (in ``dtype``, default the spec's)."""
    tdtype = _DTYPES[np.dtype(dtype or spec.dtype).name]
    return nn.Sequential(*[_build_layer(la, tdtype) for la in spec.layers])


def param_map(model: nn.Sequential, spec: ModelSpec) -> dict[str, tuple[torch.Tensor, bool]]:
    """Global name (W1, b1, gamma1, ...) -> (trainable tensor, stored transposed?)."""
    out: dict[str, tuple[torch.Tensor, bool]] = {}
    for m, layer, key in zip(model, spec.layers, param_keys(spec.layers), strict=True):
        if key is None:
            continue
        for name, t in _module_arrays(m, layer.kind).items():
            if isinstance(t, nn.Parameter):
                out[f"{name}{key[1]}"] = (t, name == "W")
    return out


# ---------------------------------------------------------------------- optimizers


def optimizer_spec_from_torch(optimizer: torch.optim.Optimizer, model: nn.Module,
                              spec: ModelSpec) -> OptimizerSpec:
    """The OptimizerSpec (hyper-parameters, m/v/t or buffers) of a torch optimizer over
    ``model``'s parameters (``spec`` = spec_from_torch(model))."""
    if len(optimizer.param_groups) != 1:
        raise ValueError("port: the torch optimizer must have one param group; received "
                         f"{len(optimizer.param_groups)}")
    kind, hyper, form = osx.hyper_from_torch(type(optimizer).__name__, optimizer.param_groups[0])
    names = {id(m.weight if n.startswith(("W", "gamma")) else m.bias): n
             for n, m in _named_param_modules(model, spec)}
    state, steps = {}, set()
    for p, s in optimizer.state.items():
        if id(p) not in names or not s:
            continue
        name = names[id(p)]
        arrays = {k: _np(v) for k, v in s.items() if torch.is_tensor(v) and v.ndim > 0}
        if name.startswith("W"):
            arrays = {k: v.T.copy() for k, v in arrays.items()}
        state[name] = osx.from_torch_state(kind, hyper, arrays)
        if "step" in s:
            steps.add(int(float(s["step"])))
    if len(steps) > 1:
        raise ValueError(f"port: every parameter must have taken the same number of optimizer "
                         f"steps; received steps {sorted(steps)}")
    return OptimizerSpec(kind, hyper, form, steps.pop() if steps else 0, state)


def _named_param_modules(model: nn.Module, spec: ModelSpec) -> list[tuple[str, nn.Module]]:
    """(global name of a parameter, module holding it) for W, b, gamma, beta."""
    modules = [m for _, m in _chain(model)]
    out = []
    for m, layer, key in zip(modules, spec.layers, param_keys(spec.layers), strict=True):
        if key is None:
            continue
        first, second = ("W", "b") if layer.kind == "dense" else ("gamma", "beta")
        out.append((f"{first}{key[1]}", m))
        if m.bias is not None:
            out.append((f"{second}{key[1]}", m))
    return out


def build_torch_optimizer(opt: OptimizerSpec, params: dict[str, tuple[torch.Tensor, bool]]
                          ) -> torch.optim.Optimizer:
    """The torch optimizer of the spec over ``params`` (param_map order), state loaded."""
    cls = getattr(torch.optim, osx.TORCH_CLASSES[opt.kind])
    optimizer = cls([p for p, _ in params.values()], **osx.torch_kwargs(opt))
    for name, (p, transposed) in params.items():
        state = osx.to_torch_state(opt, name)
        if not state:
            continue
        tensors: dict[str, Any] = {
            k: torch.from_numpy(np.array(v.T if transposed else v)).to(p.dtype)
            for k, v in state.items()}
        if opt.kind != "sgd":
            tensors["step"] = torch.tensor(float(opt.t))
        optimizer.state[p] = tensors
    for group in optimizer.param_groups:  # the rate of the next update (a schedule's lr(t))
        group["lr"] = osx.current_lr(opt)
    return optimizer


def build_torch_scheduler(opt: OptimizerSpec, optimizer: torch.optim.Optimizer) -> Any:
    """The torch scheduler of the spec's schedule (None without one), stepped once per
    optimizer step from step opt.t (StepLR / ExponentialLR / MultiStepLR)."""
    from .schedules import torch_scheduler

    schedule = opt.hyper.get("schedule")
    if not schedule:
        return None
    for group in optimizer.param_groups:
        group["lr"] = opt.hyper["learning_rate"]
    return torch_scheduler(schedule, optimizer, opt.t)


def loss_spec_from_torch(loss: nn.Module) -> LossSpec:
    """The LossSpec of a torch loss module (CrossEntropyLoss, MSELoss, BCEWithLogitsLoss)."""
    kinds = {nn.CrossEntropyLoss: "softmax_cross_entropy", nn.MSELoss: "mse",
             nn.BCEWithLogitsLoss: "sigmoid_cross_entropy",
             nn.NLLLoss: "softmax_cross_entropy", nn.BCELoss: "sigmoid_cross_entropy"}
    if type(loss) not in kinds or getattr(loss, "reduction", "mean") != "mean" or \
            getattr(loss, "weight", None) is not None or getattr(loss, "label_smoothing", 0):
        raise ValueError(f"port: the torch loss {loss!r} is not supported; supported: "
                         "CrossEntropyLoss(), NLLLoss() (after log_softmax: the same "
                         "function of the logits), MSELoss(), BCEWithLogitsLoss(), BCELoss() "
                         "with reduction='mean' and no class weights")
    return LossSpec(kinds[type(loss)], not isinstance(loss, nn.BCELoss), "mean")


def torch_loss(loss: LossSpec, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The data loss with torch ops, as the spec says (reduction, from_logits)."""
    n = out.shape[0]
    if loss.kind == "softmax_cross_entropy" and loss.one_hot:  # Keras's, on target rows
        y = y.to(out.dtype)
        if loss.from_logits:
            return -(y * F.log_softmax(out, dim=1)).sum(dim=1).mean()
        q = (out / out.sum(dim=1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
        return -(y * torch.log(q)).sum(dim=1).mean()
    if loss.kind == "softmax_cross_entropy":
        logits = out if loss.from_logits else torch.log(out.clamp(1e-7, 1 - 1e-7))
        return F.cross_entropy(logits, y.long())
    y = y.to(out.dtype).reshape(out.shape)
    fn = F.mse_loss if loss.kind == "mse" else F.binary_cross_entropy_with_logits
    if loss.kind == "sigmoid_cross_entropy" and not loss.from_logits:  # Keras's clip
        out, fn = out.clamp(1e-7, 1 - 1e-7), F.binary_cross_entropy
    return fn(out, y) if loss.reduction == "mean" else fn(out, y, reduction="sum") / n


# --------------------------------------------------------------------------- runners


def _restore(m: nn.Module, kind: str, saved: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """Put back the running statistics saved before a train-mode call; return the new ones."""
    if kind != "batchnorm":
        return {}
    new = {"running_mean": _np(m.running_mean), "running_var": _np(m.running_var)}
    with torch.no_grad():
        m.running_mean.copy_(saved["running_mean"])
        m.running_var.copy_(saved["running_var"])
        m.num_batches_tracked.copy_(saved["num_batches_tracked"])
    return new


def penalty(layer: LayerSpec, m: nn.Module) -> torch.Tensor | float:
    """A dense layer's weight penalty as a loss term: 0.5 * reg * sum(W**2) + l1 * sum(|W|)
    (a Keras kernel_regularizer carried to torch; 0 for other layers)."""
    if layer.kind != "dense":
        return 0.0
    reg, l1 = float(layer.config.get("reg", 0.0)), float(layer.config.get("l1", 0.0))
    out: torch.Tensor | float = 0.0
    if reg:
        out = out + 0.5 * reg * (m.weight**2).sum()
    if l1:
        out = out + l1 * m.weight.abs().sum()
    return out


class TorchRunner:
    """Layer-by-layer forward and VJP of a spec with torch modules (no state is kept:
    batch norm's running statistics are restored after every call)."""

    framework = "torch"

    def __init__(self, spec: ModelSpec, dtype: str = "float64", device: str = "cpu",
                 tf32: bool | None = None) -> None:
        self.spec = as_torch(spec).astype(dtype)
        self.dtype = _DTYPES[dtype]
        self.device = torch.device(device)
        if tf32 is not None and self.device.type == "cuda":
            from dlparity.torch_impl import _convert  # the project's one TF32 switch

            _convert.set_tf32(tf32)
        self.modules = [_build_layer(la, self.dtype).to(self.device) for la in self.spec.layers]

    def _t(self, a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(self.dtype).to(self.device)

    def _call(self, i: int, x: torch.Tensor, training: bool, mask: np.ndarray | None
              ) -> torch.Tensor:
        layer, m = self.spec.layers[i], self.modules[i]
        if layer.kind == "dropout":
            if not training or layer.config["p"] == 0:
                return x * 1
            return x * self._t(mask) / (1 - layer.config["p"])
        m.train(training)
        return m(x)

    def _saved(self, i: int) -> dict[str, torch.Tensor]:
        m = self.modules[i]
        if self.spec.layers[i].kind != "batchnorm":
            return {}
        return {k: getattr(m, k).clone() for k in ("running_mean", "running_var",
                                                    "num_batches_tracked")}

    def forward(self, i: int, x: np.ndarray, training: bool, mask: np.ndarray | None
                ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        saved = self._saved(i)
        with torch.no_grad():
            out = self._call(i, self._t(x), training, mask)
        state = _restore(self.modules[i], self.spec.layers[i].kind, saved)
        return _np(out), state if training else {}

    def vjp(self, i: int, x: np.ndarray, g: np.ndarray, training: bool,
            mask: np.ndarray | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        layer, m = self.spec.layers[i], self.modules[i]
        saved = self._saved(i)
        xt = self._t(x).requires_grad_(True)
        params = {k: t for k, t in _module_arrays(m, layer.kind).items()
                  if isinstance(t, nn.Parameter)}
        out = self._call(i, xt, training, mask)
        target = (out * self._t(g)).sum() + penalty(layer, m)
        grads = torch.autograd.grad(target, [xt, *params.values()], allow_unused=True)
        _restore(m, layer.kind, saved)
        dparams = {k: _np(gr.T if k == "W" else gr) for k, gr in zip(params, grads[1:],
                                                                       strict=True)}
        return _np(grads[0]), dparams


class TorchTrainer:
    """Training steps with torch: the layers in turn (dropout by the given keep-masks), the
    data loss + each dense layer's penalty (``penalty``), backward(), optimizer.step()."""

    framework = "torch"

    def __init__(self, spec: ModelSpec, setup: TrainingSetup, dtype: str = "float64") -> None:
        if setup.optimizer is None:
            raise ValueError("TorchTrainer: the training setup has no optimizer")
        self.runner = TorchRunner(spec, dtype)
        self.model = nn.Sequential(*self.runner.modules)
        self.params = param_map(self.model, self.runner.spec)
        opt = osx.for_target(setup.optimizer, "torch")
        self.optimizer = build_torch_optimizer(opt, self.params)
        self.scheduler = build_torch_scheduler(opt, self.optimizer)  # stepped per batch
        self.loss = setup.loss

    def step(self, x: np.ndarray, y: np.ndarray, masks: list[np.ndarray | None]) -> float:
        r = self.runner
        h = r._t(x)
        for i in range(len(r.modules)):
            h = r._call(i, h, True, masks[i])
        yt = torch.from_numpy(np.asarray(y)).to(r.device)
        loss = torch_loss(self.loss, h, yt)
        for layer, m in zip(r.spec.layers, r.modules, strict=True):
            loss = loss + penalty(layer, m)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        return float(loss.detach())

    def snapshot(self) -> dict[str, np.ndarray]:
        out = {}
        for m, layer, key in zip(self.runner.modules, self.runner.spec.layers,
                                 param_keys(self.runner.spec.layers), strict=True):
            if key is not None:
                for name, t in _module_arrays(m, layer.kind).items():
                    a = _np(t).astype(np.float64)
                    out[f"{name}{key[1]}"] = a.T.copy() if name == "W" else a
        return out

    def optimizer_spec(self) -> OptimizerSpec:
        return optimizer_spec_from_torch(self.optimizer, self.model, self.runner.spec)
