"""Training-trajectory diff: N optimizer steps of both models on the same batches.

Each side trains with its own framework, its own data loss and optimizer (state carried
over from its file); the reference trains A's configuration in float64 (the arbiter).
After every step every parameter and running statistic is compared: the first step and
tensor where A and B differ beyond the tolerance table (the row of the optimizer's rule:
``adam``, ``sgd_momentum``, ... at the run's dtype) is reported, with the curve of the
largest relative error per step (``plot_divergence`` draws it as a PNG).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlparity.oracle.compare import compare_array
from dlparity.oracle.tolerances import tolerance

from .diff import Side, check_batch, check_dtypes, check_pair, class_labels, dropout_masks
from .spec import OptimizerSpec, TrainingSetup

__all__ = ["TrajectoryReport", "trajectory_diff", "make_trainer", "plot_divergence",
           "default_labels", "with_optimizer"]

PROGRESS_MIN_STEPS = 5  # a progress bar above this many steps


def make_trainer(side: Side, dtype: str) -> Any:
    """The trainer of the side's framework (its setup must hold an optimizer)."""
    if side.framework == "torch":
        from .torch_side import TorchTrainer

        return TorchTrainer(side.spec, side.setup, dtype)
    if side.framework == "keras":
        from .keras_side import KerasTrainer

        return KerasTrainer(side.spec, side.setup, dtype)
    from .reference_side import ReferenceTrainer

    return ReferenceTrainer(side.spec, side.setup, dtype)


def with_optimizer(side: Side, other: Side, default: OptimizerSpec | None = None) -> Side:
    """The side, with the other side's optimizer (or ``default``) when it has none."""
    setup = side.setup or TrainingSetup()
    if setup.optimizer is not None:
        return Side(side.spec, setup, side.framework, side.label, side.device, side.tf32)
    source = (other.setup.optimizer if other.setup and other.setup.optimizer else default)
    if source is None:
        raise ValueError(
            f"trajectory: neither {side.label} nor {other.label} has an optimizer; save one "
            "with the model (a .pt checkpoint's 'optimizer', a compiled .keras model, an "
            ".npz's optimizer entries) or pass optimizer= (--optimizer)"
        )
    from .optim_state import for_target

    opt = for_target(source, side.framework) if side.framework != "reference" else source
    return Side(side.spec, TrainingSetup(setup.loss, opt), side.framework, side.label,
                side.device, side.tf32)


def default_labels(side: Side, n: int, seed: int) -> np.ndarray:
    """Seeded targets for the side's loss: integer labels, or standard normal targets."""
    rng = np.random.default_rng(seed)
    loss = side.setup.loss if side.setup else None
    k = side.spec.output_dim
    if loss is not None and loss.kind == "softmax_cross_entropy" and loss.one_hot:
        return np.eye(k)[rng.integers(0, k, n)]
    if loss is None or loss.kind == "softmax_cross_entropy":
        return rng.integers(0, k, n)
    if loss.kind == "mse":
        return rng.standard_normal((n, k))
    return (rng.random((n, k)) < 0.5).astype(np.float64)


def _batches(x: np.ndarray, y: np.ndarray, batch_size: int | None, steps: int
             ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``steps`` (x, y) batches: consecutive slices of batch_size samples, cyclically."""
    n = x.shape[0]
    size = n if batch_size is None else batch_size
    if not 1 <= size <= n:
        raise ValueError(f"trajectory: batch_size must be in [1, {n}] (the batch's N); "
                         f"received {batch_size}")
    per_epoch = n // size
    for s in range(steps):
        k = s % per_epoch
        yield x[k * size:(k + 1) * size], y[k * size:(k + 1) * size]


def _compare(got: dict[str, np.ndarray], want: dict[str, np.ndarray], tol: Any
             ) -> tuple[float, str | None, dict[str, float]]:
    """(worst relative error, the worst diverging tensor or None, error per tensor)."""
    errors, failing = {}, []
    for name in sorted(want):
        mm, err = compare_array(name, got[name], want[name], tol, check_dtype=False)
        errors[name] = float(err) if (mm is not None or err <= tol.rtol) else 0.0
        if mm is not None:
            failing.append(name)
    bad = max(failing, key=errors.__getitem__) if failing else None
    return max(errors.values(), default=0.0), bad, errors


@dataclass
class TrajectoryReport:
    a: Side
    b: Side
    steps: int
    dtype: str
    rule: str
    rtol: float
    atol: float
    curve_ab: list[float]
    curve_a_ref: list[float]
    curve_b_ref: list[float]
    losses_a: list[float]
    losses_b: list[float]
    first: dict[str, Any] | None
    final: dict[str, float]
    seconds: float
    explanation: list[dict[str, Any]] = field(default_factory=list)

    @property
    def diverged(self) -> bool:
        return self.first is not None

    def to_json(self) -> dict[str, Any]:
        return {"steps": self.steps, "dtype": self.dtype, "rule": self.rule,
                "rtol": self.rtol, "atol": self.atol, "first_divergence": self.first,
                "curve": {"a_b": self.curve_ab, "a_ref": self.curve_a_ref,
                          "b_ref": self.curve_b_ref},
                "losses": {"a": self.losses_a, "b": self.losses_b},
                "final_rel_errors": self.final, "seconds": self.seconds,
                "explanation": self.explanation}


def trajectory_diff(a: Side, b: Side, x: np.ndarray, y: np.ndarray | None = None, *,
                    steps: int = 100, batch_size: int | None = None, dtype: str = "float64",
                    seed: int = 0, progress: bool = True, reference: bool = True,
                    optimizer: OptimizerSpec | None = None) -> TrajectoryReport:
    """Train A and B ``steps`` steps on the same batches and compare them after every step.

    Inputs:
    - a, b: the sides (their setups give the loss and optimizer; a side without an optimizer
      takes the other's, or ``optimizer``).
    - x: (N, *input_shape); y: labels (N,) or targets (N, K); None draws seeded ones.
    - batch_size: None trains on all of x every step; else consecutive slices, cyclically.
    - dtype: 'float64' or 'float32' (the reference is float64).
    """
    start = time.perf_counter()
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"trajectory: steps must be an int >= 1; received {steps!r}")
    check_dtypes(dtype, "dtype")
    check_pair(a.spec, b.spec)
    x = check_batch(x, a.spec)
    next(_batches(x, x, batch_size, 1))  # checks batch_size before anything is built
    a, b = with_optimizer(a, b, optimizer), with_optimizer(b, a, optimizer)
    y = default_labels(a, x.shape[0], seed) if y is None else np.asarray(y)
    class_labels(a, y), class_labels(b, y)  # checks the labels before anything is built
    rule = a.setup.optimizer.rule
    tol = tolerance(rule, dtype)
    ta, tb = make_trainer(a, dtype), make_trainer(b, dtype)
    tr = make_trainer(Side(a.spec, a.setup, "reference"), "float64") if reference else None
    report = TrajectoryReport(a, b, steps, dtype, rule, tol.rtol, tol.atol, [], [], [], [], [],
                              None, {}, 0.0)
    iterator = enumerate(_batches(x, y, batch_size, steps), start=1)
    if progress and steps > PROGRESS_MIN_STEPS:
        from tqdm import tqdm

        iterator = tqdm(iterator, total=steps, desc=f"trajectory {dtype}", unit="step",
                        leave=False)
    for step, (xb, yb) in iterator:
        masks = dropout_masks(a.spec, xb, seed + 1000 * step)
        ya, yb_ = class_labels(a, yb), class_labels(b, yb)  # each side's label form
        report.losses_a.append(ta.step(xb.astype(dtype), ya, masks))
        report.losses_b.append(tb.step(xb.astype(dtype), yb_, masks))
        sa, sb = ta.snapshot(), tb.snapshot()
        worst, bad, errors = _compare(sa, sb, tol)
        report.curve_ab.append(worst)
        if tr is not None:
            tr.step(xb, ya, masks)
            sr = tr.snapshot()
            report.curve_a_ref.append(_compare(sa, sr, tol)[0])
            report.curve_b_ref.append(_compare(sb, sr, tol)[0])
        if bad is not None and report.first is None:
            report.first = {"step": step, "tensor": bad, "rel_error": errors[bad]}
        report.final = errors
    report.seconds = time.perf_counter() - start
    return report


def format_trajectory(report: TrajectoryReport) -> str:
    r = report
    lines = [f"trajectory: {r.steps} steps, {r.dtype}, {r.a.label} "
             f"{r.a.setup.optimizer.describe()} vs {r.b.label} {r.b.setup.optimizer.describe()};"
             f" tolerance ({r.rule}, {r.dtype}) rtol={r.rtol:g} atol={r.atol:g}"]
    marks = sorted({1, min(10, r.steps), r.steps})
    lines.append("  step   A-B       A-ref     B-ref")
    for s in marks:
        ar = f"{r.curve_a_ref[s - 1]:.2e}" if r.curve_a_ref else "-"
        br = f"{r.curve_b_ref[s - 1]:.2e}" if r.curve_b_ref else "-"
        lines.append(f"  {s:>4}   {r.curve_ab[s - 1]:.2e}  {ar:<9} {br}")
    if r.first is None:
        lines.append(f"no divergence beyond the tolerance table in {r.steps} steps.")
    else:
        f = r.first
        lines.append(f"first divergence: step {f['step']}, tensor {f['tensor']} "
                     f"(relative error {f['rel_error']:.2e} > {r.rtol:g})")
    lines.append(f"({r.seconds:.2f} s)")
    return "\n".join(lines)


def plot_divergence(report: TrajectoryReport, path: str) -> None:
    """The divergence curve per step as a PNG (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.arange(1, report.steps + 1)
    tiny = 1e-18  # exact agreement drawn at the bottom of the log axis
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.semilogy(steps, np.maximum(report.curve_ab, tiny), label=f"A ({report.a.label}) vs B "
                f"({report.b.label})")
    if report.curve_a_ref:
        ax.semilogy(steps, np.maximum(report.curve_a_ref, tiny), "--", label="A vs reference")
        ax.semilogy(steps, np.maximum(report.curve_b_ref, tiny), ":", label="B vs reference")
    ax.axhline(report.rtol, color="k", lw=0.8, label=f"rtol {report.rtol:g} ({report.rule})")
    if report.first:
        ax.axvline(report.first["step"], color="r", lw=0.8,
                   label=f"first divergence: {report.first['tensor']}")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("max relative error over tensors")
    ax.set_title(f"dlparity trajectory diff ({report.dtype})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
