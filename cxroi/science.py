"""The curves everyone shares — the synthetic generator, both model families, the simulator and
the app all take them from here, so there is exactly one definition of each.

* CX scores enter every model as deviations "per 10 survey points" from a segment reference:
  ``z = (score − reference) / 10`` (:func:`per_ten_points`).
* Churn is a logistic link: p = 1 / (1 + e^(−logit)) (:func:`logistic`); a score moves it by
  slope · z, or, in a gain/loss fit, by one slope above the reference and another below it
  (:func:`score_effect`).
* An initiative's monthly spend x, relative to its nominal monthly cost, builds up a normalised
  geometric adstock A_t = λ A_{t−1} + (1 − λ) x_t (:func:`adstock`; λ = carry-over per month, so
  a lift ramps up while funded and decays after), and the share of the initiative's full lift
  felt at A is the saturating curve sat(A) = A (1 + k) / (A + k) (:func:`saturation`), equal to
  1 at nominal spend (A = 1) and to 1 + k at unbounded spend.
* A customer retained with monthly probability r, paying margin m at the end of every month
  retained, is worth m · r / (1 + i − r) now at monthly discount rate i (:func:`clv_multiple`).

Every function is plain arithmetic on its arguments, so :func:`saturation` and
:func:`logistic` also take PyTensor tensors (the Bayesian family builds its graph with them).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

#: survey points per unit of a model's CX effect ("per 10 points")
POINTS_PER_UNIT = 10.0
#: the scale of each survey measure, in points: CSAT is 0–100 %, NPS −100–100
SURVEY_SCALE = {"csat": (0.0, 100.0), "nps": (-100.0, 100.0)}

Array = TypeVar("Array")


def per_ten_points(score, reference):
    """CX deviation in model units: (score − reference) / 10 (score and reference in points)."""
    return (score - reference) / POINTS_PER_UNIT


def logistic(logit: Array) -> Array:
    """Probability from a logit: 1 / (1 + e^(−logit))."""
    return 1.0 / (1.0 + np.exp(-logit))


def score_effect(z: np.ndarray, slope: np.ndarray, loss_slope: np.ndarray | None = None) -> np.ndarray:
    """A score's term on its outcome's link scale at deviation ``z`` (per 10 points): slope · z,
    or slope · max(z, 0) + loss_slope · min(z, 0) when a gain/loss fit gives a slope below the
    reference (numpy arrays, broadcast)."""
    if loss_slope is None:
        return slope * z
    return slope * np.maximum(z, 0.0) + loss_slope * np.minimum(z, 0.0)


def saturation(relative_spend: Array, k) -> Array:
    """Share of an initiative's full effect at adstocked relative spend A: A (1 + k) / (A + k);
    0 at A = 0, 1 at nominal spend A = 1, approaching 1 + k as A grows (k > 0)."""
    return relative_spend * (1.0 + k) / (relative_spend + k)


def adstock(relative_spend: np.ndarray, carryover: float | np.ndarray) -> np.ndarray:
    """Normalised geometric adstock along the last axis (months), starting from zero:
    A_t = λ A_{t−1} + (1 − λ) x_t. ``carryover`` λ in [0, 1) broadcasts against the leading axes."""
    out = np.zeros_like(relative_spend, dtype=float)
    level = np.zeros(relative_spend.shape[:-1])
    for t in range(relative_spend.shape[-1]):
        level = carryover * level + (1.0 - carryover) * relative_spend[..., t]
        out[..., t] = level
    return out


def clv_multiple(retention: np.ndarray | float, rate: float) -> np.ndarray:
    """Customer-lifetime-value multiple r / (1 + i − r): value now of one customer's monthly
    margin m, received at the end of every future month the customer is retained (probability
    r per month), discounted at monthly rate i. CLV = m · multiple."""
    retention = np.asarray(retention, dtype=float)
    return retention / (1.0 + rate - retention)
