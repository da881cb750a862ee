"""The idiomatic ``Trainer`` of each package (``dlparity.<impl>.training``) against the
reference's, and the reference's against values derived without it.

- the first 3 steps of tiny float64 nets (Adam, SGD momentum with batch norm, Nesterov,
  plain SGD on a regression): losses and parameters equal the reference Trainer's;
- the dating net 2-5-5-5-1 from the document's fixed weights, 1,000 full-batch SGD steps:
  equal at every step;
- the reference Trainer itself: its first steps (every case, and the dating net's) are the
  loss written out here, its central-difference gradient and the textbook update rules; a
  seeded Trainer in every package starts at the seeded rule written out here.

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

from dlparity.bases.models import parameter_shapes
from dlparity.implementations import DEVICES, FRAMEWORKS, load, require
from dlparity.oracle.compare import compare_outputs
from dlparity.oracle.tolerances import DEFAULT, Tol, tolerance
from dlparity.reference import presets
from dlparity.reference import training as ref_training

IMPLS = ("reference", *FRAMEWORKS)
STEPS = 3
DATING = "dating_fc_2_5_5_5_1"
DATING_STEPS = 1000

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
# The root every framework Trainer is compared with, held here to values derived without
# it: the loss written out below (SPEC.md §2 Models), its gradient by central differences,
# and the textbook update rules (SPEC.md §2 Optimizers; adamw: docs/api.md), each with its
# own state. No reference model, layer or update rule is called.

BN_EPS = 1e-5  # SPEC.md §2 batch norm


def _independent_loss(p: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray,
                      spec: dict) -> float:
    """Classification: softmax cross-entropy of the scores, averaged over N, + 0.5 reg
    sum W**2 over weights only. Regression: (1/N) sum (out - y)**2. Hidden layers are
    affine [-> batch norm, train mode: batch mean and biased variance] -> ReLU."""
    L = len(spec["layer_dims"]) - 1
    h = X  # (N, D)
    for i in range(1, L):
        a = h @ p[f"W{i}"] + p[f"b{i}"]  # (N, d_i)
        if spec.get("normalization") == "batchnorm":
            mu, var = a.mean(axis=0), ((a - a.mean(axis=0)) ** 2).mean(axis=0)  # (d_i,)
            a = p[f"gamma{i}"] * (a - mu) / np.sqrt(var + BN_EPS) + p[f"beta{i}"]
        h = np.maximum(a, 0.0)
    out = h @ p[f"W{L}"] + p[f"b{L}"]  # (N, K)
    if spec.get("task") == "regression":
        return float(np.sum((out - y.reshape(out.shape)) ** 2) / len(X))
    shifted = out - out.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, C)
    l2 = sum(np.sum(w * w) for k, w in p.items() if k.startswith("W"))
    return float(-log_p[np.arange(len(y)), y].mean() + 0.5 * spec.get("reg", 0.0) * l2)


def _central_difference(f, p: dict[str, np.ndarray], h: float = 1e-6) -> dict[str, np.ndarray]:
    grads = {}
    for k, w in p.items():
        g = np.zeros_like(w)
        for ix in np.ndindex(w.shape):
            plus, minus = {**p, k: w.copy()}, {**p, k: w.copy()}
            plus[k][ix] += h
            minus[k][ix] -= h
            g[ix] = (f(plus) - f(minus)) / (2 * h)
        grads[k] = g
    return grads


def _textbook_update(rule: str, w: np.ndarray, dw: np.ndarray, hp: dict, s: dict) -> np.ndarray:
    """One step of ``rule`` with hyper-parameters ``hp`` (SPEC defaults filled in by the
    caller) and state ``s`` (updated in place)."""
    lr = hp["learning_rate"]
    if rule == "sgd":
        return w - lr * dw
    if rule in ("sgd_momentum", "nesterov_momentum"):
        v_prev = s.get("v", np.zeros_like(w))
        s["v"] = hp["momentum"] * v_prev - lr * dw
        if rule == "sgd_momentum":
            return w + s["v"]
        return w - hp["momentum"] * v_prev + (1 + hp["momentum"]) * s["v"]
    if rule in ("adam", "adamw"):
        b1, b2 = hp["beta1"], hp["beta2"]
        s["t"] = s.get("t", 0) + 1
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * dw
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * dw * dw
        m_hat, v_hat = s["m"] / (1 - b1 ** s["t"]), s["v"] / (1 - b2 ** s["t"])
        step = m_hat / (np.sqrt(v_hat) + hp["epsilon"])
        return w - lr * (step + hp.get("weight_decay", 0.0) * w)  # no decay: adam
    raise AssertionError(f"no textbook formula for {rule}")


TEXTBOOK_DEFAULTS = {"momentum": 0.9, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}


def _independent_steps(spec: dict, params: dict, X: np.ndarray, y: np.ndarray,
                       steps: int) -> list[dict[str, np.ndarray]]:
    """Per step: {'loss': the loss before the update, **the parameters after it}."""
    hp = {**TEXTBOOK_DEFAULTS, **spec["optim_config"]}
    p = {k: w.copy() for k, w in params.items()}
    state: dict[str, dict] = {k: {} for k in p}
    out = []
    for _ in range(steps):
        loss = _independent_loss(p, X, y, spec)
        grads = _central_difference(lambda q: _independent_loss(q, X, y, spec), p)
        p = {k: _textbook_update(spec["update_rule"], w, grads[k], hp, state[k])
             for k, w in p.items()}
        out.append({"loss": np.float64(loss), **p})
    return out


# The central differences are good to ~1e-10; an Adam step divides by |dw| + eps, so the
# parameters are compared to 1e-7 (a wrong formula, lr or default is off by ~lr).
INDEPENDENT = Tol(rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("n", [1, 7])
def test_reference_trainer_sgd_step_is_loss_and_numerical_gradient(n: int) -> None:
    rng = np.random.default_rng(n)
    spec = dict(layer_dims=(5, 4, 3), reg=0.3, update_rule="sgd",
                optim_config={"learning_rate": 0.2})
    shapes = parameter_shapes(spec["layer_dims"], None)
    params = {k: rng.standard_normal(s) for k, s in shapes.items()}
    X, y = rng.standard_normal((n, 5)), rng.integers(0, 3, size=n)
    trainer = ref_training.Trainer(**spec, params=params, dtype=np.float64)
    _assert_same(f"sgd n={n}", _run(trainer, X, y, 1), _independent_steps(spec, params, X, y, 1),
                 INDEPENDENT)


@pytest.mark.parametrize("case", list(CASES))
def test_reference_trainer_steps_are_the_spec_loss_gradient_and_update_rule(case: str) -> None:
    """The first STEPS steps of each case: the loss before each step, and the parameters
    after it, equal the independently derived ones."""
    params, X, y = _case_data(case)
    want = _independent_steps(CASES[case], params, X, y, STEPS)
    _assert_same(f"{case} reference", _reference_steps(case)[0], want, INDEPENDENT)


def test_reference_dating_trainer_is_full_batch_sgd_at_the_documents_rate() -> None:
    """Trainer.from_preset(DATING): the document's fixed start, full-batch SGD at lr 1e-4
    (SPEC.md §2 Models (b)), MSE: the first steps as derived independently."""
    X, y = _dating_data()
    spec = dict(layer_dims=(2, 5, 5, 5, 1), task="regression", update_rule="sgd",
                optim_config={"learning_rate": 1e-4})
    start = presets.PRESETS[DATING].initial_arrays(np.float64)
    _assert_same(DATING, _reference_dating()[:STEPS],
                 _independent_steps(spec, start, X, y, STEPS), INDEPENDENT)


def _seeded_start(dims: tuple[int, ...], seed: int) -> dict[str, np.ndarray]:
    """FullyConnectedNet's seeded start with batch norm, written out from its rule
    (docs/api.md, ``dlparity.formulas.seeded_params``): ``rng = default_rng(seed)``; in the
    order W1, b1, gamma1, beta1, W2, ...: W = 1e-2 * rng.standard_normal((d_in, d_out)),
    b and beta zeros, gamma ones; the last layer has no gamma and beta."""
    rng, out = np.random.default_rng(seed), {}
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:], strict=True), start=1):
        out[f"W{i}"] = 1e-2 * rng.standard_normal((d_in, d_out))
        out[f"b{i}"] = np.zeros(d_out)
        if i < len(dims) - 1:
            out[f"gamma{i}"], out[f"beta{i}"] = np.ones(d_out), np.zeros(d_out)
    return out


@pytest.mark.parametrize("impl_name", IMPLS)
def test_seeded_trainer_starts_at_the_written_out_seeded_rule(impl_name: str) -> None:
    _skip_unless_available(impl_name, "cpu")
    dims = (7, 6, 5, 3)
    trainer = _module(impl_name).Trainer(dims, normalization="batchnorm", seed=11,
                                         dtype=np.float64)
    got, want = trainer.export_params(), _seeded_start(dims, 11)
    assert list(got) == list(want)
    for k, w in want.items():
        np.testing.assert_array_equal(got[k], w, err_msg=f"{impl_name} {k}")


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
