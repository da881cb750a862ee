"""A torch model as the chain of operations its ``forward`` runs, found by ``torch.fx``.

A model is read by what its forward computes, not by its class: ``torch.fx`` records every
module call, function call and tensor method on the way from the input to the output
(loops over ``nn.ModuleList`` unrolled, nested ``nn.Sequential`` / ``nn.ModuleDict``
entered). The port takes models whose record is ONE CHAIN: every operation consumes the
previous operation's result and nothing else (sizes read from it, ``x.size(0)`` or
``x.shape[0]``, may feed a reshape). Accepted operations:

- modules: Linear, BatchNorm1d, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax,
  Dropout, Flatten, Identity (and torch_impl's FCNetModule, read as its layers);
- functions: ``F.relu``/``torch.relu``, ``F.leaky_relu``, ``torch.sigmoid``,
  ``torch.tanh``, ``F.softmax``/``F.log_softmax``/``torch.softmax``/``torch.log_softmax``
  over dim 1 or -1, ``F.dropout(x, p, training=self.training)``, ``torch.flatten(x, 1)``;
- tensor methods: ``relu``, ``sigmoid``, ``tanh``, ``softmax``, ``log_softmax``,
  ``flatten(1)``, ``view``/``reshape`` to (N, -1).

Anything else (a convolution, a residual ``x + h``, attention, slicing) is a ValueError
naming the operation and the line of ``forward`` it sits on. The model is traced in train
mode (so ``training=self.training`` is True) and its modes are restored afterwards.
"""

from __future__ import annotations

import operator
import re
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from .spec import LayerSpec

__all__ = ["torch_chain", "CHAIN_HELP"]

CHAIN_HELP = (
    "supported: the modules Linear, BatchNorm1d, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, "
    "LogSoftmax, Dropout, Flatten, Identity (nested Sequential / ModuleList / ModuleDict and "
    "loops over them); the functions F.relu, F.leaky_relu, torch.sigmoid, torch.tanh, "
    "F.softmax / F.log_softmax (dim=1), F.dropout, torch.flatten(x, 1); the tensor methods "
    "relu, sigmoid, tanh, softmax, log_softmax, flatten(1), view / reshape to (N, -1); one "
    "chain from the input to the output"
)

_FUNCTIONS: dict[Any, str] = {
    F.relu: "relu", torch.relu: "relu", F.leaky_relu: "leaky_relu",
    torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid", torch.tanh: "tanh", F.tanh: "tanh",
    F.softmax: "softmax", torch.softmax: "softmax", F.log_softmax: "log_softmax",
    torch.log_softmax: "log_softmax", F.dropout: "dropout", torch.flatten: "flatten",
    torch.reshape: "reshape",
}
_METHODS = {"relu": "relu", "relu_": "relu", "sigmoid": "sigmoid", "tanh": "tanh",
            "softmax": "softmax", "log_softmax": "log_softmax", "flatten": "flatten",
            "view": "reshape", "reshape": "reshape"}
_SIZE_OPS = ("size", "shape", "getitem")  # reading the current tensor's sizes


def _where(node: fx.Node, model: nn.Module) -> str:
    """'in Net.forward, line 12: `return x + h`' from the node's recorded stack."""
    lines = (node.stack_trace or "").splitlines()
    where = f"in {type(model).__name__}.forward"
    for i, line in enumerate(lines):
        found = re.match(r'\s*File "([^"]+)", line (\d+), in (\w+)', line)
        if not found or "/torch/" in found.group(1).replace("\\", "/"):
            continue
        code = lines[i + 1].strip() if i + 1 < len(lines) else ""
        code = "" if code.startswith("File ") else f": `{code}`"
        where = f"in {type(model).__name__}.{found.group(3)}, line {found.group(2)}{code}"
    return where


def _describe(node: fx.Node, model: nn.Module) -> str:
    if node.op == "call_module":
        return f"the module {node.target!r} ({type(model.get_submodule(node.target)).__name__})"
    if node.op == "call_method":
        return f"the tensor method .{node.target}()"
    name = getattr(node.target, "__name__", str(node.target))
    module = getattr(node.target, "__module__", "") or ""
    if node.target in (operator.add, operator.iadd, torch.add):
        return "an addition (a residual connection?)"
    return f"the function {module + '.' if module else ''}{name}"


def _arg(node: fx.Node, index: int, name: str, default: Any) -> Any:
    """Argument ``name`` of a call, given by position ``index`` (0 = the tensor) or keyword."""
    if name in node.kwargs:
        return node.kwargs[name]
    return node.args[index] if len(node.args) > index else default


def _tensor_inputs(node: fx.Node) -> list[fx.Node]:
    """The nodes a call reads, sizes excluded (they come from the tensor being reshaped)."""
    out = []
    for n in node.all_input_nodes:
        if not _is_size(n):
            out.append(n)
    return out


def _is_size(node: fx.Node) -> bool:
    if node.op == "call_method" and node.target == "size":
        return True
    if node.op == "call_function" and node.target is getattr and node.args[1] == "shape":
        return True
    if node.op == "call_function" and node.target is operator.getitem:
        return isinstance(node.args[0], fx.Node) and _is_size(node.args[0])
    return False


def _reshape_is_flatten(node: fx.Node) -> bool:
    """view / reshape to (N, -1): two sizes, the second -1 (or the first a size of x)."""
    dims = list(node.args[1:]) or list(node.kwargs.get("shape", ()))
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = list(dims[0])
    if len(dims) != 2:
        return False
    return dims[1] == -1 or isinstance(dims[0], fx.Node) or dims[0] == -1


def _dim_ok(node: fx.Node, fn: str) -> bool:
    dim = _arg(node, 1, "dim", None)
    return dim in (1, -1) or (fn == "flatten" and _arg(node, 1, "start_dim", 0) == 1
                              and _arg(node, 2, "end_dim", -1) == -1)


def _functional_spec(kind: str, node: fx.Node, name: str) -> LayerSpec | None | str:
    """The LayerSpec of a function call or tensor method (None: the identity); a string
    says why it is refused."""
    if kind in ("relu", "sigmoid", "tanh"):
        return LayerSpec(kind, name=name)
    if kind == "leaky_relu":
        return LayerSpec("leaky_relu", {"alpha": float(_arg(node, 1, "negative_slope", 0.01))},
                         name=name)
    if kind in ("softmax", "log_softmax"):
        if not _dim_ok(node, kind):
            return f"({kind} must work over dim 1 (or -1) of (N, D); received " \
                   f"dim={_arg(node, 1, 'dim', None)})"
        return LayerSpec(kind, name=name)
    if kind == "dropout":
        if not _arg(node, 2, "training", True):
            return None
        return LayerSpec("dropout", {"p": float(_arg(node, 1, "p", 0.5))}, name=name)
    if kind == "flatten":
        if not _dim_ok(node, "flatten"):
            return "(flatten must start at dim 1: flatten(1) / torch.flatten(x, 1))"
        return LayerSpec("flatten", name=name)
    if not _reshape_is_flatten(node):
        return "(view / reshape must give (N, -1), e.g. x.view(x.size(0), -1))"
    return LayerSpec("flatten", name=name)


def _trace(model: nn.Module) -> fx.Graph:
    modes = {m: m.training for m in model.modules()}
    tracer = fx.Tracer()
    tracer.record_stack_traces = True
    try:
        model.train()
        return tracer.trace(model)
    except Exception as err:  # noqa: BLE001 - fx's errors vary (data-dependent control flow...)
        raise ValueError(
            f"port: {type(model).__name__}.forward cannot be traced by torch.fx "
            f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); "
            "the port takes forwards whose operations do not depend on the data"
        ) from None
    finally:
        for m, mode in modes.items():
            m.training = mode


def _refuse(model: nn.Module, node: fx.Node, why: str) -> ValueError:
    return ValueError(f"port: {type(model).__name__}.forward is not supported: "
                      f"{_describe(node, model)} {_where(node, model)} {why}; {CHAIN_HELP}")


def torch_chain(model: nn.Module, module_spec: Any) -> list[tuple[LayerSpec, nn.Module | None]]:
    """The layers ``model``'s forward applies in order: (LayerSpec, the module holding its
    arrays, or None for a function call). ``module_spec(module, name)`` reads one module
    (torch_side._layer_spec: None for nn.Identity, a ValueError when unsupported)."""
    graph = _trace(model)
    current: fx.Node | None = None
    out: list[tuple[LayerSpec, nn.Module | None]] = []
    for node in graph.nodes:
        if node.op == "placeholder":
            if current is not None:
                raise _refuse(model, node, "takes a second input")
            current = node
            continue
        if node.op == "output" or _is_size(node):
            if node.op == "output" and node.args[0] is not current:
                raise _refuse(model, node, "returns something other than the last result")
            continue
        inputs = _tensor_inputs(node)
        if inputs != [current]:
            why = "reads an earlier result as well as the last one (not a chain)" \
                if len(inputs) > 1 else "does not continue from the last result"
            raise _refuse(model, node, why)
        spec = _node_spec(model, node, module_spec)
        if isinstance(spec, str):
            raise _refuse(model, node, spec)
        current = node
        if spec is None or (spec[0].kind == "flatten" and out and out[-1][0].kind == "flatten"):
            continue
        out.append(spec)
    return out


def _node_spec(model: nn.Module, node: fx.Node, module_spec: Any
               ) -> tuple[LayerSpec, nn.Module | None] | None | str:
    name = node.name
    if node.op == "call_module":
        m = model.get_submodule(node.target)
        try:
            spec = module_spec(m, node.target)
        except ValueError as err:
            text = str(err).removeprefix("port: ")
            return "is not a supported layer" if "; supported:" in text else f"({text})"
        return None if spec is None else (spec, m)
    kind = _FUNCTIONS.get(node.target) if node.op == "call_function" else \
        _METHODS.get(node.target) if node.op == "call_method" else None
    if kind is None:
        return "is not a supported operation"
    spec = _functional_spec(kind, node, name)
    return spec if spec is None or isinstance(spec, str) else (spec, None)
