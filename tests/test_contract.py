"""The catalogue-wide sweep: completeness, no mutation, dtype, for every public function.

Driven by the parity registry (``dlparity.oracle.registry``): one record per
function with its input cases, so a new function gets these checks from its registry row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import dlparity.reference as ref
from dlparity.catalogue import CATALOGUE
from dlparity.oracle.calls import Calls
from dlparity.oracle.protocols import inputs, observe
from dlparity.oracle.registry import RECORDS, arrays_in, uncovered_names, upstream_gradient

CASES = [pytest.param(rec, case, id=f"{rec.name}-{case.name}")
         for rec in RECORDS for case in rec.cases]


def run(record, case, args) -> dict[str, Any]:
    """The reference's outputs on ``args`` (used as given, in their dtype): every
    observation of the parity protocol (``dlparity.oracle.protocols``), or an
    initialiser's draw."""
    if record.protocol == "random":
        return {"out": getattr(ref, record.name)(*args)}

    def dout_for(out: np.ndarray) -> np.ndarray:
        return upstream_gradient(record, case, out).astype(out.dtype)

    return {f"{owner}: {label}": value
            for owner, observed in observe(Calls(ref, None), record, case, args, dout_for)
            for label, value in observed.items()}


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.name)
def test_catalogue_name_lives_in_its_module_and_is_the_package_export(entry) -> None:
    """Defined (not merely imported) in reference/<module>.py, as the catalogue says, and
    ``dlparity.reference.<name>`` is that object (not a same-named import from elsewhere)."""
    module = __import__(f"dlparity.reference.{entry.module}", fromlist=[entry.name])
    obj = getattr(module, entry.name, None)
    assert obj is not None, f"{entry.name} missing from reference/{entry.module}.py"
    assert obj.__module__ == module.__name__, (
        f"{entry.name} is defined in {obj.__module__}, not in reference/{entry.module}.py")
    assert getattr(ref, entry.name) is obj, (
        f"dlparity.reference.{entry.name} is not reference/{entry.module}.py's {entry.name}")


def test_registry_covers_every_catalogue_name() -> None:
    assert uncovered_names() == []


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("record", "case"), CASES)
def test_no_input_is_mutated(record, case, dtype) -> None:
    args = inputs(record, case, np.dtype(dtype))
    originals = [(path, arr, arr.copy()) for path, arr in arrays_in(args)]
    run(record, case, args)
    for path, arr, before in originals:
        # State dicts (bn_param, config) may receive NEW arrays; the arrays passed in must
        # keep their values (nan-aware equality: some inputs are extreme but none NaN).
        np.testing.assert_array_equal(arr, before, err_msg=f"{record.name} mutated {path}")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("record", "case"), [c for c in CASES if c.values[0].protocol != "random"])
def test_output_dtype_follows_input_dtype(record, case, dtype) -> None:
    outputs = run(record, case, inputs(record, case, np.dtype(dtype)))
    assert outputs, f"{record.name} returned nothing"
    for key, value in outputs.items():
        if isinstance(value, np.ndarray | np.generic) and np.asarray(value).dtype.kind == "f":
            assert value.dtype == np.dtype(dtype), (
                f"{record.name} ({case.name}): output {key} has dtype {value.dtype}, "
                f"input dtype was {dtype}")


@pytest.mark.parametrize(("record", "case"), CASES)
def test_outputs_are_finite(record, case) -> None:
    """Every registry case (logits near ±1000 included) gives finite float outputs,
    except cross-entropy-like values that are +inf by definition (none in the registry)."""
    outputs = run(record, case, inputs(record, case, np.dtype(np.float64)))
    for key, value in outputs.items():
        arr = np.asarray(value)
        if arr.dtype.kind == "f":
            assert np.all(np.isfinite(arr)), f"{record.name} ({case.name}): {key} not finite"
