"""Scenario files: round trips, the shipped examples, and errors that name the field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cxroi.catalogue import load_catalogue
from cxroi.errors import ScenarioError
from cxroi.sim.engine import simulate
from cxroi.sim.scenario import load_scenario, parse_scenario
from cxroi.testing.artifacts import plausible_artifact

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "data" / "scenarios").glob("*.yaml"))
SAMPLE_SEGMENTS = ["SMB-EU", "MidMarket-EU", "Enterprise-EU", "Consumer-EU",
                   "SMB-NA", "MidMarket-NA", "Enterprise-NA", "Consumer-NA"]
VALID = {"name": "Portal", "investments": [{"initiative": "I1", "segments": ["S1"], "duration_months": 12,
                                            "monthly_spend": 1_000}]}


@pytest.fixture(scope="module")
def sample_model(tmp_path_factory):
    """A model with the sample data's segments and the catalogue's initiatives."""
    return plausible_artifact(tmp_path_factory.mktemp("examples"), model_id="sample-names", n_draws=60,
                              segments=SAMPLE_SEGMENTS, initiatives=list(load_catalogue()))


def test_round_trip_through_yaml_and_json(tmp_path):
    scenario = parse_scenario({**VALID, "gross_margin": {"default": 0.6, "segments": {"S1": 0.8}},
                               "levers": {"arpu": False}, "terminal_value": True})
    for name in ("s.yaml", "s.json"):
        assert load_scenario(scenario.save(tmp_path / name)) == scenario
    assert scenario.gross_margin.for_segment("S1") == 0.8 and scenario.gross_margin.for_segment("S2") == 0.6


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_run_and_credit_their_lever(path, sample_model):
    scenario = load_scenario(path)
    result = simulate(scenario, sample_model)
    lever = path.stem.split("_")[0]  # each example is named after the lever it is mainly about
    assert lever in scenario.levers.enabled()
    total = sum(result.value_by_lever[name] for name in scenario.levers.enabled())
    np.testing.assert_allclose(total, result.npv_by_segment + result.pv_spend_by_segment, rtol=1e-9, atol=1e-6)
    assert result.value_by_lever[lever].sum(axis=1).mean() > 0


def test_three_examples_cover_the_three_levers():
    assert {lever for p in EXAMPLES for lever in load_scenario(p).levers.enabled()} == {"retention", "arpu",
                                                                                        "acquisition"}


def test_an_investment_states_its_spend_one_way():
    for amounts in ({}, {"monthly_spend": 5, "spend_level": 1.0}):
        with pytest.raises(ScenarioError, match=r"give either monthly_spend .* or spend_level"):
            parse_scenario({**VALID, "investments": [{"initiative": "I1", "segments": ["S1"], "duration_months": 3,
                                                      **amounts}]})


@pytest.mark.parametrize(("change", "message"), [
    ({"investments": [{"initiative": "I1", "segments": ["S1"], "duration_months": 0, "monthly_spend": 1}]},
     "investments[0].duration_months"),
    ({"investments": [{"initiative": "I1", "segments": ["S1"], "duration_months": 3, "monthly_spend": -5}]},
     "investments[0].monthly_spend"),
    ({"investments": [{"initiative": "I1", "segments": ["S1", "S1"], "duration_months": 3, "monthly_spend": 5}]},
     "segments listed twice: S1"),
    ({"gross_margin": 1.5}, "gross_margin.default"),
    ({"annual_discount_rate": "ten"}, "annual_discount_rate"),
    ({"horizon_months": 12, "investments": [{"initiative": "I1", "segments": ["S1"], "start_month": 13,
                                             "duration_months": 3, "monthly_spend": 5}]}, "after the horizon"),
    ({"levers": {"retention": False, "arpu": False, "acquisition": False}}, "at least one lever"),
    ({"investments": [{"initiative": "I1", "segments": ["S1"], "duration_months": 6, "monthly_spend": 5},
                      {"initiative": "I1", "segments": ["S1"], "start_month": 4, "duration_months": 6,
                       "monthly_spend": 5}]}, "overlapping months"),
    ({"colour": "blue"}, "colour: Extra inputs are not permitted"),
    ({"investments": [{"initiative": "I1", "segments": ["S1"], "duration_months": 3, "monthly_spend": 5,
                       "lift": {"csat": {"mean": 5000, "sd": 1}}}]}, "CSAT moves by at most 100 points"),
    ({"investments": [{"initiative": "I1", "segments": ["S1"], "duration_months": 3, "monthly_spend": 5,
                       "lift": {"nps": {"mean": 10, "sd": 250}}}]}, "NPS moves by at most 200 points"),
    ({"investments": [{"initiative": "I1", "segments": ["S1"], "duration_months": 3,
                       "monthly_spend": float("inf")}]}, "investments[0].monthly_spend: Input should be a finite number"),
    ({"investments": [{"initiative": "I1", "segments": ["S1"], "duration_months": 3, "monthly_spend": 5,
                       "lift": {"csat": {"mean": float("nan"), "sd": 1}}}]}, "investments[0].lift.csat.mean"),
    ({"investments": [{"initiative": "I1", "segments": ["S1"], "duration_months": 3, "monthly_spend": 5,
                       "one_off_cost": 1e300}]}, "investments[0].one_off_cost: Input should be less than or equal"),
    ({"annual_discount_rate": float("nan")}, "annual_discount_rate: Input should be a finite number"),
    ({"name": "   "}, "name: must not be blank"),
    ({"name": "Q3\nplan"}, "name: must be one line"),
])
def test_invalid_fields_are_named(change, message):
    with pytest.raises(ScenarioError) as error:
        parse_scenario({**VALID, **change}, source="plan.yaml")
    assert message in str(error.value) and str(error.value).startswith("plan.yaml: invalid scenario")


def test_missing_fields_are_all_listed():
    with pytest.raises(ScenarioError) as error:
        parse_scenario({"investments": [{"segments": ["S1"]}]})
    text = str(error.value)
    for field in ("name", "investments[0].initiative", "investments[0].duration_months"):
        assert f"{field}: Field required" in text


def test_unknown_names_are_checked_against_the_model(plausible):
    scenario = parse_scenario({**VALID, "investments": [{"initiative": "chatbot", "segments": ["S1", "Mars"],
                                                         "duration_months": 3, "monthly_spend": 5}],
                               "gross_margin": {"segments": {"Venus": 0.5}}})
    with pytest.raises(ScenarioError) as error:
        scenario.validate_for(plausible)
    text = str(error.value)
    assert "unknown initiative 'chatbot'" in text and "unknown segment(s) Mars" in text and "Venus" in text


def test_names_are_trimmed():
    assert parse_scenario({**VALID, "name": "  Portal  "}).name == "Portal"


@pytest.mark.parametrize(("spend", "mean", "allowed"), [
    (10_000, 60.0, True),  # nominal spend: share sat(1) = 1, NPS 20 + 60 = 80
    (30_000, 60.0, False),  # 3 × nominal with k = 1: share 3·2/(3+1) = 1.5, NPS 20 + 90 = 110
    (10_000, -130.0, False),  # NPS 20 − 130 = −110
])
def test_a_lift_that_leaves_the_survey_scale_is_rejected(plausible, spend, mean, allowed):
    scenario = parse_scenario({**VALID, "investments": [{"initiative": "I1", "segments": ["S1"], "duration_months": 6,
                                                         "monthly_spend": spend,
                                                         "lift": {"nps": {"mean": mean, "sd": 1}}}]})
    if allowed:
        scenario.validate_for(plausible)
        return
    with pytest.raises(ScenarioError) as error:
        scenario.validate_for(plausible)
    level = 20 + mean * (1.5 if spend == 30_000 else 1.0)
    assert f"NPS of S1 would move from 20.0 by {level - 20:+.1f} points to {level:.1f}" in str(error.value)


@pytest.mark.parametrize(("content", "message"), [
    ("name: [unclosed", "not valid YAML"),
    ("- just\n- a list\n", "expected a mapping"),
])
def test_unreadable_files_give_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "missing.yaml")
