"""``cxroi data``: validate panels, generate synthetic data, aggregate customer-level records."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import click

from cxroi.cli.output import print_findings
from cxroi.errors import DataError

#: years a synthetic panel may start in (its months must stay within pandas' timestamp range)
START_YEARS = (1900, 2200)


def _first_month(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """--start as 'YYYY-MM': a month, or the first day of one (YYYY-MM-01)."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", value.strip())
    try:
        day = dt.date(int(match[1]), int(match[2]), int(match[3] or 1)) if match else None
    except ValueError:
        day = None
    if day is None or not START_YEARS[0] <= day.year <= START_YEARS[1]:
        raise click.BadParameter(f"'{value}' is not a month; use YYYY-MM (e.g. 2023-01), "
                                 f"years {START_YEARS[0]}–{START_YEARS[1]}")
    if day.day != 1:
        raise click.BadParameter(f"{value} is not the first day of a month; use YYYY-MM (e.g. {day:%Y-%m})")
    return f"{day:%Y-%m}"


@click.group()
def data() -> None:
    """Validate, generate and aggregate panel data."""


@data.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def validate(file: Path) -> None:
    """Check a panel (CSV, Parquet or XLSX) and list every problem with row and column.

    Rows are numbered from 1 for the first data row under the header. Exits with status 1 when
    any error is found; warnings (e.g. stock-flow gaps) do not fail.
    """
    from cxroi.data.readers import load_panel

    panel, findings = load_panel(file)
    print_findings(findings, title=str(file))
    if panel is None:
        raise click.exceptions.Exit(1)
    segments = panel["segment"].nunique()
    click.echo(f"OK: {len(panel)} rows, {segments} segments, "
               f"{panel['period'].min():%Y-%m} to {panel['period'].max():%Y-%m}")


@data.command()
@click.option("--segments", default=8, show_default=True, type=click.IntRange(1, 24))
@click.option("--months", default=36, show_default=True, type=click.IntRange(6, 240))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--start", default="2023-01", show_default=True, callback=_first_month, help="first month (YYYY-MM)")
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.0001, 10),
              help="multiplier on customer counts (use e.g. 0.01 with --customers)")
@click.option("--customers", "with_customers", is_flag=True,
              help="also write customers.parquet (one row per customer × month) and spend.csv")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
def synth(segments: int, months: int, seed: int, start: str, scale: float, with_customers: bool, out: Path) -> None:
    """Generate a synthetic panel with known truth (panel.csv + truth.json)."""
    from cxroi.data import synth as synth_module

    result = synth_module.generate(segments=segments, months=months, seed=seed, start=start, scale=scale)
    try:
        written = synth_module.write(result, out)
        if with_customers:
            from cxroi.data.customers import write_customer_level

            written += write_customer_level(result, out, seed=seed)
    except OSError as exc:
        raise DataError(f"{out}: cannot write ({exc.strerror or exc})") from exc
    for path in written:
        click.echo(f"wrote {path}")


@data.command()
@click.argument("customers", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="panel file to write (.parquet, or .csv)")
@click.option("--spend", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV or Parquet with segment, period and spend_<initiative> columns")
def aggregate(customers: Path, out: Path, spend: Path | None) -> None:
    """Aggregate customer-level records (CSV or Parquet, one row per customer × month) into a panel.

    Every problem in the records is listed with its row (1-based, under the header) and column;
    nothing is written and the exit status is 1 when any error is found.
    """
    from cxroi.cli.output import err_console
    from cxroi.data.aggregate import check_output, panel_from_customers, write_panel

    check_output(out)
    with err_console.status("Reading customer records") as status:
        panel, findings = panel_from_customers(customers, spend=spend, progress=status.update)
    print_findings(findings, title=str(customers))
    if panel is None:
        raise click.exceptions.Exit(1)
    write_panel(panel, out)
    click.echo(f"wrote {out}: {len(panel)} rows, {panel['segment'].nunique()} segments, "
               f"{panel['period'].min():%Y-%m} to {panel['period'].max():%Y-%m}")
