"""Learning-rate schedules of the NumPy reference (SPEC.md §2, §4): pure functions -> float."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlparity.reference import schedules


@pytest.mark.parametrize(
    ("lr0", "decay_rate", "epoch"), [(0.1, 0.5, 0), (0.1, 0.5, 3), (2e-3, 1.0, 2.5), (1.0, 0.0, 7)]
)
def test_time_based_decay_is_lr0_over_1_plus_decay_rate_times_epoch(lr0, decay_rate, epoch):
    assert schedules.time_based_decay(lr0, decay_rate, epoch) == pytest.approx(
        lr0 / (1 + decay_rate * epoch), rel=1e-15
    )


def test_time_based_decay_worked_numbers():
    # 0.2 / (1 + 1 * 1) = 0.1; 0.2 / (1 + 1 * 3) = 0.05
    assert schedules.time_based_decay(0.2, 1.0, 1) == pytest.approx(0.1, rel=1e-15)
    assert schedules.time_based_decay(0.2, 1.0, 3) == pytest.approx(0.05, rel=1e-15)


@pytest.mark.parametrize("epoch", [0, 1, 2, 10, 2.5])
def test_exponential_decay_default_base_is_0_95_power_epoch(epoch):
    assert schedules.exponential_decay(0.1, epoch) == pytest.approx(0.95**epoch * 0.1, rel=1e-14)


def test_exponential_decay_worked_numbers_with_base_0_5():
    assert schedules.exponential_decay(1.0, 3, base=0.5) == 0.125
    assert schedules.exponential_decay(0.3, 0, base=0.5) == 0.3


@pytest.mark.parametrize(("epoch", "k"), [(1, 1.0), (4, 1.0), (9, 0.3), (2.25, 2.0)])
def test_inverse_sqrt_decay_is_k_over_sqrt_epoch_times_lr0(epoch, k):
    assert schedules.inverse_sqrt_decay(0.1, epoch, k) == pytest.approx(
        k / math.sqrt(epoch) * 0.1, rel=1e-15
    )


def test_inverse_sqrt_decay_worked_numbers():
    assert schedules.inverse_sqrt_decay(0.1, 4, 1.0) == pytest.approx(0.05, rel=1e-15)
    assert schedules.inverse_sqrt_decay(0.1, 100, 2.0) == pytest.approx(0.02, rel=1e-15)


@pytest.mark.parametrize(
    ("step", "decays"),
    [
        (0, 0),  # before start
        (9_999, 0),
        (10_000, 0),  # at start: no decay yet
        (29_999, 0),  # start + every - 1
        (30_000, 1),  # start + every: the first decay
        (49_999, 1),
        (50_000, 2),  # start + 2 * every
        (130_000, 6),
    ],
)
def test_step_decay_staircase_after_10000_steps_by_0_95_every_20000(step, decays):
    # the document's example: after 10,000 iterations, decay by 0.95 every 20,000
    lr = schedules.step_decay(0.1, step, 0.95, 10_000, 20_000)
    assert lr == pytest.approx(0.1 * 0.95**decays, rel=1e-15)


def test_step_decay_with_start_0_and_every_1_decays_at_every_step():
    assert [schedules.step_decay(1.0, s, 0.5, 0, 1) for s in range(4)] == [1.0, 0.5, 0.25, 0.125]


@pytest.mark.parametrize(
    "call",
    [
        lambda: schedules.time_based_decay(np.float32(0.1), 1, 2),
        lambda: schedules.exponential_decay(np.float64(0.1), np.int64(2)),
        lambda: schedules.inverse_sqrt_decay(0.1, np.int32(4), 1),
        lambda: schedules.step_decay(np.float32(0.5), np.int64(5), 0.5, 0, 2),
    ],
)
def test_schedules_return_python_floats_even_for_numpy_scalar_inputs(call):
    assert type(call()) is float


BAD = [
    (lambda: schedules.time_based_decay(-0.1, 0.5, 1), ValueError, "time_based_decay: lr0"),
    (lambda: schedules.time_based_decay(math.nan, 0.5, 1), ValueError, "time_based_decay: lr0"),
    (lambda: schedules.time_based_decay(0.1, -0.5, 1), ValueError, "time_based_decay: decay_rate"),
    (lambda: schedules.time_based_decay(0.1, 0.5, -1), ValueError, "time_based_decay: epoch"),
    (lambda: schedules.time_based_decay(0.1, 0.5, "1"), TypeError, "time_based_decay: epoch"),
    (lambda: schedules.exponential_decay(math.inf, 1), ValueError, "exponential_decay: lr0"),
    (lambda: schedules.exponential_decay(0.1, -2), ValueError, "exponential_decay: epoch"),
    (lambda: schedules.exponential_decay(0.1, 2, base=0.0), ValueError, "exponential_decay: base"),
    (lambda: schedules.exponential_decay(0.1, 2, base=-0.9), ValueError, "exponential_decay: base"),
    (lambda: schedules.inverse_sqrt_decay(0.1, 0, 1.0), ValueError, "inverse_sqrt_decay: epoch"),
    (lambda: schedules.inverse_sqrt_decay(0.1, -1, 1.0), ValueError, "inverse_sqrt_decay: epoch"),
    (lambda: schedules.inverse_sqrt_decay(0.1, 1, 0.0), ValueError, "inverse_sqrt_decay: k"),
    (lambda: schedules.step_decay(0.1, -1, 0.5, 0, 1), ValueError, "step_decay: step"),
    (lambda: schedules.step_decay(0.1, 1.0, 0.5, 0, 1), TypeError, "step_decay: step"),
    (lambda: schedules.step_decay(0.1, 1, 0.0, 0, 1), ValueError, "step_decay: factor"),
    (lambda: schedules.step_decay(0.1, 1, math.nan, 0, 1), ValueError, "step_decay: factor"),
    (lambda: schedules.step_decay(0.1, 1, 0.5, -1, 1), ValueError, "step_decay: start"),
    (lambda: schedules.step_decay(0.1, 1, 0.5, 0, 0), ValueError, "step_decay: every"),
    (lambda: schedules.step_decay(0.1, 1, 0.5, 0, True), TypeError, "step_decay: every"),
]


@pytest.mark.parametrize(("call", "error", "prefix"), BAD, ids=[b[2] for b in BAD])
def test_bad_schedule_arguments_raise_naming_the_argument(call, error, prefix):
    with pytest.raises(error, match=prefix):
        call()
