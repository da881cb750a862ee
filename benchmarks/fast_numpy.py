"""``numpy.fast``: the benchmarks' fast NumPy training step, kept apart from the readable
reference (``dlparity.reference``) and held to it by ``tests/test_bench_fast_numpy.py``
(float64: losses, gradients and parameters within 1e-10 over several steps).

What it does differently from the reference's ``Trainer.step`` (and what each is worth is
measured by ``dlparity bench --attempts``, docs/benchmarks.md):

- **No unneeded product.** The reference's ``affine_backward`` returns dX for the input
  batch too (the CS231n API); nobody needs it. At MNIST batch 1024 it is a (1024 x 256) @
  (256 x 784) product, a quarter of the step's GEMM time.
- **Preallocated buffers, ``out=`` everywhere.** Activations, their gradients, the
  softmax, the masks and the gradients live in buffers made once per batch size; every
  product writes into its buffer (``np.matmul(..., out=)``), every element-wise op runs in
  place (bias add, ReLU, softmax, ReLU backward as a multiply by a boolean mask).
- **One flat parameter vector.** W1, b1, ... are views into one array, and so are their
  gradients and Adam's m and v: the Adam update is 13 in-place passes over one vector
  (the reference: about 12 array operations per parameter, 6 parameters, new arrays each
  step), in the reference's order of operations, so its float64 updates are the same
  numbers.
- **No per-call validation.** The inputs are checked once at the boundary
  (``BaseTrainer.step``), not again by every layer.

Scope: the benchmarked models only: classification, ReLU hidden layers, softmax
cross-entropy + L2, Adam, no dropout or batch norm, CPU. ``FastTrainer`` has the
``Trainer`` interface (``step``, ``predict``, ``export_params``, ``from_preset``).

Two switches undo one change each, for ``dlparity bench --attempts`` to measure them one
by one: ``FastTrainer.input_grad = True`` computes the unneeded dX again (into a buffer),
``FastTrainer.fused_adam = False`` updates with the reference's ``adam``, one parameter
at a time.

``FastTrainer.sections``: set it to a dict to have every step add the seconds it spent in
'gemm', 'elementwise' and 'optimizer' (the profile's in-step NumPy timing); None (the
default) times nothing.
"""

from __future__ import annotations

import math
import time

import numpy as np

from dlparity.bases.training import BaseTrainer

__all__ = ["FastTrainer"]


class _Buffers:
    """Everything a step of batch size N writes, made once (layer widths d_0..d_L)."""

    def __init__(self, dims: tuple[int, ...], n: int, dtype: np.dtype) -> None:
        L = len(dims) - 1
        self.z = [np.empty((n, dims[i]), dtype) for i in range(L + 1)]  # z[i]: (N, d_i)
        self.dh = [np.empty((n, dims[i]), dtype) for i in range(L + 1)]  # dh[i]: (N, d_i)
        self.mask = [np.empty((n, dims[i]), bool) for i in range(L + 1)]  # z[i] > 0
        self.rowmax = np.empty((n, 1), dtype)  # (N, 1)
        self.sumexp = np.empty((n, 1), dtype)  # (N, 1)
        self.rows = np.arange(n)  # (N,)


class FastTrainer(BaseTrainer):
    """The fast NumPy training step of the benchmarked FC classifiers (module docstring).

    Attributes: ``params`` (W1, b1, ... as views into one flat vector), ``t`` (Adam's step
    count), ``sections`` (None, or a dict of seconds per part), ``input_grad`` and
    ``fused_adam`` (the switches of the module docstring).
    """

    COMPILE_MODES = (None,)

    def _build(self, params: dict[str, np.ndarray]) -> None:
        fn = "FastTrainer"
        if self.device != "cpu":
            raise ValueError(f"{fn}: numpy.fast runs on 'cpu' only; received "
                             f"device={self.device!r}")
        unsupported = {"task": (self.task, "classification"), "dropout": (self.dropout, 0.0),
                       "normalization": (self.normalization, None),
                       "update_rule": (self.update_rule, "adam")}
        for name, (got, want) in unsupported.items():
            if got != want:
                raise ValueError(f"{fn}: numpy.fast implements the benchmarked models only "
                                 f"({name}={want!r}); received {name}={got!r}")
        self.L = len(self.layer_dims) - 1
        self.keys = list(params)  # W1, b1, ..., WL, bL
        sizes = [params[k].size for k in self.keys]
        total = sum(sizes)
        self._flat = np.empty(total, self.dtype)  # every parameter, one vector
        self._grad = np.zeros(total, self.dtype)  # their gradients, same layout
        self._m = np.zeros(total, self.dtype)  # Adam's first moment
        self._v = np.zeros(total, self.dtype)  # Adam's second moment
        self._s1 = np.empty(total, self.dtype)  # scratch
        self._s2 = np.empty(total, self.dtype)  # scratch
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._scratch: dict[str, np.ndarray] = {}
        start = 0
        for k, size in zip(self.keys, sizes, strict=True):
            shape = params[k].shape
            self.params[k] = self._flat[start:start + size].reshape(shape)
            self.params[k][...] = params[k]
            self.grads[k] = self._grad[start:start + size].reshape(shape)
            self._scratch[k] = self._s1[start:start + size].reshape(shape)
            start += size
        self.t = 0
        self._buffers: dict[int, _Buffers] = {}
        self.sections: dict[str, float] | None = None
        self._last = 0.0
        self.input_grad = False
        self.fused_adam = True
        self._configs: dict[str, dict] = {}  # the reference adam's, when not fused

    # ------------------------------------------------------------------ timing hook

    def _tick(self, part: str) -> None:
        """Add the seconds since the last tick to ``sections[part]`` (when profiling)."""
        if self.sections is not None:
            now = time.perf_counter()
            self.sections[part] = self.sections.get(part, 0.0) + now - self._last
            self._last = now

    def _start_clock(self) -> None:
        if self.sections is not None:
            self._last = time.perf_counter()

    # ------------------------------------------------------------------ the step

    def _buf(self, n: int) -> _Buffers:
        if n not in self._buffers:
            self._buffers[n] = _Buffers(self.layer_dims, n, self.dtype)
        return self._buffers[n]

    def _forward(self, X: np.ndarray, buf: _Buffers) -> np.ndarray:
        """Scores (N, C) in ``buf.z[L]``; hidden activations, ReLU applied, in z[1..L-1]."""
        h = X
        for i in range(1, self.L + 1):
            z = buf.z[i]  # (N, d_i)
            np.matmul(h, self.params[f"W{i}"], out=z)
            self._tick("gemm")
            z += self.params[f"b{i}"]
            if i < self.L:
                np.maximum(z, 0, out=z)
            self._tick("elementwise")
            h = z
        return buf.z[self.L]

    def _softmax_ce(self, scores: np.ndarray, y: np.ndarray, buf: _Buffers) -> float:
        """The mean cross-entropy; ``scores`` becomes d loss / d scores in place."""
        n = scores.shape[0]
        np.max(scores, axis=1, keepdims=True, out=buf.rowmax)
        scores -= buf.rowmax  # each row's maximum is 0
        picked = scores[buf.rows, y].sum()  # the labels' shifted logits
        np.exp(scores, out=scores)
        np.sum(scores, axis=1, keepdims=True, out=buf.sumexp)  # (N, 1)
        loss = (np.log(buf.sumexp).sum() - picked) / n
        buf.sumexp *= n
        scores /= buf.sumexp  # softmax / N
        scores[buf.rows, y] -= 1.0 / n
        return float(loss)

    def _backward(self, X: np.ndarray, buf: _Buffers) -> None:
        """Every gradient into ``self.grads`` from d scores in ``buf.z[L]`` (no dX)."""
        dz = buf.z[self.L]  # (N, C)
        for i in range(self.L, 0, -1):
            h_prev = X if i == 1 else buf.z[i - 1]  # (N, d_{i-1})
            np.matmul(h_prev.T, dz, out=self.grads[f"W{i}"])
            self._tick("gemm")
            np.sum(dz, axis=0, out=self.grads[f"b{i}"])
            if self.reg:
                w, s = self.params[f"W{i}"], self._scratch[f"W{i}"]
                np.multiply(w, self.reg, out=s)
                self.grads[f"W{i}"] += s  # + reg * W
            self._tick("elementwise")
            if i == 1 and self.input_grad:  # the dX nobody needs (attempts only)
                np.matmul(dz, self.params["W1"].T, out=buf.dh[0])
                self._tick("gemm")
            if i >= 2:
                dh = buf.dh[i - 1]  # (N, d_{i-1})
                np.matmul(dz, self.params[f"W{i}"].T, out=dh)
                self._tick("gemm")
                np.greater(buf.z[i - 1], 0, out=buf.mask[i - 1])
                np.multiply(dh, buf.mask[i - 1], out=dh)  # through the ReLU
                self._tick("elementwise")
                dz = dh

    def _l2(self) -> float:
        if not self.reg:
            return 0.0
        total = sum(float(np.vdot(self.params[f"W{i}"], self.params[f"W{i}"]))
                    for i in range(1, self.L + 1))
        return 0.5 * self.reg * total

    def _reference_adam(self) -> None:
        """The reference's ``adam``, one parameter at a time (``fused_adam = False``)."""
        from dlparity.reference.optim import adam

        for k, w in self.params.items():
            config = self._configs.setdefault(k, dict(self.optim_config))
            w[...], _ = adam(w, self.grads[k], config)
        self._tick("optimizer")

    def _adam(self) -> None:
        """SPEC's Adam on the flat vector, in the reference's order of operations."""
        if not self.fused_adam:
            return self._reference_adam()
        c = self.optim_config
        lr, b1, b2, eps = c["learning_rate"], c["beta1"], c["beta2"], c["epsilon"]
        self.t += 1
        g, m, v, s1, s2 = self._grad, self._m, self._v, self._s1, self._s2
        m *= b1
        np.multiply(g, 1 - b1, out=s1)
        m += s1  # m = b1 * m + (1 - b1) * g
        v *= b2
        np.multiply(g, g, out=s1)
        s1 *= 1 - b2
        v += s1  # v = b2 * v + (1 - b2) * g * g
        np.sqrt(v, out=s1)
        s1 /= math.sqrt(1 - b2**self.t)
        s1 += eps  # sqrt(v_hat) + eps
        np.multiply(m, lr / (1 - b1**self.t), out=s2)
        s2 /= s1  # lr * m_hat / (sqrt(v_hat) + eps)
        self._flat -= s2
        self._tick("optimizer")

    def loss_and_grads(self, X: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """The training loss and every gradient (views of the trainer's buffer: copy them
        to keep them past the next step); no update. X (N, D) and y (N,) as checked."""
        self._start_clock()
        buf = self._buf(X.shape[0])
        scores = self._forward(X, buf)  # (N, C)
        loss = self._softmax_ce(scores, y, buf) + self._l2()
        self._tick("elementwise")
        self._backward(X, buf)
        return loss, self.grads

    def _step(self, X: np.ndarray, y: np.ndarray) -> float:
        loss, _ = self.loss_and_grads(X, y)
        self._adam()
        return loss

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return self._forward(X, self._buf(X.shape[0])).copy()  # (N, C)

    def _export(self) -> dict[str, np.ndarray]:
        return {k: w.copy() for k, w in self.params.items()}

