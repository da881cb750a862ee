"""Layer-by-layer verification of two models against each other and the reference.

``diff_models(a, b, x)`` runs both models (each rebuilt from its spec in each dtype, by its
own framework) and the reference (float64, A's configuration: the arbiter) on the same
batch, the same dropout keep-masks and the same upstream gradient, and reports per layer:

- chained: each model's own activations, as a user sees them (errors accumulate);
- local: every layer fed the REFERENCE's input and upstream gradient for that layer, so a
  layer's error is its own (the localisation CRADLE does for inference, for gradients too);

for the forward output, the running statistics a train-mode call leaves (batch norm), the
gradient with respect to the layer input and the parameter gradients (of <out, G> plus the
layer's L2 penalty). Each is a relative error ‖a − b‖/‖b‖ held to the tolerance table
(``dlparity.oracle.tolerances``, the row of the layer's catalogue function). ``b_own_ref`` is
B against the reference run with B's configuration: small there and large against A's
reference means B computes its own formula correctly, and a configuration differs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlparity.oracle.compare import compare_array
from dlparity.oracle.tolerances import tolerance

from .spec import LossSpec, ModelSpec, TrainingSetup

__all__ = ["Side", "DiffReport", "diff_models", "make_runner", "dropout_masks", "check_batch",
           "check_dtypes", "QUANTITIES"]

QUANTITIES = ("output", "state", "input_grad", "param_grad")
FRAMEWORKS = ("torch", "keras", "reference")


@dataclass
class Side:
    """One model of a comparison: its spec, training setup, framework and a label."""

    spec: ModelSpec
    setup: TrainingSetup | None = None
    framework: str = "reference"
    label: str = ""
    device: str = "cpu"
    tf32: bool | None = None  # None: leave the framework's setting as it is

    def __post_init__(self) -> None:
        if self.framework not in FRAMEWORKS:
            raise ValueError(f"Side: framework must be one of {FRAMEWORKS}; received "
                             f"{self.framework!r}")
        self.label = self.label or self.framework
        if self.framework != "reference":
            self.spec = self.spec.held_by(self.framework)


def check_device(side: Side) -> None:
    """A CUDA device must be one the side's framework sees."""
    if side.device == "cpu" or side.framework == "reference":
        return
    if not side.device.startswith("cuda"):
        raise ValueError(f"diff: device must be 'cpu' or 'cuda[:N]'; received {side.device!r}")
    import importlib

    package = "dlparity.torch_impl" if side.framework == "torch" else "dlparity.tf_impl"
    if not importlib.import_module(f"{package}._convert").cuda_available():  # the one probe
        raise ValueError(f"diff: device {side.device!r} requested for {side.label} but "
                         f"{side.framework} sees no GPU here")


def make_runner(side: Side, dtype: str) -> Any:
    """The layer runner of the side's framework for its spec in ``dtype``."""
    check_device(side)
    if side.framework == "torch":
        from .torch_side import TorchRunner

        return TorchRunner(side.spec, dtype, side.device, side.tf32)
    if side.framework == "keras":
        from .keras_side import KerasRunner

        return KerasRunner(side.spec, dtype, side.device, side.tf32)
    from .reference_side import ReferenceRunner

    return ReferenceRunner(side.spec, dtype)


def check_batch(x: Any, spec: ModelSpec, name: str = "batch") -> np.ndarray:
    """x as a float64 array of shape (N, *input_shape) with N >= 2."""
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "fiu":
        raise TypeError(f"diff: {name} must be a numeric NumPy array; received "
                        f"{type(x).__name__}{'' if not isinstance(x, np.ndarray) else x.dtype}")
    if x.ndim < 2 or x.shape[0] < 2 or tuple(x.shape[1:]) != spec.input_shape:
        raise ValueError(
            f"diff: {name} must have shape (N, {', '.join(map(str, spec.input_shape))}) with "
            f"N >= 2 (the models' input shape); received shape {x.shape}"
        )
    return x.astype(np.float64)


def dropout_masks(spec: ModelSpec, x: np.ndarray, seed: int) -> list[np.ndarray | None]:
    """One keep-mask per dropout layer (None elsewhere), shared by every side:
    default_rng(seed + i).random(shape) >= p, shapes from a reference forward in test mode."""
    from .reference_side import layer_forward

    if not any(la.kind == "dropout" for la in spec.layers):
        return [None] * len(spec.layers)
    masks: list[np.ndarray | None] = []
    h = x
    for i, layer in enumerate(spec.layers):
        if layer.kind == "dropout":
            masks.append(np.random.default_rng(seed + i).random(h.shape) >= layer.config["p"])
        else:
            masks.append(None)
        h, _, _ = layer_forward(layer, h, False, None)
    return masks


# ------------------------------------------------------------------------- traces


@dataclass
class Trace:
    """Per layer: input, output, state after a train-mode call, input and param gradients."""

    inputs: list[np.ndarray] = field(default_factory=list)
    outputs: list[np.ndarray] = field(default_factory=list)
    states: list[dict[str, np.ndarray]] = field(default_factory=list)
    input_grads: list[np.ndarray] = field(default_factory=list)
    param_grads: list[dict[str, np.ndarray]] = field(default_factory=list)

    def upstream(self, i: int, g: np.ndarray) -> np.ndarray:
        """The gradient arriving at layer i's output."""
        return g if i == len(self.outputs) - 1 else self.input_grads[i + 1]


def chained_trace(runner: Any, x: np.ndarray, g: np.ndarray, training: bool,
                  masks: list[np.ndarray | None]) -> Trace:
    """The model's own forward, then its own backward from the upstream g."""
    tr, h = Trace(), x
    n = len(runner.spec.layers)
    for i in range(n):
        tr.inputs.append(h)
        h, state = runner.forward(i, h, training, masks[i])
        tr.outputs.append(h)
        tr.states.append(state)
    tr.input_grads, tr.param_grads = [None] * n, [None] * n  # type: ignore[list-item]
    for i in range(n - 1, -1, -1):
        g, tr.param_grads[i] = runner.vjp(i, tr.inputs[i], g, training, masks[i])
        tr.input_grads[i] = g
    return tr


def local_trace(runner: Any, ref: Trace, g: np.ndarray, training: bool,
                masks: list[np.ndarray | None]) -> Trace:
    """Every layer fed the reference trace's input and upstream gradient for that layer."""
    tr = Trace(inputs=ref.inputs)
    for i in range(len(runner.spec.layers)):
        out, state = runner.forward(i, ref.inputs[i], training, masks[i])
        dx, dp = runner.vjp(i, ref.inputs[i], ref.upstream(i, g), training, masks[i])
        tr.outputs.append(out)
        tr.states.append(state)
        tr.input_grads.append(dx)
        tr.param_grads.append(dp)
    return tr


def _arrays(tr: Trace, i: int, quantity: str) -> dict[str, np.ndarray]:
    if quantity == "output":
        return {"output": tr.outputs[i]}
    if quantity == "state":
        return tr.states[i]
    if quantity == "input_grad":
        return {"input_grad": tr.input_grads[i]}
    return tr.param_grads[i]


def compare_dicts(got: dict[str, np.ndarray], want: dict[str, np.ndarray], tol: Any
                  ) -> tuple[float, bool, str]:
    """(worst relative error, diverged?, worst array's name) over the common arrays."""
    worst, bad, name = 0.0, False, ""
    for key in sorted(set(got) & set(want)):
        mm, err = compare_array(key, np.asarray(got[key], np.float64),
                                np.asarray(want[key], np.float64), tol, check_dtype=False)
        err = float(err)
        if mm is None and err > tol.rtol:
            continue  # passed on the absolute term (an analytically-zero array): no ratio
        if (mm is not None, err) > (bad, worst):
            worst, bad, name = err, mm is not None, key
    return worst, bad, name


def _closer(ea: float, eb: float, bad_a: bool, bad_b: bool) -> str:
    if not bad_a and not bad_b:
        return "both"
    return "a" if ea < eb else "b" if eb < ea else "neither"


def _row_errors(ta: Trace, tb: Trace, ref_a: Trace, ref_b: Trace, i: int, tol: Any
                ) -> dict[str, dict[str, Any]]:
    out = {}
    for q in QUANTITIES:
        a, b = _arrays(ta, i, q), _arrays(tb, i, q)
        if not a and not b:
            continue
        e_ab, bad_ab, worst = compare_dicts(a, b, tol)
        e_ar, bad_ar, _ = compare_dicts(a, _arrays(ref_a, i, q), tol)
        e_br, bad_br, _ = compare_dicts(b, _arrays(ref_a, i, q), tol)
        e_bo, bad_bo, _ = compare_dicts(b, _arrays(ref_b, i, q), tol)
        out[q] = {"a_b": e_ab, "a_ref": e_ar, "b_ref": e_br, "b_own_ref": e_bo,
                  "diverged": bad_ab, "worst": worst, "b_own_ok": not bad_bo,
                  "a_ok": not bad_ar, "closer": _closer(e_ar, e_br, bad_ar, bad_br)}
    return out


# ------------------------------------------------------------------------- report


@dataclass
class DiffReport:
    """Rows per dtype and layer, the first divergence per dtype, and run metadata."""

    a: Side
    b: Side
    dtypes: tuple[str, ...]
    training: bool
    rows: dict[str, list[dict[str, Any]]]
    first: dict[str, dict[str, Any] | None]
    seconds: float
    batch_shape: tuple[int, ...]
    explanation: list[dict[str, Any]] = field(default_factory=list)

    @property
    def diverged(self) -> bool:
        return any(f is not None for f in self.first.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "a": {"label": self.a.label, "framework": self.a.framework,
                  "layers": [la.describe() for la in self.a.spec.layers]},
            "b": {"label": self.b.label, "framework": self.b.framework,
                  "layers": [la.describe() for la in self.b.spec.layers]},
            "dtypes": list(self.dtypes), "mode": "train" if self.training else "eval",
            "batch_shape": list(self.batch_shape), "seconds": self.seconds,
            "rows": self.rows, "first_divergence": self.first,
            "explanation": self.explanation,
        }


def _first(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first layer whose LOCAL errors diverge (else the first chained divergence)."""
    for scope in ("local", "chained"):
        for row in rows:
            for q in QUANTITIES:
                e = row[scope].get(q)
                if e and e["diverged"]:
                    return {"layer": row["index"], "name": row["name"], "kind": row["kind"],
                            "quantity": q, "array": e["worst"], "scope": scope,
                            "rel_error": e["a_b"], "rtol": row["rtol"],
                            "b_own_ok": e["b_own_ok"]}
    return None


def check_dtypes(dtypes: Any, name: str = "dtypes") -> tuple[str, ...]:
    """A non-empty tuple of 'float64' / 'float32'."""
    dtypes = (dtypes,) if isinstance(dtypes, str) else tuple(dtypes)
    if not dtypes or any(d not in ("float64", "float32") for d in dtypes):
        raise ValueError(f"diff: {name} must hold 'float64' and/or 'float32'; received {dtypes!r}")
    return dtypes


def check_pair(a: ModelSpec, b: ModelSpec) -> None:
    """The two models must have the same layer kinds and shapes, in order."""
    ka, kb = [la.kind for la in a.layers], [la.kind for la in b.layers]
    if ka != kb or a.input_shape != b.input_shape:
        raise ValueError(
            f"diff: the models must have the same layers in the same order and the same input "
            f"shape; received A {a.input_shape} {[la.describe() for la in a.layers]} and "
            f"B {b.input_shape} {[la.describe() for la in b.layers]}"
        )
    for i, (la, lb) in enumerate(zip(a.layers, b.layers, strict=True)):
        for k in ("W", "gamma"):
            if k in la.weights and la.weights[k].shape != lb.weights[k].shape:
                raise ValueError(f"diff: layer {i} ({la.kind}) has {k} of shape "
                                 f"{la.weights[k].shape} in A and {lb.weights[k].shape} in B")


def class_labels(side: Side, y: np.ndarray | None) -> np.ndarray | None:
    """The labels the side's loss takes: target rows (N, C) for Keras's
    categorical_crossentropy (one_hot; integer labels become one-hot rows), integer labels
    (N,) for a sparse softmax cross-entropy given one-hot rows; else y as is."""
    loss = side.setup.loss if side.setup else LossSpec()
    if y is not None and loss.kind == "softmax_cross_entropy" and loss.one_hot:
        y = np.asarray(y)
        return np.eye(side.spec.output_dim)[y] if y.ndim == 1 else y.astype(np.float64)
    if y is None or loss.kind != "softmax_cross_entropy" or np.ndim(y) != 2:
        return y
    y = np.asarray(y)
    if not (np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all()):
        raise ValueError("diff: labels of a categorical cross-entropy given as rows must be "
                         f"one-hot (one 1 per row); received rows summing to {y.sum(axis=1)[:3]}")
    return y.argmax(axis=1)


def upstream_gradient(a: Side, x: np.ndarray, labels: np.ndarray | None, seed: int,
                      training: bool, masks: list[np.ndarray | None]) -> np.ndarray:
    """The upstream gradient fed to both models: the gradient of A's data loss at the
    reference's output when labels are given, else a seeded standard normal / N."""
    from .reference_side import ReferenceRunner, reference_loss

    runner = ReferenceRunner(a.spec)
    h = x
    for i in range(len(a.spec.layers)):
        h, _ = runner.forward(i, h, training, masks[i])
    if labels is None:
        return np.random.default_rng(seed).standard_normal(h.shape) / h.shape[0]
    loss = a.setup.loss if a.setup else LossSpec()
    return reference_loss(loss, h, class_labels(a, labels))[1]


def diff_models(a: Side, b: Side, x: np.ndarray, labels: np.ndarray | None = None, *,
                dtypes: tuple[str, ...] = ("float64", "float32"), training: bool = True,
                seed: int = 0) -> DiffReport:
    """Layer-by-layer diff of A and B on the batch x (see the module docstring)."""
    from .reference_side import ReferenceRunner

    start = time.perf_counter()
    check_dtypes(dtypes)
    check_pair(a.spec, b.spec)
    x = check_batch(x, a.spec)
    masks = dropout_masks(a.spec, x, seed) if training else [None] * len(a.spec.layers)
    g = upstream_gradient(a, x, labels, seed, training, masks)
    ref_a = chained_trace(ReferenceRunner(a.spec), x, g, training, masks)
    ref_b = chained_trace(ReferenceRunner(b.spec), x, g, training, masks)
    ref_b_local = local_trace(ReferenceRunner(b.spec), ref_a, g, training, masks)
    rows: dict[str, list[dict[str, Any]]] = {}
    for dtype in dtypes:
        ra, rb = make_runner(a, dtype), make_runner(b, dtype)
        xa = x.astype(dtype)
        ga = g.astype(dtype)
        ta, tb = chained_trace(ra, xa, ga, training, masks), chained_trace(rb, xa, ga, training,
                                                                           masks)
        la, lb = local_trace(ra, ref_a, g, training, masks), local_trace(rb, ref_a, g, training,
                                                                          masks)
        rows[dtype] = []
        for i, layer in enumerate(a.spec.layers):
            tol = tolerance(layer.tolerance_name, dtype)
            rows[dtype].append({
                "index": i, "name": layer.name or f"layer{i}", "kind": layer.kind,
                "describe": layer.describe(), "rtol": tol.rtol, "atol": tol.atol,
                "chained": _row_errors(ta, tb, ref_a, ref_b, i, tol),
                "local": _row_errors(la, lb, ref_a, ref_b_local, i, tol),
            })
    first = {d: _first(r) for d, r in rows.items()}
    return DiffReport(a, b, tuple(dtypes), training, rows, first,
                      time.perf_counter() - start, tuple(x.shape))


# ------------------------------------------------------------------------- text


def _fmt(e: dict[str, Any] | None, key: str = "a_b") -> str:
    if not e:
        return "-"
    mark = "!" if key == "a_b" and e["diverged"] else " "
    return f"{e[key]:.1e}{mark}"


def format_report(report: DiffReport) -> str:
    """The report as text: one table per dtype, one row per layer."""
    lines = [f"A = {report.a.label} ({report.a.framework}), B = {report.b.label} "
             f"({report.b.framework}); batch {report.batch_shape}, "
             f"{'train' if report.training else 'eval'} mode; reference = float64, A's "
             f"configuration. Relative errors; '!' beyond the tolerance table."]
    head = (f"{'#':>2}  {'layer':<30} {'out A-B':>9} {'out A-ref':>9} {'out B-ref':>9} "
            f"{'dx A-B':>9} {'dparam A-B':>10} {'state A-B':>9} {'local A-B':>9}  closer  rtol")
    for dtype, rows in report.rows.items():
        lines += ["", f"{dtype}:", head]
        for r in rows:
            c, lo = r["chained"], r["local"]
            local_bad = any(e["diverged"] for e in lo.values())
            local = max((e["a_b"] for e in lo.values() if e["diverged"] or not local_bad),
                        default=0.0)
            closer = c["output"]["closer"]
            label = f"{r['describe']} [{r['name']}]"[:30]
            lines.append(
                f"{r['index']:>2}  {label:<30} {_fmt(c.get('output')):>9} "
                f"{_fmt(c.get('output'), 'a_ref'):>9} {_fmt(c.get('output'), 'b_ref'):>9} "
                f"{_fmt(c.get('input_grad')):>9} {_fmt(c.get('param_grad')):>10} "
                f"{_fmt(c.get('state')):>9} {local:>8.1e}{'!' if local_bad else ' '}  "
                f"{closer:<6}  {r['rtol']:g}")
        f = report.first[dtype]
        if f is None:
            lines.append(f"{dtype}: no divergence beyond the tolerance table.")
        else:
            lines.append(
                f"{dtype}: first divergence at layer {f['layer']} ({f['kind']} {f['name']}): "
                f"{f['quantity']} {f['array']} ({f['scope']}), relative error "
                f"{f['rel_error']:.2e} > {f['rtol']:g}"
                + ("; B matches the reference run with B's own configuration"
                   if f["b_own_ok"] else ""))
    lines.append(f"\n({report.seconds:.2f} s)")
    return "\n".join(lines)
