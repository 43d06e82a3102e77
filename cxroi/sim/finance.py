"""Financial metrics on monthly cash flows, vectorised over leading axes (draws, …).

Conventions (all functions): ``cash_flows[..., m]`` is the net cash flow of forecast month
m + 1 in currency, received at the end of that month, so it is discounted by (1 + i)^−(m+1)
with i the monthly rate. Payback months are 1-based forecast months; NaN means "not within
the horizon". IRR is annualised; NaN when the cash flows never change sign.
"""

from __future__ import annotations

import numpy as np

#: bracket of the monthly IRR search in log(1 + r): −99 % to +1 000 % per month
_IRR_BRACKET = (np.log(0.01), np.log(11.0))
_IRR_BISECTIONS = 8  # bracket width 7.0 / 2**8 ≈ 0.03 in log(1 + r) before Newton steps
_IRR_NEWTON_STEPS = 6  # quadratic convergence from there: error ≲ 1e-12


def monthly_rate(annual_rate: float) -> float:
    """Monthly rate equivalent to an annual one: (1 + annual)^(1/12) − 1."""
    return (1.0 + annual_rate) ** (1.0 / 12.0) - 1.0


def discount_factors(rate: float, months: int) -> np.ndarray:
    """End-of-month discount factors (1 + rate)^−m for m = 1 … months."""
    return (1.0 + rate) ** -np.arange(1, months + 1, dtype=float)


def present_value(cash_flows: np.ndarray, rate: float) -> np.ndarray:
    """Present value (currency) of monthly cash flows over the last axis at a monthly rate."""
    return np.einsum("...m,m->...", cash_flows, discount_factors(rate, cash_flows.shape[-1]))


def roi(npv: np.ndarray, pv_spend: np.ndarray | float) -> np.ndarray:
    """Return on investment NPV / PV(spend) (a fraction); NaN where nothing is spent."""
    pv_spend = np.asarray(pv_spend, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pv_spend > 0, np.asarray(npv) / np.where(pv_spend > 0, pv_spend, 1.0), np.nan)


def _first_month_staying_nonnegative(cumulative: np.ndarray) -> np.ndarray:
    """1-based month from which ``cumulative`` stays ≥ 0 to the end; NaN when it ends below 0,
    or when it is 0 throughout (no cash flow: nothing to pay back)."""
    stays = np.flip(np.logical_and.accumulate(np.flip(cumulative >= 0, -1), axis=-1), -1)
    first = np.argmax(stays, axis=-1).astype(float) + 1.0
    return np.where(stays[..., -1] & np.any(cumulative != 0, axis=-1), first, np.nan)


def payback_month(cash_flows: np.ndarray) -> np.ndarray:
    """Simple payback: first month from which the cumulative cash flow stays ≥ 0."""
    return _first_month_staying_nonnegative(np.cumsum(cash_flows, axis=-1))


def discounted_payback_month(cash_flows: np.ndarray, rate: float) -> np.ndarray:
    """Discounted payback: as :func:`payback_month` on cash flows discounted at ``rate``/month."""
    discounted = cash_flows * discount_factors(rate, cash_flows.shape[-1])
    return _first_month_staying_nonnegative(np.cumsum(discounted, axis=-1))


def _present_values(by_month: np.ndarray, u: np.ndarray, slope: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Σ_m CF_m x^m with x = exp(−u) (and its derivative in u when ``slope``) for cash flows
    ``by_month`` (months first), by Horner's rule: a few operations on whole vectors of draws
    per month instead of an exponential per draw and month."""
    x = np.exp(-u)
    months = by_month.shape[0]
    value = by_month[-1].copy()
    weighted = months * by_month[-1] if slope else None  # Σ m CF_m x^(m−1), by Horner too
    for m in range(months - 2, -1, -1):
        value *= x
        value += by_month[m]
        if slope:
            weighted *= x
            weighted += (m + 1) * by_month[m]
    value *= x
    return value, (-weighted * x if slope else None)


def irr(cash_flows: np.ndarray) -> np.ndarray:
    """Annualised internal rate of return of monthly cash flows (fraction per year).

    Solves Σ_m CF_m (1 + r)^−m = 0 for the monthly r in u = log(1 + r) over r ∈ [−99 %,
    +1 000 %] per month, for every leading index at once: bisection to a narrow bracket, then
    Newton steps kept inside it. On long horizons the lower end is raised so that present values
    stay finite in float64 (to about −94 % per month for 240 months of flows in the billions).
    Returns (1 + r)^12 − 1, or NaN when the present value does not change sign over that range
    (e.g. all cash flows of one sign).
    """
    flows = np.ascontiguousarray(np.moveaxis(np.asarray(cash_flows, dtype=float), -1, 0))  # months first
    months = flows.shape[0]
    # |Σ m CF_m x^m| ≤ max|CF| · months² · x^months with x = exp(−u) must stay below the float64 maximum
    headroom = np.log(np.finfo(float).max) - np.log(np.abs(flows).max(initial=0.0) * months**2 + 1.0) - 1.0
    lo = np.full(flows.shape[1:], max(_IRR_BRACKET[0], -headroom / months))
    hi = np.full(flows.shape[1:], _IRR_BRACKET[1])
    f_lo = _present_values(flows, lo)[0]
    valid = np.sign(f_lo) * np.sign(_present_values(flows, hi)[0]) < 0
    for _ in range(_IRR_BISECTIONS):
        mid = 0.5 * (lo + hi)
        f_mid = _present_values(flows, mid)[0]
        same = np.sign(f_mid) == np.sign(f_lo)
        lo = np.where(same, mid, lo)
        f_lo = np.where(same, f_mid, f_lo)
        hi = np.where(same, hi, mid)
    u = 0.5 * (lo + hi)
    for _ in range(_IRR_NEWTON_STEPS):
        value, slope = _present_values(flows, u, slope=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(slope != 0, value / slope, 0.0)
        u = np.clip(u - step, lo, hi)
    return np.where(valid, np.expm1(u * 12.0), np.nan)


def probability_positive(values: np.ndarray) -> float:
    """Share of draws with a value > 0 (NaN draws count as not positive)."""
    return float(np.mean(np.asarray(values) > 0))


def cvar(values: np.ndarray, alpha: float = 0.10, axis: int = -1) -> np.ndarray:
    """Conditional value at risk: mean of the worst ``alpha`` share of draws along ``axis``
    (at least one draw), in the unit of ``values``."""
    values = np.moveaxis(np.asarray(values, dtype=float), axis, -1)
    count = max(1, int(np.floor(alpha * values.shape[-1])))
    worst = np.partition(values, count - 1, axis=-1)[..., :count]
    return worst.mean(axis=-1)
