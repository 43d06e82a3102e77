"""Audit trail (admins): who did what to which object when, newest first, filtered by time, user
and action. Read through the service, which checks the role again."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from cxroi.app import state
from cxroi.app.errors import guard
from cxroi.service.audit import audit_trail

ACTIONS = ("sign_in", "save", "delete", "approve", "export", "promote", "retrain", "upload")
MAX_ROWS = 5000


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def audit() -> None:
    """Render the Audit trail page."""
    st.title("Audit trail")
    st.caption("Every change — sign-ins, saves, approvals, exports, promotions, retraining, deletions — with "
               "who made it and when (UTC). The trail is append-only: nobody can edit or remove its rows.")
    with guard("reading the audit trail"):
        today = datetime.now(UTC).date()
        cols = st.columns(4)
        since = cols[0].date_input("From (UTC)", value=today - timedelta(days=30), max_value=today)
        until = cols[1].date_input("To (UTC, inclusive)", value=today, max_value=today)
        who = cols[2].text_input("User (name or subject)", max_chars=200).strip()
        action = cols[3].selectbox("Action", ("any", *ACTIONS))
        rows = audit_trail(state.context(), state.current_user(), since=_start_of(since),
                           until=_start_of(until + timedelta(days=1)), by=who or None,
                           action=None if action == "any" else action, limit=MAX_ROWS)
        st.caption(f"{len(rows):,} rows, newest first" + (f" (the latest {MAX_ROWS:,})" if len(rows) == MAX_ROWS
                                                           else ""))
        frame = pd.DataFrame([{"at": row.at, "user": row.user, "subject": row.subject, "action": row.action,
                               "object": row.object_type, "id": row.object_id or "",
                               "detail": json.dumps(row.detail, ensure_ascii=False, default=str)} for row in rows],
                             columns=["at", "user", "subject", "action", "object", "id", "detail"])
        text = st.column_config.TextColumn
        # widths that fit a laptop screen; the detail (JSON, often long) opens in full on a double-click
        st.dataframe(frame, hide_index=True, width="stretch", column_config={
            "at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss", width=140),
            "user": text("User", width=90), "subject": text("Subject", width=100), "action": text("Action", width=65),
            "object": text("Object", width=70), "id": text("Which", width=60), "detail": text("Detail", width=190)})
        st.caption("Double-click a cell to read it whole; the table's download button (top right) saves every row.")
