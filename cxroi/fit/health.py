"""The health gate: each check is a small class with a frozen threshold, all registered in
:data:`CHECKS`. A model passes when every check that applies to its family passes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

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
class MaxRhat:
    """Largest split R-hat over all parameters must not exceed the threshold."""

    threshold: float = 1.01
    name: ClassVar[str] = "max_rhat"
    families: ClassVar[tuple[str, ...]] = MCMC

    def run(self, diagnostics: dict, backtest: dict) -> CheckResult:
        value = diagnostics["max_rhat"]
        return CheckResult(self.name, value, self.threshold, value <= self.threshold, "≤")


@dataclass(frozen=True)
class MinEssBulk:
    """Smallest bulk effective sample size over all parameters."""

    threshold: float = 400.0
    name: ClassVar[str] = "min_ess_bulk"
    families: ClassVar[tuple[str, ...]] = MCMC

    def run(self, diagnostics: dict, backtest: dict) -> CheckResult:
        value = diagnostics["min_ess_bulk"]
        return CheckResult(self.name, value, self.threshold, value >= self.threshold, "≥")


@dataclass(frozen=True)
class NoDivergences:
    """Divergent transitions signal a biased posterior; none are allowed."""

    threshold: float = 0.0
    name: ClassVar[str] = "divergences"
    families: ClassVar[tuple[str, ...]] = MCMC

    def run(self, diagnostics: dict, backtest: dict) -> CheckResult:
        value = float(diagnostics["divergences"])
        return CheckResult(self.name, value, self.threshold, value <= self.threshold, "≤")


@dataclass(frozen=True)
class BacktestBeatsNaive:
    """Mean held-out MAPE over churned, revenue and new customers must not exceed that of the
    better naive baseline (last value or seasonal naive) times ``threshold``."""

    threshold: float = 1.0
    name: ClassVar[str] = "backtest_vs_naive"
    families: ClassVar[tuple[str, ...]] = ALL

    def run(self, diagnostics: dict, backtest: dict) -> CheckResult:
        value = backtest["model_mape_pct"] / backtest["best_naive_mape_pct"]
        return CheckResult(self.name, value, self.threshold, value <= self.threshold, "≤")


#: every check of the gate, in display order
CHECKS = (MaxRhat(), MinEssBulk(), NoDivergences(), BacktestBeatsNaive())


def run_gate(family: str, diagnostics: dict, backtest: dict) -> dict:
    """``{"passed": bool, "checks": [CheckResult as dict, ...]}`` for the checks of ``family``."""
    results = [check.run(diagnostics, backtest) for check in CHECKS if family in check.families]
    return {"passed": all(r.passed for r in results), "checks": [r.as_dict() for r in results]}
