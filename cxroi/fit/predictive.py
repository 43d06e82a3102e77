"""Predictive draws of churned, new customers and revenue for given cells, from parameter draws
(the equations of cxroi.params), shared by the posterior predictive check and the backtest.

Each prediction is conditional on the month's actual customers at start and the actual lagged
CSAT/NPS, so it measures the fitted links rather than the CX forecast.
"""

from __future__ import annotations

import numpy as np

from cxroi.fit.design import ARPU_NU, Cells
from cxroi.science import logistic, score_effect

#: churn probabilities are kept this far inside (0, 1): a logit beyond ±27 rounds to 0 or 1 in float64
PROBABILITY_FLOOR = 1e-12


def predict_cells(draws: dict[str, np.ndarray], cells: Cells, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draws (draws × cells) of churned (customers/month), new_customers (customers/month) and
    revenue (currency/month), one predictive draw per parameter draw; a gain/loss fit's churn
    slopes below the reference (``churn_csat_loss``, ``churn_nps_loss``) apply where they are given."""
    s, t = cells.segment, cells.month

    def at(name: str) -> np.ndarray:
        return draws[name][:, s]

    def loss(name: str) -> np.ndarray | None:  # a gain/loss fit's slope below the reference
        return at(f"{name}_loss") if f"{name}_loss" in draws else None

    logit = (at("churn_intercept") + score_effect(cells.zc, at("churn_csat"), loss("churn_csat"))
             + score_effect(cells.zn, at("churn_nps"), loss("churn_nps")))
    p = np.clip(logistic(logit), PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)  # the beta draw needs 0 < p < 1
    kappa = at("churn_concentration")
    p_cell = rng.beta(p * kappa, (1.0 - p) * kappa)
    n = np.broadcast_to(cells.customers_start, p_cell.shape).astype(np.int64)
    churned = rng.binomial(n, p_cell)

    mean_new = np.exp(at("acq_intercept") + at("acq_trend") * t + at("acq_nps") * cells.zn)
    alpha = at("acq_alpha")
    new = rng.poisson(rng.gamma(alpha, mean_new / alpha))

    log_arpu = (at("arpu_intercept") + at("arpu_trend") * t + at("arpu_csat") * cells.zc
                + at("arpu_sigma") * rng.standard_t(ARPU_NU, size=p.shape))
    revenue = np.exp(log_arpu) * (cells.customers_start - churned / 2 + new / 2)
    return {"churned": churned.astype(float), "new_customers": new.astype(float), "revenue": revenue}


def observed(cells: Cells) -> dict[str, np.ndarray]:
    """The actual values matching :func:`predict_cells`' keys."""
    return {"churned": cells.churned, "new_customers": cells.new_customers, "revenue": cells.revenue}
