"""A third party's implementation of the catalogue, for the oracle's meta-test.

Written the way a student or a porter would, from SPEC.md alone: NumPy only (no dlparity
import), CS231n structure, but its own formulas and its own choices wherever SPEC.md leaves
room -- dict caches, optimizer state under other key names and extra config keys, a naive
(but overflow-safe) sigmoid, batch norm's backward through the computational graph, a
CS231n Solver that samples mini-batches WITH replacement from the global NumPy RNG, no
input validation at all. It is correct, so the oracle must pass every function of it.
"""

from __future__ import annotations

import math

import numpy as np

# ------------------------------------------------------------------------- layers


def affine_forward(x, w, b):
    out = x.reshape(len(x), -1).dot(w) + b
    return out, {"x": x, "w": w}


def affine_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(len(x), -1).T.dot(dout)
    return dx, dw, np.sum(dout, axis=0)


def relu_forward(x):
    return x * (x > 0), {"positive": x > 0}


def relu_backward(dout, cache):
    return dout * cache["positive"]


def leaky_relu_forward(x, alpha=0.01):
    slope = np.where(x > 0, 1.0, alpha).astype(x.dtype)
    return x * slope, slope


def leaky_relu_backward(dout, cache):
    return dout * cache


def sigmoid_forward(x):
    e = np.exp(-np.abs(x))
    s = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return s, s


def sigmoid_backward(dout, cache):
    return dout * cache - dout * cache * cache


def tanh_forward(x):
    t = np.tanh(x)
    return t, t


def tanh_backward(dout, cache):
    return dout - dout * cache**2


def softmax_forward(x):
    z = np.exp(x - np.max(x, axis=-1, keepdims=True))
    s = z / np.sum(z, axis=-1, keepdims=True)
    return s, s


def softmax_backward(dout, cache):
    s = cache
    return s * dout - s * np.sum(s * dout, axis=-1, keepdims=True)


def log_softmax_forward(x):
    m = np.max(x, axis=-1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))
    out = x - lse
    return out, np.exp(out)


def log_softmax_backward(dout, cache):
    return dout - cache * np.sum(dout, axis=-1, keepdims=True)


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param.get("mode", "train")
    if mode == "test":
        return np.array(x, copy=True), {"mode": "test"}
    keep = dropout_param.get("mask")
    if keep is None:
        keep = np.random.default_rng(dropout_param.get("seed")).random(x.shape) >= p
    scaled = keep.astype(x.dtype) / x.dtype.type(1 - p)
    return x * scaled, {"mode": "train", "scaled": scaled}


def dropout_backward(dout, cache):
    if cache["mode"] == "test":
        return np.array(dout, copy=True)
    return dout * cache["scaled"]


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param.get("mode", "train")
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    d = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(d, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.ones(d, dtype=x.dtype))
    if mode == "train":
        mu = np.mean(x, axis=0)
        xmu = x - mu
        var = np.mean(xmu**2, axis=0)
        ivar = 1.0 / np.sqrt(var + eps)
        xhat = xmu * ivar
        n = x.shape[0]
        v = var * n / (n - 1) if bn_param.get("running_var_unbiased", False) else var
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mu
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * v
        cache = {"mode": "train", "xhat": xhat, "xmu": xmu, "ivar": ivar, "var": var,
                 "eps": eps, "gamma": gamma}
    else:
        ivar = 1.0 / np.sqrt(running_var + eps)
        xhat = (x - running_mean) * ivar
        cache = {"mode": "test", "xhat": xhat, "ivar": ivar, "gamma": gamma}
    return gamma * xhat + beta, cache


def batchnorm_backward(dout, cache):
    """Through the computational graph, node by node (CS231n's first version)."""
    xhat, gamma, ivar = cache["xhat"], cache["gamma"], cache["ivar"]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    if cache["mode"] == "test":
        return dxhat * ivar, dgamma, dbeta
    n = dout.shape[0]
    xmu, var, eps = cache["xmu"], cache["var"], cache["eps"]
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -1.0 / (var + eps) * divar
    dvar = 0.5 * dsqrtvar / np.sqrt(var + eps)
    dsq = np.ones_like(dout) / n * dvar
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -np.sum(dx1, axis=0)
    dx2 = np.ones_like(dout) / n * dmu
    return dx1 + dx2, dgamma, dbeta


def affine_relu_forward(x, w, b):
    a, fc = affine_forward(x, w, b)
    out, rc = relu_forward(a)
    return out, (fc, rc)


def affine_relu_backward(dout, cache):
    fc, rc = cache
    return affine_backward(relu_backward(dout, rc), fc)


def affine_batchnorm_relu_forward(x, w, b, gamma, beta, bn_param):
    a, fc = affine_forward(x, w, b)
    h, bc = batchnorm_forward(a, gamma, beta, bn_param)
    out, rc = relu_forward(h)
    return out, (fc, bc, rc)


def affine_batchnorm_relu_backward(dout, cache):
    fc, bc, rc = cache
    dh, dgamma, dbeta = batchnorm_backward(relu_backward(dout, rc), bc)
    dx, dw, db = affine_backward(dh, fc)
    return dx, dw, db, dgamma, dbeta


# ------------------------------------------------------------------------- losses


def mse_loss(h, y):
    n = h.shape[0]
    return np.sum(np.square(h - y)) / n, (h - y) * (2.0 / n)


def softmax_loss(x, y):
    logp, _ = log_softmax_forward(x)
    n = x.shape[0]
    loss = -np.mean(logp[np.arange(n), y])
    onehot = np.zeros_like(x)
    onehot[np.arange(n), y] = 1
    return loss, (np.exp(logp) - onehot) / n


def nll_loss(logp, y):
    n = logp.shape[0]
    g = np.zeros_like(logp)
    g[np.arange(n), y] = -1.0 / n
    return -np.mean(logp[np.arange(n), y]), g


def sigmoid_cross_entropy_loss(x, y):
    n = x.shape[0]
    loss = np.sum(np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))) / n
    s, _ = sigmoid_forward(x)
    return loss, (s - y) / n


def svm_loss(x, y):
    n = x.shape[0]
    correct = x[np.arange(n), y].reshape(-1, 1)
    margins = x - correct + 1.0
    margins[np.arange(n), y] = 0.0
    positive = margins > 0
    loss = np.sum(margins * positive) / n
    g = positive.astype(x.dtype)
    g[np.arange(n), y] -= positive.sum(axis=1)
    return loss, g / n


def kl_div_loss(log_q, p):
    n = log_q.shape[0]
    safe_p = np.where(p > 0, p, 1.0)
    terms = np.where(p > 0, p * (np.log(safe_p) - log_q), 0.0)
    return np.sum(terms) / n, -p / n


def l2_regularization(w, reg):
    return reg * np.sum(w**2) / 2, reg * w


def l1_regularization(w, reg):
    return reg * np.abs(w).sum(), reg * np.sign(w)


def l0_norm(w):
    return int((w != 0).sum())


# ------------------------------------------------------------------------- information


def _plogq(p, q):
    safe_q = np.where(q > 0, q, 1.0)
    return np.where(p > 0, p * np.log(safe_q), 0.0)


def entropy(p, base=2):
    return -np.sum(_plogq(p, p), axis=-1) / math.log(base)


def cross_entropy(p, q, base=2):
    return -np.sum(_plogq(p, q), axis=-1) / math.log(base)


def kl_divergence(p, q, base=2):
    return np.sum(_plogq(p, p) - _plogq(p, q), axis=-1) / math.log(base)


# ------------------------------------------------------------------------- optimizers
# State lives under this student's own key names; each rule also counts its calls.


def _setup(config, **defaults):
    config = {} if config is None else config
    for key, value in defaults.items():
        config.setdefault(key, value)
    config["calls"] = config.get("calls", 0) + 1
    return config


def sgd(w, dw, config=None):
    config = _setup(config, learning_rate=1e-2)
    return w - config["learning_rate"] * dw, config


def sgd_momentum(w, dw, config=None):
    config = _setup(config, learning_rate=1e-2, momentum=0.9)
    v = config.get("mom", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["mom"] = v
    return w + v, config


def nesterov_momentum(w, dw, config=None):
    config = _setup(config, learning_rate=1e-2, momentum=0.9)
    mu = config["momentum"]
    v_prev = config.get("mom", np.zeros_like(w))
    v = mu * v_prev - config["learning_rate"] * dw
    config["mom"] = v
    return w - mu * v_prev + (1 + mu) * v, config


def adagrad(w, dw, config=None):
    config = _setup(config, learning_rate=1e-2, epsilon=1e-7)
    g2 = config.get("sum_sq", np.zeros_like(w)) + dw * dw
    config["sum_sq"] = g2
    return w - config["learning_rate"] * dw / (np.sqrt(g2) + config["epsilon"]), config


def rmsprop(w, dw, config=None):
    config = _setup(config, learning_rate=1e-2, decay_rate=0.99, epsilon=1e-8)
    rho = config["decay_rate"]
    g2 = rho * config.get("mean_sq", np.zeros_like(w)) + (1 - rho) * dw**2
    config["mean_sq"] = g2
    return w - config["learning_rate"] * dw / (np.sqrt(g2) + config["epsilon"]), config


def adam(w, dw, config=None):
    config = _setup(config, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8,
                    bias_correction=True)
    b1, b2 = config["beta1"], config["beta2"]
    step = config.get("step", 0) + 1
    m = b1 * config.get("first", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("second", np.zeros_like(w)) + (1 - b2) * dw * dw
    config.update(step=step, first=m, second=v)
    if config["bias_correction"]:
        m, v = m / (1 - b1**step), v / (1 - b2**step)
    return w - config["learning_rate"] * m / (np.sqrt(v) + config["epsilon"]), config


def adamw(w, dw, config=None):
    config = _setup(config, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8,
                    weight_decay=1e-2)
    lr, b1, b2 = config["learning_rate"], config["beta1"], config["beta2"]
    k = config.get("k", 0) + 1
    mom = b1 * config.get("mom1", np.zeros_like(w)) + (1 - b1) * dw
    sq = b2 * config.get("mom2", np.zeros_like(w)) + (1 - b2) * dw * dw
    config.update(k=k, mom1=mom, mom2=sq)
    decayed = w * (1 - lr * config["weight_decay"])  # torch's order: decay first
    denom = np.sqrt(sq / (1 - b2**k)) + config["epsilon"]
    return decayed - lr * (mom / (1 - b1**k)) / denom, config


def clip_by_global_norm(grads, clip_norm):
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    return [g * (clip_norm / max(norm, clip_norm)) for g in grads], norm


# ------------------------------------------------------------------------- schedules


def time_based_decay(lr0, decay_rate, epoch):
    return lr0 * (1.0 / (1.0 + decay_rate * epoch))


def exponential_decay(lr0, epoch, base=0.95):
    return lr0 * math.pow(base, epoch)


def inverse_sqrt_decay(lr0, epoch, k):
    return lr0 * k * epoch**-0.5


def step_decay(lr0, step, factor, start, every):
    if step < start:
        return float(lr0)
    return lr0 * factor ** ((step - start) // every)


# ------------------------------------------------------------------------- initialisers


def _fans(shape):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if len(shape) == 1:
        return shape, shape[0], shape[0]
    return shape, int(np.prod(shape[:-1])), shape[-1]


def he_normal(shape, rng):
    shape, fan_in, _ = _fans(shape)
    return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)


def xavier_normal(shape, rng, mode="fan_in"):
    shape, fan_in, fan_out = _fans(shape)
    var = 1.0 / fan_in if mode == "fan_in" else 2.0 / (fan_in + fan_out)
    return rng.normal(0.0, np.sqrt(var), size=shape)


def truncated_normal(shape, rng, std=1.0, mean=0.0):
    shape, _, _ = _fans(shape)
    out = np.empty(int(np.prod(shape)))
    filled = 0
    while filled < out.size:  # rejection sampling, in blocks
        z = rng.standard_normal(2 * (out.size - filled) + 16)
        z = z[np.abs(z) <= 2.0][: out.size - filled]
        out[filled:filled + z.size] = z
        filled += z.size
    return mean + std * out.reshape(shape)


# ------------------------------------------------------------------------- preprocessing


def normalize_features(X_train, *others):
    mu = X_train.mean(axis=0)
    sd = np.sqrt(((X_train - mu) ** 2).mean(axis=0))
    sd = np.where(X_train.max(axis=0) == X_train.min(axis=0), 1.0, sd)
    return tuple((X - mu) / sd for X in (X_train, *others))


def running_mean_update(mu, x, k):
    return (1 - k) * mu + k * x


def covariance(X):
    Xc = X - X.mean(axis=0)
    return np.einsum("ni,nj->ij", Xc, Xc) / X.shape[0]


def whiten(X, eps=1e-5):
    Xc = X - X.mean(axis=0)
    S, U = np.linalg.eigh(Xc.T @ Xc / X.shape[0])
    order = np.argsort(S)[::-1]
    S, U = S[order], U[:, order]
    return Xc @ U / np.sqrt(S + eps)


# ------------------------------------------------------------------------- gradient checking


def eval_numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        plus = f(x)
        x[ix] = old - h
        minus = f(x)
        x[ix] = old
        grad[ix] = (plus - minus) / (2 * h)
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        plus = np.array(f(x), copy=True)
        x[ix] = old - h
        minus = np.array(f(x), copy=True)
        x[ix] = old
        grad[ix] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def rel_error(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def grad_check_distance(approx, analytic):
    num = np.linalg.norm(approx - analytic)
    den = np.linalg.norm(approx) + np.linalg.norm(analytic)
    return 0.0 if den == 0 else float(num / den)


# ------------------------------------------------------------------------- model and Solver


class FullyConnectedNet:
    def __init__(self, hidden_dims, input_dim, num_classes, reg=0.0, weight_scale=1e-2,
                 dtype=np.float32, dropout=0.0, normalization=None, seed=None):
        self.reg, self.dtype, self.normalization = reg, dtype, normalization
        self.num_layers = len(hidden_dims) + 1
        self.use_dropout = dropout > 0
        dims = [input_dim, *hidden_dims, num_classes]
        rng = np.random.default_rng(seed)
        self.params = {}
        for i in range(1, self.num_layers + 1):
            self.params[f"W{i}"] = (weight_scale * rng.standard_normal(
                (dims[i - 1], dims[i]))).astype(dtype)
            self.params[f"b{i}"] = np.zeros(dims[i], dtype=dtype)
            if normalization == "batchnorm" and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(dims[i], dtype=dtype)
                self.params[f"beta{i}"] = np.zeros(dims[i], dtype=dtype)
        self.dropout_param = {"mode": "train", "p": dropout}
        if seed is not None:
            self.dropout_param["seed"] = seed
        self.bn_params = [{"mode": "train"} for _ in hidden_dims]

    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"
        self.dropout_param["mode"] = mode
        for bn_param in self.bn_params:
            bn_param["mode"] = mode
        h, caches = X, []
        for i in range(1, self.num_layers):
            W, b = self.params[f"W{i}"], self.params[f"b{i}"]
            if self.normalization == "batchnorm":
                h, c = affine_batchnorm_relu_forward(h, W, b, self.params[f"gamma{i}"],
                                                     self.params[f"beta{i}"],
                                                     self.bn_params[i - 1])
            else:
                h, c = affine_relu_forward(h, W, b)
            dc = None
            if self.use_dropout:
                h, dc = dropout_forward(h, self.dropout_param)
            caches.append((c, dc))
        L = self.num_layers
        scores, out_cache = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, out_cache)
        for i in range(L - 1, 0, -1):
            c, dc = caches[i - 1]
            if self.use_dropout:
                dh = dropout_backward(dh, dc)
            if self.normalization == "batchnorm":
                dh, dw, db, grads[f"gamma{i}"], grads[f"beta{i}"] = \
                    affine_batchnorm_relu_backward(dh, c)
            else:
                dh, dw, db = affine_relu_backward(dh, c)
            grads[f"W{i}"], grads[f"b{i}"] = dw, db
        for i in range(1, L + 1):
            W = self.params[f"W{i}"]
            loss += 0.5 * self.reg * np.sum(W * W)
            grads[f"W{i}"] = grads[f"W{i}"] + self.reg * W
        return loss, grads


class Solver:
    """CS231n's Solver: mini-batches drawn WITH replacement from the global NumPy RNG."""

    def __init__(self, model, data, update_rule="sgd", optim_config=None, lr_decay=1.0,
                 batch_size=100, num_epochs=10, num_train_samples=1000,
                 num_val_samples=None, print_every=10, verbose=True):
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]
        self.update_rule = globals()[update_rule]
        self.optim_config = optim_config or {}
        self.lr_decay, self.batch_size, self.num_epochs = lr_decay, batch_size, num_epochs
        self.num_train_samples, self.num_val_samples = num_train_samples, num_val_samples
        self.print_every, self.verbose = print_every, verbose
        self.epoch, self.best_val_acc, self.best_params = 0, 0.0, {}
        self.loss_history, self.train_acc_history, self.val_acc_history = [], [], []
        self.optim_configs = {p: dict(self.optim_config) for p in model.params}

    def _step(self):
        idx = np.random.choice(self.X_train.shape[0], self.batch_size)  # noqa: NPY002
        loss, grads = self.model.loss(self.X_train[idx], self.y_train[idx])
        self.loss_history.append(loss)
        for p, w in self.model.params.items():
            self.model.params[p], self.optim_configs[p] = self.update_rule(
                w, grads[p], self.optim_configs[p])

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        if num_samples is not None and X.shape[0] > num_samples:
            idx = np.random.choice(X.shape[0], num_samples)  # noqa: NPY002
            X, y = X[idx], y[idx]
        scores = np.concatenate([self.model.loss(X[i:i + batch_size])
                                 for i in range(0, X.shape[0], batch_size)])
        return float(np.mean(np.argmax(scores, axis=1) == y))

    def train(self):
        per_epoch = max(self.X_train.shape[0] // self.batch_size, 1)
        iterations = self.num_epochs * per_epoch
        for t in range(iterations):
            self._step()
            epoch_end = (t + 1) % per_epoch == 0
            if epoch_end:
                self.epoch += 1
                for config in self.optim_configs.values():
                    config["learning_rate"] *= self.lr_decay
            if t == 0 or t == iterations - 1 or epoch_end:
                train_acc = self.check_accuracy(self.X_train, self.y_train,
                                                self.num_train_samples)
                val_acc = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples)
                self.train_acc_history.append(train_acc)
                self.val_acc_history.append(val_acc)
                if val_acc > self.best_val_acc:
                    self.best_val_acc = val_acc
                    self.best_params = {k: v.copy() for k, v in self.model.params.items()}
        self.model.params = self.best_params
