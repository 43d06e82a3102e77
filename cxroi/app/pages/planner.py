"""Scenario planner: build an investment plan, see its value with uncertainty, save and reopen it."""

from __future__ import annotations

import streamlit as st

from cxroi.app import results, scenario_form, state
from cxroi.app.errors import guard
from cxroi.sim.scenario import name_problem, parse_scenario
from cxroi.text import literal

NOTICE = "planner_saved"  # "Saved …" / "Opened …", shown once above the results


def _plan_and_results() -> None:
    """Controls and results; a fragment, so a control change reruns only this part."""
    cfg = state.settings()
    model = state.champion()
    valuation = st.container()
    headline = st.container()  # full width, so the figures are never cut off on a laptop screen
    controls, output = st.columns([2, 3], gap="large")
    body = scenario_form.scenario_controls(model, state.catalogue(), cfg.currency, valuation, controls)
    if message := st.session_state.pop(NOTICE, None):
        headline.success(message, icon=":material/check:")
    if problems := scenario_form.problems(body, model):
        for problem in problems:
            headline.info(literal(problem), icon=":material/info:")
        return
    valued = False
    with guard("simulating the scenario"):
        scenario = parse_scenario(body, "this scenario")
        result = state.simulate(model, scenario)
        with headline:
            results.show_metrics(result, cfg.currency)
        with output:
            results.show_fans(result, cfg.currency)
        results.show_breakdown(result, cfg.currency)
        valued = True
    if valued:
        _save_form(body)


def _save_form(body: dict) -> None:
    """Save the scenario on screen under a name (a new version when the name exists)."""
    with st.expander("Save this scenario"), st.form("save_scenario", border=False):
        name = st.text_input("Name", value=body["name"], max_chars=200).strip()
        if not st.form_submit_button("Save", icon=":material/save:"):
            return
        if problem := name_problem(name):
            st.warning(f"The name {problem}.", icon=":material/edit:")
            return
        with guard("saving the scenario"):
            saved = state.store().save_scenario(name, parse_scenario({**body, "name": name}, name).to_dict())
            scenario_form.open_body(saved.body)
            st.session_state[NOTICE] = f"Saved '{literal(saved.name)}' as version {saved.version}."
            st.rerun()


def planner() -> None:
    """Render the Scenario planner page."""
    st.title("Scenario planner")
    with guard("loading the model"):
        if state.champion_or_notice() is None:
            return
        with guard("opening saved scenarios"):
            versions = state.saved_versions()
            if versions:
                cols = st.columns([4, 1], vertical_alignment="bottom")
                choice = cols[0].selectbox("Saved scenarios", versions, key="planner_open_choice",
                                           format_func=lambda v: f"{v[0]} — version {v[1]}")
                if cols[1].button("Open", icon=":material/folder_open:", width="stretch"):
                    opened = state.store().get_scenario(*choice)
                    scenario_form.open_body(parse_scenario(opened.body, opened.name).to_dict())
                    st.session_state[NOTICE] = f"Opened '{literal(opened.name)}' version {opened.version}."
                    st.rerun()
        st.fragment(_plan_and_results)()
