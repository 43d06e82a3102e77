"""Compare: two to four saved scenarios side by side on the champion model."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxroi.app import charts, results, state
from cxroi.app import formatting as fmt
from cxroi.app.errors import guard
from cxroi.sim.scenario import parse_scenario

MAX_SCENARIOS = 4


def compare() -> None:
    """Render the Compare page."""
    st.title("Compare scenarios")
    cfg = state.settings()
    with guard("comparing scenarios"):
        model = state.champion_or_notice()
        if model is None:
            return
        versions = state.saved_versions()
        if len(versions) < 2:
            st.info("Save at least two scenarios in the Scenario planner to compare them here.")
            return
        latest = list(dict.fromkeys(name for name, _ in versions))
        default = [next(v for v in versions if v[0] == name) for name in latest[:2]]
        chosen = st.multiselect("Scenarios (2 to 4)", versions, default=default, max_selections=MAX_SCENARIOS,
                                format_func=lambda v: f"{v[0]} — v{v[1]}", key="compare_choice")
        if len(chosen) < 2:
            st.info("Pick at least two scenarios.")
            return
        rows, draws = [], []
        for name, version in chosen:
            label = f"{name} (v{version})"
            saved = state.store().get_scenario(name, version)
            result = state.simulate(model, parse_scenario(saved.body, label))
            rows.append({"Scenario": label, **results.headline(result),
                         "horizon": result.horizon})
            draws.append(pd.DataFrame({"value": result.npv, "scenario": label}))
        table = pd.DataFrame(rows)
        table["roi_p50"] *= 100
        table["prob_roi_positive"] *= 100
        money = st.column_config.NumberColumn
        st.dataframe(
            table, hide_index=True, width="stretch",
            column_order=["Scenario", "npv_p50", "npv_p10", "npv_p90", "npv_mean", "roi_p50", "payback_p50",
                          "prob_roi_positive", "pv_spend", "horizon"],
            column_config={
                "npv_p50": money(f"NPV P50 ({cfg.currency})", format=fmt.SIGNED_MONEY_COLUMN),
                "npv_p10": money(f"NPV P10 ({cfg.currency})", format=fmt.SIGNED_MONEY_COLUMN),
                "npv_p90": money(f"NPV P90 ({cfg.currency})", format=fmt.SIGNED_MONEY_COLUMN),
                "npv_mean": money(f"Expected NPV ({cfg.currency})", format=fmt.SIGNED_MONEY_COLUMN),
                "roi_p50": money("ROI (P50)", format="%.1f%%"),
                "payback_p50": money("Payback (mo, P50)", format="%d"),
                "prob_roi_positive": money("P(ROI > 0)", format="%.0f%%"),
                "pv_spend": money("Investment (PV)", format=fmt.money_column_format(cfg.currency)),
                "horizon": money("Horizon (mo)", format="%d"),
            },
        )
        if table["payback_p50"].isna().any():
            st.caption("Payback left empty: not within the horizon in the median draw.")
        st.subheader("NPV distributions")
        st.altair_chart(charts.distribution(pd.concat(draws, ignore_index=True), f"NPV ({cfg.currency})",
                                            group="scenario"), width="stretch")
