"""Optimiser: a budget in, the recommended allocation across initiatives × segments out — each
initiative with a one-off funded properly or not at all, one-offs shown once per initiative —
beside the plan in the Scenario planner, with response curves and the efficient frontier
(budget → NPV with its P10–P90 band, its concavity checked and any exception explained)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from cxroi.app import charts, results, scenario_form, state
from cxroi.app import formatting as fmt
from cxroi.app.errors import guard
from cxroi.errors import ScenarioError
from cxroi.sim.optimise import Allocation, AllocationProblem, efficient_frontier, objective_named
from cxroi.sim.optimise.problem import MIN_EFFECTIVE_SHARE
from cxroi.sim.plan import planned_monthly_spend
from cxroi.sim.response import cell_curves
from cxroi.sim.scenario import MAX_HORIZON_MONTHS, Scenario, parse_scenario
from cxroi.text import literal

PLAN, FRONTIER, CONFIRM = "optimiser_plan", "optimiser_frontier", "optimiser_confirm_open"
OBJECTIVES = {"mean": "Highest expected NPV", "cvar": "Protect the downside (mean of the worst 10% of outcomes)",
              "prob": "Highest expected NPV with P(ROI > 0) above a floor"}
FRONTIER_SHARES = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)  # of the budget: eight budgets
OPENED_NAME = "Optimised allocation"


def _problem_settings(model, currency: str) -> dict:
    names = {i: model.manifest.initiative_name(i) for i in model.initiatives}
    with st.form("optimiser"):
        cols = st.columns([1, 1, 2])
        budget = cols[0].number_input(f"Total budget ({currency})", min_value=0.0, value=3_000_000.0,
                                      step=100_000.0, format="%.0f",
                                      help="The most the plan may spend: monthly spend plus the one-off costs of "
                                           "the initiatives it funds. It spends less when more would not pay.")
        horizon = cols[1].number_input("Horizon (months)", 1, MAX_HORIZON_MONTHS, 36, step=6)
        objective = cols[2].radio("Objective", list(OBJECTIVES), format_func=OBJECTIVES.get)
        floor = st.slider("Floor on P(ROI > 0) (used by the third objective)", 50, 99, 80, format="%d%%")
        initiatives = st.multiselect("Initiatives offered", model.initiatives, default=model.initiatives,
                                     format_func=names.get)
        segments = st.multiselect("Segments", model.segments, default=model.segments)
        submitted = st.form_submit_button("Find the best allocation", type="primary", icon=":material/auto_graph:")
    if submitted and not (initiatives and segments):
        st.warning("Choose at least one initiative and one segment.")
        return {}
    settings = {"budget": float(budget), "horizon_months": int(horizon), "objective": objective,
                "floor": floor / 100, "initiatives": tuple(initiatives), "segments": tuple(segments)}
    return settings if submitted else {}


def _problem(model, settings: dict) -> AllocationProblem:
    return AllocationProblem.of(model, objective_named(settings["objective"], floor=settings["floor"]),
                                initiatives=settings["initiatives"] or None, segments=settings["segments"] or None,
                                horizon_months=settings["horizon_months"])


def plan_body(plan: Allocation, name: str = OPENED_NAME) -> dict:
    """The plan as a planner scenario body: monthly spends rounded to whole currency, lines under
    1 left out, the segments an initiative funds at the same spend on one card, and each
    initiative's one-off cost once, on its first card."""
    scenario = plan.result.scenario
    cards: dict[tuple[str, float], list[str]] = {}
    for (initiative, segment), spend in zip(plan.cells, plan.monthly_spend, strict=True):
        if round(float(spend)) >= 1:
            cards.setdefault((initiative, float(round(spend))), []).append(segment)
    one_offs, investments = plan.funded_one_offs(), []
    first = scenario.investments[0]
    for (initiative, spend), segments in cards.items():
        investments.append({"initiative": initiative, "segments": segments, "start_month": first.start_month,
                            "duration_months": first.duration_months, "monthly_spend": spend,
                            "one_off_cost": one_offs.pop(initiative, 0.0)})
    return parse_scenario({**scenario.to_dict(), "name": name, "investments": investments}).to_dict()


def _open_in_planner(plan: Allocation) -> None:
    scenario_form.open_body(plan_body(plan))
    st.session_state.pop(CONFIRM, None)
    st.success("Opened: go to the Scenario planner to fine-tune it.", icon=":material/check:")


def _open_button(plan: Allocation) -> None:
    """Open the plan in the planner, asking first when that would replace unsaved planner work."""
    if st.button("Open this plan in the Scenario planner", icon=":material/tune:"):
        if scenario_form.has_unsaved_work():
            st.session_state[CONFIRM] = True
        else:
            _open_in_planner(plan)
    if st.session_state.get(CONFIRM):
        body = st.session_state.get(scenario_form.BODY) or {}
        st.warning(f"The Scenario planner holds unsaved changes to '{literal(body.get('name', 'its scenario'))}'. "
                   "Opening this plan replaces them.", icon=":material/warning:")
        swap, keep = st.columns(2)
        if swap.button("Replace the planner's scenario", type="primary", icon=":material/swap_horiz:"):
            _open_in_planner(plan)
        if keep.button("Keep my planner work", icon=":material/undo:"):
            st.session_state.pop(CONFIRM, None)
            st.rerun()


def _current_plan(model) -> Scenario | None:
    """The scenario in the Scenario planner, when there is one that can be valued on ``model``."""
    body = st.session_state.get(scenario_form.BODY)
    if not body or scenario_form.problems(body, model):
        return None
    try:
        scenario = parse_scenario(body, "the planner's scenario")
        scenario.validate_for(model)
    except ScenarioError:  # a half-edited plan is not compared
        return None
    return scenario


def spend_lines(scenario: Scenario, model, names: dict[str, str]) -> pd.DataFrame:
    """Monthly spend (currency per month) per initiative and segment of a scenario, summed over
    its investments, one-offs apart: columns initiative, segment, monthly_spend, one_off_cost."""
    rows = [{"initiative": names[inv.initiative], "segment": s, "monthly_spend": planned_monthly_spend(model, inv, s),
             "one_off_cost": 0.0} for inv in scenario.investments for s in inv.segments]
    one_offs = {}
    for inv in scenario.investments:
        one_offs[names[inv.initiative]] = one_offs.get(names[inv.initiative], 0.0) + inv.one_off_cost
    frame = pd.DataFrame(rows, columns=["initiative", "segment", "monthly_spend", "one_off_cost"])
    frame = frame.groupby(["initiative", "segment"], as_index=False).sum()
    one_off = pd.DataFrame([{"initiative": i, "segment": "one-off", "monthly_spend": 0.0, "one_off_cost": c}
                            for i, c in one_offs.items() if c > 0], columns=frame.columns)
    return pd.concat([frame, one_off], ignore_index=True) if len(one_off) else frame


def _compare_with_current(model, plan: Allocation, currency: str, names: dict[str, str]) -> None:
    """The planner's plan and the optimised one side by side, with the lines that change."""
    current = _current_plan(model)
    st.subheader("Current plan vs optimised")
    if current is None:
        st.caption("The Scenario planner holds no plan that can be valued: build one there to compare it here.")
        return
    mine = state.simulate(model, current)
    rows = [results.comparison_row(f"Current plan: {current.name}", mine, currency),
            results.comparison_row("Optimised", plan.result, currency)]
    table = pd.DataFrame(rows).set_index("Scenario")
    current_spend = sum(inv.one_off_cost + sum(planned_monthly_spend(model, inv, s) for s in inv.segments)
                        * inv.duration_months for inv in current.investments)
    table.insert(0, f"Spend, undiscounted ({currency})", [current_spend, plan.spent])
    shown = table.copy()
    for column in (c for c in shown.columns if f"({currency})" in c):
        shown[column] = shown[column].map(lambda v: fmt.money(v, currency))
    shown.index = shown.index.map(literal)
    st.table(shown.T.astype(str))  # one column per plan, rows of mixed kinds
    if any(table[c].nunique() > 1 for c in ("Horizon (months)", "Discount rate (per year)", "Gross margin",
                                             "Terminal value", "Value levers")):
        st.warning("Not like for like: the two plans are valued on different terms (see the rows above).",
                   icon=":material/balance:")
    before = spend_lines(current, model, names).set_index(["initiative", "segment"])
    after = spend_lines(plan.result.scenario, model, names).set_index(["initiative", "segment"])
    after["one_off_cost"] = 0.0
    for initiative, cost in plan.funded_one_offs().items():
        if cost > 0:
            after.loc[(names[initiative], "one-off"), ["monthly_spend", "one_off_cost"]] = [0.0, cost]
    after = after.groupby(level=[0, 1]).sum()
    changes = before.merge(after, how="outer", left_index=True, right_index=True,
                           suffixes=("_current", "_optimised")).fillna(0.0)
    changes["change"] = (changes["monthly_spend_optimised"] + changes["one_off_cost_optimised"]
                         - changes["monthly_spend_current"] - changes["one_off_cost_current"])
    changes = changes[changes["change"].abs() >= 1.0].reset_index()
    if changes.empty:
        st.caption("The optimised plan funds the same lines as the current plan.")
        return
    changes["what"] = np.where(changes["segment"] == "one-off", "one-off cost", "monthly spend")
    changes["current"] = changes["monthly_spend_current"] + changes["one_off_cost_current"]
    changes["optimised"] = changes["monthly_spend_optimised"] + changes["one_off_cost_optimised"]
    money = st.column_config.NumberColumn
    st.markdown("**What changes** (monthly spend per segment; one-off costs once per initiative)")
    st.dataframe(changes[["initiative", "segment", "what", "current", "optimised", "change"]]
                 .sort_values("change", key=abs, ascending=False), hide_index=True, width="stretch",
                 column_config={"initiative": "Initiative", "segment": "Segment", "what": "Line",
                                "current": money(f"Current ({currency})", format=fmt.money_column_format(currency)),
                                "optimised": money(f"Optimised ({currency})", format=fmt.money_column_format(currency)),
                                "change": money(f"Change ({currency})", format=fmt.SIGNED_MONEY_COLUMN)})


def _allocation(model, plan: Allocation, currency: str, names: dict[str, str]) -> None:
    """The recommended plan: headline, per-initiative table (one-offs once), chart and lines."""
    by_initiative = plan.initiatives_table().assign(initiative=lambda t: t["initiative"].map(names))
    by_initiative["share"] *= 100
    # how many segments, not their names: the names would push the one-off off a laptop screen
    by_initiative["segments"] = by_initiative["segments"].str.split(", ").map(len)
    money = st.column_config.NumberColumn
    column_format = fmt.money_column_format(currency)
    st.markdown("**By initiative** — a one-off cost is paid once for the initiative, not by one of its segments")
    st.dataframe(by_initiative, hide_index=True, width="stretch", column_config={
        "initiative": "Initiative", "segments": money("Segments", help="Segments funded: see the chart below and "
                                                      "the monthly spend per segment"),
        "monthly_spend": money("Monthly spend", format=column_format, help="Over all the segments it funds"),
        "one_off_cost": money("One-off", format=column_format), "total_spend": money("Total spend", format=column_format),
        "share": money("Share of spend", format="%.1f%%")})
    lines = pd.DataFrame({"initiative": [names[i] for i, _ in plan.cells], "segment": [s for _, s in plan.cells],
                          "monthly_spend": plan.monthly_spend})
    lines = lines[lines["monthly_spend"] >= 1.0]
    lines["amount"] = lines["monthly_spend"] * plan.duration
    st.altair_chart(charts.allocation_chart(lines, f"Running spend over the plan ({currency})", model.segments),
                    width="stretch")
    st.caption(f"Every funded segment of an initiative with a one-off gets at least {MIN_EFFECTIVE_SHARE:.0%} of its "
               "nominal monthly cost: funding an initiative means funding it properly, or not at all.")
    with st.expander("Monthly spend per segment", expanded=False):
        st.dataframe(lines.drop(columns=["amount"]).sort_values("monthly_spend", ascending=False), hide_index=True,
                     width="stretch", column_config={"initiative": "Initiative", "segment": "Segment",
                                                     "monthly_spend": money(f"Monthly spend ({currency})",
                                                                            format=column_format)})


def _response(model, problem: AllocationProblem, plan: Allocation, currency: str, names: dict[str, str]) -> None:
    """Response curves of the funded initiatives in every segment they may reach, with the plan's
    spend marked, and the marginal ROI there."""
    funded = list(plan.initiatives_table()["initiative"]) or list(problem.initiatives)
    st.subheader("Response curves")
    initiative = st.selectbox("Initiative", funded, format_func=names.get, key="optimiser_response_initiative")
    mine = [k for k, (i, _) in enumerate(problem.cells) if i == initiative]
    terms = replace(problem.terms, cells=tuple(problem.cells[k] for k in mine))
    curves, marginal = cell_curves(model, terms, plan.monthly_spend[mine])
    st.altair_chart(charts.response_chart(curves, f"Monthly spend in the segment ({currency})",
                                          f"NPV ({currency})", model.segments), width="stretch")
    st.caption("Median NPV and P10–P90 band of the initiative on its own in each segment, running spend counted and "
               "the one-off not (it is paid once for the initiative); the dots mark the optimised spend. "
               "Marginal ROI: expected NPV gained per extra unit of spend there, in present value.")
    _marginal_table(marginal, currency)


def _marginal_table(marginal: pd.DataFrame, currency: str) -> None:
    money = st.column_config.NumberColumn
    st.dataframe(marginal.assign(marginal_roi=marginal["marginal_roi"] * 100)[
        ["segment", "planned_spend", "nominal_cost", "npv_mean", "marginal_roi"]], hide_index=True, width="stretch",
        column_config={"segment": "Segment",
                       "planned_spend": money(f"Monthly spend ({currency})", format=fmt.money_column_format(currency)),
                       "nominal_cost": money(f"Nominal cost ({currency}/month)",
                                             format=fmt.money_column_format(currency)),
                       "npv_mean": money(f"Expected NPV there ({currency})", format=fmt.SIGNED_MONEY_COLUMN),
                       "marginal_roi": money("Marginal ROI", format="%.0f%%")})


def _frontier(problem: AllocationProblem, settings: dict, currency: str, names: dict[str, str]) -> None:
    st.subheader("Efficient frontier")
    if st.button("Compute the efficient frontier", icon=":material/show_chart:"):
        budgets = sorted({share * settings["budget"] for share in FRONTIER_SHARES
                          if share * settings["budget"] >= problem.minimum_budget})
        bar = st.progress(0.0, text="Optimising each budget…")
        try:
            st.session_state[FRONTIER] = efficient_frontier(problem, budgets,
                                                            progress=lambda d, t, m: bar.progress(d / t, text=m))
        finally:
            bar.empty()
    frontier = st.session_state.get(FRONTIER)
    if frontier is None:
        return
    table = frontier.table
    frame = pd.DataFrame({"budget": table["budget"], "p10": table["npv_p10"], "p50": table["npv_p50"],
                          "p90": table["npv_p90"], "dent": table["not_concave_because"] != ""})
    st.altair_chart(charts.frontier_chart(frame, f"Total budget ({currency})", f"NPV ({currency})"), width="stretch")
    st.caption("Median NPV and P10–P90 band of the best plan found at each budget. The frontier never falls: a plan "
               "that fits a budget fits every larger one.")
    if frontier.concave:
        st.success("Diminishing returns hold over these budgets: each extra unit of budget adds less expected value "
                   "than the one before (the frontier is concave).", icon=":material/trending_down:")
    for kink in frontier.kinks:
        entering = ", ".join(names.get(i, i) for i in kink.entering)
        opening = ", ".join(f"{names.get(i, i)} in {s}" for i, s in kink.opening)
        held = ", ".join(f"{names.get(i, i)} in {s}" for i, s in kink.held)
        entered = ", ".join(names.get(i, i) for i in kink.entered)
        why = (f"the budget first affords {entering} and its one-off cost (lumpy one-offs)" if kink.entering
               else f"{entered} is first funded at this budget: its one-off cost and minimum spend take money from "
               "the other lines, which the next budget gives back (lumpy one-offs)" if kink.entered
               else f"the budget first affords {opening} at its minimum effective spend (lumpy minimums)"
               if kink.opening else f"{held} is held at its minimum effective spend here and grows beyond it at the "
               "next budget (lumpy minimums)" if kink.held
               else "the plans on either side fund different initiatives" if kink.leaving
               else "the search at this budget may have stopped short of the best plan")
        st.warning(f"Not concave after {fmt.money(kink.budget, currency)}: each extra unit of budget adds "
                   f"{kink.slope_after:,.2f} of expected value after it against {kink.slope_before:,.2f} before, "
                   f"because {why}.", icon=":material/trending_up:")
    number = st.column_config.NumberColumn
    money = fmt.SIGNED_MONEY_COLUMN
    shown = table.assign(prob_roi_positive=table["prob_roi_positive"] * 100,
                         initiatives=[", ".join(names.get(i, i) for i in row.split(", ") if i)
                                      for row in table["initiatives"]])
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_order=["budget", "spent", "npv_mean", "npv_p10", "npv_p50", "npv_p90", "marginal_value",
                               "prob_roi_positive", "initiatives"],
                 column_config={"budget": number(f"Budget ({currency})", format=fmt.money_column_format(currency)),
                                "spent": number(f"Spent ({currency})", format=fmt.money_column_format(currency)),
                                "npv_mean": number(f"Expected NPV ({currency})", format=money),
                                "npv_p10": number(f"NPV P10 ({currency})", format=money),
                                "npv_p50": number(f"NPV P50 ({currency})", format=money),
                                "npv_p90": number(f"NPV P90 ({currency})", format=money),
                                "marginal_value": number("Value per extra unit of budget", format="%.2f"),
                                "prob_roi_positive": number("P(ROI > 0)", format="%.0f%%"),
                                "initiatives": "Initiatives funded"})


def optimiser() -> None:
    """Render the Optimiser page."""
    st.title("Optimiser")
    st.markdown("Enter a budget: the optimiser spreads it across initiatives and segments to get the most value, "
                "the plan is then valued on every parameter draw of the model.")
    cfg = state.settings()
    cur = cfg.currency
    with guard("optimising the budget"):
        model = state.champion_or_notice()
        if model is None:
            return
        settings = _problem_settings(model, cur)
        if settings:
            bar = st.progress(0.0, text="Searching…")
            try:
                plan = _problem(model, settings).solve(
                    settings["budget"], n_random_starts=1,
                    progress=lambda done, total, message: bar.progress(done / total, text=message))
            finally:
                bar.empty()
            st.session_state[PLAN] = (model.model_id, settings, plan)
            st.session_state.pop(FRONTIER, None)
            st.session_state.pop(CONFIRM, None)
        if st.session_state.get(PLAN, (None,))[0] != model.model_id:
            return
        _, settings, plan = st.session_state[PLAN]
        if not plan.feasible:
            st.warning("No allocation reaches the P(ROI > 0) floor at this budget; the best one found is shown.")
        if plan.spent == 0:
            st.info("No allocation adds value at this budget: the best plan is to spend nothing.")
            return
        names = {i: model.manifest.initiative_name(i) for i in model.initiatives}
        st.subheader(f"Recommended allocation: {fmt.money(plan.spent, cur)} of the "
                     f"{fmt.money(settings['budget'], cur)} budget")
        results.show_metrics(plan.result, cur)
        _allocation(model, plan, cur, names)
        _open_button(plan)
        _compare_with_current(model, plan, cur, names)
        problem = _problem(model, settings)
        _response(model, problem, plan, cur, names)
        _frontier(problem, settings, cur, names)
