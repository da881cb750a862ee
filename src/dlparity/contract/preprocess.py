"""Argument contract of the preprocessing functions (SPEC.md §2, §4).

Each function validates the arguments of the function of the same name and returns them
(arrays unchanged, numbers as Python floats). Data matrices are 2-D float arrays
``(N, D)``, rows are samples; a matrix whose statistics are computed needs N >= 1 and
D >= 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlparity import validate as v
from dlparity.catalogue import names_in

__all__ = [*names_in("preprocess"), "running_mean_result"]  # the catalogue's names and one helper


def _samples(fn: str, name: str, X: Any) -> np.ndarray:
    """A 2-D float array (N, D) with at least one sample and one feature."""
    X = v.as_float_array(fn, name, X, ndim=2, shape_hint="(N, D)")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(
            f"{fn}: {name} must hold at least one sample and one feature (N, D >= 1); "
            f"received {name}.shape={X.shape}"
        )
    return X


def normalize_features(X_train: Any, *others: Any) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Validate ``normalize_features``; return ``(X_train, others)``.

    X_train is (N, D) with N, D >= 1; each of ``others`` (named ``others[i]`` in errors) is a
    2-D float array (N_i, D) with X_train's D (N_i may be 0).
    """
    fn = "normalize_features"
    X_train = _samples(fn, "X_train", X_train)
    D = X_train.shape[1]
    checked = []
    for i, X in enumerate(others):
        name = f"others[{i}]"
        X = v.as_float_array(fn, name, X, ndim=2, shape_hint="(N, D)")
        if X.shape[1] != D:
            raise ValueError(
                f"{fn}: {name} must have shape (N, {D}), D = {D} from X_train; "
                f"received {name}.shape={X.shape}"
            )
        checked.append(X)
    return X_train, tuple(checked)


def _scalar_or_array(fn: str, name: str, value: Any) -> tuple[np.ndarray, bool]:
    """A Python real number becomes a 0-d float64 array (True: it was a Python number); a
    NumPy floating scalar a 0-d array of its dtype; an array is checked as a float array."""
    if isinstance(value, bool):
        raise TypeError(f"{fn}: {name} must be a float array or a real number; "
                        f"received a bool ({value!r})")
    if isinstance(value, int | float):
        return np.asarray(float(value)), True
    if isinstance(value, np.floating):
        return np.asarray(value), False
    return v.as_float_array(fn, name, value), False


def running_mean_update(mu: Any, x: Any, k: Any) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """Validate ``running_mean_update``; return ``(mu, x, k, as_float)``: mu and x float
    arrays of the same shape (Python numbers and NumPy scalars as 0-d arrays: the
    document's running mean is a scalar formula), k a float in (0, 1], and ``as_float``
    True when mu and x were both Python numbers (the result is then a Python float: see
    :func:`running_mean_result`)."""
    fn = "running_mean_update"
    mu_arr, mu_number = _scalar_or_array(fn, "mu", mu)
    x_arr, x_number = _scalar_or_array(fn, "x", x)
    v.check_same_shape(fn, "mu", mu_arr, "x", x_arr)
    k = v.check_scalar(fn, "k", k, low=0.0, high=1.0, low_open=True)
    return mu_arr, x_arr, k, mu_number and x_number


def running_mean_result(out: Any, as_float: bool) -> np.ndarray | float:
    """The result in the form of the inputs: a Python float for Python numbers, else an
    array (0-d for 0-d inputs, where NumPy arithmetic would give a NumPy scalar)."""
    return float(out) if as_float else np.asarray(out)


def covariance(X: Any) -> np.ndarray:
    """Validate ``covariance``; return X, a float array (N, D) with N, D >= 1."""
    return _samples("covariance", "X", X)


def whiten(X: Any, eps: Any = 1e-5) -> tuple[np.ndarray, float]:
    """Validate ``whiten``; return ``(X, eps)``: X (N, D) with N, D >= 1, eps a finite
    float >= 0."""
    fn = "whiten"
    return _samples(fn, "X", X), v.check_scalar(fn, "eps", eps, low=0.0)
