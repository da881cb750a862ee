"""Whole-model parity: the same initial weights and batches, trained in the reference and in
each framework, losses and every parameter compared at every step.

- MNIST FC 784-256-100-10 (L2 5e-5, Adam 1e-3, batch 100): 20 steps;
- CIFAR-10 FC 3072-100-50-25-10 (Adam, batch 200): 20 steps;
- the dating 4-layer regression net 2-5-5-5-1 from the document's FIXED starting weights
  (MSE, SGD 1e-4, full batch): 100 steps here, through each implementation's catalogue API
  (``FullyConnectedNet``/``RegressionNet`` + update rule, one call per parameter per step);
  the 1,000-step run goes through the idiomatic training steps (``test_trainers.py``), which
  are what a 1,000-step loop should use.

Inputs are synthetic (parity needs the same numbers, not real images).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from support.training import Trajectory, synthetic_classification, train

import dlparity.reference as ref
from dlparity.implementations import DEVICES, FRAMEWORKS, on_device, require
from dlparity.oracle.compare import compare_outputs
from dlparity.oracle.tolerances import tolerance
from dlparity.reference import presets

RUNS = {
    # preset: (steps, data maker)
    "mnist_fc_tf": (20, lambda: synthetic_classification(1000, 784, 10, seed=1)),
    "cifar10_fc": (20, lambda: synthetic_classification(1000, 3072, 10, seed=2)),
    "dating_fc_2_5_5_5_1": (100, lambda: presets.dating_data(
        200, np.random.default_rng(3), noise=presets.PRESETS["dating_fc_2_5_5_5_1"].data_noise)),
}


@cache
def _data(preset: str) -> tuple[np.ndarray, np.ndarray]:
    return RUNS[preset][1]()


@cache
def _reference_run(preset: str) -> Trajectory:
    X, y = _data(preset)
    return train(ref, preset, X, y, RUNS[preset][0])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("impl_name", list(FRAMEWORKS))
@pytest.mark.parametrize("preset", list(RUNS))
def test_training_trajectory_matches_reference(preset, impl_name, device) -> None:
    impl = require(impl_name, device)
    X, y = _data(preset)
    with on_device(impl, device):
        got = train(impl, preset, X, y, RUNS[preset][0])
    want = _reference_run(preset)
    tol = tolerance("training", "float64")
    assert np.all(np.isfinite(got.losses)), f"{preset} {impl_name}: non-finite loss"
    for step in range(len(want.losses)):
        outputs = {"loss": np.asarray(got.losses[step]), **got.params[step]}
        expected = {"loss": np.asarray(want.losses[step]), **want.params[step]}
        mismatches, worst = compare_outputs(outputs, expected, tol)
        assert not mismatches, (
            f"{preset} {impl_name} float64 {device}: step {step + 1} differs from the reference "
            f"(worst relative error {worst:.3g}, rtol {tol.rtol:g}):\n  "
            + "\n  ".join(map(str, mismatches)))
