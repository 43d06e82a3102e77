"""Forecast exports for finance: an XLSX workbook, or a long table as CSV or Parquet.

:func:`export_forecast` derives the tables once from a :class:`~cxroi.sim.result.SimulationResult`
(:func:`cxroi.export.tables.build_tables`) and writes them atomically. Text that a spreadsheet
could read as a formula is neutralised in CSV and XLSX (:mod:`cxroi.export.sanitize`). The layout
of the long table is documented in data/README.md, "Forecast exports".
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cxroi.errors import CxroiError

if TYPE_CHECKING:
    from cxroi.export.tables import ForecastTables
    from cxroi.sim.result import SimulationResult


class ExportError(CxroiError):
    """A forecast could not be exported (bad format, unusable output path, disk error)."""


#: export format → "module:function" of its writer (imported only when used)
_WRITERS = {
    "xlsx": "cxroi.export.workbook:write_xlsx",
    "csv": "cxroi.export.tabular:write_csv",
    "parquet": "cxroi.export.tabular:write_parquet",
}
FORMATS = tuple(_WRITERS)


def _check_format(fmt: str) -> None:
    if fmt not in _WRITERS:
        raise ExportError(f"unknown export format '{fmt}' (choose one of {', '.join(FORMATS)})")


def write_tables(tables: ForecastTables, path: str | Path, fmt: str) -> list[Path]:
    """Write already built tables in ``fmt``; returns the files written."""
    _check_format(fmt)
    path = Path(path)
    if path.is_dir():
        raise ExportError(f"{path}: is a folder; give the file to write")
    module_name, function = _WRITERS[fmt].split(":")
    writer = getattr(importlib.import_module(module_name), function)
    try:
        return writer(tables, path)
    except OSError as exc:
        raise ExportError(f"{path}: could not write the {fmt} export ({exc.strerror or exc})") from exc


def export_forecast(result: SimulationResult, path: str | Path, fmt: str,
                    quantiles: Sequence[float] | None = None) -> list[Path]:
    """Export ``result`` to ``path`` as ``fmt`` (xlsx, csv or parquet) at ``quantiles``
    (fractions, default P10/P50/P90); returns the files written."""
    from cxroi.export.tables import build_tables
    from cxroi.sim.result import DEFAULT_QUANTILES

    _check_format(fmt)
    quantiles = tuple(quantiles or DEFAULT_QUANTILES)
    bad = [q for q in quantiles if not 0 < q < 1]
    if bad:
        raise ExportError(f"quantiles must lie strictly between 0 and 1, got {', '.join(map(str, bad))}")
    return write_tables(build_tables(result, quantiles), path, fmt)
