"""State carried across calls: batch norm's running statistics over several training
batches, then test mode on a new batch, in each framework against the reference."""

from __future__ import annotations

import numpy as np
import pytest

import dlparity.reference as ref
from dlparity.parity_tests.compare import compare_outputs
from dlparity.parity_tests.impls import DEVICES, FRAMEWORKS, on_device, require
from dlparity.parity_tests.registry import cast, seed_for
from dlparity.parity_tests.tolerances import tolerance


def _batches(n_batches: int, n: int, d: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed_for("batchnorm_sequence"))
    return [rng.standard_normal((n, d)) * 3.0 + rng.standard_normal(d) for _ in range(n_batches)]


def _run(impl, batches, gamma, beta, unbiased: bool) -> dict[str, np.ndarray]:
    bn_param = {"mode": "train", "momentum": 0.8, "running_var_unbiased": unbiased}
    outputs = {}
    for k, x in enumerate(batches[:-1]):
        outputs[f"train_out[{k}]"], _ = impl.batchnorm_forward(x, gamma, beta, bn_param)
        outputs[f"running_mean[{k}]"] = bn_param["running_mean"]
        outputs[f"running_var[{k}]"] = bn_param["running_var"]
    bn_param["mode"] = "test"
    outputs["test_out"], _ = impl.batchnorm_forward(batches[-1], gamma, beta, bn_param)
    return outputs


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("unbiased", [False, True], ids=["biased_var", "unbiased_var"])
@pytest.mark.parametrize("impl_name", list(FRAMEWORKS))
def test_batchnorm_running_statistics_then_test_mode(impl_name, unbiased, dtype, device) -> None:
    impl = require(impl_name, device)
    batches = cast(_batches(6, 10, 4), np.dtype(dtype))
    rng = np.random.default_rng(seed_for("batchnorm_sequence", "affine"))
    gamma, beta = cast((1.0 + 0.2 * rng.standard_normal(4), rng.standard_normal(4)),
                       np.dtype(dtype))
    with on_device(impl, device):
        got = _run(impl, batches, gamma, beta, unbiased)
    want = _run(ref, cast(batches, np.float64), cast(gamma, np.float64), cast(beta, np.float64),
                unbiased)
    tol = tolerance("batchnorm_forward", dtype)
    mismatches, worst = compare_outputs(got, want, tol, check_dtype=False)
    assert not mismatches, (
        f"batchnorm_forward sequence {impl_name} {dtype} {device}: worst relative error "
        f"{worst:.3g} (rtol {tol.rtol:g}):\n  " + "\n  ".join(map(str, mismatches)))
