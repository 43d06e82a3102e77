"""``cxroi forecast`` (export a scenario's forecast for finance) and ``cxroi scenarios`` (the
saved-scenario store: save, list, show, approve, delete, runs). Every command goes through the
service layer (:mod:`cxroi.service`) as the command line's local user (:mod:`cxroi.cli.acting`)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click
import yaml

from cxroi.cli.acting import cli_user, context
from cxroi.cli.output import err_console, print_caveats, print_table
from cxroi.errors import CxroiError, ScenarioError
from cxroi.export import FORMATS

if TYPE_CHECKING:
    from cxroi.service import ConflictError, ScenarioRef
    from cxroi.sim.scenario import Scenario

_SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


def scenario_source(reference: str, version: int | None) -> Scenario | ScenarioRef:
    """A scenario file (YAML or JSON) read and checked, or a reference to a saved scenario name."""
    from cxroi.service import ScenarioRef
    from cxroi.sim.scenario import load_scenario

    path = Path(reference)
    if path.is_file() or path.suffix.lower() in _SCENARIO_SUFFIXES:
        if version is not None:
            raise ScenarioError("--version applies to a saved scenario name, not to a scenario file")
        return load_scenario(path)
    return ScenarioRef(reference, version)


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


@click.command()
@click.option("--scenario", "reference", required=True, metavar="FILE|NAME",
              help="scenario file (YAML or JSON) or the name of a saved scenario")
@click.option("--version", type=click.IntRange(min=1), default=None,
              help="version of a saved scenario (default: the latest)")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="export format (default: from the --out file suffix)")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="file to write")
@click.option("--model", default=None,
              help="model id or folder (default: the champion; for an approved version, its decision's model)")
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder of model artifacts (default: models/ or CXROI_MODELS_DIR)")
@click.option("--quantile", "quantiles", multiple=True,
              type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="quantile to report, repeatable (default: 0.1 0.5 0.9)")
@click.option("--record/--no-record", default=True, show_default=True,
              help="record the run (scenario version, model, summary, user) in the scenario store")
def forecast(reference: str, version: int | None, fmt: str | None, out: Path, model: str | None,
             models_dir: Path | None, quantiles: tuple[float, ...], record: bool) -> None:
    """Simulate a scenario and export the forecast as an XLSX workbook, or as a long table in
    CSV (with a .provenance.json beside it) or Parquet. Layout: data/README.md. The export of an
    approved scenario version names its decision record."""
    from cxroi import service
    from cxroi.export.atomic import terminate_as_interrupt

    fmt = _format_for(out, fmt)
    source = scenario_source(reference, version)
    with context(models_dir) as ctx, terminate_as_interrupt():  # SIGTERM still removes half-written files
        export = service.forecast(ctx, cli_user(), source, fmt, model_id=model, quantiles=quantiles or None,
                                  out=out, record=record)
    for path in export.paths:
        click.echo(f"wrote {path}")
    simulation = export.simulation
    summary = simulation.summary_json()
    click.echo(f"scenario '{simulation.scenario.name}' on model {simulation.model_id}: "
               f"NPV P50 {summary['npv']['p50']:,.0f}, P(ROI > 0) {simulation.result.prob_roi_positive:.1%}")
    if export.decision_id is not None:
        decision = simulation.decision
        click.echo(f"approved as decision {decision.id} by {decision.approved_by} on {decision.approved_at:%Y-%m-%d}"
                   + (f" (superseded by decision {decision.superseded_by})" if decision.superseded_by else ""))
    print_caveats(simulation.caveats)
    if export.run_id is not None:
        click.echo(f"recorded as forecast run {export.run_id}")
    elif export.record_problem:
        err_console.print(f"[yellow]Warning:[/yellow] the export was written but the run was not recorded: "
                          f"{export.record_problem}")


@click.group()
def scenarios() -> None:
    """Saved scenarios (versioned: saving a name again adds a version), their approval into
    decision records, and forecast runs.

    Stored in .cxroi/cxroi.db (or under CXROI_HOME), or in the database at CXROI_DATABASE_URL.
    The command line acts as CXROI_USER (default: your login) with every role.
    """


def _conflict_help(error: ConflictError, file: Path) -> str:
    """The conflict in plain words and the two ways on."""
    name = shlex.quote(error.name)
    return (f"{error}. Nothing was saved.\n"
            f"Either save yours as the next version on top of it:\n"
            f"  cxroi scenarios save {shlex.quote(str(file))} --name {name} --base-version {error.latest_version}\n"
            f"or look at version {error.latest_version} first and start again from it:\n"
            f"  cxroi scenarios show {name} --version {error.latest_version}")


@scenarios.command("save")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="save under this name instead of the file's scenario name")
@click.option("--base-version", type=click.IntRange(min=1), default=None,
              help="the saved version your file started from; leave out for a new scenario. If someone "
                   "saved a newer version meanwhile nothing is saved and the command exits with 1")
@click.option("--model", default=None, help="the model it was valued on (default: the champion)")
def save(file: Path, name: str | None, base_version: int | None, model: str | None) -> None:
    """Validate a scenario file and save it as the next version of its name."""
    from cxroi import service
    from cxroi.sim.scenario import load_scenario, parse_scenario

    scenario = load_scenario(file)
    if name is not None:  # validated like a name in the file
        scenario = parse_scenario({**scenario.to_dict(), "name": name}, f"{file} saved as '{name}'")
    with context() as ctx:
        try:
            saved = service.save_scenario(ctx, cli_user(), scenario, base_version=base_version, model_id=model)
        except service.ConflictError as exc:
            click.secho(f"Conflict: {_conflict_help(exc, file)}", err=True, fg="red")
            raise click.exceptions.Exit(1) from None
    click.echo(f"saved scenario '{saved.name}' as version {saved.version}")


@scenarios.command("list")
def list_() -> None:
    """List saved scenarios with their latest version."""
    from cxroi import service

    with context() as ctx:
        rows = service.list_scenarios(ctx, cli_user())
    if not rows:
        click.echo("no saved scenarios (save one with `cxroi scenarios save FILE`)")
        return
    print_table([{"name": r.name, "latest version": r.latest_version, "versions": r.versions,
                  "updated (UTC)": f"{r.updated_at:%Y-%m-%d %H:%M}"} for r in rows], title="Saved scenarios")


@scenarios.command("show")
@click.argument("name")
@click.option("--version", type=click.IntRange(min=1), default=None, help="default: the latest")
def show(name: str, version: int | None) -> None:
    """Print a saved scenario as YAML (who saved it and the model it was valued on as comments)."""
    from cxroi import service

    with context() as ctx:
        saved = service.get_scenario(ctx, cli_user(), name, version)
    click.echo(f"# {saved.name}, version {saved.version}, saved {saved.created_at:%Y-%m-%d %H:%M} UTC"
               f" by {saved.saved_by or 'unknown'} on model {saved.model_id or 'unknown'}")
    click.echo(yaml.safe_dump(saved.body, sort_keys=False, allow_unicode=True), nl=False)


@scenarios.command("approve")
@click.argument("name")
@click.option("--version", type=click.IntRange(min=1), default=None, help="default: the latest")
@click.option("--model", default=None,
              help="model to value it on (default: the model it was saved on, else the champion)")
def approve(name: str, version: int | None, model: str | None) -> None:
    """Approve a saved scenario version: an immutable decision record of the version, the model,
    its data fingerprint, the forecast and its caveats, you and the time. A scenario's earlier
    decision is superseded, never changed."""
    from cxroi import service

    with context() as ctx:
        decision = service.approve_scenario(ctx, cli_user(), name, version, model_id=model)
    npv = decision.forecast["summary"]["npv"]
    click.echo(f"approved scenario '{decision.scenario_name}' version {decision.scenario_version} as decision "
               f"{decision.id} on model {decision.model_id}: NPV P50 {npv['p50']:,.0f} "
               f"(P10 {npv['p10']:,.0f}, P90 {npv['p90']:,.0f})")
    click.echo(f"see it with `cxroi decisions show {decision.id}`")


@scenarios.command("delete")
@click.argument("name")
@click.option("--version", type=click.IntRange(min=1), default=None, help="default: every version")
def delete(name: str, version: int | None) -> None:
    """Delete one version of a saved scenario, or all of them. Version numbers are never reused;
    approved versions cannot be deleted."""
    from cxroi import service

    with context() as ctx:
        count = service.delete_scenario(ctx, cli_user(), name, version)
    what = f"version {version}" if version is not None else f"{count} version(s)"
    click.echo(f"deleted {what} of scenario '{name.strip()}'")


@scenarios.command("runs")
@click.argument("name", required=False)
def runs(name: str | None) -> None:
    """List recorded forecast runs, newest first (optionally of one scenario)."""
    from cxroi import service

    with context() as ctx:
        recorded = service.list_runs(ctx, cli_user(), name)
    if not recorded:
        click.echo("no forecast runs recorded")
        return
    rows = []
    for run in recorded:
        npv = (run.summary.get("npv") or {}).get("p50")
        rows.append({"run": run.id, "scenario": run.scenario_name, "version": run.scenario_version,
                     "model": run.model_id, "NPV P50": None if npv is None else f"{npv:,.0f}",
                     "by": run.requested_by, "decision": run.decision_id,
                     "at (UTC)": f"{run.created_at:%Y-%m-%d %H:%M}", "output": run.output})
    print_table(rows, title="Forecast runs")
