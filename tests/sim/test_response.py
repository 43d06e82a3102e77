"""Response curves and marginal ROI against closed forms on an exact artifact.

The artifact (cxroi.testing.artifacts.exact_artifact): one segment of N = 10 000 customers that
neither churn (churn intercept −60: p ≈ 1e−26) nor grow (acquisition intercept −60), ARPU
A0 = e^{log 10} = 10 a month, and only the ARPU lever moving: +10 CSAT points raise log ARPU by
d = 0.2. The initiative lifts CSAT by L = 5 points at nominal spend c = 1 000 a month, with no
carry-over (the adstock is this month's spend level r = x / c), no lag and saturation
sat(r) = r(1 + k)/(r + k), k = 1. Every month of a 24-month horizon is funded, so with
u = d·L/10, gross margin g and D = Σ_{m=1}^{24} (1 + i)^−m:

    NPV(x) = D · (g·N·A0·(exp(u·sat(x/c)) − 1) − x)
    marginal ROI(x) = dNPV/dx / D = g·N·A0·u·exp(u·sat(r))·sat'(r)/c − 1,  sat'(r) = k(1+k)/(r+k)²
"""

from __future__ import annotations

import numpy as np
import pytest

from cxroi.sim import finance
from cxroi.sim.plan import PlanSpec
from cxroi.sim.response import cell_curves, scenario_curves
from cxroi.sim.scenario import GrossMargin, parse_scenario
from cxroi.testing.artifacts import exact_artifact, plausible_artifact

N, A0, D_CSAT, LIFT, COST, K, MARGIN, HORIZON = 10_000.0, 10.0, 0.2, 5.0, 1_000.0, 1.0, 0.7, 24
U = D_CSAT * LIFT / 10


def sat(r):
    return r * (1 + K) / (r + K)


def discount_sum() -> float:
    return float(finance.discount_factors(finance.monthly_rate(0.10), HORIZON).sum())


def npv(x):
    return discount_sum() * (MARGIN * N * A0 * np.expm1(U * sat(x / COST)) - x)


def marginal_roi(x):
    r = x / COST
    return MARGIN * N * A0 * U * np.exp(U * sat(r)) * K * (1 + K) / (r + K) ** 2 / COST - 1


@pytest.fixture(scope="module")
def exact(tmp_path_factory):
    values = {"churn_intercept": -60.0, "acq_intercept": -60.0, "arpu_intercept": float(np.log(A0)),
              "arpu_csat": D_CSAT, "lift_csat": LIFT, "lift_nps": 0.0, "lift_carryover": 0.0}
    return exact_artifact(tmp_path_factory.mktemp("response"), "response-exact", values, customers=N, lag=0,
                          monthly_cost=COST, saturation_k=K)


def terms(**settings) -> PlanSpec:
    return PlanSpec(cells=(("I", "S"),), horizon_months=HORIZON, duration_months=HORIZON,
                    gross_margin=GrossMargin(default=MARGIN), **settings)


@pytest.mark.parametrize("planned", [0.0, 400.0, 1_000.0, 2_500.0])
def test_curve_and_marginal_roi_match_the_closed_form(exact, planned):
    curves, marginal = cell_curves(exact, terms(), [planned], max_multiple=3.0, points=7)
    grid = curves[~curves["planned"]]
    np.testing.assert_allclose(grid["monthly_spend"], np.linspace(0, 3_000, 7))
    # float32 kernel: amounts of ~1e6 agree to about 1e-6 relative; 1e-4 leaves room
    np.testing.assert_allclose(grid["npv_mean"], npv(grid["monthly_spend"].to_numpy()), rtol=1e-4, atol=1.0)
    # every draw is the same, so the quantiles equal the mean
    np.testing.assert_allclose(grid["npv_p10"], grid["npv_mean"], rtol=1e-9)
    np.testing.assert_allclose(grid["npv_p90"], grid["npv_mean"], rtol=1e-9)
    assert curves.loc[curves["planned"], "monthly_spend"].item() == planned
    row = marginal.iloc[0]
    assert row["npv_mean"] == pytest.approx(npv(planned), rel=1e-4, abs=1.0)
    # derivative of the quadratic through three spends h = 10 apart: truncation O(h²/c²) ~1e-4
    # relative here, the float32 differences of NPVs a few hundred apart ~1e-4; 2e-3 covers both
    assert row["marginal_roi"] == pytest.approx(marginal_roi(planned), rel=2e-3)


def test_the_marginal_roi_falls_with_spend_and_crosses_zero_where_more_spend_stops_paying(exact):
    """With diminishing returns the next unit of spend earns less the more is spent: the
    closed form's root (where extra spend just pays for itself) lies between 3 × and 30 × nominal."""
    spends = [500.0, 1_000.0, 3_000.0, 30_000.0]
    _, marginal = cell_curves(exact, terms(), spends[:1])
    values = [cell_curves(exact, terms(), [x])[1]["marginal_roi"].item() for x in spends]
    assert values == sorted(values, reverse=True)
    assert values[2] > 0 > values[3]
    assert marginal["marginal_roi"].item() == pytest.approx(values[0])


def test_scenario_curves_cover_each_investment_and_segment(tmp_path):
    art = plausible_artifact(tmp_path, model_id="curves", n_draws=60, n_segments=3, n_initiatives=2)
    scenario = parse_scenario({"name": "two", "horizon_months": 24, "investments": [
        {"initiative": "I1", "segments": ["S1", "S2"], "duration_months": 12, "monthly_spend": 10_000},
        {"initiative": "I2", "segments": ["S3"], "start_month": 4, "duration_months": 6, "monthly_spend": 5_000}]})
    curves, marginal = scenario_curves(art, scenario, points=5)
    assert list(zip(marginal["investment"], marginal["initiative"], marginal["segment"], strict=True)) == [
        (0, "I1", "S1"), (0, "I1", "S2"), (1, "I2", "S3")]
    assert marginal["planned_spend"].tolist() == [10_000.0, 10_000.0, 5_000.0]
    assert len(curves) == 3 * (5 + 1)
    zero = curves[curves["monthly_spend"] == 0]
    assert (zero[["npv_mean", "npv_p10", "npv_p90"]] == 0).all().all()  # no spend, no lift: worth exactly 0
    assert (curves["npv_p10"] <= curves["npv_p50"] + 1e-9).all() and (curves["npv_p50"] <= curves["npv_p90"] + 1e-9).all()
