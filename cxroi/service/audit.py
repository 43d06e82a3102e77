"""The audit trail as the use cases write and read it: sign-in, other recorded actions, queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cxroi.service.context import Context
from cxroi.service.identity import Permission, User
from cxroi.store import Actor, AuditEntry


def actor(user: User) -> Actor:
    """How the store records ``user``."""
    return Actor(name=user.name, subject=user.subject)


def sign_in(ctx: Context, user: User, detail: dict[str, Any] | None = None) -> AuditEntry:
    """Record that ``user`` signed in (call once per sign-in; ``detail`` e.g. the client or the
    roles claim). Local mode counts as a sign-in of the local user."""
    roles = [r.value for r in user.sorted_roles]
    return ctx.store.append_audit(actor(user), "sign_in", "session", user.subject,
                                  {"roles": roles, "local": user.local, **(detail or {})})


def record_action(ctx: Context, user: User, action: str, object_type: str, object_id: str | None = None,
                  detail: dict[str, Any] | None = None) -> AuditEntry:
    """Append a change made outside the use cases (e.g. a panel upload) to the audit trail."""
    return ctx.store.append_audit(actor(user), action, object_type, object_id, detail)


def audit_trail(ctx: Context, user: User, since: datetime | None = None, until: datetime | None = None,
                by: str | None = None, action: str | None = None, object_type: str | None = None,
                object_id: str | None = None, limit: int | None = None) -> list[AuditEntry]:
    """Audit rows, newest first, filtered by time (UTC; ``since`` inclusive, ``until`` exclusive),
    the acting user (``by``: name or subject), ``action``, ``object_type`` and ``object_id``
    (e.g. "scenario", "Plan v2"). Needs AUDIT."""
    user.require(Permission.AUDIT, "read the audit trail")
    return ctx.store.audit_entries(since=since, until=until, user=by, action=action, object_type=object_type,
                                   object_id=object_id, limit=limit)
