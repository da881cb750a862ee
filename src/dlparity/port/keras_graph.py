"""A Keras model as the chain of layers its graph applies: Sequential, Functional, subclass.

- ``keras.Sequential``: its layers in order.
- Functional (``keras.Model(inputs, outputs)``): the graph walked back from the output to
  the ``keras.Input``; every layer (or ``keras.ops`` call) must take exactly the previous
  one's output: one chain.
- a ``keras.Model`` subclass: its ``call`` is run once on a symbolic ``keras.Input`` (with
  ``training=True`` where ``call`` takes it), which records the same graph as a Functional
  model of the layers made in ``__init__``; the nodes that run adds are removed afterwards.

A layer that is not supported (a convolution, an ``Add`` of a residual connection,
attention) is a ValueError naming it and where it sits in the chain.
"""

from __future__ import annotations

import inspect
from typing import Any

import keras

from .spec import LayerSpec

__all__ = ["keras_chain", "input_shape_of"]

# keras.ops calls recorded in a graph -> spec kind (the op's class name)
_OPS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softmax": "softmax",
        "LogSoftmax": "log_softmax", "LeakyRelu": "leaky_relu"}


def _op_specs(op: Any, where: str) -> list[LayerSpec]:
    """The LayerSpec of a keras.ops call (relu, sigmoid, tanh, softmax, log_softmax,
    leaky_relu) found in a graph."""
    kind = _OPS.get(type(op).__name__)
    if kind is None:
        raise ValueError(f"port: the Keras operation {type(op).__name__} ({op.name!r}) {where} "
                         f"is not supported; supported keras.ops calls: {sorted(_OPS)}")
    if kind in ("softmax", "log_softmax") and getattr(op, "axis", -1) not in (-1, 1):
        raise ValueError(f"port: {op.name!r} {where} must work over the last axis; received "
                         f"axis={op.axis}")
    if kind == "leaky_relu":
        return [LayerSpec(kind, {"alpha": float(op.negative_slope), "alpha_float32": True},
                          name=op.name)]
    return [LayerSpec(kind, name=op.name)]


def _walk(outputs: Any, name: str) -> list[Any]:
    """The operations from the input to the output of a graph that must be one chain."""
    if isinstance(outputs, (list, tuple, dict)):
        values = list(outputs.values()) if isinstance(outputs, dict) else list(outputs)
        if len(values) != 1:
            raise ValueError(f"port: the Keras model {name!r} must have one output; received "
                             f"{len(values)}")
        outputs = values[0]
    chain, tensor = [], outputs
    while True:
        op, node_index, _ = tensor._keras_history
        if type(op).__name__ == "InputLayer":
            return chain[::-1]
        node = op._inbound_nodes[node_index]
        inputs = list(node.input_tensors)
        if len(inputs) != 1:
            after = f"before {chain[-1].name!r}" if chain else "at the output"
            raise ValueError(
                f"port: the Keras model {name!r} is not one chain of layers: "
                f"{type(op).__name__} {op.name!r} ({after}) takes {len(inputs)} inputs "
                f"({', '.join(repr(t._keras_history.operation.name) for t in inputs)}); a "
                "residual connection, a concatenation or attention is not supported"
            )
        chain.append(op)
        tensor = inputs[0]


def input_shape_of(model: Any) -> tuple[int, ...] | None:
    """The input shape (without the batch) a built model was built or called with."""
    if getattr(model, "inputs", None):
        return tuple(int(d) for d in model.inputs[0].shape[1:])
    shapes = getattr(model, "_build_shapes_dict", None) or {}
    shape = next(iter(shapes.values()), None)
    return tuple(int(d) for d in shape[1:]) if shape else None


def _subclass_chain(model: Any, input_shape: tuple[int, ...] | None) -> list[Any]:
    """Run ``call`` once on a symbolic input and walk the graph it records."""
    shape = input_shape or input_shape_of(model)
    if shape is None:
        raise ValueError(f"port: the input shape of the Keras model {model.name!r} is not "
                         "known: build it (call it once on data, or model.build(shape)) or pass "
                         "input_shape; received an unbuilt model")
    layers = list(model._flatten_layers(include_self=False))
    counts = {id(la): len(la._inbound_nodes) for la in layers}
    kwargs = {"training": True} if "training" in inspect.signature(model.call).parameters else {}
    try:
        outputs = model.call(keras.Input(shape), **kwargs)
        return _walk(outputs, model.name)
    except ValueError:
        raise
    except Exception as err:  # noqa: BLE001 - whatever call raises on a symbolic input
        raise ValueError(
            f"port: {type(model).__name__}.call cannot run on a symbolic keras.Input "
            f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); the "
            "port takes call methods that chain layers made in __init__ (and keras.ops "
            "activations)"
        ) from None
    finally:
        for la in layers:  # the symbolic call's nodes are not the user's
            del la._inbound_nodes[counts[id(la)]:]


def keras_chain(model: Any, layer_specs: Any, input_shape: tuple[int, ...] | None = None
                ) -> list[tuple[Any, list[LayerSpec]]]:
    """(Keras layer or op, its LayerSpecs) in the order the model applies them.
    ``layer_specs(layer)`` reads one layer (keras_side._layer_specs)."""
    if isinstance(model, keras.Sequential):
        ops = list(model.layers)
    elif getattr(model, "_operations", None) is not None and getattr(model, "outputs", None):
        ops = _walk(model.outputs, model.name)
    elif isinstance(model, keras.Model):
        ops = _subclass_chain(model, input_shape)
    else:
        raise TypeError(f"port: model must be a keras.Model; received {type(model).__name__}")
    out = []
    for i, op in enumerate(ops):
        where = f"(step {i + 1} of {model.name!r}'s chain" + \
            (f", after {ops[i - 1].name!r})" if i else ", the first)")
        if isinstance(op, keras.layers.Layer):
            try:
                out.append((op, layer_specs(op)))
            except ValueError as err:
                raise ValueError(f"{err} {where}") from None
        else:
            out.append((op, _op_specs(op, where)))
    return out
