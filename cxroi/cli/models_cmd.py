"""``cxroi train`` and ``cxroi models list | show | promote``."""

from __future__ import annotations

from pathlib import Path

import click

from cxroi import registry
from cxroi.cli.acting import cli_user, context
from cxroi.cli.output import console, print_findings, print_table
from cxroi.errors import ArtifactError
from cxroi.manifest import Backtest, Health, Manifest, SamplerConfig, TrainingWindow
from cxroi.seeds import DEFAULT_SEED

MODELS_DIR = click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path),
                          default=registry.DEFAULT_MODELS_DIR, show_default=True, help="model registry folder")


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e3 else f"{value:,.0f}"
    return str(value)


def print_backtest(backtest: Backtest) -> None:
    """The backtest table: MAPE (%) of model and naive forecasts and 80 % coverage per metric
    (— for a figure the model does not record)."""
    rows = [{
        "metric": r.metric, "model MAPE %": _fmt(r.model_mape_pct),
        "naive last MAPE %": _fmt(r.naive_last_mape_pct),
        "seasonal naive MAPE %": _fmt(r.seasonal_naive_mape_pct),
        "80% coverage": _fmt(r.coverage_80, 2),
    } for r in backtest.rows]
    print_table(rows, title=f"Backtest: last {backtest.holdout_months} months held out "
                            f"({_window(backtest.holdout_window)})")


def print_health(health: Health) -> None:
    rows = [{"check": c.label, "value": _fmt(c.value, 4), "rule": f"{c.rule} {_fmt(c.threshold)}",
             "outcome": c.verdict if c.verdict != "fail" else "FAIL"} for c in health.checks]
    print_table(rows, title=f"Health gate: {health.label if health.verdict != 'fail' else 'FAILED'}")


def _window(window: TrainingWindow | dict | None) -> str:
    """'start – end' of a training or holdout window (YYYY-MM), — when unknown."""
    if isinstance(window, dict):  # a row of registry.list_models
        window = TrainingWindow(**window)
    return f"{window.start} – {window.end}" if window else "— – —"


@click.command()
@click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="panel file (CSV, Parquet or XLSX)")
@click.option("--family", type=click.Choice(["bayes", "regression"]), default="bayes", show_default=True)
@click.option("--seed", default=DEFAULT_SEED, show_default=True, type=click.IntRange(0, 2**32 - 1),
              help="root of every random stream of the run (same data and seed give the same model)")
@click.option("--draws", default=SamplerConfig().draws, show_default=True, type=click.IntRange(50, 100_000), help="per chain")
@click.option("--tune", default=SamplerConfig().tune, show_default=True, type=click.IntRange(50, 100_000))
@click.option("--chains", default=SamplerConfig().chains, show_default=True, type=click.IntRange(1, 16))
@click.option("--thin", default=SamplerConfig().thin, show_default=True, type=click.IntRange(1, 100),
              help="store every N-th draw (smaller artifact; diagnostics use all draws)")
@click.option("--sampler", type=click.Choice(["nutpie", "pymc"]), default=None,
              help="MCMC sampler (default: the faster one measured in benchmarks/README.md)")
@click.option("--pilots", "pilots_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="pilot results (YAML or CSV: initiative, segment, metric, lift, se)")
@click.option("--lag", default=1, show_default=True, type=click.IntRange(0, 12), help="months from CX to outcomes")
@click.option("--asymmetric", is_flag=True,
              help="bayes only: churn gets one slope of CSAT/NPS above the segment's reference and another below "
                   "it (falls may hurt more than rises help); the report gives P(falls act more strongly)")
@click.option("--no-survey-error", is_flag=True,
              help="treat CSAT/NPS as exact even where response counts are given (by default their survey error "
                   "is modelled: a latent level in bayes, regression calibration in regression)")
@MODELS_DIR
@click.option("--no-promote", is_flag=True, help="never make the new model the champion")
def train(data_path: Path, family: str, seed: int, draws: int, tune: int, chains: int, thin: int, sampler: str | None,
          pilots_path: Path | None, lag: int, asymmetric: bool, no_survey_error: bool, models_dir: Path,
          no_promote: bool) -> None:
    """Fit a model on a panel, check it (diagnostics, backtest, health gate) and register it.

    An accepted model becomes the champion unless --no-promote; a rejected one is stored but
    never promoted. Exits 1 when the panel is invalid (nothing is written) and 4 when the model
    fails the health gate.
    """
    if family == "regression" and asymmetric:
        raise click.UsageError("--asymmetric applies to the bayes family only (the regression family fits one "
                               "slope per score)")
    from cxroi.data.readers import load_panel

    panel, findings = load_panel(data_path)
    print_findings(findings, title=str(data_path))
    if panel is None:
        raise click.exceptions.Exit(1)

    from cxroi import service
    from cxroi.fit.train import TrainSettings

    given = {"draws": draws, "tune": tune, "chains": chains, "thin": thin, "name": sampler}
    settings = TrainSettings(family=family, seed=seed, lag=lag, progress=True, asymmetric=asymmetric,
                             survey_error=not no_survey_error,
                             sampler=SamplerConfig(**{k: v for k, v in given.items() if v is not None}))
    with context(models_dir) as ctx:
        outcome = service.train_model(ctx, cli_user(), panel, settings, pilots_path=pilots_path,
                                      promote=not no_promote, report=lambda m: console.print(f"[bold]›[/bold] {m}"),
                                      data_path=data_path)
    manifest = outcome.manifest
    print_diagnostics(manifest)
    if manifest.backtest is not None:
        print_backtest(manifest.backtest)
    print_health(manifest.health)
    for warning in manifest.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    verdict = "champion" if outcome.promoted else manifest.status
    console.print(f"model [bold]{manifest.model_id}[/bold] written to {outcome.path} ({verdict})")
    if not manifest.accepted:
        raise click.exceptions.Exit(4)


def print_diagnostics(manifest: Manifest) -> None:
    d = manifest.diagnostics
    print_table([{"max R-hat": _fmt(d.max_rhat, 4), "min bulk ESS": _fmt(d.min_ess_bulk),
                  "min tail ESS": _fmt(d.min_ess_tail), "divergences": _fmt(d.divergences),
                  "draws": _fmt(manifest.n_draws)}], title=f"Diagnostics ({manifest.family})")
    if d.predictive:
        print_table([{"metric": k, "in-sample 80% coverage": _fmt(v.coverage_80, 2),
                      "MAPE %": _fmt(v.mape_pct)} for k, v in d.predictive.items()],
                    title="Posterior predictive check (in sample)")


@click.group()
def models() -> None:
    """List, inspect and promote trained models."""


def _listed_status(row: dict) -> str:
    """A listing row's status, or the problem that makes the model unusable; an artifact saved
    before content hashes existed is flagged as not verifiable."""
    if row["error"]:
        return f"UNUSABLE: {row['error']}"
    return row["status"] + ("" if row["verifiable"] else " (not verifiable: saved without a content hash)")


@models.command("list")
@MODELS_DIR
def list_cmd(models_dir: Path) -> None:
    """All models in the registry, newest first; * marks the champion."""
    rows = registry.list_models(models_dir)
    if not rows:
        console.print(f"no models in {models_dir}")
        return
    print_table([{
        "": "*" if r["champion"] else "", "model": r["model_id"], "family": r.get("family"),
        "created": r.get("created_at"), "status": _listed_status(r),
        "window": _window(r["training_window"]) if r.get("training_window") else None,
    } for r in rows], title=f"Models in {models_dir}")
    problem = registry.champion_problem(models_dir, rows)
    if problem:
        console.print(f"[yellow]warning:[/yellow] {problem}")


def _is_champion(model_id: str, models_dir: Path) -> bool:
    """Whether CHAMPION names ``model_id`` (False when CHAMPION is unreadable)."""
    try:
        return registry.champion_id(models_dir) == model_id
    except ArtifactError:
        return False


@models.command()
@click.argument("model_id")
@MODELS_DIR
def show(model_id: str, models_dir: Path) -> None:
    """Details of one model: provenance, diagnostics, backtest, health and CX effects."""
    from cxroi.service.models import model_effects

    artifact = registry.load_artifact(model_id, models_dir)
    m = artifact.manifest
    print_table([{"model": m.model_id, "family": m.family, "status": m.status,
                  "champion": "yes" if _is_champion(artifact.model_id, models_dir) else "no",
                  "window": _window(m.training_window), "draws": artifact.n_draws,
                  "sampler": _fmt(m.sampler.name if m.sampler else None),
                  "data": _fmt((m.data_fingerprint or "")[:19] or None)}], title="Model")
    print_diagnostics(m)
    if m.backtest is not None:
        print_backtest(m.backtest)
    print_health(m.health)
    rows = [{"parameter": e.parameter, "for": e.label, "median": _fmt(e.median),
             "90% interval": f"[{_fmt(e.p5)}, {_fmt(e.p95)}]", "source": e.source} for e in model_effects(artifact)]
    print_table(rows, title="CX effects (per +10 points; lifts in points)")
    for warning in m.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


@models.command()
@click.argument("model_id")
@MODELS_DIR
@click.option("--reason", required=True,
              help="why this model should become the champion (recorded in promotions.jsonl and the audit trail)")
@click.option("--force", is_flag=True, help="promote a model that failed the health gate")
@click.option("--acknowledge-shift", is_flag=True,
              help="promote although the model differs from the champion beyond CXROI_PROMOTION_SHIFT "
                   "(segments, scale, CSAT/NPS, a reference NPV); recorded in promotions.jsonl")
def promote(model_id: str, models_dir: Path, reason: str, force: bool, acknowledge_shift: bool) -> None:
    """Make a model the champion used by default for simulations and the app. Acts as CXROI_USER
    (default: your login); the promotion and its reason go to the audit trail."""
    from cxroi import service

    with context(models_dir) as ctx:
        entry = service.promote_model(ctx, cli_user(), model_id, reason, force=force,
                                      acknowledge_shift=acknowledge_shift)
    console.print(f"champion is now [bold]{entry['model_id']}[/bold] (was {entry['previous'] or 'none'})")
