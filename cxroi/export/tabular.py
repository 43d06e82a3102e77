"""CSV and Parquet writers for the long forecast table (layout in data/README.md, "Forecast exports").

* Parquet: the long table as written by :func:`cxroi.export.tables.build_tables` (text kept as
  is), with the provenance JSON in the file's key-value metadata under ``cxroi.provenance``.
* CSV: the same table (UTF-8, comma, header row, text neutralised against formula injection) and
  a sidecar ``<stem>.provenance.json`` beside it with the same provenance.

Writes are atomic (a failure or a killed process leaves no partial file at the target), and a
CSV and its sidecar are replaced together or not at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cxroi.export.atomic import write_atomically, write_files
from cxroi.export.sanitize import neutralise_frame
from cxroi.export.tables import ForecastTables

PARQUET_METADATA_KEY = b"cxroi.provenance"


def provenance_path(csv_path: str | Path) -> Path:
    """Where the provenance sidecar of a CSV export lives: ``<stem>.provenance.json``."""
    csv_path = Path(csv_path)
    return csv_path.with_name(f"{csv_path.stem}.provenance.json")


def _provenance_json(tables: ForecastTables) -> str:
    return json.dumps(tables.provenance_document(), indent=2, ensure_ascii=False, default=str) + "\n"


def write_csv(tables: ForecastTables, path: str | Path) -> list[Path]:
    """Write the long table to ``path`` and its provenance sidecar; returns both paths."""
    path = Path(path)
    sidecar = provenance_path(path)
    frame = neutralise_frame(tables.long)
    write_files({
        path: lambda tmp: frame.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n"),
        sidecar: lambda tmp: tmp.write_text(_provenance_json(tables), encoding="utf-8"),
    })
    return [path, sidecar]


def write_parquet(tables: ForecastTables, path: str | Path) -> list[Path]:
    """Write the long table to ``path`` as Parquet with the provenance in its metadata."""
    path = Path(path)
    table = pa.Table.from_pandas(tables.long, preserve_index=False)
    metadata = {**(table.schema.metadata or {}), PARQUET_METADATA_KEY: _provenance_json(tables).encode()}
    table = table.replace_schema_metadata(metadata)
    write_atomically(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    return [path]


def read_parquet_provenance(path: str | Path) -> dict:
    """The provenance document stored in a Parquet export's metadata."""
    metadata = pq.read_schema(path).metadata or {}
    return json.loads(metadata[PARQUET_METADATA_KEY])
