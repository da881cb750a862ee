"""The exported test vectors (``dlparity export-vectors``) round-trip: a reader that knows only
the documented index format (NumPy + json, no dlparity import in its decoding) rebuilds
every call, and the reference reproduces every expected output within the index's
tolerance, while a planted bug fails exactly its own entries. The worked example of
docs/oracle.md (pure Python, no NumPy) runs against the files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support.oracle_bugs import BUGS, copy_reference, plant

import dlparity.reference as ref
from dlparity.catalogue import BY_NAME
from dlparity.cli import main as cli_main
from dlparity.oracle import load_target, vectors
from dlparity.oracle.registry import find_case
from dlparity.oracle.tolerances import tolerance

DOCS = Path(__file__).resolve().parents[1] / "docs" / "oracle.md"


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("vectors")
    index = vectors.export(root)
    return root, index


# ----------------------------------------------------------------------- a reader


def _decode(root: Path, value: Any) -> Any:
    if isinstance(value, dict) and "npy" in value:
        return np.load(root / value["npy"])
    if isinstance(value, dict) and "dict" in value:
        return {k: _decode(root, v) for k, v in value["dict"].items()}
    if isinstance(value, dict) and "list" in value:
        return [_decode(root, v) for v in value["list"]]
    return value


def _flat(result: Any, prefix: str = "out") -> dict[str, Any]:
    if isinstance(result, tuple | list):
        out: dict[str, Any] = {}
        for i, item in enumerate(result):
            out.update(_flat(item, f"{prefix}{i}" if prefix == "out" else f"{prefix}.{i}"))
        return out
    return {prefix: result}


def _outputs(impl: Any, root: Path, e: dict) -> dict[str, Any]:
    """Call ``impl`` as the entry's ``call`` says; return its outputs by expected name."""
    args = {k: _decode(root, v) for k, v in e.get("args", {}).items()}
    fn = getattr(impl, e["function"])
    if e["protocol"] == "optimizer":
        w, config, steps = args["w"], dict(e["config"]), []
        for dw, lr in zip(args["dw"], e["lr"], strict=True):
            if lr is not None:
                config["learning_rate"] = lr
            w, config = fn(w, dw.copy(), config)
            steps.append(w)
        return {"w_after_step": np.stack(steps)}
    if e["protocol"] == "model":
        model = fn(**e["kwargs"], dtype=args["X"].dtype)
        model.params.update(args["params"])
        loss, grads = model.loss(args["X"], args["y"])
        return {"loss": loss, "scores": model.loss(args["X"]),
                **{f"d{k}": g for k, g in grads.items()}}
    positional = list(args.values())
    if e["protocol"] == "layer":
        out, cache = fn(*positional)
        grads = getattr(impl, e["backward"])(_decode(root, e["dout"]), cache)
        grads = grads if isinstance(grads, tuple) else (grads,)
        names = [k for k in e["expected"] if k != "out" and not k.startswith("bn_param.")]
        got = {"out": out, **dict(zip(names, grads, strict=True))}
        bn_param = next((a for a in positional if isinstance(a, dict)), {})
        got.update({f"bn_param.{k}": v for k, v in bn_param.items() if k.startswith("running_")})
        return got
    if e["protocol"] == "loss":
        loss, grad = fn(*positional)
        return {"loss": loss, "grad": grad}
    return _flat(fn(*positional))


def _align_signs(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """whiten: each column's sign is free (documented in the index's function notes)."""
    return got * np.where(np.sum(got * want, axis=0) < 0, -1.0, 1.0)


def _mismatches(impl: Any, root: Path, e: dict) -> list[str]:
    try:
        got = _outputs(impl, root, e)
    except Exception as exc:  # noqa: BLE001
        return [f"raised {type(exc).__name__}: {exc}"]
    bad = []
    tol = e["tolerance"]
    for key, spec in e["expected"].items():
        want = np.asarray(_decode(root, spec), dtype=np.float64)
        value = got.get(key)
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.dtype != e["dtype"]:
            bad.append(f"{key}: dtype {value.dtype}")
        a = np.asarray(value, dtype=np.float64)
        if e["function"] == "whiten":
            a = _align_signs(a, want)
        if a.shape != want.shape:
            bad.append(f"{key}: shape {a.shape} != {want.shape}")
            continue
        err = np.linalg.norm(a - want) / max(np.linalg.norm(want), 1e-30)
        if not (err <= tol["rtol"] or np.nanmax(np.abs(a - want), initial=0) <= tol["atol"]) \
                or np.isnan(a).any():
            bad.append(f"{key}: relative error {err:.3g}")
    return bad


# ----------------------------------------------------------------------- tests


def test_reference_reproduces_every_exported_entry(exported) -> None:
    root, index = exported
    assert len(index["entries"]) > 200
    failures = {f"{e['function']}/{e['case']}/{e['dtype']}": m for e in index["entries"]
                if (m := _mismatches(ref, root, e))}
    assert not failures, failures


def test_a_planted_bug_fails_exactly_its_own_entries(exported, tmp_path) -> None:
    root, index = exported
    bug = next(b for b in BUGS if b.id == "svm_margin_ge")
    package = copy_reference(tmp_path)
    plant(package, bug)
    impl = load_target(str(package))
    failing = {(e["function"], e["case"]) for e in index["entries"] if _mismatches(impl, root, e)}
    assert failing == {("svm_loss", "margins_exactly_0")}


def test_index_describes_every_file_and_the_tolerance_table(exported) -> None:
    root, index = exported
    on_disk = json.loads((root / "index.json").read_text())
    assert on_disk == json.loads(json.dumps(index))
    assert index["schema"] == "dlparity-vectors/1" and "rtol" in index["comparison"]
    seen = set()
    for e in index["entries"]:
        assert e["tolerance"] == tolerance(e["function"], e["dtype"], e["case"])._asdict()
        assert e["spec"].startswith("SPEC.md §") or (
            BY_NAME[e["function"]].extension and e["spec"].startswith("docs/api.md"))
        refs = re.findall(r"'npy': '([^']+)', 'shape': \[([^\]]*)\], 'dtype': '(\w+)'", str(e))
        for path, shape, dtype in refs:
            arr = np.load(root / path)
            assert list(arr.shape) == [int(s) for s in shape.split(",") if s.strip()]
            assert arr.dtype.name == dtype
            seen.add(path)
        inputs = re.findall(r"'npy': '([^']+/(?!expected_)[^/']+)'", str(e.get("args", {})))
        for path in inputs:  # inputs come in the entry's dtype (labels, masks: their own)
            arr = np.load(root / path)
            assert arr.dtype.kind != "f" or arr.dtype.name == e["dtype"], path
    assert len(seen) == len(list(root.rglob("*.npy")))
    skipped = {(s["function"], s["case"]) for s in index["skipped"]}
    assert ("he_normal", "2d") in skipped and ("eval_numerical_gradient", "sum_of_sines") in skipped
    assert {e["dtype"] for e in index["entries"]} == {"float64", "float32"}


def _docs_example() -> str:
    if not DOCS.exists():
        pytest.skip("docs/ is not shipped with an installed package")
    text = DOCS.read_text()
    match = re.search(r"<!-- example: check_relu\.py -->\s*```python\n(.*?)```", text, re.S)
    assert match, "docs/oracle.md lost its check_relu.py example"
    return match.group(1)


def test_docs_example_checks_relu_without_numpy_or_dlparity(exported, tmp_path) -> None:
    root, index = exported
    script = tmp_path / "check_relu.py"
    script.write_text(_docs_example())
    imports = [ln for ln in script.read_text().splitlines() if ln.startswith(("import", "from"))]
    assert imports and not [ln for ln in imports if "numpy" in ln or "dlparity" in ln], imports
    done = subprocess.run([sys.executable, "-I", str(script), str(root)], capture_output=True,
                          text=True, check=True, timeout=60)
    lines = done.stdout.split("\n")[:-1]
    expected = [e for e in index["entries"] if e["function"] == "relu_forward"]
    cases = [c for c in find_case("relu_forward", "2d")[0].cases if c.oracle]
    assert len(lines) == len(expected) == 2 * len(cases)  # every case, both dtypes
    assert all(line.startswith("PASS relu_forward") for line in lines), done.stdout


def test_docs_example_catches_a_wrong_relu(exported, tmp_path) -> None:
    root, _ = exported
    script = tmp_path / "check_relu.py"
    wrong = _docs_example().replace("d if v > 0 else 0.0", "d if v >= 0 else 0.0")
    assert wrong != _docs_example()
    script.write_text(wrong)
    done = subprocess.run([sys.executable, "-I", str(script), str(root)], capture_output=True,
                          text=True, check=True, timeout=60)
    assert "FAIL relu_forward 2d_kinks float64" in done.stdout, done.stdout
    assert "NOTE relu_forward 3d_kinks float64" in done.stdout  # beyond the contract


def test_cli_exports_a_subset_and_rejects_unknown_names(tmp_path, capsys) -> None:
    code = cli_main(["export-vectors", str(tmp_path / "v"), "--only", "adam,relu_backward",
                     "--dtype", "float32", "--steps", "7"])
    assert code == 0
    index = json.loads((tmp_path / "v" / "index.json").read_text())
    assert {(e["function"], e["dtype"]) for e in index["entries"]} == {
        ("adam", "float32"), ("relu_forward", "float32")}
    adam = next(e for e in index["entries"] if e["function"] == "adam")
    assert adam["args"]["dw"]["shape"][0] == 7 and len(adam["lr"]) == 7
    assert cli_main(["export-vectors", str(tmp_path / "w"), "--only", "relu"]) == 2
    assert "not catalogue names: relu" in capsys.readouterr().err
