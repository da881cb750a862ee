"""Name the convention behind a divergence, give the setting that removes it, re-run.

Detection compares the two sides' configurations, as each framework holds them (specs
carry what a framework cannot change: torch's unbiased running variance, Keras's float32
slope and L2 factor), field by field. A differing field is a FINDING; it is OBSERVED when
the diff or trajectory diverges where that field acts (a layer field at that layer's local
row, a loss or optimizer field in the trajectory). Each observed finding is then re-run
with the fix applied and its divergence before and after is reported:

1. B takes A's value where B's framework can hold it (``keras.layers.BatchNormalization
   (epsilon=1e-05)``, ``dlparity.port.TextbookAdam``, ...);
2. else A takes B's value where A's framework can hold it;
3. else the reference, which reproduces every convention, runs A's configuration with B's
   value in A's place ("confirmed": no framework setting removes it, e.g. torch's unbiased
   running variance against Keras).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .conventions import CONVENTIONS, fix_text
from .diff import DiffReport, Side
from .optim_state import for_target
from .spec import OptimizerSpec, TrainingSetup, float32_value

__all__ = ["CONVENTIONS", "Finding", "find_differences", "explain", "format_explanation"]

@dataclass
class Finding:
    """One configuration difference, where it is, and how to apply the fix."""

    key: str
    where: str  # 'layer 3 (batchnorm)', 'loss', 'optimizer', 'environment'
    field: str
    a_value: Any
    b_value: Any
    layers: tuple[int, ...] = ()  # the layers it concerns (empty: loss, optimizer, ...)
    observed: bool = False
    extra: dict[str, tuple[Any, Any]] | None = None  # other fields that move with this one

    def to_json(self, fix: str, rerun: dict[str, Any] | None) -> dict[str, Any]:
        title, what = CONVENTIONS[self.key]
        return {"key": self.key, "title": title, "what": what, "where": self.where,
                "field": self.field, "a": _jsonable(self.a_value), "b": _jsonable(self.b_value),
                "observed": self.observed, "fix": fix, "rerun": rerun}


def _jsonable(v: Any) -> Any:
    return v if isinstance(v, (bool, int, float, str, type(None))) else repr(v)


# ------------------------------------------------------------------- differences


def _layer_key(kind: str, field: str, a: Any, b: Any, ca: dict, cb: dict) -> str | None:
    """The convention of one differing layer field (None: not a convention to report)."""
    if kind == "batchnorm":
        return {"eps": "bn_epsilon", "momentum": "bn_momentum",
                "running_var_unbiased": "bn_running_var_unbiased"}.get(field, "layer_config")
    if kind == "leaky_relu":
        if field == "alpha":
            return "leaky_relu_slope"
        return "keras_float32_constants" if float32_value(ca["alpha"]) != ca["alpha"] else None
    if kind == "dense":
        if field == "reg":
            return "l2_half" if a and b and (a == 2 * b or b == 2 * a) else "l2_strength"
        if field == "reg_float32":
            reg = ca["reg"] or cb["reg"]
            return "keras_float32_constants" if reg and float32_value(reg / 2) != reg / 2 else None
        return "layer_config"
    return "layer_config"


def _effective(config: dict[str, Any], flag: str) -> float:
    """The slope / L2 strength a layer computes with (float32-rounded where flagged)."""
    if flag == "alpha_float32":
        a = config["alpha"]
        return float32_value(a) if config[flag] else a
    reg = config["reg"]
    return 2 * float32_value(reg / 2) if config[flag] else reg


def _layer_differences(a: Side, b: Side) -> list[Finding]:
    out = []
    for i, (la, lb) in enumerate(zip(a.spec.layers, b.spec.layers, strict=True)):
        for field in sorted(set(la.config) | set(lb.config)):
            va, vb = la.config.get(field), lb.config.get(field)
            if va == vb or field in ("in_features", "units", "num_batches_tracked"):
                continue
            key = _layer_key(la.kind, field, va, vb, la.config, lb.config)
            if key == "keras_float32_constants":  # show the values each side computes with
                va, vb = _effective(la.config, field), _effective(lb.config, field)
            if key:
                out.append(Finding(key, f"layer {i} ({la.kind} {la.name})", field, va, vb, (i,)))
    return _grouped(out)


def _grouped(findings: list[Finding]) -> list[Finding]:
    """One finding per (key, field, values) over every layer it concerns: 'layers 0, 3'."""
    groups: dict[tuple, list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.key, f.field, repr(f.a_value), repr(f.b_value)), []).append(f)
    out = []
    for same in groups.values():
        first = same[0]
        if len(same) > 1:
            layers = tuple(i for f in same for i in f.layers)
            kind = first.where.split("(")[1].split()[0]
            first = replace(first, layers=layers,
                            where=f"layers {', '.join(map(str, layers))} ({kind})")
        out.append(first)
    return out


def _weights_key(wa: np.ndarray, wb: np.ndarray) -> str | None:
    """How B's array differs from A's (None: equal)."""
    if np.array_equal(wa, wb):
        return None
    if wa.ndim == 2 and wa.shape == wa.shape[::-1] and np.array_equal(wa.T, wb):
        return "weights_transposed"
    if np.array_equal(wa.astype(np.float32), wb.astype(np.float32)):
        return "weights_float32"
    return "weights_differ"


def _weight_differences(a: Side, b: Side) -> list[Finding]:
    out = []
    for i, (la, lb) in enumerate(zip(a.spec.layers, b.spec.layers, strict=True)):
        for name in sorted(set(la.weights) & set(lb.weights)):
            wa, wb = np.asarray(la.weights[name]), np.asarray(lb.weights[name])
            if wa.shape != wb.shape:
                continue
            key = _weights_key(wa, wb)
            if key:
                out.append(Finding(key, f"layer {i} ({la.kind} {la.name})", name,
                                   f"A's {name}", key.replace("weights_", ""), (i,)))
    return _grouped(out)


def _optimizer_differences(a: Side, b: Side) -> list[Finding]:
    oa = a.setup.optimizer if a.setup else None
    ob = b.setup.optimizer if b.setup else None
    if oa is None or ob is None:
        return []
    if oa.kind != ob.kind:  # Adam + an L2 penalty vs AdamW's decoupled decay: named
        key = "l2_vs_weight_decay" if {oa.kind, ob.kind} == {"adam", "adamw"} else \
            "optimizer_kind"
        return [Finding(key, "optimizer", "kind", oa.kind, ob.kind,
                        extra={"hyper": (dict(oa.hyper), dict(ob.hyper))})]
    out = []
    if oa.form != ob.form:
        key = "adam_epsilon_hat" if oa.kind in ("adam", "adamw") else "rmsprop_epsilon_inside"
        extra = None
        if oa.kind == "rmsprop":  # the port maps eps outside <-> eps**2 inside
            extra = {"epsilon": (oa.hyper["epsilon"], ob.hyper["epsilon"])}
        out.append(Finding(key, "optimizer", "form", oa.form, ob.form, extra=extra))
    for field in sorted(set(oa.hyper) | set(ob.hyper)):
        va, vb = oa.hyper.get(field), ob.hyper.get(field)
        if va == vb:
            continue
        if field == "epsilon" and oa.kind == "rmsprop" and oa.form != ob.form:
            continue  # the port's eps <-> eps**2 mapping, part of rmsprop_epsilon_inside
        key = {"epsilon": "adam_epsilon_default", "decay_rate": "rmsprop_rho_default",
               "weight_decay": "adamw_weight_decay",
               "schedule": "schedule_stepping"}.get(field, "optimizer_hyperparameter")
        if isinstance(va, float) and (float32_value(va) == vb or float32_value(vb) == va):
            key = "keras_float32_constants"  # e.g. a Keras learning-rate variable in float32
        out.append(Finding(key, "optimizer", field, va, vb))
    if oa.t != ob.t or bool(oa.state) != bool(ob.state):
        out.append(Finding("optimizer_state", "optimizer", "t", oa.t, ob.t))
    if oa.kind == "sgd" and "keras" in (a.framework, b.framework) and a.framework != b.framework:
        mu = oa.hyper["momentum"]
        if mu and float32_value(mu) != mu:
            k = "keras" if a.framework == "keras" else "other"
            out.append(Finding("keras_float32_constants", "optimizer", "momentum",
                               mu if k == "other" else float32_value(mu),
                               float32_value(mu) if k == "other" else mu))
    return out


def _loss_differences(a: Side, b: Side) -> list[Finding]:
    la = a.setup.loss if a.setup else None
    lb = b.setup.loss if b.setup else None
    if la is None or lb is None:
        return []
    if la.kind != lb.kind:
        return [Finding("loss_kind", "loss", "kind", la.kind, lb.kind)]
    out = []
    if la.from_logits != lb.from_logits:
        out.append(Finding("from_logits", "loss", "from_logits", la.from_logits, lb.from_logits))
    if la.reduction != lb.reduction and la.kind != "softmax_cross_entropy":
        out.append(Finding("loss_reduction", "loss", "reduction", la.reduction, lb.reduction))
    return out


def _tf32_differences(a: Side, b: Side, dtypes: tuple[str, ...]) -> list[Finding]:
    out = []
    if "float32" not in dtypes:
        return out
    for side, name in ((a, "A"), (b, "B")):
        if side.device.startswith("cuda") and side.tf32 is not False and side.framework != \
                "reference":
            out.append(Finding("tf32", "environment", f"{name} tf32", name != "A",
                               name == "A"))
    return out


def find_differences(a: Side, b: Side, dtypes: tuple[str, ...] = ("float64", "float32")
                     ) -> list[Finding]:
    """Every configuration difference between A and B that is a known convention."""
    return (_weight_differences(a, b) + _layer_differences(a, b) + _loss_differences(a, b)
            + _optimizer_differences(a, b) + _tf32_differences(a, b, dtypes))


# ------------------------------------------------------------------- observation


_STATE_KEYS = ("bn_momentum", "bn_running_var_unbiased")


def _observed(f: Finding, diff: DiffReport | None, traj: Any | None) -> bool:
    float32_only = f.key == "keras_float32_constants"  # rounding to float32: float64 runs
    if traj is not None and traj.diverged and not (float32_only and traj.dtype != "float64"):
        return True
    if diff is None:
        return False
    if f.key == "tf32":
        return diff.first.get("float32") is not None
    for dtype, rows in diff.rows.items():
        if float32_only and dtype != "float64":
            continue
        for i in f.layers:
            local = rows[i]["local"]
            quantities = ("state",) if f.key in _STATE_KEYS else tuple(local)
            if any(local[q]["diverged"] for q in quantities if q in local):
                return True
    return False


# ------------------------------------------------------------------- fixes


def _round_float32(side: Side, f: Finding) -> Side:
    """The side with the finding's value rounded to float32 (what Keras computes with)."""
    spec, setup = side.spec, copy.deepcopy(side.setup) if side.setup else TrainingSetup()
    for i in f.layers:
        c = spec.layers[i].config
        if f.field == "alpha_float32":
            spec = spec.with_config(i, alpha=float32_value(c["alpha"]))
        else:
            spec = spec.with_config(i, reg=2 * float32_value(c["reg"] / 2))
    if not f.layers:
        setup.optimizer.hyper[f.field] = float32_value(setup.optimizer.hyper[f.field])
    return Side(spec, setup, side.framework, side.label, side.device, side.tf32)


def _set(side: Side, f: Finding, value: Any) -> Side:
    """The side with the finding's field set to value (a new Side)."""
    spec, setup = side.spec, copy.deepcopy(side.setup) if side.setup else TrainingSetup()
    if f.key == "tf32":
        return replace(side, tf32=False)
    if f.key == "keras_float32_constants":
        return _round_float32(side, f)
    if f.layers:
        for i in f.layers:
            spec = spec.with_config(i, **{f.field: value})
    elif f.where == "loss":
        setup.loss = replace(setup.loss, **{f.field: value})
    elif f.key == "optimizer_state":
        return side  # handled by _carry_state
    elif f.field == "kind":  # the other side's optimizer, with its hyper-parameters
        hyper = f.extra["hyper"][0 if value == f.a_value else 1]
        old = setup.optimizer
        setup.optimizer = OptimizerSpec(value, dict(hyper), old.form, old.t, old.state)
    elif f.field == "form":
        setup.optimizer.form = value
        for name, (va, vb) in (f.extra or {}).items():
            setup.optimizer.hyper[name] = va if value == f.a_value else vb
    else:
        setup.optimizer.hyper[f.field] = value
    held = spec.held_by(side.framework) if side.framework != "reference" else spec
    return Side(held, setup, side.framework, side.label, side.device, side.tf32)


def _holds(side: Side, f: Finding, value: Any) -> bool:
    """Whether the side's framework can hold value in the finding's field."""
    if f.key == "keras_float32_constants" or f.key == "tf32":
        return True
    if side.framework == "reference":
        return True
    if f.layers:
        i = f.layers[0]
        new = side.spec.with_config(i, **{f.field: value}).held_by(side.framework)
        return new.layers[i].config[f.field] == value
    if f.field == "form":
        opt = copy.deepcopy(side.setup.optimizer)
        opt.form = value
        keras_adam = "textbook" if value == "textbook" else "stock"
        return for_target(opt, side.framework, keras_adam).form == value
    return True


def _carry_state(a: Side, b: Side) -> Side:
    opt = for_target(a.setup.optimizer, b.framework,
                     "textbook" if a.setup.optimizer.form == "textbook" else "stock")
    loss = (b.setup or TrainingSetup()).loss
    return Side(b.spec, TrainingSetup(loss, opt), b.framework, b.label, b.device, b.tf32)


def _copy_weights(a: Side, b: Side, f: Finding) -> Side:
    spec = b.spec
    for i in f.layers:
        spec = spec.with_config(i)  # a copy
        spec.layers[i].weights[f.field] = np.array(a.spec.layers[i].weights[f.field],
                                                   dtype=b.spec.dtype)
    return Side(spec, b.setup, b.framework, b.label, b.device, b.tf32)


def apply_fix(a: Side, b: Side, f: Finding) -> tuple[Side, Side, str]:
    """(A', B', which side changed: 'B', 'A', 'both' or 'reference')."""
    if f.key.startswith("weights_"):
        if f.key == "weights_float32":  # B's dtype: compare A's arrays in float64 instead
            b = Side(b.spec.astype("float64"), b.setup, b.framework, b.label, b.device, b.tf32)
        return a, _copy_weights(a, b, f), "B"
    if f.key == "optimizer_state":
        return a, _carry_state(a, b), "B"
    if f.key == "keras_float32_constants":
        return _set(a, f, f.a_value), _set(b, f, f.b_value), "both"
    if f.key == "tf32":
        return (_set(a, f, False), _set(b, f, False), "both")
    if _holds(b, f, f.a_value):
        return a, _set(b, f, f.a_value), "B"
    if _holds(a, f, f.b_value):
        return _set(a, f, f.b_value), b, "A"
    ref = Side(a.spec, copy.deepcopy(a.setup), "reference", f"reference ({a.label}'s "
               f"configuration, {f.field}={f.b_value!r})")
    return _set(ref, f, f.b_value), b, "reference"


# ------------------------------------------------------------------- explain


def _summary(report: Any) -> dict[str, Any]:
    if isinstance(report, DiffReport):
        return {"diverged": report.diverged, "first": report.first}
    return {"diverged": report.diverged, "first": report.first,
            "final_max_rel_error": max(report.final.values(), default=0.0)}


def _rerun(a2: Side, b2: Side, changed: str, layer_level: bool, diff: DiffReport | None,
           traj: Any | None, rerun_diff: Callable | None, rerun_traj: Callable | None
           ) -> dict[str, Any]:
    rerun: dict[str, Any] = {"changed": changed, "a": a2.label, "b": b2.label}
    if diff is not None and layer_level and rerun_diff is not None:
        rerun["diff_before"], rerun["diff_after"] = _summary(diff), _summary(rerun_diff(a2, b2))
    if traj is not None and rerun_traj is not None:
        rerun["trajectory_before"] = _summary(traj)
        rerun["trajectory_after"] = _summary(rerun_traj(a2, b2))
    after = [v for k, v in rerun.items() if k.endswith("_after")]
    rerun["resolved"] = bool(after) and not any(v["diverged"] for v in after)
    return rerun


def explain(a: Side, b: Side, *, diff: DiffReport | None = None, traj: Any | None = None,
            rerun_diff: Callable[[Side, Side], DiffReport] | None = None,
            rerun_traj: Callable[[Side, Side], Any] | None = None) -> list[dict[str, Any]]:
    """The findings as JSON-able dicts, observed ones re-run with their fix applied (each
    alone, then, with more than one, all together: the item with key 'combined')."""
    dtypes = diff.dtypes if diff is not None else ((traj.dtype,) if traj else ("float64",))
    findings = find_differences(a, b, dtypes)
    out = []
    for f in findings:
        f.observed = _observed(f, diff, traj)
        rerun = None
        if f.observed:
            a2, b2, side = apply_fix(a, b, f)
            rerun = _rerun(a2, b2, side, bool(f.layers) or f.key == "tf32", diff, traj,
                           rerun_diff, rerun_traj)
        out.append(f.to_json(fix_text(f, b), rerun))
    observed = [f for f in findings if f.observed]
    if len(observed) > 1:
        a2, b2, sides = a, b, []
        for f in observed:
            a2, b2, side = apply_fix(a2, b2, f)
            sides.append(side)
        rerun = _rerun(a2, b2, "+".join(sorted(set(sides))), True, diff, traj, rerun_diff,
                       rerun_traj)
        out.append({"key": "combined", "title": "every observed fix together",
                    "keys": [f.key for f in observed], "observed": True, "rerun": rerun})
    if not observed:
        for name, report in (("diff", diff), ("trajectory", traj)):
            if report is not None and report.diverged:
                out.append({"key": "unexplained", "title": "no known convention differs",
                            "where": name, "observed": True, "first": report.first,
                            "fix": "none known: the configurations agree; compare the "
                                   "arithmetic (dtype, device) or report it"})
    return out


def format_explanation(items: list[dict[str, Any]]) -> str:
    if not items:
        return "explain: the configurations agree on every known convention."
    lines = ["explain:"]
    for it in sorted(items, key=lambda d: not d.get("observed")):
        if it["key"] == "unexplained":
            lines.append(f"- unexplained divergence in the {it['where']}: {it['fix']}")
            continue
        if it["key"] == "combined":
            r = it["rerun"]
            lines.append(f"- every observed fix together ({', '.join(it['keys'])}): "
                         + ("within tolerance (resolved)" if r["resolved"] else
                            "still diverges"))
            continue
        state = "OBSERVED" if it["observed"] else "differs (no divergence observed from it)"
        if it["key"].startswith("weights_"):
            values = f"B's {it['field']} is not A's ({it['b']})"
        else:
            values = f"A {it['field']}={it['a']!r}, B {it['field']}={it['b']!r}"
        lines.append(f"- [{it['key']}] {it['title']} at {it['where']}: {values}; {state}")
        lines.append(f"    {it['what']}.")
        lines.append(f"    fix: {it['fix']}")
        r = it.get("rerun")
        if r:
            parts = []
            for what in ("diff", "trajectory"):
                if f"{what}_after" in r:
                    before, after = r[f"{what}_before"], r[f"{what}_after"]
                    parts.append(f"{what}: {'diverged' if before['diverged'] else 'ok'} -> "
                                 f"{'still diverges' if after['diverged'] else 'within tolerance'}")
            lines.append(f"    re-run with the fix on {r['changed']}: " + "; ".join(parts)
                         + (" (resolved)" if r["resolved"] else " (not resolved alone)"))
    return "\n".join(lines)
