"""Compare: two to four saved scenarios side by side on the champion model — what differs between
the plans, their values, and each plan against the first draw by draw."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxroi.app import charts, results, state
from cxroi.app import formatting as fmt
from cxroi.app.errors import guard
from cxroi.app.plan_diff import paired_differences, plan_differences
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
        rows, draws, scenarios, npv = [], [], {}, {}
        for choice in chosen:
            name, version = choice
            label = _label(choice)
            saved = state.store().get_scenario(name, version)
            scenarios[label] = parse_scenario(saved.body, label)
            result = state.simulate(model, scenarios[label])
            rows.append(results.comparison_row(label, result, cfg.currency))
            draws.append(pd.DataFrame({"value": result.npv, "scenario": label}))
            npv[label] = result.npv
        _differences(model, scenarios)
        table = pd.DataFrame(rows)
        shown = table.copy()  # st.table wraps long scenario names instead of cutting them off
        for column in (c for c in shown.columns if f"({cfg.currency})" in c):
            shown[column] = shown[column].map(lambda v: fmt.money(v, cfg.currency))
        _against_first(shown, paired_differences(npv), cfg.currency)
        shown["Scenario"] = shown["Scenario"].map(literal)  # st.table renders Markdown in its cells
        shown = shown.set_index("Scenario")
        st.subheader("Value")
        # one column per plan, as in the differences above: four plans fit a laptop screen
        st.table(shown.drop(columns=list(ASSUMPTIONS)).T.rename_axis("Figure"))
        st.caption(f"Δ and P(beats first) compare each plan with the first one chosen, {literal(_label(chosen[0]))}, "
                   "draw by draw: every plan is valued on the same parameter draws, so each draw is one possible "
                   "world for all of them.")
        st.markdown("**Valuation terms**")
        st.table(shown[list(ASSUMPTIONS)])
        if differing := [words for column, words in ASSUMPTIONS.items() if table[column].nunique() > 1]:
            verb = "differs" if len(differing) == 1 else "differ"
            st.warning(f"Not like for like: the {' and the '.join(differing)} {verb} between these scenarios, so "
                       "part of the difference in value comes from how they are valued.", icon=":material/balance:")
        st.subheader("NPV distributions")
        st.altair_chart(charts.distribution(pd.concat(draws, ignore_index=True), f"NPV ({cfg.currency})",
                                            group="scenario"), width="stretch")


def _label(choice: tuple[str, int]) -> str:
    """The label of a chosen (name, version)."""
    return f"{choice[0]} (v{choice[1]})"


def _differences(model, scenarios: dict) -> None:
    """The plans' funded lines side by side, the lines that differ first."""
    st.subheader("What differs between the plans")
    table = plan_differences(model, scenarios)
    changed = int(table["differs"].sum())
    if changed == 0:
        st.info("The plans fund the same initiatives in the same segments on the same terms; only how they are "
                "valued can differ (see the valuation terms below).")
    # a static table wraps each plan's terms in its column, so four plans fit a laptop screen
    shown = table.drop(columns="differs").rename(columns={"initiative": "Initiative", "segment": "Segment"})
    st.table(shown.rename(columns=literal).map(literal), hide_index=True)  # st.table renders Markdown
    st.caption(f"{changed} of {len(table)} funded lines differ (listed first): monthly spend, months funded and "
               "one-off cost; — where a plan does not fund the line.")


def _against_first(shown: pd.DataFrame, paired: pd.DataFrame, currency: str) -> None:
    """Add, in place, each plan's mean NPV difference from the first plan and P(it beats the first)."""
    first = shown["Scenario"].iloc[0]
    by_label = paired.set_index("scenario")
    shown[f"Δ expected NPV vs first ({currency})"] = [
        "—" if label == first else fmt.money(by_label.at[label, "mean_difference"], currency)
        for label in shown["Scenario"]]
    shown["P(beats first)"] = ["—" if label == first else fmt.percent(by_label.at[label, "prob_better"], 0)
                               for label in shown["Scenario"]]
