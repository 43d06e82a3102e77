"""Opening a database written before users, pinned models, decisions and the audit trail existed
adds what is missing and keeps every row: a real SQLite file written by that version
(data/cxroi-0.1-before-users.db: "Portal for SMB" version 1 deleted, version 2 live, one forecast
run of version 2), and the same schema created on PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
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
    insert,
)
from sqlalchemy.exc import DBAPIError

from cxroi.store import Actor, Store

pytestmark = pytest.mark.xdist_group("store")

OLD_FILE = Path(__file__).parent / "data" / "cxroi-0.1-before-users.db"


def _old_schema() -> MetaData:
    """The tables as cxroi 0.1 defined them (before saved_by, model_id, decisions and audit)."""
    old = MetaData()
    Table("scenarios", old, Column("id", Integer, primary_key=True, autoincrement=True),
          Column("name", String(200), nullable=False), Column("version", Integer, nullable=False),
          Column("body", JSON, nullable=False), Column("created_at", DateTime(timezone=True), nullable=False),
          Column("deleted_at", DateTime(timezone=True), nullable=True),
          UniqueConstraint("name", "version", name="uq_scenarios_name_version"))
    Table("forecast_runs", old, Column("id", Integer, primary_key=True, autoincrement=True),
          Column("scenario_name", String(200), nullable=False), Column("scenario_version", Integer, nullable=True),
          Column("model_id", String(200), nullable=False), Column("summary", JSON, nullable=False),
          Column("output", Text, nullable=True), Column("created_at", DateTime(timezone=True), nullable=False))
    return old


def _check_upgraded(store: Store) -> None:
    saved = store.get_scenario("Portal for SMB")
    assert (saved.version, saved.body["budget"], saved.saved_by, saved.model_id) == (2, 200, None, None)
    assert [s.version for s in store.versions("Portal for SMB")] == [2]  # the deletion survived
    (run,) = store.list_runs()
    assert (run.scenario_version, run.model_id, run.output, run.requested_by) == (2, "bayes-old", "old.xlsx", None)
    ann = Actor("Ann", "ann")
    newer = store.save_scenario("Portal for SMB", {"budget": 300}, actor=ann, model_id="bayes-new",
                                base_version=2, check_base=True)
    assert newer.version == 3  # version 1 stays taken
    decision = store.record_decision(newer, "bayes-new", None, {}, [], ann)
    assert [e.action for e in store.audit_entries()] == ["approve", "save"]
    assert store.get_decision(decision.id).approved_by == "Ann"


def test_an_old_sqlite_file_gains_the_new_columns_tables_and_triggers(tmp_path: Path) -> None:
    path = tmp_path / "cxroi.db"
    shutil.copy(OLD_FILE, path)
    with sqlite3.connect(path) as raw:
        assert {r[1] for r in raw.execute("PRAGMA table_info(scenarios)")} == {
            "id", "name", "version", "body", "created_at", "deleted_at"}  # really the old layout
    with Store(f"sqlite:///{path}") as store:
        _check_upgraded(store)
    with Store(f"sqlite:///{path}") as again:  # opening an upgraded file again changes nothing
        assert again.get_scenario("Portal for SMB").version == 3
    raw = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("DELETE FROM audit")
        triggers = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    finally:
        raw.close()
    assert triggers == {"audit_no_update", "audit_no_delete", "decisions_no_delete", "decisions_only_superseded"}


def test_an_old_postgresql_database_is_upgraded(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    old = _old_schema()
    at = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as connection:
        old.create_all(connection)
        scenarios, runs = old.tables["scenarios"], old.tables["forecast_runs"]
        connection.execute(insert(scenarios), [
            {"name": "Portal for SMB", "version": 1, "body": {"budget": 100}, "created_at": at, "deleted_at": at},
            {"name": "Portal for SMB", "version": 2, "body": {"budget": 200}, "created_at": at,
             "deleted_at": None}])
        connection.execute(insert(runs).values(scenario_name="Portal for SMB", scenario_version=2, model_id="bayes-old",
                                               summary={"npv": {"p50": 10.0}}, output="old.xlsx", created_at=at))
    engine.dispose()
    with Store(postgres_url) as store:
        _check_upgraded(store)
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE audit SET action = 'nothing'")
