"""Bad subscriptions, survey answers and ledger payments: every kind is listed with its row,
column and reason, `cxroi data aggregate` exits 1 and writes nothing; the same typed faults give
the same findings on DuckDB, PostgreSQL and Spark."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cxroi.cli import main
from cxroi.data.subscriptions import panel_from_subscriptions
from tests.data.conftest import SPARK_URL, load_postgres

SUBSCRIPTIONS = """customer_id,segment,start_date,end_date,mrr,extra
1,SMB,2024-01-01,,10.00,x
2,SMB,2024-01-15,2024-01-10,10.00,
3,,2024-01-01,,10.00,
4,SMB,2024-13-01,,10.00,
5,SMB,2024-01-01,soon,-5,
1,SMB,2024-01-01,,12.00,
,SMB,2024-01-01,,abc,
6,SMB,,,10,
"""
SUBSCRIPTION_FAULTS = {
    (2, "end_date"): "customer 2: ends on 2024-01-10, before it starts",
    (3, "segment"): "customer 3: missing value",
    (4, "start_date"): "customer 4: '2024-13-01' is not a date (YYYY-MM-DD)",
    (5, "end_date"): "customer 5: 'soon' is not a date (YYYY-MM-DD) or empty",
    (5, "mrr"): "customer 5: mrr -5 is negative",
    (6, "customer_id, start_date"): "customer 1: 2 subscriptions start on 2024-01-01 (rows 1, 6)",
    (7, "customer_id"): "(no id): missing value",
    (7, "mrr"): "(no id): 'abc' is not an amount",
    (8, "start_date"): "customer 6: missing value",
}
ANSWERS = """customer_id,answered_at,csat,nps
1,2024-01-05 10:00:00,5,9
1,yesterday,4,
2,2024-01-06,7,11
3,2024-01-07,4.5,
4,2024-01-08,,
1,2024-01-05 10:00:00,3,
"""
ANSWER_FAULTS = {
    (2, "answered_at"): "answers.csv: customer 1: 'yesterday' is not a date or a date and time",
    (3, "csat"): "answers.csv: customer 2: '7' is not a CSAT answer (whole number 1–5, or empty)",
    (3, "nps"): "answers.csv: customer 2: '11' is not an NPS answer (whole number 0–10, or empty)",
    (4, "csat"): "answers.csv: customer 3: '4.5' is not a CSAT answer (whole number 1–5, or empty)",
    (5, "csat, nps"): "answers.csv: customer 4: no answer (csat and nps are both empty)",
    (6, "customer_id, answered_at"): "answers.csv: customer 1: 2 answers at 2024-01-05 10:00:00 (rows 1, 6)",
}
LEDGER = """initiative,segment,month,amount
portal,SMB,2024-01-15,100
,SMB,2024-01-15,5
portal,SMB,someday,5
portal,SMB,2024-01-15,-1
portal,SMB,2024-01-15,lots
"""
LEDGER_FAULTS = {
    (2, "initiative"): "ledger.csv: segment SMB: missing value",
    (3, "month"): "ledger.csv: segment SMB: 'someday' is not a date (YYYY-MM-DD)",
    (4, "amount"): "ledger.csv: segment SMB: amount -1 is negative",
    (5, "amount"): "ledger.csv: segment SMB: 'lots' is not an amount",
}


@pytest.fixture
def faulty(tmp_path):
    paths = {name: tmp_path / f"{name}.csv" for name in ("subscriptions", "answers", "ledger")}
    for path, text in zip(paths.values(), (SUBSCRIPTIONS, ANSWERS, LEDGER), strict=True):
        path.write_text(text)
    return paths


def errors(findings) -> dict[tuple[int | None, str | None], str]:
    return {(f.row, f.column): f.problem for f in findings if f.severity == "error"}


def test_every_bad_record_is_listed_with_row_column_and_reason(faulty):
    panel, findings = panel_from_subscriptions(faulty["subscriptions"], faulty["answers"], spend=faulty["ledger"])
    assert panel is None
    assert errors(findings) == {**SUBSCRIPTION_FAULTS, **ANSWER_FAULTS, **LEDGER_FAULTS}  # no (row, column) repeats
    assert ("warning", "extra") in {(f.severity, f.column) for f in findings}


def test_cli_lists_the_problems_and_writes_nothing(faulty, tmp_path, capsys):
    out = tmp_path / "panel.parquet"
    code = main(["data", "aggregate", "--subscriptions", str(faulty["subscriptions"]),
                 "--answers", str(faulty["answers"]), "--ledger", str(faulty["ledger"]), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 1
    assert not out.exists()
    assert "19 error(s), 1 warning(s)" in printed
    assert "Traceback" not in printed


VALID_SUBSCRIPTIONS = "customer_id,segment,start_date,end_date,mrr\n1,SMB,2023-06-01,,10\n2,ENT,2023-06-01,,50\n"
VALID_ANSWERS = "customer_id,answered_at,csat,nps\n1,2024-01-05,5,9\n2,2024-01-05,4,9\n1,2024-02-05,5,9\n2,2024-02-05,4,9\n"


def test_ledger_payments_outside_the_panel_are_named(tmp_path):
    for name, text in (("subscriptions", VALID_SUBSCRIPTIONS), ("answers", VALID_ANSWERS), (
            "ledger", "initiative,segment,month,amount\nportal,SMB,2024-01-31,10\nportal,SMB-Eu,2024-01-02,5\n"
                      "portal,ENT,2023-12-31,7\nportal,ENT,2024-02-01,3\n")):
        (tmp_path / f"{name}.csv").write_text(text)
    panel, findings = panel_from_subscriptions(tmp_path / "subscriptions.csv", tmp_path / "answers.csv",
                                               spend=tmp_path / "ledger.csv")
    assert panel is None
    assert errors(findings) == {
        (2, "segment"): "ledger.csv: segment 'SMB-Eu' does not occur in the panel",
        (3, "month"): "ledger.csv: the panel has no records of segment ENT in 2023-12",
    }


def test_valid_small_tables_give_the_panel(tmp_path):
    for name, text in (("subscriptions", VALID_SUBSCRIPTIONS), ("answers", VALID_ANSWERS)):
        (tmp_path / f"{name}.csv").write_text(text)
    out = tmp_path / "panel.csv"
    assert main(["data", "aggregate", "--subscriptions", str(tmp_path / "subscriptions.csv"),
                 "--answers", str(tmp_path / "answers.csv"), "--out", str(out)]) == 0
    written = out.read_text().splitlines()
    assert written[0] == "segment,period,customers_start,churned,new_customers,revenue,csat,nps,csat_responses,nps_responses"
    assert written[1:] == ["ENT,2024-01-01,1,0,0,50.0,100.0,100.0,1,1", "ENT,2024-02-01,1,0,0,50.0,100.0,100.0,1,1",
                           "SMB,2024-01-01,1,0,0,10.0,100.0,100.0,1,1", "SMB,2024-02-01,1,0,0,10.0,100.0,100.0,1,1"]


@pytest.mark.parametrize(("argv", "message"), [
    ([], "give either RECORDS or --subscriptions with --answers"),
    (["--subscriptions", "s.csv"], "--subscriptions and --answers go together"),
    (["r.csv", "--subscriptions", "s.csv", "--answers", "a.csv"], "give either RECORDS or --subscriptions"),
    (["r.csv", "--spend", "s.csv", "--ledger", "l.csv"], "give --spend or --ledger, not both"),
])
def test_cli_source_options(tmp_path, capsys, argv, message):
    assert main(["data", "aggregate", *argv, "--out", str(tmp_path / "p.parquet")]) == 2
    assert message in capsys.readouterr().err


def test_unknown_table_and_unreachable_database_are_plain_errors(tmp_path, capsys):
    assert main(["data", "aggregate", "--subscriptions", "subs", "--answers", "answers", "--engine", "postgres",
                 "--out", str(tmp_path / "p.parquet")]) == 1
    assert "--url is required with the postgres engine" in capsys.readouterr().out
    assert main(["data", "aggregate", "--subscriptions", "subs", "--answers", "answers", "--engine", "postgres",
                 "--url", "postgresql+psycopg://nobody@/none?host=/nonexistent", "--out", str(tmp_path / "p.parquet")]) == 1
    assert "cannot connect to the database" in capsys.readouterr().out


# Typed faults that any engine's tables can hold: the same findings on every engine.
D = dt.date
TYPED = {
    "subscriptions": pa.table({
        "customer_id": pa.array([1, 2, 3, 1, None], pa.int64()),
        "segment": ["SMB", "SMB", "  ", "SMB", "SMB"],
        "start_date": pa.array([D(2023, 6, 1), D(2024, 1, 15), D(2023, 6, 1), D(2023, 6, 1), D(2023, 6, 1)]),
        "end_date": pa.array([None, D(2024, 1, 10), None, None, None], pa.date32()),
        "mrr": pa.array([Decimal("10"), Decimal("10"), Decimal("-1"), Decimal("12"), Decimal("5")], pa.decimal128(18, 2)),
    }),
    "answers": pa.table({
        "customer_id": pa.array([1, 2, 3, 1], pa.int64()),
        "answered_at": pa.array([dt.datetime(2024, 1, 5, 10), dt.datetime(2024, 1, 6), dt.datetime(2024, 1, 7),
                                 dt.datetime(2024, 1, 5, 10)], pa.timestamp("s")),
        "csat": pa.array([5, 7, None, 3], pa.int8()), "nps": pa.array([9, 11, None, None], pa.int8()),
    }),
    "ledger": pa.table({"initiative": ["portal", ""], "segment": ["SMB", "SMB"],
                        "month": pa.array([D(2024, 1, 15), D(2024, 1, 15)]),
                        "amount": pa.array([Decimal("-2"), Decimal("1")], pa.decimal128(18, 2))}),
}


def typed_findings(engine: str, url: str | None, sources: dict[str, str]):
    panel, findings = panel_from_subscriptions(sources["subscriptions"], sources["answers"], spend=sources["ledger"],
                                               engine=engine, url=url)
    assert panel is None
    return findings


@pytest.fixture
def typed_files(tmp_path):
    for name, table in TYPED.items():
        pq.write_table(table, tmp_path / f"{name}.parquet")
    return tmp_path


@pytest.fixture
def typed_on_duckdb(typed_files):
    return typed_findings("duckdb", None, {n: f"SELECT * FROM '{typed_files / n}.parquet'" for n in TYPED})


def test_typed_faults_on_duckdb(typed_on_duckdb):
    """Query sources are numbered in key order: customer_id (empty first), start_date, segment, …"""
    by_source = {(f.row, f.column, f.problem.startswith("query:")) for f in typed_on_duckdb if f.severity == "error"}
    assert by_source == {
        (1, "customer_id", False), (3, "customer_id, start_date", False), (4, "end_date", False),
        (5, "segment", False), (5, "mrr", False),
        (3, "csat", True), (3, "nps", True), (4, "csat, nps", True), (2, "customer_id, answered_at", True),
        (1, "initiative", True), (2, "amount", True)}


def test_typed_faults_on_postgres_match_duckdb(typed_on_duckdb, postgres_url):
    load_postgres(postgres_url, TYPED)
    assert typed_findings("postgres", postgres_url, {n: f"SELECT * FROM {n}" for n in TYPED}) == typed_on_duckdb


@pytest.mark.slow
@pytest.mark.xdist_group("spark")
def test_typed_faults_on_spark_match_duckdb(typed_files, typed_on_duckdb, spark_session):
    findings = typed_findings("spark", SPARK_URL, {n: f"SELECT * FROM parquet.`{typed_files / n}.parquet`" for n in TYPED})
    assert findings == typed_on_duckdb
