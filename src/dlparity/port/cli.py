"""``dlparity port`` and ``dlparity diff``: the command-line side of dlparity.port.

Both print errors as one line on stderr (exit 2) and never a traceback for bad input;
``diff`` exits 1 when the models diverge beyond the tolerance table, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

FORMATS_HELP = (
    "Formats, by extension: .pt/.pth = torch's own torch.save/torch.load: a dlparity checkpoint "
    "(a dict with the model's state_dict, its architecture as JSON, the optimizer's "
    "state_dict and class; what this command writes), a bare state_dict of torch_impl's "
    "FCNetModule, or, with --trust-pickle, a whole pickled nn.Module; .keras = Keras 3's own "
    "format (a compiled model carries its optimizer state and loss); .npz = the reference's "
    "params (W1, b1, gamma1, beta1, ...; W as (fan_in, fan_out)), running_mean1/running_var1, "
    "__architecture__ JSON and optimizer.<m|v|velocity|cache>.<param>. See docs/porting.md."
)


def _shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(d) for d in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 28,28; "
                                         f"received {text!r}") from None
    if not shape or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected positive sizes; received {text!r}")
    return shape


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input-shape", type=_shape, metavar="D1,D2,...",
                   help="input shape without the batch, for torch models that start with "
                        "nn.Flatten (torch does not record it)")
    p.add_argument("--trust-pickle", action="store_true",
                   help="allow a .pt holding a pickled nn.Module (torch.save(model)); "
                        "unpickling runs code from the file (with --model, classes pickled "
                        "from a script's __main__ are found in the --model script)")
    p.add_argument("--steps-per-epoch", type=int, default=1, metavar="P",
                   help="optimizer steps per scheduler.step() of a checkpoint's "
                        "scheduler_state_dict (StepLR, ExponentialLR, MultiStepLR): the "
                        "batches per epoch when it is stepped per epoch (default 1: per batch)")
    p.add_argument("--model", action="append", metavar="SCRIPT.py:NAME",
                   help="the model's code, for a torch checkpoint that holds weights only "
                        "(the tutorial's {'model_state_dict', 'optimizer_state_dict', "
                        "'epoch', ...}, a dict of constructor arguments and 'state_dict', a "
                        "bare state_dict): NAME is a function taking the checkpoint path and "
                        "returning the model (e.g. a load_checkpoint(filepath)) or the model "
                        "class, built with the checkpoint's same-named keys as its arguments. "
                        "The script runs only because it is named here; the checkpoint itself "
                        "is read weights_only. diff: once for every .pt side, or twice (A, B)")


# ---------------------------------------------------------------------------- port


def add_port_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Convert a model (and its optimizer state) between PyTorch (.pt), Keras (.keras) and "
        "the reference's params (.npz). Weights, batch-norm statistics and optimizer state "
        "(Adam m, v, t; SGD momentum buffers; RMSprop accumulators) are copied bit-exactly "
        "and verified by reading the written file back; hyper-parameters are carried in the "
        "target's meaning (torch BatchNorm1d momentum 0.1 -> Keras 0.9; Keras L2(l2) -> "
        "0.5*reg with reg = 2*l2). Conventions the target cannot match (torch's unbiased "
        "running variance, Keras's epsilon-hat Adam, ...) are listed as notes. Supported "
        "layers: Linear/Dense, BatchNorm1d/BatchNormalization, ReLU, LeakyReLU, Sigmoid, "
        "Tanh, Softmax, LogSoftmax, Dropout, Flatten; an unsupported layer is an error naming "
        "it, and a failed conversion writes nothing. " + FORMATS_HELP)
    p.add_argument("src", help="the model file to read (.pt, .pth, .keras or .npz)")
    p.add_argument("dst", help="the file to write; its extension gives the format")
    p.add_argument("--to", choices=("torch", "keras", "npz"),
                   help="target format (optional: the output extension decides; if given it "
                        "must agree with it)")
    p.add_argument("--dtype", choices=("float32", "float64"),
                   help="cast weights and state to this dtype (default: keep the source's)")
    p.add_argument("--keras-adam", choices=("stock", "textbook"), default="stock",
                   help="Adam in Keras: 'stock' keras.optimizers.Adam (epsilon-hat form, "
                        "Keras's own convention) or 'textbook' dlparity.port.TextbookAdam "
                        "(torch's formula, exact continuation) (default: stock)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    _common(p)


def run_port(args: argparse.Namespace) -> int:
    from .convert import port_file

    try:
        if args.model and len(args.model) > 1:
            raise ValueError(f"port: --model is given once for the source; received "
                             f"{len(args.model)}")
        out = port_file(args.src, args.dst, to=args.to, keras_adam=args.keras_adam,
                        input_shape=args.input_shape, trust_pickle=args.trust_pickle,
                        dtype=args.dtype, model=args.model[0] if args.model else None,
                        steps_per_epoch=args.steps_per_epoch)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"dlparity port: error: {err}", file=sys.stderr)
        return 2
    if not args.quiet:
        side = out.side
        opt = side.setup.optimizer if side.setup else None
        print(f"wrote {args.dst} ({side.framework}, {side.spec.dtype}): "
              f"{len(side.spec.layers)} layers: "
              + ", ".join(la.describe() for la in side.spec.layers))
        print(f"  optimizer: {opt.describe() if opt else 'none'}; loss: "
              f"{side.setup.loss if side.setup else 'none'}")
        print("  arrays verified bit-exact after reading the file back")
        for note in out.notes:
            print(f"  note: {note}")
    return 0


# ---------------------------------------------------------------------------- diff


def add_diff_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Verify two models layer by layer (e.g. a model and its port, or two you wrote): one "
        "row per layer with the forward activation, the input and parameter gradients (from "
        "the same upstream gradient) and the batch-norm running statistics, as relative "
        "errors A-B, A-reference and B-reference in each dtype. The reference is the NumPy "
        "reference in float64 with A's configuration. 'local' feeds every layer the "
        "reference's input, so the first layer that diverges beyond the tolerance table "
        "(dlparity/oracle/tolerances.py) is named. --steps N adds a training-trajectory diff; "
        "--explain names the convention behind a divergence (Adam epsilon-hat / epsilon "
        "default, batch-norm momentum / epsilon / unbiased variance, Keras L2 without 1/2, "
        "leaky-ReLU slope, reduction over N vs N*K, from_logits, Keras float32 constants, "
        "TF32), gives the setting that removes it and re-runs to show it. Exit 0: no "
        "divergence, 1: divergence, 2: bad input. " + FORMATS_HELP)
    p.add_argument("a", help="model A (.pt, .keras or .npz): the reference's configuration")
    p.add_argument("b", help="model B (.pt, .keras or .npz)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--batch", help="input batch, a .npy of shape (N, *input_shape), N >= 2")
    src.add_argument("--random-batch", type=int, metavar="N",
                     help="a seeded standard-normal batch of N samples instead")
    p.add_argument("--labels", help="a .npy of labels (N,) or targets (N, K): the upstream "
                   "gradient is then A's loss gradient (default: a seeded random upstream)")
    p.add_argument("--dtype", action="append", choices=("float64", "float32"),
                   help="dtypes of the layer diff (repeatable; default both)")
    p.add_argument("--mode", choices=("train", "eval"), default="train",
                   help="train: batch statistics and dropout (shared keep-masks); eval: running "
                        "statistics, no dropout (default: train)")
    p.add_argument("--seed", type=int, default=0, help="seed of the upstream gradient, "
                   "dropout masks and random labels (default 0)")
    p.add_argument("--steps", type=int, default=0,
                   help="also train both N optimizer steps on the same batches and compare "
                        "after every step (default 0: no trajectory)")
    p.add_argument("--batch-size", type=int, help="trajectory mini-batch size (default: the "
                   "whole batch every step)")
    p.add_argument("--trajectory-dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--optimizer", choices=("adam", "adamw", "sgd", "rmsprop"),
                   help="optimizer for a side whose file has none (its framework's form, SPEC "
                        "defaults); a side with one keeps its own")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate for --optimizer")
    p.add_argument("--png", help="write the trajectory's divergence curve to this PNG")
    p.add_argument("--explain", action="store_true",
                   help="name the conventions behind the divergence and re-run with each fix")
    p.add_argument("--json", help="write the whole report (diff, trajectory, explanation) here")
    p.add_argument("--device", default="cpu", help="cpu or cuda (frameworks' device)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _common(p)


def _load_array(path: str, what: str) -> np.ndarray:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"diff: no such {what} file: {path!r}")
    try:
        return np.load(p, allow_pickle=False)
    except Exception as err:  # noqa: BLE001 - any unreadable file is reported the same way
        raise ValueError(f"diff: cannot read {what} {path!r} as a .npy: {err}") from None


def _side_models(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """--model for A and B: one for every torch side, or one per side."""
    models = args.model or []
    if len(models) > 2:
        raise ValueError(f"diff: --model is given once (every .pt side) or twice (A, B); "
                         f"received {len(models)}")
    if len(models) == 2:
        return models[0], models[1]
    torch_side = [Path(f).suffix.lower() in (".pt", ".pth") for f in (args.a, args.b)]
    one = models[0] if models else None
    return (one if torch_side[0] else None), (one if torch_side[1] else None)


def _run_diff(args: argparse.Namespace) -> tuple[int, dict[str, Any], str]:
    from .diff import Side, diff_models, format_report
    from .explain import explain, format_explanation
    from .io import load_model
    from .spec import OptimizerSpec
    from .trajectory import format_trajectory, plot_divergence, trajectory_diff

    ma, mb = _side_models(args)
    a, b = (load_model(f, input_shape=args.input_shape, trust_pickle=args.trust_pickle, model=m,
                       steps_per_epoch=args.steps_per_epoch)
            for f, m in ((args.a, ma), (args.b, mb)))
    a, b = (Side(s.spec, s.setup, s.framework, s.label, args.device) for s in (a, b))
    if args.batch:
        x = _load_array(args.batch, "batch")
    else:
        if args.random_batch < 2:
            raise ValueError(f"diff: --random-batch must be >= 2; received {args.random_batch}")
        shape = (args.random_batch, *a.spec.input_shape)
        x = np.random.default_rng(args.seed).standard_normal(shape)
    y = _load_array(args.labels, "labels") if args.labels else None
    dtypes = tuple(args.dtype or ("float64", "float32"))
    training = args.mode == "train"
    text = []
    report = diff_models(a, b, x, y, dtypes=dtypes, training=training, seed=args.seed)
    text.append(format_report(report))
    out: dict[str, Any] = {"diff": report.to_json()}
    traj = None
    default_opt = OptimizerSpec(args.optimizer, {"learning_rate": args.lr}) if args.optimizer \
        else None

    def run_traj(sa: Side, sb: Side, progress: bool = False) -> Any:
        return trajectory_diff(sa, sb, x, y, steps=args.steps, batch_size=args.batch_size,
                               dtype=args.trajectory_dtype, seed=args.seed,
                               progress=progress, optimizer=default_opt)

    if args.steps:
        traj = run_traj(a, b, progress=not args.no_progress)
        text.append(format_trajectory(traj))
        out["trajectory"] = traj.to_json()
        if args.png:
            plot_divergence(traj, args.png)
            text.append(f"divergence curve: {args.png}")
    if args.explain:
        items = explain(a, b, diff=report, traj=traj,
                        rerun_diff=lambda sa, sb: diff_models(sa, sb, x, y, dtypes=dtypes,
                                                              training=training, seed=args.seed),
                        rerun_traj=run_traj if traj is not None else None)
        text.append(format_explanation(items))
        out["explanation"] = items
    diverged = report.diverged or (traj is not None and traj.diverged)
    return (1 if diverged else 0), out, "\n\n".join(text)


def run_diff(args: argparse.Namespace) -> int:
    try:
        code, report, text = _run_diff(args)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"dlparity diff: error: {err}", file=sys.stderr)
        return 2
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, default=str))
    return code
