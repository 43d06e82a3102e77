"""The Decisions page with Streamlit's AppTest: an approved scenario listed and shown as it was
approved (quantiles, caveats, approver, time), nothing on the page that changes it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cxroi import service
from cxroi.app import formatting as fmt
from tests.app.conftest import EXAMPLE_SCENARIOS, app_environment

TIMEOUT_S = 120


@pytest.fixture
def approved(app_env, tmp_path, monkeypatch):
    """An own store holding one example scenario, approved by 'Fiona' (finance)."""
    url = f"sqlite:///{tmp_path / 'decisions.db'}"
    monkeypatch.setenv("CXROI_DATABASE_URL", url)
    ctx = service.Context.from_environment(models_dir=app_environment(app_env)["CXROI_MODELS_DIR"], database_url=url)
    fiona = service.User("oidc:fiona", "Fiona", frozenset({service.Role.FINANCE}))
    service.save_scenario(ctx, fiona, EXAMPLE_SCENARIOS[0])
    decision = service.approve_scenario(ctx, fiona, EXAMPLE_SCENARIOS[0]["name"])
    ctx.close()
    return decision


def test_an_approved_decision_is_listed_and_shown_as_approved(approved):
    at = AppTest.from_string("from cxroi.app.pages.decisions import decisions\ndecisions()",
                             default_timeout=TIMEOUT_S).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    listing = at.dataframe[0].value
    assert list(listing["Decision"]) == [approved.id] and list(listing["Approved by"]) == ["Fiona"]
    assert list(listing["Status"]) == ["current"]
    npv = approved.forecast["summary"]["npv"]
    assert list(listing["Median NPV ($)"]) == [fmt.money(npv["p50"])]
    quantiles = at.table[0].value
    assert list(quantiles.columns) == ["Mean", "P5", "P10", "P25", "P50", "P75", "P90", "P95"]
    assert quantiles.loc["NPV", "P10"] == fmt.money(npv["p10"]) and quantiles.loc["NPV", "P90"] == fmt.money(npv["p90"])
    words = "\n".join(m.value for m in at.markdown)
    assert "Approved by **Fiona**" in words and f"valued on model **{approved.model_id}**" in words
    assert f"Caveats recorded with it** ({len(approved.caveats)})" in words
    assert not at.button and not at.text_input and not at.number_input  # read-only: nothing to change it with
    findings = approved.forecast.get("plausibility", [])
    shown = [w.value for w in at.warning] + [i.value for i in at.info]
    assert len([f for f in findings if f["text"] in shown]) == len(findings)  # the review at approval, as recorded
