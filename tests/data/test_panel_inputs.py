"""Awkward panel files: numeric periods, huge or infinite numbers, duplicated headers, time zones,
blank segments, wrong separators, unclosed quotes and a bad size setting. Each gives a finding
naming the row and column (or the file), never an exception."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cxroi.data.readers import load_panel, read_table
from cxroi.data.schema import validate_panel
from cxroi.errors import DataError
from tests.conftest import cli_env
from tests.data.good_panel import GOOD, frame


def errors(findings) -> dict[tuple[int | None, str | None], str]:
    return {(f.row, f.column): f.problem for f in findings if f.severity == "error"}


@pytest.mark.parametrize("periods", [[202401, 202402, 202401, 202402], [45292, 45323, 45292, 45323]],
                         ids=["yyyymm", "excel-serial"])
def test_numeric_periods_are_not_dates(periods):
    df = frame(GOOD).assign(period=periods)
    panel, findings = validate_panel(df)
    assert panel is None
    found = errors(findings)
    assert set(found) == {(row, "period") for row in (1, 2, 3, 4)}
    assert found[(1, "period")] == f"'{periods[0]}' is not a date (expected YYYY-MM or YYYY-MM-DD)"


def test_digit_strings_among_dates_are_not_dates():
    df = frame(GOOD).astype({"period": object})
    df.loc[0, "period"] = "2024-01"  # year-month text is a month
    df.loc[2, "period"] = "202401"
    df.loc[3, "period"] = 45323
    found = errors(validate_panel(df)[1])
    assert set(found) == {(3, "period"), (4, "period")}


def test_excel_serial_periods_are_refused_and_date_cells_accepted(tmp_path):
    serial = frame(GOOD).assign(period=[45292, 45323, 45292, 45323])  # 2024-01-01 and 2024-02-01 as serials
    serial.to_excel(tmp_path / "serial.xlsx", index=False)
    panel, findings = load_panel(tmp_path / "serial.xlsx")
    assert panel is None and set(errors(findings)) == {(row, "period") for row in (1, 2, 3, 4)}
    cells = frame(GOOD).assign(period=pd.to_datetime(frame(GOOD)["period"]))  # real Excel date cells
    cells.to_excel(tmp_path / "dates.xlsx", index=False)
    panel, findings = load_panel(tmp_path / "dates.xlsx")
    assert errors(findings) == {}
    assert [f"{p:%Y-%m-%d}" for p in panel["period"]] == ["2024-01-01", "2024-02-01"] * 2


def test_counts_beyond_the_limit_are_errors():
    df = frame(GOOD).astype({"customers_start": float, "new_customers": float})
    df.loc[0, "customers_start"] = 1e20
    df.loc[3, "new_customers"] = 1e13
    df.loc[2, "customers_start"] = 1e12  # at the limit: accepted
    panel, findings = validate_panel(df)
    assert panel is None
    found = errors(findings)
    assert set(found) == {(1, "customers_start"), (4, "new_customers")}
    assert "at most 1,000,000,000,000" in found[(1, "customers_start")]


def test_non_finite_numbers_are_errors_per_cell():
    text = GOOD.replace("5000.5", "inf").replace("1010,12", "Infinity,12").replace("100,70", "-inf,70")
    df = frame(text).assign(csat_responses=[np.inf, 5, 5, 5], spend_portal=[0.0, np.nan, np.inf, 1.0])
    panel, findings = validate_panel(df)
    assert panel is None
    found = errors(findings)
    assert set(found) == {(1, "revenue"), (2, "customers_start"), (3, "revenue"), (1, "csat_responses"),
                          (3, "spend_portal")}
    assert found[(1, "revenue")] == "'inf' is not a finite number"
    assert found[(2, "customers_start")].endswith("is not a finite number")  # 'inf' or 'Infinity' as read


def test_duplicated_header_is_named(tmp_path):
    path = tmp_path / "dup.csv"
    lines = GOOD.splitlines()
    path.write_text("\n".join(line + "," + line.split(",")[5] for line in lines) + "\n")  # revenue twice
    panel, findings = load_panel(path)
    assert panel is None
    assert errors(findings) == {(None, "revenue"): "the column appears 2 times in the header"}


def test_duplicated_header_in_excel_and_parquet(tmp_path):
    df = frame(GOOD)
    doubled = pd.concat([df, df[["csat"]]], axis=1)
    doubled.to_excel(tmp_path / "dup.xlsx", index=False)
    pq.write_table(pa.Table.from_arrays([pa.array(doubled.iloc[:, i]) for i in range(doubled.shape[1])],
                                        names=list(doubled.columns)), tmp_path / "dup.parquet")
    for name in ("dup.xlsx", "dup.parquet"):
        panel, findings = load_panel(tmp_path / name)
        assert panel is None and set(errors(findings)) == {(None, "csat")}, name


def test_time_zone_aware_periods_keep_their_local_month(tmp_path):
    df = frame(GOOD)
    df["period"] = pd.to_datetime(df["period"]).dt.tz_localize("Europe/Paris")  # midnight in Paris
    df.to_parquet(tmp_path / "tz.parquet")
    panel, findings = load_panel(tmp_path / "tz.parquet")
    assert errors(findings) == {}
    assert [f"{p:%Y-%m-%d %H:%M}" for p in panel["period"]] == ["2024-01-01 00:00", "2024-02-01 00:00"] * 2


def test_mixed_offsets_in_text_keep_their_local_month():
    df = frame(GOOD).astype({"period": object})
    df["period"] = ["2024-01-01T00:00+01:00", "2024-02-01T00:00+02:00", "2024-01-01", "2024-02-01"]
    panel, findings = validate_panel(df)
    assert errors(findings) == {}
    assert panel["period"].dt.day.eq(1).all()


def test_blank_segment_says_so_once_per_row():
    # rows 1 and 3 (A and B in 2024-01) lose their segment: both become (blank, 2024-01)
    text = GOOD.replace("A,2024-01-01", ",2024-01-01").replace("B,2024-01-01", " ,2024-01-01")
    panel, findings = validate_panel(frame(text))
    assert panel is None
    assert errors(findings) == {(1, "segment"): "segment is empty", (3, "segment"): "segment is empty"}


@pytest.mark.parametrize(("separator", "word"), [(";", "';'"), ("\t", "tabs")])
def test_other_separator_is_recognised(tmp_path, separator, word):
    path = tmp_path / "semi.csv"
    path.write_text(GOOD.replace(",", separator))
    panel, findings = load_panel(path)
    assert panel is None
    assert len(findings) == 1
    assert f"seems to use {word} as separator" in findings[0].problem


def test_unclosed_quote_names_its_line(tmp_path):
    path = tmp_path / "quote.csv"
    lines = GOOD.splitlines()
    lines[2] = '"' + lines[2]  # line 3 of the file, data row 2
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"line 3: a quote \(\"\) opened here is never closed"):
        read_table(path)


def test_size_limit_is_read_when_used_and_worded_in_kb(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 20 * 1024)
    monkeypatch.setenv("CXROI_MAX_PANEL_MB", "0.01")  # 10485 bytes = 10.2 KB
    with pytest.raises(DataError, match=r"20 KB is larger than the 10\.2 KB panel limit"):
        read_table(path)
    for bad in ("abc", "-1", "nan", "inf"):
        monkeypatch.setenv("CXROI_MAX_PANEL_MB", bad)
        with pytest.raises(DataError, match=f"CXROI_MAX_PANEL_MB must be a positive number of megabytes, not '{bad}'"):
            read_table(path)


def test_bad_size_setting_does_not_break_the_cli(tmp_path):
    path = tmp_path / "panel.csv"
    path.write_text(GOOD)
    run = subprocess.run([sys.executable, "-m", "cxroi.cli", "data", "validate", str(path)],
                         capture_output=True, text=True, env=cli_env(COLUMNS="200", CXROI_MAX_PANEL_MB="abc"),
                         timeout=120)
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "Traceback" not in output and "Internal error" not in output
    assert "CXROI_MAX_PANEL_MB" in output
