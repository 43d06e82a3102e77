"""The immutable result of simulating one scenario on one model, with export-ready tables.

Array axes: ``draws × segments × months`` (parameter draws of the model, the model's segments in
:attr:`SimulationResult.segments` order, forecast months in :attr:`SimulationResult.months`).
Values are expected values given each parameter draw, so the spread over draws is parameter
uncertainty. Units: customers are counts, revenue/spend/cash flow/value are currency (revenue,
spend and cash flow per month; values are present values at the start of forecast month 1),
ROI and IRR are fractions (IRR per year), payback is a 1-based forecast month.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from cxroi.manifest import Caveat
from cxroi.sim import finance
from cxroi.sim.assumptions import Assumptions
from cxroi.sim.plausibility import Finding, Reviewer
from cxroi.sim.scenario import LEVERS, Scenario

DEFAULT_QUANTILES = (0.1, 0.5, 0.9)
ALL_SEGMENTS = "all"
#: metric of :meth:`SimulationResult.monthly_quantiles` → its unit, in table order. Totals of the
#: world without the investment (baseline_*), with it (scenario_*) and their difference
#: (incremental_*: scenario − baseline, per draw) for customers at the start of the month, customers
#: churned and new customers in the month, revenue and gross profit (revenue × gross margin);
#: then spend, cash flow (incremental gross profit − spend) and its running sum.
MONTHLY_UNITS = {
    "baseline_customers": "customers", "scenario_customers": "customers", "incremental_customers": "customers",
    "baseline_churned": "customers", "scenario_churned": "customers", "incremental_churned": "customers",
    "baseline_new_customers": "customers", "scenario_new_customers": "customers",
    "incremental_new_customers": "customers",
    "baseline_revenue": "currency", "scenario_revenue": "currency", "incremental_revenue": "currency",
    "baseline_gross_profit": "currency", "scenario_gross_profit": "currency", "incremental_gross_profit": "currency",
    "spend": "currency", "cash_flow": "currency", "cumulative_cash_flow": "currency",
}
#: the quantities of which :meth:`SimulationResult.totals` gives baseline, scenario and increment
TOTALS = ("customers", "churned", "new_customers", "revenue", "gross_profit")


@dataclass(frozen=True)
class Paths:
    """Expected monthly paths of one world (baseline or scenario), arrays draws × segments × months."""

    customers: np.ndarray  #: active customers at the start of the month
    churned: np.ndarray  #: customers lost during the month
    new_customers: np.ndarray  #: customers acquired during the month
    revenue: np.ndarray  #: revenue in the month (currency)
    customers_end: np.ndarray  #: active customers after the last month (draws × segments)


@dataclass(frozen=True)
class Provenance:
    """Where a result comes from: the model's manifest fields plus when and by what it was run."""

    model_id: str
    family: str
    training_window: dict
    data_fingerprint: str | None
    diagnostics: dict
    model_cxroi_version: str | None
    model_created_at: str | None
    seed: int | None
    cxroi_version: str
    simulated_at: str
    caveats: tuple[Caveat, ...] = ()  #: the model's caveats that concern this result
    kernel: str = "numpy"  #: the scenario kernel that computed it: "numpy" (reference) or "fused"

    def as_dict(self) -> dict:
        return {**self.__dict__, "caveats": [caveat.model_dump() for caveat in self.caveats]}


def quantile_label(q: float) -> str:
    """Column label of a quantile: 0.1 → 'p10', 0.025 → 'p2.5'."""
    return f"p{100 * q:g}"


def draw_quantiles(values: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Quantiles over the first axis (draws) with numpy's default linear interpolation, shape
    quantile × rest. Equal to ``np.quantile(values, quantiles, axis=0)`` but computed from one
    sort, which is several times faster on draws × segments × months arrays."""
    ordered = np.sort(values, axis=0)
    position = np.asarray(quantiles, dtype=float) * (ordered.shape[0] - 1)
    below = np.floor(position).astype(int)
    above = np.minimum(below + 1, ordered.shape[0] - 1)
    weight = (position - below).reshape(-1, *([1] * (values.ndim - 1)))
    return ordered[below] + (ordered[above] - ordered[below]) * weight


def _quantile_row(values: np.ndarray, quantiles: Sequence[float]) -> dict[str, float]:
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    row = {"mean": float(finite.mean()) if finite.size else np.nan}
    qs = np.quantile(finite, quantiles) if finite.size else np.full(len(quantiles), np.nan)
    row.update({quantile_label(q): float(v) for q, v in zip(quantiles, qs, strict=True)})
    return row


def _payback_row(months: np.ndarray, horizon: int, quantiles: Sequence[float]) -> dict[str, float]:
    """Quantiles of payback months where "never within the horizon" ranks last; a quantile that
    falls beyond the horizon is NaN, and so is the mean if any draw never pays back."""
    ranked = np.where(np.isnan(months), horizon + 1.0, months)
    qs = np.quantile(ranked, quantiles, method="inverted_cdf")
    row = {"mean": float(months.mean()) if not np.isnan(months).any() else np.nan}
    row.update({quantile_label(q): (float(v) if v <= horizon else np.nan)
                for q, v in zip(quantiles, qs, strict=True)})
    return row


def _irr_row(irr: np.ndarray, npv: np.ndarray, quantiles: Sequence[float]) -> dict[str, float]:
    """Quantiles of IRR where draws without an IRR (no sign change) rank last when their NPV is
    negative and first otherwise; a quantile that falls on such a draw is NaN, and so is the mean
    if any draw has no IRR."""
    ranked = np.where(np.isnan(irr), np.where(npv < 0, -np.inf, np.inf), irr)
    qs = np.quantile(ranked, quantiles, method="inverted_cdf")
    row = {"mean": float(irr.mean()) if not np.isnan(irr).any() else np.nan}
    row.update({quantile_label(q): (float(v) if np.isfinite(v) else np.nan) for q, v in zip(quantiles, qs, strict=True)})
    return row


@dataclass(frozen=True)
class Detail:
    """Monthly detail of a scenario, arrays draws × segments × months (currency per month
    except the paths' customer counts)."""

    scenario_paths: Paths  #: the scenario's paths (the baseline's in segments it does not reach)
    incremental_revenue: np.ndarray  #: scenario minus baseline revenue
    cash_flow: np.ndarray  #: incremental revenue × gross margin − spend


@dataclass(frozen=True)
class SimulationResult:
    """Baseline and scenario of one scenario: per-draw values, monthly detail and metrics.

    Computed at once: ``npv_by_segment`` (draws × segments, present value, terminal value
    included), ``total_cash_flow`` (draws × months, all segments, currency per month, terminal
    value excluded), ``incremental_revenue_by_month`` (draws × months, all segments, currency per
    month), ``incremental_revenue_by_segment`` (draws × segments, over the horizon),
    ``incremental_customers_end`` and ``terminal_value`` (draws × segments; the terminal value
    is the present value of the extra customers left at the horizon, zero when off).

    Computed on first use, by ``detail_source`` and ``levers_source``: the monthly
    ``scenario_paths``, ``incremental_revenue`` and ``cash_flow`` per segment (cash flow =
    incremental revenue × gross margin − spend), and ``value_by_lever``, the present value each
    lever contributes (draws × segments); the levers add up to PV(incremental revenue × margin)
    + terminal value, so NPV = Σ levers − PV(spend).
    """

    scenario: Scenario
    model_id: str
    provenance: Provenance
    segments: tuple[str, ...]
    months: pd.DatetimeIndex
    baseline: Paths
    spend: np.ndarray  #: segments × months, currency per month (one-off costs split over segments)
    gross_margin: np.ndarray  #: per segment, fraction of revenue
    monthly_rate: float
    npv_by_segment: np.ndarray
    total_cash_flow: np.ndarray
    incremental_revenue_by_month: np.ndarray
    incremental_revenue_by_segment: np.ndarray
    incremental_customers_end: np.ndarray
    terminal_value: np.ndarray
    detail_source: Callable[[], Detail] = field(repr=False, compare=False)
    levers_source: Callable[[], dict[str, np.ndarray]] = field(repr=False, compare=False)
    #: reviews the result for plausibility (cxroi.sim.plausibility), once, on first use
    plausibility_source: Callable[[SimulationResult], tuple[Finding, ...]] = field(
        default=Reviewer(), repr=False, compare=False)
    #: the lifts and CX effects the result was valued on (cxroi.sim.assumptions); None: not known
    assumptions_source: Callable[[], Assumptions | None] = field(default=lambda: None, repr=False, compare=False)

    # ----------------------------------------------------------------- derived arrays
    @property
    def n_draws(self) -> int:
        return int(self.total_cash_flow.shape[0])

    @property
    def horizon(self) -> int:
        return int(self.total_cash_flow.shape[-1])

    @cached_property
    def detail(self) -> Detail:
        """The monthly detail per segment (computed once, on first use)."""
        return self.detail_source()

    @property
    def scenario_paths(self) -> Paths:
        return self.detail.scenario_paths

    @property
    def incremental_revenue(self) -> np.ndarray:
        """Scenario minus baseline revenue, draws × segments × months (currency per month)."""
        return self.detail.incremental_revenue

    @property
    def cash_flow(self) -> np.ndarray:
        """Incremental revenue × gross margin − spend, draws × segments × months (currency per month)."""
        return self.detail.cash_flow

    @cached_property
    def value_by_lever(self) -> dict[str, np.ndarray]:
        """Present value each lever contributes, draws × segments (currency; computed on first use)."""
        return self.levers_source()

    @cached_property
    def plausibility(self) -> tuple[Finding, ...]:
        """The plausibility review's findings (flags first, then items to review; computed on
        first use; see :mod:`cxroi.sim.plausibility`)."""
        return self.plausibility_source(self)

    @cached_property
    def assumptions(self) -> Assumptions | None:
        """The lift of each investment and the CX effects of each reached segment the result was
        valued on (computed on first use; None when the result does not know them)."""
        return self.assumptions_source()

    @property
    def reached(self) -> np.ndarray:
        """Per segment, whether the scenario reaches it (bool, model segment order)."""
        return np.isin(np.asarray(self.segments), self.scenario.segments)

    @cached_property
    def pv_spend_by_segment(self) -> np.ndarray:
        """Present value of spend per segment (currency)."""
        return finance.present_value(self.spend, self.monthly_rate)

    @property
    def pv_spend(self) -> float:
        """Present value of all spend (currency)."""
        return float(self.pv_spend_by_segment.sum())

    # ----------------------------------------------------------------- per-draw metrics
    @cached_property
    def npv(self) -> np.ndarray:
        """Net present value per draw (currency), terminal value included."""
        return self.npv_by_segment.sum(axis=1)

    @cached_property
    def roi(self) -> np.ndarray:
        """NPV / PV(spend) per draw (fraction)."""
        return finance.roi(self.npv, self.pv_spend)

    @cached_property
    def payback_month(self) -> np.ndarray:
        """Simple payback month per draw (1-based; NaN = not within the horizon)."""
        return finance.payback_month(self.total_cash_flow)

    @cached_property
    def discounted_payback_month(self) -> np.ndarray:
        """Discounted payback month per draw (1-based; NaN = not within the horizon)."""
        return finance.discounted_payback_month(self.total_cash_flow, self.monthly_rate)

    @cached_property
    def irr(self) -> np.ndarray:
        """Annual IRR per draw (fraction); the terminal value counts as a last-month cash flow."""
        flows = self.total_cash_flow.copy()
        flows[:, -1] += self.terminal_value.sum(axis=1) * (1.0 + self.monthly_rate) ** self.horizon
        return finance.irr(flows)

    @property
    def prob_roi_positive(self) -> float:
        """P(ROI > 0) over draws."""
        return finance.probability_positive(self.roi)

    @property
    def expected_npv(self) -> float:
        """Mean NPV over draws (currency)."""
        return float(self.npv.mean())

    # ----------------------------------------------------------------- tables
    def per_draw(self) -> pd.DataFrame:
        """One row per draw: npv, roi, paybacks, irr, terminal value and value by lever."""
        table = pd.DataFrame({
            "draw": np.arange(self.n_draws), "npv": self.npv, "roi": self.roi,
            "payback_month": self.payback_month, "discounted_payback_month": self.discounted_payback_month,
            "irr": self.irr, "pv_spend": self.pv_spend, "terminal_value": self.terminal_value.sum(axis=1),
        })
        for lever in LEVERS:
            table[f"value_{lever}"] = self.value_by_lever[lever].sum(axis=1)
        return table

    def summary(self, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> pd.DataFrame:
        """Metric × (unit, mean, quantiles) over draws, with a last row P(ROI > 0).

        NaN marks a statistic that is not defined: a payback quantile beyond the horizon, an IRR
        quantile falling on a draw without an IRR, a mean over draws where some lack the metric.
        """
        rows = [
            {"metric": "npv", "unit": "currency", **_quantile_row(self.npv, quantiles)},
            {"metric": "roi", "unit": "fraction", **_quantile_row(self.roi, quantiles)},
            {"metric": "payback_month", "unit": "month",
             **_payback_row(self.payback_month, self.horizon, quantiles)},
            {"metric": "discounted_payback_month", "unit": "month",
             **_payback_row(self.discounted_payback_month, self.horizon, quantiles)},
            {"metric": "irr", "unit": "fraction per year", **_irr_row(self.irr, self.npv, quantiles)},
            {"metric": "pv_spend", "unit": "currency",
             **_quantile_row(np.full(self.n_draws, self.pv_spend), quantiles)},
            {"metric": "incremental_revenue", "unit": "currency",
             **_quantile_row(self.incremental_revenue_by_segment.sum(axis=1), quantiles)},
            {"metric": "incremental_customers_end", "unit": "customers",
             **_quantile_row(self.incremental_customers_end.sum(axis=1), quantiles)},
            {"metric": "terminal_value", "unit": "currency",
             **_quantile_row(self.terminal_value.sum(axis=1), quantiles)},
            {"metric": "prob_roi_positive", "unit": "probability", "mean": self.prob_roi_positive},
        ]
        return pd.DataFrame(rows).set_index("metric")

    def totals(self) -> dict[str, dict[str, np.ndarray]]:
        """Baseline, scenario (with the investment) and incremental totals per draw, segment and
        month (draws × segments × months): quantity (:data:`TOTALS`) → {"baseline", "scenario",
        "incremental"}. Customers are counts (at the start of the month; churned and new during
        it), revenue and gross profit (revenue × the segment's gross margin) currency per month.
        The increment is the scenario minus the baseline of the same draw, so baseline +
        increment = scenario draw by draw (not quantile by quantile)."""
        base, scen = self.baseline, self.scenario_paths
        margin = self.gross_margin[None, :, None]
        pairs = {"customers": (base.customers, scen.customers), "churned": (base.churned, scen.churned),
                 "new_customers": (base.new_customers, scen.new_customers),
                 "revenue": (base.revenue, scen.revenue),
                 "gross_profit": (base.revenue * margin, scen.revenue * margin)}
        totals = {name: {"baseline": b, "scenario": s, "incremental": s - b} for name, (b, s) in pairs.items()}
        totals["revenue"]["incremental"] = self.incremental_revenue
        totals["gross_profit"]["incremental"] = self.incremental_revenue * margin
        return totals

    def _monthly_metrics(self) -> dict[str, np.ndarray]:
        spend = np.broadcast_to(self.spend, self.cash_flow.shape)
        metrics = {f"{world}_{name}": values for name, worlds in self.totals().items()
                   for world, values in worlds.items()}
        metrics |= {"spend": spend, "cash_flow": self.cash_flow,
                    "cumulative_cash_flow": np.cumsum(self.cash_flow, axis=-1)}
        return {metric: metrics[metric] for metric in MONTHLY_UNITS}

    def monthly_quantiles(self, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> pd.DataFrame:
        """Long table (segment, month, metric, quantile, value) over draws, per segment and for
        all segments together ('all': quantiles of the sum, not sums of quantiles). Units per
        metric in :data:`MONTHLY_UNITS` (counts of customers, or currency per month)."""
        segments = [*self.segments, ALL_SEGMENTS]
        frames = []
        for metric, values in self._monthly_metrics().items():
            with_total = np.concatenate([values, values.sum(axis=1, keepdims=True)], axis=1)
            qs = draw_quantiles(with_total, quantiles)  # quantile × segment × month
            q_idx, s_idx, m_idx = np.indices(qs.shape).reshape(3, -1)
            frames.append(pd.DataFrame({
                "segment": np.asarray(segments)[s_idx], "month": self.months[m_idx], "metric": metric,
                "quantile": np.asarray(quantiles, dtype=float)[q_idx], "value": qs.ravel(),
            }))
        return pd.concat(frames, ignore_index=True)

    def levers_table(self, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> pd.DataFrame:
        """Present value by lever and segment (and 'all'): mean, quantiles, share of the total mean."""
        rows = []
        for s, segment in enumerate([*self.segments, ALL_SEGMENTS]):
            per_lever = {lever: (v[:, s] if segment != ALL_SEGMENTS else v.sum(axis=1))
                         for lever, v in self.value_by_lever.items()}
            total = sum(float(v.mean()) for v in per_lever.values())
            for lever, values in per_lever.items():
                row = {"segment": segment, "lever": lever, **_quantile_row(values, quantiles)}
                row["share_of_value"] = row["mean"] / total if total else np.nan
                rows.append(row)
        return pd.DataFrame(rows)

    def segments_table(self, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> pd.DataFrame:
        """Per segment: whether the scenario reaches it, margin, PV(spend), NPV statistics,
        P(NPV > 0), extra customers at the horizon and incremental revenue over the horizon
        (means). Risk figures of a segment the scenario does not reach say nothing about the plan:
        :meth:`reached_segments_table` leaves those segments out."""
        rows = []
        for s, segment in enumerate(self.segments):
            npv = self.npv_by_segment[:, s]
            rows.append({
                "segment": segment, "reached": bool(self.reached[s]), "gross_margin": float(self.gross_margin[s]),
                "pv_spend": float(self.pv_spend_by_segment[s]),
                **{f"npv_{k}": v for k, v in _quantile_row(npv, quantiles).items()},
                "prob_npv_positive": finance.probability_positive(npv),
                "incremental_customers_end": float(self.incremental_customers_end[:, s].mean()),
                "incremental_revenue": float(self.incremental_revenue_by_segment[:, s].mean()),
            })
        return pd.DataFrame(rows)

    def reached_segments_table(self, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> pd.DataFrame:
        """:meth:`segments_table` of the segments the scenario reaches (without the reached column)."""
        table = self.segments_table(quantiles)
        return table[table["reached"]].drop(columns="reached").reset_index(drop=True)
