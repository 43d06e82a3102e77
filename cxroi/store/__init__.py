"""Saved scenarios, forecast runs, decision records and the audit trail in a database
(SQLAlchemy Core).

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
A save can state the version it was based on (optimistic concurrency): when another version was
saved since, it raises :class:`ConflictError` naming that version and who saved it.

Decision records (an approved scenario version with its forecast) are immutable: the only change
ever made to one is marking it superseded by a newer decision of the same scenario. The audit
trail is append-only. The store offers no other update or delete for either, and database
triggers reject any other UPDATE or DELETE (on SQLite and PostgreSQL alike), so raw SQL cannot
rewrite them either. Every change made through the store (save, delete, approve, a recorded
export) writes its audit row in the same transaction.

Opening a store creates missing tables, adds columns missing from a database written by an older
cxroi (all new columns are nullable) and installs the triggers.
"""

from cxroi.store.database import (
    DATABASE_URL_ENV,
    HOME_ENV,
    SQLITE_BUSY_TIMEOUT_MS,
    Store,
    default_database_url,
)
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
    decisions_table,
    metadata,
    runs_table,
    scenarios_table,
)

__all__ = [
    "DATABASE_URL_ENV", "HOME_ENV", "MAX_NAME_LENGTH", "SQLITE_BUSY_TIMEOUT_MS", "Actor", "AuditEntry",
    "ConflictError", "Decision", "ForecastRun", "NotFound", "SavedScenario", "ScenarioListing", "Store",
    "StoreError", "audit_table", "decisions_table", "default_database_url", "metadata", "runs_table",
    "scenarios_table",
]
