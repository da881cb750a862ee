"""Test vectors for implementations in any language (``dlparity export-vectors DIR``).

For every registry record and case (``registry.py``), per dtype, the reference's inputs,
upstream gradient, outputs and gradients are written as ``.npy`` files, with one JSON
index, the way the ONNX backend tests ship their data::

    DIR/index.json
    DIR/<function>/<case>/<dtype>/<argument>.npy     inputs, in the dtype under test
    DIR/<function>/<case>/<dtype>/dout.npy           the upstream gradient (layers)
    DIR/<function>/<case>/<dtype>/expected_<output>.npy   the reference's result (float64)

Expected values are the reference's float64 result on the dtype's inputs (the values are
rounded to the dtype first), so an implementation compares against them within the
tolerance the index gives for that function and dtype (``tolerances.py``, the one table).
The index format is documented in docs/oracle.md (schema ``dlparity-vectors/1``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dlparity import __version__
from dlparity.catalogue import BY_NAME, NAMES

from .cli import add_export_arguments as add_arguments
from .cli import parse_only
from .protocols import arg_names, call_text
from .registry import RECORDS, Case, OpRecord
from .report import fingerprint
from .tolerances import tolerance

__all__ = ["DTYPES", "SCHEMA", "add_arguments", "export", "run_cli"]

SCHEMA = "dlparity-vectors/1"
DTYPES = ("float64", "float32")

COMPARISON = ("an output matches when ||got - expected||_2 / max(||expected||_2, 1e-30) <= rtol "
              "or max|got - expected| <= atol (compared in float64); NaN never matches; the "
              "shape must be equal and the dtype must be the entry's dtype")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")


class _Writer:
    """Writes arrays as .npy under one case directory and encodes values for JSON."""

    def __init__(self, root: Path, folder: Path) -> None:
        self.root, self.folder = root, folder
        folder.mkdir(parents=True, exist_ok=True)

    def encode(self, value: Any, name: str) -> Any:
        """JSON for ``value``: arrays become {"npy": path, "shape": [...], "dtype": ...}."""
        if isinstance(value, np.ndarray):
            return self.array(value, name)
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, dict):
            return {"dict": {k: self.encode(v, f"{name}.{k}") for k, v in value.items()}}
        if isinstance(value, list | tuple):
            return {"list": [self.encode(v, f"{name}.{i}") for i, v in enumerate(value)]}
        if value is None or isinstance(value, bool | int | float | str):
            return value
        raise TypeError(f"cannot export a {type(value).__name__}")

    def array(self, arr: np.ndarray, name: str) -> dict[str, Any]:
        path = self.folder / f"{_safe(name)}.npy"
        np.save(path, np.asarray(arr, order="C"), allow_pickle=False)
        return {"npy": path.relative_to(self.root).as_posix(), "shape": list(arr.shape),
                "dtype": arr.dtype.name}


def _serialisable(obj: Any) -> bool:
    if callable(obj) and not isinstance(obj, np.ndarray):
        return False
    if isinstance(obj, np.random.Generator):
        return False
    if isinstance(obj, dict):
        return all(_serialisable(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return all(_serialisable(v) for v in obj)
    return True


def _export_case(root: Path, record: OpRecord, case: Case, dtype: str, seed: int,
                 steps: int | None) -> dict[str, Any]:
    """Write one (record, case, dtype); return its index entry."""
    folder = root / record.name / _safe(case.name) / dtype
    w = _Writer(root, folder)
    np_dtype = np.dtype(dtype)
    entry: dict[str, Any] = {
        "function": record.name, "backward": record.backward, "protocol": record.protocol,
        "case": case.name, "dtype": dtype,
        "spec": BY_NAME[record.name].section,
        "tolerance": tolerance(record.name, dtype, case.name)._asdict(),
        # non-empty: the case goes beyond SPEC.md's contract (an oracle note, not a failure)
        "beyond_contract": case.beyond,
    }
    want, args, dout = record.reference(case, np_dtype, seed, steps)
    expected = {_key(label): value for _, outs in want for label, value in outs.items()}
    if record.protocol == "optimizer":
        w0, grads, config, lrs = args
        trajectory = np.stack([expected[f"w_after_step_{k}"] for k in range(1, len(grads) + 1)])
        entry.update(
            call=call_text(record, ()), config=config, lr=lrs,
            args={"w": w.array(w0, "w"), "dw": w.array(np.stack(grads), "dw")},
            note="dw[k] is the gradient of step k, already clipped where the case clips",
            expected={"w_after_step": _expected(w, "w_after_step", trajectory)})
        return entry
    if record.protocol == "model":
        kwargs, X, y, params = args
        entry.update(call=call_text(record, ()), kwargs=kwargs,
                     args={"X": w.array(X, "X"), "y": w.array(y, "y"),
                           "params": w.encode(params, "params")})
    else:
        names = arg_names(record.name, len(args))
        entry["call"] = call_text(record, names)
        entry["args"] = {n: w.encode(a, n) for n, a in zip(names, args, strict=True)}
    if dout is not None:
        entry["dout"] = w.array(dout, "dout")
    entry["expected"] = {k: _expected(w, k, v) for k, v in expected.items()}
    return entry


def _key(label: str) -> str:
    """An observation label as an index key: ``bn_param['running_mean']`` ->
    ``bn_param.running_mean``, ``w after step 3`` -> ``w_after_step_3``."""
    key = re.sub(r"\[['\"](\w+)['\"]\]", r".\1", label)
    return re.sub(r"\s+", "_", key)


def _expected(w: _Writer, key: str, value: Any) -> Any:
    if isinstance(value, np.ndarray | np.generic):
        arr = np.asarray(value)
        if arr.dtype.kind == "f":
            arr = arr.astype(np.float64)
        return w.array(arr, f"expected_{key}")
    return w.encode(value, f"expected_{key}")


def export(directory: str | Path, *, dtypes: Sequence[str] = DTYPES, seed: int = 0,
           steps: int | None = None, only: Sequence[str] | None = None) -> dict[str, Any]:
    """Write the vectors into ``directory`` (created); return the index (also written)."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    index: dict[str, Any] = {
        "schema": SCHEMA, "dlparity_version": __version__,
        "oracle_fingerprint": fingerprint(), "seed": seed, "comparison": COMPARISON,
        "entries": [], "skipped": [],
    }
    for record in RECORDS:
        if only and not set(record.functions) & set(only):
            continue
        for case in record.cases:
            reason = _skip_reason(record, case, seed, steps)
            if reason:
                index["skipped"].append({"function": record.name, "case": case.name,
                                         "reason": reason})
                continue
            for dtype in dtypes:
                index["entries"].append(_export_case(root, record, case, dtype, seed, steps))
    (root / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    return index


def _skip_reason(record: OpRecord, case: Case, seed: int, steps: int | None) -> str | None:
    if record.protocol == "random":
        return "initialisers draw from an RNG: compare statistics (std, mean, truncation)"
    if record.protocol == "solver":
        return "the Solver is a Python training loop: check it with `dlparity check`"
    if record.protocol == "sequence":
        return "a sequence of calls sharing one bn_param: check it with `dlparity check`"
    if not case.oracle:
        return "relies on the reference's own choices beyond SPEC.md"
    if not _serialisable(record.args(case, seed, steps)):
        return "its arguments include a Python callable"
    return None


def run_cli(args: argparse.Namespace) -> int:
    try:
        only = parse_only(args.only, NAMES)
    except ValueError as exc:
        print(f"dlparity export-vectors: error: {exc}", file=sys.stderr)
        return 2
    try:
        index = export(args.directory, dtypes=args.dtype or DTYPES, seed=args.seed,
                       steps=args.steps, only=only or None)
    except OSError as exc:
        print(f"dlparity export-vectors: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(index['entries'])} vector sets ({len(index['skipped'])} cases skipped, "
          f"see index.json) to {args.directory}")
    return 0
