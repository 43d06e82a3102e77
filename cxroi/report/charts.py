"""Altair charts of the model report. Each builder takes a tidy frame and returns a chart; no
chart computes statistics itself."""

from __future__ import annotations

import altair as alt
import pandas as pd

WIDTH = 560
PANEL_HEIGHT = 110
OBSERVED_COLOUR, MODEL_COLOUR = "#1f2933", "#2f6fbd"
#: one colour per effect source (cxroi.params.SOURCES), the same in every report
SOURCE_COLOURS = {"history": "#2f6fbd", "catalogue": "#9aa5b1", "pilot": "#d9822b"}


def predictive_check(frame: pd.DataFrame, segment: str) -> alt.FacetChart:
    """Observed vs posterior predictive per month for one segment.

    ``frame`` columns: period (month start), metric (label with unit), observed, median, low,
    high (the 80 % predictive interval). One row of panels per metric, each with its own y axis.
    """
    base = alt.Chart().encode(x=alt.X("period:T", title=None))
    band = base.mark_area(opacity=0.25, color=MODEL_COLOUR).encode(
        y=alt.Y("low:Q", title=None, scale=alt.Scale(zero=False)), y2="high:Q")
    median = base.mark_line(color=MODEL_COLOUR).encode(y="median:Q")
    observed = base.mark_point(color=OBSERVED_COLOUR, filled=True, size=18).encode(
        y="observed:Q", tooltip=["period:T", "metric:N", alt.Tooltip("observed:Q", format=",.0f"),
                                 alt.Tooltip("low:Q", format=",.0f"), alt.Tooltip("high:Q", format=",.0f")])
    return (
        alt.layer(band, median, observed, data=frame)
        .properties(width=WIDTH, height=PANEL_HEIGHT)
        .facet(row=alt.Row("metric:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")))
        .resolve_scale(y="independent")
        .properties(title=f"{segment}: observed (dots) vs model median and 80 % interval")
    )


def effect_intervals(frame: pd.DataFrame) -> alt.FacetChart:
    """Forest plot of CX effects: ``frame`` columns parameter, label (segment), mean, low, high
    (90 % interval), source. One panel per parameter, each with its own x axis; a rule at 0."""
    base = alt.Chart().encode(y=alt.Y("label:N", title=None))
    interval = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("low:Q", title="estimate and 90 % interval"), x2="high:Q",
        color=alt.Color("source:N", title="source",
                        scale=alt.Scale(domain=list(SOURCE_COLOURS), range=list(SOURCE_COLOURS.values()))))
    point = base.mark_point(filled=True, color=OBSERVED_COLOUR).encode(
        x="mean:Q", tooltip=["parameter:N", "label:N", alt.Tooltip("mean:Q", format=".3f"),
                             alt.Tooltip("low:Q", format=".3f"), alt.Tooltip("high:Q", format=".3f"), "source:N"])
    zero = alt.Chart().mark_rule(color="#9aa5b1", strokeDash=[4, 3]).encode(x=alt.datum(0))
    return (
        alt.layer(zero, interval, point, data=frame)
        .properties(width=WIDTH // 2, height=alt.Step(14))
        .facet(facet=alt.Facet("parameter:N", title=None), columns=2)
        .resolve_scale(x="independent", y="independent")
    )


#: colours of the prior and the posterior intervals in :func:`prior_posterior`
KIND_COLOURS = {"prior": "#9aa5b1", "posterior": "#2f6fbd"}


def prior_posterior(frame: pd.DataFrame, width: int = WIDTH // 2, columns: int = 2) -> alt.FacetChart:
    """Prior vs posterior of each CX effect: ``frame`` columns effect, segment, kind (prior /
    posterior), mean, low, high (P10–P90), contraction; one panel per effect, the prior on the
    first row in grey, each segment's posterior below it in blue, a rule at 0 (no effect)."""
    order = list(dict.fromkeys(frame["segment"]))
    colours = alt.Scale(domain=list(KIND_COLOURS), range=list(KIND_COLOURS.values()))
    base = alt.Chart().encode(y=alt.Y("segment:N", title=None, sort=order))
    interval = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("low:Q", title="per +10 points (link scale), P10–P90"), x2="high:Q",
        color=alt.Color("kind:N", title=None, scale=colours))
    point = base.mark_point(filled=True, color=OBSERVED_COLOUR).encode(
        x="mean:Q", tooltip=["effect:N", "segment:N", "kind:N", alt.Tooltip("mean:Q", format=".3f"),
                             alt.Tooltip("low:Q", format=".3f"), alt.Tooltip("high:Q", format=".3f"),
                             alt.Tooltip("contraction:Q", title="narrowed by the history", format=".0%")])
    zero = alt.Chart().mark_rule(color="#52606d", strokeDash=[4, 3]).encode(x=alt.datum(0))
    return (
        alt.layer(zero, interval, point, data=frame)
        .properties(width=width, height=alt.Step(20))
        .facet(facet=alt.Facet("effect:N", title=None), columns=columns)
        .resolve_scale(x="independent", y="independent")
    )


def backtest_mape(frame: pd.DataFrame) -> alt.Chart:
    """Held-out MAPE by metric and forecaster: ``frame`` columns metric, forecaster, mape_pct."""
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("mape_pct:Q", title="MAPE on held-out months (%)"),
            y=alt.Y("forecaster:N", title=None, sort=None),
            color=alt.Color("forecaster:N", legend=None),
            row=alt.Row("metric:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
            tooltip=["metric:N", "forecaster:N", alt.Tooltip("mape_pct:Q", format=".2f")],
        )
        .properties(width=WIDTH - 120)
    )


def tracking_fan(frame: pd.DataFrame, title: str) -> alt.LayerChart:
    """Promised versus realised cumulative incremental revenue of one decision: ``frame`` columns
    month (month start), series (promised / realised), p10, p50, p90; bands P10–P90 with the
    median as a line, a rule at 0."""
    base = alt.Chart(frame).encode(
        x=alt.X("yearmonth(month):O", title=None, axis=alt.Axis(format="%b %Y", labelAngle=0)),
        color=alt.Color("series:N", title=None, scale=alt.Scale(range=["#9aa5b1", MODEL_COLOUR]),
                        legend=alt.Legend(orient="bottom")))
    band = base.mark_area(opacity=0.25).encode(y=alt.Y("p10:Q", title="currency, cumulative"), y2="p90:Q")
    median = base.mark_line(point=True).encode(y="p50:Q")
    zero = alt.Chart().mark_rule(color="#52606d", strokeDash=[4, 3]).encode(y=alt.datum(0))
    return alt.layer(band, zero, median).properties(width=WIDTH, height=PANEL_HEIGHT * 2, title=title)
