"""The scenario store: versioning, deletion, forecast runs, configuration and concurrent writers,
on SQLite and on a real PostgreSQL server (``conftest.py``)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import event

from cxroi.store import Store, StoreError, default_database_url

#: one worker starts the PostgreSQL server and runs every store test (with --dist loadgroup)
pytestmark = pytest.mark.xdist_group("store")


@pytest.fixture
def store(database_url: str) -> Store:
    with Store(database_url) as opened:
        yield opened


def test_saving_again_adds_a_version_and_keeps_the_old_ones(store: Store) -> None:
    for budget in (100, 200, 300):
        store.save_scenario("Portal for SMB", {"budget": budget})
    assert [s.version for s in store.versions("Portal for SMB")] == [1, 2, 3]
    assert store.get_scenario("Portal for SMB").body == {"budget": 300}
    assert store.get_scenario("Portal for SMB", version=1).body == {"budget": 100}
    listing = store.list_scenarios()
    assert [(row.name, row.latest_version, row.versions) for row in listing] == [("Portal for SMB", 3, 3)]


def test_names_are_independent_and_listed_in_order(store: Store) -> None:
    store.save_scenario("b", {"k": 1})
    store.save_scenario("a", {"k": 1})
    store.save_scenario("b", {"k": 2})
    assert [(row.name, row.latest_version) for row in store.list_scenarios()] == [("a", 1), ("b", 2)]


def test_unknown_name_or_version_is_a_clear_error(store: Store) -> None:
    with pytest.raises(StoreError, match="no saved scenario named 'ghost'"):
        store.get_scenario("ghost")
    store.save_scenario("real", {})
    with pytest.raises(StoreError, match=r"no version 7 \(saved versions: 1\)"):
        store.get_scenario("real", version=7)
    with pytest.raises(StoreError, match="non-empty name"):
        store.save_scenario("   ", {})


def test_deleted_version_disappears_and_its_number_is_never_reused(store: Store) -> None:
    store.save_scenario("s", {"v": 1})
    store.save_scenario("s", {"v": 2})
    assert store.delete_scenario("s", version=2) == 1
    assert store.get_scenario("s").version == 1
    assert store.save_scenario("s", {"v": 3}).version == 3
    assert store.delete_scenario("s") == 2
    assert store.list_scenarios() == []
    with pytest.raises(StoreError, match="no saved scenario"):
        store.delete_scenario("s")


def test_find_version_matches_the_body(store: Store) -> None:
    store.save_scenario("s", {"budget": 1})
    store.save_scenario("s", {"budget": 2})
    assert store.find_version("s", {"budget": 1}) == 1
    assert store.find_version("s", {"budget": 9}) is None


def test_forecast_runs_are_recorded_newest_first(store: Store) -> None:
    store.record_run("s", 1, "bayes-1", {"npv_p50": 10.0}, output="a.xlsx")
    store.record_run("t", None, "bayes-1", {"npv_p50": -5.0})
    runs = store.list_runs()
    assert [(r.scenario_name, r.scenario_version, r.summary["npv_p50"]) for r in runs] == [
        ("t", None, -5.0), ("s", 1, 10.0)]
    assert [r.output for r in store.list_runs("s")] == ["a.xlsx"]
    assert runs[0].created_at.tzinfo is not None


def test_sqlite_file_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    Store(f"sqlite:///{path}").close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_default_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CXROI_DATABASE_URL", raising=False)
    monkeypatch.delenv("CXROI_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_database_url() == f"sqlite:///{tmp_path / '.cxroi' / 'cxroi.db'}"
    monkeypatch.setenv("CXROI_HOME", str(tmp_path / "home"))
    assert default_database_url() == f"sqlite:///{tmp_path / 'home' / 'cxroi.db'}"
    monkeypatch.setenv("CXROI_DATABASE_URL", "postgresql+psycopg://u@db/cxroi")
    assert default_database_url() == "postgresql+psycopg://u@db/cxroi"


def test_unusable_database_url_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot open the scenario store"):
        Store(f"sqlite:///{blocker / 'sub' / 'x.db'}")


def test_a_save_that_loses_the_race_retries_with_the_next_version(store: Store) -> None:
    """On databases without BEGIN IMMEDIATE two writers can read the same maximum version; the
    unique (name, version) constraint rejects the second insert and the save retries. Here the
    first read is made stale on purpose."""
    store.save_scenario("s", {"v": 1})
    stale_reads = []

    @event.listens_for(store.engine, "before_cursor_execute", retval=True)
    def _stale_first_read(conn, cursor, statement, parameters, context, executemany):
        if "max(scenarios.version)" in statement and not stale_reads:
            stale_reads.append(statement)
            statement = statement.replace("max(scenarios.version)", "max(scenarios.version) - 1", 1)  # as if
            # version 1 did not exist yet (same parameters, so it works in every dialect)
        return statement, parameters

    saved = store.save_scenario("s", {"v": 2})
    assert len(stale_reads) == 1
    assert saved.version == 2
    assert [(v.version, v.body) for v in store.versions("s")] == [(1, {"v": 1}), (2, {"v": 2})]


def test_threads_sharing_one_store_lose_nothing(store: Store) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: store.save_scenario("t", {"i": i}), range(40)))
    saved = store.versions("t")
    assert [s.version for s in saved] == list(range(1, 41))
    assert sorted(s.body["i"] for s in saved) == list(range(40))


_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from cxroi.store import Store
    url, writer, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    (go.parent / f"ready-{writer}").touch()
    while not go.exists():
        time.sleep(0.005)
    store = Store(url)  # both writers create the database and its tables at the same moment
    for k in range(count):
        store.save_scenario("shared", {"writer": writer, "k": k})
        time.sleep(0.002)  # give the other writer a chance to take the lock in between
""")


def test_two_processes_saving_the_same_name_lose_nothing(database_url: str, tmp_path: Path) -> None:
    url = database_url
    go = tmp_path / "go"
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, url, name, "50", str(go)])
               for name in ("A", "B")]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{name}").exists() for name in ("A", "B")):  # both imported
        assert time.monotonic() < deadline and all(w.poll() is None for w in writers)
        time.sleep(0.01)
    go.touch()  # release them together
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    saved = Store(url).versions("shared")
    assert [s.version for s in saved] == list(range(1, 101))
    bodies = {(s.body["writer"], s.body["k"]) for s in saved}
    assert bodies == {(w, k) for w in ("A", "B") for k in range(50)}
