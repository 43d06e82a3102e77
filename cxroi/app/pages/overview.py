"""Overview: the business by segment today, its trends, and the champion model behind forecasts."""

from __future__ import annotations

import streamlit as st

from cxroi.app import charts, kpis, state
from cxroi.app import formatting as fmt
from cxroi.app.errors import guard
from cxroi.app.widgets import VERDICT_BADGES, Tile, findings_table, metric_tiles
from cxroi.text import literal

TREND_PANEL_WIDTH = 220  # px per segment chart: two a row on a 1024 px laptop, four on a wide screen
FAMILIES = {"bayes": "Bayesian (PyMC)", "regression": "Regression (statsmodels)"}


def overview() -> None:
    """Render the Overview page."""
    cfg = state.settings()
    cur = cfg.currency
    st.title("Overview")
    with guard("reading the panel"):
        panel, findings = state.panel()
        if panel is None:
            st.error(f"The panel {literal(cfg.panel_path.name)} has problems, so no figures are shown. "
                     "Fix them or upload a corrected file on the Data & retrain page.")
            findings_table(findings)
        else:
            totals = kpis.portfolio_totals(panel)
            st.caption(f"Latest month: {totals['period']:%B %Y} · source: {literal(cfg.panel_path.name)}")
            metric_tiles([Tile("Customers", fmt.count(totals["customers"])),
                          Tile("Monthly revenue", fmt.money_short(totals["revenue"], cur)),
                          Tile("Monthly churn", fmt.percent(totals["churn_rate"], 2)),
                          Tile("CSAT (% satisfied)", fmt.points(totals["csat"])),
                          Tile("NPS (points)", fmt.points(totals["nps"]))])
            snapshot = kpis.segment_snapshot(panel)
            snapshot["churn_pct"] = snapshot["churn_rate"] * 100
            spark = st.column_config.LineChartColumn
            st.subheader("By segment")
            st.dataframe(
                snapshot,
                hide_index=True,
                width="stretch",
                column_order=["segment", "customers", "customers_trend", "churn_pct", "churn_rate_trend",
                              "arpu", "arpu_trend", "csat", "csat_trend", "nps", "nps_trend"],
                column_config={
                    "segment": st.column_config.TextColumn("Segment"),
                    "customers": st.column_config.NumberColumn("Customers", format="localized"),
                    "customers_trend": spark("12 months", width="small"),
                    "churn_pct": st.column_config.NumberColumn("Churn (%/month)", format="%.2f%%"),
                    "churn_rate_trend": spark("12 months", width="small"),
                    "arpu": st.column_config.NumberColumn(f"ARPU ({cur}/customer/month)",
                                                          format=fmt.money_column_format(cur, 2)),
                    "arpu_trend": spark("12 months", width="small"),
                    "csat": st.column_config.NumberColumn("CSAT (%)", format="%.1f"),
                    "csat_trend": spark("12 months", width="small"),
                    "nps": st.column_config.NumberColumn("NPS", format="%.1f"),
                    "nps_trend": spark("12 months", width="small"),
                },
            )
            st.caption("Latest month per segment; sparklines show the last 12 months.")
            st.subheader("Trends")
            choices = {  # label: (column, axis title, axis format)
                "Monthly churn": ("churn_rate", "Monthly churn (% of customers)", ".1%"),
                "ARPU": ("arpu", f"ARPU ({cur} per customer per month)", ",.0f"),
                "CSAT": ("csat", "CSAT (% satisfied)", ".0f"),
                "NPS": ("nps", "NPS (points)", ".0f"),
                "Customers": ("customers", "Customers (end of month)", ",.3~s"),
            }
            label = st.segmented_control("Indicator", list(choices), default="Monthly churn",
                                         key="overview_metric") or "Monthly churn"
            metric, axis_title, axis_format = choices[label]
            st.caption(f"{axis_title} by month. Each segment has its own scale, so a small segment's trend "
                       "shows as clearly as a large one's.")
            panels = st.container(horizontal=True, gap="medium")  # wraps: 2 to 4 charts a row by screen width
            for segment, chart in charts.trend_panels(kpis.monthly_metrics(panel), metric, axis_title,
                                                      axis_format).items():
                cell = panels.container(width=TREND_PANEL_WIDTH, gap=None)
                cell.markdown(f"**{literal(segment)}**")
                cell.altair_chart(chart, width="stretch")
    st.subheader("Forecasting model")
    with guard("loading the champion model"):
        model = state.champion()
        if model is None:
            st.info("No model yet: forecasts need a trained model. An analyst can train one on the "
                    "Data & retrain page (or with `cxroi train`) and promote it.", icon=":material/info:")
        else:
            m = model.manifest
            window = f"{m.training_window.start} to {m.training_window.end}" if m.training_window else "—"
            with st.container(border=True):
                cols = st.columns(4)
                cols[0].markdown(f"**Family**  \n{FAMILIES.get(m.family, m.family)}")
                cols[1].markdown(f"**Trained**  \n{(m.created_at or '—')[:16].replace('T', ' ')} UTC")
                cols[2].markdown(f"**Training window**  \n{window}")
                cols[3].markdown("**Health gate**  \n" + VERDICT_BADGES[m.health.verdict])
                st.caption(f"Model id {model.model_id} · {model.n_draws:,} parameter draws · "
                           f"{len(model.segments)} segments · {len(model.initiatives)} initiatives")
