"""Calibration study, small version: the Bayesian model's intervals cover synthetic truth about
as often as they claim, and the study's machinery notices intervals that are too narrow."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from scipy import stats

from cxroi.catalogue import load_catalogue
from cxroi.data.schema import require_valid
from cxroi.fit.design import build_design
from cxroi.sim.engine import Simulator
from validation.calibration import (
    StudySettings,
    coverage_rows,
    coverage_table,
    draw_dataset,
    fixed_scenario,
    make_model,
    run_study,
    true_artifact,
    wilson,
)

#: tail probability of the binomial bounds below. Within one dataset the segments share
#: hyper-parameters, so hits are positively correlated and the spread is wider than binomial;
#: a 0.1 % tail (instead of the usual 5 %) leaves room for that.
TAIL = 0.001
#: 3 datasets without spend columns: one model structure, so the Bayesian model compiles once
SMALL = StudySettings(datasets=3, segments=3, months=18, draws=250, tune=250, chains=2, seed=11,
                      spend_history=False)


def test_wilson_interval_matches_the_textbook_value():
    # 9 successes out of 10, 95 %: Wilson score interval 0.596 to 0.982 (e.g. Agresti & Coull 1998)
    low, high = wilson(9, 10)
    assert low == pytest.approx(0.5958, abs=5e-4) and high == pytest.approx(0.9821, abs=5e-4)


def test_true_parameters_reproduce_the_generator_churn():
    """The truth artifact's baseline churn in the first forecast month equals the generator's
    churn probability at the last month's true (not surveyed) CSAT/NPS, computed here from the
    truth by hand; the surveyed scores differ from those by sampling error."""
    catalogue = load_catalogue()
    result, _ = draw_dataset(SMALL, 0)
    design = build_design(require_valid(result.panel), catalogue, 1)
    run = Simulator(true_artifact(result.truth, design, catalogue)).run(fixed_scenario(design.segments, catalogue, SMALL))
    churn = run.baseline.churned[0, :, 0] / run.baseline.customers[0, :, 0]  # draw 0, month 1
    for s, segment in enumerate(design.segments):
        p = result.truth["segment_parameters"][segment]
        logit = (p["churn_intercept"] + p["churn_csat"] * (p["csat_last"] - p["csat_base"]) / 10
                 + p["churn_nps"] * (p["nps_last"] - p["nps_base"]) / 10)
        assert churn[s] == pytest.approx(1 / (1 + np.exp(-logit)), rel=1e-12)


def test_overconfident_draws_are_caught():
    """Shrinking every draw 20-fold towards its mean must collapse 90 % coverage: the study would
    flag a model that is too sure of itself."""
    catalogue = load_catalogue()
    settings = dataclasses.replace(SMALL, family="regression")
    honest, narrow = [], []
    model = make_model(settings)
    for index in range(3):
        result, _ = draw_dataset(settings, index)
        design = build_design(require_valid(result.panel), catalogue, 1)
        fit = model.fit(design, catalogue)
        shrunk = {k: v.mean(axis=0) + (v - v.mean(axis=0)) / 20 for k, v in fit.draws.items()}
        scenario = fixed_scenario(design.segments, catalogue, settings)
        honest += coverage_rows(index, fit, result, design, catalogue, scenario)
        narrow += coverage_rows(index, dataclasses.replace(fit, draws=shrunk), result, design, catalogue, scenario)
    assert np.mean([r["in_90"] for r in narrow]) < 0.5 < np.mean([r["in_90"] for r in honest])


@pytest.mark.slow
def test_bayesian_intervals_cover_the_truth():
    rows, runs = run_study(SMALL, progress=io.StringIO())
    effects = coverage_table(rows).set_index("quantity").loc["all effects"]
    n = int(effects["cases"])
    hits90, hits50 = round(effects["coverage_90"] * n), round(effects["coverage_50"] * n)
    # If the model is calibrated, hits90 ~ Binomial(n, 0.9): below the 0.1 % quantile (about 78 %
    # of ~40 cases) it fails. A model whose 90 % intervals cover 60 % would sit near 24 of 40.
    assert hits90 >= stats.binom.ppf(TAIL, n, 0.9), (hits90, n)
    # 50 % intervals: Binomial(n, 0.5) within its 0.1 %–99.9 % quantiles (about 13 to 27 of 40):
    # far fewer means too narrow, far more means too wide to be useful.
    assert stats.binom.ppf(TAIL, n, 0.5) <= hits50 <= stats.binom.isf(TAIL, n, 0.5), (hits50, n)
    assert len(runs) == SMALL.datasets and np.isfinite(rows["mean"]).all()
