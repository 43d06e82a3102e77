"""Models: promote a model to champion (analyst) with a reason."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from cxroi.api.deps import Ctx
from cxroi.api.schemas import PromoteRequest
from cxroi.api.security import CurrentUser
from cxroi.service import models as use_cases
from cxroi.sim.scenario import MAX_NAME_CHARS

router = APIRouter(tags=["models"])
ModelPath = Annotated[str, Path(min_length=1, max_length=MAX_NAME_CHARS, description="the model's id")]


@router.post("/models/{model_id}/promote",
             summary="Make a model the champion, with a reason (analyst); returns the promotion record")
def promote(model_id: ModelPath, body: PromoteRequest, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    return use_cases.promote_model(ctx, user, model_id, body.reason, force=body.force,
                                   acknowledge_shift=body.acknowledge_shift)
