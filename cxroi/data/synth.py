"""Synthetic panels with known ground truth, generated from the model in DESIGN.md ("The science").

Per segment s and month t (lag L months; zc, zn are the true CSAT/NPS deviations from the segment
base level, per 10 points):

* churned ~ BetaBinomial(customers_start, p, κ), logit p = a + b_csat·zc[t−L] + b_nps·zn[t−L]
* log ARPU = g + trend·t + d_csat·zc[t−L] + σ·StudentT(ν)
* new_customers ~ NegBinomial(mean exp(h + trend·t + k_nps·zn[t−L]), dispersion α)
* CSAT/NPS = base + AR(1) noise + Σ_i lift_i · sat(adstock of relative spend on initiative i)
* observed CSAT/NPS come from surveys of csat_responses / nps_responses customers.

Magnitudes are those of a B2B SaaS / telecom business (monthly churn 0.5–4 %, CSAT 60–90, NPS
−10 to 60, thousands to hundreds of thousands of customers per segment).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cxroi.catalogue import DEFAULT_CATALOGUE, Initiative, load_catalogue
from cxroi.science import adstock, per_ten_points, saturation

TIERS: dict[str, dict[str, tuple[float, float]]] = {
    "SMB": {"customers": (20_000, 80_000), "churn": (0.020, 0.035), "arpu": (40, 120)},
    "MidMarket": {"customers": (5_000, 20_000), "churn": (0.010, 0.020), "arpu": (300, 800)},
    "Enterprise": {"customers": (1_500, 5_000), "churn": (0.005, 0.010), "arpu": (3_000, 8_000)},
    "Consumer": {"customers": (100_000, 300_000), "churn": (0.025, 0.040), "arpu": (10, 30)},
}
REGIONS = ("EU", "NA", "APAC", "LATAM", "MEA", "ANZ")
STUDENT_T_NU = 6.0
CSAT_AR, CSAT_NOISE_SD = 0.6, 2.8  # AR(1) coefficient and innovation sd (points)
NPS_ON_CSAT, NPS_NOISE_SD = 1.0, 5.0  # NPS deviation = 1.0 × CSAT deviation + noise (points)
PASSIVE_SHARE = 0.30  # share of NPS respondents who are passives (7–8)
#: initiatives (catalogue order) that get a spend history in synthetic data
INITIATIVES_WITH_HISTORY = 2
#: population means of the CX effects (per 10 points) unless ``generate(effects=…)`` overrides them
CX_EFFECT_MEANS = {"churn_csat": -0.25, "churn_nps": -0.10, "arpu_csat": 0.02, "acq_nps": 0.08}


def segment_names(n: int) -> list[str]:
    """First n names of the form '<tier>-<region>' (SMB-EU, MidMarket-EU, …, SMB-NA, …)."""
    names = [f"{tier}-{region}" for region in REGIONS for tier in TIERS]
    if not 1 <= n <= len(names):
        raise ValueError(f"segments must be between 1 and {len(names)}")
    return names[:n]


@dataclass(frozen=True)
class SynthResult:
    """A synthetic panel, its ground truth and the survey/revenue counts behind it."""

    panel: pd.DataFrame
    truth: dict
    counts: pd.DataFrame  # segment, period, csat_top2, nps_promoters, nps_detractors, revenue_cents


def _spend_history(rng, initiatives: list[Initiative], segments: list[str], months: int) -> dict[str, np.ndarray]:
    """Spend levels (segments × months; multiples of the nominal cost of the segment's customers
    that month) for the first initiatives, in windows of 8–18 months."""
    relative: dict[str, np.ndarray] = {}
    for initiative in initiatives[:INITIATIVES_WITH_HISTORY]:
        x = np.zeros((len(segments), months))
        for s, segment in enumerate(segments):
            reached = segment in initiative.segments
            if not reached or rng.random() > 0.75 or months < 12:
                continue
            start = int(rng.integers(3, max(4, months - 10)))
            length = int(rng.integers(8, 19))
            level = rng.uniform(0.6, 1.4)
            stop = min(months, start + length)
            x[s, start:stop] = level * rng.uniform(0.9, 1.1, size=stop - start)
        relative[initiative.id] = x
    return relative


def generate(
    segments: int = 8,
    months: int = 36,
    seed: int = 7,
    start: str = "2023-01",
    lag: int = 1,
    scale: float = 1.0,
    catalogue_path: str | Path = DEFAULT_CATALOGUE,
    effects: dict[str, float] | None = None,
    responses_range: tuple[int, int] = (1500, 6000),
    loss_factor: float = 1.0,
    survey_gaps: float = 0.0,
) -> SynthResult:
    """Generate a panel with known truth.

    ``scale`` multiplies customer counts (e.g. 0.01 for small customer-level files).
    ``effects`` overrides the population means of the CX effects (keys churn_csat, churn_nps,
    arpu_csat, acq_nps; per 10 points) — set them to 0 for a "no effect" dataset.
    ``responses_range`` bounds the answers per survey and segment-month (drawn uniformly; e.g.
    (15, 25) for tiny surveys); ``loss_factor`` multiplies the churn effects of CSAT/NPS below
    their base level (2.0: a fall hurts twice as much as a rise helps); ``survey_gaps`` is the
    share of segment-months whose survey was not run (CSAT, NPS and their response counts empty).
    """
    rng = np.random.default_rng(seed)
    names = segment_names(segments)
    catalogue = list(load_catalogue(catalogue_path).values())
    tiers = [name.split("-")[0] for name in names]
    n_s, horizon = len(names), months + lag
    means = {**CX_EFFECT_MEANS, **(effects or {})}
    spreads = {"churn_csat": 0.06, "churn_nps": 0.04, "arpu_csat": 0.008, "acq_nps": 0.03}

    def tier_uniform(key: str, log: bool = False) -> np.ndarray:
        lo = np.array([TIERS[t][key][0] for t in tiers])
        hi = np.array([TIERS[t][key][1] for t in tiers])
        if log:
            return np.exp(rng.uniform(np.log(lo), np.log(hi)))
        return rng.uniform(lo, hi)

    customers0 = np.maximum(np.round(tier_uniform("customers", log=True) * scale), 20).astype(np.int64)
    churn0 = tier_uniform("churn")
    arpu0 = tier_uniform("arpu", log=True)
    effect = {k: means[k] + spreads[k] * rng.standard_normal(n_s) for k in means}
    concentration = rng.uniform(1500, 4000, n_s)
    arpu_trend = rng.normal(0.002, 0.001, n_s)
    arpu_sigma = rng.uniform(0.01, 0.025, n_s)
    acq_trend = rng.normal(0.0, 0.002, n_s)
    acq_alpha = rng.uniform(40, 120, n_s)
    acq_intercept = np.log(customers0 * churn0 * rng.uniform(0.95, 1.15, n_s))
    csat_base = rng.uniform(65, 85, n_s)
    nps_base = rng.uniform(0, 45, n_s)

    # CX paths (true, before survey error), horizon = lag pre-sample months + the panel months
    csat_dev = np.zeros((n_s, horizon))
    level = rng.normal(0, CSAT_NOISE_SD / np.sqrt(1 - CSAT_AR**2), n_s)
    for t in range(horizon):
        level = CSAT_AR * level + rng.normal(0, CSAT_NOISE_SD, n_s) if t else level
        csat_dev[:, t] = level
    nps_dev = NPS_ON_CSAT * csat_dev + rng.normal(0, NPS_NOISE_SD, (n_s, horizon))

    relative = _spend_history(rng, catalogue, names, months)
    lifts: dict[str, dict] = {}
    csat_lift = np.zeros((n_s, months))
    nps_lift = np.zeros((n_s, months))
    for initiative in catalogue:
        true_csat = float(rng.normal(initiative.csat_lift.mean, initiative.csat_lift.sd))
        true_nps = float(rng.normal(initiative.nps_lift.mean, initiative.nps_lift.sd))
        carry = float(0.1 ** (1.0 / (initiative.ramp_up_months * rng.uniform(0.75, 1.25))))
        lifts[initiative.id] = {"lift_csat": true_csat, "lift_nps": true_nps, "lift_carryover": carry,
                                "saturation_k": initiative.saturation_k, "has_history": initiative.id in relative}
        if initiative.id in relative:
            share = saturation(adstock(relative[initiative.id], carry), initiative.saturation_k)
            csat_lift += true_csat * share
            nps_lift += true_nps * share
    csat_true = np.clip(csat_base[:, None] + csat_dev, 1, 99)
    csat_true[:, lag:] = np.clip(csat_true[:, lag:] + csat_lift, 1, 99)
    nps_true = np.clip(nps_base[:, None] + nps_dev, -69, 69)
    nps_true[:, lag:] = np.clip(nps_true[:, lag:] + nps_lift, -69, 69)
    zc = per_ten_points(csat_true, csat_base[:, None])
    zn = per_ten_points(nps_true, nps_base[:, None])

    churn_intercept = np.log(churn0 / (1 - churn0))
    rows, counts = [], []
    periods = pd.date_range(pd.Timestamp(start), periods=months, freq="MS")
    customers = customers0.copy()
    for t in range(months):
        zc_lag, zn_lag = zc[:, t], zn[:, t]  # index t of the padded path is month t − lag
        shape_c, shape_n = (np.where(z < 0, loss_factor * z, z) for z in (zc_lag, zn_lag))
        p = 1 / (1 + np.exp(-(churn_intercept + effect["churn_csat"] * shape_c + effect["churn_nps"] * shape_n)))
        p_cell = rng.beta(p * concentration, (1 - p) * concentration)
        churned = rng.binomial(customers, p_cell)
        mean_new = np.exp(acq_intercept + acq_trend * t + effect["acq_nps"] * zn_lag)
        new = rng.poisson(rng.gamma(acq_alpha, mean_new / acq_alpha))
        log_arpu = (np.log(arpu0) + arpu_trend * t + effect["arpu_csat"] * zc_lag
                    + arpu_sigma * rng.standard_t(STUDENT_T_NU, n_s))
        average_active = customers - churned / 2 + new / 2
        revenue_cents = np.round(np.exp(log_arpu) * average_active * 100).astype(np.int64)
        n_csat = np.minimum(rng.integers(responses_range[0], responses_range[1] + 1, n_s), customers)
        n_nps = np.minimum(rng.integers(responses_range[0], responses_range[1] + 1, n_s), customers)
        top2 = rng.binomial(n_csat, csat_true[:, t + lag] / 100)
        promoter_p = (1 - PASSIVE_SHARE + nps_true[:, t + lag] / 100) / 2
        votes = np.stack([rng.multinomial(n, [q, PASSIVE_SHARE, 1 - PASSIVE_SHARE - q])
                          for n, q in zip(n_nps, promoter_p, strict=True)])
        skipped = rng.random(n_s) < survey_gaps if survey_gaps else np.zeros(n_s, dtype=bool)
        for s, name in enumerate(names):
            row = {
                "segment": name, "period": periods[t].strftime("%Y-%m-%d"),
                "customers_start": int(customers[s]), "churned": int(churned[s]),
                "new_customers": int(new[s]), "revenue": revenue_cents[s] / 100,
                "csat": 100.0 * top2[s] / n_csat[s], "nps": 100.0 * (votes[s, 0] - votes[s, 2]) / n_nps[s],
                "csat_responses": int(n_csat[s]), "nps_responses": int(n_nps[s]),
            }
            for initiative in catalogue:
                if initiative.id in relative:
                    nominal = initiative.nominal_cost(customers[s], len(initiative.reach(names)))
                    row[f"spend_{initiative.id}"] = round(float(relative[initiative.id][s, t] * nominal), 2)
            if skipped[s]:
                row.update(csat=np.nan, nps=np.nan, csat_responses=np.nan, nps_responses=np.nan)
            rows.append(row)
            counts.append({"segment": name, "period": row["period"], "csat_top2": int(top2[s]),
                           "nps_promoters": int(votes[s, 0]), "nps_detractors": int(votes[s, 2]),
                           "revenue_cents": int(revenue_cents[s])})
        customers = customers - churned + new

    truth = {
        "seed": seed, "lag_months": lag, "segments": names, "start": periods[0].strftime("%Y-%m-%d"),
        "months": months, "scale": scale,
        "note": "effects per +10 points of CSAT/NPS relative to csat_base/nps_base; intercepts at t=0; "
                "csat_last/nps_last: the true (not surveyed) scores of the last month",
        "population_means": means,
        "segment_parameters": {
            name: {
                "churn_intercept": churn_intercept[s], "churn_csat": effect["churn_csat"][s],
                "churn_nps": effect["churn_nps"][s], "churn_concentration": concentration[s],
                "arpu_intercept": float(np.log(arpu0[s])), "arpu_trend": arpu_trend[s],
                "arpu_csat": effect["arpu_csat"][s], "arpu_sigma": arpu_sigma[s], "arpu_nu": STUDENT_T_NU,
                "acq_intercept": acq_intercept[s], "acq_trend": acq_trend[s], "acq_nps": effect["acq_nps"][s],
                "acq_alpha": acq_alpha[s], "csat_base": csat_base[s], "nps_base": nps_base[s],
                "csat_last": csat_true[s, months - 1 + lag], "nps_last": nps_true[s, months - 1 + lag],
                "customers_initial": int(customers0[s]),
            }
            for s, name in enumerate(names)
        },
        "initiatives": lifts,
    }
    variant = {"loss_factor": loss_factor, "survey_gaps": survey_gaps, "responses_range": list(responses_range)}
    truth.update({k: v for k, v in variant.items() if v != {"loss_factor": 1.0, "survey_gaps": 0.0,
                                                           "responses_range": [1500, 6000]}[k]})
    truth = json.loads(json.dumps(truth, default=float))
    return SynthResult(pd.DataFrame(rows), truth, pd.DataFrame(counts))


def write(result: SynthResult, out: str | Path) -> list[Path]:
    """Write panel.csv and truth.json into ``out`` (created). Output is byte-identical per seed."""
    from cxroi.fileio import atomic_write_text

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    panel_path, truth_path = out / "panel.csv", out / "truth.json"
    atomic_write_text(panel_path, result.panel.to_csv(index=False, lineterminator="\n"))
    atomic_write_text(truth_path, json.dumps(result.truth, indent=2, sort_keys=True) + "\n")
    return [panel_path, truth_path]
