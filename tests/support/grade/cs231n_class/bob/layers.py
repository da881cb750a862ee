"""Bob's layers: db averaged over the batch; relu_forward always returns float64."""

import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.mean(axis=0)  # BUG: the sum, not the mean
    return dx, dw, db


def relu_forward(x):
    out = np.maximum(0.0, x).astype(np.float64)  # BUG: float32 in, float64 out
    return out, x


def relu_backward(dout, cache):
    return dout * (cache > 0)
