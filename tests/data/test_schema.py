"""The panel contract: every problem is reported at once, with row and column."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from cxroi.data.readers import load_panel, read_table
from cxroi.data.schema import REQUIRED_COLUMNS, require_valid, validate_panel
from cxroi.errors import DataError
from tests.data.good_panel import GOOD, frame


def test_clean_panel_is_typed_and_sorted():
    panel, findings = validate_panel(frame(GOOD))
    assert panel is not None
    assert [f for f in findings if f.severity == "error"] == []
    assert panel["customers_start"].dtype == "int64"
    assert panel["period"].dt.day.eq(1).all()
    assert list(panel["segment"]) == ["A", "A", "B", "B"]


def test_every_fault_is_reported_with_row_and_column():
    bad = GOOD.replace("1010,12,15,5100,81,31", "1010,2000,15,lots,81,140").replace(
        "B,2024-02-01", "B,2024-01-01"
    )
    panel, findings = validate_panel(frame(bad).drop(columns=["csat"]))
    assert panel is None
    found = {(f.row, f.column) for f in findings if f.severity == "error"}
    assert (None, "csat") in found  # missing column
    assert (2, "revenue") in found  # text in a number column
    assert (2, "churned") in found  # churned > customers_start
    assert (2, "nps") in found  # NPS 140
    assert (3, "segment, period") in found and (4, "segment, period") in found  # duplicate


def test_stock_flow_inconsistency_is_a_warning_not_an_error():
    # A: 1000 − 10 + 20 = 1010 ✓; B: 500 − 5 + 5 = 500 ✓ — break B's second month
    panel, findings = validate_panel(frame(GOOD.replace("B,2024-02-01,500", "B,2024-02-01,650")))
    assert panel is not None
    warnings = [f for f in findings if f.severity == "warning"]
    assert len(warnings) == 1 and warnings[0].row == 3 and "expected 500" in warnings[0].problem


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [("csat", "101", "between 0 and 100"), ("period", "2024-01-15", "first day of a month"),
     ("new_customers", "-1", "≥ 0"), ("churned", "2.5", "whole number"), ("period", "yesterday", "not a date")],
)
def test_single_faults_name_the_rule(column, value, expected):
    df = frame(GOOD).astype({column: object})
    df.loc[0, column] = value
    _, findings = validate_panel(df)
    messages = [f.problem for f in findings if f.row == 1 and f.column == column]
    assert any(expected in m for m in messages), messages


def test_require_valid_raises_with_every_error():
    df = frame(GOOD).drop(columns=list(REQUIRED_COLUMNS[2:4]))
    with pytest.raises(DataError) as info:
        require_valid(df, "upload.csv")
    assert "customers_start" in str(info.value) and "churned" in str(info.value)


def test_readers_give_clear_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty"):
        read_table(empty)
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="Parquet"):
        read_table(junk)
    with pytest.raises(DataError, match="unsupported file type"):
        read_table(tmp_path / "panel.json")
    header_only = tmp_path / "header.csv"
    header_only.write_text(GOOD.splitlines()[0] + "\n")
    panel, findings = load_panel(header_only)
    assert panel is None and "no data rows" in findings[0].problem


def test_excel_and_parquet_read_the_same_panel(tmp_path):
    df = frame(GOOD)
    df.to_excel(tmp_path / "p.xlsx", index=False)
    df.to_parquet(tmp_path / "p.parquet")
    from_csv = require_valid(df)
    for name in ("p.xlsx", "p.parquet"):
        panel, _ = load_panel(tmp_path / name)
        pd.testing.assert_frame_equal(panel, from_csv)


def test_oversized_upload_is_refused(monkeypatch):
    monkeypatch.setenv("CXROI_MAX_PANEL_MB", str(100 / 2**20))  # 100 bytes
    upload = io.BytesIO(GOOD.encode())
    upload.name = "big.csv"
    with pytest.raises(DataError, match="larger than"):
        read_table(upload)


def test_misnamed_columns_are_one_finding_each_with_the_likely_name():
    """A header with 'Segment' and 'customer_start' (40 rows): two root causes, each naming the
    column it was meant to be, instead of a missing column plus one duplicate per row."""
    months = pd.date_range("2020-01-01", periods=20, freq="MS").strftime("%Y-%m-%d")
    one_row = frame(GOOD).iloc[[0] * 20].reset_index(drop=True)
    rows = pd.concat([one_row.assign(segment=segment, period=months) for segment in ("A", "B")],
                     ignore_index=True)  # two segments share each month: unique only with the segment
    raw = rows.rename(columns={"segment": "Segment", "customers_start": "customer_start"})
    panel, findings = validate_panel(raw)
    assert panel is None
    assert [(f.severity, f.column) for f in findings] == [("error", "customers_start"), ("error", "segment")]
    by_column = {f.column: f.problem for f in findings}
    assert "did you mean 'Segment'?" in by_column["segment"]
    assert "did you mean 'customer_start'?" in by_column["customers_start"]


def test_a_missing_column_without_a_near_name_says_only_that():
    raw = frame(GOOD).drop(columns=["nps"]).assign(score=1)
    _, findings = validate_panel(raw)
    errors = [f for f in findings if f.severity == "error"]
    assert [(f.column, f.problem) for f in errors] == [("nps", "required column is missing")]
    assert [(f.column, f.problem) for f in findings if f.severity == "warning"] == [("score", "unknown column, ignored")]
