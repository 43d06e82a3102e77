"""Altair chart builders: pure functions from tidy frames to ``alt.Chart`` objects.

Every chart names its unit on the axis (``currency`` is the symbol shown in front of amounts).
Amount axes use SI-abbreviated ticks (1.2M) with the currency in the title; fraction axes are
formatted as percentages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import altair as alt
import pandas as pd

MONEY_AXIS = ",.3~s"
PERCENT_AXIS = ".0%"
BAND_COLOR = "#4c78a8"
NEGATIVE, POSITIVE, TOTAL = "#e45756", "#54a24b", "#4c78a8"
GROUP_COLORS = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2"]  # distinct hues, few groups
SEGMENT_COLORS = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6",
                  "#9d755d", "#bab0ac"]  # Tableau 10: one hue per segment, repeated beyond ten
SOURCE_COLORS = {"history": "#4c78a8", "catalogue": "#f58518", "pilot": "#54a24b"}
HEIGHT = 280
MONTH_STEPS = (1, 2, 3, 6, 12, 24)  # months between time-axis ticks


def trend_panels(monthly: pd.DataFrame, metric: str, y_title: str, y_format: str = ",.3~f") -> dict[str, alt.Chart]:
    """A small monthly line chart of ``monthly[metric]`` per segment (columns segment, period,
    metric), keyed by segment, each on its own y scale so a small segment is not drawn flat
    against a large one. The caller names the segment and the unit (``y_title``, in tooltips)."""
    return {
        str(segment): alt.Chart(frame, height=140)
        .mark_line(strokeWidth=2, color=BAND_COLOR)
        .encode(
            x=alt.X("period:T", title=None, axis=alt.Axis(format="%b %y", tickCount=4)),
            y=alt.Y(f"{metric}:Q", title=None, scale=alt.Scale(zero=False),
                    axis=alt.Axis(format=y_format, tickCount=4, tickMinStep=smallest_step(y_format))),
            tooltip=[alt.Tooltip("period:T", title="Month", format="%b %Y"),
                     alt.Tooltip(f"{metric}:Q", title=y_title, format=y_format)],
        )
        for segment, frame in monthly.groupby("segment", sort=True)
    }


def smallest_step(d3_format: str) -> float | None:
    """The smallest tick step a fixed-precision d3 number format can tell apart (".0f" → 1,
    ".1%" → 0.001), so that an axis over a narrow range does not repeat a label ("11, 11, 10");
    None for other formats (SI prefixes choose their own precision)."""
    match = re.fullmatch(r",?\.(\d+)~?([f%])", d3_format)
    if match is None:
        return None
    decimals = int(match.group(1)) + (2 if match.group(2) == "%" else 0)
    return 10.0 ** -decimals


def revenue_by_segment(snapshot: pd.DataFrame, x_title: str, money_format: str = MONEY_AXIS) -> alt.LayerChart:
    """Horizontal bars of the latest month's revenue per segment (``snapshot`` columns segment,
    revenue, revenue_year_change as a fraction), largest first, each labelled with its value."""
    base = alt.Chart(snapshot, height=alt.Step(22)).encode(
        y=alt.Y("segment:N", title=None, sort="-x", axis=alt.Axis(labelLimit=160)),
        x=alt.X("revenue:Q", title=x_title, axis=alt.Axis(format=money_format, tickCount=5)),
        tooltip=[alt.Tooltip("segment:N", title="Segment"),
                 alt.Tooltip("revenue:Q", title=x_title, format=",.0f"),
                 alt.Tooltip("revenue_year_change:Q", title="Change vs a year ago", format="+.1%")],
    )
    bars = base.mark_bar(color=BAND_COLOR)
    labels = base.mark_text(align="left", dx=4, fontSize=11).encode(text=alt.Text("revenue:Q", format=money_format))
    return bars + labels


def month_step(months: int, most_ticks: int = 8) -> int:
    """Months between time-axis ticks: the smallest of 1, 2, 3, 6, 12, 24 giving at most
    ``most_ticks`` ticks over ``months`` months (6 months → every month, 36 → every 6)."""
    return next((step for step in MONTH_STEPS if months / step <= most_ticks), MONTH_STEPS[-1])


def band_chart(frame: pd.DataFrame, x: str, x_title: str, y_title: str, x_format: str = ",d",
               y_format: str = MONEY_AXIS, x_type: str = "Q", tick_count: int | dict | None = None) -> alt.LayerChart:
    """Median line with a P10–P90 band: ``frame`` has columns ``x``, p10, p50, p90; ``x_type``
    is the Vega-Lite type of x ("Q" numbers, "T" dates); ``tick_count`` as Vega-Lite's axis
    tickCount (a number, or a time interval such as ``{"interval": "month", "step": 3}``)."""
    axis = alt.Axis(format=x_format) if tick_count is None else alt.Axis(format=x_format, tickCount=tick_count)
    base = alt.Chart(frame, height=HEIGHT).encode(x=alt.X(f"{x}:{x_type}", title=x_title, axis=axis))
    band = base.mark_area(opacity=0.25, color=BAND_COLOR).encode(
        y=alt.Y("p10:Q", title=y_title, axis=alt.Axis(format=y_format)), y2="p90:Q"
    )
    line = base.mark_line(color=BAND_COLOR, strokeWidth=2).encode(
        y="p50:Q",
        tooltip=[
            alt.Tooltip(f"{x}:{x_type}", title=x_title, format=x_format),
            alt.Tooltip("p10:Q", title="P10", format=",.0f"),
            alt.Tooltip("p50:Q", title="P50 (median)", format=",.0f"),
            alt.Tooltip("p90:Q", title="P90", format=",.0f"),
        ],
    )
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#888", strokeDash=[4, 4]).encode(y="y:Q")
    return alt.layer(band, zero, line)


def fan_chart(quantiles: pd.DataFrame, y_title: str) -> alt.LayerChart:
    """Forecast fan: ``quantiles`` has columns month (calendar month start), p10, p50, p90.
    Ticks fall on month starts only (never twice in one month on short horizons)."""
    ticks = {"interval": "month", "step": month_step(len(quantiles))}
    return band_chart(quantiles, "month", "Month", y_title, x_format="%b %Y", x_type="T", tick_count=ticks)


def waterfall(steps: pd.DataFrame, x_title: str, total_label: str = "Expected NPV (mean)") -> alt.LayerChart:
    """Horizontal waterfall of contributions (columns label, value, top to bottom) ending with
    their sum as a total bar labelled ``total_label``. One row per step, so value labels (at the
    bar's right end) never run into each other however close the amounts are."""
    values = steps["value"].astype(float)
    end = values.cumsum()
    frame = pd.DataFrame({
        "label": [*steps["label"], total_label],
        "start": [*(end - values), 0.0],
        "end": [*end, float(values.sum())],
        "value": [*values, float(values.sum())],
        "kind": [*("gain" if v >= 0 else "loss" for v in values), "total"],
        "order": range(len(steps) + 1),
    })
    colors = alt.Scale(domain=["gain", "loss", "total"], range=[POSITIVE, NEGATIVE, TOTAL])
    base = alt.Chart(frame, height=max(160, 44 * len(frame))).encode(
        y=alt.Y("label:N", title=None, sort=alt.SortField("order"), axis=alt.Axis(labelLimit=160))
    )
    bars = base.mark_bar().encode(
        x=alt.X("start:Q", title=x_title, axis=alt.Axis(format=MONEY_AXIS)),
        x2="end:Q",
        color=alt.Color("kind:N", scale=colors, legend=None),
        tooltip=[alt.Tooltip("label:N", title="Component"), alt.Tooltip("value:Q", title=x_title, format=",.0f")],
    )
    text = base.mark_text(align="left", dx=4, fontSize=12).encode(
        x=alt.X("right:Q"), text=alt.Text("value:Q", format=MONEY_AXIS)
    ).transform_calculate(right="max(datum.start, datum.end)")
    return alt.layer(bars, text)


def interval_bars(frame: pd.DataFrame, category: str, category_title: str, x_title: str,
                  x_format: str = MONEY_AXIS) -> alt.LayerChart:
    """Horizontal bars of p50 with a P10–P90 whisker per ``category`` (columns category, p10, p50, p90)."""
    height = max(160, 40 * len(frame))
    base = alt.Chart(frame, height=height).encode(
        y=alt.Y(f"{category}:N", title=category_title, sort=alt.EncodingSortField("p50", order="descending"),
                axis=alt.Axis(labelOverlap=False))
    )
    bars = base.mark_bar(color=BAND_COLOR, opacity=0.8).encode(
        x=alt.X("p50:Q", title=x_title, axis=alt.Axis(format=x_format)),
        tooltip=[
            alt.Tooltip(f"{category}:N", title=category_title),
            alt.Tooltip("p10:Q", title="P10", format=",.0f"),
            alt.Tooltip("p50:Q", title="P50 (median)", format=",.0f"),
            alt.Tooltip("p90:Q", title="P90", format=",.0f"),
        ],
    )
    whiskers = base.mark_rule(color="#333", strokeWidth=1.5).encode(x="p10:Q", x2="p90:Q")
    return alt.layer(bars, whiskers).properties(height=height)


def distribution(values: pd.DataFrame, x_title: str, x_format: str = MONEY_AXIS,
                 group: str | None = None, bins: int = 40) -> alt.Chart:
    """Histogram of ``values['value']`` (share of draws per bin). With a ``group`` column, one
    step line per group over the same bins, so several distributions stay readable where
    overlaid bars would blend into one colour; groups keep their order of first appearance in
    legend and colours (as in the tables beside the chart)."""
    groupby = [group] if group else []
    base = (
        alt.Chart(values, height=HEIGHT + 80 if group else HEIGHT)  # room for the legend below
        .transform_joinaggregate(total="count()", groupby=groupby)
        .transform_calculate(share="1 / datum.total")
    )
    x = alt.X("value:Q", bin=alt.Bin(maxbins=bins), title=x_title, axis=alt.Axis(format=x_format))
    y = alt.Y("sum(share):Q", title="Share of simulations", axis=alt.Axis(format=PERCENT_AXIS), stack=None)
    share = alt.Tooltip("sum(share):Q", title="Share", format=".1%")
    if not group:
        return base.mark_bar(opacity=0.85, binSpacing=0, color=BAND_COLOR).encode(x=x, y=y, tooltip=[share])
    return base.mark_line(interpolate="step", strokeWidth=2.5).encode(
        x=x, y=y,
        color=alt.Color(f"{group}:N", title=group.capitalize(),
                        scale=alt.Scale(domain=list(values[group].unique()), range=GROUP_COLORS),
                        legend=alt.Legend(orient="bottom", labelLimit=900, columns=1)),
        tooltip=[alt.Tooltip(f"{group}:N", title=group.capitalize()), share],
    )


def segment_colors(segments: Sequence[str]) -> alt.Scale:
    """A colour per segment fixed by its place in ``segments`` (the model's list), so a segment
    keeps its colour whichever segments a chart happens to show."""
    return alt.Scale(domain=list(segments), range=SEGMENT_COLORS)


def allocation_chart(allocation: pd.DataFrame, x_title: str, segments: Sequence[str]) -> alt.Chart:
    """Stacked horizontal bars of ``amount`` per initiative, coloured by segment (columns
    initiative, segment, amount); ``segments`` fixes the colours (see :func:`segment_colors`)."""
    return (
        alt.Chart(allocation, height=max(250, 56 * allocation["initiative"].nunique()))  # fits an 8-segment legend
        .mark_bar()
        .encode(
            y=alt.Y("initiative:N", title="Initiative", sort="-x", axis=alt.Axis(labelLimit=260)),
            x=alt.X("sum(amount):Q", title=x_title, axis=alt.Axis(format=MONEY_AXIS)),
            color=alt.Color("segment:N", title="Segment", scale=segment_colors(segments)),
            tooltip=[
                alt.Tooltip("initiative:N", title="Initiative"),
                alt.Tooltip("segment:N", title="Segment"),
                alt.Tooltip("sum(amount):Q", title=x_title, format=",.0f"),
            ],
        )
    )


def effect_intervals(effects: pd.DataFrame, x_title: str, x_format: str) -> alt.LayerChart:
    """Forest plot: per segment a point at ``mean`` and a P10–P90 (or given) interval
    ``low``–``high``, coloured by where the estimate comes from (column source; colours
    :data:`SOURCE_COLORS`, no legend: the page says them once)."""
    colors = alt.Scale(domain=list(SOURCE_COLORS), range=list(SOURCE_COLORS.values()))
    base = alt.Chart(effects, height=max(120, 30 * effects["segment"].nunique())).encode(
        y=alt.Y("segment:N", title="Segment"),
        # no legend: the page gives the colours once for all four charts, and a legend takes the
        # width (beside) or the height (below) a half-page forest plot needs
        color=alt.Color("source:N", title="Source", scale=colors, legend=None),
    )
    rules = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("low:Q", title=x_title, axis=alt.Axis(format=x_format)), x2="high:Q"
    )
    points = base.mark_point(filled=True, size=70).encode(
        x="mean:Q",
        tooltip=[
            alt.Tooltip("segment:N", title="Segment"),
            alt.Tooltip("mean:Q", title="Mean", format=x_format.replace("~s", "f")),
            alt.Tooltip("low:Q", title="Low", format=x_format.replace("~s", "f")),
            alt.Tooltip("high:Q", title="High", format=x_format.replace("~s", "f")),
            alt.Tooltip("source:N", title="Source"),
        ],
    )
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#888", strokeDash=[4, 4]).encode(x="x:Q")
    return alt.layer(zero, rules, points)


def lift_curves(curves: pd.DataFrame, y_title: str) -> alt.Chart:
    """Steady-state lift against relative spend per initiative (columns initiative,
    spend_multiple, lift), the legend below the plot (the chart is made taller by its lines)."""
    return (
        alt.Chart(curves, height=HEIGHT + 20 * curves["initiative"].nunique() + 30)
        .mark_line(strokeWidth=2)
        .encode(
            x=alt.X("spend_multiple:Q", title="Monthly spend (× nominal catalogue cost)", axis=alt.Axis(format=".1f")),
            y=alt.Y("lift:Q", title=y_title),
            # legend below: beside the plot it leaves a half-page chart no room to draw in
            color=alt.Color("initiative:N", title="Initiative", scale=alt.Scale(range=GROUP_COLORS),
                            legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=260)),
            tooltip=[
                alt.Tooltip("initiative:N", title="Initiative"),
                alt.Tooltip("spend_multiple:Q", title="Spend multiple", format=".2f"),
                alt.Tooltip("lift:Q", title=y_title, format=".2f"),
            ],
        )
    )


def response_chart(curves: pd.DataFrame, x_title: str, y_title: str, segments: Sequence[str]) -> alt.LayerChart:
    """Response curves: per segment (colour fixed by ``segments``), the median NPV and its
    P10–P90 band against monthly spend, with a point at the planned spend. ``curves`` has columns
    segment, monthly_spend, npv_p10, npv_p50, npv_p90, npv_mean and planned (bool)."""
    shown = [s for s in segments if s in set(curves["segment"])]  # the legend lists these, in their fixed colours
    scale = alt.Scale(domain=shown, range=[SEGMENT_COLORS[list(segments).index(s) % len(SEGMENT_COLORS)] for s in shown])
    color = alt.Color("segment:N", title="Segment", scale=scale, legend=alt.Legend(orient="bottom", columns=4))
    base = alt.Chart(curves[~curves["planned"]], height=HEIGHT).encode(
        x=alt.X("monthly_spend:Q", title=x_title, axis=alt.Axis(format=MONEY_AXIS)), color=color)
    band = base.mark_area(opacity=0.15).encode(y=alt.Y("npv_p10:Q", title=y_title, axis=alt.Axis(format=MONEY_AXIS)),
                                               y2="npv_p90:Q")
    tooltip = [alt.Tooltip("segment:N", title="Segment"), alt.Tooltip("monthly_spend:Q", title=x_title, format=",.0f"),
               alt.Tooltip("npv_p10:Q", title="NPV P10", format=",.0f"),
               alt.Tooltip("npv_p50:Q", title="NPV P50 (median)", format=",.0f"),
               alt.Tooltip("npv_p90:Q", title="NPV P90", format=",.0f"),
               alt.Tooltip("npv_mean:Q", title="Expected NPV (mean)", format=",.0f")]
    line = base.mark_line(strokeWidth=2).encode(y="npv_p50:Q", tooltip=tooltip)
    planned = alt.Chart(curves[curves["planned"]]).mark_point(filled=True, size=90, stroke="black", strokeWidth=1).encode(
        x="monthly_spend:Q", y="npv_p50:Q", color=color, tooltip=tooltip)
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#888", strokeDash=[4, 4]).encode(y="y:Q")
    return alt.layer(band, zero, line, planned)


def frontier_chart(frontier: pd.DataFrame, x_title: str, y_title: str) -> alt.LayerChart:
    """The efficient frontier: median NPV with its P10–P90 band against the budget (columns
    budget, p10, p50, p90), a point per budget, red where the frontier is not concave after it
    (column dent, bool; the page says why)."""
    chart = band_chart(frontier, "budget", x_title, y_title, x_format=MONEY_AXIS)
    points = alt.Chart(frontier).mark_point(filled=True, size=70).encode(
        x="budget:Q", y="p50:Q",
        color=alt.Color("dent:N", scale=alt.Scale(domain=[False, True], range=[BAND_COLOR, NEGATIVE]), legend=None),
        tooltip=[alt.Tooltip("budget:Q", title=x_title, format=",.0f"),
                 alt.Tooltip("p50:Q", title="NPV P50 (median)", format=",.0f")])
    return alt.layer(chart, points)
