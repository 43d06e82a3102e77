"""Formula-injection payloads in segment and scenario names come out inert in CSV and XLSX."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from cxroi.export import export_forecast
from cxroi.export.sanitize import FORMULA_TRIGGERS, neutralise, neutralise_frame
from cxroi.sim.result import SimulationResult
from tests.export.conftest import INJECTION_PAYLOADS, make_result


@pytest.fixture(scope="module")
def hostile() -> SimulationResult:
    """Segments named after the payloads (one stays benign) and a payload as scenario name."""
    return make_result(segments=(*INJECTION_PAYLOADS[:5], "Plain"), scenario_name=INJECTION_PAYLOADS[0],
                       n_draws=50, horizon=3)


@pytest.mark.parametrize("payload", INJECTION_PAYLOADS)
def test_payloads_get_a_leading_quote(payload: str) -> None:
    assert neutralise(payload) == "'" + payload


@pytest.mark.parametrize("text", ["SMB-EU", "Enterprise", "a=b", "50%", "", "'quoted", " =1"])
def test_harmless_text_is_unchanged(text: str) -> None:
    assert neutralise(text) == text


def test_frames_neutralise_text_but_not_numbers() -> None:
    frame = pd.DataFrame({"name": ["=1+1", "ok"], "amount": [-2.5, 3.0]})
    out = neutralise_frame(frame)
    assert out["name"].tolist() == ["'=1+1", "ok"]
    assert out["amount"].tolist() == [-2.5, 3.0]
    assert frame["name"].tolist() == ["=1+1", "ok"]  # the input is not modified


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_csv_cells_are_inert(hostile: SimulationResult, tmp_path: Path) -> None:
    path = tmp_path / "hostile.csv"
    export_forecast(hostile, path, "csv")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    text_cells = [cell for row in body for cell in row if not _is_number(cell)]
    assert not [c for c in text_cells if c.startswith(FORMULA_TRIGGERS)]
    segments = {row[header.index("segment")] for row in body}
    assert segments == {"'" + p for p in INJECTION_PAYLOADS[:5]} | {"Plain", "all"}
    assert {row[header.index("scenario")] for row in body} == {"'" + INJECTION_PAYLOADS[0]}


def test_xlsx_cells_are_inert_text(hostile: SimulationResult, tmp_path: Path) -> None:
    path = tmp_path / "hostile.xlsx"
    export_forecast(hostile, path, "xlsx")
    book = openpyxl.load_workbook(path)
    strings = []
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    strings.append(cell.value)
    assert not [s for s in strings if s.startswith(FORMULA_TRIGGERS)]
    for payload in INJECTION_PAYLOADS[:5]:
        assert "'" + payload in strings, payload
    assert book["Summary"]["B1"].value == "'" + INJECTION_PAYLOADS[0]
    with zipfile.ZipFile(path) as archive:
        xml = b"".join(archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/"))
    assert b"<f>" not in xml and b"<f " not in xml  # no formula element anywhere: payloads are text cells


def test_parquet_keeps_the_names_exactly(hostile: SimulationResult, tmp_path: Path) -> None:
    """Parquet is typed data, not a spreadsheet: names are stored unaltered (see data/README.md)."""
    path = tmp_path / "hostile.parquet"
    export_forecast(hostile, path, "parquet")
    table = pd.read_parquet(path)
    assert set(table["segment"]) == {*INJECTION_PAYLOADS[:5], "Plain", "all"}
