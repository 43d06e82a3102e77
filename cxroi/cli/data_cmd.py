"""``cxroi data``: validate panels, generate synthetic data, aggregate records into a panel."""

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


def _answer_range(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, int]:
    """--responses as 'MIN-MAX', whole numbers with 1 ≤ MIN ≤ MAX."""
    match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", value)
    if match is None or not 1 <= int(match[1]) <= int(match[2]):
        raise click.BadParameter(f"'{value}' is not a range of answers; use MIN-MAX with 1 ≤ MIN ≤ MAX (e.g. 15-25)")
    return int(match[1]), int(match[2])


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


#: what `cxroi data synth --shape` writes besides panel.csv and truth.json
SHAPES = {
    "panel": "nothing more",
    "customers": "customers.parquet (one row per customer × month) and spend.csv",
    "subscriptions": "subscriptions.parquet, answers.parquet (survey answers) and ledger.csv (spend ledger)",
}


@data.command()
@click.option("--segments", default=8, show_default=True, type=click.IntRange(1, 24))
@click.option("--months", default=36, show_default=True, type=click.IntRange(6, 240))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--start", default="2023-01", show_default=True, callback=_first_month, help="first month (YYYY-MM)")
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.0001, 10),
              help="multiplier on customer counts (use e.g. 0.01 with --shape customers or subscriptions)")
@click.option("--shape", type=click.Choice(list(SHAPES)), default="panel", show_default=True,
              help="also write the panel's records: " + "; ".join(f"{k}: {v}" for k, v in SHAPES.items() if k != "panel"))
@click.option("--no-effect", is_flag=True,
              help="CSAT and NPS move nothing: every population CX effect (churn, revenue per customer, "
                   "acquisition) is 0")
@click.option("--loss-factor", default=1.0, show_default=True, type=click.FloatRange(0.0, 10.0),
              help="churn effects of CSAT/NPS below their base level × this (2: a fall hurts twice as much "
                   "as a rise helps)")
@click.option("--responses", default="1500-6000", show_default=True, callback=_answer_range,
              help="answers per survey and segment-month, drawn uniformly from MIN-MAX (e.g. 15-25: tiny surveys)")
@click.option("--survey-gaps", default=0.0, show_default=True, type=click.FloatRange(0.0, 0.9),
              help="share of segment-months whose survey was not run (CSAT, NPS and their counts left empty)")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
def synth(segments: int, months: int, seed: int, start: str, scale: float, shape: str, no_effect: bool,
          loss_factor: float, responses: tuple[int, int], survey_gaps: float, out: Path) -> None:
    """Generate a synthetic panel with known truth (panel.csv + truth.json), and optionally the
    customer-level records or subscription tables that aggregate exactly to it. The variant
    options (--no-effect, --loss-factor, --responses, --survey-gaps) make the histories of the
    decision calibration study (validation/calibration.py); the truth records them."""
    from cxroi.data import synth as synth_module

    effects = dict.fromkeys(synth_module.CX_EFFECT_MEANS, 0.0) if no_effect else None
    result = synth_module.generate(segments=segments, months=months, seed=seed, start=start, scale=scale,
                                   effects=effects, loss_factor=loss_factor, responses_range=responses,
                                   survey_gaps=survey_gaps)
    try:
        written = synth_module.write(result, out)
        if shape == "customers":
            from cxroi.data.customers import write_customer_level

            written += write_customer_level(result, out, seed=seed)
        elif shape == "subscriptions":
            from cxroi.data.synth_subscriptions import write_subscription_tables

            written += write_subscription_tables(result, out, seed=seed)
    except OSError as exc:
        raise DataError(f"{out}: cannot write ({exc.strerror or exc})") from exc
    for path in written:
        click.echo(f"wrote {path}")


@data.command()
@click.argument("records", required=False)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="panel file to write (.parquet, or .csv)")
@click.option("--subscriptions", help="subscriptions: customer_id, segment, start_date, end_date, mrr")
@click.option("--answers", help="survey answers: customer_id, answered_at, csat, nps")
@click.option("--spend", help="spend table: segment, period and spend_<initiative> columns")
@click.option("--ledger", help="spend ledger: initiative, segment, month, amount")
@click.option("--engine", type=click.Choice(["duckdb", "postgres", "spark"]), default="duckdb", show_default=True,
              help="where the SQL runs: duckdb (files), postgres (tables, pushed down), spark (tables, data lakes)")
@click.option("--url", help="postgres: SQLAlchemy URL (postgresql+psycopg://user@host/db); spark: master URL "
                            "(default local[*]) or Spark Connect URL (sc://host:15002)")
def aggregate(records: str | None, out: Path, subscriptions: str | None, answers: str | None, spend: str | None,
              ledger: str | None, engine: str, url: str | None) -> None:
    """Aggregate customer-level records, or subscriptions + survey answers, into a panel.

    Give RECORDS (one row per customer × month), or --subscriptions and --answers. Each source
    is a file (.csv or .parquet; duckdb, spark), a table name (postgres, spark) or a query
    (SELECT …). Spend comes from --spend (one row per segment × month) or --ledger (one row per
    payment). Every problem is listed with its row (1-based, under the header; for tables and
    queries in key order) and column; nothing is written and the exit status is 1 when any
    error is found. Rules and columns: data/README.md.
    """
    from cxroi.cli.output import err_console
    from cxroi.data.aggregate import check_output, panel_from_customers, write_panel
    from cxroi.data.engine import source_label

    if (records is None) == (subscriptions is None and answers is None):
        raise click.UsageError("give either RECORDS or --subscriptions with --answers")
    if records is None and (subscriptions is None or answers is None):
        raise click.UsageError("--subscriptions and --answers go together")
    if spend is not None and ledger is not None:
        raise click.UsageError("give --spend or --ledger, not both")
    check_output(out)
    spend_source, spend_kind = (ledger, "ledger") if ledger is not None else (spend, "spend")
    with err_console.status("Reading the records") as status:
        if records is not None:
            title = source_label(records)
            panel, findings = panel_from_customers(records, spend=spend_source, spend_kind=spend_kind,
                                                   progress=status.update, engine=engine, url=url)
        else:
            from cxroi.data.subscriptions import panel_from_subscriptions

            title = source_label(subscriptions)
            panel, findings = panel_from_subscriptions(subscriptions, answers, spend=spend_source, spend_kind=spend_kind,
                                                       progress=status.update, engine=engine, url=url)
    print_findings(findings, title=title)
    if panel is None:
        raise click.exceptions.Exit(1)
    write_panel(panel, out)
    click.echo(f"wrote {out}: {len(panel)} rows, {panel['segment'].nunique()} segments, "
               f"{panel['period'].min():%Y-%m} to {panel['period'].max():%Y-%m}")
