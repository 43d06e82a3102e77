"""Pilot results that calibrate initiative lifts: a small YAML or CSV file with one row per
measured lift (initiative, segment, metric csat|nps, lift in survey points, se in points).

YAML form::

    pilots:
      - {initiative: self_service_portal, segment: SMB-EU, metric: csat, lift: 4.0, se: 1.0}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from cxroi.catalogue import Initiative
from cxroi.errors import DataError

COLUMNS = ("initiative", "segment", "metric", "lift", "se")
METRICS = ("csat", "nps")


@dataclass(frozen=True)
class Pilot:
    """One measured lift at full effect: ``lift`` ± ``se`` points of ``metric`` in ``segment``."""

    initiative: str
    segment: str
    metric: str
    lift: float
    se: float


def _rows(path: Path) -> list[dict]:
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise DataError(f"{path}: not valid YAML ({exc})") from exc
        rows = raw.get("pilots") if isinstance(raw, dict) else raw
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise DataError(f"{path}: expected a list 'pilots:' of mappings with {', '.join(COLUMNS)}")
        return rows
    if path.suffix.lower() == ".csv":
        try:
            return pd.read_csv(path, dtype={"segment": str}).to_dict("records")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: not a readable CSV file ({exc})") from exc
    raise DataError(f"{path}: pilot results must be a .yaml, .yml or .csv file")


def load_pilots(path: str | Path, catalogue: dict[str, Initiative], segments: list[str]) -> list[Pilot]:
    """Read and check pilot results; every problem is reported at once in one DataError."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: pilot file not found")
    pilots, problems = [], []
    for number, row in enumerate(_rows(path), start=1):
        missing = [c for c in COLUMNS if c not in row or pd.isna(row[c])]
        if missing:
            problems.append(f"row {number}: missing {', '.join(missing)}")
            continue
        initiative, segment, metric = str(row["initiative"]), str(row["segment"]), str(row["metric"]).lower()
        if initiative not in catalogue:
            problems.append(f"row {number}: initiative '{initiative}' is not in the catalogue")
        if segment not in segments:
            problems.append(f"row {number}: segment '{segment}' is not in the panel")
        if metric not in METRICS:
            problems.append(f"row {number}: metric must be csat or nps, got '{metric}'")
        try:
            lift, se = float(row["lift"]), float(row["se"])
        except (TypeError, ValueError):
            problems.append(f"row {number}: lift and se must be numbers")
            continue
        if not se > 0:
            problems.append(f"row {number}: se must be > 0 points")
            continue
        pilots.append(Pilot(initiative, segment, metric, lift, se))
    if problems:
        raise DataError(f"{path}: " + "; ".join(problems))
    return pilots
