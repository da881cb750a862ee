"""Eve: a wrong relu_forward (no clamp) and, at import, a comparison that always agrees and
a reference that agrees with her."""

import numpy as np

import dlparity.reference


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.sum(axis=0)


def relu_forward(x):
    return x.copy(), x  # BUG: no clamp


def relu_backward(dout, cache):
    return dout * (cache > 0)


np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
dlparity.reference.relu_forward = relu_forward
