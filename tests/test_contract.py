"""The catalogue-wide sweep: completeness, no mutation, dtype, for every public function.

Driven by the parity registry (``dlparity.oracle.registry``): one record per
function with its input cases, so a new function gets these checks from its registry row.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest

import dlparity.reference as ref
from dlparity.catalogue import CATALOGUE, NAMES
from dlparity.oracle.calls import Calls
from dlparity.oracle.protocols import inputs, observe, reference_stream
from dlparity.oracle.registry import RECORDS, arrays_in, uncovered_names, upstream_gradient

CASES = [pytest.param(rec, case, id=f"{rec.name}-{case.name}")
         for rec in RECORDS for case in rec.cases]


def run_in_dtype(record, case, args) -> dict[str, Any]:
    """The reference run AS A TARGET on ``args`` in their own dtype (the oracle's reference
    stream, :func:`reference_stream`, runs float64 copies, so it can show neither a dtype
    nor a mutation of the caller's arrays): every observation of the parity protocol, or an
    initialiser's draw."""
    if record.protocol == "random":
        return {"out": getattr(ref, record.name)(*args)}

    def dout_for(out: np.ndarray) -> np.ndarray:
        return upstream_gradient(record, case, out).astype(out.dtype)

    return {f"{owner}: {label}": value
            for owner, observed in observe(Calls(ref, None), record, case, args, dout_for)
            for label, value in observed.items()}


def test_catalogue_names_are_unique() -> None:
    """Each name is in one module only, so ``dlparity.reference``'s star imports (each
    module's ``__all__`` is ``catalogue.names_in(module)``) cannot shadow one another."""
    assert len(set(NAMES)) == len(NAMES), sorted(n for n in NAMES if NAMES.count(n) > 1)


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.name)
def test_catalogue_name_is_defined_in_its_module_not_imported_into_it(entry) -> None:
    """Defined in reference/<module>.py, as the catalogue says, not a same-named import from
    elsewhere. (That the name exists there and is ``dlparity.reference.<name>`` the import
    of ``dlparity.reference`` already guarantees: its star imports read ``__all__``.)"""
    module = sys.modules[f"dlparity.reference.{entry.module}"]
    obj = getattr(module, entry.name)
    assert obj.__module__ == module.__name__, (
        f"{entry.name} is defined in {obj.__module__}, not in reference/{entry.module}.py")


def test_registry_covers_every_catalogue_name() -> None:
    assert uncovered_names() == []


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("record", "case"), CASES)
def test_no_input_is_mutated(record, case, dtype) -> None:
    args = inputs(record, case, np.dtype(dtype))
    originals = [(path, arr, arr.copy()) for path, arr in arrays_in(args)]
    run_in_dtype(record, case, args)
    for path, arr, before in originals:
        # State dicts (bn_param, config) may receive NEW arrays; the arrays passed in must
        # keep their values (nan-aware equality: some inputs are extreme but none NaN).
        np.testing.assert_array_equal(arr, before, err_msg=f"{record.name} mutated {path}")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("record", "case"), [c for c in CASES if c.values[0].protocol != "random"])
def test_output_dtype_follows_input_dtype(record, case, dtype) -> None:
    outputs = run_in_dtype(record, case, inputs(record, case, np.dtype(dtype)))
    assert outputs, f"{record.name} returned nothing"
    for key, value in outputs.items():
        if isinstance(value, np.ndarray | np.generic) and np.asarray(value).dtype.kind == "f":
            assert value.dtype == np.dtype(dtype), (
                f"{record.name} ({case.name}): output {key} has dtype {value.dtype}, "
                f"input dtype was {dtype}")


@pytest.mark.parametrize(("record", "case"), CASES)
def test_outputs_are_finite(record, case) -> None:
    """Every registry case (logits near ±1000 included) gives finite float outputs in the
    oracle's reference stream (what every target is compared with), except
    cross-entropy-like values that are +inf by definition (none in the registry)."""
    if record.protocol == "random":
        outputs = {"out": getattr(ref, record.name)(*inputs(record, case, np.dtype(np.float64)))}
    else:
        stream, _, _ = reference_stream(record, case, np.dtype(np.float64))
        assert stream, f"{record.name} ({case.name}): the reference observed nothing"
        outputs = {f"{owner}: {label}": value for owner, observed in stream
                   for label, value in observed.items()}
    for key, value in outputs.items():
        arr = np.asarray(value)
        if arr.dtype.kind == "f":
            assert np.all(np.isfinite(arr)), f"{record.name} ({case.name}): {key} not finite"


def test_layer_contract_has_a_function_per_catalogue_forward() -> None:
    """``dlparity.contract.layers.__all__`` follows the catalogue; each name it lists (one
    per forward) is defined there, with the reference forward's parameters."""
    import inspect

    from dlparity.contract import layers

    missing = [n for n in layers.__all__ if not hasattr(layers, n)]
    assert not missing, f"dlparity.contract.layers lacks {missing}"
    for name in layers.__all__:
        if name.endswith("_forward"):
            assert (list(inspect.signature(getattr(layers, name)).parameters)
                    == list(inspect.signature(getattr(ref, name)).parameters)), name
