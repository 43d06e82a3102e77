"""The engine against hand-derived paths, the lever split's accounting, and its isolation from
the training stack."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from cxroi.errors import ScenarioError
from cxroi.sim.engine import Simulator, simulate
from cxroi.sim.scenario import parse_scenario
from cxroi.testing.artifacts import exact_artifact, plausible_artifact, plausible_draws

REPO = Path(__file__).resolve().parents[2]
P = 0.05  # monthly churn of the hand-made artifacts
LOGIT_P = math.log(P / (1 - P))


def scenario(horizon=6, levers=None, terminal=False, rate=0.0, margin=0.5, **investment):
    inv = {"initiative": "I", "segments": ["S"], "start_month": 1, "duration_months": 3,
           "monthly_spend": 1_000.0, **investment}
    return parse_scenario({"name": "t", "investments": [inv], "horizon_months": horizon,
                           "annual_discount_rate": rate, "gross_margin": margin, "terminal_value": terminal,
                           "levers": levers or {}})


def test_baseline_is_geometric_decay_without_acquisition(tmp_path):
    art = exact_artifact(tmp_path, "decay", {"churn_intercept": LOGIT_P, "acq_intercept": -60.0,
                                             "arpu_intercept": math.log(50.0)})
    res = simulate(scenario(), art)
    months = np.arange(6)
    expected = 10_000 * (1 - P) ** months  # customers at the start of month m
    np.testing.assert_allclose(res.baseline.customers[0, 0], expected, rtol=1e-12)
    np.testing.assert_allclose(res.baseline.churned[0, 0], expected * P, rtol=1e-12)
    # revenue = ARPU × (customers − churned / 2)
    np.testing.assert_allclose(res.baseline.revenue[0, 0], 50 * expected * (1 - P / 2), rtol=1e-12)
    assert res.baseline.customers_end[0, 0] == pytest.approx(10_000 * (1 - P) ** 6, rel=1e-12)


def test_acquisition_equal_to_churn_keeps_customers_steady(tmp_path):
    art = exact_artifact(tmp_path, "steady", {"churn_intercept": LOGIT_P, "acq_intercept": math.log(10_000 * P)})
    res = simulate(scenario(horizon=24), art)
    np.testing.assert_allclose(res.baseline.customers, 10_000, rtol=1e-12)
    np.testing.assert_allclose(res.baseline.new_customers, 500, rtol=1e-12)


def _adstock_by_hand(spend, carryover):
    level, out = 0.0, []
    for x in spend:
        level = carryover * level + (1 - carryover) * x
        out.append(level)
    return np.array(out)


def test_lift_ramps_up_decays_and_acts_with_the_lag(tmp_path):
    # CSAT lift 10 points at full effect, carry-over 0.5, k = 1, nominal spend for months 1–3 of 6;
    # ARPU rises by arpu_csat = 0.1 per 10 points; no effect on churn or acquisition.
    art = exact_artifact(tmp_path, "ramp", {"churn_intercept": LOGIT_P, "acq_intercept": -60.0,
                                            "arpu_intercept": math.log(50.0), "arpu_csat": 0.1,
                                            "lift_csat": 10.0, "lift_carryover": 0.5})
    res = simulate(scenario(), art)
    level = _adstock_by_hand([1, 1, 1, 0, 0, 0], 0.5)  # 0.5, 0.75, 0.875, 0.4375, 0.21875, 0.109375
    share = level * 2 / (level + 1)
    felt = np.concatenate([[0.0], share[:-1]])  # lag of one month
    uplift = np.exp(0.1 * 10 * felt / 10) - 1
    base = res.baseline.revenue[0, 0]
    np.testing.assert_allclose(res.incremental_revenue[0, 0], base * uplift, rtol=1e-6)  # float32 effects
    assert res.incremental_revenue[0, 0, 0] == 0.0
    assert np.argmax(res.incremental_revenue[0, 0]) == 3  # peak one month after the spend stops
    # cash flow = incremental revenue × margin − spend (1 000 in months 1–3)
    np.testing.assert_allclose(res.cash_flow[0, 0], base * uplift * 0.5 - [1000, 1000, 1000, 0, 0, 0],
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(res.value_by_lever["arpu"], res.npv_by_segment + res.pv_spend_by_segment,
                               rtol=1e-9)
    assert not res.value_by_lever["retention"].any() and not res.value_by_lever["acquisition"].any()


def test_retention_lift_moves_churn_through_the_logistic(tmp_path):
    # a constant CSAT lift of 10 × sat(A) with churn_csat = −0.5 per 10 points
    art = exact_artifact(tmp_path, "churn", {"churn_intercept": LOGIT_P, "churn_csat": -0.5,
                                             "acq_intercept": -60.0, "arpu_intercept": 0.0,
                                             "lift_csat": 10.0, "lift_carryover": 0.0})
    res = simulate(scenario(horizon=4, duration_months=4), art)
    # carry-over 0 ⇒ A = 1 from month 1, sat(1) = 1, felt from month 2: logit p = logit(0.05) − 0.5
    p1 = 1 / (1 + math.exp(-(LOGIT_P - 0.5)))
    expected = 10_000 * np.array([1, 1 - P, (1 - P) * (1 - p1), (1 - P) * (1 - p1) ** 2])
    np.testing.assert_allclose(res.scenario_paths.customers[0, 0], expected, rtol=1e-6)
    np.testing.assert_allclose(res.scenario_paths.churned[0, 0], expected * [P, p1, p1, p1], rtol=1e-6)


def test_terminal_value_is_the_baseline_clv_of_extra_customers(tmp_path):
    # acquisition lever only: extra customers at the horizon are valued at m·r/(1+i−r), discounted
    art = exact_artifact(tmp_path, "tv", {"churn_intercept": LOGIT_P, "acq_intercept": math.log(400.0),
                                          "acq_nps": 0.5, "arpu_intercept": math.log(20.0),
                                          "lift_nps": 10.0, "lift_carryover": 0.3})
    res = simulate(scenario(horizon=12, terminal=True, rate=0.10, margin=0.6, duration_months=12), art)
    i = 1.1 ** (1 / 12) - 1
    extra = res.scenario_paths.customers_end - res.baseline.customers_end
    assert (extra > 0).all()
    per_customer = 20.0 * 0.6 * (1 - P) / (1 + i - (1 - P)) * (1 + i) ** -12
    np.testing.assert_allclose(res.terminal_value, extra * per_customer, rtol=1e-12)
    no_tv = simulate(scenario(horizon=12, terminal=False, rate=0.10, margin=0.6, duration_months=12), art)
    np.testing.assert_allclose(res.npv - no_tv.npv, res.terminal_value.sum(axis=1), rtol=1e-9)
    assert res.value_by_lever["acquisition"] == pytest.approx(res.npv_by_segment + res.pv_spend_by_segment)


def test_zero_lift_override_loses_exactly_the_spend(tmp_path):
    art = plausible_artifact(tmp_path, n_draws=50, n_segments=2, n_initiatives=1)
    sc = parse_scenario({"name": "no effect", "horizon_months": 12, "investments": [
        {"initiative": "I1", "segments": ["S1", "S2"], "duration_months": 6, "monthly_spend": 5_000,
         "one_off_cost": 20_000, "lift": {"csat": {"mean": 0.0, "sd": 1e-12}, "nps": {"mean": 0.0, "sd": 1e-12}}}]})
    res = simulate(sc, art)
    i = 1.1 ** (1 / 12) - 1
    # spend: 20 000 + 10 000 in month 1, then 10 000 in months 2–6 (two segments × 5 000)
    pv_spend = 20_000 / (1 + i) + 10_000 * (1 - (1 + i) ** -6) / i
    assert res.pv_spend == pytest.approx(pv_spend, rel=1e-12)
    np.testing.assert_allclose(res.npv, -pv_spend, rtol=1e-6)
    np.testing.assert_allclose(res.roi, -1.0, rtol=1e-6)
    assert np.isnan(res.payback_month).all()
    # cash flows are −spend plus ~1e-9 noise from the 1e-12 lift: no IRR, or one at ≈ −100 %
    assert (np.isnan(res.irr) | (res.irr < -0.999)).all()


def test_spend_matrix_splits_one_off_costs_and_stops_at_the_horizon(tmp_path):
    art = plausible_artifact(tmp_path, n_draws=10, n_segments=3, n_initiatives=2)
    sc = parse_scenario({"name": "s", "horizon_months": 5, "investments": [
        {"initiative": "I1", "segments": ["S1", "S3"], "start_month": 4, "duration_months": 12,
         "monthly_spend": 100, "one_off_cost": 1_000},
        {"initiative": "I2", "segments": ["S3"], "start_month": 2, "duration_months": 1, "monthly_spend": 7}]})
    expected = np.array([[0, 0, 0, 600, 100], [0, 0, 0, 0, 0], [0, 7, 0, 600, 100]], dtype=float)
    np.testing.assert_array_equal(simulate(sc, art).spend, expected)


@pytest.fixture(scope="module")
def plausible_result(plausible):
    sc = parse_scenario({"name": "p", "horizon_months": 36, "terminal_value": True, "investments": [
        {"initiative": "I1", "segments": ["S1", "S2"], "duration_months": 24, "monthly_spend": 10_000,
         "one_off_cost": 50_000},
        {"initiative": "I2", "segments": ["S2"], "start_month": 7, "duration_months": 12, "monthly_spend": 20_000}]})
    return simulate(sc, plausible)


def test_levers_add_up_to_the_gross_value(plausible_result):
    res = plausible_result
    total = sum(res.value_by_lever.values())
    np.testing.assert_allclose(total, res.npv_by_segment + res.pv_spend_by_segment, rtol=1e-9, atol=1e-6)
    assert all((res.value_by_lever[lever][:, :2].mean(axis=0) > 0).all() for lever in res.value_by_lever)


def test_segments_not_reached_stay_at_the_baseline(plausible_result):
    res = plausible_result
    for name in ("customers", "churned", "new_customers", "revenue"):
        np.testing.assert_array_equal(getattr(res.scenario_paths, name)[:, 2:], getattr(res.baseline, name)[:, 2:])
    assert not res.cash_flow[:, 2:].any() and not res.terminal_value[:, 2:].any()
    assert (res.scenario_paths.customers_end[:, :2].mean(axis=0) > res.baseline.customers_end[:, :2].mean(axis=0)).all()


def test_shapley_split_matches_runs_with_lever_subsets(plausible, plausible_result):
    # φ_retention = 1/3 v(R) + 1/6 (v(R,A) − v(A)) + 1/6 (v(R,Q) − v(Q)) + 1/3 (v(R,A,Q) − v(A,Q))
    base = plausible_result.scenario.model_dump()

    def v(*levers):
        flags = {lever: lever in levers for lever in ("retention", "arpu", "acquisition")}
        res = simulate(parse_scenario({**base, "levers": flags}), plausible)
        return (res.npv_by_segment + res.pv_spend_by_segment).sum(axis=1)

    phi = (v("retention") / 3 + (v("retention", "arpu") - v("arpu")) / 6
           + (v("retention", "acquisition") - v("acquisition")) / 6
           + (v("retention", "arpu", "acquisition") - v("arpu", "acquisition")) / 3)
    np.testing.assert_allclose(plausible_result.value_by_lever["retention"].sum(axis=1), phi, rtol=1e-9)


def test_a_lever_switched_off_contributes_nothing(plausible, plausible_result):
    flags = {"retention": True, "arpu": False, "acquisition": False}
    res = simulate(parse_scenario({**plausible_result.scenario.model_dump(), "levers": flags}), plausible)
    assert not res.value_by_lever["arpu"].any() and not res.value_by_lever["acquisition"].any()
    np.testing.assert_array_equal(res.scenario_paths.new_customers, res.baseline.new_customers)
    np.testing.assert_allclose(res.value_by_lever["retention"], res.npv_by_segment + res.pv_spend_by_segment)


def test_the_family_that_wrote_the_artifact_does_not_matter(tmp_path, plausible_result):
    draws = plausible_draws(400, 4, 2, seed=1)
    art = plausible_artifact(tmp_path, model_id="regression-same-draws", family="regression", draws=draws)
    np.testing.assert_array_equal(simulate(plausible_result.scenario, art).npv, plausible_result.npv)


def test_same_model_and_scenario_give_identical_results(plausible):
    sc = parse_scenario({"name": "o", "investments": [
        {"initiative": "I1", "segments": ["S3"], "duration_months": 6, "monthly_spend": 9_000,
         "lift": {"csat": {"mean": 5, "sd": 2}}}]})
    first, second = Simulator(plausible).run(sc), Simulator(plausible).run(sc)
    np.testing.assert_array_equal(first.cash_flow, second.cash_flow)
    assert first.provenance.model_id == plausible.model_id and first.provenance.family == "bayes"
    assert str(first.months[0].date()) == "2026-01-01"  # the month after the training window


def test_tables_have_the_documented_shape(plausible_result):
    res = plausible_result
    summary = res.summary((0.05, 0.5, 0.95))
    assert list(summary.columns) == ["unit", "mean", "p5", "p50", "p95"]
    assert summary.loc["npv", "p5"] <= summary.loc["npv", "p50"] <= summary.loc["npv", "p95"]
    assert summary.loc["prob_roi_positive", "mean"] == pytest.approx(np.mean(res.roi > 0))
    monthly = res.monthly_quantiles()
    assert set(monthly.columns) == {"segment", "month", "metric", "quantile", "value"}
    assert len(monthly) == 18 * 3 * 5 * 36  # metrics (5 totals × 3 worlds + 3 flows) × quantiles × (4 segments + all) × months
    cum = monthly.query("metric == 'cumulative_cash_flow' and segment == 'all' and quantile == 0.5")
    assert cum["value"].iloc[-1] == pytest.approx(np.median(res.cash_flow.sum(axis=(1, 2))))
    levers = res.levers_table().query("segment == 'all'")
    assert levers["share_of_value"].sum() == pytest.approx(1.0)
    assert list(res.segments_table()["segment"]) == ["S1", "S2", "S3", "S4"]
    assert len(res.per_draw()) == res.n_draws


def test_simulation_never_imports_the_training_stack(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        from cxroi.testing.artifacts import plausible_artifact
        import cxroi.sim
        from cxroi.sim.engine import simulate
        from cxroi.sim.optimise import optimize
        from cxroi.sim.scenario import parse_scenario
        art = plausible_artifact({str(tmp_path)!r}, n_draws=20, n_segments=2, n_initiatives=1)
        sc = parse_scenario({{"name": "x", "investments": [{{"initiative": "I1", "segments": ["S1"],
                             "duration_months": 3, "monthly_spend": 1000}}]}})
        res = simulate(sc, art)
        res.summary(); res.monthly_quantiles(); res.irr
        heavy = sorted(m for m in ("pymc", "pytensor", "arviz", "statsmodels") if m in sys.modules)
        print(json.dumps(heavy))
    """)
    out = subprocess.run([sys.executable, "-c", "import json\n" + code], capture_output=True, text=True,
                         cwd=str(REPO))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []


def test_cached_lift_curves_equal_fresh_ones_and_follow_each_investment(plausible):
    overridden = {"initiative": "I1", "segments": ["S3"], "duration_months": 6, "monthly_spend": 9_000,
                  "lift": {"csat": {"mean": 5, "sd": 2}}}
    plain = {"initiative": "I2", "segments": ["S1", "S3"], "start_month": 3, "duration_months": 12,
             "monthly_spend": 4_000}
    first = parse_scenario({"name": "a", "horizon_months": 24, "investments": [overridden, plain]})
    swapped = parse_scenario({"name": "b", "horizon_months": 24, "investments": [plain, overridden]})
    moved = parse_scenario({"name": "c", "horizon_months": 24, "investments": [overridden, {**plain, "monthly_spend": 5_000}]})
    warm = Simulator(plausible)
    index = warm.segment_index(["S1", "S3"])
    for sc in (first, swapped, moved, first):  # the last run reads every curve from the cache
        cached, fresh = warm.scenario_lifts(sc, index), Simulator(plausible).scenario_lifts(sc, index)
        np.testing.assert_array_equal(cached.csat, fresh.csat)
        np.testing.assert_array_equal(cached.nps, fresh.nps)
        np.testing.assert_array_equal(cached.group_of, fresh.group_of)
    again = warm.scenario_lifts(first, index)
    assert again is warm.scenario_lifts(first, index) and not again.csat.flags.writeable
    # an override's draws are seeded by its position, a model lift's are not (levels: spend / nominal 10 000)
    assert not np.array_equal(warm.lift_curves(first.investments[0], 0.9, 0, 24)[0],
                              warm.lift_curves(first.investments[0], 0.9, 1, 24)[0])
    assert warm.lift_curves(first.investments[1], 0.4, 1, 24) is warm.lift_curves(first.investments[1], 0.4, 0, 24)
    # more spend, a larger lift (of either sign) once funded: the moved investment's curve is not the cached one
    more, less = (np.abs(warm.lift_curves(sc.investments[1], level, 1, 24)[0][3:])
                  for sc, level in ((moved, 0.5), (first, 0.4)))
    assert (more > less).all()


def test_a_scenario_off_the_scale_is_refused_on_every_run(plausible):
    """A run checks the scenario each time; only a scenario that passed is not checked again."""
    sim = Simulator(plausible)
    fits = parse_scenario({"name": "fits", "horizon_months": 12, "investments": [
        {"initiative": "I1", "segments": ["S1"], "duration_months": 12, "monthly_spend": 10_000}]})
    off = parse_scenario({"name": "off", "horizon_months": 12, "investments": [
        {"initiative": "I1", "segments": ["S1"], "duration_months": 12, "spend_level": 1.0,
         "lift": {"csat": {"mean": 40.0, "sd": 1.0}}}]})
    for _ in range(2):
        assert sim.run(fits).npv.shape == (sim.n_draws,)
        with pytest.raises(ScenarioError, match="off its 0 to 100 scale"):
            sim.run(off)
