"""Decisions: the approved scenarios, read-only — a list, and for one decision the scenario version,
the model and data it was valued on, the forecast's quantiles and NPV distribution, its caveats,
who approved it and when. A decision is never edited here: approving a newer version supersedes it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxroi import service
from cxroi.app import charts, state
from cxroi.app import formatting as fmt
from cxroi.app.errors import guard
from cxroi.sim.result import quantile_label
from cxroi.store import Decision
from cxroi.text import literal

CHOICE = "decisions_choice"
#: summary metrics shown, with how their values read: (metric, label, kind)
METRICS = (("npv", "NPV", "money"), ("roi", "ROI", "ratio"), ("pv_spend", "Investment (present value)", "money"),
           ("payback_month", "Payback month", "month"), ("irr", "IRR (per year)", "ratio"))


def _when(decision: Decision) -> str:
    return f"{decision.approved_at:%Y-%m-%d %H:%M} UTC"


def decision_rows(decisions: list[Decision], currency: str) -> pd.DataFrame:
    """One row per decision: id, scenario with its version, median NPV (currency), P(ROI > 0),
    approver, time, status (current or superseded by which) — the columns that fit a laptop
    screen; the model, the expected NPV and the rest are in the decision's detail below."""
    rows = []
    for d in decisions:
        npv = d.forecast.get("summary", {}).get("npv", {})
        rows.append({"Decision": d.id, "Scenario": f"{literal(d.scenario_name)} (v{d.scenario_version})",
                     f"Median NPV ({currency})": fmt.money(npv.get("p50"), currency),
                     "P(ROI > 0)": fmt.percent(d.forecast.get("prob_roi_positive"), 0),
                     "Approved by": literal(d.approved_by), "Approved at": _when(d),
                     "Status": "current" if d.current else f"superseded by {d.superseded_by}"})
    return pd.DataFrame(rows)


def quantile_table(decision: Decision, currency: str) -> pd.DataFrame:
    """The recorded forecast summary: one row per metric, the mean and every recorded quantile,
    formatted in the metric's unit."""
    summary = decision.forecast.get("summary", {})
    quantiles = decision.forecast.get("quantiles", [])
    horizon = decision.forecast.get("horizon_months", 0)
    show = {"money": lambda v: fmt.money(v, currency), "ratio": fmt.ratio,
            "month": lambda v: fmt.payback(v, horizon)}
    rows = []
    for metric, label, kind in METRICS:
        if metric not in summary:
            continue
        values = summary[metric]
        # a mean payback month is not defined when some draws never pay back: the quantiles say it
        row = {"Figure": label, "Mean": "—" if kind == "month" else show[kind](values.get("mean"))}
        row |= {quantile_label(q).upper(): show[kind](values.get(quantile_label(q))) for q in quantiles}
        rows.append(row)
    return pd.DataFrame(rows).set_index("Figure")


def _detail(decision: Decision, currency: str) -> None:
    st.subheader(f"Decision {decision.id}: '{literal(decision.scenario_name)}' version {decision.scenario_version}")
    if not decision.current:
        st.warning(f"Superseded by decision {decision.superseded_by}: a newer version of this scenario was approved.",
                   icon=":material/history:")
    forecast = decision.forecast
    st.markdown(
        f"Approved by **{literal(decision.approved_by)}** ({literal(decision.approver_subject)}) on {_when(decision)}, "
        f"valued on model **{decision.model_id}** (data fingerprint `{decision.data_fingerprint or 'not recorded'}`), "
        f"{forecast.get('n_draws', 0):,} parameter draws over {forecast.get('horizon_months', '—')} months from "
        f"{forecast.get('first_month', '—')}. The record is immutable: it can be superseded, not edited or deleted.")
    st.markdown("**Forecast as approved** (mean and quantiles over the draws)")
    st.table(quantile_table(decision, currency))
    st.caption(f"P(ROI > 0): {fmt.percent(forecast.get('prob_roi_positive'), 0)}.")
    npv = [v for v in forecast.get("per_draw", {}).get("npv", []) if v is not None]
    if npv:
        st.altair_chart(charts.distribution(pd.DataFrame({"value": npv}), f"NPV ({currency})"), width="stretch")
    findings = forecast.get("plausibility") or []
    if findings:
        st.markdown(f"**Plausibility review at approval** ({len(findings)})")
        for finding in findings:
            text = literal(str(finding.get("text", "")))
            if finding.get("severity") == "flag":
                st.warning(text, icon=":material/flag:")
            else:
                st.info(text, icon=":material/rate_review:")
    st.markdown(f"**Caveats recorded with it** ({len(decision.caveats)})")
    if not decision.caveats:
        st.caption("None.")
    for caveat in decision.caveats:
        text = str(caveat.get("text", ""))
        st.text(f"• {text[:1].upper()}{text[1:]}")
    with st.expander("The scenario as approved"):
        st.json(decision.scenario_body, expanded=False)


def decisions() -> None:
    """Render the Decisions page."""
    st.title("Decisions")
    st.markdown("Approved scenarios, as they were approved: each records the scenario version, the model and data it "
                "was valued on, the forecast, its caveats, who approved it and when. Read-only.")
    cfg = state.settings()
    with guard("reading the decisions"):
        records = service.list_decisions(state.context(), state.current_user())
        if not records:
            st.info("No decision yet: open a saved scenario in the Scenario planner and approve it (finance role).")
            return
        st.dataframe(decision_rows(records, cfg.currency), hide_index=True, width="stretch")
        by_id = {d.id: d for d in records}
        chosen = st.selectbox("Decision", list(by_id), key=CHOICE, format_func=lambda i: (
            f"{i}: {by_id[i].scenario_name} — version {by_id[i].scenario_version} ({_when(by_id[i])})"))
        _detail(service.get_decision(state.context(), state.current_user(), chosen), cfg.currency)
