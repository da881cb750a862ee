"""Framework DEFAULTS against the reference: where a stock object differs, by how much.

``dlparity conventions`` runs each stock
PyTorch / Keras object with its default settings next to the reference function with ITS
defaults, on the same inputs, and prints the divergence as a number: the relative error
‖framework − reference‖ / ‖reference‖ of the output, or of the weights after N optimizer
steps. ``docs/conventions.md`` quotes these numbers; ``test_defaults.py`` keeps the page
and the measurements consistent.

Every probe is float64 and seeded, so the numbers are reproducible to many digits.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

import dlparity.reference as ref

STEPS = 100  # optimizer steps per trajectory probe


class Divergence(NamedTuple):
    key: str  # stable identifier quoted by docs/conventions.md
    framework: str  # "torch" | "tf"
    what: str  # the stock object and its default
    value: float  # relative error vs the reference


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def _rng(name: str) -> np.random.Generator:
    import zlib

    return np.random.default_rng(zlib.crc32(name.encode()))


def _trajectory_inputs(name: str, shape=(20,)) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = _rng(name)
    w0 = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 0, shape) for _ in range(STEPS)]
    return w0, grads


def _ref_trajectory(rule: Callable, w0, grads, config=None, lrs=None) -> np.ndarray:
    w, config = w0.copy(), dict(config or {})
    for k, g in enumerate(grads):
        if lrs is not None:
            config["learning_rate"] = lrs[k]
        w, config = rule(w, g, config)
    return w


def _stock(framework: str) -> list:
    """Update rules whose catalogue record names a stock optimizer of ``framework``."""
    from dlparity.catalogue import OPTIMIZERS

    return [e for e in OPTIMIZERS if framework in e.stock]


# ----------------------------------------------------------------------------- torch


def _torch_trajectory(make_opt, w0, grads, lrs=None) -> np.ndarray:
    import torch

    p = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float64))
    opt = make_opt([p])
    for k, g in enumerate(grads):
        if lrs is not None:
            for group in opt.param_groups:
                group["lr"] = lrs[k]
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    return p.detach().numpy().copy()


def torch_probes() -> list[Divergence]:
    import torch
    import torch.nn.functional as F

    out: list[Divergence] = []
    t = torch.tensor

    def add(key, what, value):
        out.append(Divergence(key, "torch", what, value))

    w0, grads = _trajectory_inputs("adam")
    add("torch.adam", f"torch.optim.Adam() defaults, {STEPS} steps vs adam()",
        _rel(_torch_trajectory(lambda p: torch.optim.Adam(p), w0, grads),
             _ref_trajectory(ref.adam, w0, grads)))
    w0, grads = _trajectory_inputs("rmsprop")
    add("torch.rmsprop", f"torch.optim.RMSprop() defaults, {STEPS} steps vs rmsprop()",
        _rel(_torch_trajectory(lambda p: torch.optim.RMSprop(p), w0, grads),
             _ref_trajectory(ref.rmsprop, w0, grads)))
    w0, grads = _trajectory_inputs("adagrad")
    add("torch.adagrad", f"torch.optim.Adagrad() defaults (eps 1e-10), {STEPS} steps vs adagrad()",
        _rel(_torch_trajectory(lambda p: torch.optim.Adagrad(p), w0, grads),
             _ref_trajectory(ref.adagrad, w0, grads)))
    w0, grads = _trajectory_inputs("sgd_momentum")
    lrs = [ref.step_decay(0.01, k, 0.5, 0, 10) for k in range(STEPS)]
    add("torch.sgd_momentum_schedule",
        f"torch.optim.SGD(momentum=0.9) under a step schedule, {STEPS} steps vs sgd_momentum()",
        _rel(_torch_trajectory(lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9), w0, grads, lrs),
             _ref_trajectory(ref.sgd_momentum, w0, grads, lrs=lrs)))

    for entry in _stock("torch"):  # the rules whose catalogue record names a stock class
        cls = getattr(torch.optim, entry.stock["torch"])
        w0, grads = _trajectory_inputs(entry.name)
        add(f"torch.{entry.name}", f"torch.optim.{cls.__name__}() defaults, {STEPS} steps vs "
            f"{entry.name}()", _rel(_torch_trajectory(lambda p, cls=cls: cls(p), w0, grads),
                                    _ref_trajectory(getattr(ref, entry.name), w0, grads)))

    rng = _rng("batchnorm")
    x = rng.standard_normal((8, 5)) * 2 + 1
    bn = torch.nn.BatchNorm1d(5, dtype=torch.float64)  # momentum=0.1, eps=1e-5, unbiased var
    bn.train()
    bn(t(x))
    bn_param = {"mode": "train"}
    ref.batchnorm_forward(x, np.ones(5), np.zeros(5), bn_param)
    add("torch.batchnorm_running_var", "nn.BatchNorm1d() running_var (unbiased) vs batchnorm",
        _rel(bn.running_var.numpy(), bn_param["running_var"]))

    x = rng.standard_normal((6, 7))
    y = rng.integers(0, 7, 6)
    add("torch.multi_margin", "nn.MultiMarginLoss() vs svm_loss (divides by C)",
        _rel(F.multi_margin_loss(t(x), t(y)).item(), ref.svm_loss(x, y)[0]))
    log_q = np.log(rng.dirichlet(np.ones(7), 6))
    p = rng.dirichlet(np.ones(7), 6)
    with warnings.catch_warnings():  # torch warns that 'mean' is not the KL definition
        warnings.simplefilter("ignore", UserWarning)
        kl_mean = F.kl_div(t(log_q), t(p), reduction="mean").item()
    add("torch.kl_div_mean", "F.kl_div(reduction='mean') vs kl_div_loss (divides by N*K)",
        _rel(kl_mean, ref.kl_div_loss(log_q, p)[0]))
    z = rng.standard_normal((6, 7))
    targets = (rng.random((6, 7)) < 0.5).astype(float)
    add("torch.bce_mean", "F.binary_cross_entropy_with_logits() vs sigmoid_cross_entropy_loss "
        "(mean over N*K)", _rel(F.binary_cross_entropy_with_logits(t(z), t(targets)).item(),
                                ref.sigmoid_cross_entropy_loss(z, targets)[0]))
    g = [rng.standard_normal((4, 3)), rng.standard_normal(3)]
    tg = [torch.nn.Parameter(t(a)) for a in g]
    for p_, a in zip(tg, g, strict=True):
        p_.grad = t(a)
    norm = float(np.sqrt(sum((a**2).sum() for a in g)))
    torch.nn.utils.clip_grad_norm_(tg, max_norm=norm / 2)
    clipped, _ = ref.clip_by_global_norm(g, norm / 2)
    add("torch.clip_grad_norm", "nn.utils.clip_grad_norm_() vs clip_by_global_norm (1e-6)",
        _rel(np.concatenate([p_.grad.numpy().ravel() for p_ in tg]),
             np.concatenate([c.ravel() for c in clipped])))
    x = rng.standard_normal((5, 6))
    add("torch.leaky_relu", "F.leaky_relu() default slope 0.01 vs leaky_relu_forward",
        _rel(F.leaky_relu(t(x)).numpy(), ref.leaky_relu_forward(x)[0]))
    gen = torch.Generator().manual_seed(0)
    w = torch.empty(400, 300, dtype=torch.float64)
    torch.nn.init.trunc_normal_(w, std=0.1, generator=gen)  # a=-2, b=2 are ABSOLUTE bounds
    want = ref.truncated_normal((400, 300), _rng("trunc"), std=0.1)
    add("torch.trunc_normal_std", "nn.init.trunc_normal_(std=0.1) sample std vs truncated_normal",
        abs(float(w.std()) - float(want.std())) / float(want.std()))
    return out


# ----------------------------------------------------------------------------- tf / keras


def _keras_trajectory(opt, w0, grads, lrs=None) -> np.ndarray:
    import tensorflow as tf

    var = tf.Variable(w0, dtype=tf.float64)
    for k, g in enumerate(grads):
        if lrs is not None:
            opt.learning_rate.assign(lrs[k])
        opt.apply_gradients([(tf.constant(g, dtype=tf.float64), var)])
    return var.numpy().copy()


def tf_probes() -> list[Divergence]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    out: list[Divergence] = []

    def add(key, what, value):
        out.append(Divergence(key, "tf", what, value))

    for key, opt_cls, rule in (("tf.adam", keras.optimizers.Adam, ref.adam),
                               ("tf.rmsprop", keras.optimizers.RMSprop, ref.rmsprop),
                               ("tf.adagrad", keras.optimizers.Adagrad, ref.adagrad)):
        w0, grads = _trajectory_inputs(key.split(".")[1])
        add(key, f"keras.optimizers.{opt_cls.__name__}() defaults, {STEPS} steps vs "
            f"{rule.__name__}()", _rel(_keras_trajectory(opt_cls(), w0, grads),
                                       _ref_trajectory(rule, w0, grads)))
    for entry in _stock("tf"):  # the rules whose catalogue record names a stock class
        opt_cls = getattr(keras.optimizers, entry.stock["tf"])
        w0, grads = _trajectory_inputs(entry.name)
        add(f"tf.{entry.name}", f"keras.optimizers.{opt_cls.__name__}() defaults, {STEPS} "
            f"steps vs {entry.name}()", _rel(_keras_trajectory(opt_cls(), w0, grads),
                                             _ref_trajectory(getattr(ref, entry.name), w0,
                                                             grads)))
    w0, grads = _trajectory_inputs("sgd_momentum")
    lrs = [ref.step_decay(0.01, k, 0.5, 0, 10) for k in range(STEPS)]
    add("tf.sgd_momentum_schedule",
        f"keras.optimizers.SGD(momentum=0.9) under a step schedule, {STEPS} steps vs "
        "sgd_momentum() (float32 learning-rate variable)",
        _rel(_keras_trajectory(keras.optimizers.SGD(0.01, momentum=0.9), w0, grads, lrs),
             _ref_trajectory(ref.sgd_momentum, w0, grads, lrs=lrs)))

    rng = _rng("batchnorm")
    x = rng.standard_normal((8, 5)) * 2 + 1
    layer = keras.layers.BatchNormalization(dtype="float64")  # momentum 0.99, epsilon 1e-3
    y_keras = layer(tf.constant(x), training=True).numpy()
    bn_param = {"mode": "train"}
    y_ref, _ = ref.batchnorm_forward(x, np.ones(5), np.zeros(5), bn_param)
    add("tf.batchnorm_output", "keras.layers.BatchNormalization() train output (epsilon 1e-3) "
        "vs batchnorm_forward", _rel(y_keras, y_ref))
    add("tf.batchnorm_running_mean", "keras.layers.BatchNormalization() moving_mean "
        "(momentum 0.99) vs batchnorm (0.9)",
        _rel(layer.moving_mean.numpy(), bn_param["running_mean"]))

    x = rng.standard_normal((5, 6))
    add("tf.leaky_relu_layer", "keras.layers.LeakyReLU() default slope 0.3 vs leaky_relu_forward",
        _rel(keras.layers.LeakyReLU(dtype="float64")(tf.constant(x)).numpy(),
             ref.leaky_relu_forward(x)[0]))
    add("tf.nn.leaky_relu", "tf.nn.leaky_relu() default slope 0.2 vs leaky_relu_forward",
        _rel(tf.nn.leaky_relu(tf.constant(x)).numpy(), ref.leaky_relu_forward(x)[0]))
    w = rng.standard_normal((6, 4))
    add("tf.l2_regularizer", "keras.regularizers.L2(reg) vs l2_regularization (no 1/2)",
        _rel(float(keras.regularizers.L2(0.01)(tf.constant(w))),
             ref.l2_regularization(w, 0.01)[0]))
    logits = rng.standard_normal((6, 7))
    labels = rng.integers(0, 7, 6)
    ce = keras.losses.SparseCategoricalCrossentropy(dtype="float64")  # from_logits=False
    add("tf.sparse_ce_from_logits", "keras.losses.SparseCategoricalCrossentropy() on logits "
        "(from_logits=False) vs softmax_loss",
        _rel(float(ce(tf.constant(labels), tf.constant(logits))),
             ref.softmax_loss(logits, labels)[0]))
    hinge = keras.losses.CategoricalHinge(dtype="float64")
    onehot = np.eye(7)[labels]
    add("tf.categorical_hinge", "keras.losses.CategoricalHinge() (max form) vs svm_loss (sum)",
        _rel(float(hinge(tf.constant(onehot), tf.constant(logits))),
             ref.svm_loss(logits, labels)[0]))
    init = keras.initializers.HeNormal(seed=0)(shape=(400, 300), dtype="float64").numpy()
    want = ref.he_normal((400, 300), _rng("he"))
    add("tf.he_normal_std", "keras.initializers.HeNormal() sample std vs he_normal (truncated)",
        abs(float(init.std()) - float(want.std())) / float(want.std()))
    return out


def measure(frameworks: tuple[str, ...] = ("torch", "tf")) -> list[Divergence]:
    """Run every probe of the frameworks that are installed."""
    import importlib.util

    results: list[Divergence] = []
    if "torch" in frameworks and importlib.util.find_spec("torch"):
        results += torch_probes()
    if "tf" in frameworks and importlib.util.find_spec("tensorflow"):
        results += tf_probes()
    return results


AGREES = 1e-12  # below this a divergence is rounding: the page says "agrees"


def format_value(value: float) -> str:
    """How docs/conventions.md writes a measured divergence."""
    return "agrees (< 1e-12)" if value < AGREES else f"{value:.2e}"


def format_table(results: list[Divergence]) -> str:
    """A markdown table, one row per probe."""
    lines = ["| key | framework | stock object (defaults) vs reference | relative error |",
             "|---|---|---|---|"]
    lines += [f"| `{d.key}` | {d.framework} | {d.what} | {format_value(d.value)} |"
              for d in results]
    return "\n".join(lines)
