"""Costs that scale like real programmes: a platform share plus a cost per customer reached,
checked against hand computation; spend levels; and the reading of schema-2 artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cxroi import registry
from cxroi.catalogue import load_catalogue
from cxroi.manifest import InitiativeSettings
from cxroi.sim.engine import Simulator, simulate
from cxroi.sim.scenario import parse_scenario
from cxroi.testing.artifacts import plausible_artifact, plausible_draws, write_artifact


@pytest.fixture(scope="module")
def costed(tmp_path_factory):
    """S1 (20 000 customers), S2 (5 000) and S3 (1 000); initiative I1 reaches S1 and S2 with a
    platform cost of 30 000 a month and 2 per customer a month, and I2 (flat, schema-2 style)
    costs 7 000 per segment."""
    base = plausible_artifact(tmp_path_factory.mktemp("base"), n_draws=50, n_segments=3)
    state = {s: base.manifest.state[s].model_copy(update={"customers": c})
             for s, c in zip(("S1", "S2", "S3"), (20_000.0, 5_000.0, 1_000.0), strict=True)}
    settings = {"I1": InitiativeSettings(name="Platform", monthly_cost=40_000.0, one_off_cost=90_000.0,
                                         segments=("S1", "S2"), fixed_monthly_cost=30_000.0, cost_per_customer=2.0),
                "I2": InitiativeSettings(name="Flat", monthly_cost=7_000.0, segments=("S1", "S2", "S3"))}
    fields = base.manifest.model_dump(exclude={"content_hash", "files", "schema_version"})
    fields |= {"model_id": "costed", "state": state, "initiative_settings": settings}
    return write_artifact(tmp_path_factory.mktemp("costed"), plausible_draws(50, 3, 2), **fields)


def test_nominal_cost_is_a_platform_share_plus_a_cost_per_customer(costed) -> None:
    # I1: 30 000 / 2 segments + 2 × customers
    assert costed.manifest.nominal_monthly_cost("I1", "S1") == pytest.approx(15_000 + 40_000)
    assert costed.manifest.nominal_monthly_cost("I1", "S2") == pytest.approx(15_000 + 10_000)
    assert costed.manifest.nominal_monthly_cost("I2", "S3") == pytest.approx(7_000)  # flat: no split recorded
    np.testing.assert_allclose(Simulator(costed).nominal_costs("I1"), [55_000, 25_000, 17_000])


def test_spend_level_scales_each_segment_s_nominal_cost_and_one_offs_are_split(costed) -> None:
    scenario = parse_scenario({"name": "half", "horizon_months": 6, "investments": [
        {"initiative": "I1", "segments": ["S1", "S2"], "start_month": 2, "duration_months": 3, "spend_level": 0.5,
         "one_off_cost": 90_000}]})
    spend = Simulator(costed).spend(scenario)
    expected = np.zeros((3, 6))
    expected[0, 1:4] = 27_500  # 0.5 × 55 000
    expected[1, 1:4] = 12_500  # 0.5 × 25 000
    expected[:2, 1] += 45_000  # the one-off, half in each segment, in the start month
    np.testing.assert_allclose(spend, expected)


def test_an_explicit_amount_is_a_different_level_in_segments_of_different_size(costed) -> None:
    amount = parse_scenario({"name": "flat", "investments": [
        {"initiative": "I1", "segments": ["S1", "S2"], "duration_months": 12, "monthly_spend": 27_500}]})
    simulator = Simulator(costed)
    np.testing.assert_allclose(simulator.spend_levels(amount.investments[0]), [0.5, 1.1])  # 27 500 / 55 000, / 25 000
    # the lift felt follows the level: S2 (level 1.1) more than S1 (level 0.5), and S1 as at spend level 0.5
    level = parse_scenario({"name": "level", "investments": [
        {"initiative": "I1", "segments": ["S1"], "duration_months": 12, "spend_level": 0.5}]})
    index = simulator.segment_index(["S1", "S2"])
    lifts = simulator.scenario_lifts(amount, index)
    s1, s2 = (lifts.csat[:, lifts.group_of[k]] for k in (0, 1))
    alone = simulator.scenario_lifts(level, simulator.segment_index(["S1"])).csat[:, 0]
    np.testing.assert_array_equal(s1, alone)
    assert (np.abs(s2[2:]) > np.abs(s1[2:])).all()
    # and the value of S1 is the same whichever way its spend is stated
    a, b = simulate(amount, costed), simulate(level, costed)
    np.testing.assert_allclose(a.npv_by_segment[:, 0], b.npv_by_segment[:, 0], rtol=1e-6)


def test_catalogue_costs_are_recorded_with_their_average(costed) -> None:
    entry = load_catalogue()["proactive_success"]
    customers = {"MidMarket-EU": 10_000.0, "Enterprise-EU": 2_000.0, "SMB-EU": 50_000.0}
    settings = entry.settings(list(customers), customers)
    assert settings.segments == ("MidMarket-EU", "Enterprise-EU")  # the catalogue's reach
    total = entry.fixed_monthly_cost + entry.cost_per_customer * 12_000
    assert settings.monthly_cost == pytest.approx(total / 2)
    assert settings.nominal_cost(2_000.0) == pytest.approx(entry.fixed_monthly_cost / 2 + entry.cost_per_customer * 2_000)


def test_a_schema_2_artifact_is_read_with_flat_costs_and_says_so(tmp_path: Path) -> None:
    artifact = plausible_artifact(tmp_path, model_id="bayes-two", n_draws=10)
    path = artifact.path / registry.MANIFEST
    raw = json.loads(path.read_text())
    raw["schema_version"] = 2
    del raw["content_hash"]  # written before the schema it is read as: cannot be verified
    for state in raw["state"].values():
        for field in ("csat_min", "csat_max", "nps_min", "nps_max"):
            state.pop(field, None)
    for settings in raw["initiative_settings"].values():
        settings.pop("fixed_monthly_cost", None)
        settings.pop("cost_per_customer", None)
    path.write_text(json.dumps(raw))
    manifest = registry.load_artifact(artifact.path).manifest
    assert manifest.schema_version == registry.SCHEMA_VERSION
    assert manifest.nominal_monthly_cost("I1", "S1") == 10_000.0  # the flat cost per segment, as written
    assert manifest.state["S1"].history_range("csat") is None
    assert [c.code for c in manifest.caveats][-1] == "schema_2"
