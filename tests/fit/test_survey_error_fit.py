"""Survey error in the Bayesian model, on a synthetic history with tiny surveys (15–25 answers a
month) and known truth: taking the scores as exact attenuates the CSAT effects and is confidently
wrong; the latent-level model is not. Also: the asymmetric option's summary."""

from __future__ import annotations

import numpy as np
import pytest

from cxroi.data.schema import require_valid
from cxroi.data.synth import generate
from cxroi.fit.bayes import BayesModel
from cxroi.fit.design import build_design
from cxroi.fit.diagnostics import interval

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("survey-error-fits")]  # one worker builds the fits

#: truth away from the priors' means (−0.25, +0.05), so agreeing with the prior is not agreeing with the truth
TRUTH = {"churn_csat": -0.5, "arpu_csat": 0.04}


@pytest.fixture(scope="module")
def tiny_survey_fits(catalogue):
    result = generate(segments=6, months=36, seed=43, responses_range=(15, 25), effects=TRUTH)
    panel = require_valid(result.panel.loc[:, ~result.panel.columns.str.startswith("spend_")])
    design = build_design(panel, catalogue)
    # cores=2: the two chains run at once where a core is free (the draws do not depend on it)
    fits = {on: BayesModel(draws=300, tune=300, chains=2, cores=2, seed=9, survey_error=on).fit(design, catalogue)
            for on in (False, True)}
    truth = {name: np.mean([result.truth["segment_parameters"][s][name] for s in design.segments]) for name in TRUTH}
    return design, fits, truth


def test_tiny_surveys_use_the_non_centred_latent_path(tiny_survey_fits) -> None:
    design, _, _ = tiny_survey_fits
    assert BayesModel().latent_forms(design) == {"csat": "noncentered", "nps": "noncentered"}


def test_exact_scores_attenuate_and_the_survey_error_model_does_not(tiny_survey_fits) -> None:
    """With ~20 answers the survey sd of CSAT (≈ 10 points) dwarfs its true monthly movement
    (sd ≈ 3.5), so the reliability ratio is ≈ 0.1: regressing on the observed score shrinks the
    slope to about a tenth. The latent model's average over segments must be at least twice as
    far from 0 as the exact-scores one, and its 90 % interval must hold the truth."""
    _, fits, truth = tiny_survey_fits
    for name, true in truth.items():
        exact, latent = (fits[on].draws[name].mean(axis=1) for on in (False, True))
        assert abs(exact.mean()) < 0.5 * abs(true), (name, exact.mean(), true)  # attenuated
        assert abs(latent.mean()) > 2 * abs(exact.mean()), (name, latent.mean(), exact.mean())
        low, high = interval(latent, 0.90)
        assert low <= true <= high, (name, low, high, true)
    assert fits[True].survey_error == ("csat", "nps") and fits[False].survey_error == ()
