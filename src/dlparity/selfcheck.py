"""Registry-driven float64 gradient check of the NumPy reference (``dlparity gradcheck``).

For every differentiable record of the parity registry (layer pairs and losses) and every
case whose inputs are off the functions' kinks, the analytic gradient of each input is
compared with central differences of the forward, contracted with a random upstream
gradient. The same routine backs ``tests/test_gradcheck_sweep.py``.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from dlparity.oracle.registry import RECORDS, Case, OpRecord, cast

# Central differences with h = 1e-6 on O(1) inputs carry ~1e-10 absolute noise.
ABS_TOL = 1e-8


class GradResult(NamedTuple):
    function: str
    case: str
    argument: str
    distance: float  # grad_check_distance(numerical, analytic)
    max_abs: float  # max |numerical - analytic|, for gradients that are analytically zero

    def ok(self, threshold: float, atol: float = ABS_TOL) -> bool:
        """Relative distance within threshold, or (analytically-zero gradients such as
        the bias before batch norm) every entry within ``atol``; NaN never passes."""
        return bool(self.distance <= threshold or self.max_abs <= atol)


def differentiable_records() -> list[tuple[OpRecord, Case]]:
    """(record, case) pairs with an analytic gradient and smooth inputs."""
    return [(rec, case) for rec in RECORDS if rec.protocol in ("layer", "loss")
            for case in rec.cases if case.smooth]


def _argument_positions(ref, record: OpRecord) -> list[tuple[str, int]]:
    """(gradient output name, argument position) pairs: dx -> x, dgamma -> gamma, ..."""
    params = list(inspect.signature(getattr(ref, record.name)).parameters)
    if record.protocol == "loss":
        return [("grad", 0)]
    return [(g, params.index(g[1:])) for g in record.grad_names]


def check_record(record: OpRecord, case: Case, h: float = 1e-6) -> Iterator[GradResult]:
    """Yield one GradResult per differentiable argument of ``record`` on ``case``."""
    import dlparity.reference as ref

    stream, base, dout = record.reference(case, np.float64)  # the protocol runner
    analytic = {label: value for _, outs in stream for label, value in outs.items()}
    fn = getattr(ref, record.name)
    for out_name, pos in _argument_positions(ref, record):

        def f(a: np.ndarray, pos: int = pos) -> np.ndarray:
            args = list(cast(base, np.float64))
            args[pos] = a
            return np.asarray(fn(*args)[0], dtype=np.float64)

        x = base[pos].copy()
        if record.protocol == "layer":
            numerical = ref.eval_numerical_gradient_array(f, x, dout, h=h)
        else:
            numerical = ref.eval_numerical_gradient(lambda a, f=f: float(f(a)), x, h=h)
        diff = np.abs(numerical - np.asarray(analytic[out_name], dtype=np.float64))
        yield GradResult(record.name, case.name, out_name,
                         ref.grad_check_distance(numerical, analytic[out_name]),
                         float(np.nan_to_num(diff, nan=np.inf).max()))


def gradcheck_reference(threshold: float = 1e-7, verbose: bool = True) -> list[GradResult]:
    """Check every differentiable record; print a line each; return the failures."""
    failures = []
    for record, case in differentiable_records():
        for res in check_record(record, case):
            bad = not res.ok(threshold)
            failures += [res] if bad else []
            if verbose or bad:
                flag = "FAIL" if bad else "ok  "
                print(f"{flag} {res.function:<32} {res.case:<28} {res.argument:<7} "
                      f"distance {res.distance:.2e}  max abs {res.max_abs:.1e}")
    print(f"{len(failures)} failed (threshold {threshold:g})")
    return failures
