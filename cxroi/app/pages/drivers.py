"""Drivers & model health: what the model says CSAT and NPS do, how sure it is, where each effect
comes from, how healthy the fit is, and which model is the champion."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxroi import registry
from cxroi.app import charts, effects, jobs, reports, state
from cxroi.app import formatting as fmt
from cxroi.app.errors import guard
from cxroi.app.promotion_form import promotion_form
from cxroi.app.widgets import VERDICT_BADGES, health_table, job_progress, refreshing
from cxroi.explain import asymmetry_sentences, survey_error_sentence
from cxroi.report.charts import prior_posterior
from cxroi.text import literal

MODEL_CHOICE = "drivers_model"
SOURCE_NOTE = ("**Where effects come from.** *history*: learned from your own data (an association, "
               "not proof of cause); *catalogue*: the initiative catalogue's prior, not confirmed by your "
               "data; *pilot*: calibrated on a CX pilot's measured lift.")


DIAGNOSTICS = {  # manifest key: label
    "max_rhat": "Largest R-hat (1.00 = chains agree)", "min_ess_bulk": "Smallest effective sample size (bulk)",
    "min_ess_tail": "Smallest effective sample size (tails)", "divergences": "Divergent transitions",
    "worst_rhat_parameter": "Parameter with the largest R-hat", "worst_ess_parameter": "Parameter with the smallest ESS",
    "method": "How the draws were made",
}
METRIC_NAMES = {"churned": "Churned customers", "new_customers": "New customers", "revenue": "Revenue"}


def diagnostic_frames(diagnostics: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The manifest's diagnostics as two small tables of text: single values (Diagnostic, Value
    in the diagnostic's own format, :func:`cxroi.app.formatting.check_value`) and the predictive
    check per forecast metric (Forecast of; Mean absolute % error to one decimal; 80% interval
    coverage, the share of cells inside the 80 % interval, as a whole percentage)."""
    scalars = [(DIAGNOSTICS.get(key, key.replace("_", " ").capitalize()),
                fmt.check_value(key, value) if isinstance(value, int | float) and not isinstance(value, bool)
                else str(value))
               for key, value in diagnostics.items() if key != "predictive"]
    checks = [(METRIC_NAMES.get(metric, metric), fmt.percent(_fraction(row.get("mape_pct")), 1),
               fmt.percent(row.get("coverage_80"), 0))
              for metric, row in (diagnostics.get("predictive") or {}).items() if isinstance(row, dict)]
    return (pd.DataFrame(scalars, columns=["Diagnostic", "Value"]),
            pd.DataFrame(checks, columns=["Forecast of", "Mean absolute % error", "80% interval coverage"]))


def _fraction(percent: float | None) -> float | None:
    """A value in percent (a manifest's ``*_pct``) as a fraction, for :func:`fmt.percent`."""
    return None if percent is None else percent / 100


def effects_table(table: pd.DataFrame) -> pd.DataFrame:
    """The effects of :func:`cxroi.app.effects.segment_effects` for reading: Effect, Segment, Mean,
    P10, P90 in the effect's unit with its sign (percentage points of churn, % change otherwise),
    Source."""
    def shown(column: str) -> list[str]:
        return [fmt.effect_change(v, unit) for v, unit in zip(table[column], table["unit"], strict=True)]

    return pd.DataFrame({"Effect": table["effect"], "Segment": table["segment"], "Mean": shown("mean"),
                         "P10": shown("low"), "P90": shown("high"), "Source": table["source"].str.capitalize()})


def lifts_table(lifts: pd.DataFrame) -> pd.DataFrame:
    """The lifts of :func:`cxroi.app.effects.initiative_lifts` for reading: Initiative, each
    survey's lift as mean (P10 to P90) in signed points with its source, and the monthly carry-over."""
    def lift(kind: str) -> list[str]:
        return [fmt.interval(m, lo, hi, lambda v: fmt.points(v, 1, signed=True))
                for m, lo, hi in zip(lifts[f"{kind}_mean"], lifts[f"{kind}_low"], lifts[f"{kind}_high"], strict=True)]

    return pd.DataFrame({"Initiative": lifts["initiative"], "CSAT lift (points)": lift("csat"),
                         "CSAT source": lifts["csat_source"].str.capitalize(), "NPS lift (points)": lift("nps"),
                         "NPS source": lifts["nps_source"].str.capitalize(),
                         "Carry-over": [f"{v:.2f}" for v in lifts["carryover"]]})


def _month(day: str | None) -> str:
    """'2025-12-01' → 'Dec 2025'."""
    return pd.Timestamp(day).strftime("%b %Y") if day else "—"


def models_table(rows: list[dict], champion: str | None) -> pd.DataFrame:
    """The stored models for reading: Model (the champion marked), Family in words, Created
    (UTC, to the minute), Trained on (first to last month), Status (Accepted: passed the health
    gate; Rejected), and Problem only when a model cannot be read."""
    table = pd.DataFrame({
        "Model": [r["model_id"] + (" (champion)" if r["model_id"] == champion else "") for r in rows],
        "Family": [fmt.FAMILY_LABELS.get(r.get("family"), r.get("family") or "—") for r in rows],
        "Created (UTC)": [str(r.get("created_at") or "—")[:16].replace("T", " ") for r in rows],
        "Trained on": [f"{_month(w.get('start'))} – {_month(w.get('end'))}" if isinstance(w := r.get("training_window"),
                                                                                       dict) else "—" for r in rows],
        "Status": [str(r.get("status") or "—").capitalize() for r in rows],
        "Problem": [r.get("error") or "" for r in rows]})
    return table if table["Problem"].any() else table.drop(columns="Problem")


def _report(polling: bool) -> None:
    """Build (in the background) and offer the report of the model chosen on the page."""
    cfg = state.settings()
    model_id = st.session_state[MODEL_CHOICE]
    job, html = reports.latest_report(model_id, cfg.work_dir)
    busy = jobs.running(cfg.work_dir, reports.KIND) is not None
    if job is not None:
        job_progress(job, "Model report:", polling)
    if html is not None:
        st.download_button("Download the model report (HTML)", html.read_bytes(), file_name=f"report-{model_id}.html",
                           mime="text/html", icon=":material/description:")
    label = "Rebuild the model report" if html is not None else "Build the model report"
    if st.button(label, disabled=busy, icon=":material/summarize:", key=f"report_{model_id}"):
        reports.start_report(model_id, cfg.work_dir, cfg.models_dir)
        st.rerun()


def _priors(model) -> None:
    """Prior vs posterior of each CX effect, and how the model treated survey error and asymmetry."""
    manifest = model.manifest
    st.markdown("**Prior and posterior of each effect**")
    st.caption(survey_error_sentence(manifest))
    frame = effects.prior_posterior(model)
    if frame.empty:
        st.caption("This model recorded no priors (the regression family has none; older Bayesian models did "
                   "not store them).")
        return
    st.caption("Each effect's prior (grey, P10–P90) leans weakly toward the published direction — "
               "satisfaction lowers churn, raises revenue per customer and brings referrals — and the "
               "history can overturn it; blue: what each segment's history made of it. Per +10 points on "
               "the outcome's model scale (logit churn, log revenue per customer, log new customers). "
               "Sources of the directions: " + literal("; ".join(
                   f"{e}: {src}" for e, src in dict(zip(frame["effect"], frame["sources"], strict=True)).items())) + ".")
    st.altair_chart(prior_posterior(frame, width=220), width="content")
    for line in asymmetry_sentences(manifest):
        st.caption(literal(line))


def drivers() -> None:
    """Render the Drivers & model health page."""
    st.title("Drivers & model health")
    cfg = state.settings()
    with guard("reading the models"):
        rows = state.models()
        readable = [r["model_id"] for r in rows if not r.get("error")]
        if not readable:
            st.info("No model yet: train one on the Data & retrain page (or with `cxroi train`).")
            return
        if problem := registry.champion_problem(cfg.models_dir, rows):
            st.warning(f"There is no usable champion model: {problem}. Forecasts elsewhere in the app are "
                       "unavailable until a model is promoted on the Models & promotion tab.", icon=":material/warning:")
            champion = None
        else:
            champion = registry.champion_id(cfg.models_dir)
        model_id = st.selectbox("Model", readable, index=readable.index(champion) if champion in readable else 0,
                                format_func=lambda m: f"{m} (champion)" if m == champion else m, key=MODEL_CHOICE)
        model = state.load_model(model_id)
        tabs = st.tabs(["Effects of CSAT and NPS", "Initiative lifts", "Diagnostics & backtest", "Models & promotion"])
    with tabs[0], guard("computing the effects"):
        st.markdown("Effect of **+10 points** from each segment's current level, with 80% intervals "
                    "(P10–P90 over the model's parameter draws).")
        st.markdown(SOURCE_NOTE)
        table = effects.segment_effects(model)
        st.markdown("Colours: :blue[●] history · :orange[●] catalogue · :green[●] pilot")
        cols = st.columns(2, gap="large")
        for i, (label, _parameter, kind, unit) in enumerate(effects.EFFECTS):
            with cols[i % 2]:
                st.markdown(f"**{label}** ({unit})")
                frame = table[table["effect"] == label]
                x_format = ".2f" if kind == "churn" else ".1%"
                st.altair_chart(charts.effect_intervals(frame, "Change (percentage points)"
                                                        if kind == "churn" else "Change (%)", x_format),
                                width="stretch")
        with st.expander("All effects as a table"):
            st.dataframe(effects_table(table), hide_index=True, width="stretch")
        _priors(model)
    with tabs[1], guard("computing the lifts"):
        st.markdown("CX lift of each initiative at nominal (catalogue) monthly spend, in survey points; "
                    "more spend lifts more, with diminishing returns.")
        st.markdown(SOURCE_NOTE)
        st.dataframe(lifts_table(effects.initiative_lifts(model)), hide_index=True, width="stretch")
        st.caption("Lifts: mean (P10 to P90) over the model's parameter draws. Carry-over: the share of a month's "
                   "lift still there the month after (λ, per month).")
        cols = st.columns(2, gap="large")
        for column, kind in zip(cols, ("csat", "nps"), strict=True):
            with column:
                st.markdown(f"**{kind.upper()} lift curve** (steady state, mean)")
                st.altair_chart(charts.lift_curves(effects.lift_curves(model, kind), f"{kind.upper()} lift (points)"),
                                width="stretch")
    with tabs[2], guard("reading the diagnostics"):
        manifest = model.manifest
        st.markdown("**Health gate** — " + VERDICT_BADGES[manifest.health.verdict])
        health_table(manifest.health)
        scalars, predictive = diagnostic_frames(manifest.diagnostics.model_dump(exclude_none=True))
        if not scalars.empty:
            st.markdown("**Sampling diagnostics**")
            st.dataframe(scalars, hide_index=True)
        if not predictive.empty:
            st.markdown("**In-sample predictive check**: error of the median forecast of each training month, and "
                        "how often the 80% interval held the observed value (about 80% is well calibrated).")
            st.dataframe(predictive, hide_index=True)
        backtest = manifest.backtest
        if backtest is not None and backtest.rows:
            window = backtest.holdout_window
            held_out = f"{window.start} to {window.end}" if window else "months not recorded"
            st.markdown(f"**Backtest** on the last {backtest.holdout_months} months held out "
                        f"({held_out}): mean absolute percentage "
                        "error (MAPE) of the model against naive forecasts, and how often 80% intervals held the truth.")
            st.dataframe(pd.DataFrame([{
                "Forecast of": METRIC_NAMES.get(row.metric, row.metric),
                "Model": fmt.percent(_fraction(row.model_mape_pct), 1),
                "Last value": fmt.percent(_fraction(row.naive_last_mape_pct), 1),
                "Same month last year": fmt.percent(_fraction(row.seasonal_naive_mape_pct), 1),
                "80% interval coverage": fmt.percent(row.coverage_80, 0)} for row in backtest.rows]),
                hide_index=True, width="stretch")
            st.caption("Model, last value, same month last year: the mean absolute % error of each forecast of the "
                       "held-out months; the two naive forecasts repeat the last month seen or the same month a "
                       "year before.")
        for warning in manifest.warnings:
            st.warning(literal(warning))
        st.markdown("**Model report** — data summary, diagnostics, predictive checks, backtest against the "
                    "other model family and naive forecasts, effects with their sources (HTML).")
        refreshing(_report, jobs.running(cfg.work_dir, reports.KIND) is not None)
    with tabs[3], guard("managing the models"):
        st.dataframe(models_table(rows, champion), hide_index=True, width="stretch", column_config={
            "Model": st.column_config.TextColumn(width=215), "Family": st.column_config.TextColumn(width=125),
            "Created (UTC)": st.column_config.TextColumn(width=125),
            "Trained on": st.column_config.TextColumn(width=145), "Status": st.column_config.TextColumn(width=85)})
        if model_id == champion:
            st.success(f"{model_id} is the champion.")
            return
        promotion_form(model, champion)
