"""The update rules and gradient clipping of the NumPy reference (SPEC.md §2 "Optimizers", §4).

Expected trajectories come from the textbook formulas written out below with plain,
out-of-place NumPy arithmetic, never from the code under test.
"""

from __future__ import annotations

import copy
import math
import re

import numpy as np
import pytest

from dlparity.catalogue import BY_NAME, OPTIMIZERS
from dlparity.contract import optim as contract
from dlparity.reference import optim

# Every update rule of the catalogue: a new rule is tested here, and fails until it has a row
# below (its defaults and state written out from SPEC.md / docs/api.md).
RULES = tuple(e.name for e in OPTIMIZERS)

# SPEC.md §2's defaults, written out again here so the test does not read the contract's
# table; test_hand_tables_state_what_the_catalogue_records holds the catalogue to them.
SPEC_DEFAULTS = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "nesterov_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-7},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {
        "learning_rate": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
        "bias_correction": True,
    },
    # dlparity's extension (docs/api.md): torch.optim.AdamW's defaults
    "adamw": {
        "learning_rate": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
        "weight_decay": 1e-2,
    },
}

# The state arrays each rule keeps in its config (w's shape), from the same pages.
STATE_KEYS = {
    "sgd": (),
    "sgd_momentum": ("velocity",),
    "nesterov_momentum": ("velocity",),
    "adagrad": ("cache",),
    "rmsprop": ("cache",),
    "adam": ("m", "v"),
    "adamw": ("m", "v"),
}



def test_hand_tables_state_what_the_catalogue_records() -> None:
    """SPEC_DEFAULTS and STATE_KEYS (SPEC.md written out again) against the catalogue, the
    one place the implementations read them from (``dlparity.catalogue``)."""
    assert set(SPEC_DEFAULTS) == set(RULES) == set(STATE_KEYS), (
        f"rows for {sorted(SPEC_DEFAULTS)}, {sorted(STATE_KEYS)}; catalogue rules {RULES}")
    for rule in RULES:
        entry = BY_NAME[rule]
        assert dict(entry.hyper) == SPEC_DEFAULTS[rule], (rule, dict(entry.hyper))
        assert entry.state == STATE_KEYS[rule], (rule, entry.state)
        assert entry.counter == ("t" if rule in ("adam", "adamw") else ""), (rule, entry.counter)

# --- the textbook formulas: w0, the gradients and the learning rate of each step in, the
# --- weights after each step out.
def textbook_sgd(w, dws, lrs, hp):
    out = []
    for dw, lr in zip(dws, lrs, strict=True):
        w = w - lr * dw
        out.append(w)
    return out


def textbook_sgd_momentum(w, dws, lrs, hp):
    mu, v, out = hp["momentum"], np.zeros_like(w), []
    for dw, lr in zip(dws, lrs, strict=True):
        v = mu * v - lr * dw
        w = w + v
        out.append(w)
    return out


def textbook_nesterov_momentum(w, dws, lrs, hp):
    mu, v, out = hp["momentum"], np.zeros_like(w), []
    for dw, lr in zip(dws, lrs, strict=True):
        v_prev = v
        v = mu * v - lr * dw
        w = w - mu * v_prev + (1 + mu) * v
        out.append(w)
    return out


def textbook_adagrad(w, dws, lrs, hp):
    eps, cache, out = hp["epsilon"], np.zeros_like(w), []
    for dw, lr in zip(dws, lrs, strict=True):
        cache = cache + dw**2
        w = w - lr * dw / (np.sqrt(cache) + eps)
        out.append(w)
    return out


def textbook_rmsprop(w, dws, lrs, hp):
    rho, eps, cache, out = hp["decay_rate"], hp["epsilon"], np.zeros_like(w), []
    for dw, lr in zip(dws, lrs, strict=True):
        cache = rho * cache + (1 - rho) * dw**2
        w = w - lr * dw / (np.sqrt(cache) + eps)
        out.append(w)
    return out


def textbook_adam(w, dws, lrs, hp):
    b1, b2, eps = hp["beta1"], hp["beta2"], hp["epsilon"]
    m, v, out = np.zeros_like(w), np.zeros_like(w), []
    for t, (dw, lr) in enumerate(zip(dws, lrs, strict=True), start=1):
        m = b1 * m + (1 - b1) * dw
        v = b2 * v + (1 - b2) * dw**2
        if hp.get("bias_correction", True):
            m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        else:
            m_hat, v_hat = m, v
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(w)
    return out


def textbook_adamw(w, dws, lrs, hp):
    """Loshchilov & Hutter's AdamW as torch and Keras scale it: the decay times lr, on w."""
    b1, b2, eps, lam = hp["beta1"], hp["beta2"], hp["epsilon"], hp["weight_decay"]
    m, v, out = np.zeros_like(w), np.zeros_like(w), []
    for t, (dw, lr) in enumerate(zip(dws, lrs, strict=True), start=1):
        m = b1 * m + (1 - b1) * dw
        v = b2 * v + (1 - b2) * dw**2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps) - lr * lam * w
        out.append(w)
    return out


TEXTBOOK = {
    "sgd": textbook_sgd,
    "sgd_momentum": textbook_sgd_momentum,
    "nesterov_momentum": textbook_nesterov_momentum,
    "adagrad": textbook_adagrad,
    "rmsprop": textbook_rmsprop,
    "adam": textbook_adam,
    "adamw": textbook_adamw,
}

# Non-default hyper-parameters, so that a rule ignoring its config would fail.
CASES = [
    pytest.param("sgd", {}, id="sgd"),
    pytest.param("sgd_momentum", {"momentum": 0.8}, id="sgd_momentum"),
    pytest.param("nesterov_momentum", {"momentum": 0.7}, id="nesterov_momentum"),
    pytest.param("adagrad", {"epsilon": 1e-6}, id="adagrad"),
    pytest.param("rmsprop", {"decay_rate": 0.9, "epsilon": 1e-6}, id="rmsprop"),
    pytest.param("adam", {"beta1": 0.8, "beta2": 0.95, "epsilon": 1e-6}, id="adam"),
    pytest.param(
        "adam",
        {"beta1": 0.8, "beta2": 0.95, "epsilon": 1e-6, "bias_correction": False},
        id="adam_without_bias_correction",
    ),
    pytest.param("adamw", {"beta1": 0.8, "beta2": 0.95, "epsilon": 1e-6, "weight_decay": 0.1},
                 id="adamw"),
]
SHAPES = [(1,), (1, 3), (3, 4), (2, 3, 5)]


def run(rule, w, dws, config, lrs=None):
    """Call the reference rule once per gradient; set the learning rate before each call."""
    out = []
    for i, dw in enumerate(dws):
        if lrs is not None:
            config["learning_rate"] = lrs[i]
        w, config = getattr(optim, rule)(w, dw, config)
        out.append(w)
    return out, config


# ---------------------------------------------------------------------- trajectories
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("rule", "hp"), CASES)
def test_first_three_steps_follow_the_formula_with_a_learning_rate_changed_between_calls(
    rule, hp, shape, rng
):
    w0 = rng.standard_normal(shape)
    dws = [rng.standard_normal(shape) for _ in range(3)]
    lrs = [0.1, 0.03, 0.2]
    got, _ = run(rule, w0, dws, dict(hp), lrs)
    expected = TEXTBOOK[rule](w0, dws, lrs, hp)
    for step, (g, e) in enumerate(zip(got, expected, strict=True), start=1):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14, err_msg=f"step {step}")


@pytest.mark.parametrize("rule", RULES)
def test_defaults_are_the_spec_values_when_config_is_none(rule, rng):
    w0 = rng.standard_normal((4, 3))
    dws = [rng.standard_normal((4, 3)) for _ in range(3)]
    w, config = getattr(optim, rule)(w0, dws[0])
    for key, value in SPEC_DEFAULTS[rule].items():
        assert config[key] == value, key
        assert type(config[key]) is type(value), key
    got, _ = run(rule, w, dws[1:], config)
    hp = SPEC_DEFAULTS[rule]
    expected = TEXTBOOK[rule](w0, dws, [hp["learning_rate"]] * 3, hp)
    for g, e in zip([w, *got], expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("rule", RULES)
def test_missing_keys_are_filled_into_the_same_dict_and_given_keys_are_kept(rule, rng):
    w, dw = rng.standard_normal(5), rng.standard_normal(5)
    config = {"learning_rate": 0.5}
    _, returned = getattr(optim, rule)(w, dw, config)
    assert returned is config
    assert config["learning_rate"] == 0.5
    for key, value in SPEC_DEFAULTS[rule].items():
        if key != "learning_rate":
            assert config[key] == value, key


@pytest.mark.parametrize("rule", RULES)
def test_config_none_gives_a_new_dict_on_each_call(rule, rng):
    w, dw = rng.standard_normal(5), rng.standard_normal(5)
    _, c1 = getattr(optim, rule)(w, dw)
    _, c2 = getattr(optim, rule)(w, dw, None)
    assert c1 is not c2


def test_nesterov_worked_numbers_0_81_then_0_539():
    # w = 1, dw = 1, lr = 0.1, mu = 0.9:
    # step 1: v = -0.1, w = 1 - 0.9*0 + 1.9*(-0.1) = 0.81
    # step 2: v = 0.9*(-0.1) - 0.1 = -0.19, w = 0.81 + 0.09 + 1.9*(-0.19) = 0.539
    config = {"learning_rate": 0.1, "momentum": 0.9}
    w, config = optim.nesterov_momentum(np.array([1.0]), np.array([1.0]), config)
    np.testing.assert_allclose(w, [0.81], rtol=1e-14)
    w, config = optim.nesterov_momentum(w, np.array([1.0]), config)
    np.testing.assert_allclose(w, [0.539], rtol=1e-14)
    np.testing.assert_allclose(config["velocity"], [-0.19], rtol=1e-14)


def test_adam_first_step_with_bias_correction_moves_each_weight_by_about_lr(rng):
    # t = 1: m_hat = dw and v_hat = dw**2, so the step is lr * dw / (|dw| + eps).
    w, dw = rng.standard_normal(50), rng.standard_normal(50)
    next_w, _ = optim.adam(w, dw, {"learning_rate": 1e-2})
    np.testing.assert_allclose(w - next_w, 1e-2 * dw / (np.abs(dw) + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(np.abs(w - next_w), 1e-2, rtol=1e-4)  # |dw| >> eps


def test_adam_without_bias_correction_takes_a_larger_first_step(rng):
    # t = 1 without correction: m = 0.1 dw, v = 0.001 dw**2,
    # step = lr * 0.1 dw / (sqrt(0.001) |dw| + eps), about 3.16 lr
    w, dw = rng.standard_normal(50), rng.standard_normal(50)
    next_w, _ = optim.adam(w, dw, {"learning_rate": 1e-2, "bias_correction": False})
    expected = 1e-2 * 0.1 * dw / (math.sqrt(0.001) * np.abs(dw) + 1e-8)
    np.testing.assert_allclose(w - next_w, expected, rtol=1e-12)
    assert np.all(np.abs(w - next_w) > 3 * 1e-2)


# ---------------------------------------------------------------------- state
def test_adam_step_count_t_is_1_2_3_after_three_calls(rng):
    w, config = rng.standard_normal(4), None
    for expected_t in (1, 2, 3):
        w, config = optim.adam(w, rng.standard_normal(4), config)
        assert config["t"] == expected_t


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rule", RULES)
def test_state_arrays_are_kept_in_config_with_w_shape_and_dtype(rule, dtype, rng):
    w = rng.standard_normal((2, 3)).astype(dtype)
    _, config = getattr(optim, rule)(w, rng.standard_normal((2, 3)).astype(dtype))
    for key in STATE_KEYS[rule]:
        assert isinstance(config[key], np.ndarray), key
        assert config[key].shape == w.shape, key
        assert config[key].dtype == dtype, key
        assert np.all(np.isfinite(config[key])), key


@pytest.mark.parametrize("rule", RULES)
def test_a_deep_copied_config_branches_the_trajectory(rule, rng):
    w, dw1, dw2 = (rng.standard_normal(6) for _ in range(3))
    w1, config = getattr(optim, rule)(w, dw1)
    branch = copy.deepcopy(config)
    a, _ = getattr(optim, rule)(w1, dw2, config)
    b, _ = getattr(optim, rule)(w1, dw2, branch)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("rule", RULES)
def test_learning_rate_zero_leaves_w_unchanged(rule, rng):
    w, dw = rng.standard_normal(7), rng.standard_normal(7)
    next_w, _ = getattr(optim, rule)(w, dw, {"learning_rate": 0.0})
    np.testing.assert_array_equal(next_w, w)


# ---------------------------------------------------------------------- no mutation, dtypes
@pytest.mark.parametrize("rule", RULES)
def test_w_and_dw_are_never_written_and_next_w_is_a_new_array(rule, rng):
    w, dw = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    w_before, dw_before = w.copy(), dw.copy()
    config = None
    for _ in range(2):
        next_w, config = getattr(optim, rule)(w, dw, config)
        np.testing.assert_array_equal(w, w_before)
        np.testing.assert_array_equal(dw, dw_before)
        assert not np.shares_memory(next_w, w)
        assert not np.shares_memory(next_w, dw)
        for key in STATE_KEYS[rule]:
            assert not np.shares_memory(next_w, config[key]), key


@pytest.mark.parametrize(("rule", "hp"), CASES)
def test_float32_weights_stay_float32_even_with_numpy_float64_hyperparameters(rule, hp, rng):
    w0 = rng.standard_normal((3, 4))
    dws = [rng.standard_normal((3, 4)) for _ in range(3)]
    lrs = [np.float64(0.1), np.float64(0.03), np.float64(0.2)]
    config = {k: (np.float64(val) if not isinstance(val, bool) else val) for k, val in hp.items()}
    got, config = run(rule, w0.astype(np.float32), [d.astype(np.float32) for d in dws], config, lrs)
    expected = TEXTBOOK[rule](w0, dws, [float(lr) for lr in lrs], hp)
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)
    for key in STATE_KEYS[rule]:
        assert config[key].dtype == np.float32, key


@pytest.mark.parametrize("rule", RULES)
def test_next_w_takes_w_dtype_when_dw_is_float64(rule, rng):
    w = rng.standard_normal(5).astype(np.float32)
    next_w, _ = getattr(optim, rule)(w, rng.standard_normal(5))
    assert next_w.dtype == np.float32


# ---------------------------------------------------------------------- the shared contract
def test_contract_writes_hyperparameters_back_as_python_floats_and_bools(rng):
    config = {
        "learning_rate": np.float32(0.5),
        "beta1": np.float64(0.5),
        "beta2": 0,
        "bias_correction": np.bool_(False),
    }
    returned = contract.adam(rng.standard_normal(3), rng.standard_normal(3), config)
    assert returned is config
    assert [type(config[k]) for k in ("learning_rate", "beta1", "beta2", "epsilon")] == [float] * 4
    assert config["bias_correction"] is False


@pytest.mark.parametrize("rule", RULES)
def test_contract_fills_defaults_but_leaves_creating_state_to_the_rule(rule, rng):
    config = getattr(contract, rule)(rng.standard_normal(3), rng.standard_normal(3), None)
    assert config == SPEC_DEFAULTS[rule]


# ---------------------------------------------------------------------- bad input
BAD_CONFIGS = [
    ("sgd", "learning_rate", math.nan, ValueError),
    ("sgd", "learning_rate", -0.1, ValueError),
    ("adam", "learning_rate", math.inf, ValueError),
    ("sgd", "learning_rate", "0.1", TypeError),
    ("sgd_momentum", "momentum", 1.0, ValueError),
    ("nesterov_momentum", "momentum", -0.1, ValueError),
    ("rmsprop", "decay_rate", 1.0, ValueError),
    ("adam", "beta1", 1.0, ValueError),
    ("adam", "beta2", 1, ValueError),
    ("adam", "epsilon", math.inf, ValueError),
    ("adagrad", "epsilon", -1e-8, ValueError),
    ("adam", "bias_correction", 1, TypeError),
    ("adam", "bias_correction", "yes", TypeError),
    ("adam", "t", -1, ValueError),
    ("adam", "t", 1.5, TypeError),
    ("sgd_momentum", "velocity", np.zeros((4, 3)), ValueError),
    ("adagrad", "cache", np.zeros(12), ValueError),
    ("adam", "m", np.zeros((3, 4), dtype=np.int64), TypeError),
    ("rmsprop", "cache", [[0.0] * 4] * 3, TypeError),
]


@pytest.mark.parametrize(("rule", "key", "value", "error"), BAD_CONFIGS)
def test_bad_config_value_raises_naming_the_key(rule, key, value, error, rng):
    w, dw = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    with pytest.raises(error, match=re.escape(f"{rule}: config['{key}']")):
        getattr(optim, rule)(w, dw, {key: value})


@pytest.mark.parametrize("rule", RULES)
def test_dw_of_the_wrong_shape_raises_naming_dw(rule, rng):
    with pytest.raises(ValueError, match=rf"{rule}: dw .*\(3, 4\).*\(4, 3\)"):
        getattr(optim, rule)(rng.standard_normal((3, 4)), rng.standard_normal((4, 3)))


@pytest.mark.parametrize("rule", RULES)
def test_integer_w_raises_type_error_naming_w(rule):
    with pytest.raises(TypeError, match=rf"{rule}: w must have a floating dtype"):
        getattr(optim, rule)(np.arange(3), np.ones(3))


@pytest.mark.parametrize("rule", RULES)
def test_non_array_dw_and_non_dict_config_raise_type_error(rule):
    fn = getattr(optim, rule)
    with pytest.raises(TypeError, match=rf"{rule}: dw must be a numpy.ndarray"):
        fn(np.ones(3), [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=rf"{rule}: config must be a dict"):
        fn(np.ones(3), np.ones(3), [("learning_rate", 0.1)])


# ---------------------------------------------------------------------- clip_by_global_norm
def test_clip_above_threshold_rescales_3_4_to_norm_1():
    clipped, norm = optim.clip_by_global_norm([np.array([3.0, 4.0])], 1.0)
    assert norm == 5.0
    np.testing.assert_allclose(clipped[0], [0.6, 0.8], rtol=1e-15)


def test_clip_uses_the_joint_norm_of_several_arrays():
    grads = [np.array([[1.0, 2.0], [2.0, 0.0]]), np.array([4.0])]
    # global norm = sqrt(1 + 4 + 4 + 0 + 16) = 5; clip 2.5 halves every array
    clipped, norm = optim.clip_by_global_norm(grads, 2.5)
    assert norm == pytest.approx(5.0, rel=1e-15)
    np.testing.assert_allclose(clipped[0], [[0.5, 1.0], [1.0, 0.0]], rtol=1e-15)
    np.testing.assert_allclose(clipped[1], [2.0], rtol=1e-15)


@pytest.mark.parametrize("clip_norm", [5.0, 10.0], ids=["exactly_at", "below"])
def test_clip_at_or_below_threshold_returns_equal_copies(clip_norm):
    grads = [np.array([3.0, 0.0]), np.array([[4.0]])]
    clipped, norm = optim.clip_by_global_norm(grads, clip_norm)
    assert norm == 5.0
    for g, c in zip(grads, clipped, strict=True):
        np.testing.assert_array_equal(c, g)
        assert not np.shares_memory(c, g)


@pytest.mark.parametrize("shapes", [[(1,)], [(3, 4), (4,)], [(2, 3, 5), (1, 1), (7,)]])
def test_clip_random_grads_follow_t_times_clip_over_max_norm_clip(shapes, rng):
    grads = [rng.standard_normal(s) for s in shapes]
    expected_norm = math.sqrt(sum(float(np.sum(g**2)) for g in grads))
    clip_norm = 0.5 * expected_norm
    clipped, norm = optim.clip_by_global_norm(tuple(grads), clip_norm)
    assert isinstance(norm, float)
    assert isinstance(clipped, list)
    assert norm == pytest.approx(expected_norm, rel=1e-13)
    for g, c in zip(grads, clipped, strict=True):
        np.testing.assert_allclose(c, g * clip_norm / max(expected_norm, clip_norm), rtol=1e-13)
    new_norm = math.sqrt(sum(float(np.sum(c**2)) for c in clipped))
    assert new_norm == pytest.approx(clip_norm, rel=1e-13)


def test_clip_keeps_each_dtype_and_leaves_inputs_unchanged(rng):
    grads = [rng.standard_normal(4).astype(np.float32), rng.standard_normal((2, 2))]
    before = [g.copy() for g in grads]
    clipped, _ = optim.clip_by_global_norm(grads, 0.1)
    assert [c.dtype for c in clipped] == [np.float32, np.float64]
    for g, b in zip(grads, before, strict=True):
        np.testing.assert_array_equal(g, b)


def test_clip_with_an_infinite_gradient_gives_nan_like_tensorflow():
    clipped, norm = optim.clip_by_global_norm([np.array([np.inf, 1.0]), np.array([2.0])], 1.0)
    assert norm == math.inf
    assert all(np.all(np.isnan(c)) for c in clipped)


@pytest.mark.parametrize(
    ("grads", "clip_norm", "error", "pattern"),
    [
        (np.ones(3), 1.0, TypeError, "grads must be a list or tuple"),
        ([], 1.0, ValueError, "grads must hold at least one array"),
        ([np.ones(2), np.arange(2)], 1.0, TypeError, r"grads\[1\] must have a floating dtype"),
        ([np.ones(2), [1.0]], 1.0, TypeError, r"grads\[1\] must be a numpy.ndarray"),
        ([np.ones(2)], 0.0, ValueError, "clip_norm must be in"),
        ([np.ones(2)], -1.0, ValueError, "clip_norm must be in"),
        ([np.ones(2)], math.nan, ValueError, "clip_norm must be finite"),
    ],
)
def test_clip_bad_input_raises(grads, clip_norm, error, pattern):
    with pytest.raises(error, match="clip_by_global_norm: " + pattern):
        optim.clip_by_global_norm(grads, clip_norm)


def test_adamw_first_step_by_hand() -> None:
    """t = 1: m_hat = dw and v_hat = dw**2, so the step is lr * (sign(dw) + weight_decay * w)
    up to epsilon; with dw = 0 only the decoupled decay moves w (an L2 term in the gradient
    would not move it at all)."""
    w = np.array([2.0, -1.0, 0.5])
    dw = np.array([0.3, 0.0, -4.0])
    lr, lam = 0.1, 0.5
    got, config = optim.adamw(w, dw, {"learning_rate": lr, "weight_decay": lam,
                                      "epsilon": 0.0 + 1e-12})
    want = np.array([2.0 - 0.1 * (1.0 + 0.5 * 2.0),  # 1.8
                     -1.0 - 0.1 * (0.0 + 0.5 * -1.0),  # -0.95
                     0.5 - 0.1 * (-1.0 + 0.5 * 0.5)])  # 0.575
    np.testing.assert_allclose(got, want, rtol=1e-10)
    assert config["t"] == 1


def test_adamw_without_decay_is_adam() -> None:
    rng = np.random.default_rng(3)
    w, dws = rng.standard_normal(4), [rng.standard_normal(4) for _ in range(5)]
    a, _ = run("adamw", w, dws, {"weight_decay": 0.0, "learning_rate": 0.01})
    b, _ = run("adam", w, dws, {"learning_rate": 0.01})
    np.testing.assert_allclose(a[-1], b[-1], rtol=1e-12)
