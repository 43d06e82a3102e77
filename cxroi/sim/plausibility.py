"""Plausibility review of a scenario's result: small checks that say when a figure is too good
to be believed, or rests on something the history does not show (as Meridian's model review
flags an implausible ROI).

Each check is a small class with one job and a frozen threshold in :class:`PlausibilityConfig`
(defaults justified there); all are registered in :data:`CHECKS`. :func:`review` runs them and
returns frozen :class:`Finding` s, worst first. A finding is a ``flag`` (the figure is implausible
as it stands: check the inputs before using it) or a ``review`` (the figure may be right, but rests
on a prior rather than on the company's history: a pilot would settle it).

Statistics are medians over the parameter draws (P50), the figure a headline shows. Units: ROI
and IRR are fractions (IRR per year), payback in 1-based forecast months, horizons in months,
CSAT in % and NPS in points.

For the app: ``result.plausibility`` (a :class:`~cxroi.sim.result.SimulationResult` property)
holds the findings, :func:`headline` puts them in one sentence for a place next to the headline.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from cxroi.errors import CxroiError

if TYPE_CHECKING:
    from cxroi.manifest import Manifest
    from cxroi.registry import ModelArtifact
    from cxroi.sim.result import SimulationResult

Severity = Literal["flag", "review"]
#: caveat codes of effects the history does not identify (cxroi.fit.identification)
UNIDENTIFIED_CODES = ("not_identified",)
#: environment variables that override the thresholds, each a number
ENVIRONMENT = {"max_roi": "CXROI_PLAUSIBLE_MAX_ROI", "max_irr": "CXROI_PLAUSIBLE_MAX_IRR",
               "min_payback_months": "CXROI_PLAUSIBLE_MIN_PAYBACK_MONTHS",
               "max_terminal_horizon_months": "CXROI_PLAUSIBLE_MAX_TERMINAL_HORIZON_MONTHS",
               "history_margin": "CXROI_PLAUSIBLE_HISTORY_MARGIN"}


@dataclass(frozen=True)
class PlausibilityConfig:
    """Thresholds of the plausibility checks (override with :func:`config_from_environment`).

    * ``max_roi`` = 5.0 (500 %): Forrester's Total Economic Impact studies of customer-service
      and CX software report three-year ROIs of roughly 100–400 % (data/README.md, "Initiative costs
      and the returns to expect"); a median ROI above 500 % is beyond what published case studies
      of such programmes show, so costs or lifts are likely misstated.
    * ``max_irr`` = 5.0 (500 % a year): money coming back sixfold within a year — more than the
      best published CX case studies return in three. IRR grows without bound as the upfront
      outlay shrinks, so an IRR above this says to read NPV and ROI rather than IRR.
    * ``min_payback_months`` = 3: an initiative ramps up over 2–6 months (the catalogue) and acts
      on churn, revenue and referrals a lag later, so recovering every cost within three months
      means the value arrives before the effect could have built up.
    * ``max_terminal_horizon_months`` = 60: a terminal value adds the lifetime value of customers
      still retained at the horizon; beyond five years of explicit forecast on top of that, the
      value rests mostly on extrapolated customer behaviour (finance plans rarely look further).
    * ``history_margin`` = 0.25: the CX effects are slopes fitted on the CSAT/NPS levels the
      history saw; a lift taking a segment more than a quarter of that range beyond the highest
      (or lowest) level seen is an extrapolation the data cannot vouch for. Survey noise alone
      puts single months near the extremes, hence the margin rather than the raw extremes.
    """

    max_roi: float = 5.0
    max_irr: float = 5.0
    min_payback_months: float = 3.0
    max_terminal_horizon_months: float = 60.0
    history_margin: float = 0.25


def config_from_environment(environ: Mapping[str, str] | None = None) -> PlausibilityConfig:
    """The thresholds with any set in the environment (:data:`ENVIRONMENT`) applied; a value that
    is not a number ≥ 0 is a plain error naming the variable."""
    environ = os.environ if environ is None else environ
    values = {}
    for name, variable in ENVIRONMENT.items():
        text = environ.get(variable)
        if text is None or not text.strip():
            continue
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not np.isfinite(value) or value < 0:
            raise CxroiError(f"{variable} must be a number ≥ 0 (found {text!r})")
        values[name] = value
    return PlausibilityConfig(**values)


@dataclass(frozen=True)
class Finding:
    """One result of a check: ``check`` names it, ``text`` says it in plain words, ``value`` and
    ``threshold`` are the compared figures (None where nothing single is compared), ``segments``
    the segments concerned (empty: the whole result)."""

    check: str
    severity: Severity
    text: str
    value: float | None = None
    threshold: float | None = None
    segments: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"check": self.check, "severity": self.severity, "text": self.text, "value": self.value,
                "threshold": self.threshold, "segments": list(self.segments)}


@dataclass(frozen=True)
class Context:
    """What the checks read besides the result: the peak mean lift per (segment, "csat"/"nps")
    in survey points (:meth:`cxroi.sim.scenario.Scenario.peak_lifts`) and the model's manifest
    (starting levels and history ranges); both None when unknown."""

    peak_lifts: Mapping[tuple[str, str], float] | None = None
    manifest: Manifest | None = None


def _p50(result: SimulationResult, metric: str) -> float:
    """The P50 of a summary metric as the result's summary states it (NaN: not defined, e.g. a
    payback beyond the horizon), so a flag quotes the figure the headline shows."""
    return float(result.summary((0.5,)).loc[metric, "p50"])


def _percent(value: float) -> str:
    return f"{100 * value:,.0f} %"


@dataclass(frozen=True)
class RoiCheck:
    config: PlausibilityConfig

    def __call__(self, result: SimulationResult, context: Context) -> list[Finding]:
        roi = _p50(result, "roi")
        if not roi > self.config.max_roi:
            return []
        return [Finding("roi", "flag", f"ROI P50 is {_percent(roi)}, above {_percent(self.config.max_roi)}: more than the "
                                       "three-year returns published CX case studies report (about 100–400 %); check "
                                       "the lift assumed and the costs", roi, self.config.max_roi)]


@dataclass(frozen=True)
class IrrCheck:
    config: PlausibilityConfig

    def __call__(self, result: SimulationResult, context: Context) -> list[Finding]:
        irr = _p50(result, "irr")
        if not irr > self.config.max_irr:
            return []
        return [Finding("irr", "flag", f"IRR P50 is {_percent(irr)} a year, above {_percent(self.config.max_irr)}: an IRR "
                                       "this high comes from a small upfront outlay, not from a high return; read NPV "
                                       "and ROI instead", irr, self.config.max_irr)]


@dataclass(frozen=True)
class PaybackCheck:
    config: PlausibilityConfig

    def __call__(self, result: SimulationResult, context: Context) -> list[Finding]:
        payback = _p50(result, "payback_month")
        if not payback <= self.config.min_payback_months:
            return []
        return [Finding("payback", "flag", f"payback P50 in month {payback:.0f}, within "
                                           f"{self.config.min_payback_months:g} months: sooner than an initiative can ramp "
                                           "up and act on customers; check the costs and the ramp-up", payback,
                        self.config.min_payback_months)]


@dataclass(frozen=True)
class TerminalHorizonCheck:
    config: PlausibilityConfig

    def __call__(self, result: SimulationResult, context: Context) -> list[Finding]:
        horizon = result.horizon
        if not (result.scenario.terminal_value and horizon > self.config.max_terminal_horizon_months):
            return []
        return [Finding("terminal_horizon", "flag", f"a terminal value on top of a {horizon}-month horizon (more than "
                                                    f"{self.config.max_terminal_horizon_months:g} months): most of the value "
                                                    "then rests on customer behaviour extrapolated far beyond the history",
                        float(horizon), self.config.max_terminal_horizon_months)]


@dataclass(frozen=True)
class HistoryRangeCheck:
    config: PlausibilityConfig

    def __call__(self, result: SimulationResult, context: Context) -> list[Finding]:
        if context.peak_lifts is None or context.manifest is None:
            return []
        beyond, worst = [], 0.0
        for (segment, kind), lift in context.peak_lifts.items():
            state = context.manifest.state[segment]
            seen = state.history_range(kind)
            if seen is None or lift == 0:
                continue
            low, high = seen
            margin = self.config.history_margin * (high - low)
            level = getattr(state, kind) + lift
            excess = level - (high + margin) if lift > 0 else (low - margin) - level
            if excess > 0:
                name = kind.upper()
                beyond.append((segment, f"{name} of {segment} to {level:.1f} (history {low:.1f} to {high:.1f})"))
                worst = max(worst, excess)
        if not beyond:
            return []
        return [Finding("beyond_history", "flag", "the lift takes " + "; ".join(text for _, text in beyond)
                        + f", beyond the range seen in the history by more than {self.config.history_margin:.0%} of "
                          "its width: the CX effects are not known that far out", worst, self.config.history_margin,
                        tuple(dict.fromkeys(segment for segment, _ in beyond)))]


@dataclass(frozen=True)
class IdentificationCheck:
    """A review item per model caveat of an effect the history does not identify that this
    result rests on; a lift overridden in every investment of its initiative (a pilot's figure)
    no longer rests on the model's."""

    config: PlausibilityConfig

    def __call__(self, result: SimulationResult, context: Context) -> list[Finding]:
        findings = []
        for caveat in result.provenance.caveats:
            if caveat.code not in UNIDENTIFIED_CODES or _overridden(result, caveat.initiatives, caveat.effects):
                continue
            findings.append(Finding("unidentified", "review", _sentence(caveat.text), segments=tuple(caveat.segments)))
        return findings


def _overridden(result: SimulationResult, initiatives: tuple[str, ...], effects: tuple[str, ...]) -> bool:
    """Whether every effect (lift_csat, lift_nps) of ``initiatives`` is replaced by a given lift in
    every investment funding them."""
    if not initiatives or not effects or any(not e.startswith("lift_") for e in effects):
        return False
    funding = [inv for inv in result.scenario.investments if inv.initiative in initiatives]
    return bool(funding) and all(inv.lift is not None and getattr(inv.lift, e.removeprefix("lift_")) is not None
                                 for inv in funding for e in effects)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


#: every check, in the order findings are listed within a severity
CHECKS: tuple[type, ...] = (RoiCheck, IrrCheck, PaybackCheck, TerminalHorizonCheck, HistoryRangeCheck,
                            IdentificationCheck)


def review(result: SimulationResult, context: Context = Context(),
           config: PlausibilityConfig | None = None) -> tuple[Finding, ...]:
    """Run every check of :data:`CHECKS` on ``result``: flags first, then review items."""
    config = config or config_from_environment()
    findings = [finding for check in CHECKS for finding in check(config)(result, context)]
    return tuple(sorted(findings, key=lambda f: f.severity != "flag"))


def flags(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """The findings that are flags (implausible figures), in order."""
    return tuple(f for f in findings if f.severity == "flag")


def headline(findings: tuple[Finding, ...]) -> str:
    """One sentence for beside a headline figure: how many flags and review items, or that none
    was raised."""
    n_flags = len(flags(findings))
    n_review = len(findings) - n_flags
    if not findings:
        return "Plausibility review: no flag."
    parts = ([f"{n_flags} plausibility flag{'s' * (n_flags != 1)}"] if n_flags else []) + (
        [f"{n_review} item{'s' * (n_review != 1)} to review"] if n_review else [])
    return "Plausibility review: " + " and ".join(parts) + "."


@dataclass(frozen=True)
class Reviewer:
    """What :class:`~cxroi.sim.result.SimulationResult` calls to review itself (once, on first
    use): the model ``artifact`` the result was simulated on (None: the checks that need its
    starting levels and history ranges are skipped) and the thresholds (None: from the
    environment at review time)."""

    artifact: ModelArtifact | None = field(default=None, compare=False)
    config: PlausibilityConfig | None = None

    def __call__(self, result: SimulationResult) -> tuple[Finding, ...]:
        context = Context() if self.artifact is None else Context(result.scenario.peak_lifts(self.artifact),
                                                                  self.artifact.manifest)
        return review(result, context, self.config)
