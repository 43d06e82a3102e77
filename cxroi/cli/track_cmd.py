"""``cxroi track DECISION_ID --data NEWER_PANEL``: an approved decision, promised versus realised."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cxroi.cli.acting import cli_user, context
from cxroi.cli.output import console
from cxroi.cli.sim_cmd import MODELS_DIR_HELP, _csv, _money, _print_frame, _write_all, _wrote


def _points(value: float) -> str:
    return f"{value:+.2f}"


@click.command()
@click.argument("decision_id", type=int)
@click.option("--data", "data_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="newer panel (CSV, Parquet or XLSX) extending the one the decision's model was trained on")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder for summary.csv, monthly.csv, lift.csv, tracking.json and tracking.xlsx")
@click.option("--propose-pilots", "pilots_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the realised lifts as proposed pilot results (.csv) for a later retraining")
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=MODELS_DIR_HELP)
@click.option("--seed", default=None, type=int, help="seed of the counterfactual's noise (default: the decision id)")
def track(decision_id: int, data_file: Path, out: Path | None, pilots_file: Path | None, models_dir: Path | None,
          seed: int | None) -> None:
    """Compare what approved decision DECISION_ID promised with what happened in the newer panel:
    the counterfactual without the investment, realised increments with 80 % and 90 % intervals,
    the status (on track / behind / ahead) and the realised CSAT/NPS lift. Nothing is applied."""
    from cxroi import service
    from cxroi.data.readers import load_panel
    from cxroi.data.schema import findings_error
    from cxroi.export.tracking import tracking_workbook
    from cxroi.track import METRIC_LABELS
    from cxroi.track.pilots import pilots_csv, write_proposal

    if pilots_file is not None and pilots_file.suffix.lower() != ".csv":
        raise click.BadParameter("proposed pilot results are written as a .csv file", param_hint="--propose-pilots")
    with context(models_dir) as ctx:
        service.get_decision(ctx, cli_user(), decision_id)  # an unknown decision is named before the panel is read
        panel, findings = load_panel(data_file)
        if panel is None:
            raise findings_error(str(data_file), findings)
        result = service.track_decision(ctx, cli_user(), decision_id, panel, source=str(data_file), seed=seed)
    files = {}
    if out is not None:
        record = {"decision_id": result.decision_id, "scenario": result.scenario_name, "model_id": result.model_id,
                  "first_month": f"{result.first_month:%Y-%m}", "last_month": f"{result.last_month:%Y-%m}",
                  "months_tracked": result.months_tracked, "reached": list(result.reached),
                  "untreated": list(result.untreated), "status": result.status, "likeliest": result.likeliest,
                  "probabilities": result.probabilities, "lift_ratios": result.lift_ratios,
                  "caveats": list(result.caveats)}
        files = {"summary.csv": _csv(result.summary), "monthly.csv": _csv(result.monthly),
                 "lift.csv": _csv(result.lift), "tracking.json": json.dumps(record, indent=2) + "\n",
                 "tracking.xlsx": tracking_workbook(result)}
    if files:
        _write_all(out, files)

    console.print(f"[bold]Decision {result.decision_id}[/bold] ({result.scenario_name}) on model {result.model_id}: "
                  f"{result.months_tracked} month(s) tracked, {result.first_month:%Y-%m} to {result.last_month:%Y-%m}; "
                  f"segments reached: {', '.join(result.reached)}")
    p = result.probabilities
    console.print(f"Status: [bold]{result.status}[/bold] (behind {p['behind']:.0%}, "
                  f"on track {p['on track']:.0%}, ahead {p['ahead']:.0%}; a status needs 90 %) — cumulative "
                  "incremental revenue to date against the promised P10–P90")
    summary = result.summary.assign(metric=result.summary["metric"].map(METRIC_LABELS))
    columns = ["metric", "promised_p10", "promised_p50", "promised_p90", "realised_mean", "realised_p5",
               "realised_p10", "realised_p90", "realised_p95"]
    _print_frame(summary[columns], "To date: promised band vs realised (80 % = P10–P90, 90 % = P5–P95)",
                 dict.fromkeys(columns[1:], _money))
    revenue = result.monthly[result.monthly["metric"] == "incremental_revenue"]
    monthly_columns = ["month", "promised_p10", "promised_p50", "promised_p90", "realised_p10", "realised_p50",
                       "realised_p90"]
    _print_frame(revenue[monthly_columns], "Cumulative incremental revenue by month", dict.fromkeys(monthly_columns[1:], _money))
    if not result.lift.empty:
        lift_columns = ["metric", "method", "realised", "p5", "p95", "assumed_mean", "assumed_p5", "assumed_p95"]
        _print_frame(result.lift[lift_columns], "Realised CX lift vs assumed (survey points, average over the "
                     "tracked months; interval 90 %)", dict.fromkeys(lift_columns[2:], _points))
    if result.caveats:
        console.print(f"[yellow bold]Caveats ({len(result.caveats)})[/yellow bold]:")
        for caveat in result.caveats:
            console.print(f"[yellow]•[/yellow] {caveat}")
    if pilots_file is not None:
        write_proposal(result.pilots, pilots_file)
        console.print(f"wrote {pilots_file}: {len(result.pilots)} proposed pilot result(s) — not applied; pass it to "
                      "`cxroi train --pilots` after review")
    elif not result.pilots.empty:
        console.print(f"{len(result.pilots)} pilot result(s) could be proposed (--propose-pilots FILE.csv):")
        console.print(pilots_csv(result.pilots).rstrip())
    if files:
        _wrote(out, files)
