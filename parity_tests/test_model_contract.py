"""One seed, one starting point: a framework's FullyConnectedNet built with the reference's
seed computes the reference's scores, loss and gradients before any training.

The starting parameters themselves come from one shared rule (``dlparity.formulas.
seeded_params``, checked against the rule written out in ``tests/test_models.py``), and
the constructor checks from one shared base class, so comparing ``params`` dicts or error
messages across implementations would compare that code with itself. What can differ, and
is checked here, is the framework's own model: that it is built from those parameters
(``nn.Linear`` / Keras ``Dense`` with W as (fan_in, fan_out), no re-initialisation) and
computes the network with them.
"""

from __future__ import annotations

import numpy as np
import pytest

import dlparity.reference as ref
from dlparity.implementations import FRAMEWORKS, require
from dlparity.oracle.compare import compare_outputs
from dlparity.oracle.tolerances import tolerance

KWARGS = dict(hidden_dims=[7, 5], input_dim=6, num_classes=4, reg=0.1, weight_scale=0.5,
              dtype=np.float64, seed=123)


def _outputs(model, X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    scores = model.loss(X)  # test mode first: batch norm's initial running statistics
    loss, grads = model.loss(X, y)
    return {"scores": scores, "loss": np.asarray(loss),
            **{f"d{k}": g for k, g in sorted(grads.items())}}


@pytest.mark.parametrize("normalization", [None, "batchnorm"])
@pytest.mark.parametrize("impl_name", list(FRAMEWORKS))
def test_same_seed_gives_the_reference_starting_point(impl_name, normalization) -> None:
    impl = require(impl_name)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 6)) + 0.5, rng.integers(0, 4, size=5)
    kwargs = {**KWARGS, "normalization": normalization}
    got = _outputs(impl.FullyConnectedNet(**kwargs), X, y)
    want = _outputs(ref.FullyConnectedNet(**kwargs), X, y)
    mismatches, _ = compare_outputs(got, want, tolerance("FullyConnectedNet", "float64"))
    assert not mismatches, (f"{impl_name} FullyConnectedNet(seed=123) does not start from "
                            "the reference's point: " + "; ".join(map(str, mismatches)))
