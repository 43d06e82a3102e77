"""Which months of a newer panel a decision is tracked over, and the checks that the panel
extends the data of the decision's model (plain errors, nothing computed on a bad panel).

Months are calendar months; forecast month 1 is the month after the model's training window.
Arrays are segments × months in the model's segment order; counts in customers per month,
revenue in currency per month, CSAT in %, NPS in points (NaN where no survey was run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxroi.errors import DataError
from cxroi.manifest import Manifest

#: training months whose CSAT/NPS form the pre-decision level (fewer when the panel has fewer)
PRE_MONTHS = 6


@dataclass(frozen=True)
class Observed:
    """What happened in the model's segments: the last ``n_pre`` training months, then the
    observed forecast months (month 1 = the month after the training window)."""

    segments: tuple[str, ...]
    months: pd.DatetimeIndex  #: n_pre training months then the observed forecast months
    n_pre: int
    customers_start: np.ndarray  #: customers at the start of each month
    churned: np.ndarray
    new_customers: np.ndarray
    revenue: np.ndarray  #: currency per month
    csat: np.ndarray  #: % (NaN = no survey)
    nps: np.ndarray  #: points (NaN = no survey)
    extra_segments: tuple[str, ...]  #: segments of the panel the model does not know (ignored)
    spend: dict[str, np.ndarray]  #: initiative → its spend_<initiative> column (currency per month)

    @property
    def n_forecast(self) -> int:
        """Observed months after the training window."""
        return len(self.months) - self.n_pre

    @property
    def customers_end(self) -> np.ndarray:
        """Customers at the end of each month: start − churned + new."""
        return self.customers_start - self.churned + self.new_customers


def _month(value: str) -> pd.Timestamp:
    return pd.Timestamp(f"{value}-01")


def observed_window(panel: pd.DataFrame, manifest: Manifest, start_month: int, horizon: int,
                    source: str = "panel") -> Observed:
    """The panel's months around the decision, checked: every model segment present, the
    model's last training month present, consecutive months after it (no gap), and at least
    one observed month from the decision's ``start_month`` (forecast month, 1-based). At most
    ``horizon`` forecast months are kept. Raises :class:`DataError` saying what and where."""
    if manifest.training_window is None:
        raise DataError(f"model {manifest.model_id} records no training window: its decisions cannot be tracked")
    end = _month(manifest.training_window.end)
    frame = panel.assign(period=pd.to_datetime(panel["period"]).dt.to_period("M").dt.to_timestamp())
    known = set(frame["segment"].astype(str))
    missing = [s for s in manifest.segments if s not in known]
    if missing:
        raise DataError(f"{source}: does not extend the data of model {manifest.model_id}: segment(s) "
                        f"{', '.join(missing)} of the model are missing (the panel has {', '.join(sorted(known))})")
    last = frame["period"].max()
    if last <= end:
        raise DataError(f"{source}: ends in {last:%Y-%m}, not after the model's training window "
                        f"({manifest.training_window}): it has no newer months to track")
    problems = []
    for segment in manifest.segments:
        months = pd.DatetimeIndex(sorted(frame.loc[frame["segment"] == segment, "period"]))
        if end not in months:
            problems.append(f"segment {segment} lacks the model's last training month {end:%Y-%m}")
            continue
        after = months[months >= end]
        expected = pd.date_range(end, last, freq="MS")
        gaps = expected.difference(after)
        if len(gaps):
            problems.append(f"segment {segment} has a gap: no row for {', '.join(f'{m:%Y-%m}' for m in gaps[:6])}")
    if problems:
        raise DataError(f"{source}: does not extend the data of model {manifest.model_id}: " + "; ".join(problems))
    n_forecast = min(len(pd.date_range(end, last, freq="MS")) - 1, horizon)
    first = end + pd.DateOffset(months=1)
    if n_forecast < start_month:
        start = first + pd.DateOffset(months=start_month - 1)
        raise DataError(f"{source}: has {n_forecast} month(s) after the training window (to {last:%Y-%m}); the "
                        f"decision starts in forecast month {start_month} ({start:%Y-%m}): at least one month "
                        "from its start is needed")
    training = sorted(m for m in frame.loc[frame["period"] <= end, "period"].unique())
    n_pre = min(PRE_MONTHS, len(training))
    months = pd.DatetimeIndex([*training[-n_pre:], *pd.date_range(first, periods=n_forecast, freq="MS")])
    indexed = frame[frame["segment"].isin(manifest.segments)].set_index(["segment", "period"])
    full = pd.MultiIndex.from_product([list(manifest.segments), months], names=["segment", "period"])
    rows = indexed.reindex(full)

    def grid(column: str) -> np.ndarray:
        if column not in rows:
            return np.full((len(manifest.segments), len(months)), np.nan)
        return rows[column].to_numpy(dtype=float).reshape(len(manifest.segments), len(months))

    return Observed(segments=tuple(manifest.segments), months=months, n_pre=n_pre,
                    customers_start=grid("customers_start"), churned=grid("churned"),
                    new_customers=grid("new_customers"), revenue=grid("revenue"), csat=grid("csat"), nps=grid("nps"),
                    extra_segments=tuple(sorted(known - set(manifest.segments))),
                    spend={c.removeprefix("spend_"): grid(c) for c in rows.columns if c.startswith("spend_")})
