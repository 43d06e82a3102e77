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


#: indicators whose change is shown relative to the earlier value (a fraction); the others change
#: by a difference in their own unit (churn rate as a fraction, CSAT in % points, NPS in points)
RELATIVE_CHANGE = frozenset({"customers", "revenue", "arpu"})
#: indicators for which a rise is bad news (coloured red when they go up)
RISE_IS_BAD = frozenset({"churn_rate"})
CHANGE_LAGS = {"month": 1, "year": 12}  # change columns: ``<metric>_month_change``, ``<metric>_year_change``


def _change(metric: str, value: float, earlier: float) -> float:
    """Change of ``metric`` from ``earlier`` to ``value`` (see :data:`RELATIVE_CHANGE`); NaN when
    there is no earlier value or a relative change would divide by zero."""
    if metric in RELATIVE_CHANGE:
        return value / earlier - 1 if earlier else float("nan")
    return value - earlier


def _with_changes(row: dict, history: pd.DataFrame, period: pd.Timestamp) -> dict:
    """``row`` plus the month-on-month and year-on-year change of every indicator, read from
    ``history`` (indexed by period); NaN when the earlier month is not in the panel."""
    for name, lag in CHANGE_LAGS.items():
        earlier = period - pd.DateOffset(months=lag)
        for metric in METRICS:
            row[f"{metric}_{name}_change"] = (
                _change(metric, row[metric], history.at[earlier, metric]) if earlier in history.index else float("nan"))
    return row


def segment_snapshot(panel: pd.DataFrame, trend_months: int = 12) -> pd.DataFrame:
    """Latest month per segment with its indicators, their month-on-month and year-on-year change
    (``<metric>_month_change`` / ``<metric>_year_change``, see :data:`RELATIVE_CHANGE`) and the
    last ``trend_months`` values of each indicator as a list (``<metric>_trend``) for sparklines."""
    monthly = monthly_metrics(panel)
    rows = []
    for segment, frame in monthly.groupby("segment", sort=True):
        frame = frame.set_index("period").sort_index()
        last_period = frame.index[-1]
        recent = frame.loc[frame.index > last_period - pd.DateOffset(months=trend_months)]
        row: dict = {"segment": segment, "period": last_period}
        for metric in METRICS:
            row[metric] = frame.at[last_period, metric]
            row[f"{metric}_trend"] = recent[metric].round(6).tolist()
        rows.append(_with_changes(row, frame, last_period))
    return pd.DataFrame(rows)


def portfolio_history(panel: pd.DataFrame) -> pd.DataFrame:
    """Whole-business indicators per month (indexed by period): customers at the end of the month,
    revenue, churn rate (all churned / all customers at start), revenue per average customer, and
    CSAT and NPS weighted by customers at the start of the month (months without a survey count
    only the segments that have one)."""
    end = panel["customers_start"] - panel["churned"] + panel["new_customers"]
    weights = panel["customers_start"]
    frame = panel.assign(customers=end, average=(panel["customers_start"] + end) / 2,
                         csat_w=panel["csat"] * weights, nps_w=panel["nps"] * weights,
                         csat_n=weights.where(panel["csat"].notna(), 0), nps_n=weights.where(panel["nps"].notna(), 0))
    sums = frame.groupby("period").sum(numeric_only=True, min_count=1).sort_index()
    return pd.DataFrame({
        "customers": sums["customers"],
        "churn_rate": sums["churned"] / sums["customers_start"].where(sums["customers_start"] > 0),
        "arpu": sums["revenue"] / sums["average"].where(sums["average"] > 0),
        "revenue": sums["revenue"],
        "csat": sums["csat_w"] / sums["csat_n"].where(sums["csat_n"] > 0),
        "nps": sums["nps_w"] / sums["nps_n"].where(sums["nps_n"] > 0),
    })[list(METRICS)]


def portfolio_totals(panel: pd.DataFrame) -> dict[str, float]:
    """Whole-business figures for the latest month (see :func:`portfolio_history`) with their
    month-on-month and year-on-year changes, and ``period``, the latest month."""
    history = portfolio_history(panel)
    period = history.index[-1]
    row = {"period": period, **{metric: float(history.at[period, metric]) for metric in METRICS}}
    return _with_changes(row, history, period)


def months_between(earlier: pd.Timestamp, later: pd.Timestamp) -> int:
    """Whole calendar months from ``earlier`` to ``later`` (May → July = 2)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month
