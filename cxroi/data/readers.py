"""Read a panel from CSV, Parquet or Excel with plain-language errors and a size limit."""

from __future__ import annotations

import contextlib
import io
import math
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pyarrow.parquet as pq

from cxroi.data.limits import PANEL_ROWS, SHEET_COLUMNS, XLSX_UNZIPPED_MB
from cxroi.data.schema import Finding, validate_panel
from cxroi.errors import DataError
from cxroi.fileio import megabytes_setting

#: setting (environment variable) for the largest panel file accepted, in megabytes (2**20 bytes);
#: a segment × month panel is tiny, so anything bigger is a wrong file (customer-level data belongs
#: to `cxroi data aggregate`)
SIZE_SETTING = "CXROI_MAX_PANEL_MB"
DEFAULT_MAX_PANEL_MB = 200
#: a column name pandas gave a repeated header cell ('revenue' → 'revenue.1')
_RENAMED = re.compile(r"(.+)\.\d+")
#: the <dimension ref="A1:L100"/> element near the start of a worksheet's XML
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?"')
_SHEET_XML = re.compile(r"xl/worksheets/[^/]+\.xml")
_DIMENSION_BYTES = 1 << 16  # the element comes before the cells; read no further

FORMATS = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "excel", ".xls": "excel"}


def detect_format(name: str) -> str:
    """File format from the file name's extension: 'csv', 'parquet' or 'excel'."""
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"{name}: unsupported file type '{suffix or '(none)'}'; use .csv, .parquet or .xlsx")
    return FORMATS[suffix]


def max_panel_bytes() -> int:
    """The panel size limit in bytes, read from CXROI_MAX_PANEL_MB when called."""
    return megabytes_setting(SIZE_SETTING, DEFAULT_MAX_PANEL_MB, DataError)


def size_text(n_bytes: int) -> str:
    """A file size for messages: '812 bytes', '10.2 KB', '200 MB', '1.5 GB' (units of 1024)."""
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n_bytes} bytes"


def _size_error(label: str, size: int, limit: int) -> DataError:
    shown, allowed = size_text(size), size_text(limit)
    if shown == allowed:  # too close to tell apart once rounded
        shown, allowed = f"{size:,} bytes", f"{limit:,} bytes"
    return DataError(f"{label}: {shown} is larger than the {allowed} panel limit ({SIZE_SETTING}); "
                     "aggregate customer-level data first with `cxroi data aggregate`")


def unclosed_quote(source: Path | BinaryIO) -> str | None:
    """'line N: a quote (") opened here is never closed' for a CSV whose quote never closes, else None.

    Quotes are counted per line: a doubled "" inside a quoted value counts twice, and a value
    quoted across lines closes on a later line."""
    opened = None
    with contextlib.ExitStack() as stack:
        if isinstance(source, Path):
            stream: BinaryIO = stack.enter_context(source.open("rb"))
        else:
            stream = source
            stream.seek(0)
        for number, line in enumerate(stream, start=1):
            if line.count(b'"') % 2:
                opened = number if opened is None else None
    return None if opened is None else f'line {opened}: a quote (") opened here is never closed'


def _restore_repeated_names(table: pd.DataFrame, header: Callable[[], list]) -> pd.DataFrame:
    """pandas renames a repeated header cell 'x' to 'x.1'; give such columns their name from the
    header row back so that validation reports the repetition."""
    names = [str(c) for c in table.columns]
    renamed = [bool((m := _RENAMED.fullmatch(n)) and m.group(1) in names) for n in names]
    if any(renamed):
        original = [str(c) for c in header()]
        if len(original) == len(names):
            table.columns = [o if r else n for n, o, r in zip(names, original, renamed, strict=True)]
    return table


def _column_number(letters: str) -> int:
    """'A' → 1, 'Z' → 26, 'AA' → 27."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def check_workbook_size(data: BinaryIO | Path, label: str) -> None:
    """Refuse an .xlsx whose members decompress to more than CXROI_MAX_XLSX_UNZIPPED_MB, or whose
    worksheets declare (``<dimension ref=…>``) more rows than CXROI_MAX_PANEL_ROWS (plus the
    header) or more columns than CXROI_MAX_SHEET_COLUMNS — read from the zip's directory and the
    first 64 KB of each sheet, before any spreadsheet parser runs."""
    try:
        with zipfile.ZipFile(_rewound(data)) as archive:
            members = archive.infolist()
            unzipped = sum(member.file_size for member in members)
            if problem := XLSX_UNZIPPED_MB.problem(math.ceil(unzipped / 2**20), label):
                raise DataError(f"{problem}; a panel workbook is small, so this is not one "
                                "(or it was built to exhaust memory)")
            for member in members:
                if _SHEET_XML.fullmatch(member.filename):
                    with archive.open(member) as sheet:
                        _check_dimension(sheet.read(_DIMENSION_BYTES), f"{label}, sheet {member.filename}")
    except zipfile.BadZipFile as exc:
        raise DataError(f"{label}: not a readable Excel (.xlsx) file ({exc})") from exc
    finally:
        _rewound(data)


def _check_dimension(head: bytes, label: str) -> None:
    found = _DIMENSION.search(head)
    if found is None:
        return  # a sheet without the element is bounded by the decompressed size alone
    first_col, first_row, last_col, last_row = (g.decode("ascii") if g else None for g in found.groups())
    rows = int(last_row or first_row or 1)
    columns = _column_number(last_col or first_col or "A")
    problems = [p for p in (PANEL_ROWS.problem(rows - 1, label), SHEET_COLUMNS.problem(columns, label)) if p]
    if problems:
        raise DataError("; ".join(problems) + " (declared by the sheet's dimension)")


def _rewound(data: BinaryIO | Path) -> BinaryIO | Path:
    if not isinstance(data, Path):
        data.seek(0)
    return data


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
    limit = max_panel_bytes()
    if size > limit:
        raise _size_error(label, size, limit)
    if Path(label).suffix.lower() == ".xlsx":
        check_workbook_size(data, label)
    try:
        if fmt == "csv":
            table = pd.read_csv(data, dtype={"segment": str}, skipinitialspace=True)
            return _restore_repeated_names(table, lambda: pd.read_csv(
                _rewound(data), header=None, nrows=1, dtype=str, skipinitialspace=True).iloc[0].tolist())
        if fmt == "parquet":
            names = pq.read_schema(data).names
            if len(set(names)) < len(names):  # pandas refuses repeated names; let validation name them
                return pq.ParquetFile(_rewound(data)).read().to_pandas()
            return pd.read_parquet(_rewound(data))
        table = pd.read_excel(data, sheet_name=0, engine="openpyxl")
        return _restore_repeated_names(table, lambda: pd.read_excel(
            _rewound(data), sheet_name=0, engine="openpyxl", header=None, nrows=1).iloc[0].tolist())
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{label}: the file has no columns or rows") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{label}: not a text CSV file (could not decode as UTF-8)") from exc
    except pd.errors.ParserError as exc:
        quote = unclosed_quote(_rewound(data)) if "EOF inside string" in str(exc) else None
        if quote is not None:
            raise DataError(f"{label}: {quote}") from exc
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
