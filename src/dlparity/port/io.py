"""Model files: torch's own save/load, Keras's ``.keras`` format, the reference's ``.npz``.

- ``.pt`` / ``.pth`` (torch): read with ``torch.load(weights_only=True)``:
  (1) a dlparity checkpoint, the dict ``save_model`` writes: ``{"format":
  "dlparity.port/1", "architecture": JSON, "state_dict": model.state_dict(), "training":
  JSON (loss, optimizer class and hyper-parameters), "optimizer": optimizer.state_dict(),
  "optimizer_class": "Adam"}`` (the optimizer made over ``model.parameters()`` in order);
  (2) a bare ``state_dict`` of torch_impl's ``FCNetModule`` (its architecture is known);
  (3) with ``trust_pickle=True`` only, a whole pickled ``nn.Module`` (``torch.save(model)``;
  unpickling runs code from the file).
- ``.keras`` (Keras 3): ``model.save`` / ``keras.saving.load_model``; a compiled model
  carries its optimizer (state included) and loss.
- ``.npz`` (reference): ``numpy.savez`` of the reference's ``params`` (W1, b1, gamma1,
  beta1, ...; W as (fan_in, fan_out)), the batch norm statistics (running_mean1,
  running_var1, ...), ``__architecture__`` (JSON: the layers, their settings, input shape,
  dtype; without it the file is read as a FullyConnectedNet), and optionally
  ``__training__`` (JSON) with the optimizer state as ``optimizer.m.W1``, ``optimizer.v.W1``
  (Adam), ``optimizer.velocity.W1`` (SGD momentum), ``optimizer.cache.W1`` (RMSprop).
  Read with ``allow_pickle=False``.

Every write goes to a temporary file beside the target and is renamed at the end: a
failed conversion leaves no output file.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .diff import Side
from .optim_state import for_target
from .spec import LayerSpec, ModelSpec, TrainingSetup, dumps, needed_arrays

__all__ = ["FORMATS", "FORMAT_TAG", "framework_of", "load_model", "save_model"]

FORMAT_TAG = "dlparity.port/1"
FORMATS = {".pt": "torch", ".pth": "torch", ".keras": "keras", ".npz": "reference"}


def framework_of(path: str | os.PathLike, what: str = "path") -> str:
    """The framework of a model file from its extension (.pt/.pth, .keras, .npz)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"port: {what} {str(path)!r} must end in one of {sorted(FORMATS)} "
                         f"(.pt/.pth torch, .keras Keras, .npz the reference's params); "
                         f"received {suffix or 'no extension'!r}")
    return FORMATS[suffix]


def _bad_file(path: Path, kind: str, err: BaseException) -> ValueError:
    return ValueError(f"port: cannot read {str(path)!r} as {kind}: {type(err).__name__}: "
                      f"{str(err).splitlines()[0] if str(err) else ''}")


def load_model(path: str | os.PathLike, *, input_shape: tuple[int, ...] | None = None,
               trust_pickle: bool = False, model: Any = None, steps_per_epoch: int = 1
               ) -> Side:
    """Read a model file into a Side (spec, training setup, framework, label = file name).

    ``model`` (torch files only): the user's code for a checkpoint that holds weights but
    not the model: a function taking the checkpoint path and returning the nn.Module (the
    source document's ``load_checkpoint``), a model class whose constructor arguments are
    read from the checkpoint's same-named keys, or ``"SCRIPT.py:NAME"`` naming either in a
    script (which is then run: only because the caller named it). ``steps_per_epoch``: the
    optimizer steps per ``scheduler.step()`` of a checkpoint's 'scheduler_state_dict'."""
    p = Path(path)
    framework = framework_of(p)
    if not p.is_file():
        raise FileNotFoundError(f"port: no such model file: {str(p)!r}")
    if model is not None and framework != "torch":
        raise ValueError(f"port: model (--model) applies to torch checkpoints (.pt/.pth); "
                         f"received it for {str(p)!r}")
    if isinstance(model, str):
        model = model_from_script(model)
    if framework == "torch":
        spec, setup = _load_torch(p, input_shape, trust_pickle, model, steps_per_epoch)
    else:
        loader = {"keras": _load_keras, "reference": _load_npz}[framework]
        spec, setup = loader(p, input_shape, trust_pickle)
    return Side(spec, setup, framework, p.name)


def model_from_script(text: str) -> Callable[..., Any]:
    """The object NAME of ``SCRIPT.py:NAME`` (the script is imported: it runs)."""
    import importlib.util

    script, _, name = text.rpartition(":")
    if not script.endswith(".py") or not name.isidentifier():
        raise ValueError(f"port: --model must be SCRIPT.py:NAME (a function taking the "
                         f"checkpoint path, or a model class); received {text!r}")
    if not Path(script).is_file():
        raise FileNotFoundError(f"port: no such --model script: {script!r}")
    module_name = f"dlparity_user_model_{abs(hash(str(Path(script).resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, script)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # pickles and dataclasses find their module
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001 - the user's script may raise anything
        del sys.modules[module_name]
        raise ValueError(f"port: running the --model script {script!r} failed: "
                         f"{type(err).__name__}: {err}") from None
    if not callable(getattr(module, name, None)):
        names = sorted(k for k in vars(module) if not k.startswith("_"))
        raise ValueError(f"port: the --model script {script!r} has no function or class "
                         f"{name!r}; it defines {names}")
    return getattr(module, name)


def save_model(side: Side, path: str | os.PathLike, *, keras_adam: str = "stock") -> Side:
    """Write the side's model (and optimizer) in the format of ``path``'s extension, through
    a temporary file; returns the Side read back from the written file."""
    p = Path(path)
    framework = framework_of(p, "output path")
    if not p.parent.is_dir():
        raise FileNotFoundError(f"port: the output folder {str(p.parent)!r} does not exist")
    if keras_adam not in ("stock", "textbook"):
        raise ValueError(f"port: keras_adam must be 'stock' or 'textbook'; received {keras_adam!r}")
    writer = {"torch": _save_torch, "keras": _save_keras, "reference": _save_npz}[framework]
    _atomic(p, lambda tmp: writer(side, tmp, keras_adam))
    return load_model(p, input_shape=side.spec.input_shape)


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# --------------------------------------------------------------------------- torch


def _load_torch(p: Path, input_shape: tuple[int, ...] | None, trust: bool, factory: Any = None,
                steps_per_epoch: int = 1) -> tuple[ModelSpec, TrainingSetup]:
    import torch
    from torch import nn

    from . import torch_side as ts

    try:
        obj = torch.load(p, map_location="cpu", weights_only=not trust,
                         **_pickle_module(factory, trust))
    except Exception as err:  # noqa: BLE001 - any unreadable file is reported the same way
        if "Unsupported global" in str(err):
            raise ValueError(
                f"port: {str(p)!r} holds pickled Python objects (e.g. torch.save(model)); "
                "loading it runs code from the file. Pass trust_pickle=True "
                "(--trust-pickle) if you trust it, or save a dlparity checkpoint "
                "(dlparity.port.save_model) or the state_dict of torch_impl's FCNetModule"
            ) from None
        raise _bad_file(p, "a torch file (torch.save)", err) from None
    if isinstance(obj, nn.Module):
        return ts.as_torch(ts.spec_from_torch(obj, input_shape)), TrainingSetup()
    if isinstance(obj, dict) and obj.get("format") == FORMAT_TAG:
        return _torch_checkpoint(p, obj)
    if factory is not None:
        return _user_checkpoint(p, obj, factory, input_shape, steps_per_epoch)
    if isinstance(obj, dict) and obj and all(torch.is_tensor(v) for v in obj.values()):
        return _fcnet_state_dict(p, obj), TrainingSetup()
    if isinstance(obj, dict):
        keys = sorted(str(k) for k in obj)[:8]
        raise ValueError(
            f"port: {str(p)!r} holds weights but not the model's code (a dict with keys "
            f"{keys}); pass --model SCRIPT.py:NAME (model=...): a function taking the "
            "checkpoint path and returning the model (like the document's load_checkpoint), "
            "or the model class, whose constructor arguments come from the checkpoint's "
            "same-named keys")
    raise ValueError(f"port: {str(p)!r} is not a dlparity checkpoint, a checkpoint with "
                     f"--model, a state_dict or an nn.Module; received a {type(obj).__name__}")


def _pickle_module(factory: Any, trust: bool) -> dict[str, Any]:
    """torch.load's pickle_module for a trusted pickle whose classes were defined in the
    user's ``__main__`` (torch.save(model) in a script): looked up in the --model script."""
    if factory is None or not trust:
        return {}
    import pickle
    import types

    script = sys.modules.get(getattr(factory, "__module__", ""), None)

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if module == "__main__" and script is not None and hasattr(script, name):
                return getattr(script, name)
            return super().find_class(module, name)

    return {"pickle_module": types.SimpleNamespace(**{**vars(pickle), "Unpickler": Unpickler})}


_STATE_KEYS = ("model_state_dict", "state_dict", "model")
_OPTIMIZER_KEYS = ("optimizer_state_dict", "optimizer")


def _user_checkpoint(p: Path, obj: Any, factory: Any, input_shape: tuple[int, ...] | None,
                     steps_per_epoch: int = 1) -> tuple[ModelSpec, TrainingSetup]:
    """A checkpoint as users write them, read with the user's model code: the model from
    ``factory`` (a function of the path, or a class built from the checkpoint's keys), the
    optimizer (class inferred from its param_groups) from 'optimizer_state_dict'."""
    from torch import nn

    from . import torch_side as ts

    if inspect.isclass(factory):
        model = _build_from_class(p, obj, factory)
    else:
        try:
            model = factory(str(p))
        except Exception as err:  # noqa: BLE001 - the user's function may raise anything
            raise ValueError(f"port: the --model function {factory.__name__}({str(p)!r}) "
                             f"failed: {type(err).__name__}: {err}") from None
        if isinstance(model, tuple):  # (model, optimizer) is a common shape too
            model = model[0]
    if not isinstance(model, nn.Module):
        raise TypeError(f"port: the --model {getattr(factory, '__name__', factory)!r} must "
                        f"return an nn.Module; received {type(model).__name__}")
    spec = ts.spec_from_torch(model, input_shape)
    setup = TrainingSetup()
    state = next((obj[k] for k in _OPTIMIZER_KEYS if isinstance(obj, dict)
                  and isinstance(obj.get(k), dict) and "param_groups" in obj[k]), None)
    if state is not None:
        optimizer = _optimizer_from_state(p, model, state)
        setup.optimizer = ts.optimizer_spec_from_torch(optimizer, model, spec)
        sched = next((obj[k] for k in ("scheduler_state_dict", "scheduler", "lr_scheduler")
                      if isinstance(obj.get(k), dict) and "base_lrs" in obj[k]), None)
        if sched is not None:
            from .convert import with_schedule

            setup.optimizer = with_schedule(setup.optimizer, sched, steps_per_epoch)
    return ts.as_torch(spec), setup


def _build_from_class(p: Path, obj: Any, cls: type) -> Any:
    """cls(**the checkpoint's keys named like its constructor's arguments), its
    state_dict loaded (strict) in the checkpoint's dtype."""
    import torch

    if not isinstance(obj, dict):
        raise ValueError(f"port: {str(p)!r} must hold a dict to build {cls.__name__} from; "
                         f"received a {type(obj).__name__}")
    params = inspect.signature(cls).parameters
    kwargs = {k: obj[k] for k in params if k in obj}
    missing = [k for k, v in params.items() if v.default is inspect.Parameter.empty
               and v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD) and k not in kwargs]
    if missing:
        raise ValueError(f"port: {cls.__name__} needs the arguments {missing}, which "
                         f"{str(p)!r} does not hold; received the keys {sorted(map(str, obj))}")
    state = next((obj[k] for k in _STATE_KEYS if isinstance(obj.get(k), dict)), None)
    if state is None and all(torch.is_tensor(v) for v in obj.values()):
        state = obj  # a bare state_dict
    if state is None:
        raise ValueError(f"port: {str(p)!r} holds no state_dict (keys {list(_STATE_KEYS)}); "
                         f"received the keys {sorted(map(str, obj))}")
    model = cls(**kwargs)
    floats = [v for v in state.values() if torch.is_tensor(v) and v.is_floating_point()]
    if floats:
        model = model.to(floats[0].dtype)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise _bad_file(p, f"a state_dict of {cls.__name__}", err) from None
    return model


def _optimizer_class(group: dict[str, Any]) -> str:
    """The torch.optim class of a saved param group, from the hyper-parameters it holds."""
    if "betas" in group:
        return "AdamW" if group.get("decoupled_weight_decay") else "Adam"
    if "dampening" in group:
        return "SGD"
    if "alpha" in group and "centered" in group:
        return "RMSprop"
    raise ValueError(f"port: the checkpoint's optimizer is not Adam, AdamW, SGD or RMSprop "
                     f"(its param group holds {sorted(group)})")


def _optimizer_from_state(p: Path, model: Any, state: dict) -> Any:
    import torch

    groups = state.get("param_groups") or [{}]
    cls = getattr(torch.optim, _optimizer_class(groups[0]))
    optimizer = cls(model.parameters(), lr=float(groups[0].get("lr", 1e-3)))
    try:
        optimizer.load_state_dict(state)
    except (ValueError, KeyError) as err:
        raise _bad_file(p, "a checkpoint's optimizer_state_dict (for model.parameters())",
                        err) from None
    return optimizer


def _torch_checkpoint(p: Path, obj: dict) -> tuple[ModelSpec, TrainingSetup]:
    import torch

    from . import torch_side as ts

    try:
        arch = json.loads(obj["architecture"])
        layers = [LayerSpec(d["kind"], dict(d["config"]), {}, d.get("name", ""))
                  for d in arch["layers"]]
        shell = ModelSpec(layers, tuple(arch["input_shape"]), arch["dtype"], "torch")
        zeros = {k: np.zeros(s) for k, s in needed_arrays(shell).items()}
        shell = ModelSpec.from_architecture(arch, zeros, "torch")
        model = ts.build_torch(shell)
        model.load_state_dict(obj["state_dict"], strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError, json.JSONDecodeError) as err:
        raise _bad_file(p, "a dlparity torch checkpoint", err) from None
    spec = ts.spec_from_torch(model, shell.input_shape)
    for layer, src in zip(spec.layers, shell.layers, strict=True):
        layer.name = src.name or layer.name
        if layer.kind == "dense":
            layer.config["reg"] = float(src.config.get("reg", 0.0))
    setup = TrainingSetup.from_json(json.loads(obj.get("training", "{}")))
    if "optimizer" in obj:
        params = ts.param_map(model, spec)
        cls = getattr(torch.optim, obj["optimizer_class"])
        optimizer = cls([t for t, _ in params.values()], lr=1e-3)
        try:
            optimizer.load_state_dict(obj["optimizer"])
        except (ValueError, KeyError) as err:
            raise _bad_file(p, "a dlparity torch checkpoint (optimizer)", err) from None
        saved = setup.optimizer  # the JSON's: the initial rate and the schedule, if any
        setup.optimizer = ts.optimizer_spec_from_torch(optimizer, model, spec)
        if saved is not None and saved.hyper.get("schedule"):
            setup.optimizer.hyper.update(learning_rate=saved.hyper["learning_rate"],
                                         schedule=saved.hyper["schedule"])
    return ts.as_torch(spec), setup


def _fcnet_state_dict(p: Path, sd: dict) -> ModelSpec:
    """The spec of a bare FCNetModule state_dict (linears.i.*, norms.i.*)."""
    if not any(re.fullmatch(r"linears\.\d+\.weight", k) for k in sd):
        raise ValueError(
            f"port: {str(p)!r} is a bare state_dict, which does not record the activations "
            "between layers: pass --model SCRIPT.py:NAME (model=...), the model class or a "
            "function building it; only torch_impl's FCNetModule state_dict (keys "
            "linears.0.weight, ...) can be read without its architecture. Or save a dlparity "
            "checkpoint: dlparity.port.save_model(dlparity.port.read(model), 'model.pt')"
        )
    from dlparity.torch_impl.models import FCNetModule

    L = sum(1 for k in sd if re.fullmatch(r"linears\.\d+\.weight", k))
    dims = [sd["linears.0.weight"].shape[1]] + [sd[f"linears.{i}.weight"].shape[0]
                                                 for i in range(L)]
    dtype = sd["linears.0.weight"].dtype
    module = FCNetModule(dims[1:-1], dims[0], dims[-1], dtype=dtype,
                         normalization="batchnorm" if "norms.0.weight" in sd else None)
    try:
        module.load_state_dict(sd, strict=True)
    except RuntimeError as err:
        raise _bad_file(p, "an FCNetModule state_dict", err) from None
    from . import torch_side as ts

    return ts.spec_from_torch(module)


def _save_torch(side: Side, tmp: Path, keras_adam: str) -> None:
    import torch

    from . import torch_side as ts

    spec = ts.as_torch(side.spec)
    model = ts.build_torch(spec)
    ck: dict[str, Any] = {"format": FORMAT_TAG, "architecture": dumps(spec.architecture()),
                          "state_dict": model.state_dict()}
    setup = side.setup or TrainingSetup()
    if setup.optimizer is not None:
        opt = for_target(setup.optimizer, "torch")
        optimizer = ts.build_torch_optimizer(opt, ts.param_map(model, spec))
        ck["optimizer"], ck["optimizer_class"] = optimizer.state_dict(), type(optimizer).__name__
        setup = TrainingSetup(setup.loss, opt)
    ck["training"] = dumps(setup.config_json())
    torch.save(ck, tmp)


# --------------------------------------------------------------------------- Keras


def _load_keras(p: Path, input_shape: tuple[int, ...] | None, trust: bool
                ) -> tuple[ModelSpec, TrainingSetup]:
    from . import keras_side as ks

    custom = {}
    try:
        from dlparity.tf_impl.models import HalfL2

        custom["HalfL2"] = HalfL2
    except ImportError:  # pragma: no cover - tf_impl needs only tensorflow, present here
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ks.keras.saving.load_model(p, custom_objects=custom)
    except Exception as err:  # noqa: BLE001 - any unreadable file is reported the same way
        raise _bad_file(p, "a Keras .keras file", err) from None
    spec = ks.spec_from_keras(model)
    setup = TrainingSetup()
    if getattr(model, "loss", None) is not None:
        setup.loss = ks.loss_spec_from_keras(model.loss)
    if getattr(model, "optimizer", None) is not None:
        setup.optimizer = ks.optimizer_spec_from_keras(model.optimizer, model, spec)
        lr = _saved_learning_rate(p)
        if lr is not None:  # as written: load_model remakes the variable in floatx (float32)
            setup.optimizer.hyper["learning_rate"] = lr
    return spec, setup


def _saved_learning_rate(p: Path) -> float | None:
    """The optimizer's learning rate as config.json of the .keras archive records it."""
    import zipfile

    try:
        with zipfile.ZipFile(p) as z:
            config = json.loads(z.read("config.json"))
        lr = config["compile_config"]["optimizer"]["config"]["learning_rate"]
    except (KeyError, TypeError, ValueError, zipfile.BadZipFile):
        return None
    return float(lr) if isinstance(lr, (int, float)) else None


def _save_keras(side: Side, tmp: Path, keras_adam: str) -> None:
    from . import keras_side as ks

    spec = ks.as_keras(side.spec)
    model = ks.build_keras(spec)
    setup = side.setup or TrainingSetup()
    if setup.optimizer is not None:
        opt = for_target(setup.optimizer, "keras", keras_adam)
        optimizer = ks.build_keras_optimizer(opt, ks.variable_map(model, spec))
        loss = ks.keras_loss_object(setup.loss)
        if loss is None:
            warnings.warn(f"port: Keras has no stock loss for {setup.loss}; the .keras file "
                          "carries the optimizer but no loss", stacklevel=3)
        model.compile(optimizer=optimizer, loss=loss)
    with warnings.catch_warnings():  # Keras 3.15's saver calls np.array(variable): NumPy 2
        warnings.simplefilter("ignore", DeprecationWarning)  # warns about its copy keyword
        model.save(tmp)


# --------------------------------------------------------------------------- .npz


def _str(a: np.ndarray) -> str:
    return str(a[()]) if a.ndim == 0 else str(a)


def _load_npz(p: Path, input_shape: tuple[int, ...] | None, trust: bool
              ) -> tuple[ModelSpec, TrainingSetup]:
    try:
        with np.load(p, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except Exception as err:  # noqa: BLE001 - any unreadable file is reported the same way
        raise _bad_file(p, "a NumPy .npz file", err) from None
    arrays = {k: v for k, v in data.items() if not k.startswith(("__", "optimizer."))}
    try:
        if "__architecture__" in data:
            arch = json.loads(_str(data["__architecture__"]))
        else:
            arch = _fcnet_architecture(arrays, input_shape)
        spec = ModelSpec.from_architecture(arch, arrays, "reference")
        state: dict[str, dict[str, np.ndarray]] = {}
        for k, v in data.items():
            if k.startswith("optimizer."):
                _, key, name = k.split(".", 2)
                state.setdefault(name, {})[key] = v
        setup = TrainingSetup.from_json(json.loads(_str(data.get("__training__",
                                                                  np.array("{}")))), state)
    except (KeyError, TypeError, json.JSONDecodeError) as err:
        raise _bad_file(p, "a dlparity .npz (params + __architecture__)", err) from None
    return spec, setup


def _fcnet_architecture(arrays: dict[str, np.ndarray], input_shape: tuple[int, ...] | None
                        ) -> dict[str, Any]:
    """The FullyConnectedNet architecture of a params-only .npz (W1, b1, [gamma1, ...])."""
    L = sum(1 for k in arrays if re.fullmatch(r"W\d+", k))
    if L == 0 or any(f"W{i}" not in arrays for i in range(1, L + 1)):
        raise ValueError("port: a .npz without __architecture__ must hold a FullyConnectedNet's "
                         f"params W1, b1, ..., WL, bL; received keys {sorted(arrays)}")
    layers = []
    for i in range(1, L + 1):
        W = arrays[f"W{i}"]
        if W.ndim != 2:
            raise ValueError(f"port: W{i} must be 2-D (fan_in, fan_out); received shape {W.shape}")
        layers.append({"kind": "dense", "name": f"affine{i}",
                       "config": {"units": W.shape[1], "in_features": W.shape[0],
                                  "use_bias": f"b{i}" in arrays}})
        if i < L:
            if f"gamma{i}" in arrays:
                layers.append({"kind": "batchnorm", "name": f"batchnorm{i}", "config": {}})
                d = W.shape[1]
                arrays.setdefault(f"running_mean{i}", np.zeros(d, W.dtype))
                arrays.setdefault(f"running_var{i}", np.ones(d, W.dtype))
            layers.append({"kind": "relu", "name": f"relu{i}", "config": {}})
    shape = input_shape or (arrays["W1"].shape[0],)
    return {"input_shape": list(shape), "dtype": arrays["W1"].dtype.name, "layers": layers}


def _save_npz(side: Side, tmp: Path, keras_adam: str) -> None:
    spec = side.spec
    out: dict[str, Any] = {k: np.asarray(v) for k, v in spec.arrays().items()}
    out["__architecture__"] = np.array(dumps(spec.architecture()))
    setup = side.setup or TrainingSetup()
    out["__training__"] = np.array(dumps(setup.config_json()))
    if setup.optimizer is not None:
        for name, state in setup.optimizer.state.items():
            for key, value in state.items():
                out[f"optimizer.{key}.{name}"] = np.asarray(value)
    with open(tmp, "wb") as fh:
        np.savez(fh, **out)

