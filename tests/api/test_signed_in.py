"""The API served by ``cxroi serve`` with sign-in through a real OpenID Connect provider: tokens
from the provider, roles from their claims, the audit trail naming who did what."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.api.conftest import CANDIDATE_ID, SAVED_NAME, SCENARIO
from tests.oidc_provider import API_AUDIENCE, foreign_key

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("api_server")]
PROBLEM = "application/problem+json"


def _problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["detail"]
    assert "Traceback" not in response.text
    return body


def test_no_token_is_401_with_a_bearer_challenge(anonymous) -> None:
    body = _problem(anonymous.get("/scenarios"), 401)
    assert "Authorization: Bearer" in body["detail"]
    assert anonymous.get("/scenarios").headers["www-authenticate"].startswith("Bearer")
    assert anonymous.get("/health").status_code == 200  # liveness needs no sign-in


@pytest.mark.parametrize(("overrides", "foreign", "says"), [
    ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 4200}, False, "expired"),
    ({"aud": "some-other-api"}, False, "another audience"),
    ({}, True, "signature does not match"),
], ids=["expired", "wrong-audience", "wrong-signature"])
def test_bad_tokens_are_401(anonymous, oidc_provider, overrides, foreign, says) -> None:
    token = oidc_provider.sign(oidc_provider.claims_for("adam.admin", **overrides),
                               key=foreign_key() if foreign else None)
    body = _problem(anonymous.get("/audit", headers={"Authorization": f"Bearer {token}"}), 401)
    assert says in body["detail"]


def test_token_from_the_provider_names_the_user_and_roles(client_for) -> None:
    me = client_for("analyst").get("/me").json()
    assert (me["subject"], me["roles"], me["local"]) == ("ana.analyst", ["analyst"], False)
    assert "promote" in me["permissions"] and "audit" not in me["permissions"]


def test_viewer_may_simulate_but_not_promote_export_or_read_the_audit(client_for) -> None:
    viewer = client_for("viewer")
    simulated = viewer.get(f"/scenarios/{SAVED_NAME}/simulation")
    assert simulated.status_code == 200, simulated.text
    assert simulated.json()["version"] == 1
    assert "analyst role" in _problem(viewer.post(f"/models/{CANDIDATE_ID}/promote", json={"reason": "better"}),
                                      403)["detail"]
    _problem(viewer.get(f"/scenarios/{SAVED_NAME}/forecast", params={"format": "csv"}), 403)
    _problem(viewer.get("/audit"), 403)


def test_analyst_promotes_with_a_reason_and_the_audit_names_them(client_for) -> None:
    analyst = client_for("analyst")
    _problem(analyst.post(f"/models/{CANDIDATE_ID}/promote", json={"reason": " "}), 422)
    promoted = analyst.post(f"/models/{CANDIDATE_ID}/promote", json={"reason": "same data, newer sampler"})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["model_id"] == CANDIDATE_ID
    rows = client_for("admin").get("/audit", params={"action": "promote"}).json()
    assert [(r["user"], r["subject"], r["object_id"], r["detail"]["reason"]) for r in rows][:1] == [
        ("ana.analyst", "ana.analyst", CANDIDATE_ID, "same data, newer sampler")]


def test_two_clients_saving_from_the_same_base_version_one_wins_one_conflicts(client_for) -> None:
    viewer, analyst = client_for("viewer"), client_for("analyst")
    name = "Race for the same base"
    created = viewer.post("/scenarios", json={"scenario": {**SCENARIO, "name": name}})
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1
    answers: dict[str, httpx.Response] = {}
    start = threading.Barrier(2)

    def save(who: str, client: httpx.Client, spend: float) -> None:
        edited = {**SCENARIO, "name": name,
                  "investments": [{**SCENARIO["investments"][0], "monthly_spend": spend}]}
        start.wait()
        answers[who] = client.put(f"/scenarios/{name}", json={"scenario": edited, "base_version": 1})

    threads = [threading.Thread(target=save, args=("viewer", viewer, 30_000)),
               threading.Thread(target=save, args=("analyst", analyst, 50_000))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in answers.values())
    assert statuses == [200, 409], {k: r.text for k, r in answers.items()}
    winner = next(who for who, r in answers.items() if r.status_code == 200)
    loser = next(r for r in answers.values() if r.status_code == 409)
    conflict = _problem(loser, 409)
    assert conflict["latest_version"] == 2 and conflict["saved_by"] == {"viewer": "vera.viewer",
                                                                       "analyst": "ana.analyst"}[winner]
    versions = viewer.get(f"/scenarios/{name}/versions").json()
    assert [v["version"] for v in versions] == [1, 2]


def test_finance_exports_and_approves_and_every_change_is_audited(client_for) -> None:
    finance = client_for("finance")
    export = finance.get(f"/scenarios/{SAVED_NAME}/forecast", params={"format": "xlsx"})
    assert export.status_code == 200, export.text
    assert export.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert export.content[:2] == b"PK" and "attachment" in export.headers["content-disposition"]
    run_id = export.headers["x-cxroi-run-id"]
    approved = finance.post(f"/scenarios/{SAVED_NAME}/approve")
    assert approved.status_code == 201, approved.text
    assert approved.json()["approved_by"] == "fin.finance"

    admin = client_for("admin")
    deleted = admin.delete("/scenarios/Race for the same base", params={"version": 1})
    assert deleted.status_code in (200, 404)  # 404 when the race test did not run first
    trail = admin.get("/audit").json()
    by_action = {(row["action"], row["subject"]) for row in trail}
    assert ("approve", "fin.finance") in by_action
    assert any(row["subject"] == "fin.finance" and row["object_id"] in (run_id, SAVED_NAME)
               for row in trail if row["action"] in ("export", "forecast"))
    if deleted.status_code == 200:
        assert ("delete", "adam.admin") in by_action
    assert all(row["subject"] in {"vera.viewer", "fin.finance", "ana.analyst", "adam.admin"} for row in trail)


def test_a_user_without_any_cxroi_role_may_do_nothing(oidc_provider, api_url) -> None:
    token = oidc_provider.token("nora.norole")
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as nobody:
        assert nobody.get("/me").json()["roles"] == []
        _problem(nobody.get("/scenarios"), 403)


def test_models_are_listed_and_shown_with_health_and_effects(client_for) -> None:
    viewer = client_for("viewer")
    listing = viewer.get("/models").json()
    assert {row["model_id"] for row in listing} >= {CANDIDATE_ID}
    shown = viewer.get(f"/models/{CANDIDATE_ID}").json()
    assert shown["manifest"]["health"]["passed"] is True
    assert {e["parameter"] for e in shown["effects"]} >= {"churn_csat", "acq_nps"}
    missing = viewer.get("/models/no-such-model")
    assert "no-such-model" in _problem(missing, 404)["detail"]
    _problem(viewer.get("/models/.hidden"), 422)  # a model id is a name, never a path


def test_a_service_account_exports_a_forecast_and_is_audited_by_its_client_id(anonymous, oidc_provider,
                                                                               client_for) -> None:
    # what a client-credentials grant issues for a finance system: the client as subject, its groups
    now = int(time.time())
    token = oidc_provider.sign({"iss": oidc_provider.issuer, "sub": "finance-etl", "client_id": "finance-etl",
                                "aud": API_AUDIENCE, "groups": ["cx-finance"], "iat": now, "exp": now + 300})
    export = anonymous.get(f"/scenarios/{SAVED_NAME}/forecast", params={"format": "parquet"},
                           headers={"Authorization": f"Bearer {token}"})
    assert export.status_code == 200, export.text
    assert export.content[:4] == b"PAR1" and ".parquet" in export.headers["content-disposition"]
    rows = client_for("admin").get("/audit", params={"user": "finance-etl"}).json()
    assert [(row["action"], row["user"]) for row in rows] == [("export", "finance-etl")]
