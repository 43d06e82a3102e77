"""Initiative lifts (CSAT/NPS points at full effect) from the catalogue prior, pilot results and,
for the regression family, a small regression on the panel's spend history.

Evidence is combined as independent normal measurements of the same lift (precision weighting),
which is exact for a normal prior and normal measurements.
"""

from __future__ import annotations

import numpy as np

from cxroi.catalogue import Initiative
from cxroi.fit.design import Design
from cxroi.fit.pilots import Pilot
from cxroi.science import adstock, saturation

METRICS = ("csat", "nps")


def normal_update(mean: float, sd: float, measurements: list[tuple[float, float]]) -> tuple[float, float]:
    """Posterior (mean, sd) of a Normal(mean, sd) prior after measurements (value, se)."""
    precision = 1.0 / sd**2
    weighted = mean * precision
    for value, se in measurements:
        precision += 1.0 / se**2
        weighted += value / se**2
    return weighted / precision, precision**-0.5


def prior(initiative: Initiative, metric: str) -> tuple[float, float]:
    """Catalogue prior (mean, sd) of the lift of ``metric`` in points."""
    lift = initiative.csat_lift if metric == "csat" else initiative.nps_lift
    return lift.mean, lift.sd


def pilot_measurements(pilots: list[Pilot], initiative: str, metric: str) -> list[tuple[float, float]]:
    return [(p.lift, p.se) for p in pilots if p.initiative == initiative and p.metric == metric]


def effect_share(relative_spend: np.ndarray, carryover: float, k: float) -> np.ndarray:
    """Share of full effect (segments × months): sat(adstock(relative spend, λ), k)."""
    return saturation(adstock(relative_spend, carryover), k)


def history_lift_estimates(design: Design, catalogue: dict[str, Initiative]) -> dict[str, dict[str, tuple[float, float]]]:
    """CSAT and NPS regressed on segment levels + each initiative's effect share (catalogue
    carry-over), with AR(1) errors within each segment (``ar1_gls``):
    {initiative: {metric: (estimate, se)}} in points."""
    ids = list(design.relative_spend)
    if not ids:
        return {}
    S, T = design.n_segments, design.n_months
    levels = np.broadcast_to(np.eye(S)[:, None, :], (S, T, S))
    shares = np.stack([
        effect_share(design.relative_spend[i], catalogue[i].carryover, catalogue[i].saturation_k) for i in ids
    ], axis=-1)
    exog = np.concatenate([levels, shares], axis=-1)
    out: dict[str, dict[str, tuple[float, float]]] = {i: {} for i in ids}
    for metric, values in (("csat", design.csat), ("nps", design.nps)):
        estimates, errors = ar1_gls(values, exog)
        for j, initiative in enumerate(ids):
            out[initiative][metric] = (float(estimates[S + j]), float(errors[S + j]))
    return out


def ar1_gls(values: np.ndarray, exog: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Feasible GLS (Prais–Winsten) of ``values`` (segments × months, NaN = not observed) on
    ``exog`` (segments × months × regressors) with errors e[t] = ρ·e[t−1] + u[t] within each
    segment, one ρ for all segments: (estimates, heteroskedasticity-robust standard errors).

    Why: survey scores drift slowly, so a segment's errors persist from month to month; OLS
    standard errors (or errors clustered by month) then count 24 correlated months as 24
    independent ones and give lift intervals that are too narrow. ρ is the lag-1 autocorrelation
    of the OLS residuals over consecutive observed months, corrected for the downward bias of a
    short series around an estimated level (Kendall: E[ρ̂] ≈ ρ − (1 + 3ρ)/T, so
    ρ = (T·ρ̂ + 1)/(T − 3) with T observed months per segment), and kept in [0, 0.95]. A month
    whose previous month was not observed starts a new run, scaled by √(1 − ρ²) as the first
    month is.
    """
    import statsmodels.api as sm

    seen = np.isfinite(values)
    residuals = np.full(values.shape, np.nan)
    residuals[seen] = sm.OLS(values[seen], exog[seen]).fit().resid
    now, before = residuals[:, 1:], residuals[:, :-1]
    pairs = np.isfinite(now) & np.isfinite(before)
    raw = np.sum(now[pairs] * before[pairs]) / max(np.sum(before[pairs] ** 2), 1e-300)
    months = seen.sum() / len(values)  # observed months per segment
    rho = float(np.clip((months * raw + 1.0) / max(months - 3.0, 1.0), 0.0, 0.95))
    continued = np.zeros(values.shape, dtype=bool)
    continued[:, 1:] = seen[:, 1:] & seen[:, :-1]
    start = np.sqrt(1.0 - rho**2)

    def transform(x: np.ndarray) -> np.ndarray:
        previous = np.zeros_like(x)
        previous[:, 1:] = x[:, :-1]
        mask = continued.reshape(continued.shape + (1,) * (x.ndim - 2))
        return np.where(mask, x - rho * np.nan_to_num(previous), start * x)

    result = sm.OLS(transform(values)[seen], transform(exog)[seen]).fit(cov_type="HC1")
    return np.asarray(result.params), np.asarray(result.bse)


def lift_draws(
    catalogue: dict[str, Initiative],
    pilots: list[Pilot],
    history: dict[str, dict[str, tuple[float, float]]],
    n_draws: int,
    rng: np.random.Generator,
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, str]]]:
    """Normal draws (n_draws × initiatives, catalogue order) of lift_csat and lift_nps combining
    the catalogue prior, history estimates (if any) and pilots; lift_carryover is the catalogue
    ramp-up value. Returns the draws and the effect source of each lift."""
    ids = list(catalogue)
    draws = {f"lift_{m}": np.empty((n_draws, len(ids))) for m in METRICS}
    sources: dict[str, dict[str, str]] = {f"lift_{m}": {} for m in METRICS}
    for j, initiative in enumerate(ids):
        for metric in METRICS:
            measured = pilot_measurements(pilots, initiative, metric)
            from_history = [history[initiative][metric]] if metric in history.get(initiative, {}) else []
            mean, sd = normal_update(*prior(catalogue[initiative], metric), from_history + measured)
            draws[f"lift_{metric}"][:, j] = rng.normal(mean, sd, n_draws)
            sources[f"lift_{metric}"][initiative] = source_of(bool(from_history), bool(measured))
    draws["lift_carryover"] = np.tile([catalogue[i].carryover for i in ids], (n_draws, 1))
    return draws, sources


def source_of(has_history: bool, has_pilot: bool) -> str:
    """Where a lift comes from; a pilot is the most direct evidence, then history."""
    return "pilot" if has_pilot else "history" if has_history else "catalogue"
