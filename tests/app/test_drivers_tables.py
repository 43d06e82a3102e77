"""The Drivers page's tables read in plain words and one number format (values by hand)."""

from __future__ import annotations

import pandas as pd

from cxroi.app import formatting as fmt
from cxroi.app.pages.drivers import effects_table, lifts_table, models_table


def test_check_values_read_in_their_own_format():
    assert fmt.check_value("max_rhat", 1.00435) == "1.004"
    assert fmt.check_value("min_ess_bulk", 1033.2) == "1,033"
    assert fmt.check_value("min_ess_tail", 973.4) == "973"  # a diagnostic that is no health check
    assert fmt.check_value("holdout_coverage", 0.8125) == "81%"  # never "81.25 %"
    assert fmt.check_value("backtest_vs_naive", 0.5555) == "0.56"
    assert fmt.check_value("max_rhat", None) == fmt.MISSING


def test_effects_are_signed_in_points_of_churn_or_percent():
    table = pd.DataFrame({"effect": ["Monthly churn, +10 CSAT", "ARPU, +10 CSAT"], "segment": ["SMB-EU", "SMB-EU"],
                          "mean": [-0.523, 0.0213], "low": [-0.9, 0.01], "high": [-0.1, 0.034],
                          "unit": ["percentage points", "% change"], "source": ["history", "catalogue"]})
    shown = effects_table(table)
    assert list(shown.columns) == ["Effect", "Segment", "Mean", "P10", "P90", "Source"]
    # −0.523 percentage points → two decimals; +2.13 % → one decimal; typographic minus
    assert shown.iloc[0][["Mean", "P10", "P90"]].tolist() == ["−0.52 pp", "−0.90 pp", "−0.10 pp"]
    assert shown.iloc[1][["Mean", "P10", "P90"]].tolist() == ["+2.1%", "+1.0%", "+3.4%"]
    assert shown["Source"].tolist() == ["History", "Catalogue"]


def test_lifts_read_as_mean_and_range_in_signed_points():
    lifts = pd.DataFrame({"initiative": ["Self-service portal"], "csat_mean": [2.14], "csat_low": [1.86],
                          "csat_high": [2.25], "csat_source": ["history"], "nps_mean": [-0.4], "nps_low": [-1.06],
                          "nps_high": [0.3], "nps_source": ["pilot"], "carryover": [0.5]})
    row = lifts_table(lifts).iloc[0]
    assert row["CSAT lift (points)"] == "+2.1 (+1.9 to +2.2)"  # 2.25 rounds half to even
    assert row["NPS lift (points)"] == "−0.4 (−1.1 to +0.3)"
    assert (row["CSAT source"], row["NPS source"], row["Carry-over"]) == ("History", "Pilot", "0.50")


def test_models_list_names_families_in_words_and_marks_the_champion():
    rows = [{"model_id": "bayes-1", "family": "bayes", "created_at": "2026-01-02T03:04:05+00:00", "status": "accepted",
             "champion": True, "training_window": {"start": "2023-01-01", "end": "2025-12-01"}, "error": None},
            {"model_id": "regression-2", "family": "regression", "created_at": "2026-02-01T00:00:00+00:00",
             "status": "rejected", "champion": False, "training_window": None, "error": None}]
    table = models_table(rows, "bayes-1")
    assert table.to_dict("records") == [
        {"Model": "bayes-1 (champion)", "Family": "Bayesian (PyMC)", "Created (UTC)": "2026-01-02 03:04",
         "Trained on": "Jan 2023 – Dec 2025", "Status": "Accepted"},
        {"Model": "regression-2", "Family": "Regression (statsmodels)", "Created (UTC)": "2026-02-01 00:00",
         "Trained on": "—", "Status": "Rejected"}]  # no Problem column when every model reads
    broken = models_table([*rows, {"model_id": "x", "champion": False, "error": "manifest missing"}], "bayes-1")
    assert broken["Problem"].tolist() == ["", "", "manifest missing"]
