"""The counterfactual of a decision: its model run forward without the investment.

Per parameter draw d, reached segment s and tracked month m (from the decision's start), from
the observed pre-decision state (customers at the start of the start month, month index t):

    logit p = churn_intercept + churn_csat·zc[m−L] + churn_nps·zn[m−L]
    churned ~ BetaBinomial(customers, p, churn_concentration)
    new     ~ NegativeBinomial(mean exp(acq_intercept + acq_trend·t + acq_nps·zn[m−L]), acq_alpha)
    log ARPU = arpu_intercept + arpu_trend·t + arpu_csat·zc[m−L] + arpu_sigma·StudentT(ν)
    revenue = ARPU × (customers − churned/2 + new/2);   customers[m+1] = customers − churned + new

zc, zn: the no-investment CSAT/NPS path (per 10 points from the model's reference), given per
draw. The links are the simulator's (cxroi.sim.engine); unlike its baseline, which holds CSAT/NPS
at their last level and reports expected values, this run takes a CSAT/NPS path month by month
and draws the outcome noise of each month (``rng``; None = expected values, as the simulator):
an observed month is one realisation, so the counterfactual it is compared with must be one too,
or the intervals of the realised increment would leave out the noise of the very months observed.
Arrays are months × segments × draws; counts in customers, revenue in currency per month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxroi.science import logistic, score_effect

#: Student-t degrees of freedom of log ARPU when the artifact does not record them (both model
#: families fit ν = 6)
DEFAULT_ARPU_NU = 6.0


@dataclass(frozen=True)
class World:
    """Monthly outcomes of one world, months × segments × draws."""

    customers_start: np.ndarray
    churned: np.ndarray
    new_customers: np.ndarray
    revenue: np.ndarray  #: currency per month

    @property
    def customers_end(self) -> np.ndarray:
        return self.customers_start - self.churned + self.new_customers


def run(params: dict[str, np.ndarray], customers0: np.ndarray, t0: np.ndarray, zc: np.ndarray, zn: np.ndarray,
        nu: float | None = None, rng: np.random.Generator | None = None) -> World:
    """Run the no-investment world. ``params``: segment parameters as segments × draws (the
    segments simulated); ``customers0``, ``t0``: per segment, customers at the start of the first
    month and its month index; ``zc``, ``zn``: months × segments × draws CX deviations acting on
    each month (already lagged). ``rng`` None: expected values."""
    months = zc.shape[0]
    shape = params["churn_intercept"].shape
    customers = np.broadcast_to(np.asarray(customers0, dtype=float)[:, None], shape).copy()
    if rng is not None:
        customers = np.round(customers)
    out = {k: np.empty((months, *shape)) for k in ("customers_start", "churned", "new_customers", "revenue")}
    nu = nu or DEFAULT_ARPU_NU
    for m in range(months):  # one vectorised step per month
        t = np.asarray(t0, dtype=float)[:, None] + m
        p = logistic(params["churn_intercept"]
                     + score_effect(zc[m], params["churn_csat"], params.get("churn_csat_loss"))
                     + score_effect(zn[m], params["churn_nps"], params.get("churn_nps_loss")))
        mean_new = np.exp(params["acq_intercept"] + params["acq_trend"] * t + params["acq_nps"] * zn[m])
        log_arpu = params["arpu_intercept"] + params["arpu_trend"] * t + params["arpu_csat"] * zc[m]
        if rng is None:
            churned, new = customers * p, mean_new
        else:
            kappa = params["churn_concentration"]
            p_cell = rng.beta(np.maximum(p * kappa, 1e-12), np.maximum((1 - p) * kappa, 1e-12))
            churned = rng.binomial(customers.astype(np.int64), p_cell).astype(float)
            alpha = params["acq_alpha"]
            new = rng.poisson(rng.gamma(alpha, mean_new / alpha)).astype(float)
            log_arpu = log_arpu + params["arpu_sigma"] * rng.standard_t(nu, shape)
        out["customers_start"][m] = customers
        out["churned"][m] = churned
        out["new_customers"][m] = new
        out["revenue"][m] = np.exp(log_arpu) * (customers - churned / 2 + new / 2)
        customers = customers - churned + new
    return World(**out)
