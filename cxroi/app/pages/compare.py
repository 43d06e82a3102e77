"""Compare: two to four saved scenarios side by side on the champion model."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxroi.app import charts, results, state
from cxroi.app import formatting as fmt
from cxroi.app.errors import guard
from cxroi.sim.scenario import parse_scenario
from cxroi.text import literal

MAX_SCENARIOS = 4
#: valuation settings that must match for a like-for-like comparison: table column → words
ASSUMPTIONS = {"Horizon (months)": "horizon", "Discount rate (per year)": "discount rate",
               "Gross margin": "gross margin", "Terminal value": "terminal value", "Value levers": "value levers"}


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
        st.caption(f"Every scenario is valued on the champion model {model.model_id} (trained "
                   f"{(model.manifest.created_at or '—')[:16].replace('T', ' ')} UTC). When another model "
                   "is promoted, these figures are recomputed on it.")
        rows, draws = [], []
        for name, version in chosen:
            label = f"{name} (v{version})"
            saved = state.store().get_scenario(name, version)
            result = state.simulate(model, parse_scenario(saved.body, label))
            rows.append(results.comparison_row(label, result, cfg.currency))
            draws.append(pd.DataFrame({"value": result.npv, "scenario": label}))
        table = pd.DataFrame(rows)
        shown = table.copy()  # st.table wraps long scenario names instead of cutting them off
        for column in (c for c in shown.columns if f"({cfg.currency})" in c):
            shown[column] = shown[column].map(lambda v: fmt.money(v, cfg.currency))
        shown["Scenario"] = shown["Scenario"].map(literal)  # st.table renders Markdown in its cells
        shown = shown.set_index("Scenario")
        st.table(shown.drop(columns=list(ASSUMPTIONS)))
        st.markdown("**Valuation terms**")
        st.table(shown[list(ASSUMPTIONS)])
        if differing := [words for column, words in ASSUMPTIONS.items() if table[column].nunique() > 1]:
            verb = "differs" if len(differing) == 1 else "differ"
            st.warning(f"Not like for like: the {' and the '.join(differing)} {verb} between these scenarios, so "
                       "part of the difference in value comes from how they are valued.", icon=":material/balance:")
        st.subheader("NPV distributions")
        st.altair_chart(charts.distribution(pd.concat(draws, ignore_index=True), f"NPV ({cfg.currency})",
                                            group="scenario"), width="stretch")
