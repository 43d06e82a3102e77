"""Decision records and the audit trail in the store, on SQLite and on a real PostgreSQL server:
written with the change they record, never changed or deleted — not through the store's API, and
not by raw SQL either (database triggers) — except a decision marked superseded, once, by a newer
one; and optimistic concurrency on saves."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from threading import Barrier

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from cxroi.store import Actor, ConflictError, NotFound, Store, StoreError

pytestmark = pytest.mark.xdist_group("store")

ANN, BOB = Actor("Ann", "oidc|ann"), Actor("Bob", "oidc|bob")
FORECAST = {"quantiles": [0.5], "summary": {"npv": {"p50": 10.0}}, "per_draw": {"npv": [9.0, 11.0]}}


@pytest.fixture
def store(database_url: str) -> Store:
    with Store(database_url) as opened:
        yield opened


def _raw(url: str, statement: str) -> None:
    """Run one statement outside the store, as anyone with the database's password could."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def _approve(store: Store, name: str = "Plan", actor: Actor = ANN):
    saved = store.save_scenario(name, {"name": name, "k": len(store.versions(name))}, actor=actor)
    return store.record_decision(saved, "bayes-1", "sha256:abc", FORECAST, [{"code": "c"}], actor)


# -- the store's API ------------------------------------------------------------------------------

def test_the_store_offers_append_and_query_only_for_audit_and_decisions() -> None:
    public = {name for name in dir(Store) if not name.startswith("_")}
    touching = {name for name in public if "audit" in name or "decision" in name}
    assert touching == {"append_audit", "audit_entries", "record_decision", "list_decisions", "get_decision",
                        "current_decision", "decision_of"}


def test_every_change_writes_its_audit_row_in_the_same_transaction(store: Store) -> None:
    saved = store.save_scenario("Plan", {"name": "Plan"}, actor=ANN, model_id="bayes-1")
    store.save_scenario("Plan", {"name": "Plan", "x": 1}, actor=BOB, base_version=1, check_base=True)
    decision = store.record_decision(store.get_scenario("Plan"), "bayes-1", None, FORECAST, [], ANN)
    store.record_run("Plan", 2, "bayes-1", {}, actor=BOB, decision_id=decision.id)
    store.delete_scenario("Plan", 1, actor=ANN)
    rows = list(reversed(store.audit_entries()))
    assert [(r.user, r.subject, r.action, r.object_type, r.object_id) for r in rows] == [
        ("Ann", "oidc|ann", "save", "scenario", "Plan v1"),
        ("Bob", "oidc|bob", "save", "scenario", "Plan v2"),
        ("Ann", "oidc|ann", "approve", "decision", str(decision.id)),
        ("Bob", "oidc|bob", "export", "forecast_run", "1"),
        ("Ann", "oidc|ann", "delete", "scenario", "Plan v1"),
    ]
    assert rows[1].detail["base_version"] == 1 and saved.saved_by == "Ann" and saved.model_id == "bayes-1"
    assert store.get_scenario("Plan").saved_by == "Bob"


def test_audit_queries_filter_by_time_user_action_and_object(store: Store) -> None:
    store.append_audit(ANN, "sign_in", "session", ANN.subject)
    store.append_audit(BOB, "promote", "model", "bayes-2", {"reason": "newer data"})
    now = datetime.now(UTC)
    assert [e.action for e in store.audit_entries(user="Bob")] == ["promote"]
    assert [e.action for e in store.audit_entries(user="oidc|ann")] == ["sign_in"]
    assert [e.user for e in store.audit_entries(object_type="model", object_id="bayes-2")] == ["Bob"]
    assert store.audit_entries(since=now + timedelta(minutes=1)) == []
    two_hours_east = timezone(timedelta(hours=2))  # the same instants written in another time zone
    assert store.audit_entries(since=(now + timedelta(minutes=1)).astimezone(two_hours_east)) == []
    assert len(store.audit_entries(since=(now - timedelta(minutes=1)).astimezone(two_hours_east))) == 2
    assert len(store.audit_entries(since=now - timedelta(minutes=1), until=now + timedelta(minutes=1))) == 2
    assert [e.action for e in store.audit_entries(limit=1)] == ["promote"]  # newest first
    assert store.audit_entries(action="promote")[0].detail == {"reason": "newer data"}


def test_a_newer_approval_supersedes_the_current_decision_and_nothing_else(store: Store) -> None:
    first = _approve(store)
    other = _approve(store, name="Other")
    second = _approve(store)
    by_id = {d.id: d for d in store.list_decisions()}
    assert by_id[first.id].superseded_by == second.id and by_id[second.id].current
    assert by_id[other.id].current  # another scenario's decision is untouched
    assert store.current_decision("Plan").id == second.id
    assert store.decision_of("Plan", 1).id == first.id and store.decision_of("Plan", 9) is None
    assert by_id[first.id].forecast == FORECAST and by_id[first.id].scenario_version == 1
    with pytest.raises(NotFound, match="no decision record 999"):
        store.get_decision(999)


def test_an_approved_version_cannot_be_deleted(store: Store) -> None:
    decision = _approve(store)
    with pytest.raises(StoreError, match=rf"approved versions, which cannot be deleted \(version 1 by decision "
                                         rf"{decision.id}\)"):
        store.delete_scenario("Plan", actor=BOB)
    assert store.get_scenario("Plan").version == 1
    assert [e.action for e in store.audit_entries()] == ["approve", "save"]  # the refusal changed nothing


# -- raw SQL --------------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE audit SET \"user\" = 'Mallory'",
    "UPDATE audit SET detail = '{}' WHERE id = 1",
    "DELETE FROM audit",
    "DELETE FROM audit WHERE id = 1",
])
def test_raw_sql_cannot_change_or_delete_audit_rows(store: Store, database_url: str, statement: str) -> None:
    store.append_audit(ANN, "sign_in", "session", ANN.subject)
    with pytest.raises(DBAPIError, match="append-only"):
        _raw(database_url, statement)
    (entry,) = store.audit_entries()
    assert (entry.user, entry.action) == ("Ann", "sign_in")


@pytest.mark.parametrize("statement", [
    "UPDATE decisions SET approved_by = 'Mallory'",
    "UPDATE decisions SET forecast = '{}'",
    "UPDATE decisions SET scenario_version = 7",
    "UPDATE decisions SET superseded_by = id",  # not by a newer decision
    "UPDATE decisions SET superseded_by = id + 1, model_id = 'other'",  # superseding cannot carry an edit
    "DELETE FROM decisions",
])
def test_raw_sql_cannot_edit_or_delete_a_decision(store: Store, database_url: str, statement: str) -> None:
    decision = _approve(store)
    with pytest.raises(DBAPIError, match="immutable"):
        _raw(database_url, statement)
    assert store.get_decision(decision.id) == decision


def test_a_superseded_decision_cannot_be_superseded_again_or_revived(store: Store, database_url: str) -> None:
    first = _approve(store)
    second = _approve(store)
    third_id = second.id + 1
    for statement in (f"UPDATE decisions SET superseded_by = NULL WHERE id = {first.id}",
                      f"UPDATE decisions SET superseded_by = {third_id} WHERE id = {first.id}"):
        with pytest.raises(DBAPIError, match="immutable"):
            _raw(database_url, statement)
    assert store.get_decision(first.id).superseded_by == second.id


def test_postgresql_refuses_truncating_audit_and_decisions(postgres_url: str) -> None:
    with Store(postgres_url) as store:
        _approve(store)
        for table in ("audit", "decisions"):
            with pytest.raises(DBAPIError, match=r"append-only|immutable"):
                _raw(postgres_url, f"TRUNCATE {table}")
        assert len(store.audit_entries()) == 2 and len(store.list_decisions()) == 1


# -- optimistic concurrency -----------------------------------------------------------------------

def test_a_save_based_on_an_older_version_is_a_conflict_naming_the_newer_one(store: Store) -> None:
    store.save_scenario("Plan", {"v": 1}, actor=ANN, check_base=True)
    store.save_scenario("Plan", {"v": 2}, actor=BOB, base_version=1, check_base=True)
    with pytest.raises(ConflictError) as raised:
        store.save_scenario("Plan", {"v": "Ann's"}, actor=ANN, base_version=1, check_base=True)
    error = raised.value
    assert (error.name, error.base_version, error.latest_version, error.saved_by) == ("Plan", 1, 2, "Bob")
    assert "changed since version 1: version 2 was saved by Bob" in str(error)
    assert [s.body["v"] for s in store.versions("Plan")] == [1, 2]
    assert [e.action for e in store.audit_entries()] == ["save", "save"]  # the refused save is not audited
    with pytest.raises(ConflictError, match="already exists: version 2 was saved by Bob"):
        store.save_scenario("Plan", {"v": 3}, actor=ANN, check_base=True)  # "new" scenario, name taken
    assert store.save_scenario("Plan", {"v": 3}, actor=ANN, base_version=2, check_base=True).version == 3


def test_of_clients_saving_from_the_same_base_at_once_exactly_one_wins(store: Store) -> None:
    store.save_scenario("Plan", {"v": 0}, check_base=True)
    clients = 6
    start = Barrier(clients)

    def save(i: int) -> str:
        start.wait()
        try:
            store.save_scenario("Plan", {"v": i}, actor=Actor(f"user{i}", f"s{i}"), base_version=1,
                                check_base=True)
            return "saved"
        except ConflictError as exc:
            assert exc.latest_version == 2
            return "conflict"

    with ThreadPoolExecutor(max_workers=clients) as pool:
        outcomes = list(pool.map(save, range(clients)))
    assert sorted(outcomes) == ["conflict"] * (clients - 1) + ["saved"]
    assert [s.version for s in store.versions("Plan")] == [1, 2]


def test_an_approval_and_a_deletion_at_once_never_leave_a_deleted_approved_version(store: Store) -> None:
    """Whichever commits first wins: the version is approved and stays, or it is deleted and the
    approval is refused — never a decision citing a deleted version (20 races)."""
    outcomes = set()
    for round_ in range(20):
        name = f"Race {round_}"
        saved = store.save_scenario(name, {"round": round_})
        start = Barrier(2)

        def approve(saved=saved, start=start) -> str:
            start.wait()
            try:
                store.record_decision(saved, "bayes-1", None, FORECAST, [], ANN)
                return "approved"
            except NotFound:
                return "approval refused"

        def delete(name=name, start=start) -> str:
            start.wait()
            try:
                store.delete_scenario(name, 1, actor=BOB)
                return "deleted"
            except StoreError:
                return "deletion refused"

        with ThreadPoolExecutor(max_workers=2) as pool:
            result = {future.result() for future in [pool.submit(approve), pool.submit(delete)]}
        assert result in ({"approved", "deletion refused"}, {"deleted", "approval refused"})
        live = bool(store.versions(name))
        assert live == (store.decision_of(name, 1) is not None)
        outcomes |= result
    assert outcomes  # at least one kind of ending was seen; which one depends on timing


def test_approvals_of_one_scenario_at_once_leave_exactly_one_current_decision(store: Store) -> None:
    versions = [store.save_scenario("Plan", {"k": k}) for k in range(4)]
    start = Barrier(len(versions))

    def approve(saved) -> int:
        start.wait()
        return store.record_decision(saved, "bayes-1", None, FORECAST, [], ANN).id

    with ThreadPoolExecutor(max_workers=len(versions)) as pool:
        ids = sorted(pool.map(approve, versions))
    decisions = {d.id: d for d in store.list_decisions("Plan")}
    assert sorted(decisions) == ids
    assert [d.id for d in decisions.values() if d.current] == [ids[-1]]  # the last committed
    assert [decisions[i].superseded_by for i in ids[:-1]] == ids[1:]  # each superseded by the next
