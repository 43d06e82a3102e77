"""Tracking on an exact model, checked against hand computation (tests/track/conftest.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cxroi.sim.engine import Simulator
from cxroi.testing.artifacts import plausible_artifact
from cxroi.track import ON_TRACK, counterfactual, track
from tests.track.conftest import ARPU, CHURN, CUSTOMERS, NEW, csat_lift, decision, exact_panel

MONTHS = 6


def test_zero_noise_truth_realised_equals_constructed_increment(exact):
    """Outcomes made exactly by the model with the assumed lift: the realised lift is that lift,
    the counterfactual is the no-lift world and the realised increments are the hand-made ones
    (and the decision's own promise), so the status is on track with certainty."""
    result = track(decision(exact.model_id), exact, exact_panel(MONTHS), noise=False)
    # hand-made no-lift world: constant churn 2 %, 200 new, ARPU 100
    base_revenue, base_end = [], []
    customers = CUSTOMERS
    for _ in range(MONTHS):
        churned = customers * CHURN
        base_revenue.append(ARPU * (customers - churned / 2 + NEW / 2))
        customers = customers - churned + NEW
        base_end.append(customers)
    lifted = exact_panel(MONTHS)
    observed = lifted[lifted["period"] >= "2026-01-01"]
    expected_revenue = np.cumsum(observed["revenue"].to_numpy() - base_revenue)
    expected_customers = (observed["customers_start"] - observed["churned"] + observed["new_customers"]).to_numpy() - base_end
    monthly = result.monthly.set_index("metric")
    np.testing.assert_allclose(monthly.loc["incremental_revenue", "realised_mean"], expected_revenue, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(monthly.loc["incremental_customers", "realised_mean"], expected_customers, rtol=1e-6, atol=1e-6)
    # cash flow: incremental revenue × 70 % − nominal spend 1 000 a month
    np.testing.assert_allclose(monthly.loc["incremental_cash_flow", "realised_mean"],
                               np.cumsum(np.diff(expected_revenue, prepend=0) * 0.7 - 1000.0), rtol=1e-6, atol=1e-6)
    # the decision's promise is the same world
    np.testing.assert_allclose(monthly.loc["incremental_revenue", "promised_p50"], expected_revenue, rtol=1e-4)
    assert expected_revenue[-1] > 0
    # realised lift: mean of the lift shown over the six months (single segment: pre-level only)
    lift = result.lift.set_index("metric").loc["csat"]
    assert lift["method"] == "against pre-decision level"
    assert lift["realised"] == pytest.approx(np.mean([csat_lift(m) for m in range(1, MONTHS + 1)]), rel=1e-9)
    assert lift["assumed_mean"] == pytest.approx(lift["realised"], rel=1e-6)
    assert result.status == ON_TRACK and result.probabilities[ON_TRACK] == 1.0


def test_decision_starting_later_is_tracked_from_its_start(exact):
    """Funded from forecast month 3: tracking starts in 2026-03 from the customers observed then,
    and the zero-noise realised increments are the promise from that month on."""
    result = track(decision(exact.model_id, start_month=3), exact, exact_panel(6, start=3), noise=False)
    revenue = result.monthly[result.monthly["metric"] == "incremental_revenue"]
    assert list(revenue["month"]) == ["2026-03", "2026-04", "2026-05", "2026-06"]
    assert revenue["realised_mean"].iloc[0] == pytest.approx(0.0, abs=1e-6)  # the lift acts a month later
    np.testing.assert_allclose(revenue["realised_mean"], revenue["promised_p50"], rtol=1e-4, atol=1e-3)
    assert result.status == ON_TRACK


def test_actual_spend_in_the_panel_replaces_the_planned_spend(exact):
    """A spend_I column of 1 500 a month (planned: 1 000): the realised cash flow subtracts 1 500
    a month, the promise still 1 000."""
    result = track(decision(exact.model_id), exact, exact_panel(MONTHS).assign(spend_I=1500.0), noise=False)
    monthly = result.monthly.set_index("metric")
    revenue = monthly.loc["incremental_revenue", "realised_mean"].to_numpy()
    np.testing.assert_allclose(monthly.loc["incremental_cash_flow", "realised_mean"],
                               np.cumsum(np.diff(revenue, prepend=0) * 0.7 - 1500.0), rtol=1e-9)
    np.testing.assert_allclose(monthly.loc["incremental_cash_flow", "promised_p50"],
                               np.cumsum(np.diff(revenue, prepend=0) * 0.7 - 1000.0), rtol=1e-4)
    assert any("actual spend" in c for c in result.caveats)


def test_no_lift_panel_is_behind_and_counterfactual_follows_observed_scores(exact):
    """Outcomes of the no-lift world: realised increments are zero, below the promised band."""
    result = track(decision(exact.model_id), exact, exact_panel(MONTHS, lift=False), noise=False)
    summary = result.summary.set_index("metric")
    assert summary.loc["incremental_revenue", "realised_mean"] == pytest.approx(0.0, abs=1e-6)
    assert summary.loc["incremental_customers", "realised_mean"] == pytest.approx(0.0, abs=1e-9)
    assert result.probabilities["behind"] == 1.0 and result.status == "behind"
    assert result.lift.set_index("metric").loc["csat", "realised"] == 0.0


def test_counterfactual_without_noise_is_the_simulator_baseline(tmp_path):
    """CSAT/NPS held at the last observed level and no outcome noise: the counterfactual run is
    the engine's baseline (same links, written independently) for every draw and segment."""
    artifact = plausible_artifact(tmp_path, n_draws=50, n_segments=3, n_initiatives=1)
    sim = Simulator(artifact)
    horizon = 5
    zc = np.broadcast_to(sim.zc0, (horizon, *sim.params["churn_intercept"].shape))
    zn = np.broadcast_to(sim.zn0, zc.shape)
    world = counterfactual.run(sim.params, sim.customers0[:, 0], sim.t_next[:, 0], zc, zn)
    base = sim.baseline(horizon)
    np.testing.assert_allclose(world.customers_start, base.customers[:-1], rtol=1e-12)
    np.testing.assert_allclose(world.revenue, base.revenue, rtol=1e-12)
    np.testing.assert_allclose(world.customers_end[-1], base.customers[-1], rtol=1e-12)


def test_outcome_noise_is_centred_on_the_expected_values(tmp_path):
    """With noise, the counterfactual's mean over many draws matches the expected values: churn
    and new customers exactly in expectation; revenue within 4 standard errors of the mean
    (the 4-se tolerance fails by chance with probability < 1e-4)."""
    artifact = plausible_artifact(tmp_path, n_draws=4000, n_segments=1, n_initiatives=1)
    sim = Simulator(artifact)
    zc = np.broadcast_to(sim.zc0, (1, *sim.params["churn_intercept"].shape))
    expected = counterfactual.run(sim.params, sim.customers0[:, 0], sim.t_next[:, 0], zc, zc * 0)
    noisy = counterfactual.run(sim.params, sim.customers0[:, 0], sim.t_next[:, 0], zc, zc * 0,
                               rng=np.random.default_rng(3))
    for field in ("churned", "new_customers"):
        gap = noisy.__dict__[field] - expected.__dict__[field]
        assert abs(gap.mean()) < 4 * gap.std() / math.sqrt(gap.size)
    # revenue: exp(median log ARPU) is the median, so compare medians of the ratio
    ratio = noisy.revenue / expected.revenue
    assert np.median(ratio) == pytest.approx(1.0, abs=4 * 1.2533 * ratio.std() / math.sqrt(ratio.size))



def test_updated_npv_without_a_realised_lift_is_the_spend_alone(exact):
    """No lift realised in six of twelve months: the rest of the horizon is valued with the
    assumed lift × 0, so the whole horizon's NPV is minus the discounted spend, 1 000 a month at
    10 % a year: −1000 · Σ_{m=1..12} 1.1^(−m/12)."""
    result = track(decision(exact.model_id), exact, exact_panel(MONTHS, lift=False), noise=False)
    updated = result.summary.set_index("metric").loc["npv_horizon"]
    expected = -1000.0 * sum(1.1 ** (-m / 12) for m in range(1, 13))
    # the simulator's float32 kernel rounds a month's revenue of about 10^6 to ±0.06: ±1 over 12 months
    assert updated["realised_mean"] == pytest.approx(expected, abs=1.0)
    assert result.lift_ratios["csat"] == pytest.approx(0.0, abs=1e-12)


def test_updated_npv_when_the_promise_is_kept(exact):
    """The assumed lift realised exactly (ratio 1): the updated NPV is the promised one — to date
    the same increments, after it the same forecast (the realised lift's spread is the only
    difference, a tenth of a per cent of the NPV here); over a fully observed horizon it is the
    NPV to date itself."""
    result = track(decision(exact.model_id), exact, exact_panel(MONTHS), noise=False)
    assert result.lift_ratios["csat"] == pytest.approx(1.0, rel=1e-6)
    updated = result.summary.set_index("metric").loc["npv_horizon"]
    assert updated["realised_mean"] == pytest.approx(updated["promised_p50"], rel=1e-3)
    full = track(decision(exact.model_id), exact, exact_panel(12), noise=False).summary.set_index("metric")
    assert full.loc["npv_horizon", "realised_mean"] == pytest.approx(full.loc["npv_to_date", "realised_mean"], rel=1e-12)
