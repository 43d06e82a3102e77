"""Awkward-data checks: specific, plain-language warnings about what a panel or a fit cannot tell.

Two kinds of check, each returning a list of :class:`QualityWarning` instead of raising:

* :func:`panel_warnings` looks at a validated panel before fitting — a segment with fewer than
  :data:`MIN_CUSTOMERS` customers, missing months, a segment that appears only in the last months,
  CSAT (or NPS) constant within a segment, churners perfectly separated by satisfaction;
* :func:`effect_warnings` looks at fitted parameter draws (cxroi.params names, draws × segments)
  — no detectable CX effect in any segment, an effect whose sign is the opposite of what theory
  expects (reported, never hidden or clipped).

Messages name the segment and say what it means for the estimates; ``str(warning)`` is what goes
into a model manifest's ``warnings`` list, the CLI output, the report and the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: a segment with fewer customers than this (median over its months) has too few churners to
#: learn its own links; its estimates lean on the other segments
MIN_CUSTOMERS = 50
#: a segment whose history is shorter than this (months) is "new": its effects come from pooling
SHORT_HISTORY_MONTHS = 12
#: CSAT/NPS varying by less than this (points, max − min) within a segment counts as constant
CONSTANT_RANGE_POINTS = 1e-6
#: central interval used to call an effect "detected" or "of the unexpected sign"
INTERVAL = 0.90
#: sign theory expects for each CX effect (+1 or −1), with what it measures
EXPECTED_SIGN: dict[str, tuple[int, str]] = {
    "churn_csat": (-1, "higher CSAT should lower churn"),
    "churn_nps": (-1, "higher NPS should lower churn"),
    "arpu_csat": (+1, "higher CSAT should raise revenue per customer"),
    "acq_nps": (+1, "higher NPS should bring more new customers"),
}
EFFECT_LABELS = {
    "churn_csat": "CSAT on churn", "churn_nps": "NPS on churn",
    "arpu_csat": "CSAT on revenue per customer", "acq_nps": "NPS on acquisition",
}


@dataclass(frozen=True)
class QualityWarning:
    """One finding: ``code`` names the check (e.g. ``small_segment``), ``segment`` the segment
    concerned (None for the whole panel or model), ``message`` the text shown to users."""

    code: str
    segment: str | None
    message: str

    def __str__(self) -> str:
        return self.message


def _months(periods: pd.Series) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(sorted(pd.to_datetime(periods).unique()))


def small_segments(panel: pd.DataFrame, lag: int = 1) -> list[QualityWarning]:
    """Segments whose median customers at start of month is below :data:`MIN_CUSTOMERS`."""
    median = panel.groupby("segment")["customers_start"].median()
    return [
        QualityWarning(
            "small_segment", str(segment),
            f"segment '{segment}': only {value:.0f} customers (fewer than {MIN_CUSTOMERS}); too few "
            "churners to learn its own effects — its estimates lean on the other segments and are uncertain",
        )
        for segment, value in median.items() if value < MIN_CUSTOMERS
    ]


def coverage_gaps(panel: pd.DataFrame, lag: int = 1) -> list[QualityWarning]:
    """Segments missing months: late starters (only the last months), early stoppers and gaps."""
    span = _months(panel["period"])
    out = []
    for segment, periods in panel.groupby("segment")["period"]:
        have = _months(periods)
        if have[0] > span[0]:
            out.append(QualityWarning(
                "late_segment", str(segment),
                f"segment '{segment}' appears only in the last {len(span[span >= have[0]])} of "
                f"{len(span)} months (from {have[0]:%Y-%m}); its effects come mostly from the other "
                "segments and its baseline is uncertain",
            ))
        inside = pd.date_range(have[0], span[-1], freq="MS").difference(have)
        if len(inside):
            shown = ", ".join(f"{m:%Y-%m}" for m in inside[:6]) + (", …" if len(inside) > 6 else "")
            out.append(QualityWarning(
                "missing_months", str(segment),
                f"segment '{segment}': {len(inside)} missing month(s) ({shown}); the fit uses the months "
                "observed and treats the gaps as unknown",
            ))
    return out


def constant_scores(panel: pd.DataFrame, lag: int = 1) -> list[QualityWarning]:
    """Segments whose CSAT or NPS never moves: their effects cannot be learned from their history."""
    out = []
    for column, label in (("csat", "CSAT"), ("nps", "NPS")):
        spread = panel.groupby("segment")[column].agg(lambda v: v.max() - v.min())
        for segment, value in spread.items():
            if value <= CONSTANT_RANGE_POINTS:
                level = panel.loc[panel["segment"] == segment, column].iloc[0]
                out.append(QualityWarning(
                    f"constant_{column}", str(segment),
                    f"segment '{segment}': {label} is constant ({level:.1f}) in every month; the effects "
                    f"of {label} in this segment cannot be learned from its history and come from the "
                    "other segments and the priors",
                ))
    return out


def separated_churn(panel: pd.DataFrame, lag: int = 1) -> list[QualityWarning]:
    """Segments where the CSAT of ``lag`` months earlier perfectly separates months with churners
    from months without (or where churn is always zero): the likelihood alone would push the
    churn effects to ±∞, so they are held finite only by the priors / penalty."""
    out = []
    for segment, rows in panel.sort_values("period").groupby("segment"):
        x = rows["csat"].to_numpy(dtype=float)[: len(rows) - lag]
        churned = rows["churned"].to_numpy(dtype=float)[lag:]
        if len(x) == 0:
            continue
        some = churned > 0
        if not some.any():
            out.append(QualityWarning(
                "separation", str(segment),
                f"segment '{segment}': no customer churned in any month; churn effects are not "
                "identified and rest on the priors",
            ))
        elif not some.all() and (x[some].max() < x[~some].min() or x[some].min() > x[~some].max()):
            out.append(QualityWarning(
                "separation", str(segment),
                f"segment '{segment}': satisfaction perfectly separates months with churners from months "
                f"without ({int(some.sum())} vs {int((~some).sum())} months); the churn effects are "
                "regularised by the priors and less certain than they look",
            ))
    return out


PANEL_CHECKS: tuple[Callable[[pd.DataFrame, int], list[QualityWarning]], ...] = (
    small_segments, coverage_gaps, constant_scores, separated_churn,
)


def panel_warnings(panel: pd.DataFrame, lag: int = 1) -> list[QualityWarning]:
    """Every panel-level warning of a validated panel (columns of cxroi.data.schema), with lagged
    checks using ``lag`` months."""
    return [w for check in PANEL_CHECKS for w in check(panel, lag)]


def _interval(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tail = (1.0 - INTERVAL) / 2.0
    return np.quantile(values, tail, axis=0), np.quantile(values, 1.0 - tail, axis=0)


def effect_warnings(draws: dict[str, np.ndarray], segments: list[str]) -> list[QualityWarning]:
    """Warnings from fitted effects (draws × segments per cxroi.params name): an effect whose
    90 % interval lies entirely on the unexpected side of zero (per segment), and an effect whose
    average over segments has a 90 % interval containing zero ("no detectable effect")."""
    out = []
    for name, (sign, meaning) in EXPECTED_SIGN.items():
        if name not in draws:
            continue
        values = np.asarray(draws[name], dtype=float)
        low, high = _interval(values)
        wrong = (high < 0) if sign > 0 else (low > 0)
        for s in np.flatnonzero(wrong):
            out.append(QualityWarning(
                "unexpected_sign", segments[s],
                f"segment '{segments[s]}': effect of {EFFECT_LABELS[name]} ({name}) has the unexpected "
                f"sign, 90 % interval {low[s]:+.3f} to {high[s]:+.3f} per 10 points ({meaning}); check the "
                "data (survey scale, segment mapping) before relying on it",
            ))
        mean_low, mean_high = _interval(values.mean(axis=1))
        if mean_low <= 0 <= mean_high:
            out.append(QualityWarning(
                "no_effect", None,
                f"no detectable effect of {EFFECT_LABELS[name]} ({name}): the 90 % interval of its average "
                f"over segments, {mean_low:+.3f} to {mean_high:+.3f} per 10 points, contains 0; forecasts "
                "through this link are mostly uncertainty",
            ))
    return out


def warning_texts(warnings: list[QualityWarning]) -> list[str]:
    """The messages, in order, without duplicates (for a manifest's ``warnings`` list)."""
    return list(dict.fromkeys(str(w) for w in warnings))
