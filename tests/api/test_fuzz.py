"""The API fuzzed from its own OpenAPI document by schemathesis (examples, boundary values and
random data for every operation, valid and invalid), signed in as an admin so requests reach every
use case: no answer may be a 500 or carry a traceback. The server has its own home folder, since
fuzzing deletes, promotes and approves at random."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from cxroi.testing.api_server import start_api
from cxroi.testing.browser import free_port, stop_server
from tests.api.conftest import home_environment, make_home

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("api_fuzz"), pytest.mark.timeout(600)]
MIN_REQUESTS = 500
EXAMPLES_PER_OPERATION = 25  # × 18 operations, valid and invalid: about 1,500 requests in about a minute


def test_fuzzing_finds_no_server_error_and_no_traceback(tmp_path, oidc_provider) -> None:
    home = make_home(tmp_path / "home")
    log = tmp_path / "serve.log"
    port = free_port()
    server = start_api({**home_environment(home), **oidc_provider.auth_environment()}, port, log=log, cwd=home)
    har = tmp_path / "fuzz.har"
    try:
        token = oidc_provider.token("adam.admin")
        run = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"http://127.0.0.1:{port}/openapi.json",
             "--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", "20261202", "--workers", "2",
             "--checks", "not_a_server_error", "--phases", "examples,coverage,fuzzing", "--no-color",
             "--generation-database", "none", "--header", f"Authorization: Bearer {token}",
             "--report", "har", "--report-har-path", str(har)],
            capture_output=True, text=True, timeout=540, cwd=tmp_path)  # its own state folder lands there
    finally:
        stop_server(server)
    entries = json.loads(har.read_text())["log"]["entries"]
    statuses = Counter(entry["response"]["status"] for entry in entries)
    print(f"fuzzing: {len(entries)} requests, by status {dict(sorted(statuses.items()))}")
    bodies = [entry["response"]["content"].get("text") or "" for entry in entries]
    assert len(entries) >= MIN_REQUESTS, (len(entries), run.stdout[-3000:])
    assert statuses[500] == 0, statuses
    assert not [body for body in bodies if "Traceback" in body or 'File "' in body]
    assert run.returncode == 0, run.stdout[-3000:]
    assert "Traceback" not in Path(log).read_text()  # nothing unexpected even in the server's own log
    assert statuses[200] + statuses[201] > 50, statuses  # a fair share of requests got through to the use cases
