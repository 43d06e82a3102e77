"""Use cases on saved scenarios and decisions: save (optimistic concurrency), read, delete,
approve into an immutable decision record, list and show decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cxroi.errors import CxroiError
from cxroi.service.audit import actor
from cxroi.service.context import Context
from cxroi.service.identity import Permission, User
from cxroi.service.simulation import simulate
from cxroi.service.types import ScenarioRef, Simulation
from cxroi.store import Decision, ForecastRun, SavedScenario, ScenarioListing

if TYPE_CHECKING:
    from cxroi.sim.scenario import Scenario

#: quantiles a decision record keeps of every summary metric
DECISION_QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


class AlreadyApproved(CxroiError):
    """The version is already the scenario's current decision on the same model."""


def save_scenario(ctx: Context, user: User, scenario: Scenario | dict[str, Any], name: str | None = None,
                  base_version: int | None = None, model_id: str | None = None) -> SavedScenario:
    """Validate ``scenario`` and save it as the next version of ``name`` (default: its own name).

    ``base_version`` is the version the user started from (None: a new scenario). When another
    version was saved since — or, for a new scenario, when the name exists — nothing is saved and
    :class:`~cxroi.store.ConflictError` names the latest version and who saved it; the user then
    saves on top of it (``base_version`` = that version) or reloads. ``model_id`` is the model the
    user valued it on (default: the champion), recorded as the scenario's pinned model.
    Needs SAVE_DRAFT; audited."""
    from cxroi.sim.scenario import parse_scenario

    user.require(Permission.SAVE_DRAFT, "save a scenario")
    body = scenario.to_dict() if not isinstance(scenario, dict) else scenario
    if name is not None:
        body = {**body, "name": name}
    checked = parse_scenario(body, f"scenario '{name or body.get('name', '')}'")
    pinned = model_id or ctx.champion_id()
    return ctx.store.save_scenario(checked.name, checked.to_dict(), actor=actor(user), model_id=pinned,
                                   base_version=base_version, check_base=True)


def list_scenarios(ctx: Context, user: User) -> list[ScenarioListing]:
    """Every saved scenario name with its latest version. Needs VIEW."""
    user.require(Permission.VIEW, "list saved scenarios")
    return ctx.store.list_scenarios()


def scenario_versions(ctx: Context, user: User, name: str) -> list[SavedScenario]:
    """Every live version of ``name``, oldest first. Needs VIEW."""
    user.require(Permission.VIEW, "read saved scenarios")
    return ctx.store.versions(name)


def get_scenario(ctx: Context, user: User, name: str, version: int | None = None) -> SavedScenario:
    """One saved version (default: the latest). Needs VIEW."""
    user.require(Permission.VIEW, "read saved scenarios")
    return ctx.store.get_scenario(name, version)


def delete_scenario(ctx: Context, user: User, name: str, version: int | None = None) -> int:
    """Delete one version (or every version) of ``name``; approved versions cannot be deleted.
    Returns how many versions were deleted. Needs DELETE; audited."""
    user.require(Permission.DELETE, "delete a saved scenario")
    return ctx.store.delete_scenario(name, version, actor=actor(user))


def _rounded(values: np.ndarray, digits: int) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), digits) for v in values]


def decision_forecast(simulation: Simulation) -> dict[str, Any]:
    """What a decision record keeps of a result: the horizon, number of draws, the summary at
    :data:`DECISION_QUANTILES`, the plausibility review's findings, and per draw the NPV
    (currency, to the cent) and ROI (fraction, 6 decimals); None for a value not defined in a draw."""
    result = simulation.result
    return {"quantiles": list(DECISION_QUANTILES), "horizon_months": result.horizon, "n_draws": result.n_draws,
            "first_month": f"{result.months[0]:%Y-%m}", "summary": simulation.summary_json(DECISION_QUANTILES),
            "prob_roi_positive": float(result.prob_roi_positive),
            "plausibility": [finding.as_dict() for finding in result.plausibility],
            "per_draw": {"npv": _rounded(result.npv, 2), "roi": _rounded(result.roi, 6)}}


def approve_scenario(ctx: Context, user: User, name: str, version: int | None = None,
                     model_id: str | None = None) -> Decision:
    """Approve a saved version (default: the latest) into an immutable decision record: valued on
    ``model_id``, else the model it was saved on when that still loads, else the champion. The
    scenario's earlier decision, if any, is marked superseded by the new one. Needs APPROVE; audited."""
    user.require(Permission.APPROVE, "approve a scenario")
    saved = ctx.store.get_scenario(name, version)
    chosen = model_id or saved.model_id
    if model_id is None and chosen is not None:
        try:
            ctx.load_model(chosen)
        except CxroiError:
            chosen = None  # the pinned model is gone: the champion values it
    simulation = simulate(ctx, user, ScenarioRef(saved.name, saved.version), model_id=chosen)
    current = ctx.store.current_decision(saved.name)
    if current and current.scenario_version == saved.version and current.model_id == simulation.model_id:
        raise AlreadyApproved(f"scenario '{saved.name}' version {saved.version} is already approved on model "
                              f"{simulation.model_id} as decision {current.id} (by {current.approved_by})")
    artifact = ctx.load_model(simulation.model_id)
    caveats = [caveat.model_dump(mode="json") for caveat in simulation.caveats]
    return ctx.store.record_decision(saved, simulation.model_id, artifact.manifest.data_fingerprint,
                                     decision_forecast(simulation), caveats, actor(user))


def list_decisions(ctx: Context, user: User, scenario_name: str | None = None) -> list[Decision]:
    """Decision records, newest first (optionally of one scenario). Needs VIEW."""
    user.require(Permission.VIEW, "read decisions")
    return ctx.store.list_decisions(scenario_name)


def get_decision(ctx: Context, user: User, decision_id: int) -> Decision:
    """One decision record. Needs VIEW."""
    user.require(Permission.VIEW, "read decisions")
    return ctx.store.get_decision(decision_id)


def list_runs(ctx: Context, user: User, scenario_name: str | None = None) -> list[ForecastRun]:
    """Recorded forecast runs, newest first (optionally of one scenario). Needs VIEW."""
    user.require(Permission.VIEW, "read forecast runs")
    return ctx.store.list_runs(scenario_name)
