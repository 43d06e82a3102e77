"""Subscriptions + survey answers (+ spend) → the segment × month panel, on any engine.

The shapes companies keep: a subscriptions (contracts) table — customer, segment, start date,
end date, monthly recurring revenue —, a survey answers table — customer, time answered, CSAT
1–5 and/or NPS 0–10 — and optionally a CX spend ledger. Both tables are checked record by record
(:mod:`cxroi.data.record_checks`), then aggregated by the SQL of :mod:`cxroi.data.panel_sql`
inside the engine that holds them; the rules are documented there and in data/README.md.

The panel covers the months from the first to the last month with a survey answer.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cxroi.data import panel_sql, record_checks
from cxroi.data.aggregate import SpendKind, spend_join, spend_step
from cxroi.data.engine import Engine, source_label
from cxroi.data.panel_build import Counted, Progress, Steps, aggregate_on, has_errors, prefixed
from cxroi.data.record_checks import ColumnSpec, RowRule, TableSpec, inspect
from cxroi.data.schema import Finding
from cxroi.data.spend_input import AMOUNT, SEGMENT
from cxroi.data.sql_dialect import Dialect, month_start, quote

_ID = ColumnSpec(None, "an id", ("text", "number"))
_DATE = ColumnSpec("date", "a date (YYYY-MM-DD)", ("date", "text"))
_ANSWER = ColumnSpec("double", "a number", ("number", "text"), required_value=False)
#: how the panel names records that no longer exist after aggregation
PANEL = "the panel"


def subscription_spec(d: Dialect) -> TableSpec:
    """Subscriptions: customer_id, segment, start_date, end_date (empty: still running), mrr
    (monthly recurring revenue, currency per month)."""
    return TableSpec(
        title="subscriptions",
        columns={"customer_id": _ID, "segment": SEGMENT, "start_date": _DATE,
                 "end_date": ColumnSpec("date", "a date (YYYY-MM-DD) or empty", ("date", "text"), required_value=False),
                 "mrr": AMOUNT},
        rules=(
            RowRule("segment", "segment = ''", "segment is empty"),
            RowRule("end_date", "end_date < start_date", "ends on {value}, before it starts"),
            RowRule("mrr", "mrr < 0", "mrr {value} is negative"),
        ),
        key=("customer_id", "start_date"),
        subject=f"'customer ' || CAST(customer_id AS {d.text})",
        repeated="{subject}: {count} subscriptions start on {key} (rows {rows})",
    )


def answer_spec(d: Dialect) -> TableSpec:
    """Survey answers: customer_id, answered_at (date or time, UTC), csat (1–5) and/or nps (0–10)."""
    return TableSpec(
        title="survey answers",
        columns={"customer_id": _ID,
                 "answered_at": ColumnSpec("timestamp", "a date or a date and time", ("date", "text")),
                 "csat": _ANSWER, "nps": _ANSWER},
        rules=(
            RowRule("csat", "csat NOT IN (1, 2, 3, 4, 5)", "'{value}' is not a CSAT answer (whole number 1–5, or empty)"),
            RowRule("nps", "nps NOT IN (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)",
                    "'{value}' is not an NPS answer (whole number 0–10, or empty)"),
            RowRule("csat, nps", f"{quote('csat__raw')} IS NULL AND {quote('nps__raw')} IS NULL",
                    "no answer (csat and nps are both empty)"),
        ),
        key=("customer_id", "answered_at"),
        subject=f"'customer ' || CAST(customer_id AS {d.text})",
        repeated="{subject}: {count} answers at {key} (rows {rows})",
    )


def _outside_findings(engine: Engine, match: str, count: int, label: str) -> list[Finding]:
    """Warnings for answers of customers without a subscription in force that month (not
    counted): the first MAX_LISTED with their row, then a count of the rest."""
    rows = engine.rows(panel_sql.unmatched_answers(match, record_checks.MAX_LISTED))
    findings = [Finding("warning", int(row), "customer_id",
                        f"{label}: customer {customer} has no subscription in force in {month:%Y-%m}; not counted")
                for row, customer, month in rows]
    if count > len(rows):
        findings.append(Finding("warning", None, "customer_id",
                                f"{label}: {count - len(rows)} more answer(s) outside any subscription; not counted"))
    return findings


def panel_from_subscriptions(
    subscriptions: str | Path,
    answers: str | Path,
    spend: str | Path | None = None,
    spend_kind: SpendKind = "ledger",
    progress: Progress | None = None,
    engine: str = "duckdb",
    url: str | None = None,
) -> tuple[pd.DataFrame | None, list[Finding]]:
    """Check subscriptions and survey answers (files, tables or queries) and aggregate them into
    a validated panel on ``engine`` (see :func:`cxroi.data.engine.open_engine` for ``url``).

    ``spend`` is a spend ledger (``spend_kind`` 'ledger') or spend table ('spend'). Returns
    (panel, findings): the panel is None when any error was found; findings name the row of the
    source they concern (subscriptions unprefixed, the others prefixed with their label).
    """
    subscriptions_label, answers_label = source_label(str(subscriptions)), source_label(str(answers))

    def count(eng: Engine, steps: Steps) -> Counted:
        with steps.step(f"Checking {subscriptions_label}"):
            subs, _, n_subscriptions, findings = inspect(
                eng, str(subscriptions), "subscriptions", lambda _c: subscription_spec(eng.dialect))
        with steps.step(f"Checking {answers_label}"):
            said, _, n_answers, answer_findings = inspect(eng, str(answers), "answers", lambda _c: answer_spec(eng.dialect))
        findings += prefixed(answer_findings, answers_label)
        plan, spend_findings = spend_step(eng, steps, spend, spend_kind)
        findings += spend_findings
        if has_errors(findings):
            return None, [], findings
        with steps.step(f"Aggregating {n_subscriptions:,} subscriptions and {n_answers:,} answers"):
            first, last = eng.rows(f"SELECT {month_start('min(answered_at)')}, {month_start('max(answered_at)')} "
                                   "FROM answers")[0]
            eng.materialize("customer_months", panel_sql.customer_months(eng.dialect, first, last))
            match = panel_sql.answer_match(subs.families["customer_id"] != said.families["customer_id"], eng.dialect.text)
            eng.materialize("survey_counts", panel_sql.survey_counts(match))
            outside = eng.rows("SELECT answers FROM survey_counts WHERE segment IS NULL")
            if outside:
                findings += _outside_findings(eng, match, int(outside[0][0]), answers_label)
            eng.materialize("panel_counts", panel_sql.subscription_counts())
            rows, spend_columns, spend_findings = spend_join(eng, plan, PANEL)
        return rows, spend_columns, findings + spend_findings

    return aggregate_on(engine, url, progress, count, ("csat", "nps"))
