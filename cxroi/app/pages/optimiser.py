"""Optimiser: a budget in, the recommended allocation across initiatives × segments out, plus the
efficient frontier (budget → NPV with its P10–P90 band)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxroi.app import charts, results, scenario_form, state
from cxroi.app import formatting as fmt
from cxroi.app.errors import guard
from cxroi.sim.optimise import AllocationProblem, objective_named
from cxroi.sim.scenario import MAX_HORIZON_MONTHS

PLAN, FRONTIER = "optimiser_plan", "optimiser_frontier"
OBJECTIVES = {"mean": "Highest expected NPV", "cvar": "Protect the downside (mean of the worst 10% of outcomes)",
              "prob": "Highest expected NPV with P(ROI > 0) above a floor"}
FRONTIER_SHARES = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5)  # of the budget


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
        if st.session_state.get(PLAN, (None,))[0] != model.model_id:
            return
        _, settings, plan = st.session_state[PLAN]
        if not plan.feasible:
            st.warning("No allocation reaches the P(ROI > 0) floor at this budget; the best one found is shown.")
        if plan.spent == 0:
            st.info("No allocation adds value at this budget: the best plan is to spend nothing.")
            return
        st.subheader(f"Recommended allocation: {fmt.money(plan.spent, cur)} of the "
                     f"{fmt.money(settings['budget'], cur)} budget")
        results.show_metrics(plan.result, cur)
        names = {i: model.manifest.initiative_name(i) for i in model.initiatives}
        table = plan.table()
        table = table[table["total_spend"] >= 1.0].assign(initiative=lambda t: t["initiative"].map(names))
        table["share"] *= 100
        st.altair_chart(charts.allocation_chart(table.rename(columns={"total_spend": "amount"}),
                                                f"Total spend over the plan ({cur})", model.segments),
                        width="stretch")
        with st.expander("Allocation table", expanded=True):
            st.dataframe(table.sort_values("total_spend", ascending=False), hide_index=True, width="stretch",
                         column_config={
                             "initiative": "Initiative", "segment": "Segment",
                             "monthly_spend": st.column_config.NumberColumn(
                                 f"Monthly spend ({cur})", format=fmt.money_column_format(cur)),
                             "one_off_cost": st.column_config.NumberColumn(
                                 f"One-off cost ({cur})", format=fmt.money_column_format(cur)),
                             "total_spend": st.column_config.NumberColumn(
                                 f"Total spend ({cur})", format=fmt.money_column_format(cur)),
                             "share": st.column_config.NumberColumn("Share of spend", format="%.1f%%")})
        if st.button("Open this plan in the Scenario planner", icon=":material/tune:"):
            scenario_form.open_body({**plan.result.scenario.to_dict(), "name": "Optimised allocation"})
            st.success("Opened: go to the Scenario planner to fine-tune it.")
        st.subheader("Efficient frontier")
        problem = _problem(model, settings)
        if st.button("Compute the efficient frontier", icon=":material/show_chart:"):
            budgets = sorted({share * settings["budget"] for share in FRONTIER_SHARES
                              if share * settings["budget"] >= problem.minimum_budget})
            bar = st.progress(0.0, text="Optimising each budget…")
            frontier = problem.frontier(budgets, progress=lambda d, t, m: bar.progress(d / t, text=m))
            bar.empty()
            st.session_state[FRONTIER] = frontier
        if (frontier := st.session_state.get(FRONTIER)) is not None:
            frame = pd.DataFrame({"budget": frontier["budget"], "p10": frontier["npv_p10"],
                                  "p50": frontier["npv_p50"], "p90": frontier["npv_p90"]})
            st.altair_chart(charts.band_chart(frame, "budget", f"Total budget ({cur})", f"NPV ({cur})",
                                              x_format=charts.MONEY_AXIS), width="stretch")
            st.caption("Median NPV and P10–P90 band of the best plan found at each budget.")
            money = fmt.SIGNED_MONEY_COLUMN
            number = st.column_config.NumberColumn
            st.dataframe(frontier.assign(prob_roi_positive=frontier["prob_roi_positive"] * 100), hide_index=True,
                         width="stretch", column_order=["budget", "npv_mean", "npv_p10", "npv_p50", "npv_p90",
                                                        "prob_roi_positive"],
                         column_config={"budget": st.column_config.NumberColumn(
                                            f"Budget ({cur})", format=fmt.money_column_format(cur)),
                                        "npv_mean": number(f"Expected NPV ({cur})", format=money),
                                        "npv_p10": number(f"NPV P10 ({cur})", format=money),
                                        "npv_p50": number(f"NPV P50 ({cur})", format=money),
                                        "npv_p90": number(f"NPV P90 ({cur})", format=money),
                                        "prob_roi_positive": st.column_config.NumberColumn("P(ROI > 0)",
                                                                                           format="%.0f%%")})
