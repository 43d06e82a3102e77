"""Models: list, show (manifest, health, backtest, caveats and effects) and promote to champion
(analyst, with a reason)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path

from cxroi.api.deps import Ctx
from cxroi.api.schemas import MODEL_ID_PATTERN, PromoteRequest
from cxroi.api.security import CurrentUser
from cxroi.service import models as use_cases
from cxroi.sim.scenario import MAX_NAME_CHARS

router = APIRouter(tags=["models"])
ModelPath = Annotated[str, Path(min_length=1, max_length=MAX_NAME_CHARS, pattern=MODEL_ID_PATTERN,
                                description="the model's id")]


@router.get("/models", summary="Every stored model, newest first: status, champion, health, training window")
def list_models(ctx: Ctx, user: CurrentUser) -> list[dict[str, Any]]:
    return use_cases.list_models(ctx, user)


@router.get("/models/{model_id}",
            summary="One model: its manifest (health checks, backtest, caveats, identification) and effects")
def show_model(model_id: ModelPath, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    summary = use_cases.show_model(ctx, user, model_id)
    return {"model_id": summary.model_id, "champion": summary.champion, "manifest": summary.manifest,
            "effects": [asdict(effect) for effect in summary.effects]}


@router.post("/models/{model_id}/promote",
             summary="Make a model the champion, with a reason (analyst); returns the promotion record")
def promote(model_id: ModelPath, body: PromoteRequest, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    return use_cases.promote_model(ctx, user, model_id, body.reason, force=body.force,
                                   acknowledge_shift=body.acknowledge_shift)
