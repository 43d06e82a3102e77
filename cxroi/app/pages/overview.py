"""Overview: the business by segment today, how it changed, its trends, and the champion model
behind forecasts."""

from __future__ import annotations

import importlib
from datetime import date

import pandas as pd
import streamlit as st

from cxroi.app import charts, kpis, state
from cxroi.app import formatting as fmt
from cxroi.app.errors import guard
from cxroi.app.widgets import VERDICT_BADGES, Tile, findings_table, metric_tiles
from cxroi.data.fingerprint import panel_fingerprint
from cxroi.text import literal

TREND_PANEL_WIDTH = 220  # px per segment chart: two a row on a 1024 px laptop, four on a wide screen
STALE_AFTER_MONTHS = 2  # a latest month older than this (by calendar month) is called out
#: unit of each indicator's change (see cxroi.app.formatting.signed_change)
CHANGE_UNITS = {"customers": "%", "revenue": "%", "arpu": "%", "churn_rate": "pp", "csat": "pts", "nps": "pts"}
CHANGE_VIEWS = {"Latest month": None, "Change vs last month": "month", "Change vs a year ago": "year"}


def _delta_color(metric: str) -> str:
    return "inverse" if metric in kpis.RISE_IS_BAD else "normal"


def _tile(label: str, metric: str, value: str, totals: dict) -> Tile:
    """A headline tile with its month-on-month change (coloured good/bad for this metric) and
    its year-on-year change below it."""
    unit = CHANGE_UNITS[metric]
    year = totals[f"{metric}_year_change"]
    note = None if pd.isna(year) else f"{fmt.signed_change(year, unit, minus=fmt.MINUS)} vs a year ago"
    return Tile(label, value, note=note, delta=fmt.signed_change(totals[f"{metric}_month_change"], unit),
                delta_color=_delta_color(metric))


def _headline(totals: dict, currency: str) -> None:
    metric_tiles([
        _tile("Customers", "customers", fmt.count(totals["customers"]), totals),
        _tile("Monthly revenue", "revenue", fmt.money_short(totals["revenue"], currency), totals),
        _tile("Monthly churn", "churn_rate", fmt.percent(totals["churn_rate"], 2), totals),
        _tile("CSAT (% satisfied)", "csat", fmt.points(totals["csat"]), totals),
        _tile("NPS (points)", "nps", fmt.points(totals["nps"]), totals),
    ])
    st.caption("Arrows: change against the month before; green is good news for that indicator "
               "(falling churn is green).")


def _freshness_notice(latest: pd.Timestamp, today: date) -> None:
    age = kpis.months_between(latest, pd.Timestamp(today))
    if age > STALE_AFTER_MONTHS:
        st.warning(f"The latest month in this panel is {latest:%B %Y}, {age} months ago: these figures describe "
                   "the business then, not today. Upload newer months on the Data & retrain page.",
                   icon=":material/history:")


def _levels_table(snapshot: pd.DataFrame, currency: str) -> None:
    spark = st.column_config.LineChartColumn
    table = snapshot.assign(churn_pct=snapshot["churn_rate"] * 100, arpu=snapshot["arpu"].round(0))
    st.dataframe(
        table, hide_index=True, width="stretch",
        column_order=["segment", "customers", "churn_pct", "revenue", "arpu", "csat", "nps", "customers_trend",
                      "churn_rate_trend"],
        column_config={
            "segment": st.column_config.TextColumn("Segment", pinned=True),
            "customers": st.column_config.NumberColumn("Customers", format="localized"),
            "churn_pct": st.column_config.NumberColumn("Churn %/mo", format="%.2f%%"),
            "revenue": st.column_config.NumberColumn(f"Revenue ({currency})", format="compact"),
            "arpu": st.column_config.NumberColumn(f"ARPU ({currency}/mo)", format="localized"),
            "csat": st.column_config.NumberColumn("CSAT %", format="%.1f"),
            "nps": st.column_config.NumberColumn("NPS", format="%.1f"),
            # short titles: a sparkline column is narrow, and a longer title is cut off on a laptop
            "customers_trend": spark("Trend", width="small", color="auto", help="Customers, the last 12 months"),
            "churn_rate_trend": spark("Churn trend", width=85, color="auto-inverse",
                                      help="Monthly churn, the last 12 months"),
        },
    )
    st.caption("Latest month per segment. Sparklines: the last 12 months, green when the indicator improved "
               "over them (for churn, when it fell), red when it worsened; every indicator's history is under Trends.")


def _change_table(snapshot: pd.DataFrame, lag: str) -> None:
    """Per segment, the change of each indicator against the month before or a year before,
    formatted in its unit and coloured green (better) or red (worse)."""
    labels = {"customers": "Customers", "revenue": "Revenue", "churn_rate": "Churn", "arpu": "ARPU",
              "csat": "CSAT", "nps": "NPS"}
    changes = {metric: snapshot[f"{metric}_{lag}_change"] for metric in labels}
    text = pd.DataFrame({"Segment": snapshot["segment"],
                         **{labels[m]: [fmt.signed_change(v, CHANGE_UNITS[m], minus=fmt.MINUS) for v in values]
                            for m, values in changes.items()}})

    def colour(column: pd.Series) -> list[str]:
        metric = next((m for m, label in labels.items() if label == column.name), None)
        if metric is None:
            return [""] * len(column)
        good = -changes[metric] if metric in kpis.RISE_IS_BAD else changes[metric]
        return ["color: #1a7f37" if g > 0 else "color: #cf222e" if g < 0 else "" for g in good.fillna(0)]

    st.dataframe(text.style.apply(colour), hide_index=True, width="stretch",
                 column_config={"Segment": st.column_config.TextColumn("Segment", pinned=True)})
    earlier = "the month before" if lag == "month" else "the same month a year before"
    st.caption(f"Change of the latest month against {earlier}: customers, revenue and ARPU in % of the earlier "
               "value, churn in percentage points, CSAT and NPS in points; — where that month is not in the panel.")


def _by_segment(snapshot: pd.DataFrame, currency: str) -> None:
    st.subheader("By segment")
    view = st.segmented_control("Show", list(CHANGE_VIEWS), default="Latest month", key="overview_view")
    lag = CHANGE_VIEWS.get(view or "Latest month")
    if lag is None:
        _levels_table(snapshot, currency)
    else:
        _change_table(snapshot, lag)
    st.markdown("**Revenue by segment, latest month**")
    st.altair_chart(charts.revenue_by_segment(snapshot, f"Revenue ({currency} per month)"), width="stretch")


def _trends(panel: pd.DataFrame, currency: str) -> None:
    st.subheader("Trends")
    choices = {  # label: (column, axis title, axis format)
        "Monthly churn": ("churn_rate", "Monthly churn (% of customers)", ".1%"),
        "Revenue": ("revenue", f"Revenue ({currency} per month)", ",.3~s"),
        "ARPU": ("arpu", f"ARPU ({currency} per customer per month)", ",.0f"),
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


def _training_panel_note(panel: pd.DataFrame, shown: str) -> None:
    """Say so when the champion was trained on another panel than the one shown."""
    model = state.champion()
    if model is None or not model.manifest.data_fingerprint:
        return
    if panel_fingerprint(panel) != model.manifest.data_fingerprint:
        m = model.manifest
        trained_on = literal(m.data_path) if m.data_path else "another panel"
        window = f" ({m.training_window.start} to {m.training_window.end})" if m.training_window else ""
        st.info(f"The champion model was trained on {trained_on}{window}, not on the panel shown here "
                f"({literal(shown)}): forecasts start from that panel's last month.", icon=":material/info:")


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
            st.caption(f"Latest month: {totals['period']:%B %Y} · panel: {literal(cfg.panel_path.name)}")
            _freshness_notice(totals["period"], date.today())
            _training_panel_note(panel, cfg.panel_path.name)
            _headline(totals, cur)
            _by_segment(kpis.segment_snapshot(panel), cur)
            _trends(panel, cur)
    st.subheader("Forecasting model")
    model = None
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
                cols[0].markdown(f"**Family**  \n{fmt.FAMILY_LABELS.get(m.family, m.family)}")
                cols[1].markdown(f"**Trained**  \n{(m.created_at or '—')[:16].replace('T', ' ')} UTC")
                cols[2].markdown(f"**Training window**  \n{window}")
                cols[3].markdown("**Health gate**  \n" + VERDICT_BADGES[m.health.verdict])
                st.caption(f"Model id {model.model_id} · {model.n_draws:,} parameter draws · "
                           f"{len(model.segments)} segments · {len(model.initiatives)} initiatives")
    if model is not None:  # the planner's libraries and first valuation, while the user reads this page
        ctx, catalogue = state.context(), state.catalogue()
        state.warm_up(lambda: importlib.import_module("cxroi.app.pages.planner").prepare_first_visit(
            ctx, model, catalogue))
