"""The numpy increment kernel (the reference) against a plain float64 simulation of both worlds."""

from __future__ import annotations

import numpy as np
import pytest

from cxroi.sim import finance
from cxroi.sim.engine import Simulator
from cxroi.sim.kernel import numpy_increments
from cxroi.sim.scenario import parse_scenario

HORIZON = 36
ALL_LEVERS = frozenset({"retention", "arpu", "acquisition"})


@pytest.fixture(scope="module")
def setting(plausible):
    """A scenario with two overlapping investments on the plausible artifact (4 segments)."""
    sc = parse_scenario({"name": "k", "horizon_months": HORIZON, "investments": [
        {"initiative": "I1", "segments": ["S1", "S2", "S4"], "duration_months": 24, "monthly_spend": 30_000},
        {"initiative": "I2", "segments": ["S2", "S3"], "start_month": 5, "duration_months": 12,
         "monthly_spend": 40_000}]})
    sim = Simulator(plausible)
    index = np.arange(len(sim.segments))
    discount = finance.discount_factors(finance.monthly_rate(0.10), HORIZON)
    margin = np.array([0.6, 0.7, 0.65, 0.8])
    return sim, sc, index, discount, margin


def two_worlds(sim: Simulator, lifts, levers: frozenset[str]) -> dict[str, np.ndarray]:
    """Baseline and scenario simulated separately in float64 from the model equations (logistic
    churn, exponential ARPU and acquisition effects, customer recursion), then subtracted."""
    base = sim.baseline(HORIZON)
    csat = lifts.csat[:, lifts.group_of].astype(float)  # months × segments × draws, points
    nps = lifts.nps[:, lifts.group_of].astype(float)
    p = sim.params
    churn = np.broadcast_to(base.churn, base.new.shape)
    if "retention" in levers:
        logit = np.log(base.churn / (1 - base.churn)) + (p["churn_csat"] * csat + p["churn_nps"] * nps) / 10
        churn = 1 / (1 + np.exp(-logit))
    arpu = base.arpu * (np.exp(p["arpu_csat"] * csat / 10) if "arpu" in levers else 1.0)
    new = base.new * (np.exp(p["acq_nps"] * nps / 10) if "acquisition" in levers else 1.0)
    customers = np.empty_like(base.customers)
    customers[0] = base.customers[0]
    for m in range(HORIZON):
        customers[m + 1] = customers[m] * (1 - churn[m]) + new[m]
    revenue = arpu * (customers[:-1] - customers[:-1] * churn / 2 + new / 2)  # average active customers
    return {"revenue": revenue - base.revenue, "customers": customers - base.customers,
            "survival_gain": base.churn - churn, "new": new - base.new}


# Float32 keeps about seven significant digits of each increment; 36 months of accumulation
# and the subtraction in the float64 reference leave agreement to well within 1e-4 of the
# largest increment.
TOLERANCE = 1e-4


@pytest.mark.parametrize("levers", [ALL_LEVERS, frozenset({"retention"}), frozenset({"arpu"}),
                                    frozenset({"acquisition", "arpu"})])
def test_increments_equal_the_difference_of_two_simulated_worlds(setting, levers):
    sim, sc, index, discount, margin = setting
    lifts = sim.scenario_lifts(sc, index)
    kept = numpy_increments(sim.pack(HORIZON, index), lifts, sim.coefficients(index), levers, discount, margin, keep=True)
    expected = two_worlds(sim, lifts, levers)
    for name in ("revenue", "customers", "survival_gain", "new"):
        ours = getattr(kept, name)
        if ours is None:  # a channel whose lever is off
            assert not expected[name].any(), name
            continue
        scale = np.abs(expected[name]).max()
        if scale == 0:  # e.g. customers when only ARPU moves
            assert not ours.any(), name
            continue
        np.testing.assert_allclose(ours, expected[name], rtol=TOLERANCE, atol=TOLERANCE * scale, err_msg=name)
    revenue = expected["revenue"]
    np.testing.assert_allclose(kept.revenue_pv, np.einsum("msd,m->sd", revenue, discount), rtol=TOLERANCE,
                               atol=TOLERANCE * np.abs(revenue).sum(axis=0).max())
    np.testing.assert_allclose(kept.margin_by_month, np.einsum("msd,s->md", revenue, margin), rtol=TOLERANCE,
                               atol=TOLERANCE * np.abs(revenue).sum(axis=1).max())
    np.testing.assert_allclose(kept.revenue_by_month, revenue.sum(axis=1), rtol=TOLERANCE,
                               atol=TOLERANCE * np.abs(revenue).sum(axis=1).max())


def test_keeping_the_monthly_arrays_changes_no_value(setting):
    sim, sc, index, discount, margin = setting
    lifts = sim.scenario_lifts(sc, index)
    args = (sim.pack(HORIZON, index), lifts, sim.coefficients(index), ALL_LEVERS, discount, margin)
    lean, kept = numpy_increments(*args), numpy_increments(*args, keep=True)
    for name in ("revenue_pv", "revenue_total", "revenue_by_month", "margin_by_month", "customers_end"):
        np.testing.assert_array_equal(getattr(lean, name), getattr(kept, name), err_msg=name)
    assert lean.revenue is None and lean.customers is None
    np.testing.assert_array_equal(kept.customers[-1], kept.customers_end)
    np.testing.assert_allclose(kept.revenue.sum(axis=0), kept.revenue_total, rtol=1e-6)
