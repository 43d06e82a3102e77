"""What differs between plans and paired comparisons of their values, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from cxroi.app.plan_diff import paired_differences, plan_differences
from cxroi.sim.scenario import Scenario
from cxroi.testing.artifacts import plausible_artifact


def test_paired_differences_by_hand():
    npv = {"A": np.array([1.0, 2.0, 3.0, 4.0]), "B": np.array([2.0, 2.0, 5.0, 3.0]), "C": np.array([0.0, 1.0, 2.0, 3.0])}
    table = paired_differences(npv).set_index("scenario")
    assert table.at["B", "mean_difference"] == pytest.approx(0.5)  # diffs 1, 0, 2, −1
    assert table.at["B", "prob_better"] == pytest.approx(0.5)  # 2 of 4 draws strictly better; a tie is not
    assert table.at["C", "prob_better"] == 0.0 and table.at["C", "mean_difference"] == pytest.approx(-1.0)
    assert set(table["against"]) == {"A"}
    with pytest.raises(ValueError, match="same draws"):
        paired_differences({"A": np.zeros(3), "B": np.zeros(4)})


def test_plan_differences_list_changed_lines_first(tmp_path):
    artifact = plausible_artifact(tmp_path, n_segments=3, n_initiatives=2)
    a = Scenario.model_validate({"name": "A", "horizon_months": 24, "investments": [
        {"initiative": "I1", "segments": ["S1", "S2"], "duration_months": 12, "monthly_spend": 5_000},
        {"initiative": "I2", "segments": ["S3"], "duration_months": 12, "monthly_spend": 1_000}]})
    b = Scenario.model_validate({"name": "B", "horizon_months": 24, "investments": [
        {"initiative": "I1", "segments": ["S1", "S2"], "duration_months": 12, "monthly_spend": 5_000},
        {"initiative": "I2", "segments": ["S3"], "duration_months": 6, "monthly_spend": 1_000,
         "one_off_cost": 20_000}]})
    table = plan_differences(artifact, {"Plan A": a, "Plan B": b})
    assert table["differs"].tolist() == [True, False, False]
    first = table.iloc[0]
    assert (first["segment"], first["Plan A"], first["Plan B"]) == (
        "S3", "1,000/mo, months 1–12", "1,000/mo, months 1–6, one-off 20,000")
    assert table.iloc[1]["Plan A"] == table.iloc[1]["Plan B"] == "5,000/mo, months 1–12"
