"""The parameter contract shared by both model families and the simulator.

Every model artifact stores draws of exactly these parameters, each as an array of shape
``(draws, len(dim))`` where dim is the segment or initiative axis named below. Effects are
"per 10 survey points" of the segment's reference (training-mean) CSAT or NPS, applied with a lag
of ``lag_months`` months:

    zc = (csat - ref_csat) / 10,   zn = (nps - ref_nps) / 10,   t = months since training start
    logit(monthly churn prob)       = churn_intercept + churn_csat * zc + churn_nps * zn
    log(ARPU, currency/cust/month)  = arpu_intercept + arpu_trend * t + arpu_csat * zc
    log(expected new customers/mo)  = acq_intercept + acq_trend * t + acq_nps * zn

An initiative with relative monthly spend x (spend / catalogue monthly_cost) lifts CSAT by
``lift_csat * sat(A)`` points and NPS by ``lift_nps * sat(A)`` points, where A is the adstock
A_t = λ A_{t-1} + (1-λ) x_t with λ = ``lift_carryover`` and sat(A) = A (1+k) / (A + k).

A gain/loss (asymmetric) fit stores two more draws, :data:`LOSS_PARAMETERS`: the churn slope of
a score *below* its reference, so that its churn term is churn_csat·max(zc, 0) +
churn_csat_loss·min(zc, 0) (and the same for NPS); ``churn_csat`` is then the slope above it.
"""

from __future__ import annotations

from typing import Literal

Dim = Literal["segment", "initiative"]

#: name -> (axis, unit / meaning)
PARAMETERS: dict[str, tuple[Dim, str]] = {
    "churn_intercept": ("segment", "logit of monthly churn probability at reference CSAT/NPS"),
    "churn_csat": ("segment", "change in logit churn per +10 CSAT points"),
    "churn_nps": ("segment", "change in logit churn per +10 NPS points"),
    "churn_concentration": ("segment", "beta-binomial concentration of monthly churn (>0)"),
    "arpu_intercept": ("segment", "log ARPU (currency per customer per month) at t=0"),
    "arpu_trend": ("segment", "change in log ARPU per month"),
    "arpu_csat": ("segment", "change in log ARPU per +10 CSAT points"),
    "arpu_sigma": ("segment", "residual scale of log ARPU"),
    "acq_intercept": ("segment", "log expected new customers per month at t=0"),
    "acq_trend": ("segment", "change in log expected new customers per month"),
    "acq_nps": ("segment", "change in log expected new customers per +10 NPS points"),
    "acq_alpha": ("segment", "negative-binomial dispersion of new customers (>0)"),
    "lift_csat": ("initiative", "CSAT points at full effect (nominal spend, steady state)"),
    "lift_nps": ("initiative", "NPS points at full effect (nominal spend, steady state)"),
    "lift_carryover": ("initiative", "monthly carry-over λ of the lift adstock, in [0, 1)"),
}

#: the churn slopes of a score below its reference, stored only by gain/loss (asymmetric) fits
LOSS_PARAMETERS: dict[str, tuple[Dim, str]] = {
    "churn_csat_loss": ("segment", "change in logit churn per +10 CSAT points below the reference CSAT"),
    "churn_nps_loss": ("segment", "change in logit churn per +10 NPS points below the reference NPS"),
}


def artifact_parameters(asymmetric: bool) -> dict[str, tuple[Dim, str]]:
    """The parameters whose draws an artifact stores: :data:`PARAMETERS`, and
    :data:`LOSS_PARAMETERS` when the fit had gain/loss churn effects."""
    return {**PARAMETERS, **LOSS_PARAMETERS} if asymmetric else PARAMETERS


#: the CX-effect parameters whose source (history, catalogue, pilot) is reported to users
EFFECT_PARAMETERS = ("churn_csat", "churn_nps", "arpu_csat", "acq_nps", "lift_csat", "lift_nps")
#: the links from CX scores to outcomes (per segment), a subset of EFFECT_PARAMETERS
CX_EFFECTS = ("churn_csat", "churn_nps", "arpu_csat", "acq_nps")
#: how users read each effect's name
EFFECT_LABELS = {
    "churn_csat": "CSAT on churn", "churn_nps": "NPS on churn", "arpu_csat": "CSAT on revenue per customer",
    "acq_nps": "NPS on acquisition", "lift_csat": "initiative CSAT lift", "lift_nps": "initiative NPS lift",
}

SOURCES = ("history", "catalogue", "pilot")
