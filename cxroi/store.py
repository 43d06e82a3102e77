"""Saved scenarios and forecast runs in a database (SQLAlchemy Core).

Where the data lives:

* ``CXROI_DATABASE_URL`` — any SQLAlchemy URL, e.g. ``postgresql+psycopg://user@host/cxroi`` for
  a shared deployment (install the driver yourself; cxroi does not depend on one);
* otherwise a SQLite file ``cxroi.db`` in ``CXROI_HOME`` when set, else in ``.cxroi/`` under the
  working directory. SQLite runs in WAL mode with a busy timeout, and every transaction starts
  with ``BEGIN IMMEDIATE`` so a read-then-write (next version number) cannot interleave with
  another process.

Scenarios are versioned: saving a name again adds version n+1 and never overwrites. Deleting marks
versions as deleted (they disappear from list/get) but keeps their numbers taken, so a version
number always means one scenario body — forecast runs that cite it stay truthful. On any backend
a unique constraint on (name, version) guards the numbering, and a save that loses a race retries.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from cxroi.errors import CxroiError

DATABASE_URL_ENV = "CXROI_DATABASE_URL"
HOME_ENV = "CXROI_HOME"
SQLITE_BUSY_TIMEOUT_MS = 30_000
MAX_NAME_LENGTH = 200
_SAVE_ATTEMPTS = 20
_SCHEMA_LOCK_KEY = 0x637872_6F69  # any constant shared by every cxroi process ("cxroi")

metadata = MetaData()

scenarios_table = Table(
    "scenarios",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(MAX_NAME_LENGTH), nullable=False),
    Column("version", Integer, nullable=False),
    Column("body", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("name", "version", name="uq_scenarios_name_version"),
)

runs_table = Table(
    "forecast_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scenario_name", String(MAX_NAME_LENGTH), nullable=False),
    Column("scenario_version", Integer, nullable=True),
    Column("model_id", String(MAX_NAME_LENGTH), nullable=False),
    Column("summary", JSON, nullable=False),
    Column("output", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


class StoreError(CxroiError):
    """The store could not be opened, or a scenario or version does not exist."""


@dataclass(frozen=True)
class SavedScenario:
    """One stored version of a scenario; ``body`` is the scenario as a JSON-ready dict."""

    name: str
    version: int
    body: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class ScenarioListing:
    """A scenario name with its latest live version and how many live versions it has."""

    name: str
    latest_version: int
    versions: int
    updated_at: datetime


@dataclass(frozen=True)
class ForecastRun:
    """A recorded forecast: which scenario version and model, the summary, where it was written."""

    id: int
    scenario_name: str
    scenario_version: int | None
    model_id: str
    summary: dict[str, Any]
    output: str | None
    created_at: datetime


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


class Store:
    """Saved scenarios and forecast runs. ``url`` defaults to :func:`default_database_url`."""

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
        """Create the tables that are missing, one process at a time: two PostgreSQL sessions
        creating the same table at once make the slower one fail on the system catalogue's unique
        index, so there a transaction-scoped advisory lock serialises them (SQLite's BEGIN
        IMMEDIATE already does)."""
        with self.engine.begin() as connection:
            if self.engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
            metadata.create_all(connection)

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

    def save_scenario(self, name: str, body: dict[str, Any]) -> SavedScenario:
        """Store ``body`` as the next version of ``name`` (1 for a new name) and return it."""
        name = _check_name(name)
        for _ in range(_SAVE_ATTEMPTS):
            try:
                with self._transaction() as connection:
                    latest = connection.execute(
                        select(func.max(scenarios_table.c.version)).where(scenarios_table.c.name == name)
                    ).scalar()
                    version = (latest or 0) + 1
                    created_at = datetime.now(UTC)
                    connection.execute(insert(scenarios_table).values(
                        name=name, version=version, body=body, created_at=created_at))
                return SavedScenario(name, version, body, created_at)
            except IntegrityError:
                continue  # another writer took this version number first: read the new maximum
        raise StoreError(f"could not save scenario '{name}': {_SAVE_ATTEMPTS} concurrent attempts collided")

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
        query = (select(t.c.name, t.c.version, t.c.body, t.c.created_at)
                 .where(t.c.name == name.strip(), t.c.deleted_at.is_(None)).order_by(t.c.version))
        with self._transaction() as connection:
            rows = connection.execute(query).all()
        return [SavedScenario(n, v, body, _utc(created)) for n, v, body, created in rows]

    def get_scenario(self, name: str, version: int | None = None) -> SavedScenario:
        """The latest live version of ``name``, or the given ``version``."""
        live = self.versions(name)
        if not live:
            raise StoreError(f"no saved scenario named '{name.strip()}'")
        if version is None:
            return live[-1]
        for saved in live:
            if saved.version == version:
                return saved
        raise StoreError(f"scenario '{name.strip()}' has no version {version} "
                         f"(saved versions: {', '.join(str(s.version) for s in live)})")

    def find_version(self, name: str, body: dict[str, Any]) -> int | None:
        """The newest live version of ``name`` whose body equals ``body``, if any."""
        for saved in reversed(self.versions(name)):
            if saved.body == body:
                return saved.version
        return None

    def delete_scenario(self, name: str, version: int | None = None) -> int:
        """Delete one version (or, with ``version`` None, every version) of ``name``; returns how
        many versions were deleted. Their numbers are never reused."""
        self.get_scenario(name, version)  # raises a clear error when there is nothing to delete
        t = scenarios_table
        condition = (t.c.name == name.strip()) & t.c.deleted_at.is_(None)
        if version is not None:
            condition &= t.c.version == version
        with self._transaction() as connection:
            result = connection.execute(update(t).where(condition).values(deleted_at=datetime.now(UTC)))
        return int(result.rowcount)

    # -- forecast runs ---------------------------------------------------------------------------

    def record_run(self, scenario_name: str, scenario_version: int | None, model_id: str,
                   summary: dict[str, Any], output: str | None = None) -> ForecastRun:
        """Record a forecast of a scenario (version None: not a saved version) with a model."""
        created_at = datetime.now(UTC)
        values = dict(scenario_name=_check_name(scenario_name), scenario_version=scenario_version,
                      model_id=model_id, summary=summary, output=output, created_at=created_at)
        with self._transaction() as connection:
            run_id = connection.execute(insert(runs_table).values(**values)).inserted_primary_key[0]
        return ForecastRun(id=int(run_id), **values)

    def list_runs(self, scenario_name: str | None = None) -> list[ForecastRun]:
        """Recorded forecast runs, newest first, optionally for one scenario name."""
        t = runs_table
        query = select(t).order_by(t.c.id.desc())
        if scenario_name is not None:
            query = query.where(t.c.scenario_name == scenario_name.strip())
        with self._transaction() as connection:
            rows = connection.execute(query).mappings().all()
        return [ForecastRun(**{**row, "created_at": _utc(row["created_at"])}) for row in rows]
