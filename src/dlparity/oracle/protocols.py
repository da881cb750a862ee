"""THE calling protocols: how each kind of catalogue function is called and what is observed.

Every consumer runs these and only these: the parity suite and the oracle (through
``engine.py``, once on the reference with plain calls and once on the implementation
under test with guarded calls), the test vectors (``vectors.py``, on the reference), the
gradient check (``dlparity.selfcheck``) and the repro snippets (:func:`replay`). A runner
yields observations ``(owner, {label: value})`` in a fixed order; two implementations
agree when their streams agree observation by observation.

protocol      call                                                     observations
``layer``     ``out, cache = f(*args)``; ``grads = backward(dout, cache)``  ``out``; bn_param
              with a random upstream ``dout``                                state; the grads
``loss``      ``value, grad = f(*args)`` (grad w.r.t. the first argument)  ``loss``, ``grad``
``value``     ``f(*args)``, any nesting of arrays/floats/tuples/lists      ``out``, ``out0``...
``optimizer`` ``w, config = rule(w, dw_k, config)`` for each step k, the   ``w after step k``
              learning rate set before each step (a schedule)
``sequence``  batch norm over several train batches, then test mode      outputs, statistics
``model``     ``FullyConnectedNet`` with the registry's weights loaded:    ``loss``, ``scores``,
              ``loss(X, y)`` and ``loss(X)``                               ``dW1``, ...
``solver``    ``Solver`` on the REFERENCE model (so a model bug is never   ``loss_history``,
              blamed on it), trained                                       the parameters
(``random``, the initialisers, is compared by statistics: ``engine.py``.)
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

import dlparity.reference as ref

from .calls import Calls, Failure, describe, pair, watch_args
from .child import PROCEDURES
from .registry import OpRecord, cast, flatten, make_args, reference_params, upstream_gradient

__all__ = ["Obs", "call_text", "observe", "optimizer_inputs", "reference_stream"]

Obs = tuple[str, dict[str, Any]]


def _layer(calls: Calls, record: OpRecord, args: Sequence[Any],
           dout_for: Callable[[Any], np.ndarray]) -> Iterator[Obs]:
    fwd, bwd = record.name, record.backward
    out, cache = pair(fwd, calls(fwd, calls.fn(fwd), *args), "(out, cache)")
    yield fwd, {"out": out}
    if record.state is not None:
        yield fwd, _bn_state(fwd, args[-1])
    if bwd is None or not calls.has(bwd):
        return
    dout = dout_for(out)
    watch = [("dout", dout), *watch_args(fwd, args, " (through the cache)")]
    grads = calls(bwd, calls.fn(bwd), dout, cache, watch=watch)
    if not isinstance(grads, tuple | list):
        grads = (grads,)
    if len(grads) != len(record.grad_names):
        raise Failure(bwd, "return type", f"{bwd} returned {len(grads)} value(s); expected "
                      f"{len(record.grad_names)}: {', '.join(record.grad_names)}")
    yield bwd, dict(zip(record.grad_names, grads, strict=True))


def _bn_state(owner: str, bn_param: Any, suffix: str = "") -> dict[str, Any]:
    state = {}
    for key in ("running_mean", "running_var"):
        label = f"bn_param[{key!r}]{suffix}"
        if not isinstance(bn_param, dict) or key not in bn_param:
            raise Failure(owner, label, f"{owner} did not store bn_param[{key!r}] "
                          "(SPEC.md §4 batchnorm)")
        state[label] = bn_param[key]
    return state


def _loss(calls: Calls, record: OpRecord, args: Sequence[Any]) -> Iterator[Obs]:
    name = record.name
    value, grad = pair(name, calls(name, calls.fn(name), *args), "(loss, grad)")
    yield name, {"loss": value, "grad": grad}


def _value(calls: Calls, record: OpRecord, args: Sequence[Any]) -> Iterator[Obs]:
    yield record.name, flatten(calls(record.name, calls.fn(record.name), *args))


def _optimizer(calls: Calls, record: OpRecord,
               inputs: tuple[np.ndarray, list, dict, list]) -> Iterator[Obs]:
    name = record.name
    w, grads, config, lrs = inputs
    for k, (dw, lr) in enumerate(zip(grads, lrs, strict=True), start=1):
        if lr is not None:
            if not isinstance(config, dict):
                raise Failure(name, "return type", f"{name} returned config "
                              f"{describe(config)}; expected the config dict")
            config["learning_rate"] = lr
        watch = [("w", w), ("dw", dw)]
        if calls.strict_state and isinstance(config, dict):
            watch.append(("config", config))  # dlparity's own: state replaced, never written
        result = calls(name, calls.fn(name), w, dw, config, watch=watch)
        w, config = pair(name, result, "(next_w, config)")
        yield name, {f"w after step {k}": w}


def _sequence(calls: Calls, record: OpRecord, args: Sequence[Any]) -> Iterator[Obs]:
    """Batch norm: the train batches in order (running statistics carried in one bn_param),
    then test mode on the last batch."""
    name = record.name
    batches, gamma, beta, bn_param = args
    for k, x in enumerate(batches[:-1], start=1):
        out, _ = pair(name, calls(name, calls.fn(name), x, gamma, beta, bn_param,
                                  watch=[("x", x), ("gamma", gamma), ("beta", beta)]),
                      "(out, cache)")
        yield name, {f"out of batch {k}": out, **_bn_state(name, bn_param, f" after batch {k}")}
    bn_param["mode"] = "test"
    out, _ = pair(name, calls(name, calls.fn(name), batches[-1], gamma, beta, bn_param),
                  "(out, cache)")
    yield name, {"test-mode out after the sequence": out}


def model_params(record: OpRecord, case: Any, kwargs: dict[str, Any],
                 seed: int = 0) -> dict[str, np.ndarray]:
    """The case's weights (float64), with the shapes of the reference model's ``params``:
    part of the inputs, so every implementation and dtype loads the same values."""
    kwargs = {k: v for k, v in kwargs.items() if k != "running_var_unbiased"}
    shapes = ref.FullyConnectedNet(**kwargs, dtype=np.float64).params
    return reference_params(record, case, shapes, np.float64, seed)


def _model(calls: Calls, record: OpRecord, args: Sequence[Any]) -> Iterator[Obs]:
    name = record.name
    if record.protocol == "model":
        watch = [("X", args[1]), ("y", args[2]), ("params", args[3])]
        outputs = calls(name, procedure(calls.impl, "model_outputs"), args, watch=watch)
    else:  # the Solver, on the reference's model (its loss computed in this process)
        args = (args[0], args[1], _accepted(calls.fn(name), args[2], optional=("verbose",)),
                args[3])
        outputs = calls(name, procedure(calls.impl, "solver_outputs"), args,
                        reference_loss(args[0], args[1]["X_train"].dtype),
                        watch=[("data", args[1]), ("params", args[3])])
    yield name, outputs


def procedure(impl: Any, name: str) -> Callable[..., Any]:
    """``child.PROCEDURES[name]`` on ``impl``'s functions: run in the target's process for
    an isolated target, here for the reference and dlparity's own twins."""
    if getattr(impl, "remote", False):
        return impl.procedure(name)
    return functools.partial(PROCEDURES[name], impl)


def reference_loss(model_kwargs: dict[str, Any], dtype: Any) -> Callable[..., Any]:
    """The reference FullyConnectedNet's ``loss`` on given parameters: the model a Solver
    under test trains (``child.ReferenceModel``)."""
    net = ref.FullyConnectedNet(**model_kwargs, dtype=dtype)

    def loss(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray | None = None) -> Any:
        net.params.update(params)
        return net.loss(X, y)

    return loss


def _accepted(fn: Any, kwargs: dict[str, Any], optional: Sequence[str]) -> dict[str, Any]:
    """``kwargs`` without the ``optional`` ones ``fn`` does not take (e.g. a Solver without
    ``verbose``): SPEC.md does not require them."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return kwargs
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in params or k not in optional}


def optimizer_inputs(record: OpRecord, case: Any, seed: int = 0, steps: int | None = None,
                     dtype: Any = np.float64) -> tuple[np.ndarray, list, dict, list]:
    """An optimizer case's ``(w, [dw_k], config, [lr_k])`` in ``dtype``; where the case
    clips, the gradients are clipped beforehand by the REFERENCE ``clip_by_global_norm``
    (so an optimizer is never blamed for clipping; clipping has its own record)."""
    w, grads, config, lrs, clip_norm = make_args(record, case, seed, steps)
    if clip_norm is not None:
        grads = [ref.clip_by_global_norm([g], clip_norm)[0][0] for g in grads]
    return cast(w, dtype), cast(list(grads), dtype), copy.deepcopy(config), list(lrs)


def inputs(record: OpRecord, case: Any, dtype: np.dtype, seed: int = 0,
           steps: int | None = None, framework: str | None = None) -> Any:
    """The case's inputs in ``dtype`` (a framework's registry convention applied)."""
    if record.protocol == "optimizer":
        return optimizer_inputs(record, case, seed, steps, dtype)
    args = make_args(record, case, seed, steps)
    if framework in record.conventions:
        args = record.conventions[framework][0](args)
    if record.protocol in ("model", "solver"):  # the weights are inputs too
        args = (*args, model_params(record, case, args[0], seed))
    return cast(args, dtype)


def observe(calls: Calls, record: OpRecord, case: Any, args: Any,
            dout_for: Callable[[Any], np.ndarray], seed: int = 0) -> Iterator[Obs]:
    """The observation stream of ``record`` on ``case`` with prepared ``args`` (see
    :func:`inputs`); ``dout_for(out)`` gives a layer's upstream gradient."""
    p = record.protocol
    if p == "layer":
        return _layer(calls, record, args, dout_for)
    if p == "loss":
        return _loss(calls, record, args)
    if p == "value":
        return _value(calls, record, args)
    if p == "optimizer":
        return _optimizer(calls, record, args)
    if p == "sequence":
        return _sequence(calls, record, args)
    if p in ("model", "solver"):
        return _model(calls, record, args)
    raise ValueError(f"no observation runner for protocol {p!r}")


def reference_stream(record: OpRecord, case: Any, dtype: np.dtype, seed: int = 0,
                     steps: int | None = None, framework: str | None = None
                     ) -> tuple[list[Obs], Any, np.ndarray | None]:
    """The reference's observations in float64 on the ``dtype`` inputs' values, those
    inputs, and the upstream gradient (in ``dtype``) a layer's backward receives."""
    args = inputs(record, case, np.dtype(dtype), seed, steps, framework)
    douts: dict[str, np.ndarray] = {}

    def dout_for(out: Any) -> np.ndarray:
        d = upstream_gradient(record, case, out, seed).astype(dtype)
        douts["dout"] = d
        return d.astype(np.float64)

    stream = list(observe(Calls(ref, None), record, case, cast(args, np.float64), dout_for,
                          seed))
    return stream, args, douts.get("dout")


def call_text(record: OpRecord, names: Sequence[str]) -> str:
    """The protocol's calls in one line (for the vectors' index and the repro snippets)."""
    args = ", ".join(names)
    p = record.protocol
    if p == "layer":
        return (f"out, cache = {record.name}({args}); "
                f"{', '.join(record.grad_names)} = {record.backward}(dout, cache)")
    if p == "loss":
        return f"loss, grad = {record.name}({args})  # grad w.r.t. {names[0] if names else 'x'}"
    if p == "optimizer":
        return (f"for k: config['learning_rate'] = lr[k] (unless null); "
                f"w, config = {record.name}(w, dw[k], config); w_after_step[k] = w")
    if p == "model":
        return ("model = FullyConnectedNet(**kwargs, dtype=X.dtype); model.params = params; "
                "loss, grads = model.loss(X, y); scores = model.loss(X)")
    if p == "sequence":
        return (f"for x in batches[:-1]: out, _ = {record.name}(x, gamma, beta, bn_param); "
                f"then bn_param['mode'] = 'test'; out, _ = {record.name}(batches[-1], ...)")
    if p == "solver":
        return "Solver(FullyConnectedNet(**model_kwargs), data, **solver_kwargs).train()"
    return f"out = {record.name}({args})"


def arg_names(name: str, count: int) -> list[str]:
    """Names of the first ``count`` positional arguments of the reference's ``name``."""
    params = list(inspect.signature(getattr(ref, name)).parameters.values())
    names = [p.name for p in params if p.kind != p.VAR_POSITIONAL][:count]
    if len(names) < count and any(p.kind == p.VAR_POSITIONAL for p in params):
        star = next(p.name for p in params if p.kind == p.VAR_POSITIONAL)
        names += [f"{star}_{i}" for i in range(count - len(names))]
    return names


