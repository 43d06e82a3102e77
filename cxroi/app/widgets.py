"""Small display pieces used by more than one page."""

from __future__ import annotations

import streamlit as st

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
