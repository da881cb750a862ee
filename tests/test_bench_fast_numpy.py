"""``numpy.fast`` (benchmarks/fast_numpy.py) computes what the readable reference computes:
losses, every gradient and every updated parameter within float64 1e-10 over several
steps, with each of its switches, and it refuses the models it does not implement."""

from __future__ import annotations

import numpy as np
import pytest

from dlparity.benchmarks.fast_numpy import FastTrainer
from dlparity.reference.training import Trainer

RTOL = 1e-10  # the parity suite's float64 tolerance (parity_tests/tolerances.py)


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def _pair(dims: tuple[int, ...], **kwargs) -> tuple[FastTrainer, Trainer]:
    kw = {"reg": 0.1, "optim_config": {"learning_rate": 1e-2}, "dtype": np.float64, "seed": 3,
          **kwargs}
    return FastTrainer(dims, **kw), Trainer(dims, **kw)


@pytest.mark.parametrize("dims, n", [((12, 7, 5, 3), 6), ((9, 4), 5), ((784, 256, 100, 10), 8)])
@pytest.mark.parametrize("switches", [{}, {"input_grad": True},
                                      {"fused_adam": False, "input_grad": True}])
def test_fast_step_matches_the_reference_over_five_steps(dims, n, switches) -> None:
    fast, ref = _pair(dims)
    for k, v in switches.items():
        setattr(fast, k, v)
    rng = np.random.default_rng(0)
    for step in range(5):
        X, y = rng.standard_normal((n, dims[0])), rng.integers(0, dims[-1], n)
        ref_loss, ref_grads = ref.model.loss(X, y)
        fast_loss, fast_grads = fast.loss_and_grads(X, y)
        assert fast_loss == pytest.approx(float(ref_loss), rel=RTOL), step
        assert set(fast_grads) == set(ref_grads)
        for k in ref_grads:
            assert _relative(fast_grads[k], ref_grads[k]) < RTOL, (step, k)
        assert fast.step(X, y) == pytest.approx(ref.step(X, y), rel=RTOL)
        for k, w in ref.export_params().items():
            assert _relative(fast.export_params()[k], w) < RTOL, (step, k)


def test_fast_predict_matches_the_reference_and_returns_a_new_array() -> None:
    fast, ref = _pair((10, 6, 4))
    X = np.random.default_rng(1).standard_normal((7, 10))
    scores = fast.predict(X)
    np.testing.assert_allclose(scores, ref.predict(X), rtol=RTOL)
    scores[...] = 0
    assert np.any(fast.predict(X) != 0)  # the caller's array is not the buffer


def test_fast_step_works_in_float32_and_from_the_mnist_preset() -> None:
    fast = FastTrainer.from_preset("mnist_fc_tf", dtype=np.float32, seed=0)
    ref = Trainer.from_preset("mnist_fc_tf", dtype=np.float32, seed=0)
    rng = np.random.default_rng(2)
    X, y = rng.random((16, 784), dtype=np.float32), rng.integers(0, 10, 16)
    assert fast.step(X, y) == pytest.approx(ref.step(X, y), rel=1e-5)
    for k, w in ref.export_params().items():
        assert fast.export_params()[k].dtype == np.float32
        np.testing.assert_allclose(fast.export_params()[k], w, rtol=1e-4, atol=1e-6)


def test_sections_add_up_the_step_when_asked_and_stay_off_otherwise() -> None:
    fast, _ = _pair((12, 7, 5, 3))
    X, y = np.ones((4, 12)), np.array([0, 1, 2, 0])
    fast.step(X, y)
    assert fast.sections is None
    fast.sections = {}
    fast.step(X, y)
    assert set(fast.sections) == {"gemm", "elementwise", "optimizer"}
    assert all(v >= 0 for v in fast.sections.values())


@pytest.mark.parametrize("kwargs, words", [
    ({"dropout": 0.5}, "dropout=0.0"),
    ({"normalization": "batchnorm"}, "normalization=None"),
    ({"update_rule": "sgd"}, "update_rule='adam'"),
    ({"device": "cuda"}, "'cpu' only"),
])
def test_fast_refuses_what_it_does_not_implement(kwargs, words) -> None:
    with pytest.raises(ValueError, match=words.replace("(", r"\(")):
        FastTrainer((5, 4, 3), **kwargs)
