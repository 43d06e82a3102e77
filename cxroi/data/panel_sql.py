"""The aggregation into the panel, written once as SQL for DuckDB, PostgreSQL and Spark SQL.

Every function returns SQL text in the given :class:`~cxroi.data.sql_dialect.Dialect` over the
typed views that :mod:`cxroi.data.record_checks` registers (``customers``; ``subscriptions``,
``answers``; ``spend`` or ``ledger``). The rules are documented in data/README.md; in short:

* **customer months** — a customer counts in every calendar month in which one of their
  subscriptions is in force for at least one day. They are *active at the start* of a month when
  they also counted in the month before, *churned* in the last month of such a run, and
  *acquired* in its first month when they still count the month after. A customer's month
  belongs to one segment: that of their earliest-starting subscription in force in the month, so
  a move between segments takes effect the month after it.
* **revenue** — each subscription earns its MRR × days in force / days in the month in each
  month, in whole cents rounded half up, computed in integer arithmetic (exact in every engine).
* **survey answers** count in the calendar month they were given (UTC), in the segment of the
  customer that month; answers of customers without a subscription in force that month are not
  counted.
* **counts per segment × month** are sums of integers (cents for revenue); the scores (CSAT %,
  NPS) are computed from them outside the engine, so every engine gives the identical panel.
"""

from __future__ import annotations

import datetime as dt

from cxroi.data.sql_dialect import Dialect, month_start, quote

#: columns of a panel-counts query, in order (revenue in integer cents; survey counts of answers)
COUNT_COLUMNS = ("segment", "period", "customers_start", "churned", "new_customers", "revenue_cents",
                 "csat_top2", "csat_responses", "nps_promoters", "nps_detractors", "nps_responses")

_FLAG_SUMS = ("CAST(SUM(active) AS BIGINT) AS customers_start, CAST(SUM(churned) AS BIGINT) AS churned, "
              "CAST(SUM(acquired) AS BIGINT) AS new_customers, CAST(SUM(revenue_cents) AS BIGINT) AS revenue_cents")
_SURVEY_SUMS = ("CAST(SUM(CASE WHEN csat >= 4 THEN 1 ELSE 0 END) AS BIGINT) AS csat_top2, "
                "CAST(count(csat) AS BIGINT) AS csat_responses, "
                "CAST(SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END) AS BIGINT) AS nps_promoters, "
                "CAST(SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END) AS BIGINT) AS nps_detractors, "
                "CAST(count(nps) AS BIGINT) AS nps_responses")


def month_list(first: dt.date, last: dt.date) -> list[dt.date]:
    """The first days of the calendar months from ``first``'s month to ``last``'s month."""
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(dt.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def calendar(first: dt.date, last: dt.date, alias: str) -> str:
    """An inline table ``alias`` of the months from the month before ``first`` to the month after
    ``last``: month, month_end, days (in the month), prev_month, next_month."""
    before = (first.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    after = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    months = month_list(before, after)
    rows = []
    for month in months:
        following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        previous = (month - dt.timedelta(days=1)).replace(day=1)
        end = following - dt.timedelta(days=1)
        rows.append(f"(DATE '{month}', DATE '{end}', {end.day}, DATE '{previous}', DATE '{following}')")
    return f"(VALUES {', '.join(rows)}) AS {alias}(month, month_end, days, prev_month, next_month)"


def customer_record_counts(window: tuple[dt.date, dt.date] | None = None) -> str:
    """Panel counts from customer-level records (``customers``: one row per customer × month with
    its own active / churned / acquired flags and answers)."""
    where = "" if window is None else f" WHERE month BETWEEN DATE '{window[0]}' AND DATE '{window[1]}'"
    return (f"SELECT segment, month AS period, {_FLAG_SUMS}, {_SURVEY_SUMS} FROM "
            f"(SELECT segment, month, active, churned, acquired, CAST(revenue * 100 AS BIGINT) AS revenue_cents, "
            f"csat_response AS csat, nps_response AS nps FROM customers{where}) AS records GROUP BY segment, month")


def customer_months(d: Dialect, first: dt.date, last: dt.date) -> str:
    """One row per customer × month from ``first`` to ``last`` in which the customer counts:
    customer_id, month, segment, revenue_cents and the 0/1 flags active, churned, acquired
    (from ``subscriptions``; see the module docstring for the rules)."""
    starts = "CASE WHEN s.start_date > c.month THEN s.start_date ELSE c.month END"
    ends = "CASE WHEN s.end_date IS NULL OR s.end_date > c.month_end THEN c.month_end ELSE s.end_date END"
    days = f"({d.day_diff(starts, ends)} + 1)"
    revenue = d.int_div(f"2 * CAST(s.mrr * 100 AS BIGINT) * {days} + c.days", "2 * c.days")
    in_force = (f"SELECT s.customer_id, s.segment, s.start_date, c.month, c.prev_month, c.next_month, "
                f"{revenue} AS revenue_cents FROM subscriptions AS s JOIN {calendar(first, last, 'c')} "
                f"ON s.start_date <= c.month_end AND (s.end_date IS NULL OR s.end_date >= c.month)")
    per_customer = ("SELECT customer_id, month, prev_month, next_month, segment, "
                    "SUM(revenue_cents) OVER (PARTITION BY customer_id, month) AS revenue_cents, "
                    "row_number() OVER (PARTITION BY customer_id, month ORDER BY start_date) AS nth "
                    f"FROM ({in_force}) AS in_force")
    served = ("SELECT customer_id, month, segment, revenue_cents, "
              "CASE WHEN LAG(month) OVER (PARTITION BY customer_id ORDER BY month) = prev_month "
              "THEN 1 ELSE 0 END AS active, "
              "CASE WHEN LEAD(month) OVER (PARTITION BY customer_id ORDER BY month) = next_month "
              "THEN 1 ELSE 0 END AS stays "
              f"FROM ({per_customer}) AS per_customer WHERE nth = 1")
    return ("SELECT customer_id, month, segment, revenue_cents, active, active * (1 - stays) AS churned, "
            f"(1 - active) * stays AS acquired FROM ({served}) AS served "
            f"WHERE month BETWEEN DATE '{first}' AND DATE '{last}'")


def answer_match(id_as_text: bool, text_type: str) -> str:
    """The join condition of an answer (alias a) to its customer month (alias m)."""
    a_id, m_id = "a.customer_id", "m.customer_id"
    if id_as_text:
        a_id, m_id = f"CAST({a_id} AS {text_type})", f"CAST({m_id} AS {text_type})"
    return f"{m_id} = {a_id} AND m.month = {month_start('a.answered_at')}"


def survey_counts(match: str) -> str:
    """Survey counts per segment × month of the answers matched to a customer month; the row with
    an empty segment counts the answers that match none (column ``answers``)."""
    return (f"SELECT m.segment, m.month, count(*) AS answers, {_SURVEY_SUMS} FROM answers AS a "
            f"LEFT JOIN customer_months AS m ON {match} GROUP BY m.segment, m.month")


def unmatched_answers(match: str, limit: int) -> str:
    """Row, customer and month of the first ``limit`` answers that match no customer month."""
    return (f"SELECT a.cxroi_row, a.customer_id, {month_start('a.answered_at')} FROM answers_numbered AS a "
            f"LEFT JOIN customer_months AS m ON {match} WHERE m.month IS NULL ORDER BY a.cxroi_row LIMIT {limit}")


def subscription_counts() -> str:
    """Panel counts from ``customer_months`` and ``survey_counts``."""
    survey = ", ".join(f"COALESCE(s.{c}, 0) AS {c}" for c in COUNT_COLUMNS[6:])
    return (f"SELECT c.segment, c.month AS period, c.customers_start, c.churned, c.new_customers, "
            f"c.revenue_cents, {survey} FROM "
            f"(SELECT segment, month, {_FLAG_SUMS} FROM customer_months GROUP BY segment, month) AS c "
            f"LEFT JOIN survey_counts AS s ON s.segment = c.segment AND s.month = c.month")


def ledger_spend(d: Dialect, initiatives: list[str]) -> str:
    """The ledger as a spend table: segment, period and one ``spend_<initiative>`` column per
    initiative (sum of the month's entries, currency per month)."""
    columns = ", ".join(f"SUM(CASE WHEN initiative = {d.literal(i)} THEN amount ELSE 0 END) AS {quote('spend_' + i)}"
                        for i in initiatives)
    return (f"SELECT segment, {month_start('month')} AS period, {columns} FROM ledger "
            f"GROUP BY segment, {month_start('month')}")


def unmatched_spend(numbered: str, period: str, limit: int) -> str:
    """Row, segment, month and whether the segment is known, of the first ``limit`` spend rows
    whose segment × month has no panel row (panel counts in ``panel_counts``)."""
    return (f"SELECT s.cxroi_row, s.segment, {period} AS period, k.segment IS NOT NULL AS known "
            f"FROM {numbered} AS s LEFT JOIN panel_counts AS p ON p.segment = s.segment AND p.period = {period} "
            f"LEFT JOIN (SELECT DISTINCT segment FROM panel_counts) AS k ON k.segment = s.segment "
            f"WHERE p.segment IS NULL ORDER BY s.cxroi_row LIMIT {limit}")


def unmatched_spend_count(relation: str, period: str) -> str:
    """How many spend rows have a segment × month without a panel row."""
    return (f"SELECT count(*) FROM {relation} AS s LEFT JOIN panel_counts AS p "
            f"ON p.segment = s.segment AND p.period = {period} WHERE p.segment IS NULL")


def panel_with_spend(spend: str | None, spend_columns: list[str], zero_fill: bool) -> str:
    """The panel counts with the spend columns joined on segment × month. ``zero_fill``
    gives months without spend rows a spend of 0 (a ledger lists every payment) instead of empty."""
    if spend is None:
        return "SELECT * FROM panel_counts"
    chosen = ", ".join(
        (f"COALESCE(sp.{quote(c)}, 0) AS {quote(c)}" if zero_fill else f"sp.{quote(c)} AS {quote(c)}")
        for c in spend_columns)
    return (f"SELECT p.*, {chosen} FROM panel_counts AS p LEFT JOIN ({spend}) AS sp "
            f"ON sp.segment = p.segment AND sp.period = p.period")
