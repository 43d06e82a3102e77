"""The sections of a model report, built from parts gathered once by :mod:`cxroi.report.gather`:
data summary, diagnostics and health gate, posterior predictive checks per segment, backtest
against the other family and naive forecasts, effect estimates with their source, and warnings.
Rendering lives in :mod:`cxroi.report.render`.

Units: counts are customers per month, revenue is currency per month, ARPU is currency per
average active customer per month, CSAT is % and NPS points; effects are per +10 survey points
(lifts: survey points at full effect); MAPE is in % and coverage a share of held-out cells.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cxroi.app.effects import prior_posterior
from cxroi.data.quality import QualityWarning, warning_texts
from cxroi.explain import asymmetry_sentences, survey_error_sentence
from cxroi.fit.diagnostics import EXPECTED_SIGN
from cxroi.manifest import Manifest
from cxroi.params import EFFECT_PARAMETERS, PARAMETERS
from cxroi.registry import ModelArtifact
from cxroi.report import charts
from cxroi.report.document import Block, Bullets, Chart, Paragraph, Report, Section, Table

if TYPE_CHECKING:
    from cxroi.store import Decision
    from cxroi.track import Tracking

FAMILY_LABELS = {"bayes": "Bayesian model", "regression": "Regression model"}
NAIVE_LABELS = {"naive_last_mape_pct": "Naive last value", "seasonal_naive_mape_pct": "Seasonal naive"}
METRIC_LABELS = {"churned": "Churned customers", "revenue": "Revenue", "new_customers": "New customers"}
#: central interval of the effect table, and the expected sign of lifts (CX initiatives raise scores)
EFFECT_INTERVAL = 0.90
LIFT_SIGN = {"lift_csat": 1, "lift_nps": 1}
#: parameter draws used for predictive checks (enough for stable 80 % bands, quick to render)
PREDICTIVE_DRAWS = 1000


def number(value: object) -> str:
    """Four significant digits for floats (R-hat 1.003, ESS 1234), integers as they are."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return "—" if not np.isfinite(value) else f"{float(value):.4g}"
    return str(value)


def mape(value: float | None) -> str:
    """A MAPE in % with two decimals, as in the backtest table."""
    return "—" if value is None else f"{value:.2f}"


def share(value: float | None) -> str:
    """A share (0–1) as a percentage with one decimal: 0.8333 → '83.3 %'."""
    return "—" if value is None else f"{100 * value:.1f} %"


def _flatten(mapping: Mapping, prefix: str = "") -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows += _flatten(value, name + ".")
        elif not isinstance(value, list):
            rows.append((name, value))
    return rows


# --- sections ---------------------------------------------------------------------------------


def summary_section(artifact: ModelArtifact, data_note: str) -> Section:
    m = artifact.manifest
    sampler = m.sampler.model_dump(exclude_none=True) if m.sampler else {}
    items = [
        f"Model: {artifact.model_id} ({FAMILY_LABELS.get(m.family, m.family)})",
        f"Status: {m.status}; health gate {m.health.label}",
        f"Training window: {m.training_window or '?'}",
        f"Segments ({len(artifact.segments)}): {', '.join(artifact.segments)}",
        f"Initiatives ({len(artifact.initiatives)}): {', '.join(artifact.initiatives) or 'none'}",
        f"Parameter draws: {artifact.n_draws}; sampler: "
        + ", ".join(f"{k}={v}" for k, v in sampler.items()),
        f"Created {m.created_at or '?'} with cxroi {m.cxroi_version or '?'}; lag {m.lag_months} month(s)",
        data_note,
    ]
    return Section("summary", "Model", [Bullets(items)])


def data_table(panel: pd.DataFrame) -> pd.DataFrame:
    """Per segment: months observed, first month, customers at the start of the last month,
    mean monthly churn (%), mean ARPU, mean and range of CSAT and NPS."""
    rows = []
    for segment, g in panel.sort_values("period").groupby("segment"):
        active = (g["customers_start"] - g["churned"] / 2 + g["new_customers"] / 2).clip(lower=1)
        rows.append({
            "segment": segment, "months": len(g), "first month": f"{g['period'].iloc[0]:%Y-%m}",
            "customers (last month)": f"{g['customers_start'].iloc[-1]:,.0f}",
            "churn % / month": f"{100 * g['churned'].sum() / max(g['customers_start'].sum(), 1):.2f}",
            "ARPU": f"{(g['revenue'] / active).mean():,.2f}",
            "CSAT mean": f"{g['csat'].mean():.1f}", "CSAT range": f"{g['csat'].max() - g['csat'].min():.1f}",
            "NPS mean": f"{g['nps'].mean():.1f}", "NPS range": f"{g['nps'].max() - g['nps'].min():.1f}",
        })
    return pd.DataFrame(rows)


def data_section(panel: pd.DataFrame | None) -> Section:
    if panel is None:
        return Section("data", "Data", [Paragraph("No panel was available, so the data summary is omitted.")])
    intro = (f"{len(panel)} rows, {panel['segment'].nunique()} segments, "
             f"{panel['period'].min():%Y-%m} to {panel['period'].max():%Y-%m}.")
    return Section("data", "Data", [Paragraph(intro), Table(data_table(panel), "Segments in the panel")])


def diagnostics_section(manifest: Manifest) -> Section:
    diagnostics = manifest.diagnostics.model_dump(exclude_none=True)
    about = ("Convergence of the sampler (R-hat, effective sample sizes, divergent transitions) and the "
             "in-sample predictive check.")
    if manifest.family == "regression":
        about += (" The regression family draws independently from the sampling distribution of its "
                  "estimates, so its R-hat and effective sample sizes are nominal.")
    blocks: list = [Paragraph(about)]
    rows = [{"diagnostic": k, "value": number(v)} for k, v in _flatten(diagnostics)]
    blocks.append(Table(pd.DataFrame(rows, columns=["diagnostic", "value"]), "Diagnostics"))
    checks = [check.model_dump() for check in manifest.health.checks]
    if checks:
        frame = pd.DataFrame([{
            "check": c["name"], "value": number(c["value"]),
            "rule": f"{c.get('rule', '')} {number(c['threshold'])}".strip(),
            "passed": "yes" if c["passed"] else "NO",
        } for c in checks])
        blocks.append(Table(frame, "Health gate"))
    return Section("diagnostics", "Diagnostics and health gate", blocks)


def predictive_section(frames: Mapping[str, pd.DataFrame] | None, reason: str = "") -> Section:
    """One chart per segment from :func:`cxroi.report.predictive.predictive_frames` output."""
    if not frames:
        return Section("predictive", "Posterior predictive checks",
                       [Paragraph(f"Predictive checks are not available: {reason or 'no panel'}.")])
    blocks: list = [Paragraph(
        "Each month's churned customers, new customers and revenue predicted from the model given "
        "that month's actual customers at start and lagged CSAT/NPS: dots are observed, the line is "
        "the predictive median and the band the 80 % predictive interval. About 8 in 10 dots should "
        "fall in the band.")]
    for segment, frame in frames.items():
        inside = float(np.mean((frame["observed"] >= frame["low"]) & (frame["observed"] <= frame["high"])))
        blocks.append(Chart(f"ppc-{_slug(segment)}", charts.predictive_check(frame, segment),
                            f"{segment}: {share(inside)} of observed values inside the 80 % interval"))
    return Section("predictive", "Posterior predictive checks", blocks)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").lower()


def backtest_table(backtests: Mapping[str, dict]) -> pd.DataFrame:
    """Rows per metric plus their mean: held-out MAPE (%) of each family and each naive baseline,
    and each family's 80 % interval coverage. ``backtests`` maps family → manifest backtest."""
    families = [f for f in FAMILY_LABELS if f in backtests]
    first = backtests[families[0]]
    by_metric = {f: {r["metric"]: r for r in backtests[f]["rows"]} for f in families}
    rows = []
    for metric in [r["metric"] for r in first["rows"]]:
        row = {"metric": METRIC_LABELS.get(metric, metric)}
        for f in families:
            row[f"{FAMILY_LABELS[f]} MAPE %"] = mape(by_metric[f][metric]["model_mape_pct"])
        for key, label in NAIVE_LABELS.items():
            row[f"{label} MAPE %"] = mape(by_metric[families[0]][metric][key])
        for f in families:
            row[f"{FAMILY_LABELS[f]} 80 % coverage"] = share(by_metric[f][metric]["coverage_80"])
        rows.append(row)
    mean = {"metric": "Mean over metrics"}
    for f in families:
        mean[f"{FAMILY_LABELS[f]} MAPE %"] = mape(backtests[f]["model_mape_pct"])
    naive = first.get("naive_mape_pct") or {}
    for key, label in NAIVE_LABELS.items():
        mean[f"{label} MAPE %"] = mape(naive.get(key))
    for f in families:
        cover = [r["coverage_80"] for r in backtests[f]["rows"]]
        mean[f"{FAMILY_LABELS[f]} 80 % coverage"] = share(float(np.mean(cover)))
    rows.append(mean)
    return pd.DataFrame(rows)


def _backtest_long(backtests: Mapping[str, dict]) -> pd.DataFrame:
    families = [f for f in FAMILY_LABELS if f in backtests]
    rows = []
    for row in backtests[families[0]]["rows"]:
        metric = METRIC_LABELS.get(row["metric"], row["metric"])
        rows += [{"metric": metric, "forecaster": label, "mape_pct": row[key]}
                 for key, label in NAIVE_LABELS.items() if row[key] is not None]
    for f in families:
        rows += [{"metric": METRIC_LABELS.get(r["metric"], r["metric"]), "forecaster": FAMILY_LABELS[f],
                  "mape_pct": r["model_mape_pct"]} for r in backtests[f]["rows"]]
    return pd.DataFrame(rows)


def backtest_section(backtests: Mapping[str, dict], notes: list[str]) -> Section:
    if not backtests:
        return Section("backtest", "Backtest", [Paragraph("This model carries no backtest.")])
    first = next(backtests[f] for f in FAMILY_LABELS if f in backtests)
    held = first.get("holdout_window") or {}
    blocks: list = [Paragraph(
        f"Each model family was refitted without the last {first.get('holdout_months', '?')} months "
        f"(held out: {held.get('start', '?')} to {held.get('end', '?')}) and forecast them given the "
        "actual customers at start and lagged CSAT/NPS; naive last value repeats the last training "
        "month, seasonal naive the same month a year earlier. Lower MAPE is better; a calibrated "
        "80 % interval covers about 80 % of held-out cells.")]
    blocks.append(Table(backtest_table(backtests), "Held-out months: MAPE and interval coverage"))
    blocks.append(Chart("backtest-mape", charts.backtest_mape(_backtest_long(backtests)),
                        "MAPE on held-out months by forecaster"))
    excluded = sorted({s for b in backtests.values() for s in b.get("excluded_segments") or []})
    if excluded:
        notes = [*notes, f"Left out of the backtest (too few months before the held-out ones): {', '.join(excluded)}."]
    if notes:
        blocks.append(Bullets(notes))
    return Section("backtest", "Backtest: model families vs naive forecasts", blocks)


def effects_frame(artifact: ModelArtifact) -> pd.DataFrame:
    """One row per CX effect and segment (or initiative for lifts): mean, 90 % interval,
    probability of the expected sign and source (history, catalogue prior, pilot)."""
    tail = (1 - EFFECT_INTERVAL) / 2
    rows = []
    for name in EFFECT_PARAMETERS:
        labels = artifact.segments if PARAMETERS[name][0] == "segment" else artifact.initiatives
        values = artifact.draws[name]
        sign = EXPECTED_SIGN.get(name, LIFT_SIGN.get(name, 1))
        for j, label in enumerate(labels):
            column = values[:, j]
            rows.append({
                "parameter": name, "label": label, "mean": float(column.mean()),
                "low": float(np.quantile(column, tail)), "high": float(np.quantile(column, 1 - tail)),
                "p_expected_sign": float(np.mean(np.sign(column) == sign)),
                "source": artifact.manifest.effect_source(name, label),
            })
    return pd.DataFrame(rows)


def effects_section(artifact: ModelArtifact) -> Section:
    frame = effects_frame(artifact)
    shown = pd.DataFrame({
        "effect": frame["parameter"], "segment / initiative": frame["label"],
        "mean": frame["mean"].map(lambda v: f"{v:+.4f}"),
        "5 %": frame["low"].map(lambda v: f"{v:+.4f}"), "95 %": frame["high"].map(lambda v: f"{v:+.4f}"),
        "P(expected sign)": frame["p_expected_sign"].map(share), "source": frame["source"],
    })
    return Section("effects", "Effect estimates and where they come from", [
        Paragraph(
            "Churn effects are changes in the logit of monthly churn, ARPU effects changes in log "
            "revenue per customer, acquisition effects changes in log new customers — each per +10 "
            "points of CSAT or NPS; lifts are survey points at full effect. Source: 'history' = learned "
            "from this company's data (an association, not a proven cause), 'catalogue' = the "
            "initiative catalogue's prior only, 'pilot' = calibrated by a measured pilot."),
        Table(shown, "Effects: posterior mean and 90 % interval"),
        Chart("effects", charts.effect_intervals(frame), "90 % intervals of every CX effect, coloured by source"),
    ])


def priors_section(artifact: ModelArtifact) -> Section:
    """Prior vs posterior of every CX effect, the sources of each prior's direction, and how the
    model treated survey error and asymmetry."""
    m = artifact.manifest
    frame = prior_posterior(artifact)
    blocks: list = [Paragraph(survey_error_sentence(m))]
    if frame.empty:
        blocks.append(Paragraph("This model recorded no priors (the regression family has none; older Bayesian "
                                "artifacts did not store them)."))
    else:
        priors = frame[frame["kind"] == "prior"]
        posterior = frame[frame["kind"] == "posterior"].groupby("parameter")
        shown = pd.DataFrame({
            "effect": priors["effect"].to_numpy(),
            "prior mean": priors["mean"].map(lambda v: f"{v:+.3f}").to_numpy(),
            "prior P10–P90": [f"{lo:+.3f} to {hi:+.3f}" for lo, hi in zip(priors["low"], priors["high"], strict=True)],
            "posterior mean (segments' average)": [f"{posterior.get_group(p)['mean'].mean():+.3f}"
                                                   for p in priors["parameter"]],
            "narrowed by the history (segments' average)": [share(posterior.get_group(p)["contraction"].mean())
                                                             for p in priors["parameter"]],
            "direction from": priors["sources"].to_numpy(),
        })
        blocks += [
            Paragraph("Each effect's prior leans weakly toward the direction the published evidence reports "
                      "(satisfaction lowers churn, raises revenue per customer and brings referrals): about two "
                      "thirds of its mass on that side, so the history can overturn it. Per +10 points, on the "
                      "link scale of each outcome."),
            Table(shown, "Priors and posteriors of the CX effects"),
            Chart("priors", charts.prior_posterior(frame), "Prior (grey) and posterior (blue) P10–P90 per segment"),
        ]
    asymmetry = asymmetry_sentences(m)
    if asymmetry:
        blocks += [Paragraph(asymmetry[0]), Bullets(asymmetry[1:])]
    return Section("priors", "Priors, survey error and asymmetry", blocks)


def report_warnings(manifest: Manifest, extra: list[QualityWarning]) -> list[str]:
    """The model's warnings (from training) followed by new ones from the report's data checks."""
    return list(dict.fromkeys([*manifest.warnings, *warning_texts(extra)]))


def warnings_section(texts: list[str]) -> Section:
    if not texts:
        return Section("warnings", "Warnings", [Paragraph("No warnings.")])
    return Section("warnings", "Warnings", [
        Paragraph(f"{len(texts)} warning(s) from training and from the data checks:"), Bullets(texts)])


def _tracking_row(decision: Decision, tracking: Tracking) -> dict[str, str]:
    summary = tracking.summary.set_index("metric")
    revenue, npv = summary.loc["incremental_revenue"], summary.loc["npv_horizon"]
    p = tracking.probabilities
    lifts = "; ".join(f"{kind.upper()} {row['realised']:+.2f} vs {row['assumed_mean']:+.2f}"
                      for kind, row in tracking.lift.groupby("metric", sort=False).first().iterrows())
    return {"Decision": str(decision.id), "Scenario": decision.scenario_name,
            "Months": f"{tracking.months_tracked} ({tracking.first_month:%Y-%m} to {tracking.last_month:%Y-%m})",
            "Status": tracking.status,
            "P(behind / on track / ahead)": f"{p['behind']:.0%} / {p['on track']:.0%} / {p['ahead']:.0%}",
            "Revenue to date: realised (80 %)": f"{revenue['realised_mean']:,.0f} ({revenue['realised_p10']:,.0f} to "
                                                f"{revenue['realised_p90']:,.0f})",
            "Promised P10–P90": f"{revenue['promised_p10']:,.0f} to {revenue['promised_p90']:,.0f}",
            "NPV over the horizon: updated vs promised P50": f"{npv['realised_mean']:,.0f} vs {npv['promised_p50']:,.0f}",
            "CX lift realised vs assumed (points)": lifts or "not measured"}


def tracking_section(tracked: Sequence[tuple[Decision, Tracking | str]], source: str) -> Section:
    """The decisions approved on the model, each tracked against the newer panel ``source``:
    status, revenue to date against the promised band, updated NPV, lift realised against
    assumed, and a chart of promised versus realised revenue per decision."""
    from cxroi.app.tracking_view import fan_frame

    if not tracked:
        return Section("tracking", "Tracked decisions", [Paragraph(
            f"No decision was approved on this model, so nothing was tracked against {source}.")])
    done = [(d, t) for d, t in tracked if not isinstance(t, str)]
    blocks: list[Block] = [Paragraph(
        f"Decisions approved on this model, tracked against {source}: the realised increment is the observed "
        "outcome minus the decision's counterfactual without the investment (its own model, the observed CX path "
        "with the realised lift taken out); the status compares the cumulative incremental revenue with the promised "
        "P10–P90 and needs a probability of 90 %. Money in the panel's currency.")]
    if done:
        blocks.append(Table(pd.DataFrame([_tracking_row(d, t) for d, t in done]), "Promised versus realised to date"))
        blocks += [Chart(f"tracking-{d.id}", charts.tracking_fan(fan_frame(t, "incremental_revenue"),
                                                                 f"Decision {d.id}: cumulative incremental revenue"))
                   for d, t in done]
    failed = [f"decision {d.id} ({d.scenario_name}): {t}" for d, t in tracked if isinstance(t, str)]
    if failed:
        blocks += [Paragraph("Not tracked:"), Bullets(failed)]
    return Section("tracking", "Tracked decisions", blocks)


def build_report(
    artifact: ModelArtifact,
    panel: pd.DataFrame | None,
    backtests: Mapping[str, dict],
    predictive: Mapping[str, pd.DataFrame] | None,
    *,
    data_note: str = "",
    backtest_notes: list[str] | None = None,
    predictive_note: str = "",
    data_warnings: list[QualityWarning] | None = None,
    tracking: Section | None = None,
) -> Report:
    """Assemble the report from already computed parts (see :mod:`cxroi.report.gather`)."""
    m = artifact.manifest
    warnings = report_warnings(m, data_warnings or [])
    return Report(
        title=f"Model report: {artifact.model_id}",
        subtitle=(f"{FAMILY_LABELS.get(m.family, m.family)}, trained on {m.training_window or '?'}, "
                  f"status {m.status}"),
        sections=[
            summary_section(artifact, data_note),
            data_section(panel),
            diagnostics_section(m),
            predictive_section(predictive, predictive_note),
            backtest_section(backtests, backtest_notes or []),
            effects_section(artifact),
            priors_section(artifact),
            *([tracking] if tracking is not None else []),
            warnings_section(warnings),
        ],
        warnings=warnings,
    )
