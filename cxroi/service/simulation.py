"""Use cases that value scenarios: simulate, forecast (export and record), optimise, and a saved
scenario's value under the model it was saved on beside the current champion."""

from __future__ import annotations

import dataclasses
import math
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cxroi.errors import CxroiError
from cxroi.service.audit import actor
from cxroi.service.context import Context
from cxroi.service.identity import Permission, User
from cxroi.service.types import (
    ForecastExport,
    Optimisation,
    OptimiseRequest,
    PinnedValuation,
    ScenarioRef,
    Simulation,
    ValueDifference,
)
from cxroi.store import Decision, SavedScenario

if TYPE_CHECKING:
    from cxroi.registry import ModelArtifact
    from cxroi.sim.scenario import Scenario

Progress = Callable[[int, int, str], None]


def _saved_scenario(ctx: Context, ref: ScenarioRef, artifact: ModelArtifact | None) -> tuple[Scenario, SavedScenario]:
    from cxroi.sim.scenario import parse_scenario

    saved = ctx.store.get_scenario(ref.name, ref.version)
    return parse_scenario(saved.body, f"saved scenario '{saved.name}' version {saved.version}", artifact), saved


def _scenario(source: Scenario | dict[str, Any], artifact: ModelArtifact | None) -> Scenario:
    from cxroi.sim.scenario import Scenario, parse_scenario

    if isinstance(source, Scenario):
        return source
    if isinstance(source, dict):
        return parse_scenario(source, "scenario", artifact)
    raise CxroiError(f"cannot simulate a {type(source).__name__}: give a scenario, its body or a saved scenario")


def decision_of(ctx: Context, saved: SavedScenario | None) -> Decision | None:
    """The newest decision record of the saved version ``saved`` (current or superseded), if any."""
    return None if saved is None else ctx.store.decision_of(saved.name, saved.version)


def simulate(ctx: Context, user: User, source: Scenario | dict[str, Any] | ScenarioRef,
             model_id: str | None = None) -> Simulation:
    """Simulate a scenario (object, body or saved version) on ``model_id`` (default: the
    champion). The result carries the model's caveats that concern it. Needs VIEW."""
    user.require(Permission.VIEW, "simulate a scenario")
    artifact = ctx.load_model(model_id)
    if isinstance(source, ScenarioRef):
        scenario, saved = _saved_scenario(ctx, source, artifact)
        decision = decision_of(ctx, saved)
    else:
        scenario, saved, decision = _scenario(source, artifact), None, None
    return Simulation(ctx.simulate(scenario, artifact), scenario, artifact.model_id, saved, decision)


def _matching_saved(ctx: Context, scenario: Scenario) -> SavedScenario | None:
    """The saved version whose body equals ``scenario`` (an unreachable store never blocks an export)."""
    try:
        version = ctx.store.find_version(scenario.name, scenario.to_dict())
        return None if version is None else ctx.store.get_scenario(scenario.name, version)
    except CxroiError:
        return None


def decision_provenance(decision: Decision, model_id: str) -> dict[str, Any]:
    """What an export of an approved scenario says about its decision record."""
    return {"id": decision.id, "scenario": decision.scenario_name, "version": decision.scenario_version,
            "approved_by": decision.approved_by, "approved_at": decision.approved_at.isoformat(timespec="seconds"),
            "model_id": decision.model_id, "superseded_by": decision.superseded_by,
            "same_model": decision.model_id == model_id}


def _check_quantiles(quantiles: Sequence[float] | None) -> tuple[float, ...]:
    from cxroi.export import ExportError
    from cxroi.sim.result import DEFAULT_QUANTILES

    chosen = tuple(sorted({float(q) for q in quantiles})) if quantiles else tuple(DEFAULT_QUANTILES)
    bad = [q for q in chosen if not 0 < q < 1]
    if bad:
        raise ExportError(f"quantiles must lie strictly between 0 and 1, got {', '.join(map(str, bad))}")
    return chosen


def _write(simulation: Simulation, fmt: str, quantiles: tuple[float, ...], out: Path) -> list[Path]:
    from cxroi.export import write_tables
    from cxroi.export.tables import build_tables

    tables = build_tables(simulation.result, quantiles)
    if simulation.decision is not None:
        tables = dataclasses.replace(tables, provenance={
            **tables.provenance, "decision": decision_provenance(simulation.decision, simulation.model_id)})
    return write_tables(tables, out, fmt)


def export_stem(simulation: Simulation) -> str:
    """File name stem of an export: the scenario's name, and "-v<n>" for a saved version."""
    from cxroi.text import file_stem

    stem = file_stem(simulation.scenario.name)
    return stem if simulation.version is None else f"{stem}-v{simulation.version}"


def forecast(ctx: Context, user: User, source: Scenario | dict[str, Any] | ScenarioRef, fmt: str,
             model_id: str | None = None, quantiles: Sequence[float] | None = None, out: Path | None = None,
             record: bool = True) -> ForecastExport:
    """Simulate and export a forecast as ``fmt`` (xlsx, csv or parquet) at ``quantiles``
    (default P10/P50/P90), to the file ``out`` or, without it, as file contents (``files``).

    A scenario equal to a saved version counts as that version. An approved version is exported
    on its decision's model unless ``model_id`` says otherwise, and the export names the decision.
    The run is recorded in the store with the user (and audited) unless ``record`` is False.
    Needs EXPORT."""
    from cxroi.export import FORMATS, ExportError

    user.require(Permission.EXPORT, "export a forecast")
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format '{fmt}' (choose one of {', '.join(FORMATS)})")
    chosen = _check_quantiles(quantiles)
    if isinstance(source, ScenarioRef):
        saved = ctx.store.get_scenario(source.name, source.version)
    else:
        saved = _matching_saved(ctx, _scenario(source, None))
    decision = decision_of(ctx, saved)
    artifact = ctx.load_model(model_id or (decision.model_id if decision else None))
    if saved is not None:
        scenario, _ = _saved_scenario(ctx, ScenarioRef(saved.name, saved.version), artifact)
    else:
        scenario = _scenario(source, artifact)
    simulation = Simulation(ctx.simulate(scenario, artifact), scenario, artifact.model_id, saved, decision)

    files: dict[str, bytes] = {}
    if out is not None:
        paths = tuple(_write(simulation, fmt, chosen, out))
    else:
        with tempfile.TemporaryDirectory(prefix="cxroi-export-") as folder:
            written = _write(simulation, fmt, chosen, Path(folder) / f"{export_stem(simulation)}.{fmt}")
            files = {path.name: path.read_bytes() for path in written}
        paths = ()
    run_id, problem = None, None
    if record:
        try:
            run = ctx.store.record_run(
                scenario.name, simulation.version, artifact.model_id, simulation.summary_json(chosen),
                output=str(out.resolve()) if out is not None else None, actor=actor(user),
                decision_id=decision.id if decision else None, detail={"format": fmt})
            run_id = run.id
        except CxroiError as exc:
            problem = str(exc)
    return ForecastExport(simulation, fmt, paths, files, run_id, decision.id if decision else None, problem)


def optimise(ctx: Context, user: User, request: OptimiseRequest, progress: Progress | None = None) -> Optimisation:
    """The allocation of ``request.budget`` that maximises the objective, and the efficient
    frontier at ``request.frontier_budgets`` (those below the smallest fundable budget are
    skipped). Needs VIEW (the optimiser is a viewer's page); nothing is stored."""
    from cxroi.errors import ScenarioError
    from cxroi.sim.optimise import AllocationProblem, objective_named
    from cxroi.sim.scenario import GrossMargin

    user.require(Permission.VIEW, "run the optimiser")
    if not (math.isfinite(request.budget) and request.budget > 0):
        raise ScenarioError(f"the budget must be a positive amount, got {request.budget:g}")
    artifact = ctx.load_model(request.model_id)
    problem = AllocationProblem.of(
        artifact, objective_named(request.objective, floor=request.floor),
        initiatives=list(request.initiatives) or None, segments=list(request.segments) or None,
        horizon_months=request.horizon_months, annual_discount_rate=request.annual_discount_rate,
        gross_margin=GrossMargin(default=request.gross_margin))
    allocation = problem.solve(request.budget, progress=progress)
    frontier = None
    if request.frontier_budgets:
        budgets = [b for b in request.frontier_budgets if b >= problem.minimum_budget]
        frontier = problem.frontier(budgets, progress=progress)
    return Optimisation(request, artifact.model_id, allocation, frontier)


def _headline(simulation: Simulation) -> dict[str, float]:
    summary = simulation.result.summary((0.5,))
    return {"npv_mean": float(summary.loc["npv", "mean"]), "npv_p50": float(summary.loc["npv", "p50"]),
            "roi_p50": float(summary.loc["roi", "p50"]), "prob": float(summary.loc["prob_roi_positive", "mean"]),
            "payback_p50": float(summary.loc["payback_month", "p50"])}


def difference(pinned: Simulation, champion: Simulation) -> ValueDifference:
    """Champion minus pinned on the headline figures."""
    a, b = _headline(pinned), _headline(champion)
    payback = b["payback_p50"] - a["payback_p50"]
    return ValueDifference(npv_mean=b["npv_mean"] - a["npv_mean"], npv_p50=b["npv_p50"] - a["npv_p50"],
                           roi_p50=b["roi_p50"] - a["roi_p50"], prob_roi_positive=b["prob"] - a["prob"],
                           payback_p50=payback if math.isfinite(payback) else None)


def value_under_models(ctx: Context, user: User, ref: ScenarioRef) -> PinnedValuation:
    """A saved scenario valued on the model it was saved on (pinned) and on the current champion,
    with the difference when they differ. A pinned model that no longer loads is reported in
    ``pinned_problem``, not raised. Needs VIEW."""
    champion = simulate(ctx, user, ref)
    saved = ctx.store.get_scenario(ref.name, ref.version) if champion.saved is None else champion.saved
    if saved.model_id is None:
        return PinnedValuation(saved, champion, None, "saved before the model was recorded with a scenario")
    if saved.model_id == champion.model_id:
        return PinnedValuation(saved, champion, champion)
    try:
        pinned = simulate(ctx, user, ScenarioRef(saved.name, saved.version), model_id=saved.model_id)
    except CxroiError as exc:
        return PinnedValuation(saved, champion, None, f"model '{saved.model_id}' it was saved on: {exc}")
    return PinnedValuation(saved, champion, pinned, None, difference(pinned, champion))
