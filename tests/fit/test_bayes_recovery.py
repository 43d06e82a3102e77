"""The Bayesian model recovers known effects from synthetic data (cxroi.data.synth truth)."""

from __future__ import annotations

import numpy as np
import pytest

from cxroi.fit.diagnostics import interval

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("bayes-fits")]  # shares conftest.py's fits

RECOVERED = ("churn_csat", "churn_nps", "arpu_csat")


def test_90_percent_intervals_cover_the_true_effects(recovery_fits) -> None:
    covered = []
    for truth, design, fit in recovery_fits:
        for name in RECOVERED:
            low, high = interval(fit.draws[name], 0.90)
            true = np.array([truth["segment_parameters"][s][name] for s in design.segments])
            covered.extend((low <= true) & (true <= high))
    # 3 seeds × 6 segments × 3 effects = 54 pairs. Calibrated 90 % intervals miss ~5.4 pairs
    # (binomial sd 2.2); the bar is ≥ 85 % (≤ 8 misses). Survey error in the observed
    # CSAT/NPS attenuates effects by ~5–8 %, which the intervals absorb at this data size.
    assert np.mean(covered) >= 0.85, f"coverage {np.mean(covered):.2f}"


def test_fits_converge(recovery_fits) -> None:
    for _, _, fit in recovery_fits:
        # The suite tunes 500 steps, half the production setting: a lone divergence in 1 000 draws
        # (0.1 %) is a short-tuning artefact; more means the geometry is wrong. The health gate still
        # allows none at production settings (4 × 1000 after 1000 tuning steps).
        assert fit.convergence["divergences"] <= 1
        # 2 chains × 500 draws in the suite: split R-hat then varies by ≈ 0.01 around 1 even for
        # a converged chain, so 1.03 flags real non-convergence; the 1.01 gate is for production
        # draw counts (4 × 1000, see benchmarks/README.md).
        assert fit.convergence["max_rhat"] <= 1.03


def test_true_effects_are_detected_with_the_right_sign(recovery_fits) -> None:
    """The generator's churn and ARPU effects of CSAT (population means −0.25 and +0.02 per 10
    points, a few posterior sds from 0) are found: the 90 % interval of the average over segments
    excludes 0 on the right side. (CSAT and NPS move together — NPS = CSAT + noise — so the split
    between churn_csat and churn_nps is the least precise part; its coverage is tested above.)"""
    for _, _, fit in recovery_fits:
        assert interval(fit.draws["churn_csat"].mean(axis=1), 0.90)[1] < 0
        assert interval(fit.draws["arpu_csat"].mean(axis=1), 0.90)[0] > 0
