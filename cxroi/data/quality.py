"""Awkward-data checks: specific, plain-language warnings about what a panel or a fit cannot tell.

Two kinds of check, each returning a list of :class:`QualityWarning` instead of raising:

* :func:`panel_warnings` looks at a validated panel before fitting — a segment with fewer than
  :data:`MIN_CUSTOMERS` customers, missing months, a segment that appears only in the last months,
  CSAT (or NPS) constant within a segment, churners perfectly separated by satisfaction;
* :func:`no_effect_warnings` looks at fitted parameter draws (cxroi.params names, draws ×
  segments) — a CX effect with no detectable average link. Effects of the unexpected sign are
  reported by the fit's own diagnostics (cxroi.fit.diagnostics.sign_warnings).

Messages name the segment and say what it means for the estimates; ``str(warning)`` is what goes
into a model manifest's ``warnings`` list, the CLI output, the report and the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxroi.manifest import Caveat
from cxroi.params import CX_EFFECTS, EFFECT_LABELS

#: a segment with fewer customers than this (median over its months) has too few churners to
#: learn its own links; its estimates lean on the other segments
MIN_CUSTOMERS = 50
#: CSAT/NPS varying by less than this (points, max − min) within a segment counts as constant
CONSTANT_RANGE_POINTS = 1e-6
#: central interval used to call an effect "detected"
INTERVAL = 0.90
#: the effects through which a survey score acts, and the churn effects
EFFECTS_OF_SCORE = {"csat": ("churn_csat", "arpu_csat"), "nps": ("churn_nps", "acq_nps")}
CHURN_EFFECTS = ("churn_csat", "churn_nps")


@dataclass(frozen=True)
class QualityWarning:
    """One finding: ``code`` names the check (e.g. ``small_segment``), ``segment`` the segment
    concerned (None for the whole panel or model), ``message`` the text shown to users, ``effects``
    the CX effects it puts in doubt (cxroi.params names; empty = all of the segment's)."""

    code: str
    segment: str | None
    message: str
    effects: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.message

    def caveat(self) -> Caveat:
        """The finding as a caveat stored with the model and carried by every result from it."""
        return Caveat(code=self.code, text=self.message, segments=(self.segment,) if self.segment else (),
                      effects=self.effects)


#: what every model fitted today assumes about survey scores
SURVEY_ERROR_IGNORED = QualityWarning(
    "survey_error_ignored", None,
    "CSAT and NPS are taken as exact: survey sampling error is not modelled, which biases the estimated "
    "effects toward zero when few customers answer each month (see csat_responses / nps_responses)",
    CX_EFFECTS,
)


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
                    "other segments and the priors", EFFECTS_OF_SCORE[column],
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
                "identified and rest on the priors", CHURN_EFFECTS,
            ))
        elif not some.all() and (x[some].max() < x[~some].min() or x[some].min() > x[~some].max()):
            out.append(QualityWarning(
                "separation", str(segment),
                f"segment '{segment}': satisfaction perfectly separates months with churners from months "
                f"without ({int(some.sum())} vs {int((~some).sum())} months); the churn effects are "
                "regularised by the priors and less certain than they look", CHURN_EFFECTS,
            ))
    return out


PANEL_CHECKS: tuple[Callable[[pd.DataFrame, int], list[QualityWarning]], ...] = (
    small_segments, coverage_gaps, constant_scores, separated_churn,
)


def panel_warnings(panel: pd.DataFrame, lag: int = 1) -> list[QualityWarning]:
    """Every panel-level warning of a validated panel (columns of cxroi.data.schema), with lagged
    checks using ``lag`` months."""
    return [w for check in PANEL_CHECKS for w in check(panel, lag)]


def no_effect_warnings(draws: dict[str, np.ndarray], segments: list[str]) -> list[QualityWarning]:
    """One warning per CX effect (draws × segments, cxroi.params names) whose average over
    segments has a 90 % interval containing zero: the data show no detectable link, and forecasts
    through it are mostly uncertainty. (Effects of the unexpected sign are reported by
    :func:`cxroi.fit.diagnostics.sign_warnings`.)"""
    out = []
    tail = (1.0 - INTERVAL) / 2.0
    for name in CX_EFFECTS:
        if name not in draws:
            continue
        label = EFFECT_LABELS[name]
        average = np.asarray(draws[name], dtype=float).mean(axis=1)
        low, high = np.quantile(average, [tail, 1.0 - tail])
        if low <= 0 <= high:
            out.append(QualityWarning(
                "no_effect", None,
                f"no detectable effect of {label} ({name}): the 90 % interval of its average over "
                f"{len(segments)} segment(s), {low:+.3f} to {high:+.3f} per 10 points, contains 0; "
                "forecasts through this link are mostly uncertainty", (name,),
            ))
    return out


def warning_texts(warnings: list[QualityWarning]) -> list[str]:
    """The messages, in order, without duplicates (for a manifest's ``warnings`` list)."""
    return list(dict.fromkeys(str(w) for w in warnings))
