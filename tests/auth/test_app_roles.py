"""The app checks roles in the page too: a viewer who reaches the promotion tab (the page is not
offered to viewers) gets no promotion form, and the audit page refuses a non-admin."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cxroi import registry
from cxroi.service.identity import Role, User
from cxroi.testing.artifacts import truth_champion

CANDIDATE = "bayes-candidate"
VIEWER = User(subject="vera", name="vera", roles=frozenset({Role.VIEWER}))
ANALYST = User(subject="ana", name="ana", roles=frozenset({Role.ANALYST}))


@pytest.fixture
def two_models(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    truth_champion(folder, model_id=CANDIDATE)
    truth_champion(folder)
    monkeypatch.setenv("CXROI_MODELS_DIR", str(folder))
    monkeypatch.setenv("CXROI_DATABASE_URL", f"sqlite:///{tmp_path / 'cxroi.db'}")
    return folder


def _promotion_tab(user: User) -> AppTest:
    at = AppTest.from_string("from cxroi.app.pages.drivers import drivers\ndrivers()", default_timeout=90)
    at.session_state["cxroi.user"] = user
    at.run()
    next(s for s in at.selectbox if s.label == "Model").set_value(CANDIDATE).run()
    return at


def test_a_viewer_gets_no_promotion_form(two_models) -> None:
    at = _promotion_tab(VIEWER)
    assert not at.exception, at.exception
    assert any("needs the analyst role" in i.value for i in at.info)
    assert not [b for b in at.button if b.label == "Promote"]
    assert registry.champion_id(two_models) != CANDIDATE


def test_an_analyst_gets_the_form_with_reason_and_confirmation(two_models) -> None:
    at = _promotion_tab(ANALYST)
    assert [b for b in at.button if b.label == "Promote"]
    assert any(a.label.startswith("Reason for the promotion") for a in at.text_area)
    assert any(c.label.startswith("I confirm") for c in at.checkbox)


def test_the_audit_page_refuses_a_non_admin(two_models) -> None:
    at = AppTest.from_string("from cxroi.app.pages.audit import audit\naudit()", default_timeout=60)
    at.session_state["cxroi.user"] = ANALYST
    at.run()
    assert any("may not read the audit trail" in e.value for e in at.error), [e.value for e in at.error]
    assert not at.dataframe
