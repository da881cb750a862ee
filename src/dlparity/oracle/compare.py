"""Compare an implementation's outputs with the reference's, array by array."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tolerances import Tol

TINY = 1e-30


@dataclass(frozen=True)
class Mismatch:
    """Why one output did not match: printed by tests and the oracle."""

    output: str
    reason: str
    rel_error: float = float("nan")
    index: tuple[int, ...] | None = None
    got: float | None = None
    want: float | None = None

    def __str__(self) -> str:
        text = f"{self.output}: {self.reason}"
        if self.index is not None:
            text += f"; worst element {self.index}: got {self.got!r}, reference {self.want!r}"
        return text


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖₂ / max(‖b‖₂, tiny) in float64; inf when ``a`` is not finite where ``b`` is."""
    a64 = np.asarray(a, dtype=np.float64)
    b64 = np.asarray(b, dtype=np.float64)
    both_nonfinite_equal = (~np.isfinite(a64)) & (a64 == b64)  # +inf == +inf in both
    diff = np.where(both_nonfinite_equal, 0.0, a64 - b64)
    if not np.all(np.isfinite(diff)):
        return float("inf")
    finite_b = np.where(np.isfinite(b64), b64, 0.0)
    return float(np.linalg.norm(diff) / max(float(np.linalg.norm(finite_b)), TINY))


def compare_array(name: str, got: object, want: np.ndarray, tol: Tol,
                  check_dtype: bool = True) -> tuple[Mismatch | None, float]:
    """Compare one output; returns (mismatch or None, relative error)."""
    if not isinstance(got, np.ndarray | np.generic | float | int):
        return Mismatch(name, f"expected a NumPy array, received {type(got).__name__}"), np.inf
    got_arr = np.asarray(got)
    want_arr = np.asarray(want)
    if got_arr.shape != want_arr.shape:
        return Mismatch(name, f"shape {got_arr.shape}, expected {want_arr.shape}"), np.inf
    if check_dtype and want_arr.dtype.kind == "f" and got_arr.dtype != want_arr.dtype:
        return Mismatch(name, f"dtype {got_arr.dtype}, expected {want_arr.dtype}"), np.inf
    if want_arr.size == 0:
        return None, 0.0
    a = got_arr.astype(np.float64)
    b = want_arr.astype(np.float64)
    err = relative_error(a, b)
    same_nonfinite = (~np.isfinite(b)) & (a == b)
    absdiff = np.where(same_nonfinite, 0.0, np.abs(a - b))
    absdiff = np.where(np.isnan(absdiff), np.inf, absdiff)  # NaN never passes
    max_abs = float(absdiff.max())
    if err <= tol.rtol or max_abs <= tol.atol:
        return None, err
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(absdiff)), absdiff.shape))
    reason = (f"relative error {err:.3g} > rtol {tol.rtol:g} and max abs error "
              f"{max_abs:.3g} > atol {tol.atol:g}")
    if not np.all(np.isfinite(a[~same_nonfinite])):
        reason = "non-finite output where the reference is finite; " + reason
    return Mismatch(name, reason, err, idx, float(a[idx]), float(b[idx])), err


def compare_outputs(got: dict[str, object], want: dict[str, np.ndarray], tol: Tol,
                    check_dtype: bool = True) -> tuple[list[Mismatch], float]:
    """Compare every named output; returns the mismatches and the worst relative error
    (among the failing outputs if any fail: an analytically-zero output that passes on the
    absolute term can have a large relative error that means nothing)."""
    mismatches: list[Mismatch] = []
    errors: list[tuple[bool, float]] = []
    for key, ref in want.items():
        if key not in got:
            mismatches.append(Mismatch(key, "output missing"))
            errors.append((True, np.inf))
            continue
        mm, err = compare_array(key, got[key], ref, tol, check_dtype)
        errors.append((mm is not None, err if np.isfinite(err) else np.inf))
        if mm is not None:
            mismatches.append(mm)
    failing = [e for bad, e in errors if bad]
    worst = max(failing or [e for _, e in errors] or [0.0])
    return mismatches, worst
