"""The API in local mode (no sign-in configured), in process: problem+json errors with the CLI's
messages, the body limit, no traceback ever, the OpenAPI document, light imports, loopback only."""

from __future__ import annotations

import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from cxroi.errors import ScenarioError
from cxroi.sim.scenario import parse_scenario
from tests.api.conftest import SAVED_NAME, SCENARIO, home_environment, make_home
from tests.conftest import cli_env

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def local_home(tmp_path_factory):
    return make_home(tmp_path_factory.mktemp("api-local"))


@pytest.fixture
def client(local_home, monkeypatch):
    from cxroi.api.app import create_app

    for key, value in home_environment(local_home).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CXROI_API_MAX_BODY_MB", "0.05")
    monkeypatch.setenv("CXROI_USER", "lee")
    from cxroi.service.identity import local_user

    with TestClient(create_app(local=local_user()), raise_server_exceptions=False) as test_client:
        yield test_client


def test_local_mode_acts_as_the_local_user_with_every_role(client) -> None:
    me = client.get("/me").json()
    assert (me["name"], me["local"], me["roles"]) == ("lee", True, ["viewer", "finance", "analyst", "admin"])


def test_a_bad_scenario_gets_the_clis_message_as_a_problem(client) -> None:
    bad = {**SCENARIO, "investments": [{**SCENARIO["investments"][0], "duration_months": 0}]}
    with pytest.raises(ScenarioError) as cli_error:  # what `cxroi simulate` prints for the same body
        parse_scenario(bad)
    answer = client.post("/simulate", json={"scenario": bad})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith(PROBLEM)
    problem = answer.json()
    assert problem["title"] in ("Unprocessable Content", "Unprocessable Entity")
    assert "investments[0].duration_months" in problem["detail"]
    assert str(cli_error.value).split(" — ")[-1] in problem["detail"]


def test_request_shape_errors_name_the_field(client) -> None:
    problem = client.post("/optimise", json={"budget": -5, "objective": "max"}).json()
    assert problem["status"] == 422
    assert any(e.startswith("budget:") for e in problem["errors"])
    assert any(e.startswith("objective:") for e in problem["errors"])
    both = client.post("/simulate", json={}).json()
    assert both["errors"] == ["request body: give either scenario (a scenario body) or saved (a saved scenario's "
                              "name), not both and not neither"]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("get", "/scenarios/No such plan", 404), ("get", "/no/such/route", 404), ("delete", "/health", 405),
    ("get", f"/scenarios/{SAVED_NAME}?version=99", 404),
])
def test_every_error_is_problem_json(client, method, path, status) -> None:
    answer = getattr(client, method)(path)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert answer.json()["status"] == status


def test_body_over_the_limit_is_refused_before_parsing(client) -> None:
    big = {"scenario": {**SCENARIO, "description": "x" * 60_000}}  # > 0.05 MB
    answer = client.post("/simulate", json=big)
    assert answer.status_code == 413
    assert "CXROI_API_MAX_BODY_MB" in answer.json()["detail"]


def test_an_unexpected_failure_is_a_500_without_traceback_or_internals(client, monkeypatch) -> None:
    from cxroi.service import scenarios

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret connection string postgresql://admin:hunter2@db")

    monkeypatch.setattr(scenarios, "list_scenarios", broken)
    answer = client.get("/scenarios")
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert "hunter2" not in answer.text and "Traceback" not in answer.text
    assert "reference" in answer.json()["detail"]


def test_saved_scenario_simulates_with_summary_levers_segments_and_caveats(client) -> None:
    result = client.get(f"/scenarios/{SAVED_NAME}/simulation").json()
    assert result["version"] == 1 and result["horizon_months"] == SCENARIO["horizon_months"]
    assert {"npv", "roi", "payback_month"} <= set(result["summary"])
    assert {row["lever"] for row in result["levers"]} == {"retention", "arpu", "acquisition"}
    assert set(SCENARIO["investments"][0]["segments"]) <= {row["segment"] for row in result["segments"]}
    assert isinstance(result["caveats"], list)


def test_openapi_document_describes_scenarios_and_docs_are_served(client) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert {"Scenario", "Investment"} <= set(schemas)
    assert "investments" in schemas["Scenario"]["properties"]
    assert "/scenarios/{name}" in document["paths"] and "/simulate" in document["paths"]
    assert client.get("/docs").status_code == 200


def test_the_api_imports_no_training_library() -> None:
    code = ("import sys; from cxroi.api.app import create_app; create_app(); "
            "print([m for m in ('pymc', 'pytensor', 'arviz', 'statsmodels', 'nutpie') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=cli_env())
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr[-2000:]


def test_serve_refuses_a_public_address_without_sign_in() -> None:
    out = subprocess.run([sys.executable, "-m", "cxroi.cli", "serve", "--host", "0.0.0.0"], capture_output=True,
                         text=True, timeout=120, env=cli_env())
    assert out.returncode == 2
    assert "refusing to listen on 0.0.0.0" in out.stderr and "Traceback" not in out.stderr
