"""The health gate: each check is a frozen :class:`Check` (measure, threshold, rule), all
registered in :data:`CHECKS`. A model passes when every check that applies to its family passes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

MCMC = ("bayes",)
ALL = ("bayes", "regression")


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: the measured value against its threshold."""

    name: str
    value: float
    threshold: float
    passed: bool
    rule: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Check:
    """One check of the gate: a value measured from the diagnostics or the backtest, held
    against a frozen threshold with ``rule`` "≤" or "≥"; applies to the model ``families``."""

    name: str
    description: str
    measure: Callable[[dict, dict], float]
    threshold: float
    rule: str
    families: tuple[str, ...]

    def run(self, diagnostics: dict, backtest: dict) -> CheckResult:
        value = float(self.measure(diagnostics, backtest))
        passed = value <= self.threshold if self.rule == "≤" else value >= self.threshold
        return CheckResult(self.name, value, self.threshold, passed, self.rule)


#: every check of the gate, in display order
CHECKS = (
    Check("max_rhat", "largest split R-hat over all parameters",
          lambda diagnostics, _: diagnostics["max_rhat"], 1.01, "≤", MCMC),
    Check("min_ess_bulk", "smallest bulk effective sample size over all parameters",
          lambda diagnostics, _: diagnostics["min_ess_bulk"], 400.0, "≥", MCMC),
    Check("divergences", "divergent transitions signal a biased posterior; none are allowed",
          lambda diagnostics, _: diagnostics["divergences"], 0.0, "≤", MCMC),
    Check("backtest_vs_naive", "mean held-out MAPE over churned, revenue and new customers relative "
          "to the better naive baseline (last value or seasonal naive)",
          lambda _, backtest: backtest["model_mape_pct"] / backtest["best_naive_mape_pct"], 1.0, "≤", ALL),
)


def run_gate(family: str, diagnostics: dict, backtest: dict) -> dict:
    """``{"passed": bool, "checks": [CheckResult as dict, ...]}`` for the checks of ``family``."""
    results = [check.run(diagnostics, backtest) for check in CHECKS if family in check.families]
    return {"passed": all(r.passed for r in results), "checks": [r.as_dict() for r in results]}
