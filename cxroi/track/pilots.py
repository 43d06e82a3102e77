"""Proposed pilot results from a tracked decision, in the form cxroi.fit.pilots reads
(initiative, segment, metric, lift, se; lift and se in survey points at full effect), with the
method and the share of full effect they were scaled from as extra columns. Written only to a
file the user names; never fed to a training by itself."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cxroi.errors import DataError
from cxroi.fileio import atomic_write_text

COLUMNS = ("initiative", "segment", "metric", "lift", "se", "method", "share_of_full_effect")


def pilots_csv(pilots: pd.DataFrame) -> str:
    """The proposal as CSV text (an empty proposal keeps the header)."""
    return pilots.reindex(columns=list(COLUMNS)).to_csv(index=False, lineterminator="\n", float_format="%.6g")


def write_proposal(pilots: pd.DataFrame, path: str | Path) -> Path:
    """Write the proposal to ``path`` (a .csv file), atomically."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise DataError(f"{path}: proposed pilot results are written as a .csv file")
    atomic_write_text(path, pilots_csv(pilots))
    return path
