"""Scenario planner: build an investment plan, see its value with uncertainty and the assumptions
behind it, save it (pinned to the model it was valued on), reopen it, approve it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxroi import service
from cxroi.app import charts, results, scenario_form, state
from cxroi.app import formatting as fmt
from cxroi.app.errors import guard
from cxroi.registry import ModelArtifact
from cxroi.sim.attribution import uncertainty_shares
from cxroi.sim.response import scenario_curves
from cxroi.sim.result import SimulationResult
from cxroi.sim.scenario import Scenario, name_problem, parse_scenario
from cxroi.store import ConflictError
from cxroi.text import literal

NOTICE = "planner_saved"  # "Saved …" / "Opened …", shown once above the results
CONFLICT = "planner_conflict"  # the ConflictError of the last save, until the user chooses
CHOICE = "planner_open_choice"
SHOW = "planner_show_choice"  # (name, version) the saved-scenario box shows on the next run
PICKED = "planner_picked"  # the user chose a scenario in the box that is not opened yet


@st.cache_data(show_spinner=False, max_entries=16)
def _shares(model_id: str, scenario_json: str) -> tuple[pd.DataFrame, float]:
    """Variance decomposition of a scenario's NPV (table, NPV sd) — cached per model and scenario."""
    table = uncertainty_shares(state.load_model(model_id), Scenario.model_validate_json(scenario_json))
    return table, float(table.attrs["npv_sd"])


@st.cache_data(show_spinner=False, max_entries=16)
def _curves(model_id: str, scenario_json: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Response curves and marginal ROI of a scenario's investments — cached per model and scenario."""
    return scenario_curves(state.load_model(model_id), Scenario.model_validate_json(scenario_json))


def _reading(model: ModelArtifact, result: SimulationResult) -> None:
    """One sentence on where the value and its uncertainty come from."""
    table, sd = _shares(model.model_id, result.scenario.to_json())
    table.attrs["npv_sd"] = sd
    st.markdown(f":material/lightbulb: {results.reading(result, table)}")


def _pinned(model: ModelArtifact, currency: str) -> None:
    """For a reopened saved scenario (unchanged since): its value under the model it was saved
    with and, when the champion changed since, under the champion beside it with the difference."""
    loaded = scenario_form.loaded()
    if loaded is None or scenario_form.has_unsaved_work():
        return
    valuation = service.value_under_models(state.context(), state.current_user(), service.ScenarioRef(*loaded))
    name = literal(valuation.saved.name)
    if valuation.pinned is None:
        st.caption(f"'{name}' version {valuation.saved.version}: no value under the model it was saved with "
                   f"({literal(valuation.pinned_problem or 'not recorded')}); shown on the champion "
                   f"{valuation.champion.model_id}.")
        return
    if not valuation.champion_changed:
        st.caption(f"'{name}' version {valuation.saved.version} was saved with model {valuation.saved.model_id}, "
                   "the champion: the figures are the ones it was saved with.")
        return
    pinned, champion, diff = valuation.pinned.result, valuation.champion.result, valuation.difference
    h_pinned, h_champion = results.headline(pinned), results.headline(champion)
    st.info(f"The champion changed since '{name}' version {valuation.saved.version} was saved: the figures above are "
            f"on the new champion {champion.model_id}. Its value under each model:", icon=":material/compare_arrows:")
    rows = [
        ("Median NPV", fmt.money(h_pinned["npv_p50"], currency), fmt.money(h_champion["npv_p50"], currency),
         _signed_money(diff.npv_p50, currency) if diff else "—"),
        ("Expected NPV (mean)", fmt.money(h_pinned["npv_mean"], currency), fmt.money(h_champion["npv_mean"], currency),
         _signed_money(diff.npv_mean, currency) if diff else "—"),
        ("ROI (P50)", fmt.ratio(h_pinned["roi_p50"]), fmt.ratio(h_champion["roi_p50"]),
         f"{100 * diff.roi_p50:+.0f} pp" if diff else "—"),
        ("P(ROI > 0)", fmt.percent(h_pinned["prob_roi_positive"], 0), fmt.percent(h_champion["prob_roi_positive"], 0),
         f"{100 * diff.prob_roi_positive:+.0f} pp" if diff else "—"),
        ("Payback (P50)", fmt.payback(h_pinned["payback_p50"], pinned.horizon),
         fmt.payback(h_champion["payback_p50"], champion.horizon),
         f"{diff.payback_p50:+.0f} mo".replace("-", "−") if diff and diff.payback_p50 is not None else "—"),
    ]
    st.table(pd.DataFrame(rows, columns=["Figure", f"Saved with {valuation.saved.model_id}",
                                         f"Champion {champion.model_id}", "Difference"]).set_index("Figure"))


def _signed_money(value: float, currency: str) -> str:
    """A difference in money with its sign: +$1,234 or −$1,234."""
    return ("+" if value > 0 else "") + fmt.money(value, currency)


def _plausibility(result: SimulationResult) -> None:
    """The plausibility review next to the headline (cxroi.sim.plausibility): each flag (an
    implausible figure) as a warning, each item to review (a figure resting on a prior) as a note."""
    try:
        from cxroi.sim.plausibility import headline
    except ImportError:  # an installation without the review
        return
    findings = result.plausibility
    if not findings:
        st.caption(headline(findings))
        return
    for finding in findings:
        if finding.severity == "flag":
            st.warning(literal(finding.text), icon=":material/flag:")
        else:
            st.info(literal(finding.text), icon=":material/rate_review:")


def _response(model: ModelArtifact, scenario: Scenario, currency: str) -> None:
    """Response curves of each investment per segment and the marginal ROI at its spend."""
    with st.expander("Response curves and marginal ROI", icon=":material/ssid_chart:"):
        if not st.toggle("Show the response curves", key="planner_response_on",
                         help="Values each investment at 13 spend levels per segment: off, the sliders stay quickest."):
            return
        curves, marginal = _curves(model.model_id, scenario.to_json())
        labels = [f"{j + 1}. {model.manifest.initiative_name(inv.initiative)}"
                  for j, inv in enumerate(scenario.investments)]
        j = st.selectbox("Investment", range(len(labels)), format_func=labels.__getitem__, key="planner_response")
        st.altair_chart(charts.response_chart(curves[curves["investment"] == j], f"Monthly spend in the segment "
                                              f"({currency})", f"NPV ({currency})", model.segments), width="stretch")
        st.caption("Median NPV and P10–P90 band of the investment on its own in each segment as its monthly spend "
                   "goes from 0 to 3 × the nominal cost, running spend counted, the one-off not (paid once for "
                   "the initiative); the dots mark the planned spend. Marginal ROI (a mean): expected NPV gained "
                   "per extra unit of spend at the planned level, in present value — above 0 the next unit still "
                   "pays for itself. Uses the model's lift, not an own estimate.")
        mine = marginal[marginal["investment"] == j]
        money = st.column_config.NumberColumn
        st.dataframe(mine.assign(marginal_roi=mine["marginal_roi"] * 100)[
            ["segment", "planned_spend", "nominal_cost", "npv_mean", "marginal_roi"]], hide_index=True,
            width="stretch", column_config={
                "segment": "Segment",
                "planned_spend": money(f"Planned spend ({currency}/month)", format=fmt.money_column_format(currency)),
                "nominal_cost": money(f"Nominal cost ({currency}/month)", format=fmt.money_column_format(currency)),
                "npv_mean": money(f"Expected NPV there ({currency})", format=fmt.SIGNED_MONEY_COLUMN),
                "marginal_roi": money("Marginal ROI", format="%.0f%%")})


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
    with guard("simulating the scenario"):
        scenario = parse_scenario(body, "this scenario")
        result = state.simulate(model, scenario)
        with headline:
            results.show_metrics(result, cfg.currency)
            _actions(body)
            _plausibility(result)
            _reading(model, result)
            results.show_statistics_note(result, cfg.currency)
            _pinned(model, cfg.currency)
        with output:
            results.show_fans(result, cfg.currency)
        results.show_breakdown(result, cfg.currency)
        results.show_assumptions(model, result, cfg.currency)
        _response(model, scenario, cfg.currency)


def _saved(saved, verb: str) -> None:
    """After a save or an open: the body, the saved-scenario box and the notice show it."""
    scenario_form.open_body(parse_scenario(saved.body, saved.name).to_dict(), (saved.name, saved.version))
    st.session_state[SHOW] = (saved.name, saved.version)
    st.session_state[PICKED] = False
    st.session_state[NOTICE] = (f"Saved '{literal(saved.name)}' as version {saved.version}." if verb == "Saved"
                                else f"Opened '{literal(saved.name)}' version {saved.version}.")
    st.session_state.pop(CONFLICT, None)


def _actions(body: dict) -> None:
    """Save and (for finance) Approve, in a row right under the headline figures; a save that
    met someone else's newer version asks, below the row, what to do."""
    user = state.current_user()
    row = st.container(horizontal=True, gap="small", vertical_alignment="center")
    with row.popover("Save this scenario", icon=":material/save:"):
        _save_form(body)
    if user.can(service.Permission.APPROVE):
        with row.popover("Approve this scenario", icon=":material/verified:"):
            _approve(body)
    loaded = scenario_form.loaded()  # what is saved of the scenario on screen, beside the buttons that change it
    if loaded is not None:
        edited = " — changed since, not saved" if scenario_form.has_unsaved_work() else ", saved"
        row.caption(f"In the planner: '{literal(loaded[0])}' version {loaded[1]}{edited}.", width="content")
    else:
        row.caption(f"In the planner: '{literal(body['name'])}', not saved yet.", width="content")
    conflict = st.session_state.get(CONFLICT)
    if conflict is not None:
        st.warning(literal(str(conflict)), icon=":material/sync_problem:")
        on_top, reload = st.columns(2)
        if on_top.button(f"Save on top of version {conflict.latest_version}", icon=":material/save_as:"):
            _save(body, conflict.name, conflict.latest_version)
        if reload.button(f"Open version {conflict.latest_version} instead", icon=":material/refresh:"):
            with guard("opening the scenario"):
                _saved(state.open_saved(conflict.name, conflict.latest_version), "Opened")
                st.rerun()


def _save_form(body: dict) -> None:
    """Save the scenario on screen under a name (a new version when the name exists, based on
    the version opened; a newer save by someone else is offered, not overwritten)."""
    with st.form("save_scenario", border=False):
        name = st.text_input("Name", value=body["name"], max_chars=200).strip()
        submitted = st.form_submit_button("Save", icon=":material/save:", type="primary")
    st.caption("A name already saved gets a new version; the model the figures come from is recorded with it.")
    if submitted:
        if problem := name_problem(name):
            st.warning(f"The name {problem}.", icon=":material/edit:")
            return
        _save(body, name, state.base_version_for(name))


def _save(body: dict, name: str, base_version: int | None) -> None:
    with guard("saving the scenario"):
        try:
            saved = state.save_scenario(parse_scenario({**body, "name": name}, name).to_dict(), name, base_version)
        except ConflictError as conflict:
            st.session_state[CONFLICT] = conflict
            st.rerun()
        _saved(saved, "Saved")
        st.rerun()


def _approve(body: dict) -> None:
    """Approve the saved scenario on screen into a decision record (finance; the caller checks
    the role)."""
    user = state.current_user()
    loaded = scenario_form.loaded()
    if loaded is None or scenario_form.has_unsaved_work():
        st.caption("Save the scenario first: a decision records a saved version, unchanged.")
        return
    name, version = loaded
    pinned = service.get_scenario(state.context(), user, name, version).model_id
    on = (f"on model {pinned}, the one it was saved with" if pinned else "on the champion")
    st.caption(f"Approving '{literal(name)}' version {version} records an immutable decision valued {on}: the "
               "scenario, the model, its data fingerprint, the forecast's quantiles and per-draw summary, the "
               f"caveats, and you ({literal(user.label)}) as approver. It can be superseded, not edited.")
    if st.button("Approve", type="primary", icon=":material/verified:"):
        with guard("approving the scenario"):
            decision = service.approve_scenario(state.context(), user, name, version)
            st.session_state[NOTICE] = (f"Approved '{literal(name)}' version {version} as decision "
                                        f"{decision.id} on model {decision.model_id}; see the Decisions page.")
            st.rerun()


def prepare_first_visit(ctx: service.Context, model: ModelArtifact, catalogue: dict) -> None:
    """Ahead of the planner's first visit (from the Overview, in the background): open the
    store its saved-scenarios box reads and value the scenario it opens with, which ``ctx``
    keeps for the visit."""
    ctx.store.list_scenarios()
    ctx.simulate(parse_scenario(scenario_form.default_body(model, catalogue), "this scenario"), model)


def planner() -> None:
    """Render the Scenario planner page."""
    st.title("Scenario planner")
    with guard("loading the model"):
        if state.champion_or_notice() is None:
            return
        with guard("opening saved scenarios"):
            versions = state.saved_versions()
            scenario_form.current_body(state.champion(), state.catalogue())
            loaded = scenario_form.loaded()
            if versions:
                shown = st.session_state.pop(SHOW, None)  # just opened or saved
                if shown in versions:
                    st.session_state[CHOICE] = shown
                elif not st.session_state.get(PICKED) or st.session_state.get(CHOICE) not in versions:
                    # the box names what the planner holds, unless the user has picked another to open
                    st.session_state[CHOICE] = loaded if loaded in versions else None
                    st.session_state[PICKED] = False
                cols = st.columns([4, 1], vertical_alignment="bottom")
                choice = cols[0].selectbox("Saved scenarios", versions, key=CHOICE, index=None,
                                           placeholder="Choose a saved scenario to open",
                                           format_func=lambda v: f"{v[0]} — version {v[1]}",
                                           on_change=lambda: st.session_state.update({PICKED: True}))
                picked = choice is not None and choice != loaded
                # the version loaded can be opened again too: it drops the changes made since
                if cols[1].button("Open", icon=":material/folder_open:", width="stretch", disabled=choice is None,
                                  type="primary" if picked else "secondary"):
                    _saved(state.open_saved(*choice), "Opened")
                    st.rerun()
                if picked:
                    st.caption("Not opened yet: Open replaces the scenario in the planner with the one chosen.")
        st.fragment(_plan_and_results)()
