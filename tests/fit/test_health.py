"""The health gate: thresholds from the issue, checks per family."""

from __future__ import annotations

import pytest

from cxroi.fit.health import CHECKS, run_gate

GOOD = {"max_rhat": 1.004, "min_ess_bulk": 812.0, "divergences": 0}
BACKTEST = {"model_mape_pct": 5.0, "best_naive_mape_pct": 8.0}


def test_thresholds_are_those_of_the_issue() -> None:
    thresholds = {c.name: c.threshold for c in CHECKS}
    assert thresholds == {"max_rhat": 1.01, "latent_max_rhat": 1.01, "min_ess_bulk": 400.0, "divergences": 0.0,
                          "backtest_vs_naive": 1.0, "holdout_coverage": 0.68, "effects_identified": 0.5}


@pytest.mark.parametrize(("latent", "outcome"), [(None, "pass"), (1.008, "pass"), (1.03, "review"), (1.06, "fail")])
def test_latent_survey_levels_above_the_r_hat_bound_need_review_until_1_05(latent, outcome) -> None:
    diagnostics = GOOD if latent is None else {**GOOD, "latent_max_rhat": latent}
    checks = {c["name"]: c["outcome"] for c in run_gate("bayes", diagnostics, BACKTEST)["checks"]}
    assert checks["latent_max_rhat"] == outcome


def test_a_good_bayes_model_passes_and_each_failure_rejects() -> None:
    assert run_gate("bayes", GOOD, BACKTEST)["passed"]
    for bad in ({"max_rhat": 1.0101}, {"min_ess_bulk": 399.0}, {"divergences": 1}):
        gate = run_gate("bayes", {**GOOD, **bad}, BACKTEST)
        assert not gate["passed"]
        assert [c["name"] for c in gate["checks"] if not c["passed"]] == [next(iter(bad))]
    assert not run_gate("bayes", GOOD, {"model_mape_pct": 8.1, "best_naive_mape_pct": 8.0})["passed"]


def test_regression_models_are_judged_on_the_backtest_only() -> None:
    gate = run_gate("regression", {"max_rhat": 9.0, "min_ess_bulk": 1.0, "divergences": 5}, BACKTEST)
    assert gate["passed"] and [c["name"] for c in gate["checks"]] == [
        "backtest_vs_naive", "holdout_coverage", "effects_identified"]


def _backtest_covering(*coverages: float) -> dict:
    return {**BACKTEST, "rows": [{"metric": f"m{j}", "coverage_80": c} for j, c in enumerate(coverages)]}


@pytest.mark.parametrize(("coverages", "outcome"), [
    ((0.80, 0.75, 0.70), "pass"),  # inside 0.68–0.92
    ((0.80, 0.60), "review"),  # below the band, above 0.50
    ((0.97, 0.80), "review"),  # above the band: 0.05 beyond 0.92 reads as 0.63
    ((0.80, 0.45), "fail"),  # intervals that miss more than half of the held-out months
])
def test_holdout_coverage_has_three_outcomes(coverages, outcome) -> None:
    gate = run_gate("regression", {}, _backtest_covering(*coverages))
    check = next(c for c in gate["checks"] if c["name"] == "holdout_coverage")
    assert check["outcome"] == outcome and gate["outcome"] == outcome and gate["passed"] == (outcome != "fail")


def test_unidentified_effects_need_review_but_never_reject() -> None:
    for least, outcome in ((0.9, "pass"), (0.49, "review"), (0.0, "review")):
        gate = run_gate("bayes", GOOD, BACKTEST, {"least_identified": least})
        assert gate["outcome"] == outcome and gate["passed"]
