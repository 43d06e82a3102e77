"""Number formatting for display: money with currency and thousands separators, percentages,
counts and survey points. Pure functions; NaN/None render as an em dash."""

from __future__ import annotations

import math

MINUS = "−"  # typographic minus, aligned with digits in tables
MISSING = "—"


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: float | None, currency: str = "$", decimals: int = 0) -> str:
    """``1234567.8 → '$1,234,568'``; negatives as ``'−$1,234'``; currency is a symbol or code
    (codes of 2+ letters get a space: ``'EUR 1,234'``)."""
    if _missing(value):
        return MISSING
    sign = MINUS if value < 0 else ""
    prefix = f"{currency} " if currency.isalpha() and len(currency) > 1 else currency
    return f"{sign}{prefix}{abs(value):,.{decimals}f}"


def money_short(value: float | None, currency: str = "$") -> str:
    """Compact money to three significant figures for headline metrics: ``'$1.23M'``,
    ``'−$45.6k'``, ``'$248k'``, ``'$2.10B'``, ``'$950'``."""
    if _missing(value):
        return MISSING
    size = abs(value)
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= threshold:
            scaled = size / threshold
            return money(value / threshold, currency, 2 if scaled < 10 else 1 if scaled < 100 else 0) + suffix
    return money(value, currency)


def percent(fraction: float | None, decimals: int = 1) -> str:
    """A fraction as a percentage: ``0.1234 → '12.3%'``, ``-0.05 → '−5.0%'``."""
    if _missing(fraction):
        return MISSING
    text = f"{abs(fraction) * 100:,.{decimals}f}%"
    return f"{MINUS}{text}" if fraction < 0 and float(text.rstrip("%").replace(",", "")) != 0 else text


def ratio(fraction: float | None) -> str:
    """A return such as ROI as a percentage, short enough for a metric: one decimal below 100 %,
    none from there (``0.554 → '55.4%'``, ``12.394 → '1,239%'``)."""
    if _missing(fraction):
        return MISSING
    return percent(fraction, 1 if abs(fraction) < 1 else 0)


def count(value: float | None) -> str:
    """A whole number with thousands separators: ``12345.6 → '12,346'``."""
    if _missing(value):
        return MISSING
    text = f"{abs(value):,.0f}"
    return f"{MINUS}{text}" if value < 0 and text != "0" else text


def points(value: float | None, decimals: int = 1, signed: bool = False) -> str:
    """Survey points (CSAT %, NPS): ``71.84 → '71.8'``; ``signed`` adds '+' to gains."""
    if _missing(value):
        return MISSING
    text = f"{abs(value):.{decimals}f}"
    if value < 0 and float(text) != 0:
        return f"{MINUS}{text}"
    return f"+{text}" if signed else text


def signed_change(value: float | None, unit: str, decimals: int = 1, minus: str = "-") -> str:
    """A change with its sign for a metric's delta, in ``unit``: "%" (a relative change given as a
    fraction: ``0.031 → '+3.1%'``), "pp" (a change of a rate given as a fraction, in percentage
    points: ``-0.0012 → '-0.12 pp'``, one more decimal) or "pts" (survey points: ``1.25 → '+1.3 pts'``).
    The minus is ASCII by default because Streamlit reads it to colour a metric's delta; pass
    ``minus=MINUS`` for text and tables. No change → '±0'."""
    if _missing(value):
        return MISSING
    scaled, decimals = {"%": (value * 100, decimals), "pp": (value * 100, decimals + 1)}.get(unit, (value, decimals))
    text = f"{scaled:+.{decimals}f}"
    if float(text) == 0:
        return "±0"
    text = text.replace("-", minus)
    return f"{text}%" if unit == "%" else f"{text} {unit}"


def duration(seconds: float | None) -> str:
    """Elapsed or remaining time in words: ``42 → '42 s'``, ``130 → '2 min 10 s'``, ``3720 → '1 h 2 min'``."""
    if _missing(seconds):
        return MISSING
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


#: how each health check's value reads: (printf format, multiplier); whole numbers ("%.0f") are
#: shown with thousands separators by :func:`check_value`
CHECK_VALUE_FORMATS = {
    "max_rhat": ("%.3f", 1.0), "latent_max_rhat": ("%.3f", 1.0), "min_ess_bulk": ("%.0f", 1.0), "divergences": ("%.0f", 1.0),
    "backtest_vs_naive": ("%.2f", 1.0), "holdout_coverage": ("%.0f%%", 100.0), "effects_identified": ("%.0f%%", 100.0),
}
#: the sampling diagnostics' formats: the health checks' and those of diagnostics that are no check
DIAGNOSTIC_FORMATS = {**CHECK_VALUE_FORMATS, "min_ess_tail": ("%.0f", 1.0)}


def check_value(name: str, value: float | None) -> str:
    """A health check's or sampling diagnostic's value in its own format (:data:`DIAGNOSTIC_FORMATS`):
    ``('max_rhat', 1.00435) → '1.004'``, ``('min_ess_bulk', 1033.2) → '1,033'``,
    ``('holdout_coverage', 0.8125) → '81%'``; other checks to 3 significant figures."""
    if _missing(value):
        return MISSING
    form, scale = DIAGNOSTIC_FORMATS.get(name, ("%.3g", 1.0))
    return count(value * scale) if form == "%.0f" else form % (value * scale)


def effect_change(value: float | None, unit: str) -> str:
    """An effect of +10 survey points with its sign: ``unit`` "percentage points" (the value is
    already in points: ``-0.523 → '−0.52 pp'``) or "% change" (a fraction: ``0.0213 → '+2.1%'``)."""
    if unit == "percentage points":
        return signed_change(None if _missing(value) else value / 100, "pp", minus=MINUS)
    return signed_change(value, "%", minus=MINUS)


def interval(mean: float | None, low: float | None, high: float | None, show) -> str:
    """A mean with its 80 % range, each shown by ``show``: ``'+4.1 (2.9 to 5.3)'``."""
    return f"{show(mean)} ({show(low)} to {show(high)})"


#: the model families in words (their ids are in cxroi.manifest.FAMILIES)
FAMILY_LABELS = {"bayes": "Bayesian (PyMC)", "regression": "Regression (statsmodels)"}


def payback(month: float | None, horizon: int) -> str:
    """A payback month for a metric: ``8.0 → '8 mo'``; not within the horizon (None/NaN) → '> 36 mo'."""
    return f"> {horizon} mo" if _missing(month) else f"{round(month)} mo"


def money_column_format(currency: str, decimals: int = 0) -> str:
    """printf-style format for ``st.column_config.NumberColumn`` and ``st.slider``: the currency
    prefix of :func:`money`, thousands separators and ``decimals`` decimals (``'$%,.0f'``).
    For amounts that are never negative; see :data:`SIGNED_MONEY_COLUMN`."""
    prefix = f"{currency} " if currency.isalpha() and len(currency) > 1 else currency
    return f"{prefix.replace('%', '%%')}%,.{decimals}f"


#: format of money columns that can be negative (cash flow, NPV): a printf prefix would show
#: "$-1,234", so the currency goes into the column title instead and the number is "-1,234"
SIGNED_MONEY_COLUMN = "%,.0f"
