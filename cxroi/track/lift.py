"""The realised CSAT/NPS lift of a decision in its treated segments, measured on the panel.

For each segment s, its change d_s = mean over the tracked months from the decision's start
(post) − mean over the last training months (pre) of its observed score (survey points; months
without a survey left out). The realised lift is the average over treated segments and post
months of the score gained — what the survey shows, ramp-up included:

* **difference-in-differences** (when there are untreated segments and at least three segments
  in all): mean d over treated − mean d over untreated; standard error from the pooled variance
  of the segments' changes around their group means, s·√(1/n_t + 1/n_u), Student-t with
  n_t + n_u − 2 degrees of freedom. Changes common to all segments (season, a market-wide
  fall in satisfaction) cancel; it assumes treated and untreated segments would have moved alike.
* **against the pre-decision level**: mean d over treated segments. Standard error from the
  spread of the treated segments' changes (t with n_t − 1 degrees of freedom) when there are two
  or more, else from the segment's month-to-month spread in the pre months, widened for lag-1
  autocorrelation ρ by √((1 + ρ)/(1 − ρ)) (t with pre months − 1 degrees of freedom). It counts
  every change since the start (season, market) as the initiative's.

Per-segment estimates (for pilot results) use the same formulas with one treated segment.
Intervals are central (80 % = P10–P90, 90 % = P5–P95).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

DID = "difference-in-differences"
PRE_LEVEL = "against pre-decision level"


@dataclass(frozen=True)
class LiftEstimate:
    """One estimate of the realised lift (survey points, averaged over the post months)."""

    method: str
    estimate: float
    se: float
    df: float

    def interval(self, level: float) -> tuple[float, float]:
        """Central ``level`` interval (e.g. 0.9 → P5–P95), points."""
        if not np.isfinite(self.se):
            return (float("nan"), float("nan"))
        half = stats.t.ppf(0.5 + level / 2, self.df) * self.se if self.se > 0 else 0.0
        return (self.estimate - half, self.estimate + half)

    def draws(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws of the lift from its sampling distribution (estimate + se · t_df)."""
        if not (np.isfinite(self.se) and self.se > 0):
            return np.full(n, self.estimate)
        return self.estimate + self.se * rng.standard_t(self.df, n)


def segment_changes(scores: np.ndarray, n_pre: int, post: slice) -> np.ndarray:
    """d_s = mean of post months − mean of the pre months (the first ``n_pre``), per segment;
    NaN where either window has no survey."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a window without any survey: NaN
        return np.nanmean(scores[:, post], axis=1) - np.nanmean(scores[:, :n_pre], axis=1)


def _time_series_se(series: np.ndarray, n_pre: int, n_post: int) -> tuple[float, float]:
    """Standard error (points) and degrees of freedom of one segment's post − pre mean from its
    pre-month spread, widened for lag-1 autocorrelation."""
    pre = series[:n_pre][np.isfinite(series[:n_pre])]
    if len(pre) < 2:
        return float("nan"), 1.0
    sd = float(np.std(pre, ddof=1))
    rho = 0.0
    if len(pre) >= 3 and sd > 0:
        centred = pre - pre.mean()
        rho = float(np.clip(np.sum(centred[1:] * centred[:-1]) / np.sum(centred**2), 0.0, 0.9))
    return sd * np.sqrt(1 / max(n_post, 1) + 1 / len(pre)) * np.sqrt((1 + rho) / (1 - rho)), float(len(pre) - 1)


def did(changes: np.ndarray, treated: np.ndarray) -> LiftEstimate | None:
    """Difference-in-differences of the segments' ``changes`` (treated mask); None when there is
    no untreated segment or fewer than three segments with a change."""
    ok = np.isfinite(changes)
    t, u = changes[ok & treated], changes[ok & ~treated]
    if len(t) == 0 or len(u) == 0 or len(t) + len(u) < 3:
        return None
    df = len(t) + len(u) - 2
    pooled = np.sqrt((np.sum((t - t.mean()) ** 2) + np.sum((u - u.mean()) ** 2)) / df)
    return LiftEstimate(DID, float(t.mean() - u.mean()), float(pooled * np.sqrt(1 / len(t) + 1 / len(u))), float(df))


def pre_level(changes: np.ndarray, treated: np.ndarray, scores: np.ndarray, n_pre: int, n_post: int) -> LiftEstimate | None:
    """The treated segments' change against their pre-decision level; None without data."""
    ok = np.isfinite(changes) & treated
    t = changes[ok]
    if len(t) == 0:
        return None
    if len(t) >= 2:
        return LiftEstimate(PRE_LEVEL, float(t.mean()), float(np.std(t, ddof=1) / np.sqrt(len(t))), float(len(t) - 1))
    se, df = _time_series_se(scores[np.flatnonzero(ok)[0]], n_pre, n_post)
    return LiftEstimate(PRE_LEVEL, float(t[0]), se, df)


def per_segment(changes: np.ndarray, treated: np.ndarray, scores: np.ndarray, n_pre: int,
                n_post: int) -> dict[int, LiftEstimate]:
    """Each treated segment's own realised lift (by position): against the untreated segments
    when there are at least two with a change (se = s_u·√(1 + 1/n_u), s_u their spread), else
    against its pre-decision level (time-series standard error)."""
    ok = np.isfinite(changes)
    u = changes[ok & ~treated]
    out = {}
    for s in np.flatnonzero(ok & treated):
        if len(u) >= 2:
            se = float(np.std(u, ddof=1) * np.sqrt(1 + 1 / len(u)))
            out[int(s)] = LiftEstimate(DID, float(changes[s] - u.mean()), se, float(len(u) - 1))
        else:
            se, df = _time_series_se(scores[s], n_pre, n_post)
            out[int(s)] = LiftEstimate(PRE_LEVEL, float(changes[s]), se, df)
    return out
