"""Size limits on what is read: a decompression-bomb workbook and oversized sheets are refused
before any spreadsheet parser runs, and a panel over the row, segment or month limits is refused
by validation before fitting — through ``cxroi data validate`` and ``cxroi train``."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from cxroi.cli import main
from tests.conftest import cli_env
from tests.data.good_panel import GOOD, frame

REPO = Path(__file__).resolve().parents[2]
ROW = b'<row><c t="inlineStr"><is><t>cxroi</t></is></c></row>'
#: runs `cxroi data validate` in a fresh interpreter and reports its exit code, time and the growth
#: of its peak memory (KB) over what the interpreter held with the readers imported
MEASURE = """
import json, resource, sys, time
import cxroi.cli.data_cmd, cxroi.data.readers, openpyxl, pandas
from cxroi.cli import main
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.monotonic()
code = main(["data", "validate", sys.argv[1]])
print(json.dumps({"code": code, "seconds": time.monotonic() - started,
                  "growth_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before}))
"""


def workbook(path: Path, sheet_head: bytes, rows: int = 0) -> Path:
    """A minimal .xlsx whose only sheet starts with ``sheet_head`` followed by ``rows`` identical rows."""
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
        '+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
        'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet '
        'name="panel" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                        b'spreadsheetml/2006/main">' + sheet_head + b"<sheetData>")
            chunk = ROW * 20_000
            for _ in range(rows // 20_000):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """About 600 MB of sheet XML (no dimension element) in a file of a few hundred KB to ~2 MB."""
    return workbook(tmp_path_factory.mktemp("bomb") / "panel.xlsx", b"", rows=11_400_000)


def test_a_decompression_bomb_is_refused_quickly_and_without_memory(bomb) -> None:
    assert bomb.stat().st_size < 3 * 2**20
    with zipfile.ZipFile(bomb) as archive:
        assert sum(m.file_size for m in archive.infolist()) > 550 * 2**20
    done = subprocess.run([sys.executable, "-c", MEASURE, str(bomb)], capture_output=True, text=True, cwd=REPO,
                          env=cli_env(COLUMNS="200"), timeout=60)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 1, done.stdout + done.stderr
    assert "CXROI_MAX_XLSX_UNZIPPED_MB" in " ".join(done.stdout.split()) and "Traceback" not in done.stderr
    assert report["seconds"] <= 5
    assert report["growth_kb"] < 200 * 1024


@pytest.mark.parametrize(("ref", "setting"), [("A1:L5000000", "CXROI_MAX_PANEL_ROWS"),
                                              ("A1:ZZZ10", "CXROI_MAX_SHEET_COLUMNS")])
def test_a_sheet_declaring_too_many_rows_or_columns_is_refused(tmp_path, capsys, ref, setting) -> None:
    path = workbook(tmp_path / "panel.xlsx", f'<dimension ref="{ref}"/>'.encode(), rows=20_000)
    assert main(["data", "validate", str(path)]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert setting in out and "declared by the sheet's dimension" in out


def test_a_real_workbook_still_validates(tmp_path, capsys) -> None:
    path = tmp_path / "panel.xlsx"
    frame(GOOD).to_excel(path, index=False)
    assert main(["data", "validate", str(path)]) == 0
    assert "OK: 4 rows, 2 segments" in capsys.readouterr().out


def wide_panel(segments: int, months: int, start: str = "2022-01-01") -> pd.DataFrame:
    periods = pd.date_range(start, periods=months, freq="MS")
    cells = pd.MultiIndex.from_product([[f"S{s:05d}" for s in range(segments)], periods],
                                       names=["segment", "period"]).to_frame(index=False)
    return cells.assign(customers_start=1000, churned=10, new_customers=10, revenue=5000.0, csat=80.0, nps=30.0)


def test_a_panel_of_ten_thousand_segments_is_refused_before_fitting(tmp_path) -> None:
    data = tmp_path / "panel.csv"
    wide_panel(10_000, 12).to_csv(data, index=False)
    models = tmp_path / "models"
    done = subprocess.run([sys.executable, "-m", "cxroi.cli", "train", "--data", str(data), "--family", "regression",
                           "--models-dir", str(models)], capture_output=True, text=True, cwd=REPO,
                          env=cli_env(COLUMNS="200"), timeout=120)
    out = " ".join(done.stdout.split())
    assert done.returncode == 1, done.stdout + done.stderr
    assert "has 10,000 segments, more than the 500 allowed (CXROI_MAX_SEGMENTS" in out
    assert "Traceback" not in done.stderr and not models.exists()


def test_a_panel_spanning_too_many_months_is_refused(tmp_path, capsys) -> None:
    data = tmp_path / "panel.csv"
    panel = wide_panel(2, 2)
    panel.loc[0, "period"] = pd.Timestamp("1900-01-01")
    panel.to_csv(data, index=False)
    assert main(["data", "validate", str(data)]) == 1
    assert "more than the 600 allowed (CXROI_MAX_MONTHS" in " ".join(capsys.readouterr().out.split())


def test_limits_follow_their_settings(tmp_path, capsys, monkeypatch) -> None:
    data = tmp_path / "panel.csv"
    data.write_text(GOOD)
    monkeypatch.setenv("CXROI_MAX_SEGMENTS", "1")
    assert main(["data", "validate", str(data)]) == 1
    assert "has 2 segments, more than the 1 allowed (CXROI_MAX_SEGMENTS" in " ".join(capsys.readouterr().out.split())
    monkeypatch.setenv("CXROI_MAX_SEGMENTS", "lots")
    assert main(["data", "validate", str(data)]) == 2  # a setting to fix, not a data problem
    assert "CXROI_MAX_SEGMENTS must be a positive whole number of segments, not 'lots'" in " ".join(
        capsys.readouterr().err.split())
