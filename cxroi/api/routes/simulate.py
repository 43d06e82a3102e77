"""Simulate a scenario (inline or saved) and optimise an allocation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cxroi.api.deps import Ctx
from cxroi.api.routes.scenarios import ScenarioName, Version
from cxroi.api.schemas import (
    MAX_QUANTILES,
    ModelId,
    OptimisationOut,
    OptimiseRequestBody,
    Quantile,
    SimulateRequest,
    SimulationOut,
    simulation_bodies,
)
from cxroi.api.security import CurrentUser
from cxroi.service import simulation as use_cases
from cxroi.service.types import OptimiseRequest, ScenarioRef

router = APIRouter(tags=["simulate"])


@router.post("/simulate", summary="Simulate a scenario body or a saved scenario: summary, levers, segments, caveats")
def simulate(body: SimulateRequest, ctx: Ctx, user: CurrentUser) -> SimulationOut:
    source = ScenarioRef(body.saved.name, body.saved.version) if body.saved else body.scenario
    return simulation_bodies.get_or_make(use_cases.simulate(ctx, user, source, body.model_id), body.quantiles)


@router.get("/scenarios/{name:path}/simulation", summary="Simulate a saved scenario version (default: the latest)")
def simulate_saved(name: ScenarioName, ctx: Ctx, user: CurrentUser, version: Version = None,
                   model_id: Annotated[ModelId | None, Query()] = None,
                   quantiles: Annotated[list[Quantile] | None, Query(max_length=MAX_QUANTILES)] = None,
                   ) -> SimulationOut:
    simulation = use_cases.simulate(ctx, user, ScenarioRef(name, version), model_id)
    return simulation_bodies.get_or_make(simulation, quantiles)


@router.post("/optimise", tags=["optimise"],
             summary="Allocate a budget across initiatives × segments (and the efficient frontier)")
def optimise(body: OptimiseRequestBody, ctx: Ctx, user: CurrentUser) -> OptimisationOut:
    request = OptimiseRequest(**{**body.model_dump(), "initiatives": tuple(body.initiatives),
                                 "segments": tuple(body.segments), "frontier_budgets": tuple(body.frontier_budgets)})
    return OptimisationOut.of(use_cases.optimise(ctx, user, request))
