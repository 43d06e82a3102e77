"""How much the history narrowed each effect, and what a leader must know when it did not.

Contraction of an effect (Betancourt's posterior contraction) is ``1 − var(posterior) / var(prior)``:
1 when the history pins the effect down, 0 when the posterior is the prior. Prior variances:

* segment CX effects (churn_csat, churn_nps, arpu_csat, acq_nps, per 10 points): the Bayesian
  family's hierarchical prior b_s ~ Normal(μ, σ), μ ~ Normal(m, s), σ ~ Gamma(2, 4/s) with m and s
  from :data:`cxroi.fit.priors.EFFECT_PRIORS`, whose marginal variance is s² + E[σ²] = s² + 3s²/8
  = 11s²/8 (the lean m toward the published direction moves the prior, not its width);
  the regression family has no prior, so the same reference variance measures how far its
  sampling distribution is inside what the Bayesian family would assume before seeing data;
* initiative lifts (points at full effect): the catalogue's normal prior sd.

An effect with contraction below :data:`IDENTIFIED` is *not identified*: its value rests on the
prior, not on the history. Each such effect becomes a caveat scoped to its segment or
initiative; a lift's caveat carries a pilot design (:func:`pilot_customers`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from cxroi.catalogue import Initiative
from cxroi.fit.lifts import METRICS, prior
from cxroi.fit.priors import segment_prior_sd
from cxroi.manifest import Caveat, SegmentState
from cxroi.params import CX_EFFECTS, EFFECT_LABELS

#: contraction below which an effect counts as not identified by the history: the posterior sd is
#: then above √0.5 ≈ 71 % of the prior sd
IDENTIFIED = 0.5
#: pilot design: two-sided test at 5 % with 80 % power, over this many months
PILOT_ALPHA, PILOT_POWER, PILOT_MONTHS = 0.05, 0.80, 3
SEGMENT_EFFECTS = CX_EFFECTS
__all__ = ["contraction", "identification_caveats", "least_identified", "pilot_customers", "segment_prior_sd"]


def contraction(draws: dict[str, np.ndarray], segments: list[str],
                catalogue: dict[str, Initiative]) -> dict[str, dict[str, float]]:
    """Contraction (0–1, clipped at 0) per effect and segment (CX effects) or initiative (lifts)."""
    out: dict[str, dict[str, float]] = {}
    for effect in SEGMENT_EFFECTS:
        variance = np.var(draws[effect], axis=0) / segment_prior_sd(effect) ** 2
        out[effect] = {s: float(max(0.0, 1.0 - v)) for s, v in zip(segments, variance, strict=True)}
    for metric in METRICS:
        effect = f"lift_{metric}"
        out[effect] = {}
        for j, (initiative_id, initiative) in enumerate(catalogue.items()):
            sd = prior(initiative, metric)[1]
            out[effect][initiative_id] = float(max(0.0, 1.0 - np.var(draws[effect][:, j]) / sd**2))
    return out


def pilot_customers(lift_points: float, satisfied_share: float) -> int:
    """Customers to survey in each arm of a pilot (treated and untreated), per month over
    :data:`PILOT_MONTHS` months, to detect a CSAT lift of ``lift_points`` (top-2-box points) with
    :data:`PILOT_POWER` power in a two-sided test at :data:`PILOT_ALPHA`, when ``satisfied_share``
    (0–1) of customers are satisfied today. Two proportions, equal arms of n·m answers each:
    n·m = 2·p(1 − p)·((z₁₋α/₂ + z_power) · 100 / lift)²."""
    p = min(max(satisfied_share, 0.01), 0.99)
    z = norm.ppf(1 - PILOT_ALPHA / 2) + norm.ppf(PILOT_POWER)
    answers = 2.0 * p * (1.0 - p) * (z * 100.0 / max(abs(lift_points), 0.1)) ** 2
    return math.ceil(answers / PILOT_MONTHS)


def identification_caveats(identified: dict[str, dict[str, float]], catalogue: dict[str, Initiative],
                           reach: dict[str, tuple[str, ...]], state: dict[str, SegmentState]) -> list[Caveat]:
    """A caveat per effect the history does not identify: "the value rests on the prior, not on
    your history", with a pilot design for each initiative lift."""
    caveats = []
    for effect in SEGMENT_EFFECTS:
        weak = [s for s, c in identified[effect].items() if c < IDENTIFIED]
        if weak:
            caveats.append(Caveat(
                code="not_identified", segments=tuple(weak), effects=(effect,),
                text=f"the effect of {EFFECT_LABELS[effect]} is not identified by the history in {', '.join(weak)} (the data narrowed "
                     f"its prior by less than {IDENTIFIED:.0%}): a value through it rests on the prior, not on "
                     "your history"))
    for initiative_id, initiative in catalogue.items():
        weak = [f"lift_{m}" for m in METRICS if identified[f"lift_{m}"][initiative_id] < IDENTIFIED]
        if not weak:
            continue
        segments = reach.get(initiative_id, ())
        lift = initiative.csat_lift.mean
        # the largest segment it reaches: the easiest to recruit both arms of a pilot from
        where = max((s for s in segments if s in state), key=lambda s: state[s].customers, default=None)
        design = (f"; a pilot in {where} needs about {pilot_customers(lift, state[where].csat / 100.0):,} surveyed "
                  f"customers in each arm (treated and not) every month for {PILOT_MONTHS} months to detect its "
                  f"catalogue CSAT lift of {lift:+.1f} points with {PILOT_POWER:.0%} power") if where else ""
        narrowed = max(identified[effect][initiative_id] for effect in weak)
        caveats.append(Caveat(
            code="not_identified", segments=segments, effects=tuple(weak), initiatives=(initiative_id,),
            text=f"the lift of {initiative.name} rests on the catalogue prior, not on your history (the history "
                 f"narrowed it by {narrowed:.0%}){design}"))
    return caveats


def least_identified(identified: dict[str, dict[str, float]]) -> float:
    """The smallest contraction of the segment CX effects' population average: the worst-known
    link the forecasts run through (0–1)."""
    return min(float(np.mean(list(identified[effect].values()))) for effect in SEGMENT_EFFECTS)
