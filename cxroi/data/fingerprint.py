"""A content hash of the canonical panel: same rows and values ⇒ same fingerprint."""

from __future__ import annotations

import hashlib

import pandas as pd


def panel_fingerprint(panel: pd.DataFrame) -> str:
    """SHA-256 (hex, prefixed 'sha256:') of the panel sorted by segment and period with columns in
    name order, rendered as CSV with full float precision; independent of row and column order."""
    canonical = panel.sort_values(["segment", "period"]).reindex(sorted(panel.columns), axis=1)
    canonical = canonical.assign(period=pd.to_datetime(canonical["period"]).dt.strftime("%Y-%m-%d"))
    text = canonical.to_csv(index=False, float_format="%.17g", lineterminator="\n")
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
