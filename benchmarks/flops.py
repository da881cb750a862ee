"""Exact floating-point operation counts of the benchmarked FC models.

The counting rule (docs/benchmarks.md repeats it):

- a matrix product (N, K) @ (K, M) is N*K*M multiply-adds = 2*N*K*M FLOPs;
- every other scalar operation on array elements counts 1: add, subtract, multiply,
  divide, max / comparison, exp, log, sqrt; a reduction of n numbers is n - 1 adds
  (or comparisons);
- work on O(1) scalars per tensor (Adam's bias corrections 1 - beta**t, a loss's final
  scaling by 1/N aside, see below) is not counted;
- what the algorithm NEEDS is counted, not what an implementation happens to do: the
  gradient with respect to the input batch X is not needed and not counted (the NumPy
  reference computes it anyway; autograd skips it).

Per model of widths (d_0, ..., d_L), batch N, C = d_L (``layer_flops`` etc. below):

forward, per layer i = 1..L:     2*N*d_{i-1}*d_i (X @ W)  +  N*d_i (bias)
                 hidden ReLU:    N*d_i (max with 0)
softmax cross-entropy:           per row: C - 1 (max), C (subtract it), C (exp), C - 1
                                 (sum), 1 (log), 1 (log-probability of the label);
                                 then N - 1 (sum over rows) + 1 (times -1/N):  N*(4C) + N
L2 penalty 0.5*reg*sum W**2:     per weight matrix of P entries: P (square) + P - 1 (sum)
                                 + 2 (times 0.5*reg) + 1 (add to the loss) = 2P + 2
backward, softmax CE:            N*C (divide exp by the row sum: softmax) + N (subtract 1
                                 at the label) + N*C (divide by N) = 2NC + N
per layer i = L..1:              dW = X^T @ dout: 2*N*d_{i-1}*d_i; db: (N - 1)*d_i;
                                 dX = dout @ W^T: 2*N*d_i*d_{i-1}, for i >= 2 only
                 hidden ReLU:    N*d_i (select where the input was > 0)
L2 gradient reg*W added to dW:   2P per weight matrix
Adam, per parameter entry:       m = b1*m + (1-b1)*g: 3; v = b2*v + (1-b2)*g*g: 4;
                                 m / (1-b1^t): 1; v / (1-b2^t): 1; sqrt: 1; + eps: 1;
                                 divide: 1; times lr: 1; w - step: 1  = 14

A training step is forward + loss + backward + Adam; inference is the forward pass to the
scores (no softmax: the class is their argmax).

``gemm_shapes`` lists the matrix products of a step one by one (shape and operand layout):
the per-shape GEMM limit (``peaks.py``) times exactly these, and ``gemm_flops`` (their sum)
is the matrix-product part of ``step_flops``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ADAM_FLOPS_PER_PARAM",
    "Gemm",
    "adam_flops",
    "forward_flops",
    "gemm_flops",
    "gemm_shapes",
    "l2_flops",
    "num_params",
    "softmax_ce_flops",
    "step_flops",
    "train_step_flops",
    "backward_flops",
]

ADAM_FLOPS_PER_PARAM = 14


def _dims(layer_dims: Sequence[int]) -> tuple[int, ...]:
    dims = tuple(int(d) for d in layer_dims)
    if len(dims) < 2 or min(dims) < 1:
        raise ValueError(f"flops: layer_dims must be at least two positive widths; "
                         f"received {layer_dims!r}")
    return dims


def num_params(layer_dims: Sequence[int]) -> int:
    """Weights and biases of the FC net: sum of d_{i-1}*d_i + d_i."""
    d = _dims(layer_dims)
    return sum(d[i - 1] * d[i] + d[i] for i in range(1, len(d)))


def forward_flops(layer_dims: Sequence[int], batch: int) -> int:
    """Affine layers and hidden ReLUs, input to scores."""
    d, n = _dims(layer_dims), int(batch)
    L = len(d) - 1
    total = 0
    for i in range(1, L + 1):
        total += 2 * n * d[i - 1] * d[i] + n * d[i]  # X @ W + b
        if i < L:
            total += n * d[i]  # ReLU
    return total


def softmax_ce_flops(batch: int, classes: int) -> tuple[int, int]:
    """(forward, backward) FLOPs of the mean softmax cross-entropy on (N, C) scores."""
    n, c = int(batch), int(classes)
    per_row = (c - 1) + c + c + (c - 1) + 1 + 1  # max, shift, exp, sum, log, pick
    forward = n * per_row + (n - 1) + 1  # rows summed, times -1/N
    backward = n * c + n + n * c  # softmax, minus one-hot, / N
    return forward, backward


def l2_flops(layer_dims: Sequence[int]) -> tuple[int, int]:
    """(forward, backward) FLOPs of 0.5*reg*sum W**2 over the weights and reg*W into dW."""
    d = _dims(layer_dims)
    sizes = [d[i - 1] * d[i] for i in range(1, len(d))]
    return sum(2 * p + 2 for p in sizes), sum(2 * p for p in sizes)


def backward_flops(layer_dims: Sequence[int], batch: int) -> int:
    """Gradients of every weight and bias from dscores (no dX for the input batch)."""
    d, n = _dims(layer_dims), int(batch)
    L = len(d) - 1
    total = 0
    for i in range(L, 0, -1):
        total += 2 * n * d[i - 1] * d[i] + (n - 1) * d[i]  # dW, db
        if i >= 2:
            total += 2 * n * d[i] * d[i - 1]  # dX into the layer below
            total += n * d[i - 1]  # through that layer's ReLU
    return total


def adam_flops(layer_dims: Sequence[int]) -> int:
    """Adam's update of every parameter entry."""
    return ADAM_FLOPS_PER_PARAM * num_params(layer_dims)


def train_step_flops(layer_dims: Sequence[int], batch: int, reg: float = 0.0) -> int:
    """One training step: forward, softmax CE (+ L2 if reg), backward, Adam."""
    d = _dims(layer_dims)
    ce_fwd, ce_bwd = softmax_ce_flops(batch, d[-1])
    total = forward_flops(d, batch) + ce_fwd + ce_bwd + backward_flops(d, batch) + adam_flops(d)
    if reg:
        total += sum(l2_flops(d))
    return total


def step_flops(layer_dims: Sequence[int], batch: int, phase: str, reg: float = 0.0) -> int:
    """FLOPs of one step of ``phase``: 'train' (``train_step_flops``) or 'infer'
    (``forward_flops``)."""
    if phase == "train":
        return train_step_flops(layer_dims, batch, reg)
    if phase == "infer":
        return forward_flops(layer_dims, batch)
    raise ValueError(f"step_flops: phase must be 'train' or 'infer'; received {phase!r}")


@dataclass(frozen=True)
class Gemm:
    """One matrix product of a step: op(A) (m, k) @ op(B) (k, n), 2*m*k*n FLOPs.

    ``layout`` says how the operands are stored, as BLAS sees them: 'nn' (A (m, k) and B
    (k, n) row-major), 'tn' (A stored (k, m), used transposed: dW = X^T @ dout) or 'nt'
    (B stored (n, k), used transposed: dX = dout @ W^T).
    """

    label: str
    m: int
    k: int
    n: int
    layout: str = "nn"

    @property
    def flops(self) -> int:
        return 2 * self.m * self.k * self.n


def gemm_shapes(layer_dims: Sequence[int], batch: int, phase: str = "train", *,
                input_grad: bool = False) -> list[Gemm]:
    """The matrix products of one step of ``phase``, in the order a step runs them.

    Forward, per layer i: H_{i-1} (N, d_{i-1}) @ W_i (d_{i-1}, d_i). Training adds, from the
    last layer down: dW_i = H_{i-1}^T @ dout_i ('tn') and, for i >= 2, dH_{i-1} = dout_i @
    W_i^T ('nt'). ``input_grad=True`` adds dX = dout_1 @ W_1^T, which the algorithm does not
    need (the NumPy reference's ``affine_backward`` computes it anyway).
    """
    d, n = _dims(layer_dims), int(batch)
    if phase not in ("train", "infer"):
        raise ValueError(f"gemm_shapes: phase must be 'train' or 'infer'; received {phase!r}")
    L = len(d) - 1
    out = [Gemm(f"H{i - 1} @ W{i}", n, d[i - 1], d[i]) for i in range(1, L + 1)]
    if phase == "infer":
        return out
    for i in range(L, 0, -1):
        out.append(Gemm(f"dW{i} = H{i - 1}^T @ dZ{i}", d[i - 1], n, d[i], "tn"))
        if i >= 2 or input_grad:
            out.append(Gemm(f"dH{i - 1} = dZ{i} @ W{i}^T", n, d[i], d[i - 1], "nt"))
    return out


def gemm_flops(layer_dims: Sequence[int], batch: int, phase: str = "train") -> int:
    """FLOPs of the matrix products of one step (part of ``step_flops``)."""
    return sum(g.flops for g in gemm_shapes(layer_dims, batch, phase))
