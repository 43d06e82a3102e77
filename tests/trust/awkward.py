"""Awkward panels built from small synthetic ones, each with exactly one problem of a known kind.

Every builder returns a panel in the layout of cxroi.data.schema (segment, period, counts, CSAT,
NPS, spend columns) that passes validation, so the fit and the checks see it as a user would.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxroi.data.synth import generate

SEGMENTS, MONTHS, SEED = 3, 24, 11
TINY = "Tiny-EU"
AFFECTED = "SMB-EU"  # the segment a builder makes awkward (first synthetic segment)


def base(seed: int = SEED, **effects: float) -> pd.DataFrame:
    """A small, clean panel (3 segments × 24 months) with optional population-mean effects."""
    return generate(segments=SEGMENTS, months=MONTHS, seed=seed, effects=effects or None).panel


def _restock(panel: pd.DataFrame) -> pd.DataFrame:
    """Recompute customers_start from the stock-flow identity after churned was changed."""
    out = panel.sort_values(["segment", "period"]).reset_index(drop=True)
    for _, rows in out.groupby("segment"):
        start = int(rows["customers_start"].iloc[0])
        flow = (rows["new_customers"] - rows["churned"]).to_numpy()
        stock = start + np.concatenate([[0], np.cumsum(flow)[:-1]])
        out.loc[rows.index, "customers_start"] = stock
    return out


def perfect_separation() -> pd.DataFrame:
    """In AFFECTED, nobody churns in months that follow above-median CSAT; the other months keep
    their churners — CSAT one month earlier separates churn months perfectly."""
    panel = base().sort_values(["segment", "period"]).reset_index(drop=True)
    rows = panel.index[panel["segment"] == AFFECTED]
    csat = panel.loc[rows, "csat"].to_numpy()
    happy_before = np.concatenate([[False], csat[:-1] > np.median(csat[:-1])])
    panel.loc[rows[happy_before], "churned"] = 0
    return _restock(panel)


def no_effect() -> pd.DataFrame:
    """Every CX effect is zero in truth."""
    return base(churn_csat=0.0, churn_nps=0.0, arpu_csat=0.0, acq_nps=0.0)


def unexpected_sign() -> pd.DataFrame:
    """Higher CSAT goes with more churn (population mean +0.5 logit per 10 points)."""
    return base(churn_csat=0.5)


def small_segment() -> pd.DataFrame:
    """A fourth segment, TINY, with about 30 customers (tiny-scale synthetic SMB data)."""
    tiny = generate(segments=1, months=MONTHS, seed=SEED + 1, scale=0.0006).panel
    tiny["segment"] = TINY
    return pd.concat([base(), tiny], ignore_index=True)


def missing_months(months: tuple[int, ...] = (9, 10, 15)) -> pd.DataFrame:
    """AFFECTED lacks three months in the middle of the panel (0-based month numbers)."""
    panel = base()
    periods = sorted(panel["period"].unique())
    drop = (panel["segment"] == AFFECTED) & panel["period"].isin([periods[m] for m in months])
    return panel.loc[~drop].reset_index(drop=True)


def constant_csat(level: float = 75.0) -> pd.DataFrame:
    """AFFECTED reports exactly the same CSAT every month."""
    panel = base()
    panel.loc[panel["segment"] == AFFECTED, "csat"] = level
    return panel


def late_segment(last: int = 8) -> pd.DataFrame:
    """AFFECTED appears only in the last ``last`` months."""
    panel = base()
    periods = sorted(panel["period"].unique())
    drop = (panel["segment"] == AFFECTED) & panel["period"].isin(periods[: len(periods) - last])
    return panel.loc[~drop].reset_index(drop=True)


#: name -> (builder, expected warning code, segment the warning names or None)
CASES = {
    "perfect_separation": (perfect_separation, "separation", AFFECTED),
    "no_effect": (no_effect, "no_effect", None),
    "unexpected_sign": (unexpected_sign, "unexpected_sign", None),
    "small_segment": (small_segment, "small_segment", TINY),
    "missing_months": (missing_months, "missing_months", AFFECTED),
    "constant_csat": (constant_csat, "constant_csat", AFFECTED),
    "late_segment": (late_segment, "late_segment", AFFECTED),
}
