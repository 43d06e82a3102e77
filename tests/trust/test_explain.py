"""The sentences the Drivers page and the report share on survey error and gain/loss effects."""

from __future__ import annotations

from cxroi.explain import asymmetry_sentences, survey_error_sentence
from cxroi.manifest import Asymmetry
from cxroi.testing.artifacts import exact_artifact


def test_survey_error_sentence_names_each_family_s_correction(tmp_path) -> None:
    manifest = exact_artifact(tmp_path, "plain", {}).manifest  # a regression model without response counts
    assert survey_error_sentence(manifest).startswith("Survey error not modelled")
    regression = manifest.model_copy(update={"survey_error": ("csat", "nps")})
    assert "Survey error modelled for CSAT and NPS" in survey_error_sentence(regression)
    assert "regression calibration" in survey_error_sentence(regression)
    bayes = regression.model_copy(update={"family": "bayes", "survey_error": ("nps",)})
    assert survey_error_sentence(bayes).startswith("Survey error modelled for NPS: each month's score is a noisy "
                                                   "measurement of a latent level")


def test_asymmetry_sentences_give_the_difference_with_true_minus_signs(tmp_path) -> None:
    manifest = exact_artifact(tmp_path, "gain-loss", {"churn_csat_loss": -0.4}, csat=65.0).manifest
    asymmetry = Asymmetry(effects=("churn_csat",), loss={"churn_csat": {"S": -0.4}},
                          loss_minus_gain={"churn_csat": {"mean": -0.4167, "low": -0.7164, "high": 0.0523}},
                          p_loss_stronger={"churn_csat": 0.951})
    first, csat = asymmetry_sentences(manifest.model_copy(update={"asymmetry": asymmetry}))
    assert "Forecasts use both" in first
    assert csat == ("CSAT on churn: slope below minus slope above \u22120.417 (P10 \u22120.716, P90 +0.052; logit of "
                    "monthly churn per +10 points); probability that falls act more strongly 95%.")
    assert asymmetry_sentences(exact_artifact(tmp_path, "symmetric", {}).manifest) == []
