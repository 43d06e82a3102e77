"""Business indicators of a validated panel, by segment and month (pure pandas, no Streamlit).

Units: customers are counts; churn rate is the monthly fraction churned/customers_start; ARPU is
currency per customer per month = revenue / average active customers, where the average is
(customers at month start + customers at month end) / 2; CSAT in % (0–100); NPS in points.
"""

from __future__ import annotations

import pandas as pd

METRICS = ("customers", "churn_rate", "arpu", "revenue", "csat", "nps")


def monthly_metrics(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per segment × period with the indicators of :data:`METRICS`; ``customers`` is the
    count at the end of the month (start − churned + new)."""
    out = panel[["segment", "period", "revenue", "csat", "nps"]].copy()
    end = panel["customers_start"] - panel["churned"] + panel["new_customers"]
    out["customers"] = end
    out["churn_rate"] = panel["churned"] / panel["customers_start"].where(panel["customers_start"] > 0)
    average = (panel["customers_start"] + end) / 2
    out["arpu"] = panel["revenue"] / average.where(average > 0)
    return out[["segment", "period", *METRICS]].sort_values(["segment", "period"]).reset_index(drop=True)


def segment_snapshot(panel: pd.DataFrame, trend_months: int = 12) -> pd.DataFrame:
    """Latest month per segment with its indicators, the change against ``trend_months`` earlier
    (``<metric>_change``; NaN when that month is not in the panel) and the last ``trend_months``
    values of each indicator as a list (``<metric>_trend``) for sparklines."""
    monthly = monthly_metrics(panel)
    rows = []
    for segment, frame in monthly.groupby("segment", sort=True):
        frame = frame.set_index("period").sort_index()
        last_period = frame.index[-1]
        earlier = last_period - pd.DateOffset(months=trend_months)
        row: dict = {"segment": segment, "period": last_period}
        recent = frame.loc[frame.index > earlier]
        for metric in METRICS:
            value = frame.at[last_period, metric]
            row[metric] = value
            row[f"{metric}_change"] = value - frame.at[earlier, metric] if earlier in frame.index else float("nan")
            row[f"{metric}_trend"] = recent[metric].round(6).tolist()
        rows.append(row)
    return pd.DataFrame(rows)


def portfolio_totals(panel: pd.DataFrame) -> dict[str, float]:
    """Whole-business figures for the latest month: customers (end of month), monthly revenue,
    churn rate (all churned / all customers at start) and customer-weighted CSAT and NPS."""
    last = panel[panel["period"] == panel["period"].max()]
    end = last["customers_start"] - last["churned"] + last["new_customers"]
    weights = last["customers_start"]
    return {
        "period": last["period"].iloc[0],
        "customers": float(end.sum()),
        "revenue": float(last["revenue"].sum()),
        "churn_rate": float(last["churned"].sum() / weights.sum()),
        "csat": float((last["csat"] * weights).sum() / weights.sum()),
        "nps": float((last["nps"] * weights).sum() / weights.sum()),
    }
