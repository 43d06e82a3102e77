"""Size limits of what cxroi reads, each set by an environment variable (read when checked).

A segment × month panel is small: these limits are far above any real one and stop a wrong or
hostile input (customer-level data, a decompression bomb, a generated panel of thousands of
segments) before it takes memory or hours of sampling. Standard library only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cxroi.errors import DataError


@dataclass(frozen=True)
class Limit:
    """A positive whole-number limit: ``setting`` (environment variable), ``default`` and what
    it counts (``unit``, plural, e.g. "segments")."""

    setting: str
    default: int
    unit: str

    def value(self) -> int:
        """The limit now in force; a setting that is not a positive whole number is a DataError."""
        text = os.environ.get(self.setting, "").strip()
        if not text:
            return self.default
        try:
            number = int(text.replace("_", ""))
        except ValueError:
            number = 0
        if number <= 0:
            raise DataError(f"{self.setting} must be a positive whole number of {self.unit}, not '{text}'")
        return number

    def problem(self, found: int, what: str) -> str | None:
        """'the panel has 10,000 segments, more than the 500 allowed (CXROI_MAX_SEGMENTS)' when
        ``found`` exceeds the limit, else None; ``what`` names the thing measured."""
        allowed = self.value()
        if found <= allowed:
            return None
        return (f"{what} has {found:,} {self.unit}, more than the {allowed:,} allowed ({self.setting}; "
                "raise it if this is intended)")


PANEL_ROWS = Limit("CXROI_MAX_PANEL_ROWS", 1_000_000, "rows")
PANEL_SEGMENTS = Limit("CXROI_MAX_SEGMENTS", 500, "segments")
PANEL_MONTHS = Limit("CXROI_MAX_MONTHS", 600, "months")
#: decompressed size of an Excel workbook (all its zip members), in MB (2**20 bytes)
XLSX_UNZIPPED_MB = Limit("CXROI_MAX_XLSX_UNZIPPED_MB", 512, "MB once decompressed")
#: columns of a worksheet (a panel has a dozen, plus one per initiative's spend)
SHEET_COLUMNS = Limit("CXROI_MAX_SHEET_COLUMNS", 1000, "columns")


def panel_size_problems(rows: int, segments: int, months: int, what: str = "the panel") -> list[str]:
    """Every limit a panel of ``rows`` rows, ``segments`` segments and ``months`` months (first to
    last, inclusive) exceeds, in words."""
    found = ((PANEL_ROWS, rows), (PANEL_SEGMENTS, segments), (PANEL_MONTHS, months))
    return [p for limit, count in found if (p := limit.problem(count, what)) is not None]
