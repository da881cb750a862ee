"""The one tolerance table (SPEC.md §5), read by every test and by the oracle.

A comparison passes when, for every output array,

    ‖a − b‖₂ / max(‖b‖₂, tiny) ≤ rtol     or     max|a − b| ≤ atol

(``b`` the reference). The absolute term is for outputs that are analytically zero, such as
the bias gradient of an affine layer feeding batch norm. NaN or inf where the reference is
finite never passes; a shape or dtype mismatch fails before any number is compared.

float64 is the first tier: 1e-10 relative is reachable for every function here (BLAS
blocking differs by ~1e-14 between NumPy, torch and TF). float32 is the second tier:
what the arithmetic allows against the float64 reference's inputs cast to float32.
A loosened entry carries the measured error that justified it.
"""

from __future__ import annotations

from typing import NamedTuple


class Tol(NamedTuple):
    rtol: float
    atol: float


DEFAULT: dict[str, Tol] = {
    "float64": Tol(rtol=1e-10, atol=1e-12),
    "float32": Tol(rtol=2e-5, atol=1e-5),
}

# (name, dtype) -> Tol; name is a catalogue name (the forward for layer pairs).
OVERRIDES: dict[tuple[str, str], Tol] = {
    # Optimizer trajectories accumulate rounding over many steps; float32 measured
    # ≤ 7.3e-6 relative after 60 steps (CONVENTIONS.md).
    **{(rule, "float32"): Tol(rtol=1e-4, atol=1e-5)
       for rule in ("sgd", "sgd_momentum", "nesterov_momentum", "adagrad", "rmsprop", "adam")},
    # Whole-model training (parity_tests/test_training.py): 20 Adam steps of the MNIST and
    # CIFAR-10 FC nets, 1,000 SGD steps of the dating net; rounding compounds over steps.
    ("training", "float64"): Tol(rtol=1e-9, atol=1e-11),
    # Logits near ±1000 in float32: the max-subtraction leaves O(1) values whose rounding
    # (ulp of 1000 ≈ 6e-5) reaches the output; an independent correct float32
    # implementation measured 1.1e-5 relative, 55 % of the default 2e-5.
    ("log_softmax_forward", "float32"): Tol(rtol=1e-4, atol=1e-4),
    ("softmax_loss", "float32"): Tol(rtol=1e-4, atol=1e-4),
    # whiten divides by sqrt of small singular values: conditioning amplifies rounding.
    ("whiten", "float32"): Tol(rtol=1e-3, atol=1e-4),
    ("whiten", "float64"): Tol(rtol=1e-9, atol=1e-10),
    # Central differences: the framework evaluates f at x ± h in its own arithmetic.
    ("eval_numerical_gradient", "float32"): Tol(rtol=1e-2, atol=1e-2),
    ("eval_numerical_gradient_array", "float32"): Tol(rtol=1e-2, atol=1e-2),
}


def tolerance(name: str, dtype: str) -> Tol:
    """The tolerance for catalogue function ``name`` at ``dtype`` ('float64'/'float32')."""
    return OVERRIDES.get((name, dtype), DEFAULT[dtype])
