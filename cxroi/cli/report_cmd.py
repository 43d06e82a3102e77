"""``cxroi report``: write a model's report (HTML and Markdown) into a folder."""

from __future__ import annotations

from pathlib import Path

import click

from cxroi.registry import DEFAULT_MODELS_DIR
from cxroi.report.document import Section


@click.command()
@click.option("--model", "model_id", default=None, help="model id (default: the champion)")
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="panel the model was trained on (default: the one recorded with the model, if found)")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="folder for report.html, report.md and charts/")
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_MODELS_DIR,
              show_default=True, help="model registry folder")
@click.option("--track-data", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="newer panel (extending the model's): track every decision approved on the model against it "
                   "in a 'Tracked decisions' section")
def report(model_id: str | None, data: Path | None, out: Path, models_dir: Path, track_data: Path | None) -> None:
    """Model report: data summary, diagnostics, predictive checks per segment, backtest against
    the other model family and naive forecasts, effect estimates with their source, the decisions
    approved on it tracked against a newer panel (with --track-data), warnings."""
    from cxroi.report.gather import gather
    from cxroi.report.render import write_report

    tracking = None if track_data is None else _tracking_section(model_id, models_dir, track_data)
    content = gather(model_id, data, models_dir, tracking=tracking)
    written = write_report(content, out)
    for warning in content.warnings:
        click.secho(f"warning: {warning}", fg="yellow")
    click.echo(f"wrote {written['html']}")
    click.echo(f"wrote {written['markdown']} (charts in {written['charts']})")


def _tracking_section(model_id: str | None, models_dir: Path, track_data: Path) -> Section:
    """The decisions approved on the model (the champion when None) tracked against ``track_data``."""
    from cxroi import registry, service
    from cxroi.cli.acting import cli_user, context
    from cxroi.data.readers import load_panel
    from cxroi.data.schema import findings_error
    from cxroi.report.content import tracking_section

    panel, findings = load_panel(track_data)
    if panel is None:
        raise findings_error(str(track_data), findings)
    with context(models_dir) as ctx:
        resolved = model_id or registry.champion_id(models_dir)
        tracked = [] if resolved is None else service.track_model_decisions(ctx, cli_user(), resolved, panel,
                                                                            source=str(track_data))
    return tracking_section(tracked, str(track_data))
