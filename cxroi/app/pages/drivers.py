"""Drivers & model health: what the model says CSAT and NPS do, how sure it is, where each effect
comes from, how healthy the fit is, and which model is the champion."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxroi import registry
from cxroi.app import charts, effects, jobs, reports, state
from cxroi.app.errors import guard
from cxroi.app.promotion_form import promotion_form
from cxroi.app.widgets import VERDICT_BADGES, health_table, job_progress, refreshing
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
    """The manifest's diagnostics as two small tables: single values (Diagnostic, Value as text,
    numbers to 4 significant figures) and the predictive check per forecast metric (Forecast of,
    MAPE in %, Coverage as a fraction of cells in the 80 % interval)."""
    scalars = [(DIAGNOSTICS.get(key, key.replace("_", " ").capitalize()), f"{value:,.4g}"
                if isinstance(value, int | float) and not isinstance(value, bool) else str(value))
               for key, value in diagnostics.items() if key != "predictive"]
    checks = [(METRIC_NAMES.get(metric, metric), row.get("mape_pct"), row.get("coverage_80"))
              for metric, row in (diagnostics.get("predictive") or {}).items() if isinstance(row, dict)]
    return (pd.DataFrame(scalars, columns=["Diagnostic", "Value"]),
            pd.DataFrame(checks, columns=["Forecast of", "MAPE", "Coverage"]))


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
    if manifest.survey_error:
        st.caption(f"Survey error modelled for {' and '.join(s.upper() for s in manifest.survey_error)}: each "
                   "month's score is treated as a noisy measurement (its number of answers sets how noisy).")
    else:
        st.caption("Survey error not modelled: CSAT and NPS were taken as exact (the panel gave no response "
                   "counts, or the model family does not model it).")
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
    if manifest.asymmetry is not None:
        for effect, d in manifest.asymmetry.loss_minus_gain.items():
            st.caption(literal(f"{effect}: falls minus rises {d['mean']:+.3f} (P10 {d['low']:+.3f}, P90 "
                               f"{d['high']:+.3f}); probability that falls act more strongly "
                               f"{manifest.asymmetry.p_loss_stronger[effect]:.0%}. Forecasts use the slope of rises."))


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
        cols = st.columns(2, gap="large")
        for i, (label, _parameter, kind, unit) in enumerate(effects.EFFECTS):
            with cols[i % 2]:
                st.markdown(f"**{label}** ({unit})")
                frame = table[table["effect"] == label]
                x_format = ".2f" if kind == "churn" else ".1%"
                st.altair_chart(charts.effect_intervals(frame, "Change in monthly churn (percentage points)"
                                                        if kind == "churn" else "Change (%)", x_format),
                                width="stretch")
        with st.expander("All effects as a table"):
            st.dataframe(table.drop(columns="parameter"), hide_index=True, width="stretch",
                         column_config={c: st.column_config.NumberColumn(format="%.4f") for c in ("mean", "low", "high")})
        _priors(model)
    with tabs[1], guard("computing the lifts"):
        st.markdown("CX lift of each initiative at nominal (catalogue) monthly spend, in survey points; "
                    "more spend lifts more, with diminishing returns.")
        st.markdown(SOURCE_NOTE)
        lifts = effects.initiative_lifts(model)
        st.dataframe(lifts, hide_index=True, width="stretch", column_config={
            "initiative": "Initiative", "csat_mean": st.column_config.NumberColumn("CSAT lift (points)", format="%.2f"),
            "csat_low": st.column_config.NumberColumn("CSAT P10", format="%.2f"),
            "csat_high": st.column_config.NumberColumn("CSAT P90", format="%.2f"), "csat_source": "CSAT source",
            "nps_mean": st.column_config.NumberColumn("NPS lift (points)", format="%.2f"),
            "nps_low": st.column_config.NumberColumn("NPS P10", format="%.2f"),
            "nps_high": st.column_config.NumberColumn("NPS P90", format="%.2f"), "nps_source": "NPS source",
            "carryover": st.column_config.NumberColumn("Monthly carry-over λ", format="%.2f")})
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
            st.dataframe(predictive, hide_index=True, column_config={
                "MAPE": st.column_config.NumberColumn("Mean absolute % error", format="%.1f%%"),
                "Coverage": st.column_config.NumberColumn("80% interval coverage", format="percent")})
        backtest = manifest.backtest
        if backtest is not None and backtest.rows:
            window = backtest.holdout_window
            held_out = f"{window.start} to {window.end}" if window else "months not recorded"
            st.markdown(f"**Backtest** on the last {backtest.holdout_months} months held out "
                        f"({held_out}): mean absolute percentage "
                        "error (MAPE) of the model against naive forecasts, and how often 80% intervals held the truth.")
            pct = st.column_config.NumberColumn
            st.dataframe(pd.DataFrame([row.model_dump() for row in backtest.rows]), hide_index=True, width="stretch",
                         column_order=["metric", "model_mape_pct", "naive_last_mape_pct", "seasonal_naive_mape_pct",
                                       "coverage_80"], column_config={
                "metric": "Forecast of", "model_mape_pct": pct("Model MAPE", format="%.1f%%"),
                "naive_last_mape_pct": pct("Last-value MAPE", format="%.1f%%"),
                "seasonal_naive_mape_pct": pct("Seasonal-naive MAPE", format="%.1f%%"),
                "coverage_80": pct("80% interval coverage", format="percent")})
        for warning in manifest.warnings:
            st.warning(literal(warning))
        st.markdown("**Model report** — data summary, diagnostics, predictive checks, backtest against the "
                    "other model family and naive forecasts, effects with their sources (HTML).")
        refreshing(_report, jobs.running(cfg.work_dir, reports.KIND) is not None)
    with tabs[3], guard("managing the models"):
        listing = pd.DataFrame(rows)
        listing["training_window"] = listing["training_window"].map(
            lambda w: f"{w.get('start')} to {w.get('end')}" if isinstance(w, dict) else "")
        listing["created_at"] = listing["created_at"].map(lambda t: str(t)[:16].replace("T", " ") if t else "")
        listing["error"] = listing["error"].fillna("")
        st.dataframe(listing, hide_index=True, width="stretch", column_config={
            "model_id": "Model", "family": "Family", "created_at": "Created (UTC)", "status": "Status",
            "champion": st.column_config.CheckboxColumn("Champion"), "training_window": "Training window",
            "health": st.column_config.CheckboxColumn("Health gate passed"), "error": "Problem"})
        if model_id == champion:
            st.success(f"{model_id} is the champion.")
            return
        promotion_form(model, champion)
