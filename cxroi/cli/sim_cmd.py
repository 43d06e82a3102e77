"""``cxroi simulate`` and ``cxroi optimize``: scenario results and budget allocation in the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
import pandas as pd

from cxroi.cli.acting import cli_user, context
from cxroi.cli.output import console, print_caveats, print_plausibility
from cxroi.errors import CxroiError, ScenarioError

MODELS_DIR_HELP = "folder of model artifacts (default: models/ or $CXROI_MODELS_DIR)"


def _quantiles(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(q) for q in text.split(","))
    except ValueError:
        raise ScenarioError(f"--quantiles: expected numbers separated by commas, got '{text}'") from None
    if not values or not all(0 < q < 1 for q in values):
        raise ScenarioError(f"--quantiles: every quantile must lie strictly between 0 and 1, got '{text}'")
    return tuple(sorted(set(values)))


def _money(value: float) -> str:
    return "" if value is None or not np.isfinite(value) else f"{value:,.0f}"


def _fraction(value: float) -> str:
    return "" if value is None or not np.isfinite(value) else f"{100 * value:.1f} %"


def _month(value: float) -> str:
    return "beyond horizon" if value is None or not np.isfinite(value) else f"{value:.0f}"


FORMATS = {"currency": _money, "customers": _money, "fraction": _fraction, "fraction per year": _fraction,
           "month": _month, "probability": _fraction}


def _print_frame(frame: pd.DataFrame, title: str, formats: dict) -> None:
    from rich.table import Table

    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column), justify="left" if frame[column].dtype == object else "right")
    for values in zip(*(frame[c] for c in frame.columns), strict=True):
        table.add_row(*(value if isinstance(value, str) else ("yes" if value else "no")
                        if isinstance(value, bool | np.bool_) else formats.get(c, str)(value)
                        for c, value in zip(frame.columns, values, strict=True)))
    console.print(table)


def _print_summary(summary: pd.DataFrame) -> None:
    from rich.table import Table

    table = Table(title="Scenario value over parameter draws")
    table.add_column("metric")
    for column in summary.columns.drop("unit"):
        table.add_column(column, justify="right")
    for metric, row in summary.iterrows():
        fmt = FORMATS.get(row["unit"], str)
        cells = ["" if row["unit"] == "probability" and c != "mean"
                 else fmt(row[c]) if np.isfinite(row[c]) or (c != "mean" and row["unit"] == "month") else "n/a"
                 for c in summary.columns.drop("unit")]
        table.add_row(str(metric).replace("_", " "), *cells)
    console.print(table)
    console.print("n/a: not defined for some draws (no payback within the horizon, or no IRR)")


def _csv(frame: pd.DataFrame) -> str:
    from cxroi.export.sanitize import neutralise_frame

    return neutralise_frame(frame).to_csv(index=False, lineterminator="\n")


def _write_all(out: Path, texts: dict[str, str | bytes]) -> None:
    """Write the files ``texts`` (name → UTF-8 text, or finished bytes) into ``out`` all or
    nothing: a failure (full disk, a folder in the way) leaves every earlier file as it was and
    says why."""
    from cxroi.export.atomic import terminate_as_interrupt, write_files

    try:
        out.mkdir(parents=True, exist_ok=True)
        with terminate_as_interrupt():
            write_files({out / name: (lambda tmp, data=data: tmp.write_bytes(data) if isinstance(data, bytes)
                                      else tmp.write_text(data, encoding="utf-8"))
                         for name, data in texts.items()})
    except OSError as exc:
        raise CxroiError(f"could not write the results into {out}: {exc.strerror or exc}") from None


def _wrote(out: Path, names: dict[str, str]) -> None:
    console.print(f"wrote {out}/: {', '.join(names)}")


@click.command()
@click.option("--scenario", "scenario_file", required=True, type=click.Path(path_type=Path),
              help="scenario file (YAML or JSON), e.g. data/scenarios/retention_proactive_success.yaml")
@click.option("--model", default=None, help="model id or folder (default: the champion)")
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=MODELS_DIR_HELP)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="output folder")
@click.option("--quantiles", default="0.1,0.5,0.9", show_default=True, help="quantiles to report")
def simulate(scenario_file: Path, model: str | None, models_dir: Path | None, out: Path, quantiles: str) -> None:
    """Simulate a scenario and write summary.csv, per_draw.csv, levers.csv, segments.csv,
    monthly.csv, uncertainty.csv (where the NPV's uncertainty comes from), provenance.json and
    plausibility.json into OUT (money in the model's currency)."""
    from cxroi import service
    from cxroi.sim.attribution import uncertainty_shares
    from cxroi.sim.scenario import load_scenario

    qs = _quantiles(quantiles)
    with context(models_dir) as ctx:
        artifact = ctx.load_model(model)
        scenario = load_scenario(scenario_file, artifact)
        result = service.simulate(ctx, cli_user(), scenario, model_id=model).result
    summary = result.summary(qs)
    shares = uncertainty_shares(artifact, scenario)
    files = {
        "summary.csv": _csv(summary.reset_index()), "per_draw.csv": _csv(result.per_draw()),
        "levers.csv": _csv(result.levers_table(qs)), "segments.csv": _csv(result.segments_table(qs)),
        "monthly.csv": _csv(result.monthly_quantiles(qs)), "uncertainty.csv": _csv(shares),
        "scenario.yaml": scenario.to_yaml(),
        "provenance.json": json.dumps(result.provenance.as_dict(), indent=2, default=str) + "\n",
        "plausibility.json": json.dumps([f.as_dict() for f in result.plausibility], indent=2) + "\n",
    }
    _write_all(out, files)

    console.print(f"[bold]{scenario.name}[/bold] on model {result.model_id} ({result.provenance.family}), "
                  f"{result.n_draws} draws, {result.horizon} months from {result.months[0]:%Y-%m}")
    _print_summary(summary)
    print_plausibility(result.plausibility)
    print_caveats(result.provenance.caveats)
    levers = result.levers_table(qs).query("segment == 'all'").drop(columns="segment")
    _print_frame(levers, "Value by lever (present value, all segments)",
                 {**{c: _money for c in levers.columns}, "share_of_value": _fraction})
    segments = result.segments_table(qs)
    segments = segments[segments["pv_spend"] > 0]
    columns = dict.fromkeys(["segment", "pv_spend", "npv_mean", f"npv_{_label(qs[0])}", f"npv_{_label(qs[-1])}",
                             "prob_npv_positive", "incremental_customers_end"])  # one quantile: once
    _print_frame(segments[list(columns)],
                 "Segments reached", {**{c: _money for c in segments.columns}, "prob_npv_positive": _fraction})
    _print_frame(shares[["label", "variance_share", "sd_fixed"]],
                 f"Where the NPV's uncertainty comes from (sd {_money(shares.attrs['npv_sd'])}; share of its variance "
                 "removed by fixing each group at its mean, one at a time)",
                 {"variance_share": _fraction, "sd_fixed": _money})
    _wrote(out, files)


def _label(q: float) -> str:
    from cxroi.sim.result import quantile_label

    return quantile_label(q)


@click.command()
@click.option("--budget", required=True, type=float,
              help="most the plan may spend, one-off costs of the initiatives it funds included (currency)")
@click.option("--objective", type=click.Choice(["mean", "cvar", "prob"]), default="mean", show_default=True,
              help="expected NPV, CVaR at 10 %, or expected NPV with P(ROI > 0) ≥ --floor")
@click.option("--floor", default=0.8, show_default=True, type=click.FloatRange(0, 1), help="floor on P(ROI > 0)")
@click.option("--initiatives", multiple=True, help="initiative ids to fund (repeat; default: all)")
@click.option("--segments", multiple=True, help="segments to consider (repeat; default: all)")
@click.option("--horizon", default=36, show_default=True, type=click.IntRange(1, 240), help="months")
@click.option("--discount-rate", default=0.10, show_default=True, type=click.FloatRange(0, 0.99), help="annual")
@click.option("--margin", default=0.7, show_default=True, type=click.FloatRange(0.01, 1), help="gross margin")
@click.option("--frontier", "frontier_points", default=0, type=click.IntRange(0, 20),
              help="also report the efficient frontier at this many budgets from 25 % to 150 % of --budget")
@click.option("--model", default=None, help="model id or folder (default: the champion)")
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=MODELS_DIR_HELP)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder for allocation.csv, scenario.yaml (and frontier.csv)")
def optimize(budget: float, objective: str, floor: float, initiatives: tuple[str, ...], segments: tuple[str, ...],
             horizon: int, discount_rate: float, margin: float, frontier_points: int, model: str | None,
             models_dir: Path | None, out: Path | None) -> None:
    """Allocate BUDGET across initiatives × segments to maximise the objective."""
    from rich.progress import Progress

    from cxroi import service

    if not (np.isfinite(budget) and budget > 0):
        raise ScenarioError(f"--budget must be a positive amount, got {budget:g}")
    request = service.OptimiseRequest(
        budget=budget, objective=objective, floor=floor, initiatives=initiatives, segments=segments,
        horizon_months=horizon, annual_discount_rate=discount_rate, gross_margin=margin, model_id=model,
        frontier_budgets=tuple(float(b) for b in np.linspace(0.25, 1.5, frontier_points) * budget))
    with Progress(console=console, transient=True) as bar, context(models_dir) as ctx:
        task = bar.add_task("optimising", total=None)

        def progress(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=message)

        optimisation = service.optimise(ctx, cli_user(), request, progress=progress)
    plan, frontier = optimisation.allocation, optimisation.frontier

    table = plan.table()
    funded = table[(table["monthly_spend"] > 0.005 * max(table["monthly_spend"].max(), 1.0))
                   | (table["one_off_cost"] > 0)]  # an initiative's one-off is a line of its own
    _print_frame(funded.sort_values("total_spend", ascending=False),
                 f"Allocation ({objective}): spends {plan.spent:,.0f} of the budget of {budget:,.0f}",
                 {"monthly_spend": _money, "one_off_cost": _money, "total_spend": _money, "share": _fraction})
    if plan.spent == 0:
        console.print("No allocation adds value at this budget: the best plan is to spend nothing.")
    _print_summary(plan.result.summary())
    print_caveats(plan.result.provenance.caveats)
    if not plan.feasible:
        console.print(f"[red]No allocation reaches P(ROI > 0) ≥ {floor:.0%}; the best found reaches "
                      f"{plan.result.prob_roi_positive:.0%}.[/red]")
    if frontier is not None:
        _print_frame(frontier, "Efficient frontier (NPV over draws)",
                     {**{c: _money for c in frontier.columns}, "prob_roi_positive": _fraction})
    if out is not None:
        files = {"allocation.csv": _csv(table), "scenario.yaml": plan.result.scenario.to_yaml()}
        if frontier is not None:
            files["frontier.csv"] = _csv(frontier)
        _write_all(out, files)
        _wrote(out, files)
