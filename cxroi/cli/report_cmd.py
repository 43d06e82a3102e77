"""``cxroi report``: write a model's report (HTML and Markdown) into a folder."""

from __future__ import annotations

from pathlib import Path

import click

from cxroi.registry import DEFAULT_MODELS_DIR


@click.command()
@click.option("--model", "model_id", default=None, help="model id (default: the champion)")
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="panel the model was trained on (default: the one recorded with the model, if found)")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="folder for report.html, report.md and charts/")
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_MODELS_DIR,
              show_default=True, help="model registry folder")
def report(model_id: str | None, data: Path | None, out: Path, models_dir: Path) -> None:
    """Model report: data summary, diagnostics, predictive checks per segment, backtest against
    the other model family and naive forecasts, effect estimates with their source, warnings."""
    from cxroi.report.gather import gather
    from cxroi.report.render import write_report

    content = gather(model_id, data, models_dir)
    written = write_report(content, out)
    for warning in content.warnings:
        click.secho(f"warning: {warning}", fg="yellow")
    click.echo(f"wrote {written['html']}")
    click.echo(f"wrote {written['markdown']} (charts in {written['charts']})")
