"""Continue a synthetic panel past its last month with known truth, to test the tracking of
decisions against ground truth.

From a panel written by :func:`cxroi.data.synth.generate` and its truth (``truth.json``), the
continuation draws ``months`` more months per segment with the same model and parameters
(cxroi.science and the constants of cxroi.data.synth), starting from the panel's last state:

* customers: the last month's customers_start − churned + new; month index t continues;
* the true CSAT deviation from the segment's base restarts its AR(1) from the last observed
  deviation (history lifts taken out) and NPS follows it as in the generator;
* initiatives with a spend history keep the lift share of the panel's last month (their spend is
  continued at its last level), so only the new initiative changes CSAT/NPS;
* the new ``initiative`` (if given) is funded at ``spend_level`` × its nominal cost in
  ``segments`` from continuation month ``start_month`` for ``duration_months``; it adds the true
  full-effect lift (``lift_csat``, ``lift_nps`` points; 0 = no true lift) × sat(level · adstock)
  with the truth's carry-over to the true CSAT/NPS, which act on outcomes ``lag`` months later;
* survey answers, churn, acquisition and revenue noise as in the generator.

The truth written holds the lift applied to every segment and month (points) and the average
over the treated segments from the start month: what a tracking's realised lift estimates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cxroi.catalogue import DEFAULT_CATALOGUE, load_catalogue
from cxroi.data.synth import (
    CSAT_AR,
    CSAT_NOISE_SD,
    NPS_NOISE_SD,
    NPS_ON_CSAT,
    PASSIVE_SHARE,
    STUDENT_T_NU,
    SynthResult,
)
from cxroi.errors import DataError
from cxroi.science import adstock, logistic, per_ten_points, saturation


def _history_share(panel: pd.DataFrame, names: list[str], truth: dict, catalogue: dict) -> np.ndarray:
    """CSAT and NPS lift (points) of the initiatives with a spend history in the panel's last
    month, per segment: 2 × segments."""
    out = np.zeros((2, len(names)))
    for initiative_id, info in truth["initiatives"].items():
        column = f"spend_{initiative_id}"
        if column not in panel or initiative_id not in catalogue:
            continue
        initiative = catalogue[initiative_id]
        wide = panel.pivot(index="segment", columns="period", values=column).reindex(names).fillna(0.0)
        customers = panel.pivot(index="segment", columns="period", values="customers_start").reindex(names)
        nominal = initiative.nominal_cost(customers.to_numpy(float), len(initiative.reach(names)))
        relative = np.divide(wide.to_numpy(float), nominal, out=np.zeros(wide.shape), where=nominal > 0)
        share = saturation(adstock(relative, info["lift_carryover"])[:, -1], info["saturation_k"])
        out += np.array([info["lift_csat"], info["lift_nps"]])[:, None] * share
    return out


def continue_panel(panel: pd.DataFrame, truth: dict, months: int, seed: int, initiative: str | None = None,
                   segments: tuple[str, ...] = (), lift_csat: float = 0.0, lift_nps: float = 0.0,
                   start_month: int = 1, duration_months: int | None = None, spend_level: float = 1.0,
                   catalogue_path: str | Path = DEFAULT_CATALOGUE) -> SynthResult:
    """The panel followed by ``months`` continued months, and the truth of the continuation
    (see the module docstring). Raises :class:`DataError` on inputs that do not fit."""
    names = list(truth["segments"])
    catalogue = load_catalogue(catalogue_path)
    if months < 1:
        raise DataError("months to continue must be at least 1")
    if initiative is not None and initiative not in truth["initiatives"]:
        raise DataError(f"initiative '{initiative}' is not in the truth's catalogue "
                        f"({', '.join(truth['initiatives'])})")
    unknown = [s for s in segments if s not in names]
    if unknown:
        raise DataError(f"segment(s) {', '.join(unknown)} are not in the panel ({', '.join(names)})")
    if initiative is None and segments:
        raise DataError("segments were given without an initiative")
    if not 1 <= start_month <= months:
        raise DataError(f"start month must be between 1 and {months}")
    frame = panel.assign(period=pd.to_datetime(panel["period"]))
    if sorted(frame["segment"].unique()) != sorted(names):
        raise DataError("the panel's segments are not those of the truth")
    rng = np.random.default_rng([seed, 20260])
    lag = int(truth["lag_months"])
    params = {k: np.array([truth["segment_parameters"][s][k] for s in names]) for k in truth["segment_parameters"][names[0]]}
    last = frame.sort_values("period").groupby("segment").tail(lag).sort_values(["segment", "period"])
    first = frame["period"].max() + pd.DateOffset(months=1)
    periods = pd.date_range(first, periods=months, freq="MS")
    n_s, t0 = len(names), int(frame["period"].nunique())
    final = frame[frame["period"] == frame["period"].max()].set_index("segment").reindex(names)
    customers = (final["customers_start"] - final["churned"] + final["new_customers"]).to_numpy(np.int64)

    history = _history_share(frame, names, truth, catalogue)
    observed_last = {k: last.pivot(index="segment", columns="period", values=k).reindex(names).to_numpy(float)
                     for k in ("csat", "nps")}
    base = np.array([params["csat_base"], params["nps_base"]])
    # applied lift of the new initiative (points), segments × months
    applied = {"csat": np.zeros((n_s, months)), "nps": np.zeros((n_s, months))}
    spend_relative = np.zeros((n_s, months))
    if initiative is not None and segments:
        info = truth["initiatives"][initiative]
        stop = months if duration_months is None else min(months, start_month - 1 + duration_months)
        x = np.zeros(months)
        x[start_month - 1: stop] = spend_level
        share = saturation(adstock(x[None, :], info["lift_carryover"])[0], info["saturation_k"])
        for s in (names.index(name) for name in segments):
            applied["csat"][s], applied["nps"][s] = lift_csat * share, lift_nps * share
            spend_relative[s] = x
    # true CX: the last `lag` observed months (proxies of the true values), then the continuation
    dev = np.nan_to_num(observed_last["csat"][:, -1] - base[0] - history[0])
    csat_true, nps_true = np.empty((n_s, months)), np.empty((n_s, months))
    for k in range(months):
        dev = CSAT_AR * dev + rng.normal(0, CSAT_NOISE_SD, n_s)
        csat_true[:, k] = np.clip(base[0] + dev + history[0] + applied["csat"][:, k], 1, 99)
        nps_dev = NPS_ON_CSAT * dev + rng.normal(0, NPS_NOISE_SD, n_s)
        nps_true[:, k] = np.clip(base[1] + nps_dev + history[1] + applied["nps"][:, k], -69, 69)
    fill = {k: np.where(np.isfinite(observed_last[k]), observed_last[k], base[i][:, None])
            for i, k in enumerate(("csat", "nps"))}
    zc = per_ten_points(np.concatenate([fill["csat"], csat_true], axis=1), base[0][:, None])
    zn = per_ten_points(np.concatenate([fill["nps"], nps_true], axis=1), base[1][:, None])
    loss = float(truth.get("loss_factor", 1.0))
    low, high = truth.get("responses_range", [1500, 6000])
    spend_columns = [c for c in frame.columns if c.startswith("spend_")]
    new_column = f"spend_{initiative}" if initiative else None
    last_spend = final[spend_columns].to_numpy(float) if spend_columns else np.zeros((n_s, 0))
    last_customers = final["customers_start"].to_numpy(float)
    rows, counts = [], []
    for k in range(months):
        t = t0 + k
        zc_lag, zn_lag = zc[:, k], zn[:, k]  # index k of the padded path is continuation month k − lag
        shape_c, shape_n = (np.where(z < 0, loss * z, z) for z in (zc_lag, zn_lag))
        p = logistic(params["churn_intercept"] + params["churn_csat"] * shape_c + params["churn_nps"] * shape_n)
        kappa = params["churn_concentration"]
        churned = rng.binomial(customers, rng.beta(p * kappa, (1 - p) * kappa))
        mean_new = np.exp(params["acq_intercept"] + params["acq_trend"] * t + params["acq_nps"] * zn_lag)
        new = rng.poisson(rng.gamma(params["acq_alpha"], mean_new / params["acq_alpha"]))
        log_arpu = (params["arpu_intercept"] + params["arpu_trend"] * t + params["arpu_csat"] * zc_lag
                    + params["arpu_sigma"] * rng.standard_t(STUDENT_T_NU, n_s))
        revenue_cents = np.round(np.exp(log_arpu) * (customers - churned / 2 + new / 2) * 100).astype(np.int64)
        n_csat = np.minimum(rng.integers(low, high + 1, n_s), customers)
        n_nps = np.minimum(rng.integers(low, high + 1, n_s), customers)
        top2 = rng.binomial(n_csat, csat_true[:, k] / 100)
        q = (1 - PASSIVE_SHARE + nps_true[:, k] / 100) / 2
        votes = np.stack([rng.multinomial(n, [qq, PASSIVE_SHARE, 1 - PASSIVE_SHARE - qq]) for n, qq in zip(n_nps, q, strict=True)])
        for s, name in enumerate(names):
            row = {"segment": name, "period": periods[k].strftime("%Y-%m-%d"), "customers_start": int(customers[s]),
                   "churned": int(churned[s]), "new_customers": int(new[s]), "revenue": revenue_cents[s] / 100,
                   "csat": 100.0 * top2[s] / n_csat[s], "nps": 100.0 * (votes[s, 0] - votes[s, 2]) / n_nps[s],
                   "csat_responses": int(n_csat[s]), "nps_responses": int(n_nps[s])}
            scale = customers[s] / last_customers[s] if last_customers[s] > 0 else 1.0
            for j, column in enumerate(spend_columns):  # history spend continued at its last level
                row[column] = round(float(last_spend[s, j] * scale), 2)
            if new_column:
                setting = catalogue[initiative]
                nominal = setting.nominal_cost(customers[s], len(setting.reach(names)))
                row[new_column] = round(float(row.get(new_column, 0.0) + spend_relative[s, k] * nominal), 2)
            rows.append(row)
            counts.append({"segment": name, "period": row["period"], "csat_top2": int(top2[s]),
                           "nps_promoters": int(votes[s, 0]), "nps_detractors": int(votes[s, 2]),
                           "revenue_cents": int(revenue_cents[s])})
        customers = customers - churned + new
    continued = pd.concat([panel, pd.DataFrame(rows)], ignore_index=True)
    if new_column:
        continued[new_column] = continued[new_column].fillna(0.0)
    treated = [names.index(s) for s in segments]
    average = {kind: (float(applied[kind][treated, start_month - 1:].mean()) if treated else 0.0)
               for kind in ("csat", "nps")}
    result_truth = {
        **truth,
        "continuation": {
            "first_month": periods[0].strftime("%Y-%m"), "months": months, "seed": seed, "initiative": initiative,
            "segments": list(segments), "lift_csat": lift_csat, "lift_nps": lift_nps, "start_month": start_month,
            "duration_months": duration_months, "spend_level": spend_level,
            "note": "applied: the new initiative's lift in survey points per segment and continuation month; "
                    "average_realised_lift: its mean over the treated segments from the start month",
            "applied": {kind: {name: [float(v) for v in applied[kind][s]] for s, name in enumerate(names)}
                        for kind in ("csat", "nps")},
            "average_realised_lift": average,
        },
    }
    return SynthResult(continued, result_truth, pd.DataFrame(counts))
