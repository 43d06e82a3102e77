"""A throwaway PostgreSQL server for the tests that need one (the scenario store, aggregation
pushed down into PostgreSQL).

The server is Debian's PostgreSQL (``make test`` installs the ``postgresql`` package when its
binaries are missing), started once per test session (per xdist worker) in a temporary folder,
listening only on a Unix socket there, with trust authentication; every test gets a fresh
database on it. PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` user the package creates. The fixtures are imported by tests/conftest.py.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_databases = itertools.count(1)


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        pytest.fail("PostgreSQL binaries not found under /usr/lib/postgresql; install Debian's postgresql "
                    "package (make test does)")
    return Path(found[-1]).parent


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[str, int]]:
    """(socket folder, port) of a running PostgreSQL server, stopped after the session."""
    bindir = _postgres_bin()
    folder = Path(tempfile.mkdtemp(prefix="cxroi-pg-"))
    data, log = folder / "data", folder / "server.log"
    as_owner: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    port = 5432  # names the socket file in our own folder; no TCP port is opened

    def run(*command: str) -> None:
        subprocess.run([*as_owner, *command], check=True, capture_output=True, timeout=120)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync")
    options = f"-k {folder} -p {port} -c listen_addresses='' -c fsync=off"
    try:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
    except subprocess.CalledProcessError:
        pytest.fail(f"PostgreSQL did not start:\n{log.read_text() if log.exists() else ''}")
    try:
        yield str(folder), port
    finally:
        subprocess.run([*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: tuple[str, int]) -> str:
    """SQLAlchemy URL of a new, empty database on the session's server."""
    import psycopg

    socket_folder, port = postgres_server
    name = f"cxroi_test_{next(_databases)}"
    with psycopg.connect(host=socket_folder, port=port, user="postgres", dbname="postgres",
                         autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return f"postgresql+psycopg://postgres@/{name}?host={socket_folder}&port={port}"
