"""The simulator's batched value of plans is the value of the equivalent scenario's run."""

from __future__ import annotations

import numpy as np
import pytest

from cxroi.errors import ScenarioError
from cxroi.sim.engine import Simulator
from cxroi.sim.plan import PlanSpec
from cxroi.sim.scenario import GrossMargin, Levers, Scenario
from cxroi.testing.artifacts import plausible_artifact

N_DRAWS = 60
INITIATIVES, SEGMENTS = ("I1", "I2", "I3"), ("S1", "S2", "S3", "S4")


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    """4 segments × 3 initiatives; monthly cost 10 000 per segment."""
    return plausible_artifact(tmp_path_factory.mktemp("plan-values"), model_id="plan-values", n_draws=N_DRAWS,
                              n_segments=len(SEGMENTS), n_initiatives=len(INITIATIVES), seed=3)


def random_plan(rng: np.random.Generator, draws: bool) -> PlanSpec:
    """Some cells in random order, random months, valuation terms and (with ``draws``) a random
    subset of draws with repeats."""
    every = [(i, s) for i in INITIATIVES for s in SEGMENTS]
    chosen = rng.choice(len(every), size=rng.integers(1, len(every) + 1), replace=False)
    horizon = int(rng.integers(1, 40))
    levers = dict(zip(("retention", "arpu", "acquisition"), rng.random(3) < 0.7, strict=True))
    levers["retention"] = levers["retention"] or not any(levers.values())
    return PlanSpec(
        cells=tuple(every[k] for k in chosen), horizon_months=horizon, start_month=int(rng.integers(1, horizon + 1)),
        duration_months=int(rng.integers(1, horizon + 6)), annual_discount_rate=float(rng.uniform(0.0, 0.3)),
        gross_margin=GrossMargin(default=0.6, segments={"S2": float(rng.uniform(0.2, 0.9))}),
        terminal_value=bool(rng.random() < 0.5), levers=Levers(**levers),
        draws=tuple(int(d) for d in rng.integers(0, N_DRAWS, 25)) if draws else None)


def scenario_of(plan: PlanSpec, spend: np.ndarray, one_off: np.ndarray) -> Scenario:
    """One investment per cell, written out here rather than taken from the code under test."""
    return Scenario.model_validate({
        "name": "plan", "horizon_months": plan.horizon_months, "annual_discount_rate": plan.annual_discount_rate,
        "gross_margin": plan.gross_margin, "terminal_value": plan.terminal_value, "levers": plan.levers,
        "investments": [{"initiative": i, "segments": [s], "start_month": plan.start_month,
                         "duration_months": plan.duration_months, "monthly_spend": float(spend[k]),
                         "one_off_cost": float(one_off[k])} for k, (i, s) in enumerate(plan.cells)]})


@pytest.mark.parametrize("trial", range(8))
def test_plan_values_are_the_runs_of_the_equivalent_scenarios(artifact, trial):
    rng = np.random.default_rng(100 + trial)
    plan = random_plan(rng, draws=trial % 2 == 1)
    spend = rng.uniform(0.0, 25_000.0, (3, len(plan.cells))) * (rng.random((3, len(plan.cells))) < 0.8)
    one_off = rng.uniform(0.0, 80_000.0, len(plan.cells))
    values = Simulator(artifact).plan_values(plan, spend)
    assert values.shape == (3, N_DRAWS if plan.draws is None else len(plan.draws), len(SEGMENTS))
    same_draws = Simulator(artifact, None if plan.draws is None else np.array(plan.draws))
    monthly_rate = (1.0 + plan.annual_discount_rate) ** (1 / 12) - 1.0
    for p in range(3):
        run = same_draws.run(scenario_of(plan, spend[p], one_off))
        # one-off costs are paid at the end of the start month, on the cell's segment
        one_off_pv = np.zeros(len(SEGMENTS))
        for k, (_, segment) in enumerate(plan.cells):
            one_off_pv[SEGMENTS.index(segment)] += one_off[k] * (1.0 + monthly_rate) ** -plan.start_month
        # both sides sum float32 lifts (≈ 1e-7 relative), in a different order when cells are shuffled
        scale = np.abs(run.npv_by_segment).max()
        np.testing.assert_allclose(values[p] - one_off_pv, run.npv_by_segment, rtol=1e-6, atol=1e-6 * scale)


def test_a_plan_that_spends_nothing_is_worth_nothing(artifact):
    plan = PlanSpec(cells=(("I1", "S1"), ("I2", "S3")), horizon_months=12, duration_months=12)
    assert np.all(Simulator(artifact).plan_values(plan, np.zeros((2, 2))) == 0.0)


def test_a_plan_the_model_does_not_know_is_refused(artifact):
    simulator = Simulator(artifact)
    with pytest.raises(ScenarioError, match=r"unknown initiative.*I9"):
        simulator.plan_values(PlanSpec(cells=(("I9", "S1"),), horizon_months=12, duration_months=12), np.ones((1, 1)))
    with pytest.raises(ScenarioError, match="draws must be positions 0 to 59"):
        simulator.plan_values(PlanSpec(cells=(("I1", "S1"),), horizon_months=12, duration_months=12,
                                       draws=(0, N_DRAWS)), np.ones((1, 1)))
    with pytest.raises(ValueError, match="plans × 1 cells"):
        simulator.plan_values(PlanSpec(cells=(("I1", "S1"),), horizon_months=12, duration_months=12), np.ones((1, 2)))


@pytest.mark.parametrize(("terms", "message"), [
    ({"cells": ()}, "at least one"), ({"cells": (("I1", "S1"), ("I1", "S1"))}, "once"),
    ({"start_month": 13}, "start_month must be 1 to the horizon"), ({"duration_months": 0}, "duration_months"),
    ({"levers": Levers(retention=False, arpu=False, acquisition=False)}, "lever"),
])
def test_impossible_plan_terms_are_refused(terms, message):
    with pytest.raises(ScenarioError, match=message):
        PlanSpec(**{"cells": (("I1", "S1"),), "horizon_months": 12, "duration_months": 12, **terms})
