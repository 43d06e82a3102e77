"""From a validated panel to the arrays both model families fit (segment × month grids).

Units: counts in customers per month, revenue in currency per month, ARPU in currency per
average active customer per month, CSAT in % and NPS in points. ``zc``/``zn`` are the lagged
deviations from the segment's training mean per 10 points (cxroi.params); relative spend (spend
level) is spend / the catalogue's nominal monthly cost of the segment that month (fixed share +
cost per customer × customers at the start of the month).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxroi.catalogue import Initiative
from cxroi.data.limits import panel_size_problems
from cxroi.data.schema import SPEND_PREFIX, SURVEY_SCORES, month_span
from cxroi.errors import DataError
from cxroi.science import per_ten_points

#: Student-t degrees of freedom of log-ARPU residuals, fixed in both families: heavy enough
#: tails for outlier months, and not identifiable from a few years of monthly data.
ARPU_NU = 6.0
#: fewest months a segment needs (lag + enough months to estimate intercept, trend and effects)
MIN_MONTHS = 12
#: fewest observed months of any one segment (a segment that starts late or has gaps); below
#: this its three per-segment coefficients of each outcome cannot be estimated
MIN_SEGMENT_MONTHS = 6


@dataclass(frozen=True)
class Design:
    """Segment × month arrays of one training window; shape (segments, months) unless noted.
    NaN marks a month in which a segment was not observed (a gap, or before it first appears);
    such months give no likelihood cells."""

    segments: list[str]
    periods: pd.DatetimeIndex
    lag: int
    customers_start: np.ndarray
    churned: np.ndarray
    new_customers: np.ndarray
    revenue: np.ndarray
    csat: np.ndarray
    nps: np.ndarray
    ref_csat: np.ndarray  # (segments,) training mean CSAT, %
    ref_nps: np.ndarray  # (segments,) training mean NPS, points
    relative_spend: dict[str, np.ndarray] = field(repr=False)  # initiative id -> (segments, months)
    warnings: list[str] = field(default_factory=list)
    #: answers behind each month's CSAT / NPS (segments × months; 0 where the survey was not run
    #: or the segment not observed), or None when the panel does not give them for every
    #: surveyed month: the survey error of that score cannot then be modelled
    csat_responses: np.ndarray | None = field(default=None, repr=False)
    nps_responses: np.ndarray | None = field(default=None, repr=False)

    def responses(self, score: str) -> np.ndarray | None:
        """The response-count grid of ``score`` ("csat" or "nps"), None when not known."""
        return getattr(self, f"{score}_responses")

    @property
    def n_segments(self) -> int:
        return len(self.segments)

    @property
    def n_months(self) -> int:
        return len(self.periods)

    @property
    def average_active(self) -> np.ndarray:
        """Average active customers in the month: start − churned/2 + new/2."""
        return self.customers_start - self.churned / 2 + self.new_customers / 2

    @property
    def arpu(self) -> np.ndarray:
        """Revenue per average active customer (currency per customer per month)."""
        return self.revenue / np.maximum(self.average_active, 1.0)

    def z(self, ref_csat: np.ndarray | None = None, ref_nps: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Lagged deviations (zc, zn) per 10 points; column t uses month t − lag, NaN for t < lag.
        References default to this window's means (a backtest passes the training window's)."""
        ref_csat = self.ref_csat if ref_csat is None else ref_csat
        ref_nps = self.ref_nps if ref_nps is None else ref_nps
        zc = np.full(self.csat.shape, np.nan)
        zn = np.full(self.nps.shape, np.nan)
        zc[:, self.lag:] = per_ten_points(self.csat[:, : self.n_months - self.lag], ref_csat[:, None])
        zn[:, self.lag:] = per_ten_points(self.nps[:, : self.n_months - self.lag], ref_nps[:, None])
        return zc, zn

    def cells(self, first: int | None = None, stop: int | None = None,
              ref_csat: np.ndarray | None = None, ref_nps: np.ndarray | None = None) -> Cells:
        """The likelihood cells (segment × month with a lagged CSAT/NPS) of months [first, stop),
        deviations taken from the given references (default: this window's). Months without an
        observation or without a lagged CSAT/NPS are left out."""
        first = self.lag if first is None else max(first, self.lag)
        stop = self.n_months if stop is None else stop
        zc, zn = self.z(ref_csat, ref_nps)
        seg, month = np.meshgrid(np.arange(self.n_segments), np.arange(first, stop), indexing="ij")
        seg, month = seg.ravel(), month.ravel()
        observed = np.isfinite(zc[seg, month]) & np.isfinite(zn[seg, month]) & self.observed[seg, month]
        seg, month = seg[observed], month[observed]
        return Cells(
            segment=seg, month=month, zc=zc[seg, month], zn=zn[seg, month],
            customers_start=self.customers_start[seg, month], churned=self.churned[seg, month],
            new_customers=self.new_customers[seg, month], revenue=self.revenue[seg, month],
            log_arpu=np.log(np.maximum(self.arpu[seg, month], 1e-9)),
        )

    @property
    def observed(self) -> np.ndarray:
        """True where the segment has a complete row for the month (boolean, segments × months)."""
        grids = (self.customers_start, self.churned, self.new_customers, self.revenue, self.csat, self.nps)
        return np.logical_and.reduce([np.isfinite(g) for g in grids])

    @property
    def last_observed(self) -> np.ndarray:
        """Index of each segment's last observed month (segments,)."""
        return self.n_months - 1 - np.argmax(self.observed[:, ::-1], axis=1)

    def state(self) -> dict[str, dict[str, float]]:
        """Starting state of a forecast after the window (registry.STATE_FIELDS), from each
        segment's last observed month."""
        last = self.last_observed
        rows = np.arange(self.n_segments)
        customers = (self.customers_start[rows, last] - self.churned[rows, last]
                     + self.new_customers[rows, last])
        return {
            segment: {
                "customers": float(customers[s]), "csat": float(self.csat[s, last[s]]),
                "nps": float(self.nps[s, last[s]]), "arpu": float(self.arpu[s, last[s]]),
                "ref_csat": float(self.ref_csat[s]), "ref_nps": float(self.ref_nps[s]),
                "t_next": float(self.n_months),
            }
            for s, segment in enumerate(self.segments)
        }

    def window(self) -> dict[str, str]:
        return {"start": f"{self.periods[0]:%Y-%m}", "end": f"{self.periods[-1]:%Y-%m}"}

    def truncated(self, months: int) -> Design:
        """The first ``months`` months as their own training window (references recomputed)."""
        return build_design_from_arrays(self, months)

    def subset(self, keep: list[int]) -> Design:
        """Only the segments at indices ``keep`` (in that order)."""
        arrays = {name: getattr(self, name)[keep]
                  for name in (*GRID_COLUMNS, "ref_csat", "ref_nps")}
        arrays.update({f"{score}_responses": None if self.responses(score) is None else self.responses(score)[keep]
                       for score in SURVEY_SCORES})
        return Design(segments=[self.segments[i] for i in keep], periods=self.periods, lag=self.lag, **arrays,
                      relative_spend={k: v[keep] for k, v in self.relative_spend.items() if v[keep].any()},
                      warnings=list(self.warnings))

    def short_segments(self) -> list[int]:
        """Indices of segments observed in fewer than MIN_SEGMENT_MONTHS months."""
        return [s for s in range(self.n_segments) if self.observed[s].sum() < MIN_SEGMENT_MONTHS]


@dataclass(frozen=True)
class Cells:
    """Flat likelihood cells (one entry per segment × month); ``month`` counts from the window start."""

    segment: np.ndarray
    month: np.ndarray
    zc: np.ndarray
    zn: np.ndarray
    customers_start: np.ndarray
    churned: np.ndarray
    new_customers: np.ndarray
    revenue: np.ndarray
    log_arpu: np.ndarray

    def __len__(self) -> int:
        return len(self.segment)


def _grid(panel: pd.DataFrame, column: str, segments: list[str], periods: pd.DatetimeIndex) -> np.ndarray:
    wide = panel.pivot(index="segment", columns="period", values=column).reindex(index=segments, columns=periods)
    return wide.to_numpy(dtype=float)


def _row_means(grid: np.ndarray) -> np.ndarray:
    """Mean of each row over its observed (finite) months; NaN for a row with none."""
    counts = np.isfinite(grid).sum(axis=1)
    return np.where(counts > 0, np.nansum(grid, axis=1) / np.maximum(counts, 1), np.nan)


def _interpolate_unsurveyed(grid: np.ndarray, present: np.ndarray, segments: list[str], periods: pd.DatetimeIndex,
                            label: str) -> tuple[np.ndarray, list[str]]:
    """Scores of months a segment was observed but not surveyed, interpolated linearly between
    its surveyed months (the nearest surveyed value before the first or after the last), so the
    month's churn, revenue and acquisition still count; one note per segment naming the months.
    Months the segment was not observed at all stay NaN."""
    filled = grid.copy()
    notes = []
    months = np.arange(grid.shape[1])
    for s, segment in enumerate(segments):
        surveyed = np.isfinite(grid[s])
        gaps = present[s] & ~surveyed
        if not gaps.any() or not surveyed.any():
            continue
        filled[s, gaps] = np.interp(months[gaps], months[surveyed], grid[s, surveyed])
        shown = ", ".join(f"{m:%Y-%m}" for m in periods[gaps][:6]) + (", …" if gaps.sum() > 6 else "")
        notes.append(f"segment '{segment}': no {label} survey in {int(gaps.sum())} month(s) ({shown}); the score "
                     "is interpolated between surveyed months, which understates how uncertain it is")
    return filled, notes


GRID_COLUMNS = ("customers_start", "churned", "new_customers", "revenue", "csat", "nps")


def build_design(panel: pd.DataFrame, catalogue: dict[str, Initiative], lag: int = 1) -> Design:
    """Arrays of a validated panel over the months from its first to its last; a segment may
    start late or miss months (those cells are NaN and left out of the likelihood) but needs
    MIN_SEGMENT_MONTHS observed months. Spend columns of initiatives missing from the catalogue
    are ignored with a warning. A panel over the size limits of cxroi.data.limits is refused."""
    if lag < 0:
        raise DataError(f"lag must be ≥ 0 months, got {lag}")
    segments = sorted(panel["segment"].unique())
    oversized = panel_size_problems(len(panel), len(segments), month_span(panel["period"]))
    if oversized:
        raise DataError("; ".join(oversized))
    periods = pd.date_range(panel["period"].min(), panel["period"].max(), freq="MS")
    counts = panel.groupby("segment")["period"].nunique()
    short = [f"{s} ({counts[s]})" for s in segments if counts[s] < MIN_SEGMENT_MONTHS]
    if short:
        raise DataError(
            f"segments observed in fewer than {MIN_SEGMENT_MONTHS} months: {', '.join(short)}; "
            "remove them from the panel or wait for more months"
        )
    if len(periods) < MIN_MONTHS + lag:
        raise DataError(f"the panel has {len(periods)} months; training needs at least {MIN_MONTHS + lag}")
    warnings: list[str] = []
    relative: dict[str, np.ndarray] = {}
    for column in (c for c in panel.columns if c.startswith(SPEND_PREFIX)):
        initiative = column.removeprefix(SPEND_PREFIX)
        if initiative not in catalogue:
            warnings.append(f"column '{column}': initiative '{initiative}' is not in the catalogue; ignored")
            continue
        spend = np.nan_to_num(_grid(panel, column, segments, periods), nan=0.0)
        if spend.any():  # spend level: spend / the nominal cost of each segment's customers that month
            entry = catalogue[initiative]
            nominal = entry.nominal_cost(np.nan_to_num(_grid(panel, "customers_start", segments, periods)),
                                         len(entry.reach(segments)))
            relative[initiative] = np.divide(spend, nominal, out=np.zeros_like(spend), where=nominal > 0)
    grids = {c: _grid(panel, c, segments, periods) for c in GRID_COLUMNS}
    present = np.isfinite(grids["customers_start"])
    for column in SURVEY_SCORES:
        grids[f"{column}_responses"] = _response_grid(panel, column, segments, periods, grids[column])
        grids[column], notes = _interpolate_unsurveyed(grids[column], present, segments, periods, column.upper())
        warnings += notes
    design = Design(segments=segments, periods=periods, lag=lag, **grids,
                    ref_csat=_row_means(grids["csat"]), ref_nps=_row_means(grids["nps"]),
                    relative_spend=relative, warnings=warnings)
    return Design(**{**design.__dict__, "warnings": warnings + separation_warnings(design)})


def _response_grid(panel: pd.DataFrame, score: str, segments: list[str], periods: pd.DatetimeIndex,
                   scores: np.ndarray) -> np.ndarray | None:
    """Answers behind each surveyed month of ``score`` (0 where the survey was not run), or None
    when the panel has no ``<score>_responses`` column or leaves a surveyed month without a
    positive count."""
    column = f"{score}_responses"
    if column not in panel.columns:
        return None
    counts = _grid(panel, column, segments, periods)
    surveyed = np.isfinite(scores)
    if not (np.isfinite(counts[surveyed]) & (counts[surveyed] > 0)).all():
        return None
    return np.where(surveyed, np.nan_to_num(counts, nan=0.0), 0.0)


def build_design_from_arrays(design: Design, months: int) -> Design:
    """``design`` cut to its first ``months`` months, with references of the shorter window."""
    cut = {name: getattr(design, name)[:, :months] for name in GRID_COLUMNS}
    cut.update({f"{score}_responses": None if design.responses(score) is None else design.responses(score)[:, :months]
                for score in SURVEY_SCORES})
    return Design(
        segments=design.segments, periods=design.periods[:months], lag=design.lag, **cut,
        ref_csat=_row_means(cut["csat"]), ref_nps=_row_means(cut["nps"]),
        relative_spend={k: v[:, :months] for k, v in design.relative_spend.items() if v[:, :months].any()},
        warnings=list(design.warnings),
    )


def separation_warnings(design: Design) -> list[str]:
    """Segments whose churn is 0 % or 100 % in some months: the logit effects are then pushed to
    ±∞ by the likelihood alone and held finite only by priors (Bayes) or a penalty (regression)."""
    out = []
    cells = design.cells()
    for s, segment in enumerate(design.segments):
        here = cells.segment == s
        n = cells.customers_start[here]
        extreme = (cells.churned[here] == 0) | (cells.churned[here] == n)
        if extreme.any():
            out.append(
                f"segment '{segment}': churn is 0 % or 100 % in {int(extreme.sum())} of {int(here.sum())} "
                "months (separation); churn estimates are regularised and less certain than they look"
            )
    return out
