"""Plain sentences on how a model treated its data — survey error and gain/loss churn effects —
shared by the app's Drivers page and the model report, so both say the same thing."""

from __future__ import annotations

from cxroi.manifest import Manifest
from cxroi.params import EFFECT_LABELS

#: how each family corrects survey error when it does
_CORRECTION = {
    "bayes": "each month's score is a noisy measurement of a latent level (its number of answers sets how noisy)",
    "regression": "each month's score is replaced by its regression calibration, shrunk toward the segment's mean "
                  "as far as its number of answers makes it unreliable",
}


def survey_error_sentence(manifest: Manifest) -> str:
    """Whether and how the model corrected CSAT and NPS for survey sampling error."""
    if not manifest.survey_error:
        return ("Survey error not modelled: CSAT and NPS were taken as exact (the panel gave no response counts, "
                "or the option was off).")
    scores = " and ".join(s.upper() for s in manifest.survey_error)
    return f"Survey error modelled for {scores}: {_CORRECTION[manifest.family]}."


def asymmetry_sentences(manifest: Manifest) -> list[str]:
    """For a gain/loss fit: what was fitted, and per effect the posterior difference of the two
    slopes (per +10 points, logit of monthly churn) and the probability that falls act more
    strongly; empty for a symmetric fit."""
    asymmetry = manifest.asymmetry
    if asymmetry is None:
        return []
    lines = ["Gain/loss churn effects were fitted: one slope of a score above its reference, another below it. "
             "Forecasts use both: a lift that starts below the reference is valued at the slope below it until "
             "the score passes the reference."]
    for effect, d in asymmetry.loss_minus_gain.items():
        label = EFFECT_LABELS.get(effect, effect)
        lines.append(f"{label[0].upper()}{label[1:]}: slope below minus slope above {_signed(d['mean'])} (P10 "
                     f"{_signed(d['low'])}, P90 {_signed(d['high'])}; logit of monthly churn per +10 points); "
                     f"probability that falls act more strongly {asymmetry.p_loss_stronger[effect]:.0%}.")
    return lines


def _signed(value: float) -> str:
    """A signed figure to three decimals with a true minus sign ("−0.417", "+0.052")."""
    return f"{value:+.3f}".replace("-", "\u2212")
