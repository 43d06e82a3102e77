"""Track decisions: did a funded initiative deliver what its decision promised? For an approved
decision and a panel that extends its model's training panel: the status with its probabilities,
promised versus realised month by month, the CX lift assumed versus realised, NPV to date and the
updated NPV over the horizon, the pilot results it proposes for the next retraining (never
applied) and the tracking workbook. Reading only: nothing is stored."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from cxroi import service
from cxroi.app import formatting as fmt
from cxroi.app import state, tracking_view
from cxroi.app.charts import MONEY_AXIS
from cxroi.app.errors import guard
from cxroi.app.widgets import Tile, findings_table, metric_tiles
from cxroi.data.readers import load_panel
from cxroi.service.identity import Permission
from cxroi.store import Decision
from cxroi.text import literal
from cxroi.track import Tracking

UPLOAD_TYPES = ["csv", "parquet", "pq", "xlsx", "xls"]
UPLOAD = "Upload a newer panel"
#: the sample panel continued past the shipped model's training window (data/sample/continued)
SAMPLE_CONTINUED = state.ROOT / "data" / "sample" / "continued" / "panel.csv"
RESULTS = "track_results"  #: session key: (decision id, panel key) → Tracking
CHART_METRICS = {"incremental_revenue": "Revenue", "incremental_cash_flow": "Cash flow",
                 "incremental_customers": "Customers"}


def _known_panels() -> dict[str, Path]:
    """Panel files the app can read without an upload: the configured panel and, when shipped,
    the sample's continuation, by the label the page shows."""
    panels = {f"The app's panel ({state.settings().panel_path.name})": state.settings().panel_path}
    if SAMPLE_CONTINUED.exists() and SAMPLE_CONTINUED.resolve() != state.settings().panel_path.resolve():
        panels["Sample panel with six more months (data/sample/continued)"] = SAMPLE_CONTINUED
    return panels


#: panels kept read per session: the known ones and an upload
KEPT_PANELS = 3


def _read(reader: object, name: str, key: tuple) -> tuple[pd.DataFrame | None, list]:
    """A panel read and validated once per session and content ``key`` (the last
    KEPT_PANELS kept)."""
    loaded = st.session_state.setdefault("track_panels", {})
    if key not in loaded:
        if len(loaded) >= KEPT_PANELS:
            loaded.pop(next(iter(loaded)))
        loaded[key] = load_panel(reader, name)
    return loaded[key]


def _file_key(path: Path) -> tuple:
    return str(path), path.stat().st_mtime if path.exists() else 0.0


def _newer_than(path: Path, month: str | None) -> bool:
    """Whether the panel file at ``path`` reaches past ``month`` (YYYY-MM)."""
    panel, _ = _read(path, path.name, _file_key(path))
    return panel is not None and month is not None and f"{panel['period'].max():%Y-%m}" > month


def _choose_panel(model_end: str | None) -> tuple[pd.DataFrame | None, str | None, tuple | None]:
    """The panel chosen or uploaded: (validated panel or None, its name, a key of its content).
    The first known panel with months after ``model_end`` (the decision model's last training
    month) is offered first; without one, the upload."""
    known = _known_panels()
    options = [UPLOAD, *known]
    default = next((i for i, label in enumerate(options[1:], start=1) if _newer_than(known[label], model_end)), 0)
    source = st.radio("Newer panel", options, index=default, horizontal=True,
                      help="A segment × month panel that continues the one the decision's model was trained on: "
                           "the same segments, its months and the months since.")
    if source == UPLOAD:
        upload = st.file_uploader("Panel file", type=UPLOAD_TYPES, key="track_upload")
        if upload is None:
            return None, None, None
        name, key, reader = upload.name, (upload.file_id, upload.name, upload.size), upload
    else:
        path = known[source]
        name = str(path.relative_to(state.ROOT)) if path.is_relative_to(state.ROOT) else path.name
        key, reader = _file_key(path), path
    panel, findings = _read(reader, name, key)
    if panel is None:
        st.error(f"{literal(name)} cannot be used: fix the problems below.", icon=":material/error:")
        findings_table(findings)
        return None, name, None
    return panel, name, key


def _tracking(decision: Decision, panel: pd.DataFrame, name: str, key: tuple) -> Tracking:
    """The tracking of ``decision`` with ``panel``, computed once per session and panel."""
    results = st.session_state.setdefault(RESULTS, {})
    if (decision.id, key) not in results:
        with st.spinner(f"Tracking decision {decision.id} on {literal(name)}…"):
            results[(decision.id, key)] = service.track_decision(state.context(), state.current_user(), decision.id,
                                                                 panel, source=name)
    return results[(decision.id, key)]


def _headline(tracking: Tracking, currency: str) -> None:
    color, icon = tracking_view.STATUS_LOOK[tracking.status]
    st.badge(tracking.status.capitalize(), icon=icon, color=color)
    st.markdown(tracking_view.status_sentence(tracking))
    summary = tracking.summary.set_index("metric")

    def tile(metric: str, label: str, help_text: str) -> Tile:
        row = summary.loc[metric]
        return Tile(label, fmt.money_short(row["realised_mean"], currency), help_text,
                    note=f"promised {fmt.money_short(row['promised_p50'], currency)} (P50)")

    metric_tiles([
        Tile("Months tracked", str(tracking.months_tracked), note=f"{tracking.first_month:%b %Y} to "
                                                                  f"{tracking.last_month:%b %Y}"),
        tile("incremental_revenue", "Extra revenue to date", "Realised: observed minus the counterfactual without "
             "the investment, cumulative from the decision's start (mean over draws)."),
        tile("npv_to_date", "NPV to date", "Incremental cash flow to date, discounted as the decision's NPV."),
        tile("npv_horizon", "NPV over the horizon", "Updated: the NPV to date plus the rest of the horizon forecast "
             "with the assumed lift rescaled to the realised one; promised: the decision's NPV."),
    ])


def _charts(tracking: Tracking, currency: str) -> None:
    st.subheader("Promised versus realised")
    metric = st.radio("Measure", list(CHART_METRICS), format_func=CHART_METRICS.get, horizontal=True,
                      key="track_metric", label_visibility="collapsed")
    customers = metric == "incremental_customers"
    title = "Extra customers (end of month)" if customers else f"Cumulative {CHART_METRICS[metric].lower()} ({currency})"
    st.altair_chart(tracking_view.fan_chart(tracking_view.fan_frame(tracking, metric), title,
                                            ",.0f" if customers else MONEY_AXIS), width="stretch")
    st.caption("Grey: what the decision promised (P10–P90 over its model's draws, median line). Blue: what happened "
               "(observed minus the counterfactual without the investment; 80 % interval of the counterfactual's "
               "draws, median line).")
    st.subheader("CX lift: assumed versus realised")
    lift = tracking_view.lift_frame(tracking)
    if lift.empty:
        st.info("No CX lift could be measured: the treated segments have no survey before and after the start.")
    else:
        st.altair_chart(tracking_view.lift_chart(lift), width="stretch")
        st.caption("Average lift over the reached segments and tracked months, in survey points. 'Vs untreated "
                   "segments' (difference-in-differences) removes market-wide movements and is the one the "
                   "counterfactual uses when there are untreated segments.")


def _details(tracking: Tracking, currency: str) -> None:
    st.subheader("To date")
    st.dataframe(tracking_view.summary_table(tracking, currency), hide_index=True, width="stretch")
    st.subheader("Proposed pilot results")
    if tracking.pilots.empty:
        st.caption("None yet: a realised lift is proposed once a segment reached by one initiative has enough of "
                   "the assumed effect behind it.")
    else:
        st.markdown("The realised lift, scaled to full effect, as pilot results for the next retraining. **Never "
                    "applied here**: an analyst reviews them and passes the file to `cxroi train --pilots`.")
        names = {i: initiative.name for i, initiative in state.catalogue().items()}
        st.dataframe(tracking_view.pilots_table(tracking.pilots, names), hide_index=True, width="stretch")
        from cxroi.track.pilots import pilots_csv

        st.download_button("Proposed pilot results (CSV)", pilots_csv(tracking.pilots),
                           file_name=f"decision_{tracking.decision_id}_pilots.csv", mime="text/csv",
                           icon=":material/science:")
    st.markdown(f"**Caveats** ({len(tracking.caveats)})")
    for caveat in tracking.caveats:
        st.text(f"• {caveat[:1].upper()}{caveat[1:]}")
    if state.current_user().can(Permission.EXPORT):
        from cxroi.export.tracking import tracking_workbook

        st.download_button("Tracking workbook (XLSX): status, promised vs realised by month, lift, pilots, caveats",
                           tracking_workbook(tracking),
                           file_name=f"decision_{tracking.decision_id}_tracking.xlsx", icon=":material/download:",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    with st.expander("How the counterfactual is built"):
        st.markdown(
            "The decision's own model is run forward from the customers observed at the decision's start, without "
            "the investment: its CSAT/NPS path is the observed one with the realised lift taken out (so a market-wide "
            "dip moves it too and is not charged to the investment), with the model's month-to-month noise drawn "
            "for churn, acquisition and revenue. Realised = observed − counterfactual, summed over the reached "
            "segments; its spread is the model's uncertainty plus one month's noise.")


def track() -> None:
    """Render the Track decisions page."""
    st.title("Track decisions")
    st.markdown("Did a funded initiative deliver what its decision promised? Choose an approved decision and a panel "
                "with the months since it started.")
    cfg = state.settings()
    with guard("tracking the decision"):
        records = service.list_decisions(state.context(), state.current_user())
        if not records:
            st.info("No decision yet: approve a saved scenario in the Scenario planner (finance role) first.")
            return
        by_id = {d.id: d for d in records}
        chosen = st.selectbox("Decision", list(by_id), key="track_decision", format_func=lambda i: (
            f"{i}: {by_id[i].scenario_name} — version {by_id[i].scenario_version}, approved "
            f"{by_id[i].approved_at:%Y-%m-%d}" + ("" if by_id[i].current else " (superseded)")))
        window = state.load_model(by_id[chosen].model_id).manifest.training_window
        panel, name, key = _choose_panel(window.end if window else None)
        if panel is None or key is None:
            return
        tracking = _tracking(by_id[chosen], panel, name, key)
        _headline(tracking, cfg.currency)
        _charts(tracking, cfg.currency)
        _details(tracking, cfg.currency)
