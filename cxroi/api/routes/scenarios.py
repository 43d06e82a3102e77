"""Saved scenarios: list, read, create, save a new version on a base version (409 when someone
saved a newer one), delete, approve into a decision record; and decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from cxroi.api.deps import Ctx
from cxroi.api.schemas import (
    DecisionOut,
    ModelId,
    SavedScenarioOut,
    SaveScenarioRequest,
    ScenarioListingOut,
)
from cxroi.api.security import CurrentUser
from cxroi.service import scenarios as use_cases
from cxroi.sim.scenario import MAX_NAME_CHARS

router = APIRouter(tags=["scenarios"])
ScenarioName = Annotated[str, Path(min_length=1, max_length=MAX_NAME_CHARS,
                                   description="the scenario's name (it may contain '/')")]
Version = Annotated[int | None, Query(ge=1, description="a version number; default: the latest")]
CONFLICT = {409: {"description": "Someone saved a newer version since the base version (problem+json naming it)"}}


@router.get("/scenarios", summary="Every saved scenario with its latest version")
def list_scenarios(ctx: Ctx, user: CurrentUser) -> list[ScenarioListingOut]:
    return [ScenarioListingOut.of(row) for row in use_cases.list_scenarios(ctx, user)]


@router.post("/scenarios", status_code=status.HTTP_201_CREATED, responses=CONFLICT,
             summary="Save a new scenario (or, with base_version, a new version of an existing one)")
def create_scenario(body: SaveScenarioRequest, ctx: Ctx, user: CurrentUser, response: Response) -> SavedScenarioOut:
    saved = use_cases.save_scenario(ctx, user, body.scenario, base_version=body.base_version, model_id=body.model_id)
    response.headers["Location"] = f"/scenarios/{saved.name}?version={saved.version}"
    return SavedScenarioOut.of(saved)


@router.get("/scenarios/{name:path}/versions", summary="Every live version of a scenario, oldest first")
def scenario_versions(name: ScenarioName, ctx: Ctx, user: CurrentUser) -> list[SavedScenarioOut]:
    return [SavedScenarioOut.of(saved) for saved in use_cases.scenario_versions(ctx, user, name)]


@router.put("/scenarios/{name:path}", responses=CONFLICT,
            summary="Save a new version of the scenario, based on base_version (409 if a newer one exists)")
def save_version(name: ScenarioName, body: SaveScenarioRequest, ctx: Ctx, user: CurrentUser) -> SavedScenarioOut:
    saved = use_cases.save_scenario(ctx, user, body.scenario, name=name, base_version=body.base_version,
                                    model_id=body.model_id)
    return SavedScenarioOut.of(saved)


@router.delete("/scenarios/{name:path}", summary="Delete one version, or every version, of a scenario (admin)")
def delete_scenario(name: ScenarioName, ctx: Ctx, user: CurrentUser, version: Version = None) -> dict[str, int]:
    return {"deleted_versions": use_cases.delete_scenario(ctx, user, name, version)}


@router.post("/scenarios/{name:path}/approve", status_code=status.HTTP_201_CREATED,
             summary="Approve a saved version into an immutable decision record (finance)")
def approve_scenario(name: ScenarioName, ctx: Ctx, user: CurrentUser, version: Version = None,
                     model_id: Annotated[ModelId | None, Query()] = None,
                     ) -> DecisionOut:
    return DecisionOut.of(use_cases.approve_scenario(ctx, user, name, version, model_id))


@router.get("/scenarios/{name:path}", summary="A saved scenario version (default: the latest)")
def get_scenario(name: ScenarioName, ctx: Ctx, user: CurrentUser, version: Version = None) -> SavedScenarioOut:
    return SavedScenarioOut.of(use_cases.get_scenario(ctx, user, name, version))


@router.get("/decisions", tags=["decisions"], summary="Decision records, newest first")
def list_decisions(ctx: Ctx, user: CurrentUser,
                   scenario: Annotated[str | None, Query(min_length=1, max_length=MAX_NAME_CHARS)] = None,
                   ) -> list[DecisionOut]:
    return [DecisionOut.of(d) for d in use_cases.list_decisions(ctx, user, scenario)]


@router.get("/decisions/{decision_id}", tags=["decisions"], summary="One decision record")
def get_decision(decision_id: Annotated[int, Path(ge=1)], ctx: Ctx, user: CurrentUser) -> DecisionOut:
    return DecisionOut.of(use_cases.get_decision(ctx, user, decision_id))
