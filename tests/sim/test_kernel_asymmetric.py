"""Gain/loss (asymmetric) churn effects in both kernels: the fused kernel against the numpy
reference, both against the closed form, and the symmetric path unchanged."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from cxroi.sim.engine import Simulator
from cxroi.sim.fused import fused_increments
from cxroi.sim.kernel import (
    FLOAT,
    BaselinePack,
    Coefficients,
    Lifts,
    MonthlyBaseline,
    numpy_increments,
)
from tests.sim.test_fused import (
    FIELDS,
    LEVERS,
    assert_chunks_change_nothing,
    assert_same_increments,
    largest_effect,
    random_scenario,
)

KERNELS = {"fused": fused_increments, "numpy": numpy_increments}


@pytest.fixture(scope="module")
def simulator(plausible) -> Simulator:
    return Simulator(plausible)


def with_loss_slopes(args: tuple, seed: int, lift_points: float) -> tuple:
    """``args`` of an increments call with random loss slopes (per point, differences from the gain
    slope of either sign) and baseline positions within ±``lift_points`` of the reference, so that
    many draws' lifts cross it; the retention lever on."""
    pack, lifts, coefficients, levers, discount, margin = args
    rng = np.random.default_rng(seed)
    shape = coefficients.retention_csat.shape

    def draws(scale: float) -> np.ndarray:
        return (scale * rng.uniform(-1.0, 1.0, shape)).astype(FLOAT)

    asymmetric = replace(coefficients, retention_csat_loss_extra=draws(0.04), retention_nps_loss_extra=draws(0.02),
                         csat_position=draws(lift_points), nps_position=draws(lift_points))
    return pack, lifts, asymmetric, levers | {"retention"}, discount, margin


@pytest.mark.parametrize(("seed", "lift_points"), [(seed, 5.0) for seed in range(4)] + [(seed, 60.0) for seed in (4, 5)])
@pytest.mark.parametrize("keep", [False, True])
def test_fused_kernel_equals_the_numpy_reference_with_loss_slopes(simulator, seed, lift_points, keep):
    symmetric = random_scenario(simulator, seed, lift_points)
    args = with_loss_slopes(symmetric, seed, lift_points)
    assert (largest_effect(args) > 0.69) == (lift_points > 10)  # both expm1 paths
    ours, reference = fused_increments(*args, keep=keep), numpy_increments(*args, keep=keep)
    assert_same_increments(ours, reference)
    plain = numpy_increments(*symmetric[:3], args[3], *symmetric[4:], keep=keep)
    assert not np.allclose(reference.customers_end, plain.customers_end, rtol=1e-3)  # the loss slopes count


def test_threads_and_chunks_do_not_change_a_number_with_loss_slopes(simulator, monkeypatch):
    assert_chunks_change_nothing(monkeypatch, with_loss_slopes(random_scenario(simulator, 21, 60.0), 21, 60.0))


# ------------------------------------------------------------------ one segment, one draw, one month
P0, CUSTOMERS = 0.02, 1_000.0
GAIN_CSAT, LOSS_CSAT = -0.25, -0.60  # logit of churn per 10 CSAT points above / below the reference
GAIN_NPS, LOSS_NPS = -0.10, -0.30


def one_month(csat_position: float, csat_lift: float, nps_position: float = 0.0, nps_lift: float = 0.0,
              loss_csat: float = LOSS_CSAT, loss_nps: float = LOSS_NPS) -> tuple:
    """Arguments of an increments call for one segment, one draw and one month: churn P0, CUSTOMERS
    customers, no new customers, ARPU 100, retention lever only."""
    one = np.ones((1, 1))

    def monthly() -> MonthlyBaseline:
        customers = np.array([CUSTOMERS, CUSTOMERS * (1.0 - P0)]).reshape(2, 1, 1)
        return MonthlyBaseline.of(customers, np.zeros((1, 1, 1)), np.full((1, 1, 1), 100.0))

    pack = BaselinePack.of(1, CUSTOMERS * one, P0 * one, 0.0 * one, one, 100.0 * one, one, monthly)
    lifts = Lifts(np.full((1, 1, 1), csat_lift, dtype=FLOAT), np.full((1, 1, 1), nps_lift, dtype=FLOAT),
                  np.zeros(1, dtype=np.intp))
    params = {"churn_csat": GAIN_CSAT * one, "churn_nps": GAIN_NPS * one, "churn_csat_loss": loss_csat * one,
              "churn_nps_loss": loss_nps * one, "arpu_csat": 0.0 * one, "acq_nps": 0.0 * one}
    coefficients = Coefficients.of(params, np.array([0]), np.array([csat_position]), np.array([nps_position]))
    return pack, lifts, coefficients, frozenset({"retention"}), np.ones(1), np.ones(1)


def survival_gain(churn_logit_change: float) -> float:
    """p0 − p1 with logit p1 = logit p0 + the change, in float64."""
    p1 = 1.0 / (1.0 + math.exp(-(math.log(P0 / (1.0 - P0)) + churn_logit_change)))
    return P0 - p1


# (position u, lift L, change of the logit of churn worked out by hand, per 10 points)
CSAT_CASES = [
    (-3.0, 5.0, (3 * LOSS_CSAT + 2 * GAIN_CSAT) / 10),  # from 3 below the reference to 2 above
    (2.0, -5.0, (-2 * GAIN_CSAT - 3 * LOSS_CSAT) / 10),  # from 2 above to 3 below
    (4.0, 5.0, 5 * GAIN_CSAT / 10),  # above throughout
    (-10.0, 5.0, 5 * LOSS_CSAT / 10),  # below throughout
    (0.0, -4.0, -4 * LOSS_CSAT / 10),  # a fall from the reference
]


@pytest.mark.parametrize("name", KERNELS)
@pytest.mark.parametrize(("position", "lift", "change"), CSAT_CASES)
def test_survival_gain_equals_the_closed_form(name, position, lift, change):
    kept = KERNELS[name](*one_month(position, lift), keep=True)
    expected = survival_gain(change)
    np.testing.assert_allclose(kept.survival_gain[0, 0, 0], expected, rtol=2e-6)
    np.testing.assert_allclose(kept.customers_end[0, 0], CUSTOMERS * expected, rtol=2e-6)  # Δc[1] = c0·g


@pytest.mark.parametrize("name", KERNELS)
def test_csat_and_nps_kinks_add_up(name):
    """CSAT from 3 below to 2 above, NPS from 1 above to 3 below, in the same month."""
    kept = KERNELS[name](*one_month(-3.0, 5.0, nps_position=1.0, nps_lift=-4.0), keep=True)
    change = (3 * LOSS_CSAT + 2 * GAIN_CSAT - 1 * GAIN_NPS - 3 * LOSS_NPS) / 10
    np.testing.assert_allclose(kept.survival_gain[0, 0, 0], survival_gain(change), rtol=2e-6)


@pytest.mark.parametrize("name", KERNELS)
def test_equal_slopes_give_the_symmetric_result_exactly(name):
    equal = one_month(-3.0, 5.0, nps_position=1.0, nps_lift=-4.0, loss_csat=GAIN_CSAT, loss_nps=GAIN_NPS)
    symmetric = replace(equal[2], retention_csat_loss_extra=None, retention_nps_loss_extra=None, csat_position=None,
                        nps_position=None)
    ours, theirs = KERNELS[name](*equal, keep=True), KERNELS[name](*equal[:2], symmetric, *equal[3:], keep=True)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(ours, field), getattr(theirs, field), err_msg=field)
    np.testing.assert_allclose(ours.survival_gain[0, 0, 0], survival_gain((5 * GAIN_CSAT - 4 * GAIN_NPS) / 10),
                               rtol=2e-6)


# ------------------------------------------------------------------ the symmetric path
@pytest.mark.parametrize("name", KERNELS)
def test_zero_extras_change_no_number_of_the_symmetric_kernel(simulator, name):
    """Loss slopes equal to the gain slopes (extras zero) at any positions: every array is the
    symmetric kernel's, bit for bit, on all levers and the artifact's draws."""
    pack, lifts, coefficients, _, discount, margin = random_scenario(simulator, 8, 8.0)
    zero = np.zeros(coefficients.retention_csat.shape, dtype=FLOAT)
    positions = np.random.default_rng(8).uniform(-8.0, 8.0, zero.shape).astype(FLOAT)
    equal = replace(coefficients, retention_csat_loss_extra=zero, retention_nps_loss_extra=zero,
                    csat_position=positions, nps_position=-positions)
    levers = frozenset(LEVERS)
    ours = KERNELS[name](pack, lifts, equal, levers, discount, margin, keep=True)
    theirs = KERNELS[name](pack, lifts, coefficients, levers, discount, margin, keep=True)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(ours, field), getattr(theirs, field), err_msg=field)


# ------------------------------------------------------------------ Coefficients.of
def test_coefficients_without_loss_slopes_are_symmetric(simulator):
    coefficients = Coefficients.of(simulator.params, np.array([0, 2]))
    assert not coefficients.asymmetric
    assert coefficients.csat_position is None and coefficients.retention_nps_loss_extra is None


def test_coefficients_of_loss_slopes_per_point_and_positions_broadcast():
    gain, loss = np.array([[-0.2, -0.3], [-0.1, -0.1], [-0.4, -0.2]]), np.array([[-0.5, -0.3], [0.1, -0.6], [0, 0]])
    params = {"churn_csat": gain, "churn_nps": gain, "churn_csat_loss": loss, "arpu_csat": gain, "acq_nps": gain}
    index = np.array([2, 0])
    by_segment = Coefficients.of(params, index, np.array([-3.0, 4.0]), np.array([[1.0], [-2.0]]))
    # −(loss − gain)/10 per point; no NPS loss slope: equal to the gain slope
    np.testing.assert_allclose(by_segment.retention_csat_loss_extra, [[-0.04, -0.02], [0.03, 0.0]], rtol=1e-6)
    np.testing.assert_array_equal(by_segment.retention_nps_loss_extra, np.zeros((2, 2)))
    np.testing.assert_array_equal(by_segment.csat_position, [[-3.0, -3.0], [4.0, 4.0]])
    np.testing.assert_array_equal(by_segment.nps_position, [[1.0, 1.0], [-2.0, -2.0]])
    assert by_segment.csat_position.dtype == FLOAT and by_segment.csat_position.flags.c_contiguous
    per_draw = Coefficients.of(params, index, np.array([[-3.0, -1.0], [4.0, 5.0]]), np.zeros(2))
    np.testing.assert_array_equal(per_draw.csat_position, [[-3.0, -1.0], [4.0, 5.0]])
    with pytest.raises(ValueError, match="positions"):
        Coefficients.of(params, index)
    with pytest.raises(ValueError, match="3 segments, not 2"):
        Coefficients.of(params, index, np.zeros(3), np.zeros(2))
