"""Awkward inputs to `cxroi data aggregate` and `cxroi data synth`: spend rows that match no
records, infinite spend, unwritable outputs, bad start months, empty Parquet, files that are not
UTF-8 text, other separators, repeated column names and unclosed quotes. Each gives a plain
message naming what is wrong and where, never an internal error."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cxroi.cli import main
from cxroi.data.aggregate import panel_from_customers
from cxroi.data.customers import CUSTOMER_COLUMNS

HEADER = ",".join(CUSTOMER_COLUMNS)
# SMB and ENT customers in 2024-03 and 2024-04, every month with CSAT and NPS answers
RECORDS = f"""{HEADER}
a,2024-03-01,SMB,1,0,0,10,5,10
b,2024-03-01,ENT,1,0,0,20,4,9
a,2024-04-01,SMB,1,0,0,10,5,10
b,2024-04-01,ENT,1,0,0,20,4,9
"""


@pytest.fixture
def records(tmp_path):
    path = tmp_path / "records.csv"
    path.write_text(RECORDS)
    return path


def errors(findings) -> dict[tuple[int | None, str | None], str]:
    return {(f.row, f.column): f.problem for f in findings if f.severity == "error"}


def test_spend_rows_matching_no_records_are_listed(records, tmp_path):
    spend = tmp_path / "spend.csv"
    spend.write_text("segment,period,spend_portal\n"
                     "SMB,2024-03-01,100\n"  # row 1 matches
                     "SMB-Eu,2024-03-01,100\n"  # row 2: no such segment
                     "ENT,2024-05-01,100\n"  # row 3: ENT has no records in 2024-05
                     "ENT,2024-04-01,100\n")  # row 4 matches
    panel, findings = panel_from_customers(records, spend=spend)
    assert panel is None
    assert errors(findings) == {
        (2, "segment"): "spend.csv: segment 'SMB-Eu' does not occur in records.csv",
        (3, "period"): "spend.csv: records.csv has no records of segment ENT in 2024-05",
    }


def test_non_finite_spend_is_refused(records, tmp_path):
    spend = tmp_path / "spend.csv"
    spend.write_text("segment,period,spend_portal\nSMB,2024-03-01,inf\nENT,2024-03-01,-inf\nSMB,2024-04-01,nan\n")
    panel, findings = panel_from_customers(records, spend=spend)
    assert panel is None
    assert errors(findings) == {
        (1, "spend_portal"): "spend.csv: segment SMB: 'inf' is not a finite number",
        (2, "spend_portal"): "spend.csv: segment ENT: '-inf' is not a finite number",
        (3, "spend_portal"): "spend.csv: segment SMB: 'nan' is not a finite number",
    }


def test_unwritable_output_is_a_plain_error(records, tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    for out in (blocker / "panel.parquet", "/proc/cxroi-panel.parquet"):
        assert main(["data", "aggregate", str(records), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"Error: {out}: cannot write" in err and "Internal error" not in err


def test_output_type_is_checked_before_aggregating(records, tmp_path, capsys):
    assert main(["data", "aggregate", str(records), "--out", str(tmp_path / "panel.json")]) == 2
    assert "write the panel as .parquet or .csv" in capsys.readouterr().err


@pytest.mark.parametrize(("start", "message"), [
    ("garbage", "'garbage' is not a month; use YYYY-MM"),
    ("2023-13", "'2023-13' is not a month; use YYYY-MM"),
])
def test_synth_start_must_be_a_month(tmp_path, capsys, start, message):
    assert main(["data", "synth", "--segments", "1", "--months", "6", "--start", start,
                 "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Internal error" not in err
    assert not (tmp_path / "s").exists()


def test_synth_start_mid_month_is_refused_and_first_of_month_accepted(tmp_path, capsys):
    assert main(["data", "synth", "--segments", "1", "--months", "6", "--start", "2023-01-15",
                 "--out", str(tmp_path)]) == 2
    assert "2023-01-15 is not the first day of a month; use YYYY-MM" in capsys.readouterr().err
    assert main(["data", "synth", "--segments", "1", "--months", "6", "--start", "2023-01-01",
                 "--out", str(tmp_path)]) == 0
    periods = pd.read_csv(tmp_path / "panel.csv")["period"]
    assert (periods.iloc[0], periods.iloc[-1]) == ("2023-01-01", "2023-06-01")


def test_synth_variants_of_the_calibration_study(tmp_path):
    """--no-effect zeroes every population CX effect, --responses bounds the answers, --survey-gaps
    empties whole survey months and --loss-factor is recorded in the truth."""
    assert main(["data", "synth", "--segments", "4", "--months", "24", "--no-effect", "--responses", "15-25",
                 "--survey-gaps", "0.2", "--loss-factor", "2", "--out", str(tmp_path)]) == 0
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["population_means"] == {"churn_csat": 0.0, "churn_nps": 0.0, "arpu_csat": 0.0, "acq_nps": 0.0}
    assert truth["loss_factor"] == 2.0 and truth["responses_range"] == [15, 25]
    panel = pd.read_csv(tmp_path / "panel.csv")
    answers = panel[["csat_responses", "nps_responses"]].stack().dropna()
    assert answers.between(15, 25).all()
    skipped = panel["csat"].isna()
    assert 0.1 < skipped.mean() < 0.3  # 96 segment-months at 20 %: sd of the share ≈ 0.04
    assert panel.loc[skipped, ["nps", "csat_responses", "nps_responses"]].isna().all().all()


@pytest.mark.parametrize("answers", ["25-15", "0-5", "many"])
def test_synth_answer_range_must_be_min_max(tmp_path, capsys, answers):
    assert main(["data", "synth", "--responses", answers, "--out", str(tmp_path / "s")]) == 2
    assert "is not a range of answers; use MIN-MAX" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_synth_into_a_file_is_a_plain_error(tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    assert main(["data", "synth", "--segments", "1", "--months", "6", "--out", str(blocker / "s")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_empty_parquet_has_no_data_rows(tmp_path):
    schema = pa.schema([(c, pa.null() if c in ("month", "revenue") else pa.int64()) for c in CUSTOMER_COLUMNS])
    pq.write_table(schema.empty_table(), tmp_path / "empty.parquet")
    panel, findings = panel_from_customers(tmp_path / "empty.parquet")
    assert panel is None
    assert [f.problem for f in findings] == ["empty.parquet: the file holds no data rows"]
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    _, findings = panel_from_customers(tmp_path / "junk.parquet")
    assert [f.problem[:32] for f in findings] == ["junk.parquet: could not be read "]


def test_parquet_column_without_values(tmp_path):
    table = pa.table({c: pa.array([None], pa.null()) if c == "revenue" else pa.array([1]) for c in CUSTOMER_COLUMNS})
    pq.write_table(table, tmp_path / "blank.parquet")
    _, findings = panel_from_customers(tmp_path / "blank.parquet")
    assert errors(findings)[(None, "revenue")] == "has no values (every cell is empty); each value must be an amount"


@pytest.mark.parametrize("content", [RECORDS.encode("utf-16"), bytes(range(256)) * 4], ids=["utf-16", "binary"])
def test_csv_that_is_not_utf8_text(tmp_path, content):
    path = tmp_path / "records.csv"
    path.write_bytes(content)
    panel, findings = panel_from_customers(path)
    assert panel is None
    assert [f.problem for f in findings] == ["records.csv: not UTF-8 text; save the file as CSV in UTF-8"]


def test_semicolons_are_recognised(tmp_path):
    path = tmp_path / "records.csv"
    path.write_text(RECORDS.replace(",", ";"))
    panel, findings = panel_from_customers(path)
    assert panel is None
    assert len(findings) == 1 and "seems to use ';' as separator" in findings[0].problem


@pytest.mark.parametrize("name", ["records.csv", "records.parquet"])
def test_repeated_column_is_named(tmp_path, name):
    path = tmp_path / name
    doubled = "\n".join(line + "," + line.split(",")[6] for line in RECORDS.splitlines()) + "\n"  # revenue twice
    if name.endswith(".csv"):
        path.write_text(doubled)
    else:
        rows = [line.split(",") for line in doubled.splitlines()]
        pq.write_table(pa.Table.from_arrays([pa.array(column) for column in zip(*rows[1:], strict=True)],
                                            names=rows[0]), path)
    panel, findings = panel_from_customers(path)
    assert panel is None
    assert errors(findings) == {(None, "revenue"): "the column appears 2 times in the header"}


def test_unclosed_quote_names_its_line(tmp_path):
    path = tmp_path / "records.csv"
    lines = RECORDS.splitlines()
    lines[3] = '"unclosed,' + lines[3]  # file line 4
    path.write_text("\n".join(lines) + "\n")
    panel, findings = panel_from_customers(path)
    assert panel is None
    assert [f.problem for f in findings] == ['records.csv: line 4: a quote (") opened here is never closed']
