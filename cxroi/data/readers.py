"""Read a panel from CSV, Parquet or Excel with plain-language errors and a size limit."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from cxroi.data.schema import Finding, validate_panel
from cxroi.errors import DataError

#: largest panel file accepted (bytes); a segment × month panel is tiny, so anything bigger is a
#: wrong file (customer-level data belongs to `cxroi data aggregate`). Override with CXROI_MAX_PANEL_MB.
MAX_PANEL_BYTES = int(float(os.environ.get("CXROI_MAX_PANEL_MB", "200")) * 1024 * 1024)

FORMATS = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "excel", ".xls": "excel"}


def detect_format(name: str) -> str:
    """File format from the file name's extension: 'csv', 'parquet' or 'excel'."""
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"{name}: unsupported file type '{suffix or '(none)'}'; use .csv, .parquet or .xlsx")
    return FORMATS[suffix]


def read_table(source: str | Path | BinaryIO, name: str | None = None) -> pd.DataFrame:
    """Read a raw table (no validation) from a path or an uploaded file object.

    Raises :class:`DataError` naming the file and the problem for empty, oversized, unreadable or
    mis-typed files.
    """
    label = name or (str(source) if isinstance(source, (str, Path)) else getattr(source, "name", "upload"))
    fmt = detect_format(label)
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise DataError(f"{label}: file not found")
        size = path.stat().st_size
        data: BinaryIO | Path = path
    else:
        payload = source.read()
        size = len(payload)
        data = io.BytesIO(payload)
    if size == 0:
        raise DataError(f"{label}: the file is empty")
    if size > MAX_PANEL_BYTES:
        raise DataError(
            f"{label}: {size / 1e6:.0f} MB is larger than the {MAX_PANEL_BYTES / 1e6:.0f} MB panel limit; "
            "aggregate customer-level data first with `cxroi data aggregate`"
        )
    try:
        if fmt == "csv":
            return pd.read_csv(data, dtype={"segment": str}, skipinitialspace=True)
        if fmt == "parquet":
            return pd.read_parquet(data)
        return pd.read_excel(data, sheet_name=0, engine="openpyxl")
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{label}: the file has no columns or rows") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{label}: not a text CSV file (could not decode as UTF-8)") from exc
    except pd.errors.ParserError as exc:
        raise DataError(f"{label}: malformed CSV ({str(exc).strip()})") from exc
    except (zipfile.BadZipFile, ValueError, OSError, KeyError) as exc:
        kind = {"parquet": "Parquet", "excel": "Excel (.xlsx)"}.get(fmt, "CSV")
        raise DataError(f"{label}: not a readable {kind} file ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # pyarrow raises its own error classes for corrupt files
        raise DataError(f"{label}: could not be read ({type(exc).__name__}: {exc})") from exc


def load_panel(source: str | Path | BinaryIO, name: str | None = None) -> tuple[pd.DataFrame | None, list[Finding]]:
    """Read and validate a panel. An unreadable file becomes a single error finding."""
    try:
        raw = read_table(source, name)
    except DataError as exc:
        return None, [Finding("error", None, None, str(exc))]
    return validate_panel(raw)
