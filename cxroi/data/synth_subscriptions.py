"""Subscriptions, survey answers and a spend ledger behind a synthetic panel.

The tables are built so that aggregating them (:mod:`cxroi.data.subscriptions`, rules in
data/README.md) reproduces the panel of a :class:`~cxroi.data.synth.SynthResult` exactly — the
panel is the ground truth. Customers follow the panel's counts month by month as in
:mod:`cxroi.data.customers`, and:

* each month a customer is billed is one subscription row (a billing period: the whole month, or
  from the acquisition day, or up to the churn day), its MRR chosen so that pro-rating by days
  gives exactly the customer's share of the month's revenue, in cents; the customers present at
  the start of the first month have one earlier row (their history before the panel); those
  still customers after the last month have a last row without end date;
* a few customers move between two segments each month, on a day within it, as a pair (one each
  way, so the panel's counts do not change): their month counts in the old segment, the
  following months in the new one;
* survey answers come from customers counting in that month (one row per customer and month,
  with a CSAT answer, an NPS answer or both), plus a few answers from customers the month after
  they left, which the aggregation reports and does not count;
* the ledger holds each segment-month's spend per initiative as one to three payments on random
  days (months without spend have no payments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cxroi.data.customers import customer_sizes, decimal_from_cents, split_cents, survey_answers
from cxroi.data.schema import SPEND_PREFIX
from cxroi.data.synth import SynthResult
from cxroi.fileio import atomic_write_text, atomic_write_with

#: largest number of segment-move pairs per month
MAX_MOVE_PAIRS = 2
#: share of churned customers who answer a survey the month after they left
EXIT_ANSWER_SHARE = 0.02
#: longest history before the panel of a customer present at its start (days)
MAX_HISTORY_DAYS = 720
_SECONDS_PER_DAY = 86_400


def mrr_for(revenue_cents: np.ndarray, days: np.ndarray, days_in_month: int) -> np.ndarray:
    """The smallest MRR (cents) whose pro-rated revenue, ⌊(2·mrr·days + dim) / (2·dim)⌋ (half up),
    is ``revenue_cents`` for a row in force ``days`` of the month's ``days_in_month`` days."""
    dim = days_in_month
    mrr = np.maximum(0, -((dim - 2 * revenue_cents * dim) // (2 * days)))  # ceil((2·r·dim − dim) / (2·days))
    assert ((2 * mrr * days + dim) // (2 * dim) == revenue_cents).all()
    return mrr


@dataclass
class _Rows:
    """Columns of one output table, accumulated as numpy chunks."""

    names: tuple[str, ...]
    chunks: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, **columns: np.ndarray | list) -> None:
        for name in self.names:
            self.chunks.setdefault(name, []).append(np.asarray(columns[name]))

    def column(self, name: str) -> np.ndarray:
        return np.concatenate(self.chunks[name])


@dataclass
class _Month:
    """One segment's customers in one month, before moves are applied."""

    ids: np.ndarray  # active at the start, then acquired
    sizes: np.ndarray
    n_active: int
    churned: np.ndarray  # bool per active customer
    revenue: np.ndarray  # cents per row
    csat: np.ndarray  # answer per row, −1 = none
    nps: np.ndarray


@dataclass
class SubscriptionTables:
    """The three synthetic tables."""

    subscriptions: pa.Table
    answers: pa.Table
    ledger: pd.DataFrame  # initiative, segment, month, amount_cents


def _month_of(rng: np.random.Generator, row, active_ids: np.ndarray, active_sizes: np.ndarray,
              new_ids: np.ndarray) -> _Month:
    """Draw the churned customers, revenue shares and answers of one segment-month."""
    n_active, n_new = len(active_ids), len(new_ids)
    churned = np.zeros(n_active, dtype=bool)
    churned[rng.choice(n_active, int(row.churned), replace=False)] = True
    all_sizes = np.concatenate([active_sizes, customer_sizes(rng, n_new)])
    half_months = np.concatenate([2 - churned.astype(np.int64), np.ones(n_new, np.int64)])
    revenue = split_cents(rng, int(row.revenue_cents), all_sizes * half_months)
    n_rows = n_active + n_new
    csat = survey_answers(rng, n_rows, n_active, [(row.csat_top2, 4, 5), (row.csat_responses - row.csat_top2, 1, 3)])
    nps = survey_answers(rng, n_rows, n_active, [
        (row.nps_promoters, 9, 10), (row.nps_detractors, 0, 6),
        (row.nps_responses - row.nps_promoters - row.nps_detractors, 7, 8)])
    return _Month(np.concatenate([active_ids, new_ids]), all_sizes, n_active, churned, revenue, csat, nps)


def subscription_tables(result: SynthResult, seed: int) -> SubscriptionTables:
    """Subscriptions, answers and ledger whose aggregation equals ``result.panel`` (module
    docstring). Same result and seed ⇒ identical tables. Raises ValueError if the panel is not
    stock-flow consistent or its counts cannot be realised by customers."""
    rng = np.random.default_rng(seed)
    panel = result.panel.merge(result.counts, on=["segment", "period"], how="left", validate="one_to_one")
    segments = list(dict.fromkeys(panel["segment"]))
    periods = sorted(panel["period"].unique())
    subscriptions = _Rows(("customer_id", "segment", "start", "end", "mrr"))
    answers = _Rows(("customer_id", "answered_at", "csat", "nps"))
    ids: dict[str, np.ndarray] = {}
    sizes: dict[str, np.ndarray] = {}
    next_id = 1
    leavers = np.empty(0, np.int64)  # customers who left last month (exit answers)
    for t, period in enumerate(periods):
        first = np.datetime64(period, "D")
        following = np.datetime64(pd.Timestamp(period) + pd.offsets.MonthBegin(1), "D")
        dim = int((following - first).astype(int))
        last_month = t == len(periods) - 1
        open_end = np.datetime64("NaT", "D") if last_month else following - 1
        months: dict[str, _Month] = {}
        for row in panel[panel["period"] == period].itertuples(index=False):
            if row.segment not in ids:  # first month: the customers present at the start, with history
                n = int(row.customers_start)
                ids[row.segment] = np.arange(next_id, next_id + n, dtype=np.int64)
                sizes[row.segment] = customer_sizes(rng, n)
                next_id += n
                subscriptions.add(customer_id=ids[row.segment], segment=[row.segment] * n,
                                  start=first - rng.integers(1, MAX_HISTORY_DAYS + 1, n), end=np.full(n, first - 1),
                                  mrr=sizes[row.segment] * 10)
            if len(ids[row.segment]) != row.customers_start:
                raise ValueError(f"{row.segment} {row.period}: panel is not stock-flow consistent")
            n_new = int(row.new_customers)
            new_ids = np.arange(next_id, next_id + n_new, dtype=np.int64)
            next_id += n_new
            month = _month_of(rng, row, ids[row.segment], sizes[row.segment], new_ids)
            months[row.segment] = month
            kept = np.concatenate([~month.churned, np.ones(n_new, bool)])
            ids[row.segment], sizes[row.segment] = month.ids[kept], month.sizes[kept]
        moves = [] if last_month else _move_pairs(rng, months, segments)
        for segment, month in months.items():
            moved = {i for (a, i, _, _) in moves if a == segment}
            _bill(rng, subscriptions, segment, month, first, dim, open_end, moved)
            _answer(rng, answers, month, first, dim)
        for segment_a, i, segment_b, day in moves:
            _bill_move(subscriptions, months[segment_a], i, segment_a, segment_b, first, day, dim, open_end)
        for segment_a, i, segment_b, _ in moves:  # the new segment from the next month on
            customer = months[segment_a].ids[i]
            at = np.flatnonzero(ids[segment_a] == customer)
            ids[segment_b] = np.append(ids[segment_b], customer)
            sizes[segment_b] = np.append(sizes[segment_b], sizes[segment_a][at])
            ids[segment_a], sizes[segment_a] = np.delete(ids[segment_a], at), np.delete(sizes[segment_a], at)
        _exit_answers(rng, answers, leavers, first, dim)
        leavers = np.concatenate([m.ids[:m.n_active][m.churned] for m in months.values()])
    return SubscriptionTables(_subscription_table(subscriptions), _answer_table(answers), _ledger(rng, result))


def _move_pairs(rng: np.random.Generator, months: dict[str, _Month], segments: list[str]) -> list[tuple[str, int, str, int]]:
    """(from segment, row of the customer there, to segment, day of the move) for up to
    MAX_MOVE_PAIRS pairs of staying customers swapping segments."""
    if len(segments) < 2:
        return []
    moves: list[tuple[str, int, str, int]] = []
    taken: set[tuple[str, int]] = set()
    for _ in range(int(rng.integers(0, MAX_MOVE_PAIRS + 1))):
        a, b = (segments[i] for i in rng.choice(len(segments), 2, replace=False))
        picks = []
        for segment in (a, b):
            stayers = [i for i in np.flatnonzero(~months[segment].churned) if (segment, int(i)) not in taken]
            if not stayers:
                break
            picks.append(int(rng.choice(stayers)))
        if len(picks) < 2:
            continue
        taken.update({(a, picks[0]), (b, picks[1])})
        moves += [(a, picks[0], b, int(rng.integers(2, 28))), (b, picks[1], a, int(rng.integers(2, 28)))]
    return moves


def _bill(rng: np.random.Generator, rows: _Rows, segment: str, month: _Month, first: np.datetime64, dim: int,
          open_end: np.datetime64, moved: set[int]) -> None:
    """One billing-period row per customer of the month, except the movers (see _bill_move)."""
    n_rows = len(month.ids)
    starts = np.full(n_rows, first)
    ends = np.full(n_rows, open_end)
    churned = np.flatnonzero(month.churned)
    ends[churned] = first + rng.integers(0, dim, len(churned))  # the last day served
    new = np.arange(month.n_active, n_rows)
    starts[new] = first + rng.integers(0, dim, len(new))
    last_day = first + dim - 1
    days = ((np.where(np.isnat(ends), last_day, ends) - starts).astype(int) + 1).astype(np.int64)
    mrr = mrr_for(month.revenue, days, dim)
    billed = np.ones(n_rows, bool)
    billed[list(moved)] = False
    rows.add(customer_id=month.ids[billed], segment=[segment] * int(billed.sum()), start=starts[billed],
             end=ends[billed], mrr=mrr[billed])


def _bill_move(rows: _Rows, month: _Month, i: int, segment_a: str, segment_b: str, first: np.datetime64,
               day: int, dim: int, open_end: np.datetime64) -> None:
    """A mover's month as two rows: days 1 … day−1 in the old segment, day … end in the new."""
    revenue = int(month.revenue[i])
    before = revenue * (day - 1) // dim
    days = np.array([day - 1, dim - day + 1], np.int64)
    mrr = mrr_for(np.array([before, revenue - before], np.int64), days, dim)
    customer = month.ids[i]
    rows.add(customer_id=[customer, customer], segment=[segment_a, segment_b],
             start=[first, first + day - 1], end=[first + day - 2, open_end], mrr=mrr)


def _answer(rng: np.random.Generator, rows: _Rows, month: _Month, first: np.datetime64, dim: int) -> None:
    """One answer row per respondent of the month (CSAT, NPS or both), at a random time in it."""
    respondents = np.flatnonzero((month.csat >= 0) | (month.nps >= 0))
    seconds = rng.integers(0, dim * _SECONDS_PER_DAY, len(respondents))
    rows.add(customer_id=month.ids[respondents], answered_at=first.astype("datetime64[s]") + seconds,
             csat=month.csat[respondents], nps=month.nps[respondents])


def _exit_answers(rng: np.random.Generator, rows: _Rows, leavers: np.ndarray, first: np.datetime64, dim: int) -> None:
    """Answers from a few customers who left last month: outside any subscription."""
    chosen = leavers[rng.random(len(leavers)) < EXIT_ANSWER_SHARE]
    seconds = rng.integers(0, dim * _SECONDS_PER_DAY, len(chosen))
    rows.add(customer_id=chosen, answered_at=first.astype("datetime64[s]") + seconds,
             csat=rng.integers(1, 6, len(chosen)).astype(np.int8), nps=rng.integers(0, 11, len(chosen)).astype(np.int8))


def _subscription_table(rows: _Rows) -> pa.Table:
    ends = rows.column("end").astype("datetime64[D]")
    return pa.table({
        "customer_id": pa.array(rows.column("customer_id"), pa.int64()),
        "segment": pa.array(rows.column("segment").astype(str), pa.string()),
        "start_date": pa.array(rows.column("start").astype("datetime64[D]"), pa.date32()),
        "end_date": pa.array(ends, pa.date32(), mask=np.isnat(ends)),
        "mrr": decimal_from_cents(rows.column("mrr").astype(np.int64)),
    })


def _answer_table(rows: _Rows) -> pa.Table:
    csat, nps = rows.column("csat"), rows.column("nps")
    return pa.table({
        "customer_id": pa.array(rows.column("customer_id"), pa.int64()),
        "answered_at": pa.array(rows.column("answered_at").astype("datetime64[s]"), pa.timestamp("s")),
        "csat": pa.array(csat, pa.int8(), mask=csat < 0),
        "nps": pa.array(nps, pa.int8(), mask=nps < 0),
    })


def _ledger(rng: np.random.Generator, result: SynthResult) -> pd.DataFrame:
    """One to three payments per segment-month and initiative with spend (integer cents)."""
    entries = []
    spend_columns = [c for c in result.panel.columns if c.startswith(SPEND_PREFIX)]
    for row in result.panel.itertuples(index=False):
        first = pd.Timestamp(row.period)
        for column in spend_columns:
            cents = round(getattr(row, column) * 100)
            if cents <= 0:
                continue
            n = int(rng.integers(1, 4))
            parts = split_cents(rng, cents, rng.integers(1, 10, n))
            days = rng.integers(0, first.days_in_month, n)
            entries += [(column.removeprefix(SPEND_PREFIX), row.segment, (first + pd.Timedelta(days=int(d))).date(), int(c))
                        for d, c in zip(days, parts, strict=True)]
    return pd.DataFrame(entries, columns=["initiative", "segment", "month", "amount_cents"])


def ledger_csv(ledger: pd.DataFrame) -> str:
    """The ledger as CSV text: initiative, segment, month (YYYY-MM-DD), amount (exact, 2 decimals)."""
    amounts = [f"{c // 100}.{c % 100:02d}" for c in ledger["amount_cents"]]
    table = ledger[["initiative", "segment", "month"]].assign(amount=amounts)
    return table.to_csv(index=False, lineterminator="\n")


def write_subscription_tables(result: SynthResult, out: str | Path, seed: int) -> list[Path]:
    """Write subscriptions.parquet, answers.parquet and ledger.csv into ``out``; pass them to
    ``cxroi data aggregate --subscriptions … --answers … --ledger …``. Byte-identical per seed."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = subscription_tables(result, seed)
    written = []
    for name, table in (("subscriptions.parquet", tables.subscriptions), ("answers.parquet", tables.answers)):
        atomic_write_with(out / name, lambda tmp, table=table: pq.write_table(table, tmp))
        written.append(out / name)
    atomic_write_text(out / "ledger.csv", ledger_csv(tables.ledger))
    return [*written, out / "ledger.csv"]
