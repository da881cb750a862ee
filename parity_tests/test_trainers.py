"""The idiomatic ``Trainer`` of each package (``dlparity.<impl>.training``) against the
reference's, and each framework's own dropout (``layers.native_dropout``) by its statistics.

- the first 3 steps of tiny float64 nets (Adam, SGD momentum with batch norm, Nesterov,
  plain SGD on a regression): losses and parameters equal the reference Trainer's;
- the dating net 2-5-5-5-1 from the document's fixed weights, 1,000 full-batch SGD steps:
  equal at every step;
- the reference Trainer itself: its first SGD step is the loss and numerical gradient of
  the model written out here, and its steps are the CS231n loop (model.loss + update rule);
- native_dropout keeps 1 - p of the entries (within 5 standard errors) and scales them by
  1/(1 - p).

``torch.compile`` is not run here (its first step compiles for ~10 s or more on this CPU):
set DLPARITY_TORCH_COMPILE=1 to run its test.
"""

from __future__ import annotations

import importlib
import os
from functools import cache
from types import ModuleType

import numpy as np
import pytest
from support.training import train

import dlparity.reference as ref
from dlparity.bases.models import parameter_shapes
from dlparity.implementations import DEVICES, FRAMEWORKS, load, on_device, require
from dlparity.oracle.compare import compare_outputs
from dlparity.oracle.tolerances import DEFAULT, tolerance
from dlparity.reference import gradcheck, models, optim, presets
from dlparity.reference import training as ref_training

IMPLS = ("reference", *FRAMEWORKS)
STEPS = 3
DATING = "dating_fc_2_5_5_5_1"
DATING_STEPS = 1000
Z = 5.0  # standard errors allowed for a keep rate (a false alarm ~1 in 1.7 million)

# Tiny float64 nets; weights drawn here with std 0.5 so that ReLUs are on and off.
CASES: dict[str, dict] = {
    "classification-adam": dict(
        layer_dims=(6, 5, 4, 3), reg=0.1, update_rule="adam",
        optim_config={"learning_rate": 1e-2, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6}),
    "classification-batchnorm-sgd_momentum": dict(
        layer_dims=(6, 5, 4, 3), reg=0.05, normalization="batchnorm",
        update_rule="sgd_momentum", optim_config={"learning_rate": 0.1, "momentum": 0.8}),
    "classification-nesterov_momentum": dict(
        layer_dims=(6, 5, 3), update_rule="nesterov_momentum",
        optim_config={"learning_rate": 0.1, "momentum": 0.9}),
    "classification-adamw": dict(
        layer_dims=(6, 5, 3), reg=0.05, update_rule="adamw",
        optim_config={"learning_rate": 1e-2, "weight_decay": 0.3, "epsilon": 1e-6}),
    "regression-sgd": dict(
        layer_dims=(4, 5, 2), task="regression", update_rule="sgd",
        optim_config={"learning_rate": 0.05}),
}
TF_COMPILE_MODES = ("eager", "xla")  # tf's default 'tf.function' runs in every case


def _module(impl_name: str) -> ModuleType:
    """The package's training module (dlparity.<impl>.training)."""
    if impl_name == "reference":
        return ref_training
    return importlib.import_module(f"{load(impl_name).__name__}.training")


def _skip_unless_available(impl_name: str, device: str) -> None:
    if impl_name != "reference":
        require(impl_name, device)


def _case_data(case: str) -> tuple[dict, np.ndarray, np.ndarray]:
    """(starting params, X (8, D), y) of a case, float64, from a fixed seed."""
    spec = CASES[case]
    rng = np.random.default_rng(sorted(CASES).index(case))
    shapes = parameter_shapes(spec["layer_dims"], spec.get("normalization"))
    params = {k: 0.5 * rng.standard_normal(s) + (k.startswith("gamma")) for k, s in shapes.items()}
    X = rng.standard_normal((8, spec["layer_dims"][0]))  # (N, D)
    if spec.get("task") == "regression":
        y = rng.standard_normal((8, spec["layer_dims"][-1]))  # (N, K)
    else:
        y = rng.integers(0, spec["layer_dims"][-1], size=8)  # (N,)
    return params, X, y


def _run(trainer, X: np.ndarray, y: np.ndarray, steps: int) -> list[dict[str, np.ndarray]]:
    """Per step: {'loss': the loss before the update, **the parameters after it}."""
    out = []
    for _ in range(steps):
        loss = trainer.step(X, y)
        assert isinstance(loss, float), f"step returned {type(loss).__name__}, not float"
        out.append({"loss": np.float64(loss), **trainer.export_params()})
    return out


@cache
def _reference_steps(case: str) -> tuple[list[dict[str, np.ndarray]], np.ndarray]:
    params, X, y = _case_data(case)
    trainer = ref_training.Trainer(**CASES[case], params=params, dtype=np.float64)
    return _run(trainer, X, y, STEPS), trainer.predict(X)


def _assert_same(where: str, got: list[dict], want: list[dict], tol) -> None:
    assert len(got) == len(want)
    for step, (g, w) in enumerate(zip(got, want, strict=True), start=1):
        assert list(g) == list(w), f"{where}: step {step} keys {list(g)}, expected {list(w)}"
        mismatches, worst = compare_outputs(g, w, tol)
        assert not mismatches, (
            f"{where}: step {step} differs from the reference Trainer (worst relative error "
            f"{worst:.3g}, rtol {tol.rtol:g}):\n  " + "\n  ".join(map(str, mismatches)))


def _cases_and_modes():
    for case in CASES:
        for impl in FRAMEWORKS:
            yield pytest.param(case, impl, None, id=f"{case}-{impl}")
    for mode in TF_COMPILE_MODES:
        yield pytest.param("classification-adam", "tf", mode, id=f"classification-adam-tf-{mode}")


# ------------------------------------------------------------ (a) tiny nets, 3 steps


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("case", "impl_name", "compile_mode"), list(_cases_and_modes()))
def test_trainer_first_steps_equal_reference_trainer_float64(case, impl_name, compile_mode,
                                                             device) -> None:
    _skip_unless_available(impl_name, device)
    params, X, y = _case_data(case)
    trainer = _module(impl_name).Trainer(**CASES[case], params=params, dtype=np.float64,
                                         device=device, compile=compile_mode)
    got = _run(trainer, X, y, STEPS)
    want, want_predictions = _reference_steps(case)
    where = f"{case} {impl_name} {compile_mode or 'default'} {device}"
    _assert_same(where, got, want, DEFAULT["float64"])
    # Eval mode; torch's BatchNorm1d keeps the UNBIASED running variance (not SPEC's).
    if CASES[case].get("normalization") is None or impl_name != "torch":
        predictions = trainer.predict(X)
        mismatches, _ = compare_outputs({"predict": predictions},
                                        {"predict": want_predictions}, DEFAULT["float64"])
        assert not mismatches, f"{where}: " + "; ".join(map(str, mismatches))


# ------------------------------------------------------ (b) the dating net, 1,000 steps


@cache
def _dating_data() -> tuple[np.ndarray, np.ndarray]:
    noise = presets.PRESETS[DATING].data_noise
    return presets.dating_data(100, np.random.default_rng(4), noise=noise)


@cache
def _reference_dating() -> list[dict[str, np.ndarray]]:
    X, y = _dating_data()
    return _run(ref_training.Trainer.from_preset(DATING, dtype=np.float64), X, y, DATING_STEPS)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("impl_name", list(FRAMEWORKS))
def test_dating_net_1000_sgd_steps_equal_reference_trainer(impl_name, device) -> None:
    _skip_unless_available(impl_name, device)
    X, y = _dating_data()
    trainer = _module(impl_name).Trainer.from_preset(DATING, dtype=np.float64, device=device)
    got = _run(trainer, X, y, DATING_STEPS)
    assert np.all(np.isfinite([g["loss"] for g in got])), f"{impl_name}: non-finite loss"
    _assert_same(f"{DATING} {impl_name} {device}", got, _reference_dating(),
                 tolerance("training", "float64"))


# ------------------------------------------------ the reference Trainer is the SPEC step


def _two_layer_loss(p: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, reg: float) -> float:
    """Softmax cross-entropy of relu(X W1 + b1) W2 + b2, averaged over N, + 0.5 reg sum W**2."""
    scores = np.maximum(X @ p["W1"] + p["b1"], 0.0) @ p["W2"] + p["b2"]  # (N, C)
    log_z = np.log(np.sum(np.exp(scores - scores.max(axis=1, keepdims=True)), axis=1))
    log_p = scores[np.arange(len(y)), y] - scores.max(axis=1) - log_z  # (N,)
    return float(-log_p.mean() + 0.5 * reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2)))


@pytest.mark.parametrize("n", [1, 7])
def test_reference_trainer_sgd_step_is_loss_and_numerical_gradient(n: int) -> None:
    rng = np.random.default_rng(n)
    dims, reg, lr = (5, 4, 3), 0.3, 0.2
    shapes = parameter_shapes(dims, None)
    params = {k: rng.standard_normal(s) for k, s in shapes.items()}
    X, y = rng.standard_normal((n, dims[0])), rng.integers(0, dims[-1], size=n)
    trainer = ref_training.Trainer(dims, reg=reg, update_rule="sgd", params=params,
                                   optim_config={"learning_rate": lr}, dtype=np.float64)
    loss = trainer.step(X, y)
    np.testing.assert_allclose(loss, _two_layer_loss(params, X, y, reg), rtol=1e-12)
    after = trainer.export_params()
    for k, w in params.items():
        grad = gradcheck.eval_numerical_gradient(lambda _: _two_layer_loss(params, X, y, reg), w)
        np.testing.assert_allclose(after[k], w - lr * grad, rtol=1e-7, atol=1e-9, err_msg=k)


@pytest.mark.parametrize("case", list(CASES))
def test_reference_trainer_steps_are_the_model_loss_and_update_rule_loop(case: str) -> None:
    """Trainer.step == model.loss(X, y), then rule(w, dw, config) per parameter, one config
    each (the CS231n Solver's step), with the reference's own model and rules."""
    spec = CASES[case]
    params, X, y = _case_data(case)
    if spec.get("task") == "regression":
        model = models.RegressionNet(params)
    else:
        model = models.FullyConnectedNet(
            list(spec["layer_dims"][1:-1]), spec["layer_dims"][0], spec["layer_dims"][-1],
            reg=spec.get("reg", 0.0), dtype=np.float64, normalization=spec.get("normalization"))
        model.params = {k: a.copy() for k, a in params.items()}
    rule = getattr(optim, spec["update_rule"])
    configs = {k: dict(spec["optim_config"]) for k in model.params}
    want = []
    for _ in range(STEPS):
        loss, grads = model.loss(X, y)
        for k in model.params:
            model.params[k], configs[k] = rule(model.params[k], grads[k], configs[k])
        want.append({"loss": np.float64(loss), **{k: model.params[k] for k in params}})
    _assert_same(f"{case} reference", _reference_steps(case)[0], want, DEFAULT["float64"])


def test_reference_dating_trainer_follows_the_parity_training_loop() -> None:
    X, y = _dating_data()
    want = train(ref, DATING, X, y, 50)
    got = _reference_dating()[:50]
    np.testing.assert_array_equal([g["loss"] for g in got], want.losses)
    for g, w in zip(got, want.params, strict=True):
        for k in w:
            np.testing.assert_array_equal(g[k], w[k], err_msg=k)


def test_seeded_starting_point_is_fully_connected_nets() -> None:
    dims = (7, 6, 5, 3)
    trainer = ref_training.Trainer(dims, normalization="batchnorm", seed=11, dtype=np.float64)
    model = models.FullyConnectedNet(list(dims[1:-1]), dims[0], dims[-1], seed=11,
                                           normalization="batchnorm", dtype=np.float64)
    got = trainer.export_params()
    assert list(got) == list(model.params)
    for k, w in model.params.items():
        np.testing.assert_array_equal(got[k], w, err_msg=k)


# ------------------------------------------------------------ dropout in a Trainer


@pytest.mark.parametrize("impl_name", IMPLS)
def test_trainer_dropout_draws_a_fresh_mask_each_step_and_predict_has_none(impl_name) -> None:
    _skip_unless_available(impl_name, "cpu")
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((16, 6)), rng.integers(0, 3, size=16)
    kwargs = dict(update_rule="sgd", optim_config={"learning_rate": 0.0}, dtype=np.float64,
                  seed=2)
    Trainer = _module(impl_name).Trainer
    trainer = Trainer((6, 50, 3), dropout=0.5, **kwargs)
    plain = ref_training.Trainer((6, 50, 3), **kwargs)  # the same seeded weights
    losses = {trainer.step(X, y) for _ in range(4)}  # lr 0: only the masks change
    assert len(losses) == 4, f"{impl_name}: dropout masks repeat across steps: {losses}"
    np.testing.assert_allclose(trainer.predict(X), plain.predict(X), rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize("impl_name", IMPLS)
@pytest.mark.parametrize(("kwargs", "error", "words"), [
    (dict(layer_dims=(4, 3), update_rule="rmsprop"), ValueError, "update_rule"),
    (dict(layer_dims=(4, 1)), ValueError, "layer_dims[-1] >= 2"),
    (dict(layer_dims=(4, 1), task="regression", dropout=0.5), ValueError, "regression"),
    (dict(layer_dims=(4, 3), optim_config={"momentum": 0.9}), ValueError, "['momentum']"),
    (dict(layer_dims=(4, 3), optim_config={"learning_rate": -1.0}), ValueError,
     "config['learning_rate']"),
    (dict(layer_dims=(4, 3), params={"W1": np.ones((3, 3))}), ValueError, "keys"),
    (dict(layer_dims=(4, 3), compile="jit"), ValueError, "compile"),
    (dict(layer_dims=(4, 3), dtype=np.int32), TypeError, "dtype"),
])
def test_trainer_rejects_bad_arguments_alike(impl_name, kwargs, error, words) -> None:
    _skip_unless_available(impl_name, "cpu")
    with pytest.raises(error) as err:
        _module(impl_name).Trainer(**kwargs)
    assert str(err.value).startswith("Trainer: ") and words in str(err.value), str(err.value)


@pytest.mark.parametrize("impl_name", IMPLS)
def test_trainer_step_checks_the_batch_alike(impl_name) -> None:
    _skip_unless_available(impl_name, "cpu")
    trainer = _module(impl_name).Trainer((4, 3), dtype=np.float64, seed=0)
    X = np.ones((2, 4))
    with pytest.raises(ValueError, match=r"Trainer.step: X must have 4 features"):
        trainer.step(np.ones((2, 5)), np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match=r"Trainer.step: y must hold labels in \[0, 3\)"):
        trainer.step(X, np.array([0, 3]))
    with pytest.raises(TypeError, match=r"Trainer.step: y must have an integer dtype"):
        trainer.step(X, np.zeros(2))


# ------------------------------------------------------------------- native_dropout

DROPOUT_N = 100_000


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("p", [0.5, 0.75, 0.3])
@pytest.mark.parametrize("impl_name", list(FRAMEWORKS))
def test_native_dropout_keeps_1_minus_p_scaled_by_1_over_1_minus_p(impl_name, p, dtype,
                                                                   device) -> None:
    _skip_unless_available(impl_name, device)
    impl = load(impl_name)
    x = np.random.default_rng(6).uniform(1.0, 2.0, size=(DROPOUT_N // 100, 100)).astype(dtype)
    with on_device(impl, device):
        out = impl.layers.native_dropout(x, p, seed=7)
    assert out.shape == x.shape and out.dtype == x.dtype, (out.shape, out.dtype)
    assert np.all(np.isfinite(out))
    kept = out != 0  # x is never 0
    rate, se = kept.mean(), np.sqrt(p * (1 - p) / x.size)
    assert abs(rate - (1 - p)) <= Z * se, f"keep rate {rate:.5f}, expected {1 - p} ± {Z * se:.5f}"
    want = x[kept] / dtype(1 - p)
    if p in (0.5, 0.75):  # 1/(1 - p) is a power of 2: exact in any float
        np.testing.assert_array_equal(out[kept], want)
    else:  # torch and TF multiply by 1/(1 - p) rounded to x's dtype: one rounding apart
        np.testing.assert_array_max_ulp(out[kept], want, maxulp=1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("impl_name", list(FRAMEWORKS))
def test_native_dropout_with_p_0_returns_x_and_a_seed_repeats_the_mask(impl_name, dtype) -> None:
    _skip_unless_available(impl_name, "cpu")
    dropout = load(impl_name).layers.native_dropout
    x = np.random.default_rng(8).uniform(1.0, 2.0, size=(40, 50)).astype(dtype)
    out = dropout(x, 0.0)
    np.testing.assert_array_equal(out, x)
    assert out.dtype == x.dtype
    np.testing.assert_array_equal(dropout(x, 0.5, seed=3), dropout(x, 0.5, seed=3))
    assert np.any(dropout(x, 0.5, seed=3) != dropout(x, 0.5, seed=4))


# ------------------------------------------------------------- torch.compile (opt-in)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("DLPARITY_TORCH_COMPILE") != "1",
                    reason="compiles for ~10 s or more; set DLPARITY_TORCH_COMPILE=1")
def test_torch_compile_trainer_equals_reference_trainer() -> None:
    _skip_unless_available("torch", "cpu")
    case = "classification-adam"
    params, X, y = _case_data(case)
    trainer = _module("torch").Trainer(**CASES[case], params=params, dtype=np.float64,
                                       compile="torch.compile")
    _assert_same(f"{case} torch.compile", _run(trainer, X, y, STEPS),
                 _reference_steps(case)[0], DEFAULT["float64"])
