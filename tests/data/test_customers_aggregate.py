"""Customer-level records: synthetic rows aggregate back to the panel exactly; bad records give
findings naming row and column; `cxroi data aggregate` exit codes, never a traceback."""

from __future__ import annotations

import itertools
import subprocess
import sys

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cxroi.cli import main
from cxroi.data import record_checks
from cxroi.data.aggregate import aggregate_customers, panel_from_customers
from cxroi.data.customers import CUSTOMER_COLUMNS, write_customer_level
from cxroi.data.readers import load_panel
from cxroi.data.schema import validate_panel
from cxroi.data.synth import generate
from cxroi.errors import DataError
from tests.conftest import cli_env

HEADER = ",".join(CUSTOMER_COLUMNS)

# Hand-checked month: 2 active at start (b lost), c acquired; CSAT answers 5, 4, 2 → 2 of 3 in the
# top-2 box; NPS answers 10 (promoter), 6 (detractor), 8 (passive) → NPS 0; revenue 0.10 + 0.20
# is 0.30 exactly (a float sum would give 0.30000000000000004).
SMALL = f"""{HEADER}
a,2024-03-01,SMB,1,0,0,0.10,5,10
b,2024-03-01,SMB,1,1,0,0.20,4,6
c,2024-03-01,SMB,0,0,1,0,2,8
"""

# Faults, by data row: 2 mid-month date + text revenue; 3 active & acquired, CSAT 7, NPS 11;
# 4 repeats customer 1 in 2023-01 (first seen in row 1); 5 flag 2, bad date, negative revenue,
# CSAT 4.5; 6 no id, no segment, churned while not active. Plus an unknown column.
FAULTY = f"""{HEADER},extra
1,2023-01-01,SMB,1,0,0,10.50,5,9,x
2,2023-01-15,SMB,1,0,0,abc,,,
3,2023-01-01,SMB,1,0,1,5,7,11,
1,2023-01-01,SMB,1,0,0,3,,,
4,notadate,SMB,2,0,0,-1,4.5,,
,2023-01-01,,0,1,0,1,,,
"""
FAULTY_CELLS = {
    (2, "month"), (2, "revenue"),
    (3, "active, acquired"), (3, "csat_response"), (3, "nps_response"),
    (4, "customer_id, month"),
    (5, "active"), (5, "month"), (5, "revenue"), (5, "csat_response"),
    (6, "customer_id"), (6, "segment"), (6, "churned"),
}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A small synthetic panel (4 segments × 12 months, ~1 % of real customer counts) and its
    customer-level files."""
    result = generate(segments=4, months=12, seed=3, scale=0.01)
    out = tmp_path_factory.mktemp("customers")
    write_customer_level(result, out, seed=3)
    return result, out


def expected_panel(result) -> pd.DataFrame:
    panel, _ = validate_panel(result.panel)
    return panel


def errors(findings) -> set[tuple[int | None, str | None]]:
    return {(f.row, f.column) for f in findings if f.severity == "error"}


def test_round_trip_reproduces_the_panel_exactly(synthetic):
    result, out = synthetic
    panel = aggregate_customers(out / "customers.parquet", spend=out / "spend.csv")
    pd.testing.assert_frame_equal(panel, expected_panel(result), check_exact=True)


def test_round_trip_from_csv_records(synthetic, tmp_path):
    result, out = synthetic
    records = tmp_path / "customers.csv"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * FROM read_parquet('{out / 'customers.parquet'}')) TO '{records}' (HEADER)")
    panel = aggregate_customers(records, spend=out / "spend.csv")
    pd.testing.assert_frame_equal(panel, expected_panel(result), check_exact=True)


def test_customer_rows_follow_each_customer(synthetic):
    """Churned customers are gone the next month; acquired ones are active the next month."""
    _, out = synthetic
    rows = pq.read_table(out / "customers.parquet").to_pandas()
    assert not rows.duplicated(["customer_id", "month"]).any()
    assert not ((rows["active"] == 1) & (rows["acquired"] == 1)).any()
    months = sorted(rows["month"].unique())
    present = {m: set(rows.loc[rows["month"] == m, "customer_id"]) for m in months}
    for this, following in itertools.pairwise(months):
        month = rows[rows["month"] == this]
        later = rows[rows["month"] == following].set_index("customer_id")
        churned = set(month.loc[month["churned"] == 1, "customer_id"])
        stayed = set(month.loc[(month["churned"] == 0), "customer_id"])
        assert churned and not churned & present[following]
        assert stayed == present[following] - set(later.index[later["acquired"] == 1])
        assert (later.loc[list(stayed), "active"] == 1).all()


def test_customer_level_is_deterministic_per_seed(tmp_path):
    result = generate(segments=2, months=6, seed=11, scale=0.005)
    first, second, other = (write_customer_level(result, tmp_path / d, seed=s)[0]
                            for d, s in (("a", 5), ("b", 5), ("c", 6)))
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


@pytest.mark.parametrize("written_as", ["panel.parquet", "panel.csv"])
def test_hand_computed_month(tmp_path, written_as):
    records = tmp_path / "small.csv"
    records.write_text(SMALL)
    panel = aggregate_customers(records, out=tmp_path / written_as)
    row = panel.iloc[0]
    assert (row["customers_start"], row["churned"], row["new_customers"]) == (2, 1, 1)
    assert row["revenue"] == 0.3
    assert row["csat"] == 100.0 * 2 / 3 and row["csat_responses"] == 3
    assert row["nps"] == 0.0 and row["nps_responses"] == 3
    written, _ = load_panel(tmp_path / written_as)
    pd.testing.assert_frame_equal(written, panel, check_exact=True)


def test_progress_names_each_step(tmp_path):
    records = tmp_path / "small.csv"
    records.write_text(SMALL)
    seen: list[str] = []
    panel_from_customers(records, progress=seen.append)
    steps = [text for text in seen if "%" not in text]  # percentages appear only on slow queries
    assert steps == ["Checking small.csv", "Aggregating 3 customer-month rows", "Validating the panel"]


def test_spend_is_joined_on_segment_and_month(tmp_path):
    records, spend = tmp_path / "small.csv", tmp_path / "spend.csv"
    records.write_text(SMALL)
    spend.write_text("segment,period,spend_portal\nSMB,2024-03-01,1500.5\n")
    panel = aggregate_customers(records, spend=spend)
    assert panel["spend_portal"].tolist() == [1500.5]


def test_faulty_records_name_every_row_and_column(tmp_path):
    records = tmp_path / "faulty.csv"
    records.write_text(FAULTY)
    panel, findings = panel_from_customers(records)
    assert panel is None
    assert errors(findings) == FAULTY_CELLS
    assert ("warning", "extra") in {(f.severity, f.column) for f in findings}
    duplicate = next(f for f in findings if f.column == "customer_id, month")
    assert "customer 1" in duplicate.problem and "rows 1, 4" in duplicate.problem
    revenue = next(f for f in findings if (f.row, f.column) == (2, "revenue"))
    assert "customer 2" in revenue.problem and "'abc'" in revenue.problem


def test_parquet_rows_and_column_types(tmp_path):
    """Row numbers come from the Parquet file; a column of the wrong type is named; a missing one too."""
    table = pa.table({
        "customer_id": [7, 8, 7], "month": pa.array([pd.Timestamp("2024-01-01").date()] * 3, pa.date32()),
        "segment": ["EU", "EU", "EU"], "active": [1, 1, 1], "churned": [0, 0, 0], "acquired": [0, 0, 0],
        "revenue": [1.0, 2.0, 3.0], "csat_response": [5, None, 0],
    })
    pq.write_table(table, tmp_path / "dup.parquet")
    _, findings = panel_from_customers(tmp_path / "dup.parquet")
    assert errors(findings) == {(None, "nps_response")}  # column problems stop before row checks
    pq.write_table(table.append_column("nps_response", pa.array([[1], [2], [3]])), tmp_path / "typed.parquet")
    _, findings = panel_from_customers(tmp_path / "typed.parquet")
    assert errors(findings) == {(None, "nps_response")}
    assert "has type" in findings[0].problem
    pq.write_table(table.append_column("nps_response", pa.array([9, 9, 9])), tmp_path / "rows.parquet")
    _, findings = panel_from_customers(tmp_path / "rows.parquet")
    assert errors(findings) == {(3, "csat_response"), (3, "customer_id, month")}


def test_listing_is_capped_and_the_rest_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(record_checks, "MAX_LISTED", 2)
    rows = [f"{i},2024-01-01,EU,1,0,0,1,9,9" for i in range(5)]
    records = tmp_path / "many.csv"
    records.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    _, findings = panel_from_customers(records)
    assert errors(findings) == {(1, "csat_response"), (2, "csat_response"), (None, "csat_response")}
    assert any(f.problem.startswith("3 more row(s)") for f in findings)


@pytest.mark.parametrize("content, message", [
    ("", "the file is empty"),
    (HEADER + "\n", "no data rows"),
    ("customer_id,month\n1,2024-01-01\n", "required column is missing"),
], ids=["empty", "header-only", "missing-columns"])
def test_empty_and_incomplete_files(tmp_path, content, message):
    records = tmp_path / "records.csv"
    records.write_text(content)
    panel, findings = panel_from_customers(records)
    assert panel is None
    assert any(message in f.problem for f in findings if f.severity == "error")


def test_malformed_csv_lines_are_listed(tmp_path):
    records = tmp_path / "ragged.csv"
    records.write_text(f"{HEADER}\na,2024-03-01,SMB,1,0,0,1,5,9\nb,2024-03-01,SMB,1,0,0,1,5,9,x,y\nc,2024-03-01\n")
    panel, findings = panel_from_customers(records)
    assert panel is None
    assert [(f.row, f.problem) for f in findings] == [
        (2, "malformed line 3: too many columns (the header has 9 columns)"),
        (3, "malformed line 4: missing columns (the header has 9 columns)"),
    ]


def test_month_without_survey_answers_is_a_warning(tmp_path):
    records = tmp_path / "silent.csv"
    records.write_text(f"{HEADER}\na,2024-03-01,SMB,1,0,0,1,5,7\na,2024-04-01,SMB,1,0,0,1,,7\n")
    panel, findings = panel_from_customers(records)
    assert panel is not None and panel["csat"].isna().tolist() == [False, True]
    assert [(f.severity, f.column) for f in findings] == [("warning", "csat_response")]
    assert "SMB 2024-04: no CSAT answers" in findings[0].problem


def test_a_segment_never_surveyed_is_an_error(tmp_path):
    records = tmp_path / "silent.csv"
    records.write_text(f"{HEADER}\na,2024-03-01,SMB,1,0,0,1,,7\n")
    panel, findings = panel_from_customers(records)
    assert panel is None
    assert any(f.severity == "error" and "segment 'SMB' has no CSAT in any month" in f.problem for f in findings)


def test_spend_problems_are_reported(tmp_path):
    records, spend = tmp_path / "small.csv", tmp_path / "spend.csv"
    records.write_text(SMALL)
    spend.write_text("segment,period,spend_portal\nSMB,2024-03-01,-5\nSMB,2024-03-01,x\n")
    panel, findings = panel_from_customers(records, spend=spend)
    assert panel is None
    assert errors(findings) == {(1, "spend_portal"), (2, "spend_portal"), (2, "segment, period")}
    assert all(f.problem.startswith("spend.csv:") for f in findings)


def test_spend_without_spend_columns(tmp_path):
    records, spend = tmp_path / "small.csv", tmp_path / "spend.csv"
    records.write_text(SMALL)
    spend.write_text("segment,period,budget\nSMB,2024-03-01,5\n")
    panel, findings = panel_from_customers(records, spend=spend)
    assert panel is None
    assert [f.problem for f in findings if f.severity == "error"] == ["spend.csv: no spend_<initiative> columns"]


def test_aggregate_customers_raises_listing_problems(tmp_path):
    records = tmp_path / "faulty.csv"
    records.write_text(FAULTY)
    with pytest.raises(DataError, match=r"13 problem\(s\) found"):
        aggregate_customers(records, out=tmp_path / "panel.parquet")
    assert not (tmp_path / "panel.parquet").exists()


def test_cli_round_trip_and_exit_codes(synthetic, tmp_path, capsys):
    result, out = synthetic
    target = tmp_path / "panel.parquet"
    assert main(["data", "aggregate", str(out / "customers.parquet"), "--out", str(target),
                 "--spend", str(out / "spend.csv")]) == 0
    assert "wrote" in capsys.readouterr().out
    written, _ = load_panel(target)
    pd.testing.assert_frame_equal(written, expected_panel(result), check_exact=True)
    assert main(["data", "aggregate", str(tmp_path / "missing.parquet"), "--out", str(tmp_path / "x.parquet")]) == 1
    assert "file not found" in capsys.readouterr().out
    assert main(["data", "aggregate", str(out / "customers.parquet")]) == 2  # --out is required


def test_synth_customers_then_aggregate_reproduces_panel_csv(tmp_path):
    """The documented two commands: `synth --shape customers`, then `aggregate` gives back panel.csv."""
    assert main(["data", "synth", "--segments", "3", "--months", "8", "--seed", "5", "--scale", "0.005",
                 "--shape", "customers", "--out", str(tmp_path)]) == 0
    assert main(["data", "aggregate", str(tmp_path / "customers.parquet"), "--spend", str(tmp_path / "spend.csv"),
                 "--out", str(tmp_path / "aggregated.parquet")]) == 0
    original, _ = load_panel(tmp_path / "panel.csv")
    aggregated, _ = load_panel(tmp_path / "aggregated.parquet")
    pd.testing.assert_frame_equal(aggregated, original, check_exact=True)


def test_cli_faulty_file_lists_problems_without_traceback(tmp_path):
    records = tmp_path / "faulty.csv"
    records.write_text(FAULTY)
    run = subprocess.run([sys.executable, "-m", "cxroi.cli", "data", "aggregate", str(records),
                          "--out", str(tmp_path / "panel.parquet")],
                         capture_output=True, text=True, env=cli_env(COLUMNS="200"), timeout=120)
    output = run.stdout + run.stderr
    assert run.returncode == 1
    assert "Traceback" not in output
    assert "13 error(s), 1 warning(s)" in output
    assert "'abc' is not an amount" in output
    assert not (tmp_path / "panel.parquet").exists()
