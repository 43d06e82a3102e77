"""Totals for a budget: the table's quantiles are those of the result's own arrays."""

from __future__ import annotations

import numpy as np
import pytest

from cxroi.app.totals import ALL, totals_frame
from cxroi.sim.engine import simulator_for
from cxroi.sim.scenario import Scenario
from cxroi.testing.artifacts import plausible_artifact


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    artifact = plausible_artifact(tmp_path_factory.mktemp("totals"), n_segments=3, n_initiatives=1, n_draws=200)
    scenario = Scenario.model_validate({"name": "T", "horizon_months": 12, "investments": [
        {"initiative": "I1", "segments": ["S1", "S3"], "duration_months": 12, "monthly_spend": 10_000}]})
    return simulator_for(artifact).run(scenario)


def test_one_segments_totals_are_the_quantiles_of_its_arrays(result):
    frame = totals_frame(result, "revenue", "S3")
    base = result.baseline.revenue[:, 2]  # draws × months
    with_it = result.scenario_paths.revenue[:, 2]
    assert np.allclose(frame["baseline_p50"], np.quantile(base, 0.5, axis=0))
    assert np.allclose(frame["scenario_p90"], np.quantile(with_it, 0.9, axis=0))
    assert np.allclose(frame["incremental_p10"], np.quantile(with_it - base, 0.1, axis=0), atol=1e-6 * base.max())
    assert len(frame) == 12


def test_all_segments_are_quantiles_of_the_sum_and_unreached_segments_add_nothing(result):
    frame = totals_frame(result, "customers", ALL)
    summed = result.scenario_paths.customers.sum(axis=1)
    assert np.allclose(frame["scenario_p50"], np.quantile(summed, 0.5, axis=0))
    unreached = totals_frame(result, "gross_profit", "S2")  # S2 is not in the plan
    assert np.allclose(unreached["incremental_p50"], 0.0, atol=1e-6)
