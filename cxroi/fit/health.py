"""The health gate: each check is a frozen :class:`Check` (measure, thresholds, rule), all
registered in :data:`CHECKS`. Each check has three outcomes, as a model reviewer has them:

* **pass** — the value is inside its threshold;
* **review** — outside it but inside the check's review band: the model may be used, and every
  screen, export and result that shows its numbers says it needs review;
* **fail** — beyond the band (or outside the threshold of a check without one): the model is
  stored as rejected and never becomes the champion.

A model passes the gate when no check fails; its outcome is the worst of its checks'.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

MCMC = ("bayes",)
ALL = ("bayes", "regression")
OUTCOMES = ("pass", "review", "fail")  # in order of severity
#: held-out 80 % predictive intervals: pass inside [0.68, 0.92] — 0.80 ± two binomial sds for the ~48
#: held-out cells of a metric (6 months × 8 segments: sd √(0.8·0.2/48) ≈ 0.058) — review down to
#: 0.50, fail below (intervals that miss half the held-out months are not intervals of these data)
COVERAGE_PASS, COVERAGE_FAIL = (0.68, 0.92), 0.50


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: the measured value against its threshold."""

    name: str
    value: float
    threshold: float
    passed: bool  #: no failure ("pass" or "review")
    rule: str
    outcome: str  #: pass, review or fail

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Check:
    """One check of the gate: a value measured from the diagnostics, the backtest and the
    identification figures, held against ``threshold`` with ``rule`` "≤" or "≥"; a value beyond
    the threshold but within ``review_until`` (same direction) needs review, beyond it fails. A
    check without a review band fails at once; one with ``review_until`` infinite never fails."""

    name: str
    description: str
    measure: Callable[[dict, dict, dict], float]
    threshold: float
    rule: str
    families: tuple[str, ...]
    review_until: float | None = None

    def outcome(self, value: float) -> str:
        def within(limit: float) -> bool:
            return value <= limit if self.rule == "≤" else value >= limit

        if not math.isfinite(value):
            return "fail"
        if within(self.threshold):
            return "pass"
        return "review" if self.review_until is not None and within(self.review_until) else "fail"

    def run(self, diagnostics: dict, backtest: dict, identification: dict) -> CheckResult:
        value = float(self.measure(diagnostics, backtest, identification))
        outcome = self.outcome(value)
        return CheckResult(self.name, value, self.threshold, outcome != "fail", self.rule, outcome)


def _worst_coverage(backtest: dict) -> float:
    """The held-out coverage of 80 % intervals farthest from 0.80, as a distance below the pass
    band's lower end would read: values above the band are mirrored below it (0.95 → 0.65)."""
    worst = 1.0
    for row in backtest.get("rows") or []:
        coverage = row.get("coverage_80")
        if coverage is None:
            continue
        low, high = COVERAGE_PASS
        worst = min(worst, coverage if coverage <= high else low - (coverage - high))
    return worst


#: every check of the gate, in display order
CHECKS = (
    Check("max_rhat", "largest split R-hat over all parameters (the latent monthly levels apart)",
          lambda diagnostics, _, __: diagnostics["max_rhat"], 1.01, "≤", MCMC),
    Check("latent_max_rhat", "largest split R-hat over the latent monthly CSAT/NPS levels of the survey error model",
          lambda diagnostics, _, __: diagnostics.get("latent_max_rhat") or 1.0, 1.01, "≤", MCMC, review_until=1.05),
    Check("min_ess_bulk", "smallest bulk effective sample size over all parameters",
          lambda diagnostics, _, __: diagnostics["min_ess_bulk"], 400.0, "≥", MCMC),
    Check("divergences", "divergent transitions signal a biased posterior; none are allowed",
          lambda diagnostics, _, __: diagnostics["divergences"], 0.0, "≤", MCMC),
    Check("backtest_vs_naive", "mean held-out MAPE over churned, revenue and new customers relative "
          "to the better naive baseline (last value or seasonal naive)",
          lambda _, backtest, __: backtest["model_mape_pct"] / backtest["best_naive_mape_pct"], 1.0, "≤", ALL),
    Check("holdout_coverage", "coverage of the held-out months by the 80 % predictive intervals, worst "
          f"metric (pass inside {COVERAGE_PASS[0]:.2f}–{COVERAGE_PASS[1]:.2f}; values above the band are "
          "read as their distance from it)",
          lambda _, backtest, __: _worst_coverage(backtest), COVERAGE_PASS[0], "≥", ALL, COVERAGE_FAIL),
    Check("effects_identified", "how much the history narrowed the least known CX effect (prior → "
          "posterior contraction of its average over segments; below 0.5 the forecasts rest on the prior)",
          lambda _, __, identification: identification.get("least_identified", 1.0), 0.5, "≥", ALL, -math.inf),
)


def run_gate(family: str, diagnostics: dict, backtest: dict, identification: dict | None = None) -> dict:
    """``{"passed": bool, "outcome": pass|review|fail, "checks": [CheckResult as dict, ...]}`` for
    the checks of ``family``; ``identification`` holds ``least_identified`` (0–1)."""
    results = [check.run(diagnostics, backtest, identification or {}) for check in CHECKS
               if family in check.families]
    worst = max((OUTCOMES.index(r.outcome) for r in results), default=0)
    return {"passed": all(r.passed for r in results), "outcome": OUTCOMES[worst],
            "checks": [r.as_dict() for r in results]}
