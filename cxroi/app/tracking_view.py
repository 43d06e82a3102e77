"""What the Track decisions page shows of a :class:`~cxroi.track.Tracking`, as pure functions:
the promised-versus-realised fan chart, the lift chart, the status in words and the to-date
table formatted for reading.

Units: money in the configured currency (cumulative from the decision's start), customers at the
end of each month, lifts in survey points (CSAT % points, NPS points) averaged over the reached
segments and tracked months.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from cxroi import track as tracked
from cxroi.app import formatting as fmt
from cxroi.app.charts import HEIGHT, MONEY_AXIS, month_step
from cxroi.track import METRIC_LABELS, Tracking

#: series of the fan chart → colour (promised grey, realised blue)
SERIES_COLORS = {"Promised (P10–P90)": "#9e9e9e", "Realised (80 % interval)": "#4c78a8"}
#: status → (Streamlit colour name, icon)
STATUS_LOOK = {tracked.ON_TRACK: ("green", ":material/check_circle:"), tracked.AHEAD: ("blue", ":material/trending_up:"),
               tracked.BEHIND: ("red", ":material/trending_down:"), tracked.TOO_EARLY: ("orange", ":material/hourglass_top:")}
#: lift estimate method → what it was measured against, in a table
MEASURED_AGAINST = {"difference-in-differences": "untreated segments", "against pre-decision level": "level before"}
#: lift estimate method → how the chart names it
METHOD_WORDS = {"difference-in-differences": "Realised vs untreated segments",
                "against pre-decision level": "Realised vs own level before"}


def fan_frame(tracking: Tracking, metric: str) -> pd.DataFrame:
    """Long frame of the fan chart for ``metric``: month (first day), series, p10, p50, p90 —
    the promised band with its median, and the realised 80 % interval with its median."""
    rows = tracking.monthly[tracking.monthly["metric"] == metric]
    months = pd.to_datetime(rows["month"], format="%Y-%m")
    promised, realised = list(SERIES_COLORS)
    return pd.concat([
        pd.DataFrame({"month": months, "series": promised, "p10": rows["promised_p10"], "p50": rows["promised_p50"],
                      "p90": rows["promised_p90"]}),
        pd.DataFrame({"month": months, "series": realised, "p10": rows["realised_p10"], "p50": rows["realised_p50"],
                      "p90": rows["realised_p90"]}),
    ], ignore_index=True)


def fan_chart(frame: pd.DataFrame, y_title: str, y_format: str = MONEY_AXIS) -> alt.LayerChart:
    """Promised band and realised interval over the months (``frame`` from :func:`fan_frame`),
    medians as lines with points (a single tracked month still shows), legend below."""
    color = alt.Color("series:N", title=None, scale=alt.Scale(domain=list(SERIES_COLORS),
                                                              range=list(SERIES_COLORS.values())),
                      legend=alt.Legend(orient="bottom", labelLimit=400))
    ticks = {"interval": "month", "step": month_step(frame["month"].nunique())}
    base = alt.Chart(frame, height=HEIGHT).encode(
        x=alt.X("month:T", title="Month", axis=alt.Axis(format="%b %Y", tickCount=ticks)), color=color)
    band = base.mark_area(opacity=0.25).encode(y=alt.Y("p10:Q", title=y_title, axis=alt.Axis(format=y_format)),
                                               y2="p90:Q")
    line = base.mark_line(point=True, strokeWidth=2).encode(
        y="p50:Q", tooltip=[alt.Tooltip("month:T", title="Month", format="%b %Y"), alt.Tooltip("series:N", title="Series"),
                            alt.Tooltip("p10:Q", title="P10", format=",.0f"),
                            alt.Tooltip("p50:Q", title="P50", format=",.0f"),
                            alt.Tooltip("p90:Q", title="P90", format=",.0f")])
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#888", strokeDash=[4, 4]).encode(y="y:Q")
    return alt.layer(band, zero, line)


def lift_frame(tracking: Tracking) -> pd.DataFrame:
    """One row per score and estimate: label, score, low/mid/high (survey points) — the assumed
    lift (mean, P5–P95 over draws) and each realised estimate (with its 90 % interval)."""
    rows = []
    for kind, group in tracking.lift.groupby("metric", sort=False):
        first = group.iloc[0]
        rows.append({"score": kind.upper(), "estimate": "Assumed by the decision", "low": first["assumed_p5"],
                     "mid": first["assumed_mean"], "high": first["assumed_p95"]})
        rows += [{"score": kind.upper(), "estimate": METHOD_WORDS.get(r["method"], r["method"]), "low": r["p5"],
                  "mid": r["realised"], "high": r["p95"]} for r in group.to_dict(orient="records")]
    return pd.DataFrame(rows, columns=["score", "estimate", "low", "mid", "high"])


def lift_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Assumed versus realised lift per score: a point at the estimate and a 90 % whisker, one
    row per score and estimate (``frame`` from :func:`lift_frame`)."""
    frame = frame.assign(row=frame["score"] + " · " + frame["estimate"])
    height = max(120, 34 * len(frame))
    palette = {"Assumed by the decision": "#9e9e9e", **dict.fromkeys(METHOD_WORDS.values(), "#4c78a8")}
    base = alt.Chart(frame, height=height).encode(
        y=alt.Y("row:N", title=None, sort=list(frame["row"]), axis=alt.Axis(labelLimit=320, labelOverlap=False)),
        color=alt.Color("estimate:N", scale=alt.Scale(domain=list(palette), range=list(palette.values())), legend=None))
    whisker = base.mark_rule(strokeWidth=2).encode(x=alt.X("low:Q", title="Lift (survey points; 90 % interval)"),
                                                   x2="high:Q")
    point = base.mark_point(filled=True, size=80).encode(
        x="mid:Q", tooltip=[alt.Tooltip("row:N", title="Estimate"), alt.Tooltip("mid:Q", title="Lift", format="+.2f"),
                            alt.Tooltip("low:Q", title="P5", format="+.2f"),
                            alt.Tooltip("high:Q", title="P95", format="+.2f")])
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#888", strokeDash=[4, 4]).encode(x="x:Q")
    return alt.layer(zero, whisker, point)


def status_sentence(tracking: Tracking) -> str:
    """The status in words with the three probabilities and the rule behind it."""
    p = tracking.probabilities
    rule = (f"cumulative incremental revenue of the reached segments against the promised P10–P90; a status needs "
            f"{fmt.percent(tracked.STATUS_PROBABILITY, 0)}")
    odds = (f"P(behind) {fmt.percent(p[tracked.BEHIND], 0)}, P(on track) {fmt.percent(p[tracked.ON_TRACK], 0)}, "
            f"P(ahead) {fmt.percent(p[tracked.AHEAD], 0)}")
    if tracking.status == tracked.TOO_EARLY:
        return (f"**Too early to tell** after {tracking.months_tracked} month(s): likeliest {tracking.likeliest} "
                f"({odds}; {rule}).")
    return f"**{tracking.status.capitalize()}** after {tracking.months_tracked} month(s) ({odds}; {rule})."


def summary_table(tracking: Tracking, currency: str) -> pd.DataFrame:
    """To date, per measure: the promised P10 – P50 – P90 and the realised mean with its 80 %
    interval, compact (three significant figures; the workbook has every digit and the 90 %
    interval), in the measure's unit."""
    rows = []
    for r in tracking.summary.to_dict(orient="records"):
        show = fmt.count if r["unit"] == "customers" else (lambda v: fmt.money_short(v, currency))
        rows.append({"Measure": METRIC_LABELS.get(r["metric"], r["metric"]),
                     "Promised P10 · P50 · P90": " · ".join(show(r[f"promised_p{q}"]) for q in (10, 50, 90)),
                     "Realised mean": show(r["realised_mean"]),
                     "Realised 80 % interval": f"{show(r['realised_p10'])} to {show(r['realised_p90'])}"})
    return pd.DataFrame(rows)


def pilots_table(pilots: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The proposed pilot results for reading: initiative by its name (``names``: id → name),
    segment, score, lift at full effect ± its standard error (survey points), what it was
    measured against and the share of the full effect assumed so far."""
    return pd.DataFrame({
        "Initiative": [names.get(i, i) for i in pilots["initiative"]], "Segment": pilots["segment"],
        "Score": pilots["metric"].str.upper(),
        "Lift at full effect": [f"{fmt.points(v, 2, signed=True)} ± {se:.2f}"
                                for v, se in zip(pilots["lift"], pilots["se"], strict=True)],
        "Measured against": [MEASURED_AGAINST.get(m, m) for m in pilots["method"]],
        "Effect so far": [fmt.percent(v, 0) for v in pilots["share_of_full_effect"]]})
