"""Customer-level records behind a synthetic panel: one row per customer × month.

The rows are built so that aggregating them (:mod:`cxroi.data.aggregate`) reproduces the panel of
a :class:`~cxroi.data.synth.SynthResult` exactly. Per segment and month:

* the customers active at the start of the month are the survivors of the previous month plus
  its acquisitions; ``churned`` of them, drawn at random, are lost during the month;
* ``new_customers`` customers with fresh ids are acquired (``acquired`` = 1, ``active`` = 0);
* the month's revenue (integer cents) is split across that month's rows in proportion to a
  persistent customer size × months present (a full month counts 2, a churned or acquired
  customer 1), the rounding remainder spread one cent at a time over random rows;
* survey answers go to respondents drawn at random among the active customers, so that the
  counts of top-2-box CSAT answers (4–5), NPS promoters (9–10) and detractors (0–6) match.

Columns and units are documented in data/README.md ("Customer-level records").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cxroi.data.schema import SPEND_PREFIX
from cxroi.data.synth import SynthResult
from cxroi.fileio import atomic_write_text, atomic_write_with

CUSTOMER_COLUMNS = (
    "customer_id", "month", "segment", "active", "churned", "acquired", "revenue", "csat_response", "nps_response",
)
#: log-normal spread of customer size (revenue weight) around 1
SIZE_SIGMA = 0.6
#: integer resolution of the customer-size weights
SIZE_UNITS = 100


@dataclass
class _Segment:
    """Customers of one segment active at the start of the coming month, with their size weights."""

    ids: np.ndarray
    sizes: np.ndarray


@dataclass
class _Columns:
    """Customer-level columns accumulated month by month, as numpy chunks."""

    chunks: dict[str, list[np.ndarray]] = field(default_factory=lambda: {c: [] for c in CUSTOMER_COLUMNS})

    def add(self, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            self.chunks[name].append(values)

    def table(self, segments: list[str]) -> pa.Table:
        data = {name: np.concatenate(parts) for name, parts in self.chunks.items()}
        segment_codes = pa.array(data["segment"].astype(np.int32))
        return pa.table({
            "customer_id": pa.array(data["customer_id"], pa.int64()),
            "month": pa.array(data["month"].astype("datetime64[D]"), pa.date32()),
            "segment": pa.DictionaryArray.from_arrays(segment_codes, pa.array(segments, pa.string())),
            "active": pa.array(data["active"], pa.int8()),
            "churned": pa.array(data["churned"], pa.int8()),
            "acquired": pa.array(data["acquired"], pa.int8()),
            "revenue": decimal_from_cents(data["revenue"]),
            "csat_response": pa.array(data["csat_response"], pa.int8(), mask=data["csat_response"] < 0),
            "nps_response": pa.array(data["nps_response"], pa.int8(), mask=data["nps_response"] < 0),
        })


def decimal_from_cents(cents: np.ndarray) -> pa.Array:
    """Integer cents as an exact decimal(18, 2) Arrow array (currency units, 2 decimals).

    A decimal128 value is its unscaled integer as two little-endian 64-bit words (low, high).
    """
    words = np.empty((len(cents), 2), dtype="<i8")
    words[:, 0] = cents
    words[:, 1] = cents >> 63  # sign extension of the high word
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(cents), [None, pa.py_buffer(words.tobytes())])


def split_cents(rng: np.random.Generator, total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` integer cents in proportion to integer ``weights``; sums to ``total`` exactly."""
    if total and not len(weights):
        raise ValueError("revenue recorded for a segment-month without customers")
    if not len(weights):
        return np.empty(0, np.int64)
    share = total * weights // weights.sum()
    remainder = total - int(share.sum())  # < len(weights): one floor loss per row at most
    share[rng.choice(len(weights), remainder, replace=False)] += 1
    return share


def survey_answers(rng: np.random.Generator, n_rows: int, n_active: int, groups: list[tuple[int, int, int]]) -> np.ndarray:
    """Survey answers for a month's rows (−1 = no answer), respondents drawn among the first
    ``n_active`` rows. ``groups`` lists (count, lowest, highest answer) for consecutive respondents."""
    answers = np.full(n_rows, -1, dtype=np.int8)
    n_respondents = sum(count for count, _, _ in groups)
    if n_respondents > n_active:
        raise ValueError(f"{n_respondents} survey responses but only {n_active} active customers")
    respondents = rng.choice(n_active, n_respondents, replace=False)
    start = 0
    for count, low, high in groups:
        answers[respondents[start:start + count]] = rng.integers(low, high + 1, count)
        start += count
    return answers


def customer_level(result: SynthResult, seed: int) -> pa.Table:
    """Customer × month rows whose aggregation equals ``result.panel`` (see module docstring).

    Same result and seed ⇒ identical rows. Raises ValueError if the panel is not stock-flow
    consistent or its counts cannot be realised by customers (more responses than customers).
    """
    rng = np.random.default_rng(seed)
    panel = result.panel.merge(result.counts, on=["segment", "period"], how="left", validate="one_to_one")
    segments = list(dict.fromkeys(panel["segment"]))
    state: dict[str, _Segment] = {}
    columns = _Columns()
    next_id = 1
    for row in panel.itertuples(index=False):
        if row.segment not in state:  # first month: the customers present at the start
            first_ids = np.arange(next_id, next_id + row.customers_start, dtype=np.int64)
            state[row.segment] = _Segment(first_ids, customer_sizes(rng, row.customers_start))
            next_id += row.customers_start
        seg = state[row.segment]
        n_active = len(seg.ids)
        if n_active != row.customers_start:
            raise ValueError(f"{row.segment} {row.period}: panel is not stock-flow consistent "
                             f"({row.customers_start} customers at start, {n_active} carried over)")
        n_new = int(row.new_customers)
        churned = np.zeros(n_active, dtype=np.int8)
        churned[rng.choice(n_active, int(row.churned), replace=False)] = 1
        new_ids = np.arange(next_id, next_id + n_new, dtype=np.int64)
        new_sizes = customer_sizes(rng, n_new)
        next_id += n_new
        n_rows = n_active + n_new
        half_months = np.concatenate([2 - churned, np.ones(n_new, np.int8)])
        columns.add(
            customer_id=np.concatenate([seg.ids, new_ids]),
            month=np.full(n_rows, np.datetime64(row.period, "D")),
            segment=np.full(n_rows, segments.index(row.segment), dtype=np.int32),
            active=np.repeat(np.array([1, 0], np.int8), [n_active, n_new]),
            churned=np.concatenate([churned, np.zeros(n_new, np.int8)]),
            acquired=np.repeat(np.array([0, 1], np.int8), [n_active, n_new]),
            revenue=split_cents(rng, int(row.revenue_cents), np.concatenate([seg.sizes, new_sizes]) * half_months),
            csat_response=survey_answers(rng, n_rows, n_active, [
                (row.csat_top2, 4, 5), (row.csat_responses - row.csat_top2, 1, 3)]),
            nps_response=survey_answers(rng, n_rows, n_active, [
                (row.nps_promoters, 9, 10), (row.nps_detractors, 0, 6),
                (row.nps_responses - row.nps_promoters - row.nps_detractors, 7, 8)]),
        )
        kept = churned == 0
        seg.ids = np.concatenate([seg.ids[kept], new_ids])
        seg.sizes = np.concatenate([seg.sizes[kept], new_sizes])
    return columns.table(segments)


def customer_sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Persistent customer sizes: integer revenue weights, log-normal around SIZE_UNITS."""
    return np.maximum(1, np.round(SIZE_UNITS * rng.lognormal(0.0, SIZE_SIGMA, n))).astype(np.int64)


def write_customer_level(result: SynthResult, out: str | Path, seed: int) -> list[Path]:
    """Write customers.parquet (and spend.csv when the panel has spend columns) into ``out``.

    spend.csv holds segment, period and the spend_<initiative> columns (currency per month);
    pass it to ``cxroi data aggregate --spend`` to complete the panel. Byte-identical per seed.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = customer_level(result, seed)
    customers_path = out / "customers.parquet"
    atomic_write_with(customers_path, lambda tmp: pq.write_table(table, tmp))
    written = [customers_path]
    spend_columns = [c for c in result.panel.columns if c.startswith(SPEND_PREFIX)]
    if spend_columns:
        spend: pd.DataFrame = result.panel[["segment", "period", *spend_columns]]
        spend_path = out / "spend.csv"
        atomic_write_text(spend_path, spend.to_csv(index=False, lineterminator="\n"))
        written.append(spend_path)
    return written
