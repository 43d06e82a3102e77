"""The planner's assumptions and its one-sentence reading, on hand-made artifacts whose answers
are known: lifts as the draws hold them, the share of full effect a spend buys, the effects the
levers use, and where value and uncertainty come from."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cxroi.app.results import effect_assumptions, lift_assumptions, reading
from cxroi.sim.attribution import uncertainty_shares
from cxroi.sim.engine import simulate
from cxroi.sim.scenario import parse_scenario
from cxroi.testing.artifacts import exact_artifact, plausible_artifact


@pytest.fixture(scope="module")
def plausible(tmp_path_factory):
    return plausible_artifact(tmp_path_factory.mktemp("assumptions"), model_id="assumptions", n_draws=200,
                              n_segments=3, n_initiatives=2)


def test_lifts_are_the_models_draws_or_the_users_estimate_scaled_by_the_spend(plausible):
    scenario = parse_scenario({"name": "s", "horizon_months": 24, "investments": [
        {"initiative": "I1", "segments": ["S1", "S2"], "duration_months": 12, "monthly_spend": 5_000},
        {"initiative": "I2", "segments": ["S3"], "duration_months": 12, "monthly_spend": 10_000,
         "lift": {"csat": {"mean": 4.0, "sd": 0.5}}}]})
    table = lift_assumptions(plausible, scenario)
    assert list(zip(table["investment"], table["segment"], strict=True)) == [(1, "S1"), (1, "S2"), (2, "S3")]
    csat = plausible.draws["lift_csat"][:, 0]
    assert table.loc[0, "csat_mean"] == pytest.approx(csat.mean()) and table.loc[0, "csat_sd"] == pytest.approx(csat.std())
    # 5 000 of a nominal 10 000 with k = 1: sat(0.5) = 0.5 · 2 / 1.5 = 2/3 of the full lift
    assert table.loc[0, "share_of_full_effect"] == pytest.approx(2 / 3)
    assert table.loc[0, "csat_at_spend"] == pytest.approx(csat.mean() * 2 / 3)
    own = table.loc[2]
    assert (own["csat_mean"], own["csat_sd"], own["csat_source"]) == (4.0, 0.5, "your estimate")
    assert own["share_of_full_effect"] == pytest.approx(1.0)  # nominal spend: the full lift
    assert own["nps_source"] != "your estimate"  # only CSAT was given: NPS stays the model's


def test_effects_are_those_of_the_levers_counted_in_the_segments_reached(plausible):
    scenario = parse_scenario({"name": "s", "levers": {"arpu": False}, "investments": [
        {"initiative": "I1", "segments": ["S2"], "duration_months": 12, "monthly_spend": 5_000}]})
    table = effect_assumptions(plausible, scenario)
    assert set(table["parameter"]) == {"churn_csat", "churn_nps", "acq_nps"} and set(table["segment"]) == {"S2"}


def test_the_reading_names_the_lever_segment_and_effect_that_matter(tmp_path):
    """Only revenue per customer moves in the exact world (no churn, no acquisition), in its one
    segment; the draws vary the CSAT lift three times as much as the CSAT → revenue effect, so the
    lift is most of the uncertainty (closed forms in tests/sim/test_attribution.py)."""
    values = {"churn_intercept": -60.0, "acq_intercept": -60.0, "arpu_intercept": float(np.log(10.0)),
              "arpu_csat": 0.2, "lift_csat": 5.0, "lift_carryover": 0.0}
    exact = exact_artifact(tmp_path, "reading", values, n_draws=4, lag=0)
    varied = replace(exact, draws={**exact.draws, "arpu_csat": 0.2 * (1 + 0.1 * np.array([[-1.0], [1], [-1], [1]])),
                                   "lift_csat": 5.0 * (1 + 0.3 * np.array([[-1.0], [-1], [1], [1]]))})
    scenario = parse_scenario({"name": "s", "horizon_months": 24, "investments": [
        {"initiative": "I", "segments": ["S"], "duration_months": 24, "monthly_spend": 1_000}]})
    sentence = reading(simulate(scenario, varied), uncertainty_shares(varied, scenario))
    assert sentence.startswith("Most of the value is revenue per customer in S (100% of the expected gross value)")
    assert "the initiatives' CSAT lift is most of the uncertainty (fixing it at its mean removes 9" in sentence
