"""One definition, three engines: subscriptions + survey answers + spend ledger give the same panel
on DuckDB (files and queries), PostgreSQL (tables and queries, pushed down) and Spark SQL (local
mode; paths and tables) — the synthetic panel exactly, and a hand-computed month by month case
that exercises every rule of data/README.md; customer-level records too."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cxroi.data.aggregate import panel_from_customers
from cxroi.data.customers import write_customer_level
from cxroi.data.schema import validate_panel
from cxroi.data.subscriptions import panel_from_subscriptions
from cxroi.data.synth import generate
from cxroi.data.synth_subscriptions import subscription_tables, write_subscription_tables
from tests.data.conftest import SPARK_URL, load_postgres

D = dt.date
spark = pytest.mark.xdist_group("spark")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A synthetic panel (4 segments × 12 months, ~1 % of real customer counts), its tables as
    files and the panel they must give (spend columns of initiatives with payments)."""
    result = generate(segments=4, months=12, seed=3, scale=0.01)
    out = tmp_path_factory.mktemp("subscriptions")
    write_subscription_tables(result, out, seed=3)
    expected, _ = validate_panel(result.panel)
    paid = [c for c in expected.columns if not c.startswith("spend_") or expected[c].any()]
    return result, out, expected[paid]


def assert_same_panel(panel, expected):
    assert panel is not None
    pd.testing.assert_frame_equal(panel, expected, check_exact=True)


def outside_answers(findings):
    return [(f.column, f.problem) for f in findings if f.severity == "warning"]


def test_duckdb_reproduces_the_synthetic_panel(synthetic):
    _, out, expected = synthetic
    panel, findings = panel_from_subscriptions(out / "subscriptions.parquet", out / "answers.parquet",
                                               spend=out / "ledger.csv")
    assert_same_panel(panel, expected)
    assert outside_answers(findings)  # the exit answers: listed, not counted
    assert all("has no subscription in force" in problem for _, problem in outside_answers(findings)[:-1])


def test_duckdb_from_csv_and_a_query(synthetic, tmp_path):
    _, out, expected = synthetic
    csv = tmp_path / "subscriptions.csv"
    pq.read_table(out / "subscriptions.parquet").to_pandas().to_csv(csv, index=False)
    query = f"SELECT * FROM read_parquet('{out / 'answers.parquet'}')"
    panel, _ = panel_from_subscriptions(csv, query, spend=out / "ledger.csv")
    assert_same_panel(panel, expected)


def postgres_tables(result, seed: int) -> dict[str, pa.Table]:
    tables = subscription_tables(result, seed)
    ledger = tables.ledger
    return {"subscriptions": tables.subscriptions, "answers": tables.answers,
            "ledger": pa.table({"initiative": ledger["initiative"], "segment": ledger["segment"],
                                "month": pa.array(ledger["month"], pa.date32()),
                                "amount": pa.array([Decimal(c) / 100 for c in ledger["amount_cents"]],
                                                   pa.decimal128(18, 2))})}


def test_postgres_reproduces_the_synthetic_panel(synthetic, postgres_url):
    result, out, expected = synthetic
    load_postgres(postgres_url, postgres_tables(result, seed=3))
    panel, findings = panel_from_subscriptions("subscriptions", "SELECT * FROM answers", spend="ledger",
                                               engine="postgres", url=postgres_url)
    assert_same_panel(panel, expected)
    on_duckdb = panel_from_subscriptions(out / "subscriptions.parquet", f"SELECT * FROM '{out / 'answers.parquet'}'",
                                         spend=out / "ledger.csv")[1]
    assert findings == on_duckdb  # query sources are numbered in the same order on every engine


@pytest.mark.slow
@spark
def test_spark_reproduces_the_synthetic_panel(synthetic, spark_session):
    _, out, expected = synthetic
    spark_session.read.parquet(str(out / "answers.parquet")).createOrReplaceGlobalTempView("synthetic_answers")
    panel, findings = panel_from_subscriptions(out / "subscriptions.parquet", "SELECT * FROM global_temp.synthetic_answers",
                                               spend=out / "ledger.csv", engine="spark", url=SPARK_URL)
    assert_same_panel(panel, expected)
    on_duckdb = panel_from_subscriptions(out / "subscriptions.parquet", f"SELECT * FROM '{out / 'answers.parquet'}'",
                                         spend=out / "ledger.csv")[1]
    assert findings == on_duckdb


# A hand-computed case, 2024-01 … 2024-04 (the months with answers; February has 29 days):
# A  SMB 01-10 … 03-15 at 31.00: acquired in Jan (22 of 31 days = 22.00), Feb 31.00, churned in Mar (15.00)
# B  SMB 2023-06-01 … 02-19 at 10.00, then MidMarket 02-20 … at 20.00: Feb counts in SMB with
#    10.00·19/29 = 6.55 (655.17 cents) + 20.00·10/29 = 6.90 (689.66 cents) = 13.45; MidMarket from Mar
# C  SMB 03-05 … 03-20 at 31.00: a single month, neither acquired nor churned; revenue 16.00
# D  SMB 2023-01-01 … 01-31 at 31.00, back 03-01 … at 31.00: churned in Jan, acquired again in Mar
# E  SMB 2023-05-01 … 02-10 at 29.00, again 03-25 … at 31.00: no month without a subscription, so
#    no churn; Feb 10.00, Mar 7 days = 7.00, Apr 31.00
SUBSCRIPTIONS = [
    ("A", "SMB", D(2024, 1, 10), D(2024, 3, 15), "31.00"),
    ("B", "SMB", D(2023, 6, 1), D(2024, 2, 19), "10.00"),
    ("B", "MidMarket", D(2024, 2, 20), None, "20.00"),
    ("C", "SMB", D(2024, 3, 5), D(2024, 3, 20), "31.00"),
    ("D", "SMB", D(2023, 1, 1), D(2024, 1, 31), "31.00"),
    ("D", "SMB", D(2024, 3, 1), None, "31.00"),
    ("E", "SMB", D(2023, 5, 1), D(2024, 2, 10), "29.00"),
    ("E", "SMB", D(2024, 3, 25), None, "31.00"),
]
T = dt.datetime
ANSWERS = [  # customer, answered at (UTC), CSAT, NPS
    ("B", T(2024, 1, 3, 9), 5, 10), ("A", T(2024, 2, 14, 12), 3, 6),
    ("E", T(2024, 3, 30, 8), 4, 9), ("C", T(2024, 3, 6, 17), 2, 7),
    ("D", T(2024, 4, 11, 10), 5, 0), ("B", T(2024, 3, 31, 23, 59, 59), 1, 8),
    ("B", T(2024, 4, 1, 0, 0, 0), 5, 10),
    ("A", T(2024, 4, 2, 10), 5, None),  # A left on 03-15: listed, not counted
]
LEDGER = [
    ("portal", "SMB", D(2024, 1, 15), "100.50"), ("portal", "SMB", D(2024, 1, 20), "200.25"),
    ("support", "MidMarket", D(2024, 4, 30), "50.00"),
]
# segment, month, customers_start, churned, new_customers, revenue, csat, nps, answers, portal, support
EXPECTED = [
    ("MidMarket", "2024-03-01", 1, 0, 0, 20.00, 0.0, 0.0, 1, 0.0, 0.0),
    ("MidMarket", "2024-04-01", 1, 0, 0, 20.00, 100.0, 100.0, 1, 0.0, 50.0),
    ("SMB", "2024-01-01", 3, 1, 1, 92.00, 100.0, 100.0, 1, 300.75, 0.0),
    ("SMB", "2024-02-01", 3, 0, 0, 54.45, 0.0, -100.0, 1, 0.0, 0.0),
    ("SMB", "2024-03-01", 2, 1, 1, 69.00, 50.0, 50.0, 2, 0.0, 0.0),
    ("SMB", "2024-04-01", 2, 0, 0, 62.00, 100.0, -100.0, 1, 0.0, 0.0),
]


def hand_tables() -> dict[str, pa.Table]:
    def column(rows, i, kind):
        return pa.array([row[i] if kind != pa.decimal128(18, 2) else Decimal(row[i]) for row in rows], kind)

    amount = pa.decimal128(18, 2)
    return {
        "subscriptions": pa.table({name: column(SUBSCRIPTIONS, i, kind) for i, (name, kind) in enumerate(
            [("customer_id", pa.string()), ("segment", pa.string()), ("start_date", pa.date32()),
             ("end_date", pa.date32()), ("mrr", amount)])}),
        "answers": pa.table({name: column(ANSWERS, i, kind) for i, (name, kind) in enumerate(
            [("customer_id", pa.string()), ("answered_at", pa.timestamp("s")), ("csat", pa.int8()),
             ("nps", pa.int8())])}),
        "ledger": pa.table({name: column(LEDGER, i, kind) for i, (name, kind) in enumerate(
            [("initiative", pa.string()), ("segment", pa.string()), ("month", pa.date32()), ("amount", amount)])}),
    }


def expected_hand_panel() -> pd.DataFrame:
    columns = ["segment", "period", "customers_start", "churned", "new_customers", "revenue", "csat", "nps",
               "csat_responses", "spend_portal", "spend_support"]
    frame = pd.DataFrame(EXPECTED, columns=columns)
    frame["nps_responses"] = frame["csat_responses"]
    panel, _ = validate_panel(frame[[*columns[:9], "nps_responses", *columns[9:]]])
    return panel


def check_hand_case(panel, findings):
    assert_same_panel(panel, expected_hand_panel())
    assert [(f.severity, f.problem) for f in findings if "answers" in f.problem] == [
        ("warning", "answers: customer A has no subscription in force in 2024-04; not counted")]
    moved = [f.problem for f in findings if "stock-flow" in f.problem or "customers_start" in (f.column or "")]
    assert any("SMB" in problem for problem in moved)  # B's move leaves a gap in SMB's stock flow


def hand_files(folder: Path) -> tuple[Path, Path, Path]:
    paths = tuple(folder / f"{name}.parquet" for name in ("subscriptions", "answers", "ledger"))
    for path, table in zip(paths, hand_tables().values(), strict=True):
        pq.write_table(table, path)
    return paths


def test_hand_computed_case_on_duckdb(tmp_path):
    subscriptions, answers, ledger = hand_files(tmp_path)
    answers = answers.rename(tmp_path / "answers")  # labelled 'answers' in messages, as a table would be
    query = f"SELECT * FROM read_parquet('{answers}')"
    panel, findings = panel_from_subscriptions(subscriptions, query, spend=ledger)
    assert_same_panel(panel, expected_hand_panel())
    assert [f.problem for f in findings if "subscription in force" in f.problem] == [
        "query: customer A has no subscription in force in 2024-04; not counted"]


def test_hand_computed_case_on_postgres(postgres_url):
    load_postgres(postgres_url, hand_tables())
    check_hand_case(*panel_from_subscriptions("subscriptions", "answers", spend="ledger",
                                              engine="postgres", url=postgres_url))


@pytest.mark.slow
@spark
def test_hand_computed_case_on_spark(tmp_path, spark_session):
    subscriptions, answers, ledger = hand_files(tmp_path)
    answers = answers.rename(tmp_path / "answers")
    spark_session.read.parquet(str(answers)).createOrReplaceGlobalTempView("hand_answers")
    panel, findings = panel_from_subscriptions(subscriptions, "global_temp.hand_answers", spend=ledger,
                                               engine="spark", url=SPARK_URL)
    assert_same_panel(panel, expected_hand_panel())
    assert [f.problem for f in findings if "subscription in force" in f.problem] == [
        "global_temp.hand_answers: customer A has no subscription in force in 2024-04; not counted"]


@pytest.fixture(scope="module")
def customer_records(tmp_path_factory):
    """Customer-level records (one row per customer × month) of a small synthetic panel."""
    result = generate(segments=3, months=8, seed=5, scale=0.005)
    out = tmp_path_factory.mktemp("customers")
    write_customer_level(result, out, seed=5)
    expected, _ = validate_panel(result.panel)
    return out, expected


def test_customer_records_on_postgres(customer_records, postgres_url):
    out, expected = customer_records
    table = pq.read_table(out / "customers.parquet")
    table = table.set_column(2, "segment", table.column("segment").cast(pa.string()))
    load_postgres(postgres_url, {"customers": table, "spend": pa.Table.from_pandas(
        pd.read_csv(out / "spend.csv").assign(period=lambda f: pd.to_datetime(f["period"]).dt.date), preserve_index=False)})
    panel, _ = panel_from_customers("customers", spend="spend", engine="postgres", url=postgres_url)
    assert_same_panel(panel, expected)


@pytest.mark.slow
@spark
def test_customer_records_on_spark(customer_records, spark_session):
    out, expected = customer_records
    panel, _ = panel_from_customers(out / "customers.parquet", spend=out / "spend.csv", engine="spark", url=SPARK_URL)
    assert_same_panel(panel, expected)
