"""Small display pieces used by more than one page."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from cxroi.app.jobs import Job
from cxroi.data.schema import Finding, findings_frame


def findings_table(findings: list[Finding]) -> None:
    """Every validation finding in one table (errors first), with a count line above it."""
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    st.markdown(f"**{errors} error(s), {warnings} warning(s)**")
    frame = findings_frame(findings)
    frame["row"] = frame["row"].astype("Int64")
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "severity": st.column_config.TextColumn("Severity"),
            "row": st.column_config.NumberColumn("Row", help="1-based data row (header excluded)"),
            "column": st.column_config.TextColumn("Column"),
            "problem": st.column_config.TextColumn("Problem", width="large"),
        },
    )


def health_table(health: dict) -> None:
    """The health-gate checks of a model (name, value, threshold, passed)."""
    checks = health.get("checks") or []
    if not checks:
        st.caption("No health checks recorded for this model.")
        return
    st.dataframe(
        checks,
        hide_index=True,
        column_order=["name", "value", "rule", "threshold", "passed"],
        column_config={
            "name": st.column_config.TextColumn("Check"),
            "value": st.column_config.NumberColumn("Value", format="%.4g"),
            "rule": st.column_config.TextColumn("Rule"),
            "threshold": st.column_config.NumberColumn("Threshold", format="%.4g"),
            "passed": st.column_config.CheckboxColumn("Passed"),
        },
    )


JOB_LABELS = {"running": "running…", "succeeded": "finished", "failed": "failed",
              "interrupted": "interrupted (the app restarted)"}


def job_progress(job: Job, title: str, polling: bool) -> str:
    """A background job's state and the tail of its output; returns its status. While
    ``polling`` (the caller refreshes as a fragment), the whole page reruns once the job ends."""
    status = job.status()
    if polling and status != "running":
        st.rerun()
    state = {"running": "running", "succeeded": "complete"}.get(status, "error")
    with st.status(f"{title} {JOB_LABELS[status]} — started {job.started_at:%Y-%m-%d %H:%M} UTC", state=state,
                   expanded=status != "succeeded"):
        st.code(job.log_tail() or "waiting for output…", language=None)
    return status


def refreshing(render: Callable[[bool], None], polling: bool) -> None:
    """Call ``render(polling)`` as a fragment that refreshes every 2 s while ``polling``."""
    st.fragment(render, run_every=2.0 if polling else None)(polling)
