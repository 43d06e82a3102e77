"""Headline figures, chart frames and page sections of one :class:`SimulationResult`.

Frames are plain pandas built from the result's own tables (no re-computation of the science);
``show_*`` functions render them. Money is in the model's currency, months are calendar months.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cxroi.app import charts
from cxroi.app import formatting as fmt
from cxroi.app.widgets import Tile, metric_tiles
from cxroi.params import EFFECT_LABELS
from cxroi.sim.result import ALL_SEGMENTS, SimulationResult

LEVER_LABELS = {"retention": "Retention", "arpu": "ARPU", "acquisition": "Acquisition"}


def headline(result: SimulationResult) -> dict[str, float]:
    """NPV (P10, P50, P90, mean), ROI (P10, P50, P90), payback month P50 and P(ROI > 0)."""
    summary = result.summary()
    npv, roi, payback = summary.loc["npv"], summary.loc["roi"], summary.loc["payback_month"]
    return {
        "npv_p10": npv["p10"], "npv_p50": npv["p50"], "npv_p90": npv["p90"], "npv_mean": npv["mean"],
        "roi_p10": roi["p10"], "roi_p50": roi["p50"], "roi_p90": roi["p90"],
        "payback_p50": payback["p50"], "prob_roi_positive": summary.loc["prob_roi_positive", "mean"],
        "pv_spend": summary.loc["pv_spend", "mean"],
    }


def fan_frame(result: SimulationResult, metric: str) -> pd.DataFrame:
    """Columns month, p10, p50, p90 over draws of 'incremental_revenue' (per month) or
    'cumulative_cash_flow', summed over segments. Only this one metric's quantiles are computed
    (not the whole monthly table), which keeps the slider path fast."""
    paths = {
        "incremental_revenue": lambda: result.incremental_revenue_by_month,
        "cumulative_cash_flow": lambda: np.cumsum(result.total_cash_flow, axis=-1),
    }
    p10, p50, p90 = np.quantile(paths[metric](), (0.1, 0.5, 0.9), axis=0)
    return pd.DataFrame({"month": result.months, "p10": p10, "p50": p50, "p90": p90})


def lever_steps(result: SimulationResult) -> pd.DataFrame:
    """Waterfall steps (label, value): mean present value of each enabled lever, then minus the
    present value of spend; they add up to the mean NPV."""
    levers = result.levers_table()
    levers = levers[levers["segment"] == ALL_SEGMENTS]
    enabled = result.scenario.levers.enabled()
    rows = [(LEVER_LABELS[r.lever], r.mean) for r in levers.itertuples() if r.lever in enabled]
    rows.append(("Investment", -result.pv_spend))
    return pd.DataFrame(rows, columns=["label", "value"])


def segment_frame(result: SimulationResult) -> pd.DataFrame:
    """NPV quantiles per segment reached (columns segment, p10, p50, p90)."""
    table = result.segments_table()
    table = table[table["segment"].isin(result.scenario.segments)]
    return table.rename(columns={"npv_p10": "p10", "npv_p50": "p50", "npv_p90": "p90"})[
        ["segment", "p10", "p50", "p90"]]


def comparison_row(label: str, result: SimulationResult, currency: str) -> dict:
    """One scenario's row of the Compare table: NPV P10/P50/P90 and mean (currency), the headline
    ratios formatted as on the other pages, and the valuation assumptions that make two scenarios
    comparable or not (horizon, discount rate, gross margin, terminal value, levers counted)."""
    h, scenario = headline(result), result.scenario
    margin = fmt.percent(scenario.gross_margin.default, 0)
    if scenario.gross_margin.segments:
        margin += " (some segments differ)"
    return {
        "Scenario": label,
        f"NPV P10 ({currency})": h["npv_p10"], f"NPV P50 ({currency})": h["npv_p50"],
        f"NPV P90 ({currency})": h["npv_p90"], f"Expected NPV ({currency})": h["npv_mean"],
        "ROI (P50)": fmt.ratio(h["roi_p50"]), "Payback (P50)": fmt.payback(h["payback_p50"], result.horizon),
        "P(ROI > 0)": fmt.percent(h["prob_roi_positive"], 0), f"Investment, PV ({currency})": h["pv_spend"],
        "Horizon (months)": result.horizon, "Discount rate (per year)": fmt.percent(scenario.annual_discount_rate),
        "Gross margin": margin, "Terminal value": "included" if scenario.terminal_value else "not included",
        "Value levers": ", ".join(LEVER_LABELS[lever] for lever in scenario.levers.enabled()),
    }


def show_metrics(result: SimulationResult, currency: str) -> None:
    """NPV, ROI, payback and P(ROI > 0) as headline tiles with their 80 % ranges (one row on a
    wide screen, 2 × 2 on a narrow one; never cut off)."""
    h = headline(result)
    metric_tiles([
        Tile("NPV", fmt.money_short(h["npv_p50"], currency),
             "Median net present value over the model's parameter draws",
             f"80% range {fmt.money_short(h['npv_p10'], currency)} to {fmt.money_short(h['npv_p90'], currency)}"),
        Tile("ROI", fmt.ratio(h["roi_p50"]), "Median of NPV / present value of spend",
             f"80% range {fmt.ratio(h['roi_p10'])} to {fmt.ratio(h['roi_p90'])}"),
        Tile("Payback", fmt.payback(h["payback_p50"], result.horizon),
             "Median forecast month (1 = first month) from which cumulative cash flow stays positive",
             f"Investment (PV) {fmt.money_short(h['pv_spend'], currency)}"),
        Tile("P(ROI > 0)", fmt.percent(h["prob_roi_positive"], 0),
             "Share of parameter draws in which the investment pays back within the horizon",
             f"{result.n_draws:,} draws of model {result.model_id}"),
    ], group=2)
    show_caveats(result)


def show_caveats(result: SimulationResult) -> None:
    """The model's caveats that concern these figures, next to them: folded into one line when
    there are many, each with the segments and effects it concerns (shown as plain text)."""
    caveats = result.provenance.caveats
    if not caveats:
        return
    with st.expander(f"Caveats of model {result.model_id} for these figures ({len(caveats)})",
                     icon=":material/warning:", expanded=len(caveats) <= 2):
        for caveat in caveats:
            effects = ", ".join(EFFECT_LABELS[e] for e in caveat.effects) or "all"
            st.text(f"• {caveat.text[:1].upper()}{caveat.text[1:]}\n  (segments: {', '.join(caveat.segments) or 'all'}"
                    f" · effects: {effects})")


def show_fans(result: SimulationResult, currency: str) -> None:
    """Fan charts of incremental revenue and cumulative cash flow (median, P10–P90 band)."""
    st.markdown("**Incremental revenue per month** (median, P10–P90 band)")
    st.altair_chart(charts.fan_chart(fan_frame(result, "incremental_revenue"),
                                     f"Incremental revenue ({currency}/month)"), width="stretch")
    st.markdown("**Cumulative cash flow** (median, P10–P90 band)")
    st.altair_chart(charts.fan_chart(fan_frame(result, "cumulative_cash_flow"), f"Cumulative cash flow ({currency})"),
                    width="stretch")


def show_breakdown(result: SimulationResult, currency: str) -> None:
    """Lever waterfall, NPV by segment and the ROI distribution, side by side."""
    cols = st.columns(3, gap="large")
    with cols[0]:
        st.markdown("**Value by lever** (expected present value)")
        st.altair_chart(charts.waterfall(lever_steps(result), f"Present value ({currency})"), width="stretch")
        st.caption("Mean over the parameter draws, so the total can differ from the median NPV above.")
    with cols[1]:
        st.markdown("**NPV by segment** (median, P10–P90)")
        st.altair_chart(charts.interval_bars(segment_frame(result), "segment", "Segment", f"NPV ({currency})"),
                        width="stretch")
    with cols[2]:
        st.markdown("**ROI distribution** over parameter draws")
        st.altair_chart(charts.distribution(pd.DataFrame({"value": result.roi}), "ROI (NPV / PV of spend)",
                                            x_format=charts.PERCENT_AXIS), width="stretch")


PREVIEW_COLUMNS = {  # (metric, quantile): (column title, can be negative)
    ("baseline_revenue", 0.5): ("Baseline revenue (P50)", False),
    ("scenario_revenue", 0.5): ("Scenario revenue (P50)", False),
    ("incremental_revenue", 0.1): ("Incremental revenue P10", True),
    ("incremental_revenue", 0.5): ("Incremental revenue P50", True),
    ("incremental_revenue", 0.9): ("Incremental revenue P90", True),
    ("spend", 0.5): ("Spend", False),
    ("cash_flow", 0.5): ("Cash flow (P50)", True),
    ("cumulative_cash_flow", 0.5): ("Cumulative cash flow (P50)", True),
}


def forecast_preview(result: SimulationResult) -> pd.DataFrame:
    """Monthly forecast over all segments: one row per month, the columns of :data:`PREVIEW_COLUMNS`."""
    table = result.monthly_quantiles()
    table = table[table["segment"] == ALL_SEGMENTS]
    wide = table.pivot_table(index="month", columns=["metric", "quantile"], values="value")
    frame = pd.DataFrame({title: wide[key] for key, (title, _) in PREVIEW_COLUMNS.items()})
    return frame.reset_index().rename(columns={"month": "Month"})


def show_forecast_preview(result: SimulationResult, currency: str) -> None:
    """The monthly forecast preview as a table with money formatting."""
    column = st.column_config.NumberColumn
    config = {title: column(f"{title} ({currency})", format=fmt.SIGNED_MONEY_COLUMN) if signed
              else column(format=fmt.money_column_format(currency)) for title, signed in PREVIEW_COLUMNS.values()}
    st.dataframe(forecast_preview(result), hide_index=True, width="stretch", height=320,
                 column_config={"Month": st.column_config.DateColumn("Month", format="MMM YYYY"), **config})
