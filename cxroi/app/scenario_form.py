"""The scenario planner's controls: widgets seeded from a scenario body, returning the edited body.

The body (``Scenario.to_dict()`` data) in ``st.session_state`` is the source of truth, so a
scenario survives page switches (Streamlit forgets widgets that are not on screen) and a saved
scenario is reopened by replacing the body and bumping the widget generation. Units as in
:mod:`cxroi.sim.scenario`: spend per segment per month in currency, months 1-based, rates and
margins shown in % and stored as fractions.
"""

from __future__ import annotations

import os

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime.scriptrunner import get_script_run_ctx

from cxroi.app import formatting as fmt
from cxroi.catalogue import Initiative
from cxroi.registry import ModelArtifact
from cxroi.sim.scenario import MAX_HORIZON_MONTHS, plan_problems
from cxroi.text import literal

BODY, GENERATION, UIDS = "planner_body", "planner_generation", "planner_uids"
#: (generation, body as first drawn after it was opened): what the planner's unsaved work is compared with
OPENED = "planner_opened"
#: (name, version) of the saved scenario the body was opened from or saved as; None for a new one
LOADED = "planner_loaded"
LEVERS_WIDTH = 300  # px: the three lever pills side by side
MONTH_INPUT_WIDTH, AMOUNT_INPUT_WIDTH = 100, 150  # px: month numbers, one-off amounts up to 9 digits


def default_body(model: ModelArtifact, catalogue: dict[str, Initiative]) -> dict:
    """A first scenario: the model's first initiative at nominal spend in the segments it reaches."""
    initiative = model.initiatives[0]
    return {
        "name": "New scenario",
        "investments": [new_investment(model, initiative)],
        "horizon_months": 36,
        "annual_discount_rate": 0.10,
        "gross_margin": {"default": 0.70, "segments": {}},
        "terminal_value": False,
        "levers": {"retention": True, "arpu": True, "acquisition": True},
    }


def new_investment(model: ModelArtifact, initiative: str) -> dict:
    """An investment in ``initiative`` at the model's nominal costs, reaching the segments the
    model records for it (all model segments when it records none)."""
    settings = model.manifest.initiative_settings[initiative]
    return {
        "initiative": initiative, "segments": list(model.manifest.reach(initiative) or model.segments),
        "start_month": 1, "duration_months": 24, "one_off_cost": settings.one_off_cost,
        "monthly_spend": settings.monthly_cost, "lift": None,
    }


def current_body(model: ModelArtifact, catalogue: dict[str, Initiative]) -> dict:
    """The body being edited (a default one on first use or after a model change)."""
    body = st.session_state.get(BODY)
    if body is None or any(inv["initiative"] not in model.initiatives for inv in body["investments"]):
        open_body(default_body(model, catalogue))
    return st.session_state[BODY]


def initiative_name(model: ModelArtifact, initiative: str) -> str:
    """The initiative's display name (its id when the model records none)."""
    return model.manifest.initiative_name(initiative)


def card_label(model: ModelArtifact, body: dict, index: int) -> str:
    """How the page names investment card ``index`` (0-based): 'Self-service portal (investment 2)'."""
    return f"{initiative_name(model, body['investments'][index]['initiative'])} (investment {index + 1})"


def problems(body: dict, model: ModelArtifact) -> list[str]:
    """What stops the scenario being edited from being valued, in the page's words: investment
    cards numbered from 1 and named by their initiative. Empty when nothing in the form is
    missing; :func:`cxroi.sim.scenario.parse_scenario` still checks the rest."""
    investments = body["investments"]
    found = [] if investments else ["Add at least one investment to see its value."]
    for j, inv in enumerate(investments):
        if not inv["segments"]:
            found.append(f"Choose at least one segment for {card_label(model, body, j)}.")
    horizon = int(body["horizon_months"])
    for problem in plan_problems(investments, horizon, any(body["levers"].values())):
        if problem.kind == "no_lever":
            found.append("Choose at least one value lever (retention, ARPU or acquisition) to see the scenario's "
                         "value.")
        elif problem.kind == "after_horizon":
            (j,) = problem.investments
            found.append(f"{card_label(model, body, j)} starts in month {investments[j]['start_month']}, after "
                         f"the {horizon}-month horizon: start it earlier or lengthen the horizon.")
        else:
            j, k = problem.investments
            found.append(f"Investments {j + 1} and {k + 1} both fund "
                         f"{initiative_name(model, investments[j]['initiative'])} in {', '.join(problem.segments)} "
                         "in the same months: remove one, or give them different segments or months.")
    return found


def model_lift(model: ModelArtifact, initiative: str) -> dict:
    """The model's lift of ``initiative`` at full effect as an own-estimate body: CSAT and NPS
    mean and sd over its draws (survey points, to one decimal; sd at least 0.1)."""
    column = model.initiatives.index(initiative)
    lift = {}
    for kind in ("csat", "nps"):
        values = model.draws[f"lift_{kind}"][:, column]
        lift[kind] = {"mean": round(float(values.mean()), 1), "sd": max(round(float(values.std()), 1), 0.1)}
    return lift


def addable(model: ModelArtifact, planned: set[str]) -> list[str]:
    """The model's initiatives in the order the "Add an initiative" box offers them: those not
    yet in the plan first (the first of them is the default), then those already in it."""
    return sorted(model.initiatives, key=lambda i: i in planned)


def open_body(body: dict, loaded: tuple[str, int] | None = None) -> None:
    """Make ``body`` the scenario being edited; widgets are re-created from it on the next run.
    ``loaded`` is the (name, version) of the saved scenario it is, None for a new one."""
    st.session_state[BODY] = body
    st.session_state[LOADED] = loaded
    st.session_state[UIDS] = [os.urandom(3).hex() for _ in body["investments"]]
    st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1


def loaded() -> tuple[str, int] | None:
    """(name, version) of the saved scenario the planner holds, None for a new one."""
    return st.session_state.get(LOADED)


def has_unsaved_work() -> bool:
    """Whether the scenario in the planner was changed since it was opened, saved or created."""
    opened = st.session_state.get(OPENED)
    if st.session_state.get(BODY) is None or opened is None or opened[0] != st.session_state.get(GENERATION):
        return False  # not drawn since it was opened: nothing changed
    return st.session_state[BODY] != opened[1]


def _investment_controls(inv: dict, number: int, key: str, model: ModelArtifact, catalogue: dict[str, Initiative],
                         horizon: int, currency: str) -> dict | None:
    """Widgets of investment card ``number`` (1-based, as messages name it); None when the user
    removed it."""
    nominal = model.manifest.initiative_settings[inv["initiative"]].monthly_cost
    with st.container(border=True):
        head, remove = st.columns([6, 1])
        head.markdown(f"**{number}. {literal(initiative_name(model, inv['initiative']))}**")
        if entry := catalogue.get(inv["initiative"]):
            head.caption(literal(entry.description))
        if remove.button("Remove", key=f"{key}_remove", icon=":material/delete:"):
            return None
        segments = st.multiselect("Segments reached", model.segments, default=inv["segments"], key=f"{key}_segments")
        if not segments:
            st.caption(":orange[Choose at least one segment]")
        if inv.get("spend_level") is not None:  # funded at a multiple of each segment's own nominal cost
            level = st.slider("Spend level (× the nominal cost in each segment)", 0.0, 3.0,
                              float(inv["spend_level"]), step=0.05, format="%.2f ×", key=f"{key}_level",
                              help="1 × funds every segment at the initiative's nominal cost there: its share of "
                                   "the platform plus the cost per customer reached.")
            amounts = [f"{segment} {fmt.money(level * model.manifest.nominal_monthly_cost(inv['initiative'], segment), currency)}"
                       for segment in segments]
            if amounts:
                st.caption(literal("A month: " + ", ".join(amounts)))
            spend = {"monthly_spend": None, "spend_level": float(level)}
        else:
            step = max(round(nominal / 20, -2), 100.0)
            amount = st.slider(f"Monthly spend per segment ({currency})", 0.0, float(step * round(3 * nominal / step)),
                               float(inv["monthly_spend"]), step=step, format=fmt.money_column_format(currency),
                               key=f"{key}_spend", help=f"Nominal effort costs {fmt.money(nominal, currency)} per "
                               "segment per month on average; more spend gives a larger lift with diminishing returns.")
            spend = {"monthly_spend": float(amount), "spend_level": None}
        row = st.container(horizontal=True)  # wraps on a narrow column instead of cutting the amounts off
        timing = row.container(horizontal=True, wrap=False, width=2 * MONTH_INPUT_WIDTH + 16)
        # bounded by the longest horizon, not the current one: shortening the horizon must not move it
        start = timing.number_input("Start month", 1, MAX_HORIZON_MONTHS, int(inv["start_month"]),
                                    key=f"{key}_start", help="1 = first forecast month")
        duration = timing.number_input("Funded months", 1, 240, int(inv["duration_months"]), key=f"{key}_duration")
        one_off = row.number_input(f"One-off cost ({currency})", 0.0, None, float(inv["one_off_cost"]),
                                   step=10_000.0, format="%.0f", key=f"{key}_oneoff", width=AMOUNT_INPUT_WIDTH)
        if start > horizon:
            st.caption(f":orange[Start month {start} is after the {horizon}-month horizon]")
        lift = inv.get("lift")
        custom = st.toggle("Own lift estimate (e.g. from a pilot)", value=lift is not None, key=f"{key}_custom",
                           help="Starts from the model's lift of this initiative (mean and sd over its draws).")
        if custom:
            lift = lift or model_lift(model, inv["initiative"])
            cols = st.columns(4)
            lift = {
                "csat": {"mean": cols[0].number_input("CSAT lift (points)", -20.0, 30.0, float(lift["csat"]["mean"]),
                                                      0.5, key=f"{key}_csat_mean"),
                         "sd": cols[1].number_input("± sd (points)", 0.1, 20.0, float(lift["csat"]["sd"]), 0.1,
                                                    key=f"{key}_csat_sd")},
                "nps": {"mean": cols[2].number_input("NPS lift (points)", -30.0, 50.0, float(lift["nps"]["mean"]),
                                                     0.5, key=f"{key}_nps_mean"),
                        "sd": cols[3].number_input("± sd (points) ", 0.1, 30.0, float(lift["nps"]["sd"]), 0.1,
                                                   key=f"{key}_nps_sd")},
            }
    return {"initiative": inv["initiative"], "segments": segments, "start_month": int(start),
            "duration_months": int(duration), "one_off_cost": float(one_off), **spend,
            "lift": lift if custom else None}


def scenario_controls(model: ModelArtifact, catalogue: dict[str, Initiative], currency: str,
                      valuation_area: DeltaGenerator, investments_area: DeltaGenerator) -> dict:
    """Render every control of the scenario being edited (valuation settings and investments in
    the two given containers) and return its updated body."""
    body = current_body(model, catalogue)
    gen = st.session_state[GENERATION]
    with valuation_area:
        valuation = _valuation_controls(body, gen)
    with investments_area:
        investments, uids = _investments_controls(body, gen, model, catalogue, valuation["horizon_months"],
                                                  currency)
    changed_list = uids != st.session_state[UIDS]
    body = {**body, **valuation, "investments": investments}
    st.session_state[BODY], st.session_state[UIDS] = body, uids
    if st.session_state.get(OPENED, (None,))[0] != gen:  # first drawing since it was opened
        st.session_state[OPENED] = (gen, body)
    if changed_list:  # draw the cards again for the new list: the fragment alone when only it is running
        in_fragment_run = bool(getattr(get_script_run_ctx(), "fragment_ids_this_run", None))
        st.rerun(scope="fragment" if in_fragment_run else "app")
    return body


def _valuation_controls(body: dict, gen: int) -> dict:
    row = st.container(horizontal=True, gap="medium")  # wraps the levers onto a second line when narrow
    horizon = row.slider("Horizon (months)", 1, MAX_HORIZON_MONTHS, int(body["horizon_months"]),
                         key=f"pl{gen}_horizon")  # every horizon a scenario file may hold
    rate = row.slider("Discount rate (% per year)", 0.0, 30.0, 100 * body["annual_discount_rate"], 0.5,
                      format="%.1f%%", key=f"pl{gen}_rate")
    margin = row.slider("Gross margin (% of revenue)", 5.0, 100.0, 100 * body["gross_margin"]["default"], 1.0,
                        format="%.0f%%", key=f"pl{gen}_margin")
    value = row.container(width=LEVERS_WIDTH)
    terminal = value.toggle("Terminal value", body["terminal_value"], key=f"pl{gen}_terminal",
                            help="Adds the lifetime value (CLV) of the extra customers still active at the horizon.")
    levers = value.pills("Value levers", ["retention", "arpu", "acquisition"], selection_mode="multi",
                         default=[k for k, on in body["levers"].items() if on], key=f"pl{gen}_levers",
                         format_func={"retention": "Retention", "arpu": "ARPU", "acquisition": "Acquisition"}.get,
                         help="Retention: fewer customers churn. ARPU: revenue per customer rises. "
                              "Acquisition: promoters refer new customers.")
    return {"horizon_months": int(horizon), "annual_discount_rate": round(rate / 100, 6),
            "gross_margin": {**body["gross_margin"], "default": round(margin / 100, 6)},
            "terminal_value": bool(terminal), "levers": {k: k in (levers or []) for k in body["levers"]}}


def _investments_controls(body: dict, gen: int, model: ModelArtifact, catalogue: dict[str, Initiative],
                          horizon: int, currency: str) -> tuple[list[dict], list[str]]:
    investments, uids = [], []
    for uid, inv in zip(st.session_state[UIDS], body["investments"], strict=True):
        edited = _investment_controls(inv, len(investments) + 1, f"pl{gen}_{uid}", model, catalogue, horizon,
                                      currency)
        if edited is not None:
            investments.append(edited)
            uids.append(uid)
    row = st.container(horizontal=True, vertical_alignment="bottom")  # the button wraps below on a narrow column
    planned = {inv["initiative"] for inv in investments}
    options = addable(model, planned)
    # keyed on what is planned, so after an Add the box offers the next initiative not yet in the plan
    choice = row.selectbox("Add an initiative", options, key=f"pl{gen}_add_{'_'.join(sorted(planned))}", width=240,
                           format_func=lambda i: initiative_name(model, i) + (" (in the plan)" if i in planned else ""))
    if row.button("Add", icon=":material/add:", key=f"pl{gen}_add_button"):
        investments.append(new_investment(model, choice))
        uids.append(os.urandom(3).hex())
    return investments, uids
