"""The store's tables, the triggers that keep the audit trail append-only and decision records
immutable, and the upgrade of a database written by an older cxroi (missing columns added)."""

from __future__ import annotations

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
    inspect,
    text,
)
from sqlalchemy.engine import Connection

MAX_NAME_LENGTH = 200
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
    Column("saved_by", String(MAX_NAME_LENGTH), nullable=True),  # None: saved before users were recorded
    Column("model_id", String(MAX_NAME_LENGTH), nullable=True),  # the model it was valued on (pinned)
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
    Column("requested_by", String(MAX_NAME_LENGTH), nullable=True),
    Column("decision_id", Integer, nullable=True),  # the decision record the export is of, if any
)

decisions_table = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scenario_name", String(MAX_NAME_LENGTH), nullable=False),
    Column("scenario_version", Integer, nullable=False),
    Column("scenario_body", JSON, nullable=False),
    Column("model_id", String(MAX_NAME_LENGTH), nullable=False),
    Column("data_fingerprint", String(MAX_NAME_LENGTH), nullable=True),
    Column("forecast", JSON, nullable=False),  # quantiles, summary table, per-draw NPV and ROI
    Column("caveats", JSON, nullable=False),
    Column("approved_by", String(MAX_NAME_LENGTH), nullable=False),
    Column("approver_subject", String(MAX_NAME_LENGTH), nullable=False),
    Column("approved_at", DateTime(timezone=True), nullable=False),
    Column("superseded_by", Integer, nullable=True),  # the newer decision of the same scenario name
)

audit_table = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("user", String(MAX_NAME_LENGTH), nullable=False),
    Column("subject", String(MAX_NAME_LENGTH), nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_type", String(64), nullable=False),
    Column("object_id", String(2 * MAX_NAME_LENGTH), nullable=True),
    Column("detail", JSON, nullable=False),
)

_APPEND_ONLY = "the audit trail is append-only: its rows cannot be changed or deleted"
_IMMUTABLE = "decision records are immutable: one can only be marked superseded by a newer decision, once"

def _sqlite_triggers() -> list[str]:
    """Triggers that make the audit trail append-only and decision records immutable in SQLite."""
    others = [c.name for c in decisions_table.columns if c.name != "superseded_by"]
    changed = " OR ".join(f'NEW."{name}" IS NOT OLD."{name}"' for name in others)
    return [
        f"CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit "
        f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END",
        f"CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit "
        f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END",
        f"CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions "
        f"BEGIN SELECT RAISE(ABORT, '{_IMMUTABLE}'); END",
        f"CREATE TRIGGER IF NOT EXISTS decisions_only_superseded BEFORE UPDATE ON decisions "
        f"WHEN OLD.superseded_by IS NOT NULL OR NEW.superseded_by IS NULL OR NEW.superseded_by <= OLD.id "
        f"OR {changed} BEGIN SELECT RAISE(ABORT, '{_IMMUTABLE}'); END",
    ]


def _postgresql_triggers() -> list[str]:
    """The same rules as :func:`_sqlite_triggers` for PostgreSQL (TRUNCATE refused too)."""
    return [
        f"""CREATE OR REPLACE FUNCTION cxroi_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END $$""",
        "CREATE OR REPLACE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
        "FOR EACH ROW EXECUTE FUNCTION cxroi_audit_append_only()",
        "CREATE OR REPLACE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit "
        "FOR EACH STATEMENT EXECUTE FUNCTION cxroi_audit_append_only()",
        f"""CREATE OR REPLACE FUNCTION cxroi_decisions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND OLD.superseded_by IS NULL AND NEW.superseded_by > OLD.id
             AND (to_jsonb(NEW) - 'superseded_by') = (to_jsonb(OLD) - 'superseded_by') THEN
            RETURN NEW;
          END IF;
          RAISE EXCEPTION '{_IMMUTABLE}';
        END $$""",
        "CREATE OR REPLACE TRIGGER decisions_immutable BEFORE UPDATE OR DELETE ON decisions "
        "FOR EACH ROW EXECUTE FUNCTION cxroi_decisions_immutable()",
        "CREATE OR REPLACE TRIGGER decisions_no_truncate BEFORE TRUNCATE ON decisions "
        "FOR EACH STATEMENT EXECUTE FUNCTION cxroi_decisions_immutable()",
    ]


def _add_missing_columns(connection: Connection) -> None:
    """Add the columns a database made by an older cxroi lacks (every added column is nullable)."""
    inspector = inspect(connection)
    preparer = connection.dialect.identifier_preparer
    for table in metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                kind = column.type.compile(dialect=connection.dialect)
                connection.execute(text(f"ALTER TABLE {preparer.quote(table.name)} "
                                        f"ADD COLUMN {preparer.quote(column.name)} {kind}"))


def create_schema(connection: Connection) -> None:
    """Create the tables that are missing, add missing columns and install the triggers, one
    process at a time: two PostgreSQL sessions creating the same table at once make the slower
    one fail on the system catalogue's unique index, so there a transaction-scoped advisory lock
    serialises them (SQLite's BEGIN IMMEDIATE already does)."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
    metadata.create_all(connection)
    _add_missing_columns(connection)
    triggers = {"sqlite": _sqlite_triggers, "postgresql": _postgresql_triggers}.get(dialect)
    for statement in triggers() if triggers else ():
        connection.exec_driver_sql(statement)
