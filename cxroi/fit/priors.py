"""The priors of the four CX effects, their units and their sources, in one place.

Each segment effect is partially pooled: b_s ~ Normal(μ, σ), μ ~ Normal(m, s), σ ~ Gamma(2, 4/s)
(mean s/2), per +10 points of CSAT or NPS on the outcome's link scale:

===========  ===========================  =====  =====  ==========================================
effect       unit (per +10 points)        m      s      published direction
===========  ===========================  =====  =====  ==========================================
churn_csat   logit monthly churn          −0.25  0.5    satisfaction lowers defection
churn_nps    logit monthly churn          −0.25  0.5    advocates defect less
arpu_csat    log revenue per customer     +0.05  0.1    satisfied customers pay more
acq_nps      log new customers            +0.15  0.3    promoters bring referrals
===========  ===========================  =====  =====  ==========================================

The **sign** of m is the direction the published evidence reports:

* churn ← CSAT: Anderson & Sullivan (1993, Marketing Science 12(2)) — satisfaction raises
  repurchase intention; Mittal & Kamakura (2001, Journal of Marketing Research 38(1)) — satisfaction
  raises actual repurchase behaviour (non-linearly, with thresholds that differ by customer);
* churn ← NPS and acquisition ← NPS: Reichheld (2003, Harvard Business Review 81(12), "The one
  number you need to grow") — recommenders stay and bring new customers; its claim that NPS
  predicts growth *better* than other measures is disputed (Keiningham et al. 2007, Journal of
  Marketing 71(3)), which is why the lean is weak;
* revenue per customer ← CSAT: Homburg, Koschate & Hoyer (2005, Journal of Marketing 69(2),
  "Do satisfied customers really pay more?") — willingness to pay rises with satisfaction.

The **size** of m is not taken from those studies: they measure other scales (intentions,
elasticities, willingness to pay), which do not convert into these link-scale slopes. m = s/2
puts about two thirds of the marginal prior on the published side — P(b_s on that side)
= Φ(0.5 / √(11/8)) ≈ 0.66 — so the prior leans without deciding: one standard deviation of data
against it overturns it. The scale s is unchanged from the symmetric priors used before the lean
(weakly informative: a +10 point CSAT move changing churn odds by e^±1 is already extreme).

Standard library only (plus numpy for the prior's quantiles): the manifest, the report and the
app read these numbers without the training libraries.
"""

from __future__ import annotations

import math

import numpy as np

#: effect -> (prior mean m of the population effect, its scale s), per +10 points, link scale
EFFECT_PRIORS: dict[str, tuple[float, float]] = {
    "churn_csat": (-0.25, 0.5), "churn_nps": (-0.25, 0.5), "arpu_csat": (0.05, 0.1), "acq_nps": (0.15, 0.3),
}
#: scale s of each pooled effect's population mean (its σ gets half this scale on average)
POOLED_SCALES = {name: scale for name, (_, scale) in EFFECT_PRIORS.items()}
#: the published direction of each effect: −1 lowers the outcome, +1 raises it
EXPECTED_SIGN = {name: int(math.copysign(1, mean)) for name, (mean, _) in EFFECT_PRIORS.items()}
SOURCES = {
    "churn_csat": "Anderson & Sullivan 1993; Mittal & Kamakura 2001",
    "churn_nps": "Reichheld 2003 (disputed in strength: Keiningham et al. 2007)",
    "arpu_csat": "Homburg, Koschate & Hoyer 2005",
    "acq_nps": "Reichheld 2003 (disputed in strength: Keiningham et al. 2007)",
}
#: central interval shown for priors and posteriors side by side (P10–P90)
LOW, HIGH = 0.1, 0.9
#: Monte Carlo draws of the hierarchical prior behind the stored quantiles (fixed seed: the
#: quantiles are the same in every artifact; their Monte Carlo error is < 1 % of the sd)
PRIOR_DRAWS, PRIOR_SEED = 200_000, 20260


def segment_prior_sd(effect: str) -> float:
    """Marginal prior sd of a segment effect b_s: √(s² + E[σ²]) = √(s² + 3s²/8) = s·√(11/8)
    (σ ~ Gamma(2, 4/s) has mean s/2 and variance s²/8)."""
    return POOLED_SCALES[effect] * math.sqrt(11.0 / 8.0)


def segment_prior_draws(effect: str, n: int = PRIOR_DRAWS, seed: int = PRIOR_SEED) -> np.ndarray:
    """Draws of one segment's effect under the hierarchical prior (per +10 points, link scale)."""
    mean, scale = EFFECT_PRIORS[effect]
    rng = np.random.default_rng([seed, list(EFFECT_PRIORS).index(effect)])
    mu = rng.normal(mean, scale, n)
    sigma = rng.gamma(2.0, scale / 4.0, n)
    return rng.normal(mu, sigma)


def prior_summary(effect: str) -> dict[str, float | int | str]:
    """What the manifest stores of an effect's prior: mean, sd, P10, P90, expected sign, sources."""
    low, high = np.quantile(segment_prior_draws(effect), [LOW, HIGH])
    return {"mean": EFFECT_PRIORS[effect][0], "sd": segment_prior_sd(effect), "low": float(low),
            "high": float(high), "expected_sign": EXPECTED_SIGN[effect], "sources": SOURCES[effect]}
