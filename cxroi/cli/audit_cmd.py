"""``cxroi audit``: the append-only audit trail (who did what to which object, when)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from cxroi.cli.acting import cli_user, context
from cxroi.cli.output import print_table
from cxroi.errors import CxroiError


def parse_when(text: str, option: str) -> datetime:
    """A date (YYYY-MM-DD) or ISO date-time; one without a time zone is UTC."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CxroiError(f"{option}: expected a date like 2026-12-01 or 2026-12-01T09:30, got '{text}'") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@click.command()
@click.option("--since", default=None, metavar="DATE", help="from this date or time on (UTC unless it says)")
@click.option("--until", default=None, metavar="DATE", help="before this date or time")
@click.option("--user", "by", default=None, help="only what this user did (name or subject)")
@click.option("--action", default=None,
              help="only this action (sign_in, save, delete, approve, export, retrain, promote, …)")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True, help="at most this many rows")
def audit(since: str | None, until: str | None, by: str | None, action: str | None, limit: int) -> None:
    """The audit trail, newest first. It is append-only: rows are never changed or deleted."""
    from cxroi import service

    start = parse_when(since, "--since") if since else None
    end = parse_when(until, "--until") if until else None
    with context() as ctx:
        entries = service.audit_trail(ctx, cli_user(), since=start, until=end, by=by, action=action, limit=limit)
    if not entries:
        click.echo("no audit entries match")
        return
    print_table([{"#": e.id, "at (UTC)": f"{e.at:%Y-%m-%d %H:%M:%S}", "user": e.user, "action": e.action,
                  "object": f"{e.object_type} {e.object_id or ''}".strip(),
                  "detail": json.dumps(e.detail, ensure_ascii=False, default=str)} for e in entries],
                title="Audit trail")
