"""The assumptions a result was valued on, in words a reader outside the model can check: the
CX lift each investment was given (mean, sd, where it comes from) and the CX effects each reached
segment's value runs through (mean, sd, source, how far the history narrowed them).

Units: lifts are survey points at full effect (CSAT % points, NPS points); effects are per +10
points of the score, on the link scale of their outcome (logit of monthly churn, log of revenue
per customer, log of expected new customers); identification is the prior → posterior
contraction (0–1, cxroi.fit.identification; None when not recorded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cxroi.params import EFFECT_LABELS
from cxroi.sim.scenario import LEVER_EFFECTS

if TYPE_CHECKING:
    from cxroi.manifest import Manifest
    from cxroi.sim.scenario import Investment, Scenario

#: how each effect source reads in a sentence
SOURCE_WORDS = {"history": "learned from your history", "catalogue": "the catalogue's prior (not your history)",
                "pilot": "calibrated by a pilot", "scenario": "given in the scenario (a pilot or your own figure)"}
#: the link scale of each segment effect, for its unit
EFFECT_SCALES = {"churn_csat": "logit of monthly churn", "churn_nps": "logit of monthly churn",
                 "arpu_csat": "log of revenue per customer", "acq_nps": "log of new customers"}


@dataclass(frozen=True)
class LiftUsed:
    """The lift of one investment (``position``, 0-based) on one score, at full effect."""

    position: int
    initiative: str
    initiative_name: str
    kind: str  #: "csat" or "nps"
    mean: float  #: survey points
    sd: float  #: survey points
    source: str  #: a key of SOURCE_WORDS
    identification: float | None

    @property
    def describe(self) -> str:
        return f"{self.mean:+.1f} ± {self.sd:.1f} {self.kind.upper()} points, {SOURCE_WORDS.get(self.source, self.source)}"


@dataclass(frozen=True)
class EffectUsed:
    """One CX effect in one reached segment (per +10 points, on :data:`EFFECT_SCALES`)."""

    effect: str
    segment: str
    mean: float
    sd: float
    source: str
    identification: float | None

    @property
    def label(self) -> str:
        return EFFECT_LABELS[self.effect]

    @property
    def describe(self) -> str:
        known = "" if self.identification is None else f"; the history narrowed it by {self.identification:.0%}"
        return (f"{self.mean:+.3f} ± {self.sd:.3f} on the {EFFECT_SCALES[self.effect]} per +10 points, "
                f"{SOURCE_WORDS.get(self.source, self.source)}{known}")


@dataclass(frozen=True)
class SpendUsed:
    """What one investment (``position``) spends in one segment each funded month: ``amount``
    (currency per month) and ``level``, the amount as a multiple of the initiative's nominal
    monthly cost there (fixed share + cost per customer × customers reached)."""

    position: int
    segment: str
    amount: float
    level: float


@dataclass(frozen=True)
class Assumptions:
    lifts: tuple[LiftUsed, ...]
    effects: tuple[EffectUsed, ...]
    spend: tuple[SpendUsed, ...] = ()


def used(scenario: Scenario, manifest: Manifest, params: dict[str, np.ndarray], segments: tuple[str, ...],
         lift_draws: Callable[[Investment, int, str], np.ndarray],
         nominal_costs: Callable[[str], np.ndarray]) -> Assumptions:
    """The assumptions of ``scenario`` on a model: ``params`` are its draws (segment parameters
    segments × draws in ``segments`` order), ``lift_draws(investment, position, kind)`` gives the
    lift draws an investment is simulated with (model or override), ``nominal_costs(initiative)``
    the nominal monthly cost in each of ``segments`` (currency per month)."""
    spend = []
    for j, inv in enumerate(scenario.investments):
        nominal = nominal_costs(inv.initiative)
        for segment in inv.segments:
            cost = float(nominal[segments.index(segment)])
            spend.append(SpendUsed(j, segment, inv.monthly_spend_in(cost), inv.level_in(cost)))
    lifts = []
    for j, inv in enumerate(scenario.investments):
        for kind in ("csat", "nps"):
            draws = np.asarray(lift_draws(inv, j, kind), dtype=float)
            overridden = inv.lift is not None and getattr(inv.lift, kind) is not None
            source = "scenario" if overridden else manifest.effect_source(f"lift_{kind}", inv.initiative)
            known = None if overridden else manifest.identification.get(f"lift_{kind}", {}).get(inv.initiative)
            lifts.append(LiftUsed(j, inv.initiative, manifest.initiative_name(inv.initiative), kind,
                                  float(draws.mean()), float(draws.std()), source, known))
    effects = []
    for segment in scenario.segments:
        s = segments.index(segment)
        for lever in scenario.levers.enabled():
            for effect in LEVER_EFFECTS[lever]:
                draws = params[effect][s]
                effects.append(EffectUsed(effect, segment, float(draws.mean()), float(draws.std()),
                                          manifest.effect_source(effect, segment),
                                          manifest.identification.get(effect, {}).get(segment)))
    return Assumptions(tuple(lifts), tuple(effects), tuple(spend))
