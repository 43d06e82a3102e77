"""``cxroi decisions list | show ID``: the immutable records of approved scenarios."""

from __future__ import annotations

import json

import click

from cxroi.cli.acting import cli_user, context
from cxroi.cli.output import console, print_caveats, print_table
from cxroi.manifest import Caveat

#: decision summary metric → (label, how to show a value)
_METRICS = {
    "npv": ("NPV", lambda v: f"{v:,.0f}"),
    "roi": ("ROI", lambda v: f"{100 * v:,.1f} %"),
    "payback_month": ("Payback (month)", lambda v: f"{v:.0f}"),
    "irr": ("IRR (per year)", lambda v: f"{100 * v:,.1f} %"),
    "pv_spend": ("PV of spend", lambda v: f"{v:,.0f}"),
    "incremental_revenue": ("Incremental revenue", lambda v: f"{v:,.0f}"),
}


@click.group()
def decisions() -> None:
    """Decision records: a scenario version approved with `cxroi scenarios approve`, with the model,
    data fingerprint, forecast, caveats, approver and time. They are never changed or deleted; a
    newer approval of the same scenario supersedes the older one."""


@decisions.command("list")
@click.option("--scenario", default=None, help="only the decisions of this scenario name")
def list_cmd(scenario: str | None) -> None:
    """Decision records, newest first."""
    from cxroi import service

    with context() as ctx:
        records = service.list_decisions(ctx, cli_user(), scenario)
    if not records:
        click.echo("no decisions recorded (approve a saved scenario with `cxroi scenarios approve NAME`)")
        return
    print_table([{"decision": d.id, "scenario": d.scenario_name, "version": d.scenario_version,
                  "model": d.model_id, "NPV P50": f"{d.forecast['summary']['npv']['p50']:,.0f}",
                  "approved by": d.approved_by, "approved (UTC)": f"{d.approved_at:%Y-%m-%d %H:%M}",
                  "status": "current" if d.current else f"superseded by {d.superseded_by}"} for d in records],
                title="Decisions")


def _cell(value: float | None, show) -> str:
    return "n/a" if value is None else show(value)


@decisions.command("show")
@click.argument("decision_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="print the whole record as JSON (per-draw NPV and ROI included)")
def show(decision_id: int, as_json: bool) -> None:
    """One decision record: what was approved, on which model and data, the forecast and caveats."""
    from cxroi import service

    with context() as ctx:
        d = service.get_decision(ctx, cli_user(), decision_id)
    if as_json:
        record = {**d.__dict__, "approved_at": d.approved_at.isoformat(timespec="seconds")}
        click.echo(json.dumps(record, indent=2, ensure_ascii=False))
        return
    forecast = d.forecast
    print_table([{"decision": d.id, "scenario": d.scenario_name, "version": d.scenario_version, "model": d.model_id,
                  "data fingerprint": (d.data_fingerprint or "unknown")[:19],
                  "approved by": d.approved_by, "approved (UTC)": f"{d.approved_at:%Y-%m-%d %H:%M}",
                  "status": "current" if d.current else f"superseded by decision {d.superseded_by}"}],
                title=f"Decision {d.id}")
    labels = [f"p{round(100 * q):g}" for q in forecast["quantiles"]]
    rows = []
    for metric, (label, fmt) in _METRICS.items():
        row = forecast["summary"].get(metric)
        if row:
            rows.append({"metric": label, "mean": _cell(row.get("mean"), fmt),
                         **{q.upper(): _cell(row.get(q), fmt) for q in labels}})
    print_table(rows, title=f"Forecast at approval: {forecast['horizon_months']} months from "
                            f"{forecast['first_month']}, {forecast['n_draws']} draws, "
                            f"P(ROI > 0) {forecast['prob_roi_positive']:.1%}")
    for finding in forecast.get("plausibility", []):
        console.print(f"[yellow]{finding['severity']}:[/yellow] {finding['text']}")
    print_caveats([Caveat.model_validate(c) for c in d.caveats])
    console.print("This record cannot be changed or deleted; approving a newer version supersedes it.")
