"""``cxroi forecast`` (export a scenario's forecast for finance) and ``cxroi scenarios`` (the
saved-scenario store: save, list, show, delete, runs)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import click
import yaml

from cxroi.cli.output import err_console, print_caveats, print_table
from cxroi.errors import CxroiError, ScenarioError
from cxroi.export import FORMATS

if TYPE_CHECKING:
    from cxroi.registry import ModelArtifact
    from cxroi.sim.result import SimulationResult
    from cxroi.sim.scenario import Scenario
    from cxroi.store import Store

_SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


def _store() -> Store:
    from cxroi.store import Store

    return Store()


def _resolve_scenario(reference: str, version: int | None, artifact: ModelArtifact) -> tuple[Scenario, int | None]:
    """(scenario, saved version or None) from a scenario file or the name of a saved scenario,
    checked against the model ``artifact``. A file's scenario counts as a saved version when its
    content equals one."""
    from cxroi.sim.scenario import load_scenario, parse_scenario

    path = Path(reference)
    if path.is_file() or path.suffix.lower() in _SCENARIO_SUFFIXES:
        if version is not None:
            raise ScenarioError("--version applies to a saved scenario name, not to a scenario file")
        scenario = load_scenario(path, artifact)
        try:
            with _store() as store:
                return scenario, store.find_version(scenario.name, scenario.to_dict())
        except CxroiError:
            return scenario, None  # an unreachable store must not block an export from a file
    with _store() as store:
        saved = store.get_scenario(reference, version)
    return (parse_scenario(saved.body, f"saved scenario '{saved.name}' version {saved.version}", artifact),
            saved.version)


def _format_for(out: Path, fmt: str | None) -> str:
    suffix = out.suffix.lower().lstrip(".")
    if fmt:
        if suffix in FORMATS and suffix != fmt:
            raise CxroiError(f"{out}: --format {fmt} does not match the file's .{suffix} suffix; "
                             f"name the file .{fmt} or pass --format {suffix}")
        return fmt
    if suffix not in FORMATS:
        raise CxroiError(f"{out}: cannot tell the format from the file name; pass --format xlsx|csv|parquet")
    return suffix


def _summary_json(result: SimulationResult) -> dict:
    """The run's summary for the store: metric → {unit, mean, p10, …}; NaN becomes null."""
    table = result.summary()
    return {metric: {key: (None if isinstance(value, float) and math.isnan(value) else value)
                     for key, value in row.items()}
            for metric, row in table.to_dict(orient="index").items()}


@click.command()
@click.option("--scenario", "reference", required=True, metavar="FILE|NAME",
              help="scenario file (YAML or JSON) or the name of a saved scenario")
@click.option("--version", type=click.IntRange(min=1), default=None,
              help="version of a saved scenario (default: the latest)")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="export format (default: from the --out file suffix)")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="file to write")
@click.option("--model", default=None, help="model id or folder (default: the champion)")
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder of model artifacts (default: models/ or CXROI_MODELS_DIR)")
@click.option("--quantile", "quantiles", multiple=True,
              type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="quantile to report, repeatable (default: 0.1 0.5 0.9)")
@click.option("--record/--no-record", default=True, show_default=True,
              help="record the run (scenario version, model, summary) in the scenario store")
def forecast(reference: str, version: int | None, fmt: str | None, out: Path, model: str | None,
             models_dir: Path | None, quantiles: tuple[float, ...], record: bool) -> None:
    """Simulate a scenario and export the forecast as an XLSX workbook, or as a long table in
    CSV (with a .provenance.json beside it) or Parquet. Layout: data/README.md."""
    from cxroi import registry
    from cxroi.export import export_forecast
    from cxroi.export.atomic import terminate_as_interrupt
    from cxroi.sim.engine import simulate

    fmt = _format_for(out, fmt)
    artifact = registry.load_artifact(model, models_dir or registry.DEFAULT_MODELS_DIR)
    scenario, saved_version = _resolve_scenario(reference, version, artifact)
    scenario.validate_for(artifact)
    result = simulate(scenario, artifact)
    with terminate_as_interrupt():
        written = export_forecast(result, out, fmt, sorted(set(quantiles)) or None)
    for path in written:
        click.echo(f"wrote {path}")
    summary = _summary_json(result)
    click.echo(f"scenario '{scenario.name}' on model {artifact.model_id}: NPV P50 {summary['npv']['p50']:,.0f}, "
               f"P(ROI > 0) {result.prob_roi_positive:.1%}")
    print_caveats(result.provenance.caveats)
    if record:
        try:
            with _store() as store:
                run = store.record_run(scenario.name, saved_version, artifact.model_id, summary,
                                       output=str(out.resolve()))
            click.echo(f"recorded as forecast run {run.id}")
        except CxroiError as exc:
            err_console.print(f"[yellow]Warning:[/yellow] the export was written but the run was not recorded: {exc}")


@click.group()
def scenarios() -> None:
    """Saved scenarios (versioned: saving a name again adds a version) and forecast runs.

    Stored in .cxroi/cxroi.db (or under CXROI_HOME), or in the database at CXROI_DATABASE_URL.
    """


@scenarios.command("save")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="save under this name instead of the file's scenario name")
def save(file: Path, name: str | None) -> None:
    """Validate a scenario file and save it as the next version of its name."""
    from cxroi.sim.scenario import load_scenario, parse_scenario

    scenario = load_scenario(file)
    if name is not None:  # validated like a name in the file
        scenario = parse_scenario({**scenario.to_dict(), "name": name}, f"{file} saved as '{name}'")
    with _store() as store:
        saved = store.save_scenario(scenario.name, scenario.to_dict())
    click.echo(f"saved scenario '{saved.name}' as version {saved.version}")


@scenarios.command("list")
def list_() -> None:
    """List saved scenarios with their latest version."""
    with _store() as store:
        rows = store.list_scenarios()
    if not rows:
        click.echo("no saved scenarios (save one with `cxroi scenarios save FILE`)")
        return
    print_table([{"name": r.name, "latest version": r.latest_version, "versions": r.versions,
                  "updated (UTC)": f"{r.updated_at:%Y-%m-%d %H:%M}"} for r in rows], title="Saved scenarios")


@scenarios.command("show")
@click.argument("name")
@click.option("--version", type=click.IntRange(min=1), default=None, help="default: the latest")
def show(name: str, version: int | None) -> None:
    """Print a saved scenario as YAML."""
    with _store() as store:
        saved = store.get_scenario(name, version)
    click.echo(f"# {saved.name}, version {saved.version}, saved {saved.created_at:%Y-%m-%d %H:%M} UTC")
    click.echo(yaml.safe_dump(saved.body, sort_keys=False, allow_unicode=True), nl=False)


@scenarios.command("delete")
@click.argument("name")
@click.option("--version", type=click.IntRange(min=1), default=None, help="default: every version")
def delete(name: str, version: int | None) -> None:
    """Delete one version of a saved scenario, or all of them. Version numbers are never reused."""
    with _store() as store:
        count = store.delete_scenario(name, version)
    what = f"version {version}" if version is not None else f"{count} version(s)"
    click.echo(f"deleted {what} of scenario '{name.strip()}'")


@scenarios.command("runs")
@click.argument("name", required=False)
def runs(name: str | None) -> None:
    """List recorded forecast runs, newest first (optionally of one scenario)."""
    with _store() as store:
        recorded = store.list_runs(name)
    if not recorded:
        click.echo("no forecast runs recorded")
        return
    rows = []
    for run in recorded:
        npv = (run.summary.get("npv") or {}).get("p50")
        rows.append({"run": run.id, "scenario": run.scenario_name, "version": run.scenario_version,
                     "model": run.model_id, "NPV P50": None if npv is None else f"{npv:,.0f}",
                     "at (UTC)": f"{run.created_at:%Y-%m-%d %H:%M}", "output": run.output})
    print_table(rows, title="Forecast runs")
