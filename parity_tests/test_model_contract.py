"""The model classes share one constructor contract (dlparity.contract.models): the same
seed gives the same starting weights, and the same bad argument the same error, in every
implementation."""

from __future__ import annotations

import numpy as np
import pytest

import dlparity.reference as ref
from dlparity.parity_tests.impls import FRAMEWORKS, require

KWARGS = dict(hidden_dims=[7, 5], input_dim=6, num_classes=4, reg=0.1, weight_scale=0.05,
              normalization="batchnorm", dtype=np.float64, seed=123)


@pytest.mark.parametrize("impl_name", list(FRAMEWORKS))
def test_same_seed_gives_the_reference_starting_weights(impl_name) -> None:
    got = require(impl_name).FullyConnectedNet(**KWARGS).params
    want = ref.FullyConnectedNet(**KWARGS).params
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=f"{impl_name}: {key}")


@pytest.mark.parametrize("bad", [
    {"hidden_dims": [7, 0]}, {"input_dim": -1}, {"num_classes": 1}, {"reg": float("nan")},
    {"dropout": 1.0}, {"normalization": "layernorm"}, {"dtype": np.int32}, {"seed": 1.5},
], ids=lambda b: next(iter(b)))
@pytest.mark.parametrize("impl_name", list(FRAMEWORKS))
def test_bad_constructor_argument_raises_the_reference_error(impl_name, bad) -> None:
    impl = require(impl_name)
    kwargs = {**KWARGS, **bad}
    with pytest.raises((ValueError, TypeError)) as want:
        ref.FullyConnectedNet(**kwargs)
    with pytest.raises(type(want.value)) as got:
        impl.FullyConnectedNet(**kwargs)
    assert str(got.value) == str(want.value)
    assert next(iter(bad)) in str(want.value)
