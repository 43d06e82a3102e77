"""Fit diagnostics: MCMC convergence (ArviZ), an in-sample posterior predictive summary and
effect-sign checks. Effects with an unexpected sign are reported, never clipped."""

from __future__ import annotations

import numpy as np

from cxroi.data.quality import QualityWarning
from cxroi.fit.design import Design
from cxroi.fit.predictive import observed, predict_cells
from cxroi.fit.priors import EXPECTED_SIGN

#: EXPECTED_SIGN (cxroi.fit.priors): more satisfaction → less churn, more revenue, more referrals
__all__ = ["EXPECTED_SIGN", "interval", "mcmc_convergence", "predictive_summary", "sign_warnings"]
#: central interval used for sign checks and for the "no effect" reading
SIGN_INTERVAL = 0.90
PREDICTIVE_INTERVAL = 0.80


def mcmc_convergence(idata, var_names: list[str]) -> dict:
    """max R-hat, min bulk/tail ESS (full precision) over ``var_names``, the parameters where
    the worst values occur, and the number of divergent transitions."""
    import arviz as az

    def extreme(dataset, pick) -> tuple[float, str]:
        per_variable = {name: float(pick(dataset[name].values)) for name in var_names}
        worst = pick(list(per_variable.values()))
        return worst, next(name for name, value in per_variable.items() if value == worst)

    max_rhat, rhat_at = extreme(az.rhat(idata, var_names=var_names), np.max)
    min_bulk, bulk_at = extreme(az.ess(idata, var_names=var_names, method="bulk"), np.min)
    min_tail, _ = extreme(az.ess(idata, var_names=var_names, method="tail"), np.min)
    stats = idata.sample_stats
    return {
        "max_rhat": max_rhat, "min_ess_bulk": min_bulk, "min_ess_tail": min_tail,
        "divergences": int(stats["diverging"].sum()) if "diverging" in stats else 0,
        "worst_rhat_parameter": rhat_at, "worst_ess_parameter": bulk_at,
    }


def interval(values: np.ndarray, mass: float, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Central ``mass`` interval along ``axis``."""
    tail = (1.0 - mass) / 2.0
    return np.quantile(values, tail, axis=axis), np.quantile(values, 1.0 - tail, axis=axis)


def predictive_summary(draws: dict[str, np.ndarray], design: Design, rng: np.random.Generator) -> dict:
    """In-sample predictive check per metric: share of cells inside the 80 % predictive interval
    and the MAPE (%) of the predictive median."""
    cells = design.cells()
    predicted = predict_cells(draws, cells, rng)
    out = {}
    for metric, actual in observed(cells).items():
        lo, hi = interval(predicted[metric], PREDICTIVE_INTERVAL)
        median = np.median(predicted[metric], axis=0)
        positive = actual > 0
        out[metric] = {
            "coverage_80": float(np.mean((actual >= lo) & (actual <= hi))),
            "mape_pct": float(100 * np.mean(np.abs(median - actual)[positive] / actual[positive])),
        }
    return out


def sign_warnings(draws: dict[str, np.ndarray], segments: list[str]) -> list[QualityWarning]:
    """One warning per segment effect whose 90 % interval lies wholly on the unexpected side of 0."""
    out = []
    for name, sign in EXPECTED_SIGN.items():
        lo, hi = interval(draws[name], SIGN_INTERVAL)
        for s, segment in enumerate(segments):
            if (sign < 0 and lo[s] > 0) or (sign > 0 and hi[s] < 0):
                out.append(QualityWarning(
                    "unexpected_sign", segment,
                    f"segment '{segment}': {name} has the unexpected sign (90 % interval "
                    f"[{lo[s]:.3g}, {hi[s]:.3g}], expected {'negative' if sign < 0 else 'positive'}); "
                    "kept as estimated — check the data before trusting it", (name,),
                ))
    return out
