"""Headline figures, chart frames and page sections of one :class:`SimulationResult`.

Frames are plain pandas built from the result's own tables (no re-computation of the science);
``show_*`` functions render them. Money is in the model's currency, months are calendar months.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cxroi.app import charts
from cxroi.app import formatting as fmt
from cxroi.app.effects import EFFECTS, segment_effects
from cxroi.app.widgets import Tile, metric_tiles
from cxroi.params import EFFECT_LABELS
from cxroi.registry import ModelArtifact
from cxroi.science import saturation
from cxroi.sim.plan import nominal_cost, planned_monthly_spend
from cxroi.sim.result import ALL_SEGMENTS, SimulationResult
from cxroi.sim.scenario import LEVER_EFFECTS, Scenario

LEVER_LABELS = {"retention": "Retention", "arpu": "ARPU", "acquisition": "Acquisition"}
LEVER_WORDS = {"retention": "retention", "arpu": "revenue per customer", "acquisition": "acquisition"}
#: a prior → posterior contraction below this means the history did not identify the effect
#: (the threshold of cxroi.fit.identification's caveat: narrowed by less than half)
IDENTIFIED = 0.5
#: how the page states which figures are medians and which are means (said once, under the tiles)
STATISTICS_NOTE = ("Tiles show **medians** (P50) over the model's parameter draws, with the 80 % range (P10–P90); "
                   "the value-by-lever waterfall and the response curves' marginal ROI use **means** (expected "
                   "values), because means add up across levers and segments and medians do not. The two NPVs "
                   "therefore differ a little when the draws are skewed.")


def headline(result: SimulationResult) -> dict[str, float]:
    """NPV (P10, P50, P90, mean), ROI (P10, P50, P90), payback month P50 and P(ROI > 0)."""
    summary = result.summary()
    npv, roi, payback = summary.loc["npv"], summary.loc["roi"], summary.loc["payback_month"]
    return {
        "npv_p10": npv["p10"], "npv_p50": npv["p50"], "npv_p90": npv["p90"], "npv_mean": npv["mean"],
        "roi_p10": roi["p10"], "roi_p50": roi["p50"], "roi_p90": roi["p90"],
        "payback_p50": payback["p50"], "prob_roi_positive": summary.loc["prob_roi_positive", "mean"],
        "pv_spend": summary.loc["pv_spend", "mean"],
    }


def fan_frame(result: SimulationResult, metric: str) -> pd.DataFrame:
    """Columns month, p10, p50, p90 over draws of 'incremental_revenue' (per month) or
    'cumulative_cash_flow', summed over segments. Only this one metric's quantiles are computed
    (not the whole monthly table), which keeps the slider path fast."""
    paths = {
        "incremental_revenue": lambda: result.incremental_revenue_by_month,
        "cumulative_cash_flow": lambda: np.cumsum(result.total_cash_flow, axis=-1),
    }
    p10, p50, p90 = np.quantile(paths[metric](), (0.1, 0.5, 0.9), axis=0)
    return pd.DataFrame({"month": result.months, "p10": p10, "p50": p50, "p90": p90})


def lever_steps(result: SimulationResult) -> pd.DataFrame:
    """Waterfall steps (label, value): mean present value of each enabled lever, then minus the
    present value of spend; they add up to the mean NPV."""
    levers = result.levers_table()
    levers = levers[levers["segment"] == ALL_SEGMENTS]
    enabled = result.scenario.levers.enabled()
    rows = [(LEVER_LABELS[r.lever], r.mean) for r in levers.itertuples() if r.lever in enabled]
    rows.append(("Investment", -result.pv_spend))
    return pd.DataFrame(rows, columns=["label", "value"])


def segment_frame(result: SimulationResult) -> pd.DataFrame:
    """NPV quantiles per segment reached (columns segment, p10, p50, p90)."""
    table = result.segments_table()
    table = table[table["segment"].isin(result.scenario.segments)]
    return table.rename(columns={"npv_p10": "p10", "npv_p50": "p50", "npv_p90": "p90"})[
        ["segment", "p10", "p50", "p90"]]


def comparison_row(label: str, result: SimulationResult, currency: str) -> dict:
    """One scenario's row of the Compare table: NPV P10/P50/P90 and mean (currency), the headline
    ratios formatted as on the other pages, and the valuation assumptions that make two scenarios
    comparable or not (horizon, discount rate, gross margin, terminal value, levers counted)."""
    h, scenario = headline(result), result.scenario
    margin = fmt.percent(scenario.gross_margin.default, 0)
    if scenario.gross_margin.segments:
        margin += " (some segments differ)"
    return {
        "Scenario": label,
        f"NPV P10 ({currency})": h["npv_p10"], f"NPV P50 ({currency})": h["npv_p50"],
        f"NPV P90 ({currency})": h["npv_p90"], f"Expected NPV ({currency})": h["npv_mean"],
        "ROI (P50)": fmt.ratio(h["roi_p50"]), "Payback (P50)": fmt.payback(h["payback_p50"], result.horizon),
        "P(ROI > 0)": fmt.percent(h["prob_roi_positive"], 0), f"Investment, PV ({currency})": h["pv_spend"],
        "Horizon (months)": result.horizon, "Discount rate (per year)": fmt.percent(scenario.annual_discount_rate),
        "Gross margin": margin, "Terminal value": "included" if scenario.terminal_value else "not included",
        "Value levers": ", ".join(LEVER_LABELS[lever] for lever in scenario.levers.enabled()),
    }


def show_metrics(result: SimulationResult, currency: str) -> None:
    """NPV, ROI, payback and P(ROI > 0) as headline tiles with their 80 % ranges (one row on a
    wide screen, 2 × 2 on a narrow one; never cut off)."""
    h = headline(result)
    metric_tiles([
        Tile("NPV", fmt.money_short(h["npv_p50"], currency),
             "Median net present value over the model's parameter draws",
             f"80% range {fmt.money_short(h['npv_p10'], currency)} to {fmt.money_short(h['npv_p90'], currency)}"),
        Tile("ROI", fmt.ratio(h["roi_p50"]), "Median of NPV / present value of spend",
             f"80% range {fmt.ratio(h['roi_p10'])} to {fmt.ratio(h['roi_p90'])}"),
        Tile("Payback", fmt.payback(h["payback_p50"], result.horizon),
             "Median forecast month (1 = first month) from which cumulative cash flow stays positive",
             f"Investment (PV) {fmt.money_short(h['pv_spend'], currency)}"),
        Tile("P(ROI > 0)", fmt.percent(h["prob_roi_positive"], 0),
             "Share of parameter draws in which the investment pays back within the horizon",
             f"{result.n_draws:,} draws of model {result.model_id}"),
    ], group=2)
    show_caveats(result)


def show_statistics_note(result: SimulationResult, currency: str) -> None:
    """Say once which figures are medians and which are means, with both NPVs."""
    h = headline(result)
    st.caption(f"{STATISTICS_NOTE} Here: median NPV {fmt.money_short(h['npv_p50'], currency)}, mean (expected) NPV "
               f"{fmt.money_short(h['npv_mean'], currency)}.")


def show_caveats(result: SimulationResult) -> None:
    """The model's caveats that concern these figures, next to them: folded into one line when
    there are many, each with the segments and effects it concerns (shown as plain text)."""
    caveats = result.provenance.caveats
    if not caveats:
        return
    with st.expander(f"Caveats of model {result.model_id} for these figures ({len(caveats)})",
                     icon=":material/warning:", expanded=len(caveats) <= 2):
        for caveat in caveats:
            effects = ", ".join(EFFECT_LABELS[e] for e in caveat.effects) or "all"
            st.text(f"• {caveat.text[:1].upper()}{caveat.text[1:]}\n  (segments: {', '.join(caveat.segments) or 'all'}"
                    f" · effects: {effects})")


def show_fans(result: SimulationResult, currency: str) -> None:
    """Fan charts of incremental revenue and cumulative cash flow (median, P10–P90 band)."""
    st.markdown("**Incremental revenue per month** (median, P10–P90 band)")
    st.altair_chart(charts.fan_chart(fan_frame(result, "incremental_revenue"),
                                     f"Incremental revenue ({currency}/month)"), width="stretch")
    st.markdown("**Cumulative cash flow** (median, P10–P90 band)")
    st.altair_chart(charts.fan_chart(fan_frame(result, "cumulative_cash_flow"), f"Cumulative cash flow ({currency})"),
                    width="stretch")


#: width (px) of each breakdown chart: three side by side on a desktop, two and one below on a laptop
BREAKDOWN_WIDTH = 300


def show_breakdown(result: SimulationResult, currency: str) -> None:
    """Lever waterfall, NPV by segment and the ROI distribution, side by side in a row that wraps
    (a chart squeezed into a third of a laptop screen loses its bars and labels)."""
    row = st.container(horizontal=True, gap="small")
    with row.container(width=BREAKDOWN_WIDTH):
        st.markdown("**Value by lever** (expected present value)")
        st.altair_chart(charts.waterfall(lever_steps(result), f"Present value ({currency})"), width="stretch")
        st.caption("Means over the parameter draws (they add up); the NPV tile above is the median.")
    with row.container(width=BREAKDOWN_WIDTH):
        st.markdown("**NPV by segment** (median, P10–P90)")
        st.altair_chart(charts.interval_bars(segment_frame(result), "segment", "Segment", f"NPV ({currency})"),
                        width="stretch")
    with row.container(width=BREAKDOWN_WIDTH):
        st.markdown("**ROI distribution** over parameter draws")
        st.altair_chart(charts.distribution(pd.DataFrame({"value": result.roi}), "ROI (NPV / PV of spend)",
                                            x_format=charts.PERCENT_AXIS), width="stretch")


PREVIEW_COLUMNS = {  # (metric, quantile): column title
    ("incremental_revenue", 0.5): "Incremental revenue (P50)",
    ("spend", 0.5): "Spend",
    ("cash_flow", 0.5): "Cash flow (P50)",
    ("cumulative_cash_flow", 0.5): "Cumulative cash flow (P50)",
}


def forecast_preview(result: SimulationResult) -> pd.DataFrame:
    """Monthly forecast over all segments: one row per month, the columns of :data:`PREVIEW_COLUMNS`
    (the key columns that fit a laptop screen; every quantile of every metric is in the downloads)."""
    table = result.monthly_quantiles()
    table = table[table["segment"] == ALL_SEGMENTS]
    wide = table.pivot_table(index="month", columns=["metric", "quantile"], values="value")
    frame = pd.DataFrame({title: wide[key] for key, title in PREVIEW_COLUMNS.items()})
    return frame.reset_index().rename(columns={"month": "Month"})


def show_forecast_preview(result: SimulationResult, currency: str) -> None:
    """The monthly forecast preview as a table with money formatting, in ``currency`` per month."""
    column = st.column_config.NumberColumn
    config = {title: column(format=fmt.SIGNED_MONEY_COLUMN) for title in PREVIEW_COLUMNS.values()}  # currency in the caption
    st.dataframe(forecast_preview(result), hide_index=True, width="stretch", height=320,
                 column_config={"Month": st.column_config.DateColumn("Month", format="MMM YYYY"), **config})
    st.caption(f"In {currency} per month: medians (P50) over the model's parameter draws. The downloads hold every "
               "metric — revenue without and with the investment, customers, churn, new customers — with every "
               "quantile, by segment and for all segments.")


# ---------------------------------------------------------------------------- assumptions on screen
def identification_words(model: ModelArtifact, parameter: str, key: str) -> str:
    """How far the history narrowed an effect (prior → posterior contraction), in words."""
    contraction = model.manifest.identification.get(parameter, {}).get(key)
    if contraction is None:
        return "not recorded"
    verdict = "identified by the history" if contraction >= IDENTIFIED else "rests on the prior"
    return f"{verdict} (narrowed {contraction:.0%})"


def _pilot_words(model: ModelArtifact, initiative: str, segment: str, metric: str) -> str:
    """The pilot that calibrated a lift in a segment, if any: 'pilot +4.0 ± 1.0'."""
    pilots = [p for p in model.manifest.pilots if (p.initiative, p.segment, p.metric) == (initiative, segment, metric)]
    return "; ".join(f"pilot in {p.segment}: {p.lift:+.1f} ± {p.se:.1f}" for p in pilots)


def lift_assumptions(model: ModelArtifact, scenario: Scenario) -> pd.DataFrame:
    """One row per investment × segment reached: the CSAT and NPS lifts the scenario uses at full
    effect (mean and sd over draws, survey points) with their source (history, catalogue or pilot
    from the model, or "your estimate") and identification, the monthly spend there (currency),
    its share of the full effect at that spend in steady state (sat(spend / nominal cost)) and
    the CSAT / NPS points that gives (mean)."""
    draws = model.draws
    rows = []
    for j, inv in enumerate(scenario.investments):
        column = model.initiatives.index(inv.initiative)
        k = model.manifest.initiative_settings[inv.initiative].saturation_k
        for segment in inv.segments:
            spend = planned_monthly_spend(model, inv, segment)
            share = float(saturation(spend / nominal_cost(model, inv.initiative, segment), k))
            row = {"investment": j + 1, "initiative": model.manifest.initiative_name(inv.initiative),
                   "segment": segment, "monthly_spend": spend, "share_of_full_effect": share}
            for kind in ("csat", "nps"):
                override = getattr(inv.lift, kind) if inv.lift else None
                if override is not None:
                    mean, sd, source, identified = override.mean, override.sd, "your estimate", "—"
                else:
                    values = draws[f"lift_{kind}"][:, column]
                    mean, sd = float(values.mean()), float(values.std())
                    source = model.manifest.effect_source(f"lift_{kind}", inv.initiative)
                    if pilot := _pilot_words(model, inv.initiative, segment, kind):
                        source = f"{source} ({pilot})"
                    identified = identification_words(model, f"lift_{kind}", inv.initiative)
                row |= {f"{kind}_mean": mean, f"{kind}_sd": sd, f"{kind}_at_spend": mean * share,
                        f"{kind}_source": source, f"{kind}_identification": identified}
            rows.append(row)
    return pd.DataFrame(rows)


def effect_assumptions(model: ModelArtifact, scenario: Scenario) -> pd.DataFrame:
    """One row per CX effect the scenario's levers use × segment it reaches: what +10 points do
    (mean and P10–P90 over draws; churn in percentage points a month, the others in % change),
    the unit, the source and the identification."""
    used = {e for lever in scenario.levers.enabled() for e in LEVER_EFFECTS[lever]}
    effects = segment_effects(model)
    effects = effects[effects["parameter"].isin(used) & effects["segment"].isin(scenario.segments)].copy()
    effects["identification"] = [identification_words(model, p, s)
                                 for p, s in zip(effects["parameter"], effects["segment"], strict=True)]
    order = {label: k for k, (label, *_) in enumerate(EFFECTS)}
    return effects.sort_values(["effect", "segment"], key=lambda c: c.map(order) if c.name == "effect" else c)


def valuation_assumptions(scenario: Scenario, result: SimulationResult) -> pd.DataFrame:
    """The valuation terms as two columns (assumption, value) in plain words."""
    margin = fmt.percent(scenario.gross_margin.default, 0)
    if scenario.gross_margin.segments:
        margin += " (" + ", ".join(f"{s} {fmt.percent(v, 0)}" for s, v in scenario.gross_margin.segments.items()) + ")"
    rows = [
        ("Gross margin", margin),
        ("Discount rate", f"{fmt.percent(scenario.annual_discount_rate)} a year "
                          f"({fmt.percent(result.monthly_rate, 2)} a month)"),
        ("Horizon", f"{scenario.horizon_months} months, from {result.months[0]:%b %Y} to {result.months[-1]:%b %Y}"),
        ("Terminal value", "included: the extra customers left at the horizon are valued at their lifetime value"
         if scenario.terminal_value else "not included: value stops at the horizon"),
        ("Value levers", ", ".join(LEVER_WORDS[lever] for lever in scenario.levers.enabled())),
        ("Parameter draws", f"{result.n_draws:,} of model {result.model_id}"),
    ]
    return pd.DataFrame(rows, columns=["Assumption", "Value"])


def show_assumptions(model: ModelArtifact, result: SimulationResult, currency: str) -> None:
    """The assumptions behind the figures: valuation terms, lifts used and CX effects used."""
    scenario = result.scenario
    with st.expander("Assumptions behind these figures", icon=":material/fact_check:"):
        st.markdown("**Valuation**")
        st.table(valuation_assumptions(scenario, result).set_index("Assumption"))
        st.markdown("**Lift of each investment** (survey points at full effect, mean ± sd over the draws; the same "
                    "in every segment it reaches, scaled by the share of full effect its spend buys there)")
        lifts = lift_assumptions(model, scenario)
        number = st.column_config.NumberColumn
        st.dataframe(lifts.drop(columns=["investment"]), hide_index=True, width="stretch", column_config={
            "initiative": "Initiative", "segment": "Segment",
            "monthly_spend": number("Monthly spend", format=fmt.money_column_format(currency)),
            "share_of_full_effect": number("Share of full effect", format="percent"),
            "csat_mean": number("CSAT lift", format="%+.1f"), "csat_sd": number("± sd", format="%.1f"),
            "csat_at_spend": number("CSAT at this spend", format="%+.1f"),
            "csat_source": "CSAT lift from", "csat_identification": "CSAT lift identification",
            "nps_mean": number("NPS lift", format="%+.1f"), "nps_sd": number("± sd ", format="%.1f"),
            "nps_at_spend": number("NPS at this spend", format="%+.1f"),
            "nps_source": "NPS lift from", "nps_identification": "NPS lift identification"})
        st.markdown("**CX effects used** (what +10 points of CSAT or NPS do in each segment reached, mean and "
                    "P10–P90 over the draws)")
        effects = effect_assumptions(model, scenario)
        shown = effects.assign(
            mean=[_effect_value(v, u) for v, u in zip(effects["mean"], effects["unit"], strict=True)],
            range=[f"{_effect_value(lo, u)} to {_effect_value(hi, u)}"
                   for lo, hi, u in zip(effects["low"], effects["high"], effects["unit"], strict=True)])
        st.dataframe(shown[["effect", "segment", "mean", "range", "source", "identification"]], hide_index=True,
                     width="stretch", column_config={"effect": "Effect", "segment": "Segment", "mean": "Mean",
                                                     "range": "80% range", "source": "From",
                                                     "identification": "Identification"})


def _effect_value(value: float, unit: str) -> str:
    """An effect in its unit: percentage points of monthly churn, or a % change."""
    if unit == "percentage points":
        return f"{value:+.2f} pp"
    return f"{100 * value:+.1f}%"


# ---------------------------------------------------------------------------- reading of a result
def largest_value(result: SimulationResult) -> tuple[str, str, float] | None:
    """The lever × segment with the largest expected present value: (lever, segment, its share
    of the positive lever values over all segments); None when no lever adds value."""
    table = result.levers_table()
    table = table[(table["segment"] != ALL_SEGMENTS) & (table["mean"] > 0)]
    if table.empty:
        return None
    top = table.loc[table["mean"].idxmax()]
    return str(top["lever"]), str(top["segment"]), float(top["mean"] / table["mean"].sum())


def reading(result: SimulationResult, shares: pd.DataFrame | None) -> str:
    """One sentence on where the value and the uncertainty come from, e.g. "Most of the value
    is retention in Enterprise-EU (62 % of the expected gross value); the CSAT → churn effect is
    most of the uncertainty (fixing it at its mean removes 55 % of the NPV's variance)." ``shares`` as
    :func:`cxroi.sim.attribution.uncertainty_shares` gives them (None: value only)."""
    value = largest_value(result)
    if value is None:
        first = "No lever adds value in this scenario"
    else:
        lever, segment, share = value
        lead = "Most of the value" if share >= 0.5 else "The largest part of the value"
        first = f"{lead} is {LEVER_WORDS[lever]} in {segment} ({fmt.percent(share, 0)} of the expected gross value)"
    if shares is None or shares.empty or shares.attrs.get("npv_sd", 0.0) <= 0:
        return first + "."
    top = shares.iloc[0]
    lead = "is most of the uncertainty" if top["variance_share"] >= 0.5 else "is the largest single source of uncertainty"
    return (f"{first}; {top['label']} {lead} (fixing it at its mean removes "
            f"{fmt.percent(max(float(top['variance_share']), 0.0), 0)} of the NPV's variance).")
