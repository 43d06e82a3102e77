"""The priors of the CX effects lean toward the published direction, weakly (cxroi.fit.priors)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from cxroi.fit.priors import (
    EFFECT_PRIORS,
    EXPECTED_SIGN,
    prior_summary,
    segment_prior_draws,
    segment_prior_sd,
)


def _mass_on_expected_side(effect: str) -> float:
    """P(sign(b) = expected) under b | σ ~ Normal(m, s² + σ²), σ ~ Gamma(2, scale s/4), by
    numerical integration over σ (independent of the Monte Carlo draws)."""
    m, s = EFFECT_PRIORS[effect]
    density = stats.gamma(a=2.0, scale=s / 4.0).pdf
    value, _ = integrate.quad(lambda sigma: stats.norm.cdf(abs(m) / math.sqrt(s**2 + sigma**2)) * density(sigma),
                              0, 20 * s)
    return value


@pytest.mark.parametrize("effect", list(EFFECT_PRIORS))
def test_prior_leans_toward_the_published_direction_but_only_weakly(effect: str) -> None:
    exact = _mass_on_expected_side(effect)
    assert 0.6 < exact < 0.75  # leans, and one sd of data against it overturns it
    draws = segment_prior_draws(effect)
    # 200 000 draws: Monte Carlo sd of a share ≈ 0.001; 0.005 is five of them
    assert np.mean(np.sign(draws) == EXPECTED_SIGN[effect]) == pytest.approx(exact, abs=0.005)
    # marginal sd s·√(11/8) (variance s² + E[σ²], E[σ²] = var + mean² = s²/8 + s²/4)
    assert draws.std() == pytest.approx(segment_prior_sd(effect), rel=0.01)


def test_stored_prior_summary_has_its_quantiles_around_the_mean() -> None:
    summary = prior_summary("churn_csat")
    assert summary["low"] < summary["mean"] < summary["high"] and summary["expected_sign"] == -1
    assert "Anderson & Sullivan 1993" in summary["sources"]
