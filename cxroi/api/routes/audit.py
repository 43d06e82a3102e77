"""The audit trail (admin): who did what to which object when, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from cxroi.api.deps import Ctx
from cxroi.api.schemas import AuditEntryOut
from cxroi.api.security import CurrentUser
from cxroi.service import audit as use_cases

router = APIRouter(tags=["audit"])
Text = Annotated[str | None, Query(min_length=1, max_length=200)]
MAX_ROWS = 10_000


@router.get("/audit", summary="Audit rows, newest first, filtered by time, user, action and object type (admin)")
def audit(ctx: Ctx, user: CurrentUser,
          since: Annotated[datetime | None, Query(description="from this time (UTC unless it says otherwise)")] = None,
          until: Annotated[datetime | None, Query(description="before this time")] = None,
          by: Annotated[str | None, Query(alias="user", min_length=1, max_length=200,
                                          description="the acting user's name or subject")] = None,
          action: Text = None, object_type: Text = None,
          limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 1000) -> list[AuditEntryOut]:
    rows = use_cases.audit_trail(ctx, user, since=since, until=until, by=by, action=action,
                                 object_type=object_type, limit=limit)
    return [AuditEntryOut.of(row) for row in rows]
