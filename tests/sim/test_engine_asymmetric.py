"""Gain/loss churn effects in the simulator: a score below its reference moves churn at the loss
slope, above it at the gain slope, and a lift that crosses the reference is valued piecewise —
checked against hand computation on one-segment artifacts whose draws are all equal."""

from __future__ import annotations

import math

import numpy as np

from cxroi.sim.engine import simulate
from cxroi.testing.artifacts import exact_artifact
from tests.sim.test_engine import LOGIT_P, scenario

GAIN, LOSS = -0.2, -0.6  # churn logit per +10 CSAT points above / below the reference (70 %)
COMMON = {"churn_intercept": LOGIT_P, "churn_csat": GAIN, "acq_intercept": -60.0, "arpu_intercept": 0.0,
          "lift_csat": 10.0, "lift_carryover": 0.0}


def logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_a_lift_from_below_the_reference_is_valued_at_both_slopes(tmp_path):
    """Last CSAT 67 %, 3 points below the reference: baseline logit churn = logit(5 %) + LOSS ×
    (−0.3). A lift of 10 points (carry-over 0, nominal spend ⇒ full effect from month 1, felt
    from month 2) takes CSAT to 77 %: logit = logit(5 %) + GAIN × 0.7. The first 3 points are
    worth LOSS per 10 points, the next 7 GAIN."""
    art = exact_artifact(tmp_path, "below", {**COMMON, "churn_csat_loss": LOSS}, csat=67.0)
    res = simulate(scenario(horizon=4, duration_months=4), art)
    p0 = logistic(LOGIT_P + LOSS * -0.3)
    p1 = logistic(LOGIT_P + GAIN * 0.7)
    baseline = 10_000 * (1 - p0) ** np.arange(4)
    np.testing.assert_allclose(res.baseline.customers[0, 0], baseline, rtol=1e-12)
    expected = 10_000 * np.array([1, 1 - p0, (1 - p0) * (1 - p1), (1 - p0) * (1 - p1) ** 2])
    np.testing.assert_allclose(res.scenario_paths.customers[0, 0], expected, rtol=1e-6)  # float32 increments


def test_above_the_reference_the_loss_slope_plays_no_part(tmp_path):
    """Last CSAT 72 %, above the reference: the baseline and a rise use the gain slope only, so
    the result equals the symmetric model's whatever the loss slope."""
    gain_loss = simulate(scenario(horizon=6, duration_months=4),
                         exact_artifact(tmp_path, "above", {**COMMON, "churn_csat_loss": LOSS}, csat=72.0))
    symmetric = simulate(scenario(horizon=6, duration_months=4), exact_artifact(tmp_path, "sym", COMMON, csat=72.0))
    np.testing.assert_allclose(gain_loss.scenario_paths.customers, symmetric.scenario_paths.customers, rtol=1e-6)
    np.testing.assert_allclose(gain_loss.baseline.customers, symmetric.baseline.customers, rtol=1e-12)


def test_equal_slopes_are_the_symmetric_model(tmp_path):
    """Loss slope = gain slope below the reference: the same numbers as a symmetric model."""
    gain_loss = simulate(scenario(horizon=6), exact_artifact(tmp_path, "equal", {**COMMON, "churn_csat_loss": GAIN},
                                                             csat=64.0))
    symmetric = simulate(scenario(horizon=6), exact_artifact(tmp_path, "plain", COMMON, csat=64.0))
    np.testing.assert_allclose(gain_loss.npv, symmetric.npv, rtol=1e-6)
    np.testing.assert_allclose(gain_loss.baseline.customers, symmetric.baseline.customers, rtol=1e-12)
