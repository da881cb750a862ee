"""Repro snippets: a failure as a few lines of Python anyone can run.

A snippet calls :func:`replay`, which rebuilds the exact inputs of one registry case from
the seed and runs the SAME protocol runner the oracle ran (``protocols.py``) on the
implementation and on the reference, printing, observation by observation, where they
differ (:func:`show`) and which inputs were written.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .calls import Calls, describe, snapshot, written
from .compare import compare_array
from .protocols import call_text
from .registry import BY_FUNCTION, find_case, flatten
from .targets import Target, load_target
from .tolerances import tolerance

__all__ = ["replay", "repro", "show"]


def repro(target: Any, name: str, case_name: str, dtype: str, seed: int,
          steps: int | None) -> str:
    """The snippet for ``name``'s failure on registry case ``case_name``."""
    record = next((r for r in BY_FUNCTION.get(name, []) for c in r.cases
                   if c.name == case_name), None)
    if record is None:
        return ""
    return "\n".join([
        f"# {call_text(record, ['...'])}",
        "from dlparity.oracle.repro import replay",
        "",
        f"replay({target.spec!r}, {record.name!r}, {case_name!r}, dtype={dtype!r}, "
        f"seed={seed}, steps={steps!r})",
    ])


def replay(impl: Any, name: str, case_name: str, dtype: str = "float64", seed: int = 0,
           steps: int | None = None) -> bool:
    """Run registry case ``case_name`` of ``name`` on ``impl`` (a TARGET string, a loaded
    Target or a module) and on the reference; print where they differ; return True where
    every observation agrees."""
    target = load_target(impl) if isinstance(impl, str) else impl
    record, case = find_case(name, case_name)
    framework = target.framework if isinstance(target, Target) else None
    want, args, dout = record.reference(case, dtype, seed, steps, framework)
    inputs = snapshot(args)
    douts = snapshot(dout, "dout") if dout is not None else []
    got = list(record.observe(Calls(target, None), case, args, lambda out: dout, seed))
    print("written by the calls:", written(inputs + douts))
    same = True
    for (owner, outs), (_, want_outs) in zip(got, want, strict=False):
        if record.align is not None:
            outs = record.align(outs, want_outs)
        for label, value in want_outs.items():
            same &= show(f"{owner}: {label}", outs.get(label), value, record.name,
                         tolerance(record.name, dtype, case.name))
    if len(got) != len(want):
        print(f"{len(got)} observations; the reference makes {len(want)}")
        same = False
    return same


def show(label: Any, got: Any, want: Any, function: str = "", tol: Any = None) -> bool:
    """Print how ``got`` differs from ``want`` (tuples and lists are walked) within ``tol``
    (default: the tolerance of ``function`` at ``got``'s dtype); return True where they
    agree."""
    if isinstance(want, tuple | list):
        g, w = flatten(got, str(label)), flatten(want, str(label))
        return all([show(k, g.get(k), w[k], function, tol) for k in w])
    if not isinstance(got, np.ndarray | np.generic | bool | int | float):
        print(f"{label}: got {describe(got)}, reference {describe(want)}")
        return False
    a, b = np.asarray(got), np.asarray(want)
    if a.shape != b.shape:
        print(f"{label}: shape {a.shape}, reference {b.shape}")
        return False
    dtype = "float32" if a.dtype == np.float32 else "float64"
    tol = tol or tolerance(function, dtype)
    mismatch, err = compare_array(str(label), a, b, tol, check_dtype=False)
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    text = (f"{label}: dtype {a.dtype}, max |impl - ref| = {np.max(diff, initial=0.0):.3g}, "
            f"relative error {err:.3g}")
    if mismatch is not None:
        text += (f" -- DIFFERS; worst element {mismatch.index}: {mismatch.got!r} vs "
                 f"{mismatch.want!r}")
    print(text)
    return mismatch is None
