"""What a model says a CX change does, per segment, with intervals over its parameter draws.

For +10 points of CSAT or NPS from the segment's current level (manifest state):

* churn: change in the monthly churn probability, in percentage points (fraction × 100), from
  logit p = churn_intercept + churn_csat·zc + churn_nps·zn;
* ARPU: relative change exp(arpu_csat) − 1 (fraction);
* acquisition: relative change of expected new customers exp(acq_nps) − 1 (fraction).

Initiative lifts: CSAT/NPS points at nominal spend, and the steady-state lift curve over relative
spend x, lift · x(1+k)/(x+k). Intervals are P10–P90 (80 %) over draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxroi.params import CX_EFFECTS, EFFECT_LABELS
from cxroi.registry import ModelArtifact
from cxroi.science import logistic, per_ten_points, saturation, score_effect

LOW, HIGH = 0.1, 0.9
EFFECTS = (  # (label, parameter, kind, unit)
    ("Monthly churn, +10 CSAT", "churn_csat", "churn", "percentage points"),
    ("Monthly churn, +10 NPS", "churn_nps", "churn", "percentage points"),
    ("ARPU, +10 CSAT", "arpu_csat", "relative", "% change"),
    ("New customers, +10 NPS", "acq_nps", "relative", "% change"),
)


def _summary(values: np.ndarray) -> dict[str, np.ndarray]:
    return {"mean": values.mean(axis=0), "low": np.quantile(values, LOW, axis=0),
            "high": np.quantile(values, HIGH, axis=0)}


def segment_effects(model: ModelArtifact) -> pd.DataFrame:
    """One row per effect × segment: effect, parameter, segment, mean, low, high, unit, source.
    Churn rows are in percentage points, relative rows in fractions."""
    d = model.draws
    state = model.state
    zc = np.array([per_ten_points(state[s].csat, state[s].ref_csat) for s in model.segments])
    zn = np.array([per_ten_points(state[s].nps, state[s].ref_nps) for s in model.segments])
    z = {"churn_csat": zc, "churn_nps": zn}

    def churn_term(parameter: str, at: np.ndarray) -> np.ndarray:  # a gain/loss fit: its slope below the reference
        return score_effect(at, d[parameter], d.get(f"{parameter}_loss"))

    logit0 = d["churn_intercept"] + churn_term("churn_csat", zc) + churn_term("churn_nps", zn)
    rows = []
    for label, parameter, kind, unit in EFFECTS:
        if kind == "churn":
            moved = logit0 + churn_term(parameter, z[parameter] + 1.0) - churn_term(parameter, z[parameter])
            values = 100 * (logistic(moved) - logistic(logit0))
        else:
            values = np.expm1(d[parameter])
        stats = _summary(values)
        for j, segment in enumerate(model.segments):
            rows.append({"effect": label, "parameter": parameter, "segment": segment,
                         "mean": stats["mean"][j], "low": stats["low"][j], "high": stats["high"][j],
                         "unit": unit, "source": model.manifest.effect_source(parameter, segment)})
    return pd.DataFrame(rows)


def initiative_lifts(model: ModelArtifact) -> pd.DataFrame:
    """One row per initiative: CSAT and NPS lift at nominal spend (mean, low, high, source) and
    the monthly carry-over λ."""
    d = model.draws
    csat, nps = _summary(d["lift_csat"]), _summary(d["lift_nps"])
    return pd.DataFrame([{
        "initiative": model.manifest.initiative_name(i),
        "csat_mean": csat["mean"][j], "csat_low": csat["low"][j], "csat_high": csat["high"][j],
        "csat_source": model.manifest.effect_source("lift_csat", i),
        "nps_mean": nps["mean"][j], "nps_low": nps["low"][j], "nps_high": nps["high"][j],
        "nps_source": model.manifest.effect_source("lift_nps", i),
        "carryover": float(d["lift_carryover"][:, j].mean()),
    } for j, i in enumerate(model.initiatives)])


def lift_curves(model: ModelArtifact, kind: str = "csat", max_multiple: float = 3.0, points: int = 61) -> pd.DataFrame:
    """Steady-state mean lift (points of ``kind`` = 'csat' or 'nps') against relative spend,
    per initiative: columns initiative, spend_multiple, lift."""
    settings = model.manifest.initiative_settings
    x = np.linspace(0.0, max_multiple, points)
    lift = model.draws[f"lift_{kind}"].mean(axis=0)
    frames = []
    for j, initiative in enumerate(model.initiatives):
        k = settings[initiative].saturation_k
        frames.append(pd.DataFrame({"initiative": model.manifest.initiative_name(initiative),
                                    "spend_multiple": x, "lift": lift[j] * saturation(x, k)}))
    return pd.concat(frames, ignore_index=True)


#: the row of a prior in :func:`prior_posterior` (drawn first, in grey; the same for every segment)
PRIOR_ROW = "Prior"


def prior_posterior(model: ModelArtifact) -> pd.DataFrame:
    """Prior against posterior of every segment CX effect on the model's own scale (per +10
    points: logit churn, log ARPU, log new customers): one row per effect for the prior (segment
    :data:`PRIOR_ROW`, from the manifest) and one per effect × segment for the posterior; columns
    effect (label), parameter, segment, kind ("prior" / "posterior"), mean, low, high (P10–P90),
    contraction (0–1, how much the history narrowed the prior; NaN for prior rows) and sources.
    Empty when the model recorded no priors (the regression family, older artifacts)."""
    priors = model.manifest.priors
    rows = []
    for parameter in CX_EFFECTS:
        if parameter not in priors:
            continue
        p = priors[parameter]
        label = EFFECT_LABELS[parameter]
        rows.append({"effect": label, "parameter": parameter, "segment": PRIOR_ROW, "kind": "prior",
                     "mean": p.mean, "low": p.low, "high": p.high, "contraction": np.nan, "sources": p.sources})
        stats = _summary(model.draws[parameter])
        identified = model.manifest.identification.get(parameter, {})
        for j, segment in enumerate(model.segments):
            rows.append({"effect": label, "parameter": parameter, "segment": segment, "kind": "posterior",
                         "mean": stats["mean"][j], "low": stats["low"][j], "high": stats["high"][j],
                         "contraction": identified.get(segment, np.nan), "sources": p.sources})
    return pd.DataFrame(rows, columns=["effect", "parameter", "segment", "kind", "mean", "low", "high",
                                       "contraction", "sources"])
