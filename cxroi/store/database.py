"""The :class:`Store`: scenarios (versioned, optimistic concurrency), forecast runs, decision
records and the audit trail on one SQLAlchemy engine (see the package's description)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, insert, select, true, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from cxroi.store.records import (
    Actor,
    AuditEntry,
    ConflictError,
    Decision,
    ForecastRun,
    NotFound,
    SavedScenario,
    ScenarioListing,
    StoreError,
)
from cxroi.store.schema import (
    MAX_NAME_LENGTH,
    audit_table,
    create_schema,
    decisions_table,
    runs_table,
    scenarios_table,
)

DATABASE_URL_ENV = "CXROI_DATABASE_URL"
HOME_ENV = "CXROI_HOME"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_SAVE_ATTEMPTS = 20
_UNCHECKED = object()  # a save that states no base version to check


def default_database_url() -> str:
    """``CXROI_DATABASE_URL`` if set, else the SQLite file under ``CXROI_HOME`` or ``./.cxroi``."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if url:
        return url
    home = Path(os.environ.get(HOME_ENV) or Path.cwd() / ".cxroi")
    return f"sqlite:///{home / 'cxroi.db'}"


def _utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _in_utc(value: datetime) -> datetime:
    """A time to compare with stored ones: UTC (a naive time is taken as UTC; SQLite stores none)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _configure_sqlite(engine: Engine) -> None:
    """WAL journal, busy timeout and ``BEGIN IMMEDIATE`` transactions for a SQLite engine.

    pysqlite's own transaction handling is switched off (isolation_level None) so that the
    ``begin`` event below decides how a transaction starts.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _reason(exc: Exception) -> object:
    """The driver's own message when there is one (shorter than SQLAlchemy's wrapper)."""
    return getattr(exc, "orig", None) or exc


def _check_name(name: str) -> str:
    cleaned = (name or "").strip()
    if not cleaned:
        raise StoreError("a scenario needs a non-empty name")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise StoreError(f"scenario name is {len(cleaned)} characters long; the limit is {MAX_NAME_LENGTH}")
    return cleaned


def _audit_values(actor: Actor, action: str, object_type: str, object_id: str | None,
                  detail: dict[str, Any] | None) -> dict[str, Any]:
    return dict(at=datetime.now(UTC), user=actor.name, subject=actor.subject, action=action,
                object_type=object_type, object_id=object_id, detail=detail or {})


def _decision(row: Any) -> Decision:
    return Decision(**{**row, "approved_at": _utc(row["approved_at"])})


class Store:
    """Saved scenarios, forecast runs, decisions and the audit trail. ``url`` defaults to
    :func:`default_database_url`."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_database_url()
        try:
            self.engine = self._open(self.url)
            self._create_tables()
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"cannot open the scenario store at {self._safe_url()}: {_reason(exc)}") from exc
        except ModuleNotFoundError as exc:
            raise StoreError(
                f"the database driver '{exc.name}' for {self._safe_url()} is not installed"
            ) from exc

    def _safe_url(self) -> str:
        """The URL with any password masked, for messages."""
        from sqlalchemy.engine import make_url

        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except Exception:
            return "<invalid database URL>"

    @staticmethod
    def _open(url: str) -> Engine:
        engine = create_engine(url)
        if engine.dialect.name == "sqlite":
            database = engine.url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            _configure_sqlite(engine)
        return engine

    def _create_tables(self) -> None:
        with self.engine.begin() as connection:
            create_schema(connection)

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except (IntegrityError, StoreError):
            raise
        except SQLAlchemyError as exc:
            raise StoreError(f"scenario store {self._safe_url()}: {_reason(exc)}") from exc

    # -- scenarios -------------------------------------------------------------------------------

    def save_scenario(self, name: str, body: dict[str, Any], *, actor: Actor | None = None,
                      model_id: str | None = None, base_version: int | None = None,
                      check_base: bool = False) -> SavedScenario:
        """Store ``body`` as the next version of ``name`` (1 for a new name) and return it.

        With ``check_base`` the save is based on ``base_version`` (None: a new name) and raises
        :class:`ConflictError` when the name's latest live version is another one. ``actor``
        (recorded as ``saved_by`` and in the audit trail) and ``model_id`` (the model the scenario
        was valued on) are stored with the version."""
        name = _check_name(name)
        t = scenarios_table
        for _ in range(_SAVE_ATTEMPTS):
            try:
                with self._transaction() as connection:
                    version = self._next_version(connection, name, base_version if check_base else _UNCHECKED)
                    created_at = datetime.now(UTC)
                    saved_by = actor.name if actor else None
                    connection.execute(insert(t).values(name=name, version=version, body=body, created_at=created_at,
                                                        saved_by=saved_by, model_id=model_id))
                    if actor:
                        self._audit(connection, actor, "save", "scenario", f"{name} v{version}",
                                    {"name": name, "version": version, "base_version": base_version,
                                     "model_id": model_id})
                return SavedScenario(name, version, body, created_at, saved_by, model_id)
            except IntegrityError:
                continue  # another writer took this version number first: read the new maximum
        raise StoreError(f"could not save scenario '{name}': {_SAVE_ATTEMPTS} concurrent attempts collided")

    @staticmethod
    def _next_version(connection: Connection, name: str, base_version: int | object | None) -> int:
        """The next version number of ``name``; with a ``base_version`` (None: a new name) raise
        :class:`ConflictError` when the latest live version is another. The highest version and
        the latest live one are read in one statement, so on PostgreSQL (read committed: each
        statement sees what was committed when it started) they describe the same moment; a
        version saved after it makes the insert collide and the save retries."""
        t = scenarios_table
        latest_live = (select(t.c.version).where(t.c.name == name, t.c.deleted_at.is_(None))
                       .order_by(t.c.version.desc()).limit(1).scalar_subquery())
        top, live = connection.execute(select(func.max(t.c.version), latest_live).where(t.c.name == name)).one()
        if base_version is not _UNCHECKED and live is not None and live != base_version:
            saved_by, saved_at = connection.execute(
                select(t.c.saved_by, t.c.created_at).where(t.c.name == name, t.c.version == live)).one()
            raise ConflictError(name, base_version, live, saved_by, _utc(saved_at))
        return (top or 0) + 1

    def list_scenarios(self) -> list[ScenarioListing]:
        """Every scenario name with live versions, sorted by name."""
        t = scenarios_table
        query = (
            select(t.c.name, func.max(t.c.version), func.count(), func.max(t.c.created_at))
            .where(t.c.deleted_at.is_(None)).group_by(t.c.name).order_by(t.c.name)
        )
        with self._transaction() as connection:
            rows = connection.execute(query).all()
        return [ScenarioListing(name, latest, count, _utc(updated)) for name, latest, count, updated in rows]

    def versions(self, name: str) -> list[SavedScenario]:
        """All live versions of ``name``, oldest first (empty when the name is unknown)."""
        t = scenarios_table
        query = (select(t.c.name, t.c.version, t.c.body, t.c.created_at, t.c.saved_by, t.c.model_id)
                 .where(t.c.name == name.strip(), t.c.deleted_at.is_(None)).order_by(t.c.version))
        with self._transaction() as connection:
            rows = connection.execute(query).all()
        return [SavedScenario(n, v, body, _utc(created), by, model) for n, v, body, created, by, model in rows]

    def get_scenario(self, name: str, version: int | None = None) -> SavedScenario:
        """The latest live version of ``name``, or the given ``version``."""
        live = self.versions(name)
        if not live:
            raise NotFound(f"no saved scenario named '{name.strip()}'")
        if version is None:
            return live[-1]
        for saved in live:
            if saved.version == version:
                return saved
        raise NotFound(f"scenario '{name.strip()}' has no version {version} "
                       f"(saved versions: {', '.join(str(s.version) for s in live)})")

    def find_version(self, name: str, body: dict[str, Any]) -> int | None:
        """The newest live version of ``name`` whose body equals ``body``, if any."""
        for saved in reversed(self.versions(name)):
            if saved.body == body:
                return saved.version
        return None

    def delete_scenario(self, name: str, version: int | None = None, *, actor: Actor | None = None) -> int:
        """Delete one version (or, with ``version`` None, every version) of ``name``; returns how
        many versions were deleted. Their numbers are never reused. An approved version (one a
        decision record cites) cannot be deleted."""
        self.get_scenario(name, version)  # raises a clear error when there is nothing to delete
        name = name.strip()
        t, d = scenarios_table, decisions_table
        condition = (t.c.name == name) & t.c.deleted_at.is_(None)
        if version is not None:
            condition &= t.c.version == version
        with self._transaction() as connection:
            # mark first (locking the rows an approval must lock too), then look for decisions: one
            # committed meanwhile is seen, and the refusal rolls the marking back
            result = connection.execute(update(t).where(condition).values(deleted_at=datetime.now(UTC)))
            approved = connection.execute(
                select(d.c.scenario_version, d.c.id).where(d.c.scenario_name == name)
                .where(d.c.scenario_version == version if version is not None else true())
                .order_by(d.c.id)).all()
            if approved:
                cited = "; ".join(f"version {v} by decision {i}" for v, i in approved)
                raise StoreError(f"scenario '{name}' has approved versions, which cannot be deleted ({cited}); "
                                 "a decision record is superseded by approving a newer version, never removed")
            if actor:
                self._audit(connection, actor, "delete", "scenario", name if version is None else f"{name} v{version}",
                            {"name": name, "version": version, "versions_deleted": int(result.rowcount)})
        return int(result.rowcount)

    # -- forecast runs ---------------------------------------------------------------------------

    def record_run(self, scenario_name: str, scenario_version: int | None, model_id: str,
                   summary: dict[str, Any], output: str | None = None, *, actor: Actor | None = None,
                   decision_id: int | None = None, detail: dict[str, Any] | None = None) -> ForecastRun:
        """Record a forecast of a scenario (version None: not a saved version) with a model; with
        ``actor`` the export is written to the audit trail too (``detail`` added to its row)."""
        created_at = datetime.now(UTC)
        values = dict(scenario_name=_check_name(scenario_name), scenario_version=scenario_version,
                      model_id=model_id, summary=summary, output=output, created_at=created_at,
                      requested_by=actor.name if actor else None, decision_id=decision_id)
        with self._transaction() as connection:
            run_id = int(connection.execute(insert(runs_table).values(**values)).inserted_primary_key[0])
            if actor:
                self._audit(connection, actor, "export", "forecast_run", str(run_id),
                            {"scenario": scenario_name, "version": scenario_version, "model_id": model_id,
                             "decision_id": decision_id, **(detail or {})})
        return ForecastRun(id=run_id, **values)

    def list_runs(self, scenario_name: str | None = None) -> list[ForecastRun]:
        """Recorded forecast runs, newest first, optionally for one scenario name."""
        t = runs_table
        query = select(t).order_by(t.c.id.desc())
        if scenario_name is not None:
            query = query.where(t.c.scenario_name == scenario_name.strip())
        with self._transaction() as connection:
            rows = connection.execute(query).mappings().all()
        return [ForecastRun(**{**row, "created_at": _utc(row["created_at"])}) for row in rows]

    # -- decisions -------------------------------------------------------------------------------

    def record_decision(self, saved: SavedScenario, model_id: str, data_fingerprint: str | None,
                        forecast: dict[str, Any], caveats: list[dict[str, Any]], actor: Actor) -> Decision:
        """Record the approval of the saved scenario version ``saved`` as a new decision, mark the
        scenario name's current decision (if any) superseded by it, and audit it — in one
        transaction. The version must still be live."""
        d, t = decisions_table, scenarios_table
        approved_at = datetime.now(UTC)
        values = dict(scenario_name=saved.name, scenario_version=saved.version, scenario_body=saved.body,
                      model_id=model_id, data_fingerprint=data_fingerprint, forecast=forecast, caveats=caveats,
                      approved_by=actor.name, approver_subject=actor.subject, approved_at=approved_at)
        with self._transaction() as connection:
            # every version of the name stays locked until the decision is committed: approvals of one
            # scenario follow each other (each supersedes the one before) and a deletion waits
            versions = connection.execute(select(t.c.version, t.c.deleted_at).where(t.c.name == saved.name)
                                          .with_for_update()).all()
            if not any(v == saved.version and deleted is None for v, deleted in versions):
                raise NotFound(f"scenario '{saved.name}' has no live version {saved.version} to approve")
            decision_id = int(connection.execute(insert(d).values(**values)).inserted_primary_key[0])
            previous = connection.execute(select(d.c.id).where(
                d.c.scenario_name == saved.name, d.c.superseded_by.is_(None), d.c.id != decision_id)).scalars().all()
            if previous:
                connection.execute(update(d).where(d.c.id.in_(previous)).values(superseded_by=decision_id))
            self._audit(connection, actor, "approve", "decision", str(decision_id),
                        {"scenario": saved.name, "version": saved.version, "model_id": model_id,
                         "supersedes": list(previous)})
        return Decision(id=decision_id, **values)

    def list_decisions(self, scenario_name: str | None = None) -> list[Decision]:
        """Decision records, newest first, optionally of one scenario name."""
        d = decisions_table
        query = select(d).order_by(d.c.id.desc())
        if scenario_name is not None:
            query = query.where(d.c.scenario_name == scenario_name.strip())
        with self._transaction() as connection:
            rows = connection.execute(query).mappings().all()
        return [_decision(row) for row in rows]

    def get_decision(self, decision_id: int) -> Decision:
        """One decision record by id."""
        with self._transaction() as connection:
            row = connection.execute(select(decisions_table).where(decisions_table.c.id == decision_id)).mappings().first()
        if row is None:
            raise NotFound(f"no decision record {decision_id}")
        return _decision(row)

    def decision_of(self, scenario_name: str, version: int) -> Decision | None:
        """The newest decision record of that scenario version (current or superseded), if any."""
        d = decisions_table
        query = (select(d).where(d.c.scenario_name == scenario_name.strip(), d.c.scenario_version == version)
                 .order_by(d.c.id.desc()).limit(1))
        with self._transaction() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _decision(row)

    def current_decision(self, scenario_name: str, version: int | None = None) -> Decision | None:
        """The decision not superseded of ``scenario_name`` (and of that ``version`` if given), if any."""
        for decision in self.list_decisions(scenario_name):
            if decision.current and (version is None or decision.scenario_version == version):
                return decision
        return None

    # -- audit trail -----------------------------------------------------------------------------

    @staticmethod
    def _audit(connection: Connection, actor: Actor, action: str, object_type: str, object_id: str | None,
               detail: dict[str, Any] | None) -> None:
        connection.execute(insert(audit_table).values(**_audit_values(actor, action, object_type, object_id, detail)))

    def append_audit(self, actor: Actor, action: str, object_type: str, object_id: str | None = None,
                     detail: dict[str, Any] | None = None) -> AuditEntry:
        """Append one row to the audit trail (for changes made outside the store: sign-in,
        promotion, training). There is no way to change or remove a row."""
        values = _audit_values(actor, action, object_type, object_id, detail)
        with self._transaction() as connection:
            entry_id = int(connection.execute(insert(audit_table).values(**values)).inserted_primary_key[0])
        return AuditEntry(id=entry_id, **values)

    def audit_entries(self, since: datetime | None = None, until: datetime | None = None, user: str | None = None,
                      action: str | None = None, object_type: str | None = None, object_id: str | None = None,
                      limit: int | None = None) -> list[AuditEntry]:
        """Audit rows, newest first: at or after ``since``, before ``until`` (UTC), of a ``user``
        (its name or subject), an ``action``, an ``object_type`` and ``object_id``; at most
        ``limit`` rows."""
        a = audit_table
        query = select(a).order_by(a.c.id.desc())
        if since is not None:
            query = query.where(a.c.at >= _in_utc(since))
        if until is not None:
            query = query.where(a.c.at < _in_utc(until))
        if user is not None:
            query = query.where((a.c.user == user) | (a.c.subject == user))
        if action is not None:
            query = query.where(a.c.action == action)
        if object_type is not None:
            query = query.where(a.c.object_type == object_type)
        if object_id is not None:
            query = query.where(a.c.object_id == object_id)
        if limit is not None:
            query = query.limit(limit)
        with self._transaction() as connection:
            rows = connection.execute(query).mappings().all()
        return [AuditEntry(**{**row, "at": _utc(row["at"])}) for row in rows]
