"""Scenario increments over a cached baseline, computed month by month on segments × draws.

The scenario differs from the baseline only through three channels, each a function of the
CSAT and NPS lifts felt in a month (survey points) and of per-point coefficients:

* survival gain g = s1 − s0 = p0 − p1 with logit p1 = logit p0 + churn_csat·csat + churn_nps·nps,
  computed as g = p0·w / (w + 1/s0), w = expm1(−effect) — exact (the logistic function
  rewritten), and precise where the effect is small because it never subtracts two
  probabilities;
* with gain/loss (asymmetric) churn effects, a score x contributes
  f(x) = b_gain·max(x − ref, 0) + b_loss·min(x − ref, 0) to the logit of churn, and a lift of L
  points from the baseline level x0 (u = x0 − ref, points) changes it by exactly
  f(x0 + L) − f(x0) = b_gain·L + (b_loss − b_gain)·(min(u + L, 0) − min(u, 0)): the part of the
  move that lies below the reference takes the loss slope. On the logit of staying (per point)
  the retention effect gains extra·(min(u + L, 0) − min(u, 0)) per score, with
  extra = −(b_loss − b_gain)/10 (:class:`Coefficients`); symmetric effects skip that term;
* ARPU growth a = expm1(arpu_csat·csat): scenario ARPU = baseline ARPU × (1 + a);
* extra new customers Δn = baseline new × expm1(acq_nps·nps).

Customers follow c[m+1] = c[m]·s[m] + n[m], so the increment Δc = c1 − c0 follows
Δc[m+1] = Δc[m]·s1[m] + c0[m]·g[m] + Δn[m], and the average active customers of a month are
(c[m] + c[m+1]) / 2. Revenue is ARPU × average active customers, hence

    Δrevenue[m] = (ARPU0[m] / 2) · (a[m] · (C0[m] + ΔC[m]) + ΔC[m]),   C = c[m] + c[m+1].

Why this shape: a month of 12 segments × 4 000 draws is 48 000 numbers (190 kB in float32),
which stays in the processor's cache while some twenty numpy operations run on it; whole
months × segments × draws arrays would stream through memory for every operation. The
increments are float32: their rounding (≈ 1e-7 relative) is relative to the increment itself,
not to the much larger baseline, and far below the spread over draws. Nothing loops over
segments or draws in Python, only over months (the customer recursion needs the month before).

:func:`increments` is the entry point: it runs the same computation fused into one compiled pass
(:mod:`cxroi.sim.fused`: about 3× faster a call on one thread, and a large call runs on two)
once that kernel is ready, and :func:`numpy_increments` — the tested reference — until then or
where numba is unavailable (:mod:`cxroi.sim.compiled`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from cxroi.science import POINTS_PER_UNIT
from cxroi.sim.compiled import FUSED, Kernel

FLOAT = np.float32


@dataclass(frozen=True)
class MonthlyBaseline:
    """The baseline month by month, float32, months × segments × draws (``customers``: months + 1),
    stored segment by segment (each segment's months × draws contiguous). Units: customers are
    counts, ARPU is currency per customer per month."""

    customers: np.ndarray  #: active customers at the start of each month, and after the last
    customer_pairs: np.ndarray  #: c[m] + c[m+1] = twice the average active customers
    new: np.ndarray  #: expected new customers per month
    half_arpu: np.ndarray  #: ARPU / 2

    @classmethod
    def of(cls, customers: np.ndarray, new: np.ndarray, arpu: np.ndarray) -> MonthlyBaseline:
        """From the float64 baseline (customers (months + 1) × segments × draws, new and ARPU
        months × segments × draws)."""
        return cls(customers=_segment_major(customers), customer_pairs=_segment_major(customers[:-1] + customers[1:]),
                   new=_segment_major(new), half_arpu=_segment_major(0.5 * arpu))


@dataclass(frozen=True)
class BaselinePack:
    """The no-investment world of some segments over ``horizon`` months, for the kernels.

    What it grows from, segments × draws, float32: the customers at the start of month 1 (c0),
    the churn p0 (constant over months), the expected new customers n0 and half the ARPU a0/2 of
    month 1 and their month-on-month growth factors (exp of the model's trends), so that
    c[m+1] = c[m]·(1 − p0) + n[m], n[m] = n0·g_n^m, a[m] = a0·g_a^m. The fused kernel generates the
    months from these in float32 as it goes; the numpy reference reads them from :attr:`monthly`,
    the float64 baseline's months in float32, made on first use by ``monthly_source``.

    Grown in float32, month m of the baseline is off the float64 one by at most about m·2⁻²⁴
    relative from rounding the growth factors once (n, a; and 1 − p0 in c) plus the roundings of
    the products: for c, each month's rounding error decays by 1 − p0 a month, so c carries at
    most 2⁻²⁴/p0 of it. Under 5e-6 relative over 60 months at p0 ≈ 2 %, and the increments built
    on it inherit that relative error — far below their spread over draws.
    """

    horizon: int
    customers: np.ndarray  #: c0
    new: np.ndarray  #: n0, customers per month
    new_growth: np.ndarray  #: g_n
    half_arpu: np.ndarray  #: a0 / 2, currency per customer per month
    arpu_growth: np.ndarray  #: g_a
    churn: np.ndarray  #: p0
    survival: np.ndarray  #: 1 − p0
    inverse_survival: np.ndarray  #: 1 / (1 − p0) (finite)
    monthly_source: Callable[[], MonthlyBaseline] = field(repr=False, compare=False)

    @classmethod
    def of(cls, horizon: int, customers: np.ndarray, churn: np.ndarray, new: np.ndarray, new_growth: np.ndarray,
           arpu: np.ndarray, arpu_growth: np.ndarray, monthly_source: Callable[[], MonthlyBaseline]) -> BaselinePack:
        """From the float64 starting values (customers, churn, new customers and ARPU of month 1)
        and growth factors, segments × draws each (customers may broadcast)."""
        def contiguous(values: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(np.broadcast_to(values, churn.shape), dtype=FLOAT)

        survival = 1.0 - churn
        return cls(horizon=horizon, customers=contiguous(customers), new=contiguous(new),
                   new_growth=contiguous(new_growth), half_arpu=contiguous(0.5 * arpu),
                   arpu_growth=contiguous(arpu_growth), churn=contiguous(churn), survival=contiguous(survival),
                   inverse_survival=contiguous(1.0 / np.maximum(survival, 1e-30)),  # finite in float32
                   monthly_source=monthly_source)

    @cached_property
    def monthly(self) -> MonthlyBaseline:
        """The months, for the numpy reference (made on first use)."""
        return self.monthly_source()


def _segment_major(values: np.ndarray) -> np.ndarray:
    """months × segments × draws in float32, stored segments × months × draws (a view of it)."""
    return np.ascontiguousarray(values.transpose(1, 0, 2), dtype=FLOAT).transpose(1, 0, 2)


@dataclass(frozen=True)
class Lifts:
    """CSAT and NPS lifts felt per month (survey points, float32), months × groups × draws,
    where a group is a set of segments reached by the same investments; ``group_of[s]`` is the
    group of the s-th simulated segment."""

    csat: np.ndarray
    nps: np.ndarray
    group_of: np.ndarray

    @cached_property
    def largest(self) -> np.ndarray:
        """The largest |lift| of each draw over the months, CSAT then NPS: 2 × groups × draws,
        float32 (NaN where a lift is NaN). Made once per lift curves (they are cached per
        scenario): the fused kernel bounds its effects with it."""
        return np.stack([np.abs(self.csat).max(axis=0), np.abs(self.nps).max(axis=0)]).astype(FLOAT)


@dataclass(frozen=True)
class Coefficients:
    """Per-survey-point effects, segments × draws (float32): ``retention_csat`` and
    ``retention_nps`` are −churn_csat/10 and −churn_nps/10 (logit effects on staying; with
    gain/loss effects, those of a rise above the reference); ``arpu_csat`` and ``acq_nps`` are
    the log effects on ARPU and expected new customers.

    Gain/loss churn effects (all four None, the default: symmetric effects): the retention slope
    of a fall below the reference minus that of a rise, −(churn_X_loss − churn_X)/10 per point
    (``retention_csat_loss_extra``, ``retention_nps_loss_extra``), and where the baseline level
    lies, u = baseline score − reference, survey points (``csat_position``, ``nps_position``)."""

    retention_csat: np.ndarray
    retention_nps: np.ndarray
    arpu_csat: np.ndarray
    acq_nps: np.ndarray
    retention_csat_loss_extra: np.ndarray | None = None
    retention_nps_loss_extra: np.ndarray | None = None
    csat_position: np.ndarray | None = None
    nps_position: np.ndarray | None = None

    @property
    def asymmetric(self) -> bool:
        """Whether the churn effects have a loss slope of their own."""
        return self.retention_csat_loss_extra is not None

    @classmethod
    def of(cls, params: dict[str, np.ndarray], index: np.ndarray, csat_position: np.ndarray | None = None,
           nps_position: np.ndarray | None = None) -> Coefficients:
        """From segment parameters stored segments × draws (per 10 points), for the segments
        at ``index``. When ``params`` holds loss slopes (``churn_csat_loss``, ``churn_nps_loss``;
        one missing: equal to its gain slope), the baseline positions are required (survey points,
        per segment at ``index``: shape (len(index),), (len(index), 1) or (len(index), draws))."""
        def per_point(name: str, sign: float) -> np.ndarray:
            return (params[name][index] * (sign / POINTS_PER_UNIT)).astype(FLOAT)

        symmetric = cls(per_point("churn_csat", -1.0), per_point("churn_nps", -1.0),
                        per_point("arpu_csat", 1.0), per_point("acq_nps", 1.0))
        if "churn_csat_loss" not in params and "churn_nps_loss" not in params:
            return symmetric
        if csat_position is None or nps_position is None:
            raise ValueError("gain/loss churn effects need the baseline CSAT and NPS positions")
        shape = symmetric.retention_csat.shape

        def extra(score: str) -> np.ndarray:
            loss = params.get(f"churn_{score}_loss", params[f"churn_{score}"])
            return ((loss[index] - params[f"churn_{score}"][index]) * (-1.0 / POINTS_PER_UNIT)).astype(FLOAT)

        def position(values: np.ndarray) -> np.ndarray:
            values = np.asarray(values, dtype=FLOAT)
            values = values[:, None] if values.ndim == 1 else values
            if values.shape[0] != shape[0]:
                raise ValueError(f"positions are given for {values.shape[0]} segments, not {shape[0]}")
            return np.ascontiguousarray(np.broadcast_to(values, shape))

        return replace(symmetric, retention_csat_loss_extra=extra("csat"), retention_nps_loss_extra=extra("nps"),
                       csat_position=position(csat_position), nps_position=position(nps_position))


@dataclass(frozen=True)
class Increments:
    """Scenario minus baseline (float32) for the simulated segments.

    Always there, segments × draws unless stated: ``revenue_pv`` = Σ_m discount[m] · Δrevenue[m]
    (currency, present value), ``revenue_total`` = Σ_m Δrevenue[m] (currency),
    ``revenue_by_month`` = Σ_s Δrevenue[m, s] and ``margin_by_month`` = Σ_s margin_s · Δrevenue[m, s]
    (months × draws, currency per month) and
    ``customers_end`` (customers after the last month). With ``keep=True`` also the monthly
    arrays, months × segments × draws: ``revenue`` (currency per month), ``customers`` (start of
    each month and after the last, months + 1), ``survival_gain`` (monthly probability,
    = −Δchurn) and ``new`` (customers per month); a channel whose lever is off is None.
    """

    revenue_pv: np.ndarray
    revenue_total: np.ndarray
    revenue_by_month: np.ndarray
    margin_by_month: np.ndarray
    customers_end: np.ndarray
    revenue: np.ndarray | None = None
    customers: np.ndarray | None = None
    survival_gain: np.ndarray | None = None
    new: np.ndarray | None = None


def chosen_kernel() -> tuple[str, Kernel]:
    """The kernel to use now and its name: the fused compiled one ("fused") when it is ready
    (never waiting for it), else the numpy reference ("numpy"). The two agree to float32
    rounding (≈ 1e-6 relative), so a run names the one it used in its provenance."""
    fused = FUSED.get()
    return ("fused", fused) if fused is not None else ("numpy", numpy_increments)


def increments(pack: BaselinePack, lifts: Lifts, coefficients: Coefficients, levers: frozenset[str],
               discount: np.ndarray, margin: np.ndarray, keep: bool = False) -> Increments:
    """:func:`numpy_increments`, computed by the kernel :func:`chosen_kernel` picks."""
    return chosen_kernel()[1](pack, lifts, coefficients, levers, discount, margin, keep)


def numpy_increments(pack: BaselinePack, lifts: Lifts, coefficients: Coefficients, levers: frozenset[str],
                     discount: np.ndarray, margin: np.ndarray, keep: bool = False) -> Increments:
    """Run the scenario's ``levers`` (a subset of retention, arpu, acquisition) month by month,
    with end-of-month ``discount`` factors (per month) and gross ``margin`` (per segment).

    Only the channels of enabled levers are computed; ``keep`` also stores the monthly arrays
    (needed for paths, not for values)."""
    horizon, shape, base = pack.horizon, pack.survival.shape, pack.monthly
    retention, arpu, acquisition = (lever in levers for lever in ("retention", "arpu", "acquisition"))
    c = coefficients
    discount, margin = discount.astype(FLOAT), margin.astype(FLOAT)

    def scratch() -> np.ndarray:
        return np.empty(shape, dtype=FLOAT)

    csat, nps, work, average, delta = (scratch() for _ in range(5))
    gain, growth, new = scratch(), scratch(), scratch()
    revenue_pv, revenue_total = np.zeros(shape, dtype=FLOAT), np.zeros(shape, dtype=FLOAT)
    revenue_by_month = np.empty((horizon, shape[1]), dtype=FLOAT)
    margin_by_month = np.empty_like(revenue_by_month)
    monthly = np.empty((horizon, *shape), dtype=FLOAT) if keep else None
    gains = np.empty((horizon, *shape), dtype=FLOAT) if keep and retention else None
    news = np.empty((horizon, *shape), dtype=FLOAT) if keep and acquisition else None
    customers = np.zeros((horizon + 1 if keep else 2, *shape), dtype=FLOAT)  # kept, or two alternating
    loss_terms = [(lift, extra, position, np.minimum(position, FLOAT(0.0)))  # min(u, 0) once
                  for lift, extra, position in ((csat, c.retention_csat_loss_extra, c.csat_position),
                                                (nps, c.retention_nps_loss_extra, c.nps_position))] if c.asymmetric else []
    for m in range(horizon):
        np.take(lifts.csat[m], lifts.group_of, axis=0, out=csat, mode="clip")  # "clip": no bounds pass
        np.take(lifts.nps[m], lifts.group_of, axis=0, out=nps, mode="clip")
        before, after = (customers[m], customers[m + 1]) if keep else (customers[m % 2], customers[(m + 1) % 2])
        np.multiply(before, pack.survival, out=after)
        if retention:
            gain = gains[m] if keep else gain
            np.multiply(csat, c.retention_csat, out=gain)
            np.multiply(nps, c.retention_nps, out=work)
            gain += work  # −(churn effect), logit scale
            if c.asymmetric:
                for lift, extra, position, below in loss_terms:
                    np.add(lift, position, out=work)
                    np.minimum(work, 0.0, out=work)
                    work -= below
                    work *= extra
                    gain += work  # extra·(min(u + L, 0) − min(u, 0))
            np.expm1(gain, out=gain)  # w
            np.add(gain, pack.inverse_survival, out=work)
            gain *= pack.churn
            gain /= work  # g = p0·w / (w + 1/s0)
            np.add(before, base.customers[m], out=work)
            work *= gain
            after += work  # Δc·s0 + c1·g = Δc·s1 + c0·g
        if acquisition:
            new = news[m] if keep else new
            np.multiply(nps, c.acq_nps, out=new)
            np.expm1(new, out=new)
            new *= base.new[m]
            after += new  # Δc[m+1] = Δc[m]·s1 + c0·g + Δn
        np.add(before, after, out=average)  # twice the increment of average active customers
        out = monthly[m] if keep else delta
        if arpu:
            np.multiply(csat, c.arpu_csat, out=growth)
            np.expm1(growth, out=growth)
            np.add(base.customer_pairs[m], average, out=work)
            np.multiply(work, growth, out=out)
            out += average
            out *= base.half_arpu[m]
        else:
            np.multiply(average, base.half_arpu[m], out=out)
        revenue_total += out
        np.multiply(out, discount[m], out=work)
        revenue_pv += work
        np.add.reduce(out, axis=0, out=revenue_by_month[m])
        np.einsum("sd,s->d", out, margin, out=margin_by_month[m])
    end = customers[horizon if keep else horizon % 2].copy()
    return Increments(revenue_pv, revenue_total, revenue_by_month, margin_by_month, end, monthly, customers if keep else None,
                      gains, news)
