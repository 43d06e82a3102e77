"""Initiative lifts (CSAT/NPS points at full effect) from the catalogue prior, pilot results and,
for the regression family, a small regression on the panel's spend history.

Evidence is combined as independent normal measurements of the same lift (precision weighting),
which is exact for a normal prior and normal measurements.
"""

from __future__ import annotations

import numpy as np

from cxroi.catalogue import Initiative
from cxroi.data.synth import adstock, saturation
from cxroi.fit.design import Design
from cxroi.fit.pilots import Pilot

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
    """OLS of CSAT and NPS on segment levels + each initiative's effect share (catalogue
    carry-over), month-clustered errors: {initiative: {metric: (estimate, se)}} in points."""
    import statsmodels.api as sm

    ids = list(design.relative_spend)
    if not ids:
        return {}
    S, T = design.n_segments, design.n_months
    levels = np.kron(np.eye(S), np.ones((T, 1)))
    shares = np.column_stack([
        effect_share(design.relative_spend[i], catalogue[i].carryover, catalogue[i].saturation_k).ravel() for i in ids
    ])
    exog = np.column_stack([levels, shares])
    groups = np.tile(np.arange(T), S)
    out: dict[str, dict[str, tuple[float, float]]] = {i: {} for i in ids}
    for metric, values in (("csat", design.csat), ("nps", design.nps)):
        seen = np.isfinite(values.ravel())  # months a segment was not observed are left out
        result = sm.OLS(values.ravel()[seen], exog[seen]).fit(cov_type="cluster", cov_kwds={"groups": groups[seen]})
        for j, initiative in enumerate(ids):
            out[initiative][metric] = (float(result.params[S + j]), float(result.bse[S + j]))
    return out


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
