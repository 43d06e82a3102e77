"""The health gate: thresholds from the issue, checks per family."""

from __future__ import annotations

from cxroi.fit.health import CHECKS, run_gate

GOOD = {"max_rhat": 1.004, "min_ess_bulk": 812.0, "divergences": 0}
BACKTEST = {"model_mape_pct": 5.0, "best_naive_mape_pct": 8.0}


def test_thresholds_are_those_of_the_issue() -> None:
    thresholds = {c.name: c.threshold for c in CHECKS}
    assert thresholds == {"max_rhat": 1.01, "min_ess_bulk": 400.0, "divergences": 0.0, "backtest_vs_naive": 1.0}


def test_a_good_bayes_model_passes_and_each_failure_rejects() -> None:
    assert run_gate("bayes", GOOD, BACKTEST)["passed"]
    for bad in ({"max_rhat": 1.0101}, {"min_ess_bulk": 399.0}, {"divergences": 1}):
        gate = run_gate("bayes", {**GOOD, **bad}, BACKTEST)
        assert not gate["passed"]
        assert [c["name"] for c in gate["checks"] if not c["passed"]] == [next(iter(bad))]
    assert not run_gate("bayes", GOOD, {"model_mape_pct": 8.1, "best_naive_mape_pct": 8.0})["passed"]


def test_regression_models_are_judged_on_the_backtest_only() -> None:
    gate = run_gate("regression", {"max_rhat": 9.0, "min_ess_bulk": 1.0, "divergences": 5}, BACKTEST)
    assert gate["passed"] and [c["name"] for c in gate["checks"]] == ["backtest_vs_naive"]
